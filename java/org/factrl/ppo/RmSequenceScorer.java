package org.factrl.ppo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.factrl.data.format.RlPrompt;
import org.factrl.data.image.ImagePaths;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.reward.FactTemplate;
import org.factrl.reward.RewardScorer;
import org.factrl.train.SplitMix64;

/**
 * The reward role backed by a trained reward model on the shared base: a {@link RewardScorer} over
 * the PPO model (the RM's adapter set and head added with {@link RewardScorer#loadInto}). Each
 * rollout's {@link PpoPrompt#source()} must be its {@link RlPrompt}: the RM reads the prompt's first
 * question, the decoded response (special tokens such as EOS skipped) and — when the RM was trained
 * with facts — the prompt's captions and rationale through {@link FactTemplate}. The captions'
 * shuffle is seeded from the rollouts themselves, so a score is a pure function of its inputs (a
 * resumed run scores the same).
 */
public final class RmSequenceScorer implements SequenceScorer {
  private final RewardScorer scorer;
  private final Tokenizer tokenizer;
  private final Path imageDir;
  private final String adapter;
  private final String head;
  private final long seed;

  /**
   * @param imageDir the folder the prompts' image paths are relative to (a data set's images/)
   * @param adapter, head the names the RM's adapter set and head were loaded under (for the memory plan)
   */
  public RmSequenceScorer(RewardScorer scorer, Tokenizer tokenizer, Path imageDir, String adapter, String head,
      long seed) {
    this.scorer = Objects.requireNonNull(scorer, "scorer");
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    this.imageDir = Objects.requireNonNull(imageDir, "imageDir");
    this.adapter = adapter;
    this.head = head;
    this.seed = seed;
  }

  @Override
  public double[] score(List<Rollout> rollouts) {
    List<RewardScorer.Request> requests = new ArrayList<>(rollouts.size());
    List<Integer> scored = new ArrayList<>(rollouts.size());
    long h = seed;
    for (int k = 0; k < rollouts.size(); k++) {
      Rollout r = rollouts.get(k);
      if (!(r.prompt().source() instanceof RlPrompt rl)) {
        throw new FactRlException("prompt " + r.prompt().id() + ": its source is not an RlPrompt; the reward model "
            + "needs the prompt's question and facts");
      }
      String text = tokenizer.decode(r.response(), true);
      h = SplitMix64.mix(h ^ Arrays.hashCode(r.prompt().tokens()) ^ ((long) Arrays.hashCode(r.response()) << 32));
      if (text.isBlank()) {
        continue; // EOS first: no assistant turn to put in the RM's template (see below)
      }
      scored.add(k);
      requests.add(new RewardScorer.Request(rl.image().map(i -> ImagePaths.resolve(imageDir, i, "prompt '" + rl.id() + "': field 'image'")), List.of(rl.conversations().get(0)), text,
          FactTemplate.Facts.of(rl.captions(), rl.rationale())));
    }
    // An empty response (the policy emitted EOS first) cannot be put in the RM's template (a turn is
    // never empty), and it informs nobody: it gets the lowest score of the batch's other responses
    // (0 when all are empty). The first pipeline run on tiny failed here with "response: must not be empty".
    float[] s = requests.isEmpty() ? new float[0] : scorer.score(requests, h);
    double lowest = 0;
    for (int i = 0; i < s.length; i++) {
      lowest = i == 0 ? s[i] : Math.min(lowest, s[i]);
    }
    double[] out = new double[rollouts.size()];
    java.util.Arrays.fill(out, lowest);
    for (int i = 0; i < s.length; i++) {
      out[scored.get(i)] = s[i];
    }
    return out;
  }

  /** Whether the RM reads facts (the fact-augmented variant). */
  public boolean usesFacts() {
    return scorer.usesFacts();
  }

  @Override
  public int maxLength() {
    return scorer.maxLength();
  }

  @Override
  public String rewardAdapter() {
    return adapter;
  }

  @Override
  public String rewardHead() {
    return head;
  }
}
