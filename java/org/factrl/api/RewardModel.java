package org.factrl.api;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.factrl.data.format.Turn;
import org.factrl.eval.PromptEncoder;
import org.factrl.reward.FactTemplate;
import org.factrl.reward.RewardScorer;

/**
 * A trained reward model ({@code bin/factrl rm}): scores a response to a question about an image,
 * with the image's facts in the input when the model was trained with them (Fact-RLHF). A thin
 * handle over {@link RewardScorer}: the same template as at training, the score on the last token.
 * Owns its model: close it. Not thread-safe.
 */
public final class RewardModel implements AutoCloseable {
  private final RewardScorer scorer;

  private RewardModel(RewardScorer scorer) {
    this.scorer = scorer;
  }

  /** An RM checkpoint folder ({@code checkpoints/step-N}) or an RM run folder (its last checkpoint). */
  public static RewardModel load(Path checkpointOrRun) {
    return new RewardModel(RewardScorer.open(checkpointOrRun));
  }

  /** Whether the model reads facts: then {@link #score} needs at least one. */
  public boolean usesFacts() {
    return scorer.usesFacts();
  }

  /**
   * The score of {@code response} to {@code prompt} about {@code image} (PNG / JPEG), given the
   * image's {@code facts} (captions; ignored by a model trained without facts, required by one with).
   * Higher is better; only differences between responses to the same prompt are meaningful.
   */
  public double score(Path image, String prompt, String response, List<String> facts) {
    return scoreAll(image, prompt, List.of(response), facts)[0];
  }

  /** The scores of several responses to one prompt, in one batch (the captions shuffled alike). */
  public double[] scoreAll(Path image, String prompt, List<String> responses, List<String> facts) {
    Preconditions.checkNotNull(image, "image");
    Preconditions.checkNotNull(prompt, "prompt");
    Preconditions.checkNotNull(responses, "responses");
    Preconditions.checkNotNull(facts, "facts");
    List<Turn> turns = List.of(Turn.human(PromptEncoder.userTurn(prompt)));
    FactTemplate.Facts f = FactTemplate.Facts.of(facts, Optional.empty());
    List<RewardScorer.Request> requests = responses.stream()
        .map(r -> new RewardScorer.Request(Optional.of(image), turns, r, f)).toList();
    float[] s = scorer.score(requests);
    double[] out = new double[s.length];
    for (int i = 0; i < s.length; i++) {
      out[i] = s[i];
    }
    return out;
  }

  @Override
  public void close() {
    scorer.close();
  }
}
