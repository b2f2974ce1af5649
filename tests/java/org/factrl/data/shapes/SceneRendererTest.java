package org.factrl.data.shapes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SceneRendererTest {
  @Test
  void renderingIsDeterministicAndSeedDependent() {
    Scene s = SceneGenerator.withSeed(4).scene(11);
    byte[] a = SceneRenderer.render(s, 64);
    assertEquals(64 * 64 * 3, a.length);
    assertArrayEquals(a, SceneRenderer.render(SceneGenerator.withSeed(4).scene(11), 64));
    assertFalse(Arrays.equals(a, SceneRenderer.render(SceneGenerator.withSeed(5).scene(11), 64)));
    assertEquals(40 * 24 * 3, SceneRenderer.render(s, 40, 24).length);
  }

  @Test
  void everyObjectCentreHasItsColour() {
    int checked = 0;
    for (int size : new int[] {32, 64, 160}) {
      for (Scene s : SceneGenerator.withSeed(6).scenes(0, 300)) {
        byte[] rgb = SceneRenderer.render(s, size);
        for (SceneObject o : s.objects()) {
          int px = Math.min(size - 1, (int) Math.floor(o.x() * size));
          int py = Math.min(size - 1, (int) Math.floor(o.y() * size));
          assertEquals(hex(o.colour()), hex(rgb, size, px, py), s.id() + " object " + o.id() + " at " + size + " px");
          checked++;
        }
      }
    }
    assertTrue(checked > 3000);
  }

  @Test
  void shapesHaveADarkOutline() {
    SceneObject circle = new SceneObject(0, ShapeKind.CIRCLE, Colour.YELLOW, Size.LARGE, 0.5, 0.5);
    for (Environment e : Environment.values()) {
      byte[] rgb = SceneRenderer.render(new Scene("o", "o.png", e, List.of(circle)), 64);
      // Walk right from the centre: fill, then outline, then backdrop.
      int x = 32;
      while (hex(rgb, 64, x, 32) == hex(Colour.YELLOW)) {
        x++;
      }
      assertEquals(0x181818, hex(rgb, 64, x, 32), e + ": first pixel past the fill is the outline");
      assertTrue(x > 32 + 4 && x < 32 + 9, "fill radius " + (x - 32));
    }
  }

  @Test
  void environmentsHaveDistinctBackdrops() {
    List<int[]> means = new java.util.ArrayList<>();
    SceneObject corner = new SceneObject(0, ShapeKind.SQUARE, Colour.RED, Size.SMALL, 0.9, 0.9);
    for (Environment e : Environment.values()) {
      byte[] rgb = SceneRenderer.render(new Scene("b", "b.png", e, ImmutableList.of(corner)), 64);
      long[] sum = new long[3];
      for (int y = 0; y < 40; y++) {
        for (int x = 0; x < 40; x++) {
          for (int c = 0; c < 3; c++) {
            sum[c] += rgb[(y * 64 + x) * 3 + c] & 0xFF;
          }
        }
      }
      means.add(new int[] {(int) (sum[0] / 1600), (int) (sum[1] / 1600), (int) (sum[2] / 1600)});
    }
    for (int i = 0; i < means.size(); i++) {
      for (int j = i + 1; j < means.size(); j++) {
        int[] a = means.get(i);
        int[] b = means.get(j);
        double d = Math.sqrt(Math.pow(a[0] - b[0], 2) + Math.pow(a[1] - b[1], 2) + Math.pow(a[2] - b[2], 2));
        assertTrue(d > 40, Environment.values()[i] + " vs " + Environment.values()[j] + ": mean colours "
            + Arrays.toString(a) + " and " + Arrays.toString(b));
      }
    }
  }

  @Test
  void texturesAreNotFlat() {
    SceneObject corner = new SceneObject(0, ShapeKind.SQUARE, Colour.RED, Size.SMALL, 0.9, 0.9);
    for (Environment e : Environment.values()) {
      byte[] rgb = SceneRenderer.render(new Scene("t", "t.png", e, ImmutableList.of(corner)), 64);
      long distinct = java.util.stream.IntStream.range(0, 40 * 64).map(i -> hex(rgb, 64, i % 64, i / 64)).distinct().count();
      assertTrue(distinct >= 2, e + " backdrop is a flat colour");
    }
  }

  @Test
  void everyShapeContainsItsCentreAndNotFarPoints() {
    for (ShapeKind k : ShapeKind.values()) {
      assertTrue(SceneRenderer.inside(k, 0, 0, 1), k.toString());
      assertFalse(SceneRenderer.inside(k, 1.3, 1.3, 1), k.toString());
    }
  }

  static int hex(Colour c) {
    return (c.red() << 16) | (c.green() << 8) | c.blue();
  }

  static int hex(byte[] rgb, int width, int x, int y) {
    int i = (y * width + x) * 3;
    return ((rgb[i] & 0xFF) << 16) | ((rgb[i + 1] & 0xFF) << 8) | (rgb[i + 2] & 0xFF);
  }
}
