package org.factrl.data.text;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.TreeSet;
import org.factrl.engine.FactRlException;

/**
 * Checks a {@code tokenizer.json} given to the data set writer in place of the one it would learn
 * ({@link ShapesTokenizerWriter}), e.g. the tokenizer a pretrained base carries: a data set must be
 * tokenised with the very ids its model was trained on.
 *
 * <p>What is checked: the file loads; the special tokens have the ids the world's files and models
 * expect ({@link SpecialTokens#ALL}: {@code <unk>}=0, {@code <s>}=1, {@code </s>}=2, {@code <pad>}=3,
 * {@code <image>}=4); and every word of the corpus encodes without {@code <unk>} and decodes back
 * to itself (always so for a byte-level BPE such as the shapes tokenizer; a tokenizer of another
 * kind could lose words).
 */
public final class GivenTokenizer {
  private GivenTokenizer() {}

  /**
   * Fails, naming {@code file} (and the token or word), unless it is usable for {@code corpus}
   * (empty: only the load and the special tokens are checked).
   */
  public static void check(Path file, Iterable<String> corpus) {
    Preconditions.checkNotNull(file, "file");
    Preconditions.checkNotNull(corpus, "corpus");
    try (Tokenizer t = Tokenizer.load(file)) {
      for (int want = 0; want < SpecialTokens.ALL.size(); want++) {
        String special = SpecialTokens.ALL.get(want);
        OptionalInt got = t.tokenId(special);
        if (got.isEmpty() || got.getAsInt() != want) {
          throw new FactRlException(file + ": special token " + special + " has "
              + (got.isEmpty() ? "no id" : "id " + got.getAsInt()) + ", but the shapes world expects id " + want
              + " (" + SpecialTokens.ALL + " are ids 0.." + (SpecialTokens.ALL.size() - 1)
              + "); give a tokenizer.json written by bin/factrl data or carried by a FactRL model folder");
        }
      }
      int unk = t.requireTokenId(SpecialTokens.UNK);
      TreeSet<String> words = new TreeSet<>(); // sorted: the first failure does not depend on corpus order
      for (String text : corpus) {
        for (String w : text.split("\\s+")) {
          if (!w.isEmpty()) {
            words.add(w);
          }
        }
      }
      for (String w : words) {
        int[] ids = t.encode(w, false);
        boolean hasUnk = false;
        for (int id : ids) {
          hasUnk |= id == unk;
        }
        if (hasUnk || !t.decode(ids, false).equals(w)) {
          throw new FactRlException(file + ": cannot encode the corpus word '" + w + "' ("
              + (hasUnk ? "it maps to " + SpecialTokens.UNK : "it decodes to '" + t.decode(ids, false) + "'")
              + "); give a byte-level tokenizer such as the one bin/factrl data writes");
        }
      }
    }
  }
}
