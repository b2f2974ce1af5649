package org.factrl.reward;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.factrl.data.format.Turn;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.train.SplitMix64;
import org.factrl.train.TrainingExample;

/**
 * One reward-model input → token ids for the model: the {@link FactTemplate} text (with or without
 * facts), tokenised in one piece with the tokenizer's special tokens (a leading {@code <s>}), the
 * {@code <image>} placeholder expanded to the model's P image tokens (as
 * {@link org.factrl.train.ConversationEncoder} does for SFT). The score is read on the last token,
 * so a row is never cut: a row longer than {@code maxLength} is an error naming the record.
 * The loss mask is all zero (the RM has no token targets); {@link TrainingExample} is reused so
 * that {@link org.factrl.train.ImageConversationBatcher} pads and loads images. Immutable.
 */
public final class RewardEncoder {
  private final Tokenizer tokenizer;
  private final int imageTokenId;
  private final int patchesPerImage;
  private final int maxLength;

  public RewardEncoder(Tokenizer tokenizer, int imageTokenId, int patchesPerImage, int maxLength) {
    this.tokenizer = Preconditions.checkNotNull(tokenizer, "tokenizer");
    Preconditions.checkArgument(patchesPerImage > 0, "patchesPerImage must be > 0, got %s", patchesPerImage);
    Preconditions.checkArgument(maxLength > 1, "maxLength must be > 1, got %s", maxLength);
    int tokenizerImageId = tokenizer.requireTokenId(SpecialTokens.IMAGE);
    if (tokenizerImageId != imageTokenId) {
      throw new FactRlException(tokenizer.file() + ": the tokenizer's " + SpecialTokens.IMAGE + " id is "
          + tokenizerImageId + " but the model's image_token_id is " + imageTokenId);
    }
    this.imageTokenId = imageTokenId;
    this.patchesPerImage = patchesPerImage;
    this.maxLength = maxLength;
  }

  public int maxLength() {
    return maxLength;
  }

  /**
   * The input of record {@code id}: {@link FactTemplate#withFacts} when {@code facts} is present
   * (captions ordered by {@code rng}), else {@link FactTemplate#withoutFacts}.
   */
  public TrainingExample encode(String id, Optional<Path> image, List<Turn> prompt, String response,
      Optional<FactTemplate.Facts> facts, SplitMix64 rng) {
    Preconditions.checkNotNull(facts, "facts");
    String text;
    try {
      text = facts.isPresent() ? FactTemplate.withFacts(prompt, response, facts.get(), rng)
          : FactTemplate.withoutFacts(prompt, response);
    } catch (IllegalArgumentException | FactRlException e) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "record '" + id + "': " + e.getMessage(), e);
    }
    return encodeText(id, image, text);
  }

  /** Ids of an already rendered text (one {@code <image>} placeholder when {@code image} is present). */
  public TrainingExample encodeText(String id, Optional<Path> image, String text) {
    Preconditions.checkNotNull(id, "id");
    Preconditions.checkNotNull(image, "image");
    int[] ids = tokenizer.encode(text, true);
    int placeholders = 0;
    for (int t : ids) {
      placeholders += t == imageTokenId ? 1 : 0;
    }
    int expected = image.isPresent() ? 1 : 0;
    if (placeholders != expected) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "record '" + id + "': " + placeholders + " "
          + SpecialTokens.IMAGE + " tokens after tokenising, expected " + expected);
    }
    int length = ids.length + placeholders * (patchesPerImage - 1);
    if (length > maxLength) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "record '" + id + "': the reward-model input is "
          + length + " tokens, beyond max_length " + maxLength + " (the score is read on the last token, so it is"
          + " never cut; raise max_length or shorten the facts)");
    }
    int[] out = new int[length];
    for (int i = 0, o = 0; i < ids.length; i++) {
      if (ids[i] == imageTokenId) {
        for (int k = 0; k < patchesPerImage; k++) {
          out[o++] = imageTokenId;
        }
      } else {
        out[o++] = ids[i];
      }
    }
    return new TrainingExample(id, out, new int[length], image);
  }
}
