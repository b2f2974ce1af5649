package org.factrl.data.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.factrl.data.format.JsonRecords;
import org.factrl.engine.FactRlException;

/**
 * Any HF {@code tokenizer.json}, tokenised by the real HF tokenizers library (Rust, through DJL),
 * offline. Ids are {@code int}s. Not thread-safe to close while in use; otherwise the underlying
 * tokenizer is safe to share.
 *
 * <p>The library has no vocabulary API, so {@link #vocabSize()}, {@link #tokenId} and
 * {@link #token} come from the file itself: the model's vocabulary ({@code model.vocab}: an
 * object token→id for BPE/WordPiece/WordLevel, a list of [piece, score] for Unigram) plus
 * {@code added_tokens}.
 */
public final class Tokenizer implements AutoCloseable {
  static {
    // Without it DJL may try to download a CUDA build of the library on a machine with a GPU.
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
  }

  private final Path file;
  private final HuggingFaceTokenizer hf;
  private final ImmutableMap<String, Integer> ids;
  private final Map<Integer, String> tokens;
  private final int vocabSize;

  private Tokenizer(Path file, HuggingFaceTokenizer hf, ImmutableMap<String, Integer> ids) {
    this.file = file;
    this.hf = hf;
    this.ids = ids;
    Map<Integer, String> inverse = new HashMap<>();
    int max = -1;
    for (Map.Entry<String, Integer> e : ids.entrySet()) {
      inverse.put(e.getValue(), e.getKey());
      max = Math.max(max, e.getValue());
    }
    this.tokens = inverse;
    this.vocabSize = max + 1;
  }

  /**
   * Loads {@code tokenizerJson}. A missing, unreadable or invalid file is a
   * {@link FactRlException} naming it.
   */
  public static Tokenizer load(Path tokenizerJson) {
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new FactRlException(tokenizerJson + ": cannot load tokenizer: no such file");
    }
    JsonElement root = JsonRecords.readDocument(tokenizerJson);
    ImmutableMap<String, Integer> ids = vocabulary(tokenizerJson, root);
    HuggingFaceTokenizer hf;
    try {
      hf = HuggingFaceTokenizer.builder()
          .optTokenizerPath(tokenizerJson)
          .optAddSpecialTokens(true)
          .optTruncation(false)
          .optPadding(false)
          .build();
    } catch (Exception | UnsatisfiedLinkError e) {
      throw new FactRlException(tokenizerJson + ": cannot load tokenizer: " + e.getMessage(), e);
    }
    return new Tokenizer(tokenizerJson, hf, ids);
  }

  /** The file this tokenizer was loaded from. */
  public Path file() {
    return file;
  }

  /** Ids of {@code text} with the tokenizer's special tokens (e.g. a leading {@code <s>}). */
  public int[] encode(String text) {
    return encode(text, true);
  }

  /** Ids of {@code text}; {@code addSpecialTokens} as HF's {@code add_special_tokens}. */
  public int[] encode(String text, boolean addSpecialTokens) {
    return toInts(hf.encode(text, addSpecialTokens, false).getIds());
  }

  /**
   * Ids of {@code text} with each token's span in {@code text} ([start, end) as Java {@code char}
   * indices); tokens the post-processor added (e.g. {@code <s>}) have an empty span. The library
   * reports code-point offsets; they are mapped to UTF-16 indices here.
   */
  Encoded encodeWithSpans(String text, boolean addSpecialTokens) {
    Encoding e = hf.encode(text, addSpecialTokens, false);
    int[] idArray = toInts(e.getIds());
    CharSpan[] spans = e.getCharTokenSpans();
    int codePoints = text.codePointCount(0, text.length());
    int[] charIndex = new int[codePoints + 1];
    for (int cp = 0, at = 0; cp <= codePoints; cp++) {
      charIndex[cp] = at;
      if (at < text.length()) {
        at += Character.charCount(text.codePointAt(at));
      }
    }
    int[] starts = new int[idArray.length];
    int[] ends = new int[idArray.length];
    for (int i = 0; i < idArray.length; i++) {
      CharSpan s = spans[i];
      if (s != null) {
        starts[i] = charIndex[Math.min(Math.max(s.getStart(), 0), codePoints)];
        ends[i] = charIndex[Math.min(Math.max(s.getEnd(), 0), codePoints)];
      }
    }
    return new Encoded(idArray, starts, ends);
  }

  /** The text of {@code ids}, special tokens included (so {@code <image>} survives). */
  public String decode(int[] ids) {
    return decode(ids, false);
  }

  /** The text of {@code ids}; {@code skipSpecialTokens} drops {@code <s>}, {@code </s>}, .... */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] longs = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      Preconditions.checkElementIndex(ids[i], vocabSize, "token id");
      longs[i] = ids[i];
    }
    return hf.decode(longs, skipSpecialTokens);
  }

  /** Number of ids: 1 + the largest id of the vocabulary and added tokens. */
  public int vocabSize() {
    return vocabSize;
  }

  /** The id of {@code token} (a vocabulary entry or added token), if it has one. */
  public OptionalInt tokenId(String token) {
    Integer id = ids.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** The id of {@code token}, or a {@link FactRlException} naming the file when it has none. */
  public int requireTokenId(String token) {
    Integer id = ids.get(token);
    if (id == null) {
      throw new FactRlException(file + ": tokenizer has no token '" + token + "'");
    }
    return id;
  }

  /** The token of {@code id}, if some entry has it. */
  public Optional<String> token(int id) {
    return Optional.ofNullable(tokens.get(id));
  }

  @Override
  public void close() {
    hf.close();
  }

  private static int[] toInts(long[] ids) {
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  private static ImmutableMap<String, Integer> vocabulary(Path file, JsonElement root) {
    if (!root.isJsonObject() || !root.getAsJsonObject().has("model")
        || !root.getAsJsonObject().get("model").isJsonObject()) {
      throw new FactRlException(file + ": cannot load tokenizer: no 'model' object");
    }
    JsonObject model = root.getAsJsonObject().getAsJsonObject("model");
    Map<String, Integer> ids = new HashMap<>();
    JsonElement vocab = model.get("vocab");
    try {
      if (vocab != null && vocab.isJsonObject()) {
        for (Map.Entry<String, JsonElement> e : vocab.getAsJsonObject().entrySet()) {
          ids.put(e.getKey(), e.getValue().getAsInt());
        }
      } else if (vocab != null && vocab.isJsonArray()) { // Unigram: [[piece, score], ...]
        JsonArray pieces = vocab.getAsJsonArray();
        for (int i = 0; i < pieces.size(); i++) {
          ids.put(pieces.get(i).getAsJsonArray().get(0).getAsString(), i);
        }
      } else {
        throw new FactRlException(file + ": cannot load tokenizer: 'model.vocab' is missing");
      }
      JsonElement added = root.getAsJsonObject().get("added_tokens");
      if (added != null && added.isJsonArray()) {
        for (JsonElement t : added.getAsJsonArray()) {
          JsonObject o = t.getAsJsonObject();
          ids.put(o.get("content").getAsString(), o.get("id").getAsInt());
        }
      }
    } catch (RuntimeException e) {
      if (e instanceof FactRlException f) {
        throw f;
      }
      throw new FactRlException(file + ": cannot load tokenizer: malformed vocabulary: " + e, e);
    }
    return ImmutableMap.copyOf(ids);
  }

  /** Token ids with their [start, end) spans in the encoded text (package-private: arrays). */
  record Encoded(int[] ids, int[] starts, int[] ends) {}
}
