package org.factrl.data.judge;

/** What a {@link Claim} asserts about a scene. */
public enum ClaimKind {
  /** An object matching a descriptor is present ("there is a red circle"). */
  OBJECT,
  /** An object matching the subject also has an attribute ("the star is blue"). */
  ATTRIBUTE,
  /** Exactly n objects match a descriptor; an empty descriptor counts all objects. */
  COUNT,
  /** A spatial relation between two described objects ("the circle is left of the square"). */
  RELATION,
  /** A size comparison of two objects or a comparison of two counts ("more circles than stars"). */
  COMPARISON,
  /** The scene's environment ("the scene is set on a beach"). */
  ENVIRONMENT,
  /** No object matches a descriptor ("there is no green triangle"). */
  NEGATED,
  /** An object matching the subject is in a region of the picture ("in the top-left corner"). */
  POSITION,
  /** Every object matching the subject has an attribute ("all the shapes are blue"). */
  ALL,
  /** More than half of the objects matching the subject have an attribute. */
  MOST,
  /** An attribute's value is the most common among the subject's objects ("mostly red"). */
  MOST_COMMON,
  /** The subject's objects share one colour, shape or size ("they are all the same colour"). */
  SAME
}
