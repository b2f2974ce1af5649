package org.factrl.data.text;

import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.List;
import org.factrl.data.format.Speaker;
import org.factrl.data.format.Turn;

/**
 * The LLaVA / Vicuna v1 chat template ({@code conv_vicuna_v1}, separator style TWO, sep
 * {@code " "}, sep2 {@code "</s>"}). For turns h1, g1, h2, g2 the text is exactly
 *
 * <pre>
 * SYSTEM + " " + "USER: " + h1 + " " + "ASSISTANT: " + g1 + "&lt;/s&gt;"
 *              + "USER: " + h2 + " " + "ASSISTANT: " + g2 + "&lt;/s&gt;"
 * </pre>
 *
 * i.e. each human turn is followed by sep, each assistant turn by sep2, with no space after
 * {@code </s>}. A prompt for generation ends in {@code "ASSISTANT:"} (no trailing space), as
 * LLaVA's {@code get_prompt} with an empty last message. Turn values are used verbatim: the
 * {@code <image>} placeholder stays where the data put it (LLaVA data has {@code "<image>\n"} at
 * the start of the first human turn).
 */
public final class ChatTemplate {
  /** Vicuna v1's system line. */
  public static final String VICUNA_V1_SYSTEM = "A chat between a curious human and an artificial intelligence "
      + "assistant. The assistant gives helpful, detailed, and polite answers to the human's questions.";

  private static final String USER = "USER";
  private static final String ASSISTANT = "ASSISTANT";
  private static final String SEP = " ";
  private static final String SEP2 = SpecialTokens.EOS;

  private static final ChatTemplate VICUNA_V1 = new ChatTemplate(VICUNA_V1_SYSTEM);

  private final String system;

  private ChatTemplate(String system) {
    this.system = system;
  }

  /** The template with Vicuna v1's system line. */
  public static ChatTemplate vicunaV1() {
    return VICUNA_V1;
  }

  /** The same template with another system line (e.g. an empty one for plain captioning data). */
  public ChatTemplate withSystem(String newSystem) {
    return new ChatTemplate(Preconditions.checkNotNull(newSystem, "system"));
  }

  public String system() {
    return system;
  }

  /** The full text of a conversation ending with an assistant turn (SFT). */
  public String render(List<Turn> turns) {
    return build(turns, Speaker.GPT).text;
  }

  /** The text to generate from: the conversation (ending with a human turn) + {@code "ASSISTANT:"}. */
  public String promptForGeneration(List<Turn> turns) {
    return build(turns, Speaker.HUMAN).text + ASSISTANT + ":";
  }

  /**
   * The conversation (ending with an assistant turn) tokenised for SFT, with the tokenizer's
   * special tokens (a leading {@code <s>} for Llama-style tokenizers). The text is tokenised in one
   * piece, so the ids equal {@code tokenizer.encode(render(turns))}; a token is a target (mask 1)
   * when its span overlaps an assistant span: the {@code " "} after {@code "ASSISTANT:"}, the
   * message and the {@code </s>} closing it. The space belongs to the target because generation
   * starts right after {@code "ASSISTANT:"} ({@link #promptForGeneration}), so the model must
   * produce it — whether the tokenizer glues it to the first word ({@code "Ġword"},
   * {@code "▁word"}) or not.
   */
  public TokenizedConversation tokenize(List<Turn> turns, Tokenizer tokenizer) {
    Rendered r = build(turns, Speaker.GPT);
    Tokenizer.Encoded e = tokenizer.encodeWithSpans(r.text, true);
    int[] mask = new int[e.ids().length];
    for (int t = 0; t < mask.length; t++) {
      int start = e.starts()[t];
      int end = e.ends()[t];
      if (end <= start) {
        continue; // added by the post-processor (e.g. <s>): not part of the text
      }
      for (int[] span : r.targets) {
        if (start < span[1] && end > span[0]) {
          mask[t] = 1;
          break;
        }
      }
    }
    return new TokenizedConversation(e.ids(), mask);
  }

  private Rendered build(List<Turn> turns, Speaker last) {
    Preconditions.checkArgument(!turns.isEmpty(), "no turns");
    Preconditions.checkArgument(turns.get(turns.size() - 1).from() == last,
        "the conversation must end with a '%s' turn", last.jsonName());
    StringBuilder text = new StringBuilder(system).append(SEP);
    List<int[]> targets = new ArrayList<>();
    for (int i = 0; i < turns.size(); i++) {
      Turn t = turns.get(i);
      Speaker expected = i % 2 == 0 ? Speaker.HUMAN : Speaker.GPT;
      Preconditions.checkArgument(t.from() == expected, "turn %s: expected '%s', got '%s' (turns alternate "
          + "starting with 'human')", i, expected.jsonName(), t.from().jsonName());
      if (t.from() == Speaker.HUMAN) {
        text.append(USER).append(": ").append(t.value()).append(SEP);
      } else {
        text.append(ASSISTANT).append(":");
        int start = text.length();
        text.append(" ").append(t.value()).append(SEP2);
        targets.add(new int[] {start, text.length()});
      }
    }
    return new Rendered(text.toString(), targets);
  }

  private record Rendered(String text, List<int[]> targets) {}
}
