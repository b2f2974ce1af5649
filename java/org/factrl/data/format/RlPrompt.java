package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import java.util.Optional;

/**
 * An RL prompt with the facts the fact-augmented reward model reads:
 *
 * <pre>{@code
 * {"id": "scene-000001-rl-3",
 *  "image": "images/scene-000001.png",                 // optional
 *  "conversations": [{"from": "human", "value": "<image>\nIs there a red circle?"}],
 *  "captions": ["A red circle and a small blue square on grass.", ...],
 *  "rationale": "The only circle in the image is red.",  // optional
 *  "answer": {"type": "yes_no", "value": "yes"}}         // optional, see GroundTruthAnswer
 * }</pre>
 *
 * Only the first question is used ({@link #firstQuestion()}); later turns, if any, must still
 * follow the conversation rules. The facts are the captions and the rationale: at least one of
 * them must be present, as a prompt without facts cannot be scored by the fact-augmented reward
 * model. {@code answer} is absent for open prompts with no checkable answer (e.g. descriptions).
 */
public record RlPrompt(
    String id,
    Optional<String> image,
    ImmutableList<Turn> conversations,
    ImmutableList<String> captions,
    Optional<String> rationale,
    Optional<GroundTruthAnswer> answer) {

  public RlPrompt {
    Conversations.checkId(id);
    Conversations.checkImage(image);
    conversations = Conversations.check(conversations, image.isPresent(), Conversations.Ending.ANY);
    if (captions == null) {
      throw new InvalidFieldException("captions", "missing");
    }
    for (int i = 0; i < captions.size(); i++) {
      if (captions.get(i).isBlank()) {
        throw new InvalidFieldException("captions[" + i + "]", "must not be empty");
      }
    }
    if (rationale == null || answer == null) {
      throw new InvalidFieldException(rationale == null ? "rationale" : "answer", "use Optional.empty() when absent");
    }
    if (rationale.isPresent() && rationale.get().isBlank()) {
      throw new InvalidFieldException("rationale", "must not be empty");
    }
    if (captions.isEmpty() && rationale.isEmpty()) {
      throw new InvalidFieldException("captions", "no facts: need at least one caption or a rationale");
    }
  }

  /** The question the policy answers: the value of the first (human) turn. */
  public String firstQuestion() {
    return conversations.get(0).value();
  }
}
