package org.factrl.pretrain;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.factrl.model.ParamGroup;

/**
 * The phases of {@link PretrainStage} that train the language side, in run order. The vision
 * encoder's phase ({@code vision_steps}) is reserved in {@link PretrainConfig} and will run before
 * these once it is wired in.
 */
public enum PretrainPhase {
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
    return this == TEXT ? c.textSteps() : c.alignSteps();
  }

  public double lr(PretrainConfig c) {
    return this == TEXT ? c.textLr() : c.alignLr();
  }

  public int batchSize(PretrainConfig c) {
    return this == TEXT ? c.textBatchSize() : c.alignBatchSize();
  }

  /** The base groups this phase trains. */
  public Set<ParamGroup> groups(PretrainConfig c) {
    if (this == TEXT) {
      return EnumSet.of(ParamGroup.DECODER);
    }
    return c.alignTrainDecoder() ? EnumSet.of(ParamGroup.PROJECTOR, ParamGroup.DECODER) : EnumSet.of(ParamGroup.PROJECTOR);
  }
}
