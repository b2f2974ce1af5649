package org.factrl.data.shapes;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * The ground truth of one image: its environment and objects. This is all the judge reads, so any
 * image annotated in this form can be judged, generated or not. {@code image} is the image file
 * name relative to the data set's image folder.
 */
public record Scene(String id, String image, Environment environment, ImmutableList<SceneObject> objects) {
  /** Scenes hold 1 to 8 objects. */
  public static final int MAX_OBJECTS = 8;

  public Scene {
    Preconditions.checkNotNull(id, "id");
    Preconditions.checkNotNull(image, "image");
    Preconditions.checkNotNull(environment, "environment");
    Preconditions.checkNotNull(objects, "objects");
    Preconditions.checkArgument(!objects.isEmpty() && objects.size() <= MAX_OBJECTS,
        "scene %s: %s objects, expected 1..%s", id, objects.size(), MAX_OBJECTS);
  }

  public Scene(String id, String image, Environment environment, List<SceneObject> objects) {
    this(id, image, environment, ImmutableList.copyOf(objects));
  }

  /** Number of objects matching each non-null attribute. */
  public int count(ShapeKind shape, Colour colour, Size size) {
    int n = 0;
    for (SceneObject o : objects) {
      if ((shape == null || o.shape() == shape) && (colour == null || o.colour() == colour)
          && (size == null || o.size() == size)) {
        n++;
      }
    }
    return n;
  }
}
