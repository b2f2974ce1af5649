package org.factrl.data.judge;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;

/** Scenes built straight from the model classes (the generator lives elsewhere). */
final class TestScenes {
  private TestScenes() {}

  static SceneObject obj(int id, ShapeKind s, Colour c, Size z, double x, double y) {
    return new SceneObject(id, s, c, z, x, y);
  }

  /**
   * A beach with: large red circle (0.2, 0.3), small red circle (0.7, 0.3), small blue square
   * (0.5, 0.8), large yellow star (0.8, 0.7). So: the large circle is left of the small one; both
   * circles are above the square and the star; the square is left of and below the star.
   */
  static Scene beach() {
    return new Scene("beach", "beach.png", Environment.BEACH, List.of(
        obj(0, ShapeKind.CIRCLE, Colour.RED, Size.LARGE, 0.2, 0.3),
        obj(1, ShapeKind.CIRCLE, Colour.RED, Size.SMALL, 0.7, 0.3),
        obj(2, ShapeKind.SQUARE, Colour.BLUE, Size.SMALL, 0.5, 0.8),
        obj(3, ShapeKind.STAR, Colour.YELLOW, Size.LARGE, 0.8, 0.7)));
  }

  /** A random scene of 1–8 objects, reproducible from {@code rng}. */
  static Scene random(SplittableRandom rng, String id) {
    int n = 1 + rng.nextInt(Scene.MAX_OBJECTS);
    List<SceneObject> objs = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      objs.add(obj(k, ShapeKind.values()[rng.nextInt(ShapeKind.values().length)],
          Colour.values()[rng.nextInt(Colour.values().length)],
          Size.values()[rng.nextInt(Size.values().length)], 0.1 + 0.8 * rng.nextDouble(),
          0.1 + 0.8 * rng.nextDouble()));
    }
    return new Scene(id, id + ".png",
        Environment.values()[rng.nextInt(Environment.values().length)], objs);
  }
}
