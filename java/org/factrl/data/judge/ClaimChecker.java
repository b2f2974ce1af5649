package org.factrl.data.judge;

import java.util.List;
import org.factrl.data.shapes.Relation;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneObject;

/**
 * Decides one claim against a scene. Descriptors that match several objects are read
 * charitably: a claim about "the circle" holds if it holds for some circle. Relations use
 * {@link Relation#holds} and are {@link Verdict#UNVERIFIABLE} when the objects are within the
 * margin (neither the claim nor its opposite holds).
 */
final class ClaimChecker {
  private ClaimChecker() {}

  /** Truth of a claim for one pair of objects. */
  private enum Truth { TRUE, FALSE, UNKNOWN }

  /**
   * The descriptor a claim presupposes but the scene lacks ("the dog is left of the circle" →
   * dog), or null. Lets the judge count one invented object once, not once per sentence.
   */
  static Descriptor missing(Scene scene, Claim c) {
    switch (c.kind()) {
      case OBJECT, ATTRIBUTE, RELATION, POSITION, ALL, MOST -> {
        if (c.subject().count(scene) == 0) {
          return c.subject();
        }
        if (c.kind() == ClaimKind.RELATION && c.object().count(scene) == 0) {
          return c.object();
        }
      }
      case COUNT -> {
        if (!c.negated() && c.subject().count(scene) == 0) {
          return c.subject();
        }
      }
      case COMPARISON -> {
        if (!c.comparison().ofCounts()) {
          if (c.subject().count(scene) == 0) {
            return c.subject();
          }
          if (c.object().count(scene) == 0) {
            return c.object();
          }
        }
      }
      default -> { }
    }
    return null;
  }

  /**
   * Decides {@code c}. A claim resting on a vague word ({@link Vague}: "teal", "rectangle",
   * "medium") is not checkable when an object the word could fairly describe makes it true, and a
   * hallucination only when none does; a denial with a vague word is never checkable.
   */
  static ClaimVerdict check(Scene scene, Claim c) {
    ClaimVerdict v = checkExact(scene, c);
    if (!c.isVague() || v.verdict() == Verdict.UNVERIFIABLE) {
      return v;
    }
    if (v.verdict() == Verdict.CORRECT || c.negated()) {
      return new ClaimVerdict(c, Verdict.UNVERIFIABLE, "'" + c.vagueWord()
          + "' is not one of the world's words; not checkable");
    }
    return v;
  }

  private static ClaimVerdict checkExact(Scene scene, Claim c) {
    return switch (c.kind()) {
      case OBJECT -> c.subject().count(scene) > 0 ? ok(c)
          : bad(c, "no " + c.subject().phrase() + " in the scene");
      case NEGATED -> {
        int n = c.subject().count(scene);
        yield n == 0 ? ok(c) : bad(c, n + " " + c.subject().phrase(n != 1) + " in the scene");
      }
      case COUNT -> {
        int n = c.subject().count(scene);
        boolean holds = (n == c.count()) != c.negated();
        yield holds ? ok(c) : bad(c, c.negated()
            ? "not " + c.count() + " " + c.subject().phrase(c.count() != 1) + " claimed, "
                + n + " present"
            : c.count() + " " + c.subject().phrase(c.count() != 1) + " claimed, " + n
                + " present");
      }
      case ATTRIBUTE -> attribute(scene, c);
      case RELATION -> relation(scene, c);
      case COMPARISON -> comparison(scene, c);
      case ENVIRONMENT -> (scene.environment() == c.environment()) != c.negated() ? ok(c)
          : bad(c, c.negated() ? "the environment is " + c.environment().phrase()
              : "the environment is " + scene.environment().phrase() + ", not "
                  + c.environment().phrase());
      case POSITION -> position(scene, c);
      case ALL, MOST -> quantified(scene, c);
      case MOST_COMMON -> mostCommon(scene, c);
      case SAME -> same(scene, c);
    };
  }

  /** Charitable like the rest: some matching object in (or, denied, out of) the region. */
  private static ClaimVerdict position(Scene scene, Claim c) {
    List<SceneObject> subjects = c.subject().select(scene);
    if (subjects.isEmpty()) {
      return bad(c, "no " + c.subject().phrase() + " in the scene");
    }
    // Denied ("the star is not in the corner", "no star is in the corner"): none is surely in it.
    SceneObject o = subjects.get(0);
    if (c.negated()) {
      for (SceneObject s : subjects) {
        if (c.region().surelyContains(s)) {
          o = s;
          break;
        }
      }
      if (!c.region().surelyContains(o)) {
        return ok(c);
      }
    } else {
      for (SceneObject s : subjects) {
        if (c.region().mayContain(s)) {
          return ok(c);
        }
      }
    }
    return bad(c, String.format(java.util.Locale.ROOT, "the %s is %s%s (centre %.2f, %.2f)",
        c.subject().phrase(), c.negated() ? "" : "not ", c.region().phrase(), o.x(), o.y()));
  }

  /** ALL: every subject object has the attribute; MOST: more than half do. */
  private static ClaimVerdict quantified(Scene scene, Claim c) {
    List<SceneObject> subjects = c.subject().select(scene);
    if (subjects.isEmpty()) {
      return bad(c, "no " + c.subject().phrase() + " in the scene");
    }
    int with = 0;
    for (SceneObject o : subjects) {
      if (c.attribute().matches(o)) {
        with++;
      }
    }
    boolean holds = c.kind() == ClaimKind.ALL ? with == subjects.size() : 2 * with > subjects.size();
    return holds != c.negated() ? ok(c) : bad(c, with + " of " + subjects.size() + " "
        + c.subject().phrase(true) + " are " + Claim.plural(c.attribute()));
  }

  private static Object value(SceneObject o, Claim.Aspect a) {
    return switch (a) {
      case COLOUR -> o.colour();
      case SHAPE -> o.shape();
      case SIZE -> o.size();
    };
  }

  /** The attribute's value is tied for the most objects among the subject's. */
  private static ClaimVerdict mostCommon(Scene scene, Claim c) {
    List<SceneObject> subjects = c.subject().select(scene);
    if (subjects.isEmpty()) {
      return bad(c, "no " + c.subject().phrase() + " in the scene");
    }
    java.util.Map<Object, Integer> counts = new java.util.HashMap<>();
    for (SceneObject o : subjects) {
      counts.merge(value(o, c.aspect()), 1, Integer::sum);
    }
    int best = java.util.Collections.max(counts.values());
    int mine = 0;
    for (SceneObject o : subjects) {
      if (c.attribute().matches(o)) {
        mine = counts.get(value(o, c.aspect()));
        break;
      }
    }
    boolean holds = mine == best;
    return holds != c.negated() ? ok(c) : bad(c, "counts among the " + c.subject().phrase(true)
        + ": " + counts);
  }

  private static ClaimVerdict same(Scene scene, Claim c) {
    List<SceneObject> subjects = c.subject().select(scene);
    if (subjects.size() < 2) {
      return new ClaimVerdict(c, Verdict.UNVERIFIABLE, "fewer than two "
          + c.subject().phrase(true) + " to compare");
    }
    java.util.Set<Object> values = new java.util.HashSet<>();
    for (SceneObject o : subjects) {
      values.add(value(o, c.aspect()));
    }
    boolean holds = values.size() == 1;
    return holds != c.negated() ? ok(c) : bad(c, "the " + c.subject().phrase(true) + " are "
        + (holds ? "all " : "not all ") + "the same " + c.aspect().name().toLowerCase(
            java.util.Locale.ROOT) + ": " + values);
  }

  private static ClaimVerdict attribute(Scene scene, Claim c) {
    List<SceneObject> subjects = c.subject().select(scene);
    if (subjects.isEmpty()) {
      return bad(c, "no " + c.subject().phrase() + " in the scene");
    }
    Descriptor attr = c.attribute();
    boolean some = false;
    boolean someNot = false;
    for (SceneObject o : subjects) {
      if (attr.matches(o)) {
        some = true;
      } else {
        someNot = true;
      }
    }
    String name = "the " + c.subject().phrase();
    if (!c.negated()) {
      return some ? ok(c) : bad(c, name + " is not " + Claim.predicate(attr));
    }
    return someNot ? ok(c) : bad(c, name + " is " + Claim.predicate(attr));
  }

  private static ClaimVerdict relation(Scene scene, Claim c) {
    List<SceneObject> subjects = c.subject().select(scene);
    List<SceneObject> objects = c.object().select(scene);
    if (subjects.isEmpty()) {
      return bad(c, "no " + c.subject().phrase() + " in the scene");
    }
    if (objects.isEmpty()) {
      return bad(c, "no " + c.object().phrase() + " in the scene");
    }
    Relation r = c.relation();
    boolean anyTrue = false;
    boolean anyUnknown = false;
    boolean anyPair = false;
    for (SceneObject a : subjects) {
      for (SceneObject b : objects) {
        if (a.id() == b.id()) {
          continue;
        }
        anyPair = true;
        Truth t = r.holds(a, b) ? Truth.TRUE
            : r.opposite().holds(a, b) ? Truth.FALSE : Truth.UNKNOWN;
        if (c.negated() && t != Truth.UNKNOWN) {
          t = t == Truth.TRUE ? Truth.FALSE : Truth.TRUE;
        }
        anyTrue |= t == Truth.TRUE;
        anyUnknown |= t == Truth.UNKNOWN;
      }
    }
    String text = "the " + c.subject().phrase() + " is " + (c.negated() ? "" : "not ")
        + r.phrase() + " the " + c.object().phrase();
    if (anyTrue) {
      return ok(c);
    }
    if (anyUnknown) {
      return new ClaimVerdict(c, Verdict.UNVERIFIABLE, "the " + c.subject().phrase()
          + " and the " + c.object().phrase() + " are too closely aligned to tell");
    }
    if (!anyPair) {
      return new ClaimVerdict(c, Verdict.UNVERIFIABLE, "the claim relates an object to itself");
    }
    return bad(c, text);
  }

  private static ClaimVerdict comparison(Scene scene, Claim c) {
    Comparison cmp = c.comparison();
    if (cmp.ofCounts()) {
      int a = c.subject().count(scene);
      int b = c.object().count(scene);
      boolean holds = switch (cmp) {
        case MORE -> a > b;
        case FEWER -> a < b;
        default -> a == b;
      };
      return holds != c.negated() ? ok(c) : bad(c, a + " " + c.subject().phrase(a != 1)
          + " and " + b + " " + c.object().phrase(b != 1) + " in the scene");
    }
    List<SceneObject> subjects = c.subject().select(scene);
    List<SceneObject> objects = c.object().select(scene);
    if (subjects.isEmpty()) {
      return bad(c, "no " + c.subject().phrase() + " in the scene");
    }
    if (objects.isEmpty()) {
      return bad(c, "no " + c.object().phrase() + " in the scene");
    }
    boolean anyPair = false;
    for (SceneObject a : subjects) {
      for (SceneObject b : objects) {
        if (a.id() == b.id()) {
          continue;
        }
        anyPair = true;
        int d = a.size().compareTo(b.size());
        boolean holds = switch (cmp) {
          case LARGER -> d > 0;
          case SMALLER -> d < 0;
          default -> d == 0;
        };
        if (holds != c.negated()) {
          return ok(c);
        }
      }
    }
    if (!anyPair) {
      return new ClaimVerdict(c, Verdict.UNVERIFIABLE, "the claim compares an object to itself");
    }
    return bad(c, "the " + c.subject().phrase() + " is " + (c.negated() ? "" : "not ")
        + cmp.phrase() + " the " + c.object().phrase());
  }

  private static ClaimVerdict ok(Claim c) {
    return new ClaimVerdict(c, Verdict.CORRECT, "");
  }

  private static ClaimVerdict bad(Claim c, String reason) {
    return new ClaimVerdict(c, Verdict.HALLUCINATED, reason);
  }
}
