package org.factrl.pretrain;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.factrl.model.ParamGroup;

/**
 * The phases of {@link PretrainStage}, in run order: the vision encoder's dense per-patch
 * pretraining ({@link VisionPretrainer}), then the language side.
 */
public enum PretrainPhase {
  /** The ViT on per-patch shape / colour / size and per-image environment labels (its own heads). */
  VISION,
  /** Decoder-only language modelling on the world's text (no image tokens). */
  TEXT,
  /** Projector alignment on image–caption pairs, curriculum order. */
  ALIGN;

  /** The name in metrics, checkpoint folders and trainer states ({@code text}, {@code align}). */
  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The trainer-state stage of this phase ({@code pretrain.text}). */
  public String stage() {
    return PretrainStage.STAGE + "." + jsonName();
  }

  public long steps(PretrainConfig c) {
    return switch (this) {
      case VISION -> c.visionSteps();
      case TEXT -> c.textSteps();
      case ALIGN -> c.alignSteps();
    };
  }

  public double lr(PretrainConfig c) {
    return switch (this) {
      case VISION -> c.visionLr();
      case TEXT -> c.textLr();
      case ALIGN -> c.alignLr();
    };
  }

  public int batchSize(PretrainConfig c) {
    return switch (this) {
      case VISION -> c.visionBatchSize();
      case TEXT -> c.textBatchSize();
      case ALIGN -> c.alignBatchSize();
    };
  }

  /** The global step before this phase's first step (the steps of the phases before it). */
  public long offset(PretrainConfig c) {
    long o = 0;
    for (PretrainPhase p : values()) {
      if (p == this) {
        return o;
      }
      o += p.steps(c);
    }
    throw new AssertionError(this);
  }

  /** The base groups this phase trains. */
  public Set<ParamGroup> groups(PretrainConfig c) {
    if (this == VISION) {
      return EnumSet.of(ParamGroup.VISION);
    }
    if (this == TEXT) {
      return EnumSet.of(ParamGroup.DECODER);
    }
    return c.alignTrainDecoder() ? EnumSet.of(ParamGroup.PROJECTOR, ParamGroup.DECODER) : EnumSet.of(ParamGroup.PROJECTOR);
  }
}
