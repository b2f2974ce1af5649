package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import org.factrl.data.MmhalType;

/**
 * A question of one of the eight MMHal types with its ground-truth answer and {@code imageContent},
 * the facts of the image as MMHal lists them: one entry per object ("small red circle"), then the
 * environment ("a sandy beach").
 */
public record MmhalQuestion(MmhalType type, String question, String gtAnswer, ImmutableList<String> imageContent) {
  public MmhalQuestion {
    Preconditions.checkNotNull(type, "type");
    Preconditions.checkArgument(question.endsWith("?") || question.endsWith("."), "not a question: %s", question);
    Preconditions.checkArgument(!gtAnswer.isEmpty(), "empty ground-truth answer");
    Preconditions.checkNotNull(imageContent, "imageContent");
  }
}
