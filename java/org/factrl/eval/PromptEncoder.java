package org.factrl.eval;

import com.google.common.base.Preconditions;
import java.util.List;
import org.factrl.data.format.Conversations;
import org.factrl.data.format.Turn;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;

/**
 * A question → the prompt ids the model generates from, built exactly as the SFT stage builds its
 * training sequences ({@link org.factrl.train.ConversationEncoder}): the user turn is
 * {@code "<image>\n" + question} (the shapes data set's and LLaVA's placement), rendered by the
 * same Vicuna v1 template up to {@code "ASSISTANT:"} ({@link ChatTemplate#promptForGeneration}),
 * tokenised with the tokenizer's special tokens, and the one {@code <image>} token expanded to
 * {@code patchesPerImage} copies of the image token id. So a prompt's ids are the first ids of the
 * SFT sequence of the same question with any answer (a test holds it to that). Immutable.
 */
public final class PromptEncoder {
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final int imageTokenId;
  private final int patchesPerImage;

  public PromptEncoder(Tokenizer tokenizer, ChatTemplate template, int imageTokenId, int patchesPerImage) {
    this.tokenizer = Preconditions.checkNotNull(tokenizer, "tokenizer");
    this.template = Preconditions.checkNotNull(template, "template");
    Preconditions.checkArgument(patchesPerImage > 0, "patchesPerImage must be > 0, got %s", patchesPerImage);
    int tokenizerImageId = tokenizer.requireTokenId(SpecialTokens.IMAGE);
    if (tokenizerImageId != imageTokenId) {
      throw new FactRlException(tokenizer.file() + ": the tokenizer's " + SpecialTokens.IMAGE + " id is "
          + tokenizerImageId + " but the model's image_token_id is " + imageTokenId);
    }
    this.imageTokenId = imageTokenId;
    this.patchesPerImage = patchesPerImage;
  }

  /** The user turn SFT data holds for {@code question} about one image. */
  public static String userTurn(String question) {
    return Conversations.IMAGE_PLACEHOLDER + "\n" + question;
  }

  /** The prompt text (before tokenising) for {@code question}. */
  public String promptText(String question) {
    return template.promptForGeneration(List.of(Turn.human(userTurn(question))));
  }

  /** The prompt ids of {@code q}, image expanded; a question holding its own {@code <image>} is refused. */
  public int[] encode(Question q) {
    Preconditions.checkNotNull(q, "question");
    if (q.text().contains(Conversations.IMAGE_PLACEHOLDER)) {
      throw new FactRlException("question " + q.id() + ": its text holds '" + Conversations.IMAGE_PLACEHOLDER
          + "'; give the question without it (the image is placed before the question)");
    }
    int[] ids = tokenizer.encode(promptText(q.text()), true);
    int placeholders = 0;
    for (int id : ids) {
      placeholders += id == imageTokenId ? 1 : 0;
    }
    if (placeholders != 1) {
      throw new FactRlException("question " + q.id() + ": " + placeholders + " " + SpecialTokens.IMAGE
          + " tokens after tokenising, expected 1");
    }
    int[] out = new int[ids.length + patchesPerImage - 1];
    int o = 0;
    for (int id : ids) {
      if (id == imageTokenId) {
        for (int k = 0; k < patchesPerImage; k++) {
          out[o++] = imageTokenId;
        }
      } else {
        out[o++] = id;
      }
    }
    return out;
  }
}
