package org.factrl.model;

/**
 * The two kinds of scalar head a {@link LlavaModel} can hold (DESIGN.md §3, §4): both are a
 * linear map {@code d -> 1} on the final hidden states; they differ in where they are read.
 *
 * <p>Tensor names follow the Hugging Face module each kind stands for, so a head file reads like
 * the matching HF/TRL checkpoint: the reward head is {@code LlamaForSequenceClassification}'s
 * {@code score} (TRL's RewardTrainer model, and what PEFT lists in {@code modules_to_save} for
 * sequence classification), the value head is TRL's {@code AutoModelForCausalLMWithValueHead}
 * {@code v_head.summary}. Shapes are nn.Linear(d, 1)'s: weight {@code [1, d]}, bias {@code [1]}
 * (HF's {@code score} has no bias; we keep one, zero-initialised, as DESIGN.md §4 asks).
 */
public enum HeadKind {
  /** Read at the last real token of each row: {@code score[b] = w·h[b, e_b] + c} (the reward model). */
  REWARD("score"),
  /** Read at every position: {@code v[b, t] = w·h[b, t] + c} (the PPO value model). */
  VALUE("v_head.summary");

  private final String module;

  HeadKind(String module) {
    this.module = module;
  }

  /** The HF module name, e.g. {@code score}. */
  public String module() {
    return module;
  }

  /** The weight's tensor name, e.g. {@code score.weight}. */
  public String weightName() {
    return module + ".weight";
  }

  /** The bias's tensor name, e.g. {@code score.bias}. */
  public String biasName() {
    return module + ".bias";
  }

  /** The kind whose weight is named {@code weightName}, or null. */
  static HeadKind ofWeightName(String weightName) {
    for (HeadKind k : values()) {
      if (k.weightName().equals(weightName)) {
        return k;
      }
    }
    return null;
  }
}
