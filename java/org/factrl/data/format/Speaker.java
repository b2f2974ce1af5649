package org.factrl.data.format;

import org.factrl.engine.FactRlException;

/** Who says a turn of a LLaVA conversation; {@link #jsonName()} is the {@code from} value. */
public enum Speaker {
  HUMAN("human"),
  GPT("gpt");

  private final String jsonName;

  Speaker(String jsonName) {
    this.jsonName = jsonName;
  }

  public String jsonName() {
    return jsonName;
  }

  /** The speaker whose {@code from} value is {@code name}, exactly ("human" or "gpt"). */
  public static Speaker fromJsonName(String name) {
    for (Speaker s : values()) {
      if (s.jsonName.equals(name)) {
        return s;
      }
    }
    throw new FactRlException("unknown speaker '" + name + "', expected 'human' or 'gpt'");
  }
}
