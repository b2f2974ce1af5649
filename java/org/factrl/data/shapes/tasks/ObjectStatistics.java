package org.factrl.data.shapes.tasks;

import com.google.common.base.Preconditions;
import java.util.Arrays;
import org.factrl.data.shapes.ObjectKind;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;

/**
 * Image-level statistics of object kinds over a data set, the input of POPE's popular and
 * adversarial sampling: how many scenes hold each kind, and how many hold each pair of kinds
 * together. Immutable; build it with {@link #of(Iterable)} or a {@link Builder} fed scene by scene.
 */
public final class ObjectStatistics {
  private static final int K = ObjectKind.COUNT;
  private static final ObjectStatistics EMPTY = new Builder().build();

  private final int scenes;
  private final int[] frequency;
  private final int[] cooccurrence;

  private ObjectStatistics(int scenes, int[] frequency, int[] cooccurrence) {
    this.scenes = scenes;
    this.frequency = frequency;
    this.cooccurrence = cooccurrence;
  }

  /** No scenes: every frequency zero (popular sampling then falls back to canonical order). */
  public static ObjectStatistics empty() {
    return EMPTY;
  }

  public static ObjectStatistics of(Iterable<Scene> scenes) {
    Builder b = builder();
    for (Scene s : scenes) {
      b.add(s);
    }
    return b.build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Number of scenes counted. */
  public int scenes() {
    return scenes;
  }

  /** Number of scenes holding at least one object of {@code kind}. */
  public int frequency(ObjectKind kind) {
    return frequency[kind.index()];
  }

  /** Number of scenes holding both kinds ({@code frequency(a)} when {@code a == b}). */
  public int cooccurrence(ObjectKind a, ObjectKind b) {
    return cooccurrence[a.index() * K + b.index()];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObjectStatistics s && s.scenes == scenes && Arrays.equals(s.frequency, frequency)
        && Arrays.equals(s.cooccurrence, cooccurrence);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(frequency) + Arrays.hashCode(cooccurrence);
  }

  /** Accumulates scenes; not thread-safe. */
  public static final class Builder {
    private int scenes;
    private final int[] frequency = new int[K];
    private final int[] cooccurrence = new int[K * K];

    private Builder() {}

    public Builder add(Scene scene) {
      boolean[] present = new boolean[K];
      for (SceneObject o : scene.objects()) {
        present[ObjectKind.of(o).index()] = true;
      }
      for (int a = 0; a < K; a++) {
        if (!present[a]) {
          continue;
        }
        frequency[a]++;
        for (int b = 0; b < K; b++) {
          if (present[b]) {
            cooccurrence[a * K + b]++;
          }
        }
      }
      scenes++;
      return this;
    }

    public Builder addAll(ObjectStatistics other) {
      Preconditions.checkNotNull(other, "other");
      scenes += other.scenes;
      for (int i = 0; i < K; i++) {
        frequency[i] += other.frequency[i];
      }
      for (int i = 0; i < K * K; i++) {
        cooccurrence[i] += other.cooccurrence[i];
      }
      return this;
    }

    public ObjectStatistics build() {
      return new ObjectStatistics(scenes, frequency.clone(), cooccurrence.clone());
    }
  }
}
