package org.factrl.data.format;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A pairwise preference (LLaVA-RLHF style): a prompt, two responses and which one is preferred.
 *
 * <pre>{@code
 * {"id": "scene-000001-pref-0",
 *  "image": "images/scene-000001.png",              // optional
 *  "conversations": [{"from": "human", "value": "<image>\nDescribe the image."}],
 *  "output_1": {"from": "gpt", "value": "A red circle."},
 *  "output_2": {"from": "gpt", "value": "A red circle and a blue square."},
 *  "preference": 1,                                  // 1 or 2: the preferred output
 *  "hallucinations_1": 0,                            // optional: hallucinated claims per output
 *  "hallucinations_2": 1,
 *  "captions": ["A red circle on grass.", ...],      // optional: the image's facts, see below
 *  "rationale": "The only circle is red."}          // optional
 * }</pre>
 *
 * {@code captions} and {@code rationale} are the facts a fact-augmented reward model reads beside
 * the prompt (Fact-RLHF): the image's captions and, for a question with a checkable answer, the
 * rationale. FactRL data sets (manifest {@code format_version} 3 and later) write both fields on
 * every record they have facts for; other tools' preference files have none, so absent means "no
 * facts" ({@link #hasFacts()}) and a fact-augmented reward model must refuse such a record.
 *
 * {@code conversations} holds the prompt turns: alternating, starting and ending with
 * {@code human} (the image rules of {@link Conversations} apply). The reader also accepts an
 * output written as a plain string and ignores an output's {@code from} (other tools write e.g.
 * "llava"); the writer always writes {@code {"from": "gpt", "value": ...}}.
 */
public record PreferencePair(
    String id,
    Optional<String> image,
    ImmutableList<Turn> prompt,
    String output1,
    String output2,
    int preference,
    OptionalInt hallucinations1,
    OptionalInt hallucinations2,
    ImmutableList<String> captions,
    Optional<String> rationale) {

  public PreferencePair {
    Conversations.checkId(id);
    Conversations.checkImage(image);
    prompt = Conversations.check(prompt, image.isPresent(), Conversations.Ending.HUMAN);
    checkOutput(output1, "output_1");
    checkOutput(output2, "output_2");
    if (preference != 1 && preference != 2) {
      throw new InvalidFieldException("preference", "expected 1 or 2, got " + preference);
    }
    checkCount(hallucinations1, "hallucinations_1");
    checkCount(hallucinations2, "hallucinations_2");
    if (captions == null) {
      throw new InvalidFieldException("captions", "use an empty list for no captions");
    }
    for (int i = 0; i < captions.size(); i++) {
      if (captions.get(i) == null || captions.get(i).isBlank()) {
        throw new InvalidFieldException("captions[" + i + "]", "must not be empty");
      }
    }
    if (rationale == null) {
      throw new InvalidFieldException("rationale", "use Optional.empty() when absent");
    }
    if (rationale.isPresent() && rationale.get().isBlank()) {
      throw new InvalidFieldException("rationale", "must not be empty");
    }
  }

  /** A pair without facts (no captions, no rationale). */
  public PreferencePair(String id, Optional<String> image, ImmutableList<Turn> prompt, String output1,
      String output2, int preference, OptionalInt hallucinations1, OptionalInt hallucinations2) {
    this(id, image, prompt, output1, output2, preference, hallucinations1, hallucinations2, ImmutableList.of(),
        Optional.empty());
  }

  /** A pair without hallucination counts. */
  public static PreferencePair of(String id, Optional<String> image, List<Turn> prompt, String output1,
      String output2, int preference) {
    return new PreferencePair(id, image, ImmutableList.copyOf(prompt), output1, output2, preference,
        OptionalInt.empty(), OptionalInt.empty());
  }

  /** Whether the record carries facts for a fact-augmented reward model (a caption or a rationale). */
  public boolean hasFacts() {
    return !captions.isEmpty() || rationale.isPresent();
  }

  /** The preferred response. */
  public String preferred() {
    return preference == 1 ? output1 : output2;
  }

  /** The other response. */
  public String rejected() {
    return preference == 1 ? output2 : output1;
  }

  private static void checkOutput(String output, String field) {
    if (output == null) {
      throw new InvalidFieldException(field, "missing");
    }
    if (output.isBlank()) {
      throw new InvalidFieldException(field + ".value", "must not be empty");
    }
  }

  private static void checkCount(OptionalInt count, String field) {
    if (count == null) {
      throw new InvalidFieldException(field, "use OptionalInt.empty() for no count");
    }
    if (count.isPresent() && count.getAsInt() < 0) {
      throw new InvalidFieldException(field, "expected a count >= 0, got " + count.getAsInt());
    }
  }
}
