package org.factrl.data.shapes;

/** The background a scene is set in; each renders as a visually distinct backdrop. */
public enum Environment {
  FIELD("field", "a grassy field"),
  BEACH("beach", "a sandy beach"),
  SNOW("snow", "a snowy landscape"),
  NIGHT("night", "a starless night sky"),
  ROOM("room", "a room with a wooden floor");

  private final String word;
  private final String phrase;

  Environment(String word, String phrase) {
    this.word = word;
    this.phrase = phrase;
  }

  /** One word naming it ("beach"). */
  public String word() {
    return word;
  }

  /** A noun phrase for descriptions ("a sandy beach"). */
  public String phrase() {
    return phrase;
  }
}
