package org.factrl.eval;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.factrl.data.judge.Claim;
import org.factrl.data.judge.ClaimVerdict;
import org.factrl.data.judge.Descriptor;
import org.factrl.data.judge.Judgement;
import org.factrl.data.shapes.Scene;

/**
 * CHAIR-style object hallucination (Object HalBench's CHAIRs / CHAIRi) on detailed descriptions,
 * read from the exact judge's claims.
 *
 * <p>An object is what POPE asks about in the shapes world: a kind, "colour shape" ("red circle";
 * "circle" when no colour is named; "dog" for a noun outside the world). The objects a description
 * <em>mentions</em> are the descriptors its claims say exist: the subject of an OBJECT claim, of a
 * COUNT claim with n &gt; 0, of ATTRIBUTE, POSITION, ALL and MOST claims; both sides of a RELATION
 * and of a size COMPARISON — those naming a noun (so "all the shapes are blue" mentions none).
 * Size and place are dropped (a wrong size is an attribute error, which the MMHal score counts,
 * not a missing object), each object is counted once per description, and a mention that a more
 * specific one in the same description refines ("circle" beside "red circle") is not counted
 * again. A mentioned object is hallucinated when no object of the scene fits it.
 *
 * <pre>
 *   CHAIRs = descriptions with ≥ 1 hallucinated object / descriptions
 *   CHAIRi = hallucinated objects / mentioned objects   (summed over all descriptions)
 * </pre>
 *
 * Ratios with a zero denominator are 0.
 */
public final class ChairScorer {
  private ChairScorer() {}

  /** One description's objects (phrases as the judge writes them) and the hallucinated ones among them. */
  public record Mentions(ImmutableList<String> objects, ImmutableList<String> hallucinated) {
    public Mentions {
      Preconditions.checkNotNull(objects, "objects");
      Preconditions.checkNotNull(hallucinated, "hallucinated");
    }
  }

  /** CHAIR over a set of descriptions. */
  public record ChairMetrics(int descriptions, int hallucinatingDescriptions, int objects, int hallucinatedObjects) {
    public double chairS() {
      return descriptions == 0 ? 0 : (double) hallucinatingDescriptions / descriptions;
    }

    public double chairI() {
      return objects == 0 ? 0 : (double) hallucinatedObjects / objects;
    }
  }

  /** The objects the judged description mentions, and which of them {@code scene} lacks. */
  public static Mentions mentions(Scene scene, Judgement judgement) {
    Preconditions.checkNotNull(scene, "scene");
    Preconditions.checkNotNull(judgement, "judgement");
    Set<Descriptor> named = new LinkedHashSet<>();
    for (ClaimVerdict v : judgement.verdicts()) {
      for (Descriptor d : existing(v.claim())) {
        if (d.hasNoun()) {
          named.add(kind(d));
        }
      }
    }
    List<Descriptor> kept = new ArrayList<>();
    for (Descriptor d : named) {
      boolean refined = false;
      for (Descriptor o : named) {
        if (!o.equals(d) && o.equals(d.merge(o))) {
          refined = true; // o says all d says and more
          break;
        }
      }
      if (!refined) {
        kept.add(d);
      }
    }
    ImmutableList.Builder<String> objects = ImmutableList.builder();
    ImmutableList.Builder<String> missing = ImmutableList.builder();
    for (Descriptor d : kept) {
      objects.add(d.phrase());
      if (d.count(scene) == 0) {
        missing.add(d.phrase());
      }
    }
    return new Mentions(objects.build(), missing.build());
  }

  /** CHAIRs and CHAIRi over {@code descriptions}. */
  public static ChairMetrics score(List<Mentions> descriptions) {
    int hallucinating = 0;
    int objects = 0;
    int hallucinated = 0;
    for (Mentions m : descriptions) {
      objects += m.objects().size();
      hallucinated += m.hallucinated().size();
      hallucinating += m.hallucinated().isEmpty() ? 0 : 1;
    }
    return new ChairMetrics(descriptions.size(), hallucinating, objects, hallucinated);
  }

  /** The descriptors {@code c} says exist. */
  private static List<Descriptor> existing(Claim c) {
    return switch (c.kind()) {
      case OBJECT, ATTRIBUTE, POSITION, ALL, MOST -> List.of(c.subject());
      case COUNT -> !c.negated() && c.count() > 0 ? List.of(c.subject()) : List.of();
      case RELATION -> List.of(c.subject(), c.object());
      case COMPARISON -> c.comparison().ofCounts() ? List.of() : List.of(c.subject(), c.object());
      default -> List.of();
    };
  }

  /** The object kind a descriptor names: without size and place. */
  private static Descriptor kind(Descriptor d) {
    return new Descriptor(d.shape(), d.colour(), null, d.foreignNoun(), d.foreignColour(), d.vague(), null);
  }
}
