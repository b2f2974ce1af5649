package org.factrl.data.text;

import com.google.common.base.Preconditions;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.factrl.data.format.AtomicFiles;

/**
 * Writes the shapes world's own small {@code tokenizer.json}, loadable by the HF tokenizers
 * library ({@link Tokenizer}). The model is GPT-2's byte-level BPE:
 *
 * <ul>
 *   <li>pre-tokenizer and decoder {@code ByteLevel} (no prefix space, GPT-2's split regex), no
 *       normalizer: every string maps to bytes and back, so {@code decode(encode(s)) == s} for ANY
 *       string, in the vocabulary or not;
 *   <li>vocabulary: ids 0..4 the specials {@code <unk> <s> </s> <pad> <image>} (also registered as
 *       special added tokens, so they are matched whole in text and never split), ids 5..260 the
 *       256 byte symbols, then one id per merge result;
 *   <li>merges: learnt here from the corpus by the classic BPE training loop (most frequent
 *       adjacent pair first, ties broken by the pair's text, so the output is deterministic)
 *       until every corpus word is a single token; each word is learnt bare and with its leading
 *       space, as it appears after the first word of a sentence;
 *   <li>post-processor: {@code <s>} before the text when special tokens are requested (as Llama).
 * </ul>
 *
 * Only the merge list is computed here; the tokenising itself is done by the HF library.
 */
public final class ShapesTokenizerWriter {
  /** GPT-2's pre-tokenizer split, the one HF's ByteLevel pre-tokenizer uses. */
  private static final Pattern GPT2_SPLIT = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      Pattern.UNICODE_CHARACTER_CLASS);

  /** Byte → printable char of GPT-2's byte-level alphabet. */
  private static final char[] BYTE_TO_CHAR = byteAlphabet();

  /** Pretty, and keeping the explicit nulls ({@code "normalizer": null}) of HF's own files. */
  private static final Gson JSON =
      new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

  private ShapesTokenizerWriter() {}

  /** Writes the tokenizer learnt from {@code corpus} (sentences or single words) to {@code file}. */
  public static void write(Path file, Iterable<String> corpus) {
    AtomicFiles.writeString(file, JSON.toJson(build(corpus)) + "\n");
  }

  /** The {@code tokenizer.json} document learnt from {@code corpus}. */
  public static JsonObject build(Iterable<String> corpus) {
    Preconditions.checkNotNull(corpus, "corpus");
    List<String> merges = learnMerges(words(corpus));

    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (String special : SpecialTokens.ALL) {
      vocab.put(special, vocab.size());
    }
    for (char c : BYTE_TO_CHAR) {
      vocab.putIfAbsent(String.valueOf(c), vocab.size());
    }
    JsonArray mergeArray = new JsonArray();
    for (String m : merges) {
      mergeArray.add(m);
      vocab.putIfAbsent(m.replace(" ", ""), vocab.size());
    }

    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", JsonNull.INSTANCE);
    root.add("padding", JsonNull.INSTANCE);
    root.add("added_tokens", addedTokens());
    root.add("normalizer", JsonNull.INSTANCE);
    root.add("pre_tokenizer", byteLevel());
    root.add("post_processor", bosTemplate(vocab.get(SpecialTokens.BOS)));
    root.add("decoder", byteLevel());
    JsonObject model = new JsonObject();
    model.addProperty("type", "BPE");
    model.add("dropout", JsonNull.INSTANCE);
    model.add("unk_token", JsonNull.INSTANCE);
    model.add("continuing_subword_prefix", JsonNull.INSTANCE);
    model.add("end_of_word_suffix", JsonNull.INSTANCE);
    model.addProperty("fuse_unk", false);
    model.addProperty("byte_fallback", false);
    JsonObject vocabJson = new JsonObject();
    vocab.forEach(vocabJson::addProperty);
    model.add("vocab", vocabJson);
    model.add("merges", mergeArray);
    root.add("model", model);
    return root;
  }

  /** Corpus words as byte-level symbol strings, with their frequencies (sorted: deterministic). */
  private static TreeMap<String, Integer> words(Iterable<String> corpus) {
    TreeMap<String, Integer> counts = new TreeMap<>();
    for (String text : corpus) {
      Matcher m = GPT2_SPLIT.matcher(text);
      while (m.find()) {
        String bare = m.group().strip();
        if (!bare.isEmpty()) {
          counts.merge(toByteLevel(bare), 1, Integer::sum);
          String spaced = " " + bare;
          if (isOnePiece(spaced)) { // " 't" splits into " '" + "t": no point learning it
            counts.merge(toByteLevel(spaced), 1, Integer::sum);
          }
        }
      }
    }
    return counts;
  }

  /**
   * The classic BPE training loop: repeatedly merge the most frequent adjacent pair (ties: the
   * smaller "left right" text) in every word, until each word is one symbol. Symbols are interned
   * as ints and pairs packed in a long, so each round is a cheap recount.
   */
  private static List<String> learnMerges(TreeMap<String, Integer> wordCounts) {
    List<String> symbolText = new ArrayList<>();
    Map<String, Integer> symbolId = new HashMap<>();
    List<int[]> words = new ArrayList<>();
    int[] freqs = new int[wordCounts.size()];
    for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
      int[] symbols = e.getKey().codePoints()
          .map(cp -> intern(new String(Character.toChars(cp)), symbolText, symbolId)).toArray();
      freqs[words.size()] = e.getValue();
      words.add(symbols);
    }
    int[] lengths = words.stream().mapToInt(w -> w.length).toArray();
    List<String> merges = new ArrayList<>();
    Map<Long, Integer> pairs = new HashMap<>();
    while (true) {
      pairs.clear();
      for (int w = 0; w < words.size(); w++) {
        int[] s = words.get(w);
        for (int i = 0; i + 1 < lengths[w]; i++) {
          pairs.merge(((long) s[i] << 32) | s[i + 1], freqs[w], Integer::sum);
        }
      }
      if (pairs.isEmpty()) {
        return merges;
      }
      long best = 0;
      String bestText = null;
      int bestCount = 0;
      for (Map.Entry<Long, Integer> p : pairs.entrySet()) { // iteration order unused: ties by text
        int c = p.getValue();
        if (c < bestCount) {
          continue;
        }
        long key = p.getKey();
        String text = symbolText.get((int) (key >>> 32)) + " " + symbolText.get((int) key);
        if (c > bestCount || text.compareTo(bestText) < 0) {
          best = key;
          bestText = text;
          bestCount = c;
        }
      }
      merges.add(bestText);
      int left = (int) (best >>> 32);
      int right = (int) best;
      int merged = intern(symbolText.get(left) + symbolText.get(right), symbolText, symbolId);
      for (int w = 0; w < words.size(); w++) {
        int[] s = words.get(w);
        int n = 0;
        for (int i = 0; i < lengths[w]; i++) {
          if (i + 1 < lengths[w] && s[i] == left && s[i + 1] == right) {
            s[n++] = merged;
            i++;
          } else {
            s[n++] = s[i];
          }
        }
        lengths[w] = n;
      }
    }
  }

  private static int intern(String symbol, List<String> texts, Map<String, Integer> ids) {
    return ids.computeIfAbsent(symbol, k -> {
      texts.add(k);
      return texts.size() - 1;
    });
  }

  private static boolean isOnePiece(String s) {
    Matcher m = GPT2_SPLIT.matcher(s);
    return m.lookingAt() && m.end() == s.length();
  }

  private static String toByteLevel(String s) {
    StringBuilder b = new StringBuilder();
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
      b.append(BYTE_TO_CHAR[x & 0xff]);
    }
    return b.toString();
  }

  /** GPT-2's {@code bytes_to_unicode}: printable bytes map to themselves, the rest to 256+. */
  private static char[] byteAlphabet() {
    char[] table = new char[256];
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      table[b] = printable ? (char) b : (char) next++;
    }
    return table;
  }

  private static JsonArray addedTokens() {
    JsonArray added = new JsonArray();
    for (int id = 0; id < SpecialTokens.ALL.size(); id++) {
      JsonObject t = new JsonObject();
      t.addProperty("id", id);
      t.addProperty("content", SpecialTokens.ALL.get(id));
      t.addProperty("single_word", false);
      t.addProperty("lstrip", false);
      t.addProperty("rstrip", false);
      t.addProperty("normalized", false);
      t.addProperty("special", true);
      added.add(t);
    }
    return added;
  }

  private static JsonObject byteLevel() {
    JsonObject o = new JsonObject();
    o.addProperty("type", "ByteLevel");
    o.addProperty("add_prefix_space", false);
    o.addProperty("trim_offsets", false);
    o.addProperty("use_regex", true);
    return o;
  }

  private static JsonObject bosTemplate(int bosId) {
    JsonObject o = new JsonObject();
    o.addProperty("type", "TemplateProcessing");
    o.add("single", template(false));
    o.add("pair", template(true));
    JsonObject bos = new JsonObject();
    bos.addProperty("id", SpecialTokens.BOS);
    JsonArray ids = new JsonArray();
    ids.add(bosId);
    bos.add("ids", ids);
    JsonArray tokens = new JsonArray();
    tokens.add(SpecialTokens.BOS);
    bos.add("tokens", tokens);
    JsonObject specials = new JsonObject();
    specials.add(SpecialTokens.BOS, bos);
    o.add("special_tokens", specials);
    return o;
  }

  /** {@code <s> $A} or {@code <s> $A <s> $B}. */
  private static JsonArray template(boolean pair) {
    JsonArray a = new JsonArray();
    a.add(piece("SpecialToken", SpecialTokens.BOS, 0));
    a.add(piece("Sequence", "A", 0));
    if (pair) {
      a.add(piece("SpecialToken", SpecialTokens.BOS, 1));
      a.add(piece("Sequence", "B", 1));
    }
    return a;
  }

  private static JsonObject piece(String kind, String id, int typeId) {
    JsonObject inner = new JsonObject();
    inner.addProperty("id", id);
    inner.addProperty("type_id", typeId);
    JsonObject o = new JsonObject();
    o.add(kind, inner);
    return o;
  }
}
