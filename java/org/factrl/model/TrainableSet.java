package org.factrl.model;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Which parameters a training stage updates (issue 10 item 3): a set of base groups, the adapter
 * set of the pass or not, the head of the pass or not. {@link TrainableGrads#allocate} makes the
 * matching gradient blobs and the (params, grads) list for {@link org.factrl.train.AdamW}.
 */
public enum TrainableSet {
  /** Full fine-tuning: every base parameter (SFT without LoRA). */
  FULL(EnumSet.allOf(ParamGroup.class), false, false),
  /** The adapter set only (SFT with LoRA, the PPO policy). */
  LORA(EnumSet.noneOf(ParamGroup.class), true, false),
  /** The projector only (LLaVA's alignment stage). */
  PROJECTOR(EnumSet.of(ParamGroup.PROJECTOR), false, false),
  /** The head only (a linear probe on frozen features). */
  HEAD(EnumSet.noneOf(ParamGroup.class), false, true),
  /** The adapter set and the head (the reward model, the PPO value model). */
  LORA_AND_HEAD(EnumSet.noneOf(ParamGroup.class), true, true);

  private final Set<ParamGroup> baseGroups;
  private final boolean adapter;
  private final boolean head;

  TrainableSet(Set<ParamGroup> baseGroups, boolean adapter, boolean head) {
    this.baseGroups = Collections.unmodifiableSet(EnumSet.copyOf(baseGroups.isEmpty()
        ? EnumSet.noneOf(ParamGroup.class) : baseGroups));
    this.adapter = adapter;
    this.head = head;
  }

  /** The base groups whose gradients the backward writes (unmodifiable). */
  public Set<ParamGroup> baseGroups() {
    return baseGroups;
  }

  /** Whether the adapter set of the pass is trained. */
  public boolean trainsAdapter() {
    return adapter;
  }

  /** Whether the head of the pass is trained. */
  public boolean trainsHead() {
    return head;
  }

  /** Whether any base parameter is trained. */
  public boolean trainsBase() {
    return !baseGroups.isEmpty();
  }
}
