package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import org.factrl.data.PopeSampling;

/**
 * One POPE probe: whether the truthful answer is "yes", the model's free-text answer, and the probe
 * kind ("random", "popular", "adversarial", or any label; null when not split by kind).
 */
public record PopeSample(boolean truthYes, String answer, String kind) {
  public PopeSample {
    Preconditions.checkNotNull(answer, "answer");
  }

  public PopeSample(boolean truthYes, String answer) {
    this(truthYes, answer, (String) null);
  }

  public PopeSample(boolean truthYes, String answer, PopeSampling kind) {
    this(truthYes, answer, kind.key());
  }
}
