package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.Relation;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;

/**
 * Builds preference pairs before any policy exists: a correct description of a scene (its true
 * facts as simple sentences) against a copy with one corrupted fact. Deterministic: the same seed
 * and scene give the same pairs.
 *
 * <p>The description, in order: the environment ("The background is a sandy beach."), the total
 * ("There are three objects."), one count per group of identical objects in shuffled order ("There
 * are two small red circles."), then up to {@code maxRelations} relations that hold between
 * objects with a unique description ("The circle is to the left of the large blue square."), each
 * pair's strongest relation (the larger centre offset), pairs in shuffled order.
 */
public final class CorruptionBootstrap {
  /** Foreign nouns an inserted object may use, a sample of {@link Vocabulary#FOREIGN_NOUNS}. */
  private static final ImmutableList<String> INSERTED_FOREIGN = ImmutableList.of("dog", "hexagon",
      "car", "tree", "ball", "house", "cat", "hexagon");

  private final long seed;
  private final int maxRelations;
  private final EnumSet<Corruption> corruptions;

  private CorruptionBootstrap(Builder b) {
    this.seed = b.seed;
    this.maxRelations = b.maxRelations;
    this.corruptions = EnumSet.copyOf(b.corruptions);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options: seed (0), maxRelations (3), corruptions (all). */
  public static final class Builder {
    private long seed;
    private int maxRelations = 3;
    private EnumSet<Corruption> corruptions = EnumSet.allOf(Corruption.class);

    private Builder() {}

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder maxRelations(int maxRelations) {
      Preconditions.checkArgument(maxRelations >= 0, "maxRelations must be >= 0");
      this.maxRelations = maxRelations;
      return this;
    }

    public Builder corruptions(Corruption first, Corruption... rest) {
      this.corruptions = EnumSet.of(first, rest);
      return this;
    }

    public CorruptionBootstrap build() {
      return new CorruptionBootstrap(this);
    }
  }

  /** The scene's random stream: seed mixed with the scene id, so scenes differ but repeat. */
  private SplittableRandom random(Scene scene, long salt) {
    return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + scene.id().hashCode() * 31L + salt);
  }

  /** The true facts this bootstrap describes the scene by (all judged correct). */
  public ImmutableList<Claim> facts(Scene scene) {
    return facts(scene, random(scene, 0));
  }

  private ImmutableList<Claim> facts(Scene scene, SplittableRandom rng) {
    List<Claim> out = new ArrayList<>();
    out.add(Claim.environment(scene.environment()));
    out.add(Claim.count(Descriptor.ANY, scene.objects().size()));
    // Groups of identical objects, in a canonical order, then shuffled.
    TreeMap<String, Descriptor> groups = new TreeMap<>();
    for (SceneObject o : scene.objects()) {
      Descriptor d = Descriptor.of(o);
      groups.put(o.shape().ordinal() + "/" + o.colour().ordinal() + "/" + o.size().ordinal(), d);
    }
    List<Claim> counts = new ArrayList<>();
    for (Descriptor d : groups.values()) {
      counts.add(Claim.count(d, d.count(scene)));
    }
    shuffle(counts, rng);
    out.addAll(counts);
    List<Claim> relations = new ArrayList<>();
    List<SceneObject> objs = scene.objects();
    for (int i = 0; i < objs.size(); i++) {
      for (int j = i + 1; j < objs.size(); j++) {
        Descriptor a = uniqueDescriptor(scene, objs.get(i));
        Descriptor b = uniqueDescriptor(scene, objs.get(j));
        Relation r = strongestRelation(objs.get(i), objs.get(j));
        if (a != null && b != null && r != null) {
          relations.add(Claim.relation(a, r, b));
        }
      }
    }
    shuffle(relations, rng);
    out.addAll(relations.subList(0, Math.min(maxRelations, relations.size())));
    return ImmutableList.copyOf(out);
  }

  /** The correct description (see the class comment). */
  public String describe(Scene scene) {
    return render(facts(scene));
  }

  /** Sentences of the claims, space-separated. */
  public static String render(List<Claim> claims) {
    StringBuilder b = new StringBuilder();
    for (Claim c : claims) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append(c.sentence());
    }
    return b.toString();
  }

  /** One pair per configured corruption that applies to the scene (WRONG_RELATION needs one). */
  public ImmutableList<BootstrapPair> pairs(Scene scene) {
    ImmutableList.Builder<BootstrapPair> out = ImmutableList.builder();
    for (Corruption c : corruptions) {
      pair(scene, c).ifPresent(out::add);
    }
    return out.build();
  }

  /** The pair for one corruption, or empty when it does not apply to the scene. */
  public Optional<BootstrapPair> pair(Scene scene, Corruption corruption) {
    ImmutableList<Claim> facts = facts(scene);
    SplittableRandom rng = random(scene, 1 + corruption.ordinal());
    List<Claim> bad = new ArrayList<>(facts);
    Claim falseClaim = corrupt(scene, bad, corruption, rng);
    if (falseClaim == null) {
      return Optional.empty();
    }
    int preferred = rng.nextInt(2);
    return Optional.of(new BootstrapPair(scene, render(facts), render(bad), corruption,
        falseClaim, preferred));
  }

  /** Corrupts {@code claims} in place; returns the false claim, or null when not applicable. */
  private static Claim corrupt(Scene scene, List<Claim> claims, Corruption corruption,
      SplittableRandom rng) {
    switch (corruption) {
      case INSERTED_OBJECT -> {
        Descriptor d;
        if (rng.nextInt(4) == 0) {
          d = Descriptor.foreign(INSERTED_FOREIGN.get(rng.nextInt(INSERTED_FOREIGN.size())));
        } else {
          List<Descriptor> absent = new ArrayList<>();
          for (ShapeKind s : ShapeKind.values()) {
            for (Colour c : Colour.values()) {
              if (scene.count(s, c, null) == 0) {
                absent.add(Descriptor.of(s, c, Size.values()[rng.nextInt(Size.values().length)]));
              }
            }
          }
          d = absent.get(rng.nextInt(absent.size()));
        }
        Claim f = Claim.present(d);
        claims.add(1 + rng.nextInt(claims.size()), f);
        return f;
      }
      case WRONG_COLOUR -> {
        int i = pickGroup(claims, rng);
        Descriptor d = claims.get(i).subject();
        List<Colour> others = new ArrayList<>();
        for (Colour c : Colour.values()) {
          if (scene.count(d.shape(), c, d.size()) == 0) {
            others.add(c);
          }
        }
        Claim f = Claim.count(Descriptor.of(d.shape(), others.get(rng.nextInt(others.size())),
            d.size()), claims.get(i).count());
        claims.set(i, f);
        return f;
      }
      case WRONG_COUNT -> {
        int i = rng.nextInt(4) == 0 ? 1 : pickGroup(claims, rng);
        Claim c = claims.get(i);
        int n = c.count() > 1 && rng.nextBoolean() ? c.count() - 1 : c.count() + 1;
        Claim f = Claim.count(c.subject(), n);
        claims.set(i, f);
        return f;
      }
      case WRONG_RELATION -> {
        List<Integer> rel = new ArrayList<>();
        for (int i = 0; i < claims.size(); i++) {
          if (claims.get(i).kind() == ClaimKind.RELATION) {
            rel.add(i);
          }
        }
        if (rel.isEmpty()) {
          return null;
        }
        int i = rel.get(rng.nextInt(rel.size()));
        Claim c = claims.get(i);
        Claim f = Claim.relation(c.subject(), c.relation().opposite(), c.object());
        claims.set(i, f);
        return f;
      }
      case WRONG_ENVIRONMENT -> {
        List<Environment> others = new ArrayList<>();
        for (Environment e : Environment.values()) {
          if (e != scene.environment()) {
            others.add(e);
          }
        }
        Claim f = Claim.environment(others.get(rng.nextInt(others.size())));
        claims.set(0, f);
        return f;
      }
    }
    throw new AssertionError(corruption);
  }

  /** Index of a random per-group count claim (the claims after the total). */
  private static int pickGroup(List<Claim> claims, SplittableRandom rng) {
    List<Integer> groups = new ArrayList<>();
    for (int i = 0; i < claims.size(); i++) {
      Claim c = claims.get(i);
      if (c.kind() == ClaimKind.COUNT && c.subject().shape() != null) {
        groups.add(i);
      }
    }
    return groups.get(rng.nextInt(groups.size()));
  }

  /** The shortest description that picks out {@code o} alone, or null if it has a twin. */
  static Descriptor uniqueDescriptor(Scene scene, SceneObject o) {
    if (scene.count(o.shape(), null, null) == 1) {
      return Descriptor.of(o.shape(), null, null);
    }
    if (scene.count(o.shape(), o.colour(), null) == 1) {
      return Descriptor.of(o.shape(), o.colour(), null);
    }
    if (scene.count(o.shape(), o.colour(), o.size()) == 1) {
      return Descriptor.of(o);
    }
    return null;
  }

  /** The relation of {@code a} to {@code b} along the axis with the larger offset, if it holds. */
  static Relation strongestRelation(SceneObject a, SceneObject b) {
    double dx = Math.abs(a.x() - b.x());
    double dy = Math.abs(a.y() - b.y());
    Relation r = dx >= dy ? (a.x() < b.x() ? Relation.LEFT_OF : Relation.RIGHT_OF)
        : (a.y() < b.y() ? Relation.ABOVE : Relation.BELOW);
    return r.holds(a, b) ? r : null;
  }

  private static <T> void shuffle(List<T> list, SplittableRandom rng) {
    for (int i = list.size() - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      T t = list.get(i);
      list.set(i, list.get(j));
      list.set(j, t);
    }
  }
}
