package org.factrl.train;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.util.Optional;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.image.ImagePaths;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.TokenizedConversation;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;

/**
 * LLaVA conversation → {@link TrainingExample}: the Vicuna v1 template ({@link ChatTemplate}), the
 * tokenizer, then the one explicit step the template leaves to the data layer — the
 * {@code <image>} placeholder, which the tokenizer keeps as one special token (id
 * {@code imageTokenId}), becomes {@code patchesPerImage} copies of that id, each with loss mask 0
 * (model.h: "the caller's token ids already hold P copies of image_token_id", as HF's LLaVA
 * processor does). A record with an image must yield exactly one placeholder token, a record
 * without one none (the readers already enforce that on the text).
 *
 * <p>Sequences longer than {@code maxLength} are cut at {@code maxLength} tokens (LLaVA truncates
 * at {@code model_max_length} too); a cut through the image tokens is an error naming the record,
 * since the model needs all P of them. Immutable; thread-safe as far as the tokenizer is.
 */
public final class ConversationEncoder {
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final int imageTokenId;
  private final int patchesPerImage;
  private final int maxLength;
  private final Path imageFolder;

  /**
   * @param imageFolder the data set's image folder; records' {@code image} paths are resolved
   *     inside it ({@link ImagePaths#resolve})
   */
  public ConversationEncoder(Tokenizer tokenizer, ChatTemplate template, int imageTokenId, int patchesPerImage,
      int maxLength, Path imageFolder) {
    this.tokenizer = Preconditions.checkNotNull(tokenizer, "tokenizer");
    this.template = Preconditions.checkNotNull(template, "template");
    this.imageFolder = Preconditions.checkNotNull(imageFolder, "imageFolder");
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

  public int patchesPerImage() {
    return patchesPerImage;
  }

  /** The record as ids + mask with the image expanded (see the class comment). */
  public TrainingExample encode(LlavaConversation record) {
    Preconditions.checkNotNull(record, "record");
    TokenizedConversation t = template.tokenize(record.conversations(), tokenizer);
    int[] ids = t.ids();
    int[] mask = t.lossMask();
    int placeholders = 0;
    for (int id : ids) {
      placeholders += id == imageTokenId ? 1 : 0;
    }
    int expected = record.image().isPresent() ? 1 : 0;
    if (placeholders != expected) {
      throw new FactRlException("record '" + record.id() + "': " + placeholders + " " + SpecialTokens.IMAGE
          + " tokens after tokenising, expected " + expected);
    }
    int length = ids.length + placeholders * (patchesPerImage - 1);
    int[] outIds = new int[length];
    int[] outMask = new int[length];
    int imageEnd = -1;
    for (int i = 0, o = 0; i < ids.length; i++) {
      if (ids[i] == imageTokenId) {
        for (int k = 0; k < patchesPerImage; k++) {
          outIds[o++] = imageTokenId; // mask stays 0: image positions are never targets
        }
        imageEnd = o;
      } else {
        outIds[o] = ids[i];
        outMask[o++] = mask[i];
      }
    }
    if (length > maxLength) {
      if (imageEnd > maxLength) {
        throw new FactRlException("record '" + record.id() + "': its image tokens end at position " + imageEnd
            + ", beyond max_length " + maxLength + " (raise max_length)");
      }
      outIds = java.util.Arrays.copyOf(outIds, maxLength);
      outMask = java.util.Arrays.copyOf(outMask, maxLength);
    }
    Optional<Path> image = record.image().map(p -> ImagePaths.resolve(imageFolder, p,
        "record '" + record.id() + "': field 'image'"));
    return new TrainingExample(record.id(), outIds, outMask, image);
  }
}
