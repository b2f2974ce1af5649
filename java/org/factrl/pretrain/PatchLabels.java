package org.factrl.pretrain;

import com.google.common.base.Preconditions;
import java.util.Arrays;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneCoverage;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;

/**
 * Dense targets for vision pretraining: for each patch of the image (row-major, the ViT's patch
 * order) the shape, colour and size class of the object that owns the patch, and the image's
 * environment class.
 *
 * <p>Ownership: the pixel owners come from {@link SceneCoverage} (the renderer's own geometry, so the
 * labels match the pixels exactly). A patch belongs to the object with the MOST VISIBLE PIXELS in it
 * (ties: the object drawn later, which is on top), provided that count is at least
 * {@code ceil(patchPixels / 16)} (4 of a 8x8 patch); otherwise the patch is "none" (backdrop). The
 * threshold keeps a patch that only a sliver of outline reaches from being labelled as the object,
 * while a small star (about 26 pixels at 64 px) still labels the patches it mostly sits in.
 * Class 0 of each per-patch head is "none"; class {@code 1 + ordinal} is the enum constant.
 */
public final class PatchLabels {
  /** Class counts of the heads: none + the enum constants. */
  public static final int SHAPE_CLASSES = ShapeKind.values().length + 1;
  public static final int COLOUR_CLASSES = Colour.values().length + 1;
  public static final int SIZE_CLASSES = Size.values().length + 1;
  public static final int ENVIRONMENT_CLASSES = Environment.values().length;
  /** The class of a patch no object owns. */
  public static final int NONE = 0;

  private final int[] shape;
  private final int[] colour;
  private final int[] size;
  private final int environment;

  private PatchLabels(int[] shape, int[] colour, int[] size, int environment) {
    this.shape = shape;
    this.colour = colour;
    this.size = size;
    this.environment = environment;
  }

  /** Labels of {@code scene} rendered at {@code imageSize} pixels a side, in patches of {@code patchSize}. */
  public static PatchLabels of(Scene scene, int imageSize, int patchSize) {
    Preconditions.checkNotNull(scene, "scene");
    Preconditions.checkArgument(patchSize > 0 && imageSize > 0 && imageSize % patchSize == 0,
        "imageSize (%s) must be a positive multiple of patchSize (%s)", imageSize, patchSize);
    int[] owner = SceneCoverage.owners(scene, imageSize, imageSize);
    int side = imageSize / patchSize;
    int patches = side * side;
    int n = scene.objects().size();
    int minPixels = (patchSize * patchSize + 15) / 16;
    int[] shape = new int[patches];
    int[] colour = new int[patches];
    int[] size = new int[patches];
    int[] count = new int[n];
    for (int p = 0; p < patches; p++) {
      Arrays.fill(count, 0);
      int y0 = (p / side) * patchSize;
      int x0 = (p % side) * patchSize;
      for (int y = y0; y < y0 + patchSize; y++) {
        for (int x = x0; x < x0 + patchSize; x++) {
          int o = owner[y * imageSize + x];
          if (o >= 0) {
            count[o]++;
          }
        }
      }
      int best = -1;
      for (int o = 0; o < n; o++) {
        if (count[o] >= minPixels && (best < 0 || count[o] >= count[best])) {
          best = o;
        }
      }
      if (best >= 0) {
        SceneObject o = scene.objects().get(best);
        shape[p] = 1 + o.shape().ordinal();
        colour[p] = 1 + o.colour().ordinal();
        size[p] = 1 + o.size().ordinal();
      }
    }
    return new PatchLabels(shape, colour, size, scene.environment().ordinal());
  }

  public int patches() {
    return shape.length;
  }

  /** Shape class of patch {@code p}: {@link #NONE} or 1 + {@link ShapeKind#ordinal()}. */
  public int shape(int p) {
    return shape[p];
  }

  /** Colour class of patch {@code p}: {@link #NONE} or 1 + {@link Colour#ordinal()}. */
  public int colour(int p) {
    return colour[p];
  }

  /** Size class of patch {@code p}: {@link #NONE} or 1 + {@link Size#ordinal()}. */
  public int size(int p) {
    return size[p];
  }

  /** The environment class: {@link Environment#ordinal()}. */
  public int environment() {
    return environment;
  }

  /** Copies of the per-patch classes. */
  public int[] shapes() {
    return shape.clone();
  }

  public int[] colours() {
    return colour.clone();
  }

  public int[] sizes() {
    return size.clone();
  }

  /**
   * The (shape, colour) pairs present in the scene as a bit set over
   * {@code shape.ordinal() * colours + colour.ordinal()} — the truth for object-presence accuracy
   * (every object, visible patch or not).
   */
  public static long presence(Scene scene) {
    long bits = 0;
    for (SceneObject o : scene.objects()) {
      bits |= 1L << pairIndex(o.shape().ordinal(), o.colour().ordinal());
    }
    return bits;
  }

  /** The bit of a (shape, colour) pair in {@link #presence}. */
  public static int pairIndex(int shapeOrdinal, int colourOrdinal) {
    return shapeOrdinal * Colour.values().length + colourOrdinal;
  }
}
