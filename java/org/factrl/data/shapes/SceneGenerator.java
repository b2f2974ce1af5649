package org.factrl.data.shapes;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import com.google.common.collect.Sets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Generates shapes-world scenes, deterministically: scene {@code i} of seed {@code S} depends only on
 * {@code (S, i)} (each scene draws from its own stream, {@link Seeds#stream(long, long)}), so a data
 * set can be generated in any order, in parallel, or in part.
 *
 * <p>A scene holds {@code minObjects..maxObjects} objects (uniform). Each new object repeats the
 * colour and shape of an earlier one with probability {@link Builder#repeatProbability} (sizes drawn
 * afresh), so counting questions often have answers above one. Positions keep the whole object inside
 * the image ({@code r <= x, y <= 1 - r} for half-extent {@code r}) and are rounded to 1/1000 so the
 * JSON annotation is short and exact. Objects avoid heavy overlap by rejection sampling: centres at
 * least {@link #MIN_SEPARATION} times the sum of the two half-extents apart; after {@link #TRIES}
 * failed tries a large object is retried as small, and an object that still does not fit is dropped
 * (a scene keeps at least one object: the first always fits).
 */
public final class SceneGenerator {
  /** Minimum centre distance as a fraction of the two objects' summed half-extents. */
  public static final double MIN_SEPARATION = 0.85;
  /** Placement tries per object and size before giving up. */
  public static final int TRIES = 60;
  /** Default image side in pixels: what the tiny model sees. */
  public static final int DEFAULT_IMAGE_SIZE = 64;

  private final long seed;
  private final int minObjects;
  private final int maxObjects;
  private final int imageSize;
  private final ImmutableList<Environment> environments;
  private final double repeatProbability;
  private final String idPrefix;

  private SceneGenerator(Builder b) {
    this.seed = b.seed;
    this.minObjects = b.minObjects;
    this.maxObjects = b.maxObjects;
    this.imageSize = b.imageSize;
    this.environments = ImmutableList.copyOf(EnumSet.copyOf(b.environments));
    this.repeatProbability = b.repeatProbability;
    this.idPrefix = b.idPrefix;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A generator with every default and the given seed. */
  public static SceneGenerator withSeed(long seed) {
    return builder().seed(seed).build();
  }

  public long seed() {
    return seed;
  }

  public int minObjects() {
    return minObjects;
  }

  public int maxObjects() {
    return maxObjects;
  }

  /** The side in pixels images of these scenes are rendered at. */
  public int imageSize() {
    return imageSize;
  }

  /** Allowed environments, in enum order. */
  public ImmutableList<Environment> environments() {
    return environments;
  }

  /** "shapes-000042" for index 42. */
  public String sceneId(long index) {
    return String.format("%s-%06d", idPrefix, index);
  }

  /** Scenes {@code from .. from + count - 1}. */
  public ImmutableList<Scene> scenes(long from, int count) {
    Preconditions.checkArgument(from >= 0 && count >= 0, "bad range %s+%s", from, count);
    ImmutableList.Builder<Scene> out = ImmutableList.builderWithExpectedSize(count);
    for (int i = 0; i < count; i++) {
      out.add(scene(from + i));
    }
    return out.build();
  }

  /** Scene {@code index}, image file {@code <id>.png}. */
  public Scene scene(long index) {
    Preconditions.checkArgument(index >= 0, "scene index must be >= 0, got %s", index);
    SplittableRandom rng = Seeds.stream(seed, index);
    Environment environment = environments.get(rng.nextInt(environments.size()));
    int wanted = minObjects + rng.nextInt(maxObjects - minObjects + 1);
    List<SceneObject> objects = new ArrayList<>(wanted);
    for (int i = 0; i < wanted; i++) {
      ShapeKind shape;
      Colour colour;
      if (!objects.isEmpty() && rng.nextDouble() < repeatProbability) {
        SceneObject model = objects.get(rng.nextInt(objects.size()));
        shape = model.shape();
        colour = model.colour();
      } else {
        shape = ShapeKind.values()[rng.nextInt(ShapeKind.values().length)];
        colour = Colour.values()[rng.nextInt(Colour.values().length)];
      }
      Size size = Size.values()[rng.nextInt(Size.values().length)];
      SceneObject placed = place(rng, objects.size(), shape, colour, size, objects);
      if (placed == null && size == Size.LARGE) {
        placed = place(rng, objects.size(), shape, colour, Size.SMALL, objects);
      }
      if (placed != null) {
        objects.add(placed);
      }
    }
    String id = sceneId(index);
    return new Scene(id, id + ".png", environment, objects);
  }

  private static SceneObject place(SplittableRandom rng, int id, ShapeKind shape, Colour colour,
      Size size, List<SceneObject> others) {
    double r = size.radius();
    double lo = Math.ceil(r * 1000) / 1000;
    double hi = Math.floor((1 - r) * 1000) / 1000;
    for (int t = 0; t < TRIES; t++) {
      double x = round(lo + rng.nextDouble() * (hi - lo));
      double y = round(lo + rng.nextDouble() * (hi - lo));
      if (fits(x, y, r, others)) {
        return new SceneObject(id, shape, colour, size, x, y);
      }
    }
    return null;
  }

  private static boolean fits(double x, double y, double r, List<SceneObject> others) {
    for (SceneObject o : others) {
      double min = MIN_SEPARATION * (r + o.size().radius());
      double dx = x - o.x();
      double dy = y - o.y();
      if (dx * dx + dy * dy < min * min) {
        return false;
      }
    }
    return true;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** Options of a {@link SceneGenerator}; every setting has a default. */
  public static final class Builder {
    private long seed = 0;
    private int minObjects = 1;
    private int maxObjects = Scene.MAX_OBJECTS;
    private int imageSize = DEFAULT_IMAGE_SIZE;
    private Set<Environment> environments = EnumSet.allOf(Environment.class);
    private double repeatProbability = 0.3;
    private String idPrefix = "shapes";

    private Builder() {}

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Objects per scene, both bounds inclusive, within 1..{@link Scene#MAX_OBJECTS}. */
    public Builder objects(int min, int max) {
      Preconditions.checkArgument(1 <= min && min <= max && max <= Scene.MAX_OBJECTS,
          "objects per scene must satisfy 1 <= min <= max <= %s, got %s..%s", Scene.MAX_OBJECTS, min, max);
      this.minObjects = min;
      this.maxObjects = max;
      return this;
    }

    /** Image side in pixels (default 64). */
    public Builder imageSize(int pixels) {
      Preconditions.checkArgument(pixels >= 16 && pixels <= 4096, "image size must be in 16..4096, got %s", pixels);
      this.imageSize = pixels;
      return this;
    }

    /** The environments scenes are drawn from, uniformly (default: all). */
    public Builder environments(Set<Environment> allowed) {
      Preconditions.checkArgument(!allowed.isEmpty(), "at least one environment is needed");
      this.environments = ImmutableSet.copyOf(allowed);
      return this;
    }

    public Builder environments(Environment first, Environment... rest) {
      return environments(Sets.immutableEnumSet(first, rest));
    }

    /** Chance that a new object repeats an earlier object's colour and shape (default 0.3). */
    public Builder repeatProbability(double p) {
      Preconditions.checkArgument(p >= 0 && p <= 1, "repeat probability must be in [0, 1], got %s", p);
      this.repeatProbability = p;
      return this;
    }

    /** Scene ids are {@code <prefix>-<index, six digits>} (default "shapes"). */
    public Builder idPrefix(String prefix) {
      Preconditions.checkArgument(prefix.matches("[A-Za-z0-9_.]+"), "id prefix must be [A-Za-z0-9_.]+, got '%s'", prefix);
      this.idPrefix = prefix;
      return this;
    }

    public SceneGenerator build() {
      return new SceneGenerator(this);
    }
  }
}
