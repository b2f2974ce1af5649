package org.factrl.data.judge;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Environment;
import org.factrl.data.shapes.ObjectKind;
import org.factrl.data.shapes.Relation;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;
import org.factrl.data.shapes.Size;
import org.factrl.data.shapes.tasks.ObjectStatistics;

/**
 * Builds preference pairs before any policy exists: a correct description of a scene (its true
 * facts as simple sentences) against a copy with one corrupted fact, or against a shorter correct
 * copy ({@link Corruption#OMISSION}). Deterministic: the same seed and scene give the same pairs.
 *
 * <p>The description, in order: the environment ("The background is a sandy beach."), the total
 * ("There are three objects."), one count per group of identical objects in shuffled order ("There
 * are two small red circles."), then up to {@code maxRelations} relations that hold between
 * objects with a unique description ("The circle is to the left of the large blue square."), each
 * pair's strongest relation (the larger centre offset), pairs in shuffled order.
 *
 * <p>These pairs are a supplement to judged samples of the SFT model, so they must not teach a
 * reward model shortcuts it could use instead of looking at the image (issue 12):
 * <ul>
 *   <li><b>No length cue.</b> Inserting a sentence makes the corrupted text the longer one, and a
 *       reward model would learn "shorter wins". With {@link Builder#balanceLengths} (the default)
 *       each scene's pairs are given targets, half "the better text is shorter", half "longer"
 *       (omission pairs are always "longer": the more informative text wins); a pair that misses
 *       its target drops random true sentences from the better text (to make it shorter) or from
 *       the worse text, never its false claim (to make it longer) until it meets it.
 *   <li><b>No word cue.</b> Inserted and substituted objects are kinds of this world that the
 *       scene lacks, preferring kinds whose shape and colour both occur in the scene ("a red star"
 *       beside a red circle and a blue star), then those sharing one of them, weighted by how often
 *       the kind co-occurs with the scene's kinds ({@link ObjectStatistics}), so they seldom bring
 *       a new word; a wrong colour is half the time one the scene shows elsewhere; a wrong count
 *       never crosses between one and several (no plural or singular appears only in the losing
 *       text). So no object word appears mostly in losing texts, as "cat" did when inserted
 *       objects were foreign nouns.
 * </ul>
 */
public final class CorruptionBootstrap {
  private final long seed;
  private final int maxRelations;
  private final EnumSet<Corruption> corruptions;
  private final ObjectStatistics statistics;
  private final boolean balanceLengths;

  private CorruptionBootstrap(Builder b) {
    this.seed = b.seed;
    this.maxRelations = b.maxRelations;
    this.corruptions = EnumSet.copyOf(b.corruptions);
    this.statistics = b.statistics;
    this.balanceLengths = b.balanceLengths;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Options: seed (0), maxRelations (3), corruptions (all), statistics (none: absent kinds weighted
   * alike), balanceLengths (true).
   */
  public static final class Builder {
    private long seed;
    private int maxRelations = 3;
    private EnumSet<Corruption> corruptions = EnumSet.allOf(Corruption.class);
    private ObjectStatistics statistics = ObjectStatistics.empty();
    private boolean balanceLengths = true;

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

    /** Co-occurrence counts of the data set, to draw plausible inserted/substituted kinds. */
    public Builder statistics(ObjectStatistics statistics) {
      this.statistics = Preconditions.checkNotNull(statistics, "statistics");
      return this;
    }

    /** Whether to balance which text of a pair is the shorter (see the class comment). */
    public Builder balanceLengths(boolean balance) {
      this.balanceLengths = balance;
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

  /** A pair being made: the better and worse claim lists, and the worse one's false claim (null: omission). */
  private record Draft(Corruption kind, List<Claim> better, List<Claim> worse, Claim falseClaim,
      SplittableRandom rng) {}

  /**
   * One pair per configured kind that applies to the scene (WRONG_RELATION needs a relation), in
   * {@link Corruption} order.
   */
  public ImmutableList<BootstrapPair> pairs(Scene scene) {
    ImmutableList<Claim> facts = facts(scene);
    List<Draft> drafts = new ArrayList<>();
    for (Corruption c : corruptions) {
      Draft d = draft(scene, facts, c, random(scene, 1 + c.ordinal()));
      if (d != null) {
        drafts.add(d);
      }
    }
    if (balanceLengths) {
      balance(scene, drafts);
    }
    ImmutableList.Builder<BootstrapPair> out = ImmutableList.builder();
    for (Draft d : drafts) {
      out.add(new BootstrapPair(scene, render(d.better()), render(d.worse()), d.kind(),
          Optional.ofNullable(d.falseClaim()), d.rng().nextInt(2)));
    }
    return out.build();
  }

  /** The pair of one kind, or empty when it does not apply to the scene. */
  public Optional<BootstrapPair> pair(Scene scene, Corruption corruption) {
    return pairs(scene).stream().filter(p -> p.corruption() == corruption).findFirst();
  }

  private Draft draft(Scene scene, ImmutableList<Claim> facts, Corruption kind, SplittableRandom rng) {
    List<Claim> better = new ArrayList<>(facts);
    List<Claim> worse = new ArrayList<>(facts);
    if (kind == Corruption.OMISSION) {
      // leave out one or two true sentences (at least one stays)
      int drop = 1 + rng.nextInt(Math.min(2, worse.size() - 1));
      for (int i = 0; i < drop; i++) {
        worse.remove(rng.nextInt(worse.size()));
      }
      return new Draft(kind, better, worse, null, rng);
    }
    Claim falseClaim = corrupt(scene, worse, kind, rng);
    return falseClaim == null ? null : new Draft(kind, better, worse, falseClaim, rng);
  }

  /**
   * Gives the scene's pairs length targets, about half "the better text is shorter", and makes
   * each corruption pair meet its target by dropping true sentences (see the class comment).
   */
  private void balance(Scene scene, List<Draft> drafts) {
    SplittableRandom plan = random(scene, 101);
    List<Draft> corrupted = new ArrayList<>();
    for (Draft d : drafts) {
      if (d.falseClaim() != null) {
        corrupted.add(d);
      }
    }
    // omission pairs are all "better is longer": the corruption pairs make up the shorter half
    int shorter = Math.min(corrupted.size(), (drafts.size() + plan.nextInt(2)) / 2);
    List<Boolean> targets = new ArrayList<>();
    for (int i = 0; i < corrupted.size(); i++) {
      targets.add(i < shorter);
    }
    shuffle(targets, plan);
    for (int i = 0; i < corrupted.size(); i++) {
      Draft d = corrupted.get(i);
      if (targets.get(i)) {
        while (length(d.better()) >= length(d.worse()) && d.better().size() > 1) {
          d.better().remove(d.rng().nextInt(d.better().size()));
        }
      } else {
        while (length(d.worse()) >= length(d.better()) && d.worse().size() > 1) {
          List<Integer> droppable = new ArrayList<>();
          for (int k = 0; k < d.worse().size(); k++) {
            if (!d.worse().get(k).equals(d.falseClaim())) {
              droppable.add(k);
            }
          }
          d.worse().remove((int) droppable.get(d.rng().nextInt(droppable.size())));
        }
      }
    }
  }

  private static int length(List<Claim> claims) {
    return render(claims).length();
  }

  /** Corrupts {@code claims} in place; returns the false claim, or null when not applicable. */
  private Claim corrupt(Scene scene, List<Claim> claims, Corruption corruption, SplittableRandom rng) {
    switch (corruption) {
      case INSERTED_OBJECT -> {
        // in words the text already uses: the shape in the number it appears in ("There are two
        // small red stars." when only "stars" does), a size word it has
        Set<String> words = words(claims);
        ObjectKind k = plausibleAbsentKind(scene, words, 0, rng);
        List<Size> sizes = new ArrayList<>();
        for (Size z : Size.values()) {
          if (words.contains(z.word())) {
            sizes.add(z);
          }
        }
        Size size = sizes.isEmpty() ? Size.values()[rng.nextInt(Size.values().length)]
            : sizes.get(rng.nextInt(sizes.size()));
        Descriptor d = Descriptor.of(k.shape(), k.colour(), size);
        boolean plural = !words.contains(k.shape().singular()) && words.contains(k.shape().plural());
        Claim f = plural ? Claim.count(d, 2) : Claim.present(d);
        claims.add(1 + rng.nextInt(claims.size()), f);
        return f;
      }
      case SUBSTITUTED_OBJECT -> {
        int i = pickGroup(claims, rng);
        Claim c = claims.get(i);
        // a kind made of the text's own shape and colour words where possible: a new word would be
        // the losing text's alone, while the replaced kind's words usually stay (in relations)
        ObjectKind k = plausibleAbsentKind(scene, words(claims), c.count(), rng);
        Claim f = Claim.count(Descriptor.of(k.shape(), k.colour(), c.subject().size()), c.count());
        claims.set(i, f);
        return f;
      }
      case WRONG_COLOUR -> {
        int i = pickGroup(claims, rng);
        Descriptor d = claims.get(i).subject();
        // half the time a colour the scene shows elsewhere (a binding error, no new word), else any
        // other: a colour word new to the losing text is then about as common as the replaced
        // colour's word being the winning text's alone
        List<Colour> others = new ArrayList<>();
        List<Colour> seen = new ArrayList<>();
        for (Colour c : Colour.values()) {
          if (scene.count(d.shape(), c, d.size()) == 0) {
            others.add(c);
            if (scene.count(null, c, null) > 0) {
              seen.add(c);
            }
          }
        }
        List<Colour> from = seen.isEmpty() || rng.nextBoolean() ? others : seen;
        Claim f = Claim.count(Descriptor.of(d.shape(), from.get(rng.nextInt(from.size())),
            d.size()), claims.get(i).count());
        claims.set(i, f);
        return f;
      }
      case WRONG_COUNT -> {
        // "one star" -> "two stars" would put a plural in the losing text only, and "two stars" ->
        // "one star" a singular: word cues. So only counts of two or more change, and never to
        // one; a scene without one (a single object) gets its total wrong ("two objects").
        List<Integer> several = new ArrayList<>();
        for (int k = 1; k < claims.size(); k++) {
          if (claims.get(k).kind() == ClaimKind.COUNT && claims.get(k).count() > 1) {
            several.add(k);
          }
        }
        int i = several.isEmpty() ? 1 : several.get(rng.nextInt(several.size()));
        Claim c = claims.get(i);
        int n = c.count() > 2 && rng.nextBoolean() ? c.count() - 1 : c.count() + 1;
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
      case OMISSION -> throw new IllegalArgumentException("an omission has no false claim");
    }
    throw new AssertionError(corruption);
  }

  /** The lower-case words of the claims' sentences. */
  private static Set<String> words(List<Claim> claims) {
    return new HashSet<>(Arrays.asList(render(claims).toLowerCase(Locale.ROOT).split("[^a-z]+")));
  }

  /** {@link #plausibleAbsentKind(Scene, Set, int, SplittableRandom)} for the scene's full description. */
  ObjectKind plausibleAbsentKind(Scene scene, SplittableRandom rng) {
    return plausibleAbsentKind(scene, words(facts(scene)), 0, rng);
  }

  /**
   * A kind the scene lacks, as a plausible error that adds no new word to {@code words} (the text
   * it goes into): among the absent kinds, those whose shape word (in the number of {@code count},
   * or either when 0) and colour word the text has, else those with its shape word, else its
   * colour word, else any; drawn
   * with weight 1 + the number of data-set scenes where it occurs with each of the scene's kinds.
   */
  ObjectKind plausibleAbsentKind(Scene scene, Set<String> words, int count, SplittableRandom rng) {
    List<ObjectKind> present = new ArrayList<>();
    for (ObjectKind k : ObjectKind.all()) {
      if (k.presentIn(scene)) {
        present.add(k);
      }
    }
    int bestTier = Integer.MAX_VALUE;
    List<ObjectKind> candidates = new ArrayList<>();
    for (ObjectKind k : ObjectKind.all()) {
      if (k.presentIn(scene)) {
        continue;
      }
      boolean shape = count == 0 ? words.contains(k.shape().singular()) || words.contains(k.shape().plural())
          : words.contains(k.shape().noun(count));
      // a new colour word is the lesser evil: colour words are in every text, shape words in fewer
      int tier = (shape ? 0 : 2) + (words.contains(k.colour().word()) ? 0 : 1);
      if (tier < bestTier) {
        bestTier = tier;
        candidates.clear();
      }
      if (tier == bestTier) {
        candidates.add(k);
      }
    }
    long[] weights = new long[candidates.size()];
    long total = 0;
    for (int i = 0; i < weights.length; i++) {
      long w = 1;
      for (ObjectKind p : present) {
        w += statistics.cooccurrence(p, candidates.get(i));
      }
      weights[i] = w;
      total += w;
    }
    long r = rng.nextLong(total);
    for (int i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) {
        return candidates.get(i);
      }
    }
    throw new AssertionError("weights sum to " + total);
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
