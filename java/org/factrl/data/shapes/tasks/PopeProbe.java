package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;
import org.factrl.data.PopeSampling;
import org.factrl.data.shapes.ObjectKind;
import org.factrl.data.shapes.Words;

/**
 * One POPE probe, "Is there a red circle in the image?", with its answer ({@code present}) and the
 * sampling setting whose probe set it belongs to (positives appear in every setting's set).
 */
public record PopeProbe(PopeSampling sampling, ObjectKind object, boolean present) {
  public PopeProbe {
    Preconditions.checkNotNull(sampling, "sampling");
    Preconditions.checkNotNull(object, "object");
  }

  public String question() {
    return "Is there " + Words.withArticle(object.phrase()) + " in the image?";
  }

  /** "yes" or "no". */
  public String answerWord() {
    return present ? "yes" : "no";
  }
}
