package org.factrl.data.shapes.tasks;

import com.google.common.collect.ImmutableList;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The wordings SFT questions are drawn from: several per question form, so a model learns what a
 * question asks rather than one template (the PyTorch re-implementation of issue 12 answered every
 * open MMHal question in the yes/no form it had seen). The first wording of each list is the
 * evaluation set's. Every wording here is one the exact judge reads as the intended MMHal type and
 * topic; the generator/judge agreement test holds each generated question to that.
 */
final class Phrasing {
  static final ImmutableList<String> HOLISTIC = ImmutableList.of(
      "Describe this image in detail.",
      "What can you see in this image?",
      "Describe the image in detail.",
      "Give a detailed description of the image.",
      "Describe everything you see in the picture.",
      "What is shown in this picture? Describe it in detail.");
  static final ImmutableList<String> COLOUR_OF = ImmutableList.of(
      "What colour is the %s?",
      "What is the colour of the %s?",
      "Which colour does the %s have?",
      "What color is the %s?");
  static final ImmutableList<String> SHAPE_OF = ImmutableList.of(
      "What shape is the %s?",
      "What is the shape of the %s?",
      "Which shape does the %s have?",
      "What kind of object is the %s?");
  static final ImmutableList<String> COLOURS_OF_ALL = ImmutableList.of(
      "What colours are the objects in the image?",
      "Which colours do the objects have?",
      "What colours can you see in the image?");
  /** Questions that presuppose an absent shape ("star"). */
  static final ImmutableList<String> ABOUT_ABSENT_SHAPE = ImmutableList.of(
      "What colour is the %s?",
      "Where is the %s in the image?",
      "What size is the %s?",
      "How big is the %s?",
      "What is next to the %s?");
  /** Questions that presuppose an absent kind ("red star"). */
  static final ImmutableList<String> ABOUT_ABSENT_KIND = ImmutableList.of(
      "Where is the %s in the image?",
      "What size is the %s?",
      "What is next to the %s?",
      "How big is the %s in the image?",
      "What is the position of the %s?");
  static final ImmutableList<String> LARGER = ImmutableList.of(
      "Which is larger, the %s or the %s?",
      "Which is bigger, the %s or the %s?",
      "Which one is larger: the %s or the %s?");
  static final ImmutableList<String> MORE = ImmutableList.of(
      "Are there more %s than %s?",
      "Are there more %s than %s in the image?",
      "Does the image show more %s than %s?");
  static final ImmutableList<String> HOW_MANY = ImmutableList.of(
      "How many %s are there in the image?",
      "How many %s can you see?",
      "How many %s are in the picture?",
      "What is the number of %s in the image?",
      "Count the %s in the image.");
  static final ImmutableList<String> RELATIVE = ImmutableList.of(
      "Where is the %s relative to the %s?",
      "What is the position of the %s relative to the %s?",
      "Where is the %s located relative to the %s?");
  static final ImmutableList<String> WHERE = ImmutableList.of(
      "Where is the %s in the image?",
      "Where is the %s located?",
      "Where can you see the %s?");
  static final ImmutableList<String> WHERE_ARE = ImmutableList.of(
      "Where are the %s in the image?",
      "Where are the %s located?");
  static final ImmutableList<String> ENVIRONMENT = ImmutableList.of(
      "Where is this scene set?",
      "What is the background of this image?",
      "What kind of place is shown in this image?",
      "What is the setting of this picture?",
      "Where was this picture taken?");
  static final ImmutableList<String> SAME_COLOUR = ImmutableList.of(
      "Are all the objects the same colour?",
      "Do all the objects have the same colour?");
  static final ImmutableList<String> MOST_COMMON_COLOUR = ImmutableList.of(
      "Which colour appears most often in the image?",
      "What is the most common colour in the image?");
  /** Short-caption instructions (projector alignment, LLaVA's brief-description style). */
  static final ImmutableList<String> BRIEF = ImmutableList.of(
      "Describe the image briefly.",
      "Give a short caption of the image.",
      "Summarise the image in one sentence.",
      "Write a short caption for this picture.",
      "Describe the picture in a few words.");
  /** POPE-style presence probes: POPE's own wording first, then paraphrases (%s: "a red circle"). */
  static final ImmutableList<String> PRESENCE = ImmutableList.of(
      "Is there %s in the image?",
      "Is there %s in this picture?",
      "Can you see %s in the image?",
      "Does the image contain %s?");

  private Phrasing() {}

  /** A wording drawn uniformly from {@code templates}, filled with {@code args}. */
  static String pick(SplittableRandom rng, ImmutableList<String> templates, Object... args) {
    return String.format(Locale.ROOT, templates.get(rng.nextInt(templates.size())), args);
  }
}
