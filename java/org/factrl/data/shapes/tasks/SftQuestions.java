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
    return new SftTasks(briefPrompt, briefCaption, open, probes(f, stats, popeObjects, rng));
  }

  /**
   * Up to {@code n} present kinds ("yes") and as many absent ones ("no"), shuffled; the absent
   * kinds are taken in turn from the random, popular and adversarial rankings (starting at a random
   * one), so the model meets POPE's hard negatives as well as easy ones.
   */
  static ImmutableList<PresenceProbe> probes(SceneFacts f, ObjectStatistics stats, int n, SplittableRandom rng) {
    List<ObjectKind> present = new ArrayList<>(f.present);
    Shuffle.inPlace(present, rng);
    List<ObjectKind> positives = present.subList(0, Math.min(n, present.size()));
    List<PresenceProbe> out = new ArrayList<>();
    for (ObjectKind k : positives) {
      out.add(probe(f, PopeSampling.RANDOM, k, true, rng));
    }
    Set<ObjectKind> chosen = new HashSet<>();
    int first = rng.nextInt(PopeSampling.values().length);
    for (int i = 0; i < positives.size() && chosen.size() < f.absent.size(); i++) {
      PopeSampling sampling = PopeSampling.values()[(first + i) % PopeSampling.values().length];
      for (ObjectKind k : PopeProbes.negatives(sampling, f, stats, f.absent.size(), rng)) {
        if (chosen.add(k)) {
          out.add(probe(f, sampling, k, false, rng));
          break;
        }
      }
    }
    Shuffle.inPlace(out, rng);
    return ImmutableList.copyOf(out);
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
