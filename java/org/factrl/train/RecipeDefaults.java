package org.factrl.train;

import java.util.Set;
import org.factrl.model.LoraTarget;

/**
 * Every stage's default settings, in one place, beside the paper's value each one comes from.
 *
 * <p>The recipe is LLaVA-RLHF's: Sun et al., "Aligning Large Multimodal Models with Factually
 * Augmented RLHF", arXiv 2309.14525 (2023), §2 and its released training scripts; SFT follows
 * LLaVA-1.5 (Liu et al., "Improved Baselines with Visual Instruction Tuning", arXiv 2310.03744).
 * DESIGN.md §4 "Defaults from the reference recipe" lists them. A constant named {@code *_PAPER}
 * is the paper's 7B value where our default differs; the unsuffixed constant is what the stage
 * configs ({@code SftConfig}, {@code RmConfig}, {@code PpoConfig}, {@code EvalConfig}) use, scaled
 * to the {@code tiny} preset (2.5M parameters) on 2 CPU cores. The reason for each difference is
 * in the comment beside it.
 */
public final class RecipeDefaults {
  private RecipeDefaults() {}

  // ---- LoRA (the recipe's everywhere: rank 64, α 16, no dropout, on the language model) ------
  public static final int LORA_RANK_PAPER = 64;
  public static final float LORA_ALPHA_PAPER = 16f;
  /** q, k, v, o, gate, up, down: every projection of each decoder layer. */
  public static final Set<LoraTarget> LORA_TARGETS = Set.of(LoraTarget.Q, LoraTarget.K, LoraTarget.V,
      LoraTarget.O, LoraTarget.GATE, LoraTarget.UP, LoraTarget.DOWN);

  // ---- shared optimisation ------------------------------------------------------------------
  /** Gradient clip (global norm) in every stage of the recipe. */
  public static final double MAX_GRAD_NORM = 1.0;
  /** No weight decay in any stage of the recipe. */
  public static final double WEIGHT_DECAY = 0.0;
  /** Cosine decay to zero. */
  public static final double MIN_LR_RATIO = 0.0;
  public static final long SEED = 0;

  // ---- SFT (LLaVA-1.5) ----------------------------------------------------------------------
  public static final double SFT_LR_PAPER = 2e-5; // full fine-tuning; 2e-4 for its LoRA variant
  /** A 2.5M-parameter model takes far larger steps. */
  public static final double SFT_LR = 5e-4;
  /** The paper warms up for 3% of the steps; a tiny run has a few hundred. */
  public static final long SFT_WARMUP_STEPS = 10;
  public static final long SFT_EPOCHS = 1;
  public static final int SFT_BATCH_SIZE_PAPER = 128;
  /** 2 CPU cores. */
  public static final int SFT_BATCH_SIZE = 8;
  public static final int SFT_MAX_LENGTH_PAPER = 2048;
  /** 64 image tokens + the shapes world's short turns. */
  public static final int SFT_MAX_LENGTH = 320;
  /** Full SFT keeps the recipe's rank 64 / α 16 when its LoRA mode is chosen. */
  public static final int SFT_LORA_RANK = LORA_RANK_PAPER;
  public static final float SFT_LORA_ALPHA = LORA_ALPHA_PAPER;

  // ---- reward model -------------------------------------------------------------------------
  public static final double RM_LR_PAPER = 2e-5;
  /** A small adapter on a 2.5M-parameter model takes far larger steps. */
  public static final double RM_LR = 1e-3;
  public static final long RM_WARMUP_STEPS = 5;
  public static final long RM_EPOCHS = 1;
  public static final int RM_PAIRS_PER_STEP_PAPER = 32;
  /** 2 CPU cores (16 rows a step). */
  public static final int RM_PAIRS_PER_STEP = 8;
  public static final int RM_HELD_OUT_PAIRS_PAPER = 500;
  /** The shapes world's RM split is small. */
  public static final int RM_HELD_OUT_PAIRS = 64;
  /** The centring coefficient c of c·|mean(s_pref + s_other)|: the paper's. */
  public static final double RM_CENTRING = 0.001;
  /** d = 192 in the tiny preset: rank 16 is already a twelfth of the width; α kept at 16. */
  public static final int RM_LORA_RANK = 16;
  public static final float RM_LORA_ALPHA = LORA_ALPHA_PAPER;
  /** The paper's initializer_range; a zero head would pass no gradient to the adapter. */
  public static final float RM_HEAD_INIT_STD = 0.02f;
  public static final int RM_MAX_LENGTH_PAPER = 2048;
  /** The tiny preset's positions. */
  public static final int RM_MAX_LENGTH = 512;

  // ---- PPO (Fact-RLHF) ----------------------------------------------------------------------
  /** KL penalty r_t −= β·max(kl_t, 0), fixed: the paper's. */
  public static final double BETA = 0.1;
  /** GAE discount and λ: the paper's. */
  public static final double GAMMA = 1.0;
  public static final double LAMBDA = 1.0;
  /** Policy and value clip ranges, value-loss weight: the paper's. */
  public static final double CLIP_RANGE = 0.2;
  public static final double VALUE_CLIP_RANGE = 0.2;
  public static final double VF_COEF = 0.1;
  /** Symbolic rewards: yes/no +1/−1, multiple choice +2, length −10·tokens/max, no EOS −8. */
  public static final double YES_NO_REWARD = 1.0;
  public static final double MULTIPLE_CHOICE_REWARD = 2.0;
  public static final double LENGTH_PENALTY = 10.0;
  public static final double NO_EOS_PENALTY = 8.0;
  /** RM scores ×10 when rewards are not whitened: the paper's. */
  public static final double REWARD_SCALE = 10.0;
  /** Rollout sampling: the paper's. */
  public static final double TEMPERATURE = 1.0;
  public static final double TOP_P = 1.0;
  public static final int MAX_PROMPT_TOKENS = 128;
  public static final int MAX_RESPONSE_TOKENS_PAPER = 896;
  /** The shapes world's answers are short; generation is the tiny run's cost. */
  public static final int MAX_RESPONSE_TOKENS = 48;
  public static final int ROLLOUTS_PER_STEP_PAPER = 512;
  public static final int MINIBATCH_PAPER = 256;
  /** 2 CPU cores; the paper's 2:1 ratio of rollouts to minibatch kept. */
  public static final int ROLLOUTS_PER_STEP = 16;
  public static final int MINIBATCH = 8;
  /** PPO epochs over each rollout batch: the paper's. */
  public static final int PPO_EPOCHS = 2;
  public static final double PPO_LR_PAPER = 3e-5;
  /** The tiny preset's adapters take larger steps. */
  public static final double PPO_LR = 1e-4;
  /** Warm-up steps (PPO steps, each epochs × minibatches updates): the paper's. */
  public static final long PPO_WARMUP_STEPS = 5;
  /** A tiny demo run; the paper trains for far longer. */
  public static final long PPO_STEPS = 50;
  /** Rank 16 on d = 192; α 4 keeps the paper's scale α/r = 0.25. */
  public static final int PPO_LORA_RANK = 16;
  public static final float PPO_LORA_ALPHA = 4f;

  // ---- evaluation ---------------------------------------------------------------------------
  /** The paper's evaluation decodes greedily. */
  public static final double EVAL_TEMPERATURE = 0.0;
  public static final int EVAL_MAX_NEW_TOKENS = 128;
  public static final int EVAL_BATCH_SIZE = 8;
}
