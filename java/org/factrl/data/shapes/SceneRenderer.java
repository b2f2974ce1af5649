package org.factrl.data.shapes;

import com.google.common.base.Preconditions;

/**
 * Renders a {@link Scene} to packed RGB bytes ({@code height * width * 3}, row-major, top row first),
 * deterministically: the same scene and size give the same bytes on any machine (integer colours,
 * textures from pixel coordinates, no randomness).
 *
 * <p>Backdrops, one per environment, each a colour plus a simple texture scaled with the image:
 * FIELD green grass stripes; BEACH sand with darker dots; SNOW white with pale blue drifts and flakes;
 * NIGHT a dark blue gradient; ROOM wooden planks with seams. Shapes are filled in their colour with a
 * thin dark outline (about 1.25 px at 64 px, scaling with the image) so they stay visible on every
 * backdrop; later objects are drawn over earlier ones. A shape's half-extent is
 * {@code size.radius() * min(width, height)} pixels and its centre is {@code (x * width, y * height)}.
 * Pixel (px, py) is tested at its centre; the pixel nearest to an object's centre is always inside
 * the fill, never on the outline.
 */
public final class SceneRenderer {
  private static final int OUTLINE = 0x18;

  private SceneRenderer() {}

  /** A square image of {@code size} pixels a side. */
  public static byte[] render(Scene scene, int size) {
    return render(scene, size, size);
  }

  public static byte[] render(Scene scene, int width, int height) {
    Preconditions.checkArgument(width > 0 && height > 0 && (long) width * height <= (1 << 26),
        "bad image size %sx%s", width, height);
    byte[] rgb = new byte[width * height * 3];
    drawBackdrop(scene.environment(), rgb, width, height);
    int side = Math.min(width, height);
    double outline = Math.max(1.25, side * 0.02);
    for (SceneObject o : scene.objects()) {
      drawShape(o, rgb, width, height, side, outline);
    }
    return rgb;
  }

  private static void drawBackdrop(Environment e, byte[] rgb, int w, int h) {
    int side = Math.min(w, h);
    for (int py = 0; py < h; py++) {
      for (int px = 0; px < w; px++) {
        int c = backdrop(e, px, py, side, h);
        int i = (py * w + px) * 3;
        rgb[i] = (byte) (c >>> 16);
        rgb[i + 1] = (byte) (c >>> 8);
        rgb[i + 2] = (byte) c;
      }
    }
  }

  /** Backdrop colour 0xRRGGBB of one pixel. */
  private static int backdrop(Environment e, int px, int py, int side, int h) {
    double u = (px + 0.5) / side;
    double v = (py + 0.5) / side;
    return switch (e) {
      // Slanted stripes of two greens, eight per image side.
      case FIELD -> ((int) Math.floor((u + 0.35 * v) * 8) & 1) == 0 ? 0x4C9A3A : 0x3E8530;
      // Sand with a sparse, hashed pattern of darker grains.
      case BEACH -> hash(px / cell(side), py / cell(side)) % 7 == 0 ? 0xC9A86A : 0xE8D09A;
      // Snow: white with pale blue drifts (gentle waves) and a few brighter flakes.
      case SNOW -> {
        if (hash(px / cell(side) + 7, py / cell(side) + 13) % 11 == 0) {
          yield 0xFFFFFF;
        }
        double drift = Math.sin(u * 9.0 + 3.0 * Math.sin(v * 5.0));
        yield drift > 0.55 ? 0xCFE0F0 : 0xEEF3F8;
      }
      // Night: dark blue, darker towards the top.
      case NIGHT -> {
        int k = (int) Math.round(18.0 * (py + 0.5) / h);
        yield ((10 + k / 2) << 16) | ((14 + k / 2) << 8) | (40 + k);
      }
      // Wooden planks: horizontal boards with dark seams and offset butt joints.
      case ROOM -> {
        int plank = (int) Math.floor(v * 6);
        double within = v * 6 - plank;
        double joint = (u + (plank % 2) * 0.5) * 2;
        boolean seam = within < 0.08 || Math.abs(joint - Math.rint(joint)) < 0.015;
        if (seam) {
          yield 0x5A3A1E;
        }
        yield (plank % 2 == 0) ? 0xA8713F : 0x9A6535;
      }
    };
  }

  /** Texture cell in pixels: one at 64 px, growing with the image so textures scale. */
  private static int cell(int side) {
    return Math.max(1, side / 64);
  }

  private static int hash(int a, int b) {
    int h = a * 0x45D9F3B ^ b * 0x119DE1F3;
    h ^= h >>> 16;
    h *= 0x45D9F3B;
    h ^= h >>> 16;
    return h & 0x7FFFFFFF;
  }

  private static void drawShape(SceneObject o, byte[] rgb, int w, int h, int side, double outlinePx) {
    double r = o.size().radius() * side;
    double cx = o.x() * w;
    double cy = o.y() * h;
    double inner = Math.max(r - outlinePx, r * 0.35);
    int x0 = Math.max(0, (int) Math.floor(cx - r - 1));
    int x1 = Math.min(w - 1, (int) Math.ceil(cx + r + 1));
    int y0 = Math.max(0, (int) Math.floor(cy - r - 1));
    int y1 = Math.min(h - 1, (int) Math.ceil(cy + r + 1));
    // The pixel holding the centre is always filled (keeps tiny shapes' centres in their colour).
    int centreX = Math.min(w - 1, (int) Math.floor(cx));
    int centreY = Math.min(h - 1, (int) Math.floor(cy));
    Colour c = o.colour();
    for (int py = y0; py <= y1; py++) {
      double dy = py + 0.5 - cy;
      for (int px = x0; px <= x1; px++) {
        double dx = px + 0.5 - cx;
        if (!inside(o.shape(), dx, dy, r)) {
          continue;
        }
        boolean fill = inside(o.shape(), dx, dy, inner) || (px == centreX && py == centreY);
        int i = (py * w + px) * 3;
        if (fill) {
          rgb[i] = (byte) c.red();
          rgb[i + 1] = (byte) c.green();
          rgb[i + 2] = (byte) c.blue();
        } else {
          rgb[i] = (byte) OUTLINE;
          rgb[i + 1] = (byte) OUTLINE;
          rgb[i + 2] = (byte) OUTLINE;
        }
      }
    }
  }

  private static final double[] STAR_X = new double[10];
  private static final double[] STAR_Y = new double[10];

  static {
    for (int k = 0; k < 10; k++) {
      double a = -Math.PI / 2 + k * Math.PI / 5;
      double rad = k % 2 == 0 ? 1.0 : 0.45;
      STAR_X[k] = rad * Math.cos(a);
      STAR_Y[k] = rad * Math.sin(a);
    }
  }

  /** Whether offset (dx, dy) from the centre is inside the shape of half-extent r (y down). */
  static boolean inside(ShapeKind shape, double dx, double dy, double r) {
    double ax = Math.abs(dx);
    double ay = Math.abs(dy);
    return switch (shape) {
      case CIRCLE -> dx * dx + dy * dy <= r * r;
      case SQUARE -> ax <= 0.85 * r && ay <= 0.85 * r;
      case DIAMOND -> ax + ay <= r;
      case CROSS -> (ax <= 0.34 * r && ay <= r) || (ay <= 0.34 * r && ax <= r);
      // Apex up at -r, base at +0.8r, half-width r at the base.
      case TRIANGLE -> dy >= -r && dy <= 0.8 * r && ax <= (dy + r) / 1.8;
      case STAR -> insidePolygon(STAR_X, STAR_Y, dx / r, dy / r);
    };
  }

  private static boolean insidePolygon(double[] xs, double[] ys, double x, double y) {
    boolean in = false;
    for (int i = 0, j = xs.length - 1; i < xs.length; j = i++) {
      if ((ys[i] > y) != (ys[j] > y) && x < (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i]) {
        in = !in;
      }
    }
    return in;
  }
}
