package org.factrl.data.format;

import com.google.common.base.Preconditions;

/** One turn of a conversation: {@code {"from": "human"|"gpt", "value": "..."}}. */
public record Turn(Speaker from, String value) {
  public Turn {
    Preconditions.checkNotNull(from, "from");
    Preconditions.checkNotNull(value, "value");
    Preconditions.checkArgument(!value.isBlank(), "turn value must not be empty");
  }

  public static Turn human(String value) {
    return new Turn(Speaker.HUMAN, value);
  }

  public static Turn gpt(String value) {
    return new Turn(Speaker.GPT, value);
  }
}
