package org.factrl.data.judge;

/** Ways {@link CorruptionBootstrap} makes a correct description wrong, one false claim each. */
public enum Corruption {
  /** Adds an object the scene lacks (a shape/colour not present, or a foreign noun). */
  INSERTED_OBJECT,
  /** Recolours a group of objects to a colour they do not have. */
  WRONG_COLOUR,
  /** Changes a count by one. */
  WRONG_COUNT,
  /** Replaces a relation that holds by its opposite. */
  WRONG_RELATION,
  /** Names another environment. */
  WRONG_ENVIRONMENT
}
