package org.factrl.data.shapes.tasks;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.factrl.data.PopeSampling;
import org.factrl.data.shapes.ObjectKind;
import org.factrl.data.shapes.Words;

/**
 * Generates {@link SftTasks}: what the SFT split needs so that a model answers each kind of
 * evaluation question in its own form (an open MMHal question with a sentence, a POPE probe with
 * "Yes"/"No" first) and so that the projector sees short captions.
 */
final class SftQuestions {
  private SftQuestions() {}

  static SftTasks generate(SceneFacts f, String description, List<String> captions, ObjectStatistics stats,
      int popeObjects, SplittableRandom rng) {
    String briefPrompt = Phrasing.pick(rng, Phrasing.BRIEF);
    String briefCaption = captions.get(rng.nextInt(captions.size()));
    ImmutableList<MmhalQuestion> open = MmhalQuestions.generate(f, description, rng, true);
    return new SftTasks(briefPrompt, briefCaption, open, probes(f, popeObjects, rng));
  }

  /**
   * Up to {@code n} present kinds ("yes") and as many absent ones ("no"), shuffled. Half the
   * absent kinds (in turn, starting at a random one) are hard: drawn uniformly from the absent
   * kinds that share a shape or a colour with an object in the scene ("a red star" beside a red
   * circle and a blue star), the negatives POPE's adversarial setting asks about; the others are
   * drawn uniformly from all absent kinds.
   *
   * <p><b>Why not POPE's own rankings.</b> Popular and adversarial evaluation probes rank absent
   * kinds by data-set frequency and co-occurrence, so their top choice is nearly always the same
   * few kinds: used for training, "orange cross" was asked 4,261 times in a 10,000-scene SFT split
   * with the answer "yes" 11% of the time against 60–69% for the other kinds, and a model learnt
   * to answer from the question's words instead of the image (POPE random accuracy 0.51, yes-ratio
   * 0.79). Drawing uniformly within each pool keeps P(yes | kind) the same for every kind (kinds
   * are drawn uniformly in scenes, so the pools are symmetric), so only the image tells the answer.
   */
  static ImmutableList<PresenceProbe> probes(SceneFacts f, int n, SplittableRandom rng) {
    List<ObjectKind> present = new ArrayList<>(f.present);
    Shuffle.inPlace(present, rng);
    List<ObjectKind> positives = present.subList(0, Math.min(n, present.size()));
    List<PresenceProbe> out = new ArrayList<>();
    for (ObjectKind k : positives) {
      out.add(probe(f, PopeSampling.RANDOM, k, true, rng));
    }
    List<ObjectKind> hard = new ArrayList<>();
    List<ObjectKind> any = new ArrayList<>(f.absent);
    for (ObjectKind k : f.absent) {
      if (sharesShapeOrColour(f, k)) {
        hard.add(k);
      }
    }
    Shuffle.inPlace(hard, rng);
    Shuffle.inPlace(any, rng);
    Set<ObjectKind> chosen = new HashSet<>();
    boolean hardTurn = rng.nextBoolean();
    for (int i = 0; i < positives.size() && chosen.size() < f.absent.size(); i++, hardTurn = !hardTurn) {
      List<ObjectKind> pool = hardTurn && hard.stream().anyMatch(k -> !chosen.contains(k)) ? hard : any;
      PopeSampling sampling = pool == hard ? PopeSampling.ADVERSARIAL : PopeSampling.RANDOM;
      for (ObjectKind k : pool) {
        if (chosen.add(k)) {
          out.add(probe(f, sampling, k, false, rng));
          break;
        }
      }
    }
    Shuffle.inPlace(out, rng);
    return ImmutableList.copyOf(out);
  }

  private static boolean sharesShapeOrColour(SceneFacts f, ObjectKind k) {
    for (ObjectKind p : f.present) {
      if (p.shape() == k.shape() || p.colour() == k.colour()) {
        return true;
      }
    }
    return false;
  }

  /** The question in one of POPE's wordings; the reply a bare "Yes."/"No." or with the fact stated. */
  private static PresenceProbe probe(SceneFacts f, PopeSampling sampling, ObjectKind k, boolean present,
      SplittableRandom rng) {
    String question = Phrasing.pick(rng, Phrasing.PRESENCE, Words.withArticle(k.phrase()));
    String fact = Words.thereAre(present ? f.count(k) : 0, k.colour().word(), k.shape());
    String word = present ? "Yes" : "No";
    String reply = switch (rng.nextInt(3)) {
      case 0 -> word + ".";
      case 1 -> word + ", " + Character.toLowerCase(fact.charAt(0)) + fact.substring(1, fact.length() - 1)
          + " in the image.";
      default -> word + ". " + fact;
    };
    return new PresenceProbe(sampling, k, present, question, reply);
  }
}
