package org.factrl.train;

import com.google.common.base.Preconditions;

/**
 * The order in which a trainer visits {@code size} examples: epoch after epoch, each a fresh
 * permutation (Fisher–Yates with {@link SplitMix64} seeded by {@code mix(seed ^ mix(epoch))}), so
 * the order is a pure function of (seed, epoch) and the cursor (epoch, position) is all a
 * checkpoint needs to continue it exactly. Batches run across epoch ends: every batch is full.
 * Not thread-safe.
 */
public final class DataOrder {
  private final int size;
  private final long seed;
  private long epoch;
  private int position;
  private int[] permutation;

  /** Starts at epoch 0, position 0. */
  public DataOrder(int size, long seed) {
    this(size, seed, 0, 0);
  }

  /** Continues at (epoch, position), as {@link #epoch()} and {@link #position()} reported. */
  public DataOrder(int size, long seed, long epoch, int position) {
    Preconditions.checkArgument(size > 0, "size must be > 0, got %s", size);
    Preconditions.checkArgument(epoch >= 0, "epoch must be >= 0, got %s", epoch);
    Preconditions.checkArgument(position >= 0 && position < size, "position must be in [0, %s), got %s", size, position);
    this.size = size;
    this.seed = seed;
    this.epoch = epoch;
    this.position = position;
    this.permutation = permutation(size, seed, epoch);
  }

  /** The permutation of epoch {@code epoch}: index i of the epoch visits example {@code p[i]}. */
  public static int[] permutation(int size, long seed, long epoch) {
    int[] p = new int[size];
    for (int i = 0; i < size; i++) {
      p[i] = i;
    }
    SplitMix64 rng = new SplitMix64(SplitMix64.mix(seed ^ SplitMix64.mix(epoch + 1)));
    for (int i = size - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** The next {@code count} example indices; advances the cursor (into the next epoch when needed). */
  public int[] next(int count) {
    Preconditions.checkArgument(count > 0, "count must be > 0, got %s", count);
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      out[i] = permutation[position++];
      if (position == size) {
        epoch++;
        position = 0;
        permutation = permutation(size, seed, epoch);
      }
    }
    return out;
  }

  public int size() {
    return size;
  }

  public long seed() {
    return seed;
  }

  /** The epoch the next example comes from (0-based). */
  public long epoch() {
    return epoch;
  }

  /** The next example's index within its epoch's permutation. */
  public int position() {
    return position;
  }
}
