package org.factrl.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;
import org.junit.jupiter.api.Test;

/** Per-patch labels of hand-made scenes at 64 px in 8-px patches (the tiny preset's geometry). */
class PatchLabelsTest {
  private static Scene scene(Environment e, SceneObject... objects) {
    return new Scene("t", "t.png", e, List.of(objects));
  }

  @Test
  void aCentredLargeSquareOwnsExactlyTheFourCentrePatches() {
    // Half-extent 0.13 * 64 = 8.32 px, square half-side 0.85 r = 7.07: pixel centres 25.5 .. 38.5,
    // i.e. pixels 25..38 — 7 columns / rows in patch 3 and 7 in patch 4 (49 pixels each).
    PatchLabels l = PatchLabels.of(scene(Environment.SNOW,
        new SceneObject(0, ShapeKind.SQUARE, Colour.PURPLE, Size.LARGE, 0.5, 0.5)), 64, 8);
    assertEquals(64, l.patches());
    for (int p = 0; p < 64; p++) {
      boolean centre = p == 27 || p == 28 || p == 35 || p == 36;
      assertEquals(centre ? 1 + ShapeKind.SQUARE.ordinal() : PatchLabels.NONE, l.shape(p), "shape of patch " + p);
      assertEquals(centre ? 1 + Colour.PURPLE.ordinal() : PatchLabels.NONE, l.colour(p), "colour of patch " + p);
      assertEquals(centre ? 1 + Size.LARGE.ordinal() : PatchLabels.NONE, l.size(p), "size of patch " + p);
    }
    assertEquals(Environment.SNOW.ordinal(), l.environment());
  }

  @Test
  void aPatchGoesToTheObjectWithMostVisiblePixels() {
    // A small red circle centred at (12, 12): r = 4.48 px, pixels 8..15 both ways (corners out):
    // all of it inside patch (1, 1) = 9.
    SceneObject circle = new SceneObject(0, ShapeKind.CIRCLE, Colour.RED, Size.SMALL, 12 / 64.0, 12 / 64.0);
    PatchLabels alone = PatchLabels.of(scene(Environment.FIELD, circle), 64, 8);
    assertEquals(1 + ShapeKind.CIRCLE.ordinal(), alone.shape(9));
    assertEquals(1 + Colour.RED.ordinal(), alone.colour(9));
    assertEquals(1 + Size.SMALL.ordinal(), alone.size(9));
    // Only patch 9 holds the circle (its disc spans pixels 8..15 in x and y).
    for (int p = 0; p < 64; p++) {
      if (p != 9) {
        assertEquals(PatchLabels.NONE, alone.shape(p), "patch " + p);
      }
    }
    // A large yellow square drawn later over the same centre hides the circle: the square owns it.
    SceneObject cover = new SceneObject(1, ShapeKind.SQUARE, Colour.YELLOW, Size.LARGE, 12 / 64.0, 12 / 64.0);
    PatchLabels covered = PatchLabels.of(scene(Environment.FIELD, circle, cover), 64, 8);
    assertEquals(1 + ShapeKind.SQUARE.ordinal(), covered.shape(9));
    assertEquals(1 + Colour.YELLOW.ordinal(), covered.colour(9));
    // Most pixels, not topmost: a large square centred in patch 9 (pixels 5..18 both ways), then a
    // small circle ON TOP centred at the corner (16, 16) (pixels 12..19, corners out): patch 9 shows
    // 15 circle pixels and 49 square pixels — the square's; patch 18 (16..23) shows 15 circle pixels
    // and 9 - 9 = 0 square pixels — the circle's.
    SceneObject square = new SceneObject(0, ShapeKind.SQUARE, Colour.GREEN, Size.LARGE, 12 / 64.0, 12 / 64.0);
    SceneObject dot = new SceneObject(1, ShapeKind.CIRCLE, Colour.RED, Size.SMALL, 16 / 64.0, 16 / 64.0);
    PatchLabels mixed = PatchLabels.of(scene(Environment.FIELD, square, dot), 64, 8);
    assertEquals(1 + ShapeKind.SQUARE.ordinal(), mixed.shape(9));
    assertEquals(1 + ShapeKind.CIRCLE.ordinal(), mixed.shape(18));
    assertEquals(1 + Colour.RED.ordinal(), mixed.colour(18));
  }

  @Test
  void aSliverBelowTheThresholdIsNone() {
    // Large circle centred at (40, 20): r = 8.32, it reaches x = 31.68, so pixel column 31 (centre
    // 31.5) is outside and pixel 32 is the first: patch column 3 (pixels 24..31) gets nothing, and
    // patch (2, 4) = 20 is covered.
    SceneObject o = new SceneObject(0, ShapeKind.CIRCLE, Colour.BLUE, Size.LARGE, 40 / 64.0, 20 / 64.0);
    PatchLabels l = PatchLabels.of(scene(Environment.NIGHT, o), 64, 8);
    assertEquals(PatchLabels.NONE, l.shape(2 * 8 + 3));
    assertEquals(1 + ShapeKind.CIRCLE.ordinal(), l.shape(2 * 8 + 5));
    // Threshold 4 px (64 / 16): a sliver of fewer pixels leaves the patch "none".
    SceneObject edge = new SceneObject(0, ShapeKind.CIRCLE, Colour.BLUE, Size.LARGE, 39.9 / 64.0, 20 / 64.0);
    PatchLabels e = PatchLabels.of(scene(Environment.NIGHT, edge), 64, 8);
    // left edge 39.9 - 8.32 = 31.58: pixel 31's centre 31.5 is outside: still none.
    assertEquals(PatchLabels.NONE, e.shape(2 * 8 + 3));
    SceneObject over = new SceneObject(0, ShapeKind.CIRCLE, Colour.BLUE, Size.LARGE, 39.7 / 64.0, 20 / 64.0);
    // left edge 31.38: pixel 31 (centre 31.5) is inside for rows near the centre line: |dy| <=
    // sqrt(8.32² - 8.2²) = 1.41 → rows 19 and 20 (centres 19.5, 20.5): 2 pixels < 4 → none.
    assertEquals(PatchLabels.NONE, PatchLabels.of(scene(Environment.NIGHT, over), 64, 8).shape(2 * 8 + 3));
  }

  @Test
  void presenceBitsAreTheScenePairs() {
    Scene s = scene(Environment.BEACH,
        new SceneObject(0, ShapeKind.STAR, Colour.ORANGE, Size.SMALL, 0.2, 0.2),
        new SceneObject(1, ShapeKind.STAR, Colour.ORANGE, Size.LARGE, 0.7, 0.7),
        new SceneObject(2, ShapeKind.CROSS, Colour.GREEN, Size.SMALL, 0.2, 0.8));
    long bits = PatchLabels.presence(s);
    assertEquals(2, Long.bitCount(bits));
    assertEquals(1L, (bits >>> PatchLabels.pairIndex(ShapeKind.STAR.ordinal(), Colour.ORANGE.ordinal())) & 1);
    assertEquals(1L, (bits >>> PatchLabels.pairIndex(ShapeKind.CROSS.ordinal(), Colour.GREEN.ordinal())) & 1);
  }

  @Test
  void badGeometryIsRefused() {
    Scene s = scene(Environment.ROOM, new SceneObject(0, ShapeKind.STAR, Colour.RED, Size.SMALL, 0.5, 0.5));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PatchLabels.of(s, 64, 7));
    assertEquals("imageSize (64) must be a positive multiple of patchSize (7)", e.getMessage());
  }
}
