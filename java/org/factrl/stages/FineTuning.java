package org.factrl.stages;

/** What a stage trains: every chosen base weight, or a LoRA adapter set (plus any chosen base groups). */
public enum FineTuning {
  /** Full fine-tuning of the chosen base groups. */
  FULL("full"),
  /** A LoRA adapter set over the frozen base (and any base groups chosen beside it). */
  LORA("lora");

  private final String jsonName;

  FineTuning(String jsonName) {
    this.jsonName = jsonName;
  }

  public String jsonName() {
    return jsonName;
  }

  static FineTuning of(String name) {
    for (FineTuning f : values()) {
      if (f.jsonName.equals(name)) {
        return f;
      }
    }
    return null;
  }
}
