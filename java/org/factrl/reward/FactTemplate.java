package org.factrl.reward;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.factrl.data.format.Turn;
import org.factrl.data.text.ChatTemplate;
import org.factrl.engine.FactRlException;
import org.factrl.train.SplitMix64;

/**
 * The reward model's input text (DESIGN.md §4 "Fact template"), the same at RM training and at PPO
 * scoring time. For a prompt (human turns ending with a human turn), a response and facts:
 *
 * <pre>
 * render(prompt + [gpt: response])                     the Vicuna v1 conversation ({@link ChatTemplate}), ending in &lt;/s&gt;
 * "USER: " + {@value #INSTRUCTION} + "\n"
 * "- " + fact + "\n"                                   one line per caption, captions shuffled each time,
 *                                                      then the rationale (when there is one)
 * {@value #QUESTION} + " " + {@value #CUE}             the cue: the score is read on its last token
 * </pre>
 *
 * The evaluation turn mirrors LLaVA-RLHF's fact-augmented reward-model prompt: it asks whether the
 * last response is accurate, helpful, natural and concise, where accurate means fully supported by
 * the listed facts; the reward head reads the final hidden state of the cue's last token (the last
 * real token of the row). Captions are shuffled with the caller's {@link SplitMix64} (Fisher–Yates)
 * so the model cannot learn a position; a trainer passes its checkpointed generator, so a resumed
 * run draws the same orders.
 *
 * <p>Without facts ({@link #withoutFacts}: standard RLHF) the input is the conversation alone and
 * the score is read on the {@code </s>} that closes the response. Stateless and thread-safe.
 */
public final class FactTemplate {
  /** The evaluation instruction that opens the facts turn. */
  public static final String INSTRUCTION = "Please evaluate the last response. A good response is accurate, helpful,"
      + " natural and concise. Accurate means it is fully supported by these facts about the image:";
  /** The question after the facts. */
  public static final String QUESTION = "Is the last response accurate, helpful, natural and concise?";
  /** The cue the score is read after (its last token is the row's last real token). */
  public static final String CUE = "ASSISTANT: Rating:";
  /** The start of each fact line. */
  public static final String BULLET = "- ";

  private FactTemplate() {}

  /** The facts of one image: captions (shuffled per render) and an optional rationale (last). */
  public record Facts(ImmutableList<String> captions, Optional<String> rationale) {
    public Facts {
      Preconditions.checkNotNull(captions, "captions");
      Preconditions.checkNotNull(rationale, "rationale");
      for (int i = 0; i < captions.size(); i++) {
        String c = captions.get(i);
        if (c == null || c.isBlank()) {
          throw new FactRlException(FactRlException.Status.ARGUMENT, "facts: captions[" + i + "] is empty");
        }
      }
      if (rationale.isPresent() && rationale.get().isBlank()) {
        throw new FactRlException(FactRlException.Status.ARGUMENT, "facts: the rationale is empty");
      }
    }

    public static Facts of(List<String> captions, Optional<String> rationale) {
      return new Facts(ImmutableList.copyOf(captions), rationale);
    }

    public static Facts none() {
      return new Facts(ImmutableList.of(), Optional.empty());
    }

    public boolean isEmpty() {
      return captions.isEmpty() && rationale.isEmpty();
    }
  }

  /** The conversation: prompt turns (ending with a human turn) + the response as the last assistant turn. */
  public static String withoutFacts(List<Turn> prompt, String response) {
    return ChatTemplate.vicunaV1().render(conversation(prompt, response));
  }

  /**
   * The conversation followed by the facts turn (see the class comment); the captions' order is
   * drawn from {@code rng}. Facts must not be empty (a fact-augmented RM without facts is a
   * mistake the caller names).
   */
  public static String withFacts(List<Turn> prompt, String response, Facts facts, SplitMix64 rng) {
    Preconditions.checkNotNull(facts, "facts");
    Preconditions.checkNotNull(rng, "rng");
    if (facts.isEmpty()) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "facts: none given to the fact template");
    }
    StringBuilder s = new StringBuilder(withoutFacts(prompt, response));
    s.append("USER: ").append(INSTRUCTION).append('\n');
    for (String c : shuffled(facts.captions(), rng)) {
      s.append(BULLET).append(oneLine(c)).append('\n');
    }
    facts.rationale().ifPresent(r -> s.append(BULLET).append(oneLine(r)).append('\n'));
    s.append(QUESTION).append(' ').append(CUE);
    return s.toString();
  }

  /** {@code items} in a Fisher–Yates order drawn from {@code rng}. */
  static List<String> shuffled(List<String> items, SplitMix64 rng) {
    List<String> out = new ArrayList<>(items);
    for (int i = out.size() - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      String t = out.get(i);
      out.set(i, out.get(j));
      out.set(j, t);
    }
    return out;
  }

  /** A fact on one line: line breaks inside a caption would break the one-line-per-fact layout. */
  private static String oneLine(String fact) {
    return fact.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private static List<Turn> conversation(List<Turn> prompt, String response) {
    Preconditions.checkNotNull(prompt, "prompt");
    Preconditions.checkNotNull(response, "response");
    if (response.isBlank()) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "response: must not be empty");
    }
    List<Turn> turns = new ArrayList<>(prompt);
    turns.add(Turn.gpt(response));
    return turns;
  }
}
