package org.factrl.data.shapes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The owner map agrees with the renderer's pixels on every pixel of generated scenes at three sizes:
 * an owned pixel shows its owner's colour or the outline, a backdrop pixel shows neither the outline
 * nor any object's colour.
 */
class SceneCoverageTest {
  private static final int OUTLINE = 0x181818;

  @Test
  void ownersMatchTheRenderedPixels() {
    long owned = 0;
    for (int size : new int[] {16, 64, 97}) {
      for (Scene s : SceneGenerator.withSeed(3).scenes(0, 120)) {
        byte[] rgb = SceneRenderer.render(s, size);
        int[] owner = SceneCoverage.owners(s, size, size);
        for (int i = 0; i < owner.length; i++) {
          int pixel = rgb(rgb, i);
          if (owner[i] == SceneCoverage.BACKDROP) {
            // No backdrop texture uses the outline or an object colour: a backdrop pixel shows neither.
            assertTrue(pixel != OUTLINE, s.id() + " pixel " + i + " at " + size + " px: outline on a backdrop pixel");
            for (SceneObject o : s.objects()) {
              assertTrue(pixel != fill(o.colour()), s.id() + " pixel " + i + " at " + size + " px: " + o.colour()
                  + " on a backdrop pixel");
            }
          } else {
            Colour c = s.objects().get(owner[i]).colour();
            assertTrue(pixel == fill(c) || pixel == OUTLINE,
                s.id() + " pixel " + i + " at " + size + " px: owner " + owner[i] + " colour " + c + " but pixel "
                    + Integer.toHexString(pixel));
            owned++;
          }
        }
      }
    }
    assertTrue(owned > 10_000, "owned pixels: " + owned);
  }

  @Test
  void laterObjectsOwnTheOverlap() {
    SceneObject a = new SceneObject(0, ShapeKind.SQUARE, Colour.RED, Size.LARGE, 0.5, 0.5);
    SceneObject b = new SceneObject(1, ShapeKind.CIRCLE, Colour.BLUE, Size.LARGE, 0.5, 0.5);
    int[] owner = SceneCoverage.owners(new Scene("s", "s.png", Environment.FIELD, List.of(a, b)), 64, 64);
    assertEquals(1, owner[32 * 64 + 32]);
    assertEquals(SceneCoverage.BACKDROP, owner[0]);
  }

  private static int fill(Colour c) {
    return (c.red() << 16) | (c.green() << 8) | c.blue();
  }

  private static int rgb(byte[] rgb, int pixel) {
    return ((rgb[3 * pixel] & 0xFF) << 16) | ((rgb[3 * pixel + 1] & 0xFF) << 8) | (rgb[3 * pixel + 2] & 0xFF);
  }
}
