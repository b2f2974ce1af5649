package org.factrl.train;

import com.google.common.base.Preconditions;
import java.util.List;

/**
 * One training batch on the host, laid out as {@link org.factrl.model.LlavaModel#forward} takes it
 * (row-major, B rows of S tokens):
 *
 * <pre>
 *   inputIds[b, t]  = ids_b[t]             t &lt; len_b,   pad otherwise        (right padding)
 *   targets[b, t]   = ids_b[t + 1]         t &lt; len_b − 1, pad otherwise      (shifted left)
 *   lossMask[b, t]  = mask_b[t + 1]        t &lt; len_b − 1, 0 otherwise        (shifted the same way)
 *   images[i]       = the i-th image row's image, F32 [C, H, W], rows in order
 * </pre>
 *
 * so position t predicts token t + 1 and counts when that token is an assistant token. S is the
 * longest row of the batch. Immutable by convention: the arrays are not copied (they are large and
 * made once per step); do not change them.
 *
 * @param exampleIds the records' ids, in row order
 * @param rows B
 * @param seq S
 * @param inputIds I32 [B·S]
 * @param targets I32 [B·S]
 * @param lossMask F32 [B·S] (0 or 1)
 * @param imageRows the number of rows with an image (Bi)
 * @param images F32 [Bi·C·H·W], or an empty array when Bi = 0
 * @param targetTokens Σ lossMask: the tokens the loss averages over
 * @param realTokens Σ len_b: the tokens that are not padding
 */
public record Batch(List<String> exampleIds, int rows, int seq, int[] inputIds, int[] targets, float[] lossMask,
    int imageRows, float[] images, int targetTokens, int realTokens) {
  public Batch {
    exampleIds = List.copyOf(exampleIds);
    Preconditions.checkArgument(rows > 0 && seq > 0, "rows %s, seq %s", rows, seq);
    Preconditions.checkArgument(exampleIds.size() == rows, "%s ids for %s rows", exampleIds.size(), rows);
    long n = (long) rows * seq;
    Preconditions.checkArgument(inputIds.length == n && targets.length == n && lossMask.length == n,
        "arrays must hold rows * seq = %s entries", n);
    Preconditions.checkArgument(imageRows >= 0 && imageRows <= rows, "imageRows %s", imageRows);
  }

  /** All positions, padding included (B·S): what the model computes. */
  public long positions() {
    return (long) rows * seq;
  }
}
