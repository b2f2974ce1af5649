package org.factrl.ppo;

import java.util.Optional;
import org.factrl.data.format.GroundTruthAnswer;
import org.factrl.engine.FactRlException;

/**
 * One RL prompt as the PPO step reads it: its token ids (chat template applied, image tokens
 * expanded), its image (F32 C×H×W, normalised) or null, and the ground truth the symbolic rewards
 * check, if any. {@code source} is what the reward model needs beyond the tokens (e.g. the
 * {@link org.factrl.data.format.RlPrompt} with its facts), or null.
 */
public record PpoPrompt(String id, int[] tokens, float[] image, Optional<GroundTruthAnswer> answer, Object source) {
  public PpoPrompt {
    if (id == null || tokens == null || answer == null) {
      throw new FactRlException("argument '" + (id == null ? "id" : tokens == null ? "tokens" : "answer")
          + "': must not be null");
    }
    if (tokens.length == 0) {
      throw new FactRlException("argument 'tokens': prompt " + id + " is empty");
    }
  }
}
