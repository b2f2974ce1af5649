package org.factrl.data.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
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

  /**
   * The largest token id accepted, so that {@link #vocabSize()} (largest id + 1) is an int. The
   * file's ids are checked against it before the library reads them: it would wrap larger ones.
   */
  public static final int MAX_TOKEN_ID = Integer.MAX_VALUE - 1;

  private final Path file;
  private final HuggingFaceTokenizer hf;
  private volatile boolean closed;
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
   * {@link FactRlException} naming it (and the field, for what {@link #vocabulary} checks: strict
   * JSON with each key once, ids in [0, {@value #MAX_TOKEN_ID}] and unique).
   */
  public static Tokenizer load(Path tokenizerJson) {
    Preconditions.checkNotNull(tokenizerJson, "tokenizerJson");
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new FactRlException(tokenizerJson + ": cannot load tokenizer: no such file");
    }
    // Read once: the library gets the very text that was checked, and nothing beside it (a path
    // would make it look for a tokenizer_config.json in the same folder).
    String text = JsonRecords.readText(tokenizerJson);
    if (text.isBlank()) {
      throw new FactRlException(tokenizerJson + ": empty file, expected JSON");
    }
    ImmutableMap<String, Integer> ids = vocabulary(tokenizerJson, StrictJson.parse(text, tokenizerJson.toString()));
    HuggingFaceTokenizer hf;
    try {
      hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)),
          Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
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
    Preconditions.checkNotNull(text, "text");
    checkOpen();
    return toInts(hf.encode(text, addSpecialTokens, false).getIds());
  }

  /**
   * Ids of {@code text} with each token's span in {@code text} ([start, end) as Java {@code char}
   * indices); tokens the post-processor added (e.g. {@code <s>}) have an empty span. The library
   * reports code-point offsets; they are mapped to UTF-16 indices here.
   */
  Encoded encodeWithSpans(String text, boolean addSpecialTokens) {
    Preconditions.checkNotNull(text, "text");
    checkOpen();
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
    Preconditions.checkNotNull(ids, "ids");
    checkOpen();
    long[] longs = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      Preconditions.checkElementIndex(ids[i], vocabSize, "token id");
      longs[i] = ids[i];
    }
    return hf.decode(longs, skipSpecialTokens);
  }

  /** Number of ids: 1 + the largest id of the vocabulary and added tokens. */
  public int vocabSize() {
    checkOpen();
    return vocabSize;
  }

  /** The id of {@code token} (a vocabulary entry or added token), if it has one. */
  public OptionalInt tokenId(String token) {
    Preconditions.checkNotNull(token, "token");
    checkOpen();
    Integer id = ids.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** The id of {@code token}, or a {@link FactRlException} naming the file when it has none. */
  public int requireTokenId(String token) {
    Preconditions.checkNotNull(token, "token");
    checkOpen();
    Integer id = ids.get(token);
    if (id == null) {
      throw new FactRlException(file + ": tokenizer has no token '" + token + "'");
    }
    return id;
  }

  /** The token of {@code id}, if some entry has it. */
  public Optional<String> token(int id) {
    checkOpen();
    return Optional.ofNullable(tokens.get(id));
  }

  /** Frees the library's tokenizer; later calls (but {@link #file} and close) throw {@link IllegalStateException}. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      hf.close();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(file + ": tokenizer is closed");
    }
  }

  private static int[] toInts(long[] ids) {
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /**
   * The vocabulary of a parsed {@code tokenizer.json}, checked before the HF library sees the file
   * (which would wrap an id beyond the int range, or keep the last of two entries): {@code model}
   * an object; {@code model.vocab} an object token → id, or Unigram's list of [piece, score];
   * {@code added_tokens} (optional) a list of {id, content}. Every id is an integer in
   * [0, {@value #MAX_TOKEN_ID}], each id names one token, and an added token that is also in the
   * vocabulary has the same id there. Errors name the file and the field.
   */
  private static ImmutableMap<String, Integer> vocabulary(Path file, JsonElement root) {
    if (!root.isJsonObject()) {
      throw invalid(file, null, "expected a JSON object (a tokenizer.json), got " + kind(root));
    }
    JsonElement modelElement = root.getAsJsonObject().get("model");
    if (modelElement == null || !modelElement.isJsonObject()) {
      throw invalid(file, "model", modelElement == null ? "missing" : "expected an object, got " + kind(modelElement));
    }
    JsonObject model = modelElement.getAsJsonObject();
    JsonElement type = model.get("type");
    if (type != null && !isString(type)) {
      throw invalid(file, "model.type", "expected a string, got " + kind(type));
    }
    Map<String, Integer> ids = new LinkedHashMap<>();
    Map<Integer, String> tokens = new HashMap<>();
    JsonElement vocab = model.get("vocab");
    if (vocab != null && vocab.isJsonObject()) {
      for (Map.Entry<String, JsonElement> e : vocab.getAsJsonObject().entrySet()) {
        String field = "model.vocab[" + quote(e.getKey()) + "]";
        int id = tokenId(file, field, e.getValue());
        String other = tokens.putIfAbsent(id, e.getKey());
        if (other != null) {
          throw invalid(file, field, "id " + id + " is also the id of " + quote(other) + " (ids must be unique)");
        }
        ids.put(e.getKey(), id);
      }
    } else if (vocab != null && vocab.isJsonArray()) { // Unigram: [[piece, score], ...]; the id is the position
      JsonArray pieces = vocab.getAsJsonArray();
      for (int i = 0; i < pieces.size(); i++) {
        String field = "model.vocab[" + i + "]";
        JsonElement p = pieces.get(i);
        if (!p.isJsonArray() || p.getAsJsonArray().size() != 2 || !isString(p.getAsJsonArray().get(0))
            || !isNumber(p.getAsJsonArray().get(1))) {
          throw invalid(file, field, "expected [piece, score] (a string and a number), got " + p);
        }
        String piece = p.getAsJsonArray().get(0).getAsString();
        if (ids.putIfAbsent(piece, i) != null) {
          throw invalid(file, field, "piece " + quote(piece) + " is already " + "model.vocab[" + ids.get(piece) + "]");
        }
        tokens.put(i, piece);
      }
    } else {
      throw invalid(file, "model.vocab", vocab == null ? "missing"
          : "expected an object (token → id) or an array of [piece, score], got " + kind(vocab));
    }
    JsonElement added = root.getAsJsonObject().get("added_tokens");
    if (added != null && !added.isJsonNull()) {
      if (!added.isJsonArray()) {
        throw invalid(file, "added_tokens", "expected an array, got " + kind(added));
      }
      Map<String, Integer> addedIds = new HashMap<>();
      JsonArray list = added.getAsJsonArray();
      for (int i = 0; i < list.size(); i++) {
        String at = "added_tokens[" + i + "]";
        if (!list.get(i).isJsonObject()) {
          throw invalid(file, at, "expected an object {id, content, ...}, got " + kind(list.get(i)));
        }
        JsonObject o = list.get(i).getAsJsonObject();
        JsonElement content = o.get("content");
        if (content == null || !isString(content) || content.getAsString().isEmpty()) {
          throw invalid(file, at + ".content", content == null ? "missing" : "expected a non-empty string, got " + content);
        }
        String token = content.getAsString();
        JsonElement idElement = o.get("id");
        if (idElement == null) {
          throw invalid(file, at + ".id", "missing");
        }
        int id = tokenId(file, at + ".id", idElement);
        if (addedIds.putIfAbsent(token, id) != null) {
          throw invalid(file, at + ".content", quote(token) + " is added twice");
        }
        Integer known = ids.get(token);
        if (known != null && known != id) {
          throw invalid(file, at + ".id", quote(token) + " has id " + id + " here but " + known + " in model.vocab");
        }
        String other = tokens.get(id);
        if (other != null && !other.equals(token)) {
          throw invalid(file, at + ".id", "id " + id + " is also the id of " + quote(other) + " (ids must be unique)");
        }
        ids.put(token, id);
        tokens.put(id, token);
      }
    }
    return ImmutableMap.copyOf(ids);
  }

  /**
   * A token id: a plain integer literal in [0, MAX_TOKEN_ID] (the library rejects 5.0 and 5e0, and
   * would wrap 4294967296 to 0).
   */
  private static int tokenId(Path file, String field, JsonElement e) {
    String literal = isNumber(e) ? e.getAsString() : "";
    if (!literal.matches("0|[1-9][0-9]{0,9}") || Long.parseLong(literal) > MAX_TOKEN_ID) {
      throw invalid(file, field, "expected an integer id in [0, " + MAX_TOKEN_ID + "], got "
          + (isNumber(e) ? e.toString() : kind(e)));
    }
    return Integer.parseInt(literal);
  }

  private static boolean isString(JsonElement e) {
    return e.isJsonPrimitive() && e.getAsJsonPrimitive().isString();
  }

  private static boolean isNumber(JsonElement e) {
    return e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber();
  }

  private static String kind(JsonElement e) {
    if (e.isJsonNull()) {
      return "null";
    }
    if (e.isJsonObject()) {
      return "an object";
    }
    if (e.isJsonArray()) {
      return "an array";
    }
    return isString(e) ? "a string" : isNumber(e) ? "the number " + e : "the boolean " + e;
  }

  /** A token for a message: JSON-quoted, so spaces, quotes and control characters show. */
  private static String quote(String token) {
    return new JsonPrimitive(token).toString();
  }

  private static FactRlException invalid(Path file, String field, String problem) {
    return new FactRlException(file + ": invalid tokenizer: " + (field == null ? "" : "field '" + field + "': ") + problem);
  }

  /** Token ids with their [start, end) spans in the encoded text (package-private: arrays). */
  record Encoded(int[] ids, int[] starts, int[] ends) {}
}
