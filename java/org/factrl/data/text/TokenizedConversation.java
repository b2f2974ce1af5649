package org.factrl.data.text;

import com.google.common.base.Preconditions;
import java.util.Arrays;

/**
 * A conversation tokenised for SFT: token ids and a loss mask, 1 where the token is a training
 * target (assistant text and its closing {@code </s>}), 0 elsewhere. Immutable: arrays are copied.
 */
public final class TokenizedConversation {
  private final int[] ids;
  private final int[] lossMask;

  TokenizedConversation(int[] ids, int[] lossMask) {
    Preconditions.checkArgument(ids.length == lossMask.length, "ids %s, mask %s", ids.length, lossMask.length);
    this.ids = ids;
    this.lossMask = lossMask;
  }

  public int length() {
    return ids.length;
  }

  public int[] ids() {
    return ids.clone();
  }

  public int[] lossMask() {
    return lossMask.clone();
  }

  /** Number of target tokens (mask = 1). */
  public int targetCount() {
    int n = 0;
    for (int m : lossMask) {
      n += m;
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TokenizedConversation t && Arrays.equals(ids, t.ids) && Arrays.equals(lossMask, t.lossMask);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(ids) + Arrays.hashCode(lossMask);
  }

  @Override
  public String toString() {
    return "TokenizedConversation{ids=" + Arrays.toString(ids) + ", lossMask=" + Arrays.toString(lossMask) + "}";
  }
}
