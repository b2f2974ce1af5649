package org.factrl.data.shapes;

import com.google.common.base.Preconditions;

/**
 * Which object each pixel of a rendered scene shows: the geometry of {@link SceneRenderer} (same
 * centre, half-extent, bounding box, pixel-centre test and {@link SceneRenderer#inside} shape test,
 * later objects over earlier), without the colours. A pixel belongs to an object when the renderer
 * painted it for that object, fill or outline (the renderer's outer shape test). Vision pretraining reads per-patch labels from this map, so the labels match the
 * pixels exactly (SceneCoverageTest renders both and compares).
 */
public final class SceneCoverage {
  /** The owner of a backdrop pixel. */
  public static final int BACKDROP = -1;

  private SceneCoverage() {}

  /**
   * Owners of a {@code width x height} rendering, row-major, top row first: the index into
   * {@code scene.objects()} of the object drawn last at each pixel, or {@link #BACKDROP}.
   */
  public static int[] owners(Scene scene, int width, int height) {
    Preconditions.checkNotNull(scene, "scene");
    Preconditions.checkArgument(width > 0 && height > 0 && (long) width * height <= (1 << 26),
        "bad image size %sx%s", width, height);
    int[] owner = new int[width * height];
    java.util.Arrays.fill(owner, BACKDROP);
    int side = Math.min(width, height);
    for (int k = 0; k < scene.objects().size(); k++) {
      SceneObject o = scene.objects().get(k);
      // As SceneRenderer.drawShape: only the outer test decides which pixels the object paints.
      double r = o.size().radius() * side;
      double cx = o.x() * width;
      double cy = o.y() * height;
      int x0 = Math.max(0, (int) Math.floor(cx - r - 1));
      int x1 = Math.min(width - 1, (int) Math.ceil(cx + r + 1));
      int y0 = Math.max(0, (int) Math.floor(cy - r - 1));
      int y1 = Math.min(height - 1, (int) Math.ceil(cy + r + 1));
      for (int py = y0; py <= y1; py++) {
        double dy = py + 0.5 - cy;
        for (int px = x0; px <= x1; px++) {
          if (SceneRenderer.inside(o.shape(), px + 0.5 - cx, dy, r)) {
            owner[py * width + px] = k;
          }
        }
      }
    }
    return owner;
  }
}
