package org.factrl.data.format;

/**
 * A record whose field breaks the format. Thrown by record constructors (so an invalid record
 * cannot exist) and by the JSON field readers; the codecs add the file and record index and turn
 * it into a {@link org.factrl.engine.FactRlException}.
 */
final class InvalidFieldException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String field;

  InvalidFieldException(String field, String reason) {
    super("field '" + field + "': " + reason);
    this.field = field;
  }

  /** The field path, e.g. {@code conversations[2].value} or {@code answer.choices}. */
  String field() {
    return field;
  }
}
