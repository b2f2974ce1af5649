package org.factrl.train;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * One conversation ready for batching: token ids with the {@code <image>} placeholder already
 * expanded to the model's P image tokens, a loss mask over the same positions (1 on assistant
 * tokens, 0 on the system line, user turns and image tokens), and the image file, if any.
 * Immutable: arrays are copied in and out.
 */
public final class TrainingExample {
  private final String id;
  private final int[] ids;
  private final int[] lossMask;
  private final Optional<Path> image;

  public TrainingExample(String id, int[] ids, int[] lossMask, Optional<Path> image) {
    Preconditions.checkNotNull(id, "id");
    Preconditions.checkNotNull(image, "image");
    Preconditions.checkArgument(ids.length > 0, "%s: no tokens", id);
    Preconditions.checkArgument(ids.length == lossMask.length, "%s: %s ids but %s mask entries", id, ids.length,
        lossMask.length);
    for (int m : lossMask) {
      Preconditions.checkArgument(m == 0 || m == 1, "%s: loss mask entries must be 0 or 1, got %s", id, m);
    }
    this.id = id;
    this.ids = ids.clone();
    this.lossMask = lossMask.clone();
    this.image = image;
  }

  public String id() {
    return id;
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

  public Optional<Path> image() {
    return image;
  }

  /** Tokens with mask 1 (the assistant tokens this example trains on). */
  public int targetCount() {
    int n = 0;
    for (int m : lossMask) {
      n += m;
    }
    return n;
  }

  int idAt(int i) {
    return ids[i];
  }

  int maskAt(int i) {
    return lossMask[i];
  }

  @Override
  public String toString() {
    return "TrainingExample{" + id + ", " + ids.length + " tokens, " + targetCount() + " targets"
        + image.map(p -> ", image " + p).orElse("") + ", ids=" + Arrays.toString(ids) + "}";
  }
}
