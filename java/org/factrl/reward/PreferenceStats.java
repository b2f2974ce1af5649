package org.factrl.reward;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.judge.Preference;

/**
 * Label statistics of a preferences file, the check that a reward model cannot win on a shortcut:
 * how often the longer response wins (characters of the trimmed text; equal lengths counted apart),
 * the hallucinated claims of preferred and rejected responses, and which rule decided the sampled
 * pairs. Pure function of the pairs.
 */
public final class PreferenceStats {
  private PreferenceStats() {}

  /** Statistics of {@code pairs} (any mix of sources). */
  public static JsonObject of(List<PreferenceSampler.LabelledPair> pairs) {
    int longerWins = 0;
    int equalLength = 0;
    long charsPreferred = 0;
    long charsRejected = 0;
    int counted = 0;
    long hallPreferred = 0;
    long hallRejected = 0;
    int preferredHallucinating = 0;
    int rejectedHallucinating = 0;
    long infPreferred = 0;
    long infRejected = 0;
    int informativeCounted = 0;
    int fewerHallucinations = 0;
    int moreInformative = 0;
    Map<Integer, Integer> histogram = new TreeMap<>();
    for (PreferenceSampler.LabelledPair lp : pairs) {
      PreferencePair p = lp.pair();
      int lw = p.preferred().strip().length();
      int ll = p.rejected().strip().length();
      charsPreferred += lw;
      charsRejected += ll;
      if (lw == ll) {
        equalLength++;
      } else if (lw > ll) {
        longerWins++;
      }
      if (p.hallucinations1().isPresent() && p.hallucinations2().isPresent()) {
        int h1 = p.hallucinations1().getAsInt();
        int h2 = p.hallucinations2().getAsInt();
        int hp = p.preference() == 1 ? h1 : h2;
        int hr = p.preference() == 1 ? h2 : h1;
        counted++;
        hallPreferred += hp;
        hallRejected += hr;
        preferredHallucinating += hp > 0 ? 1 : 0;
        rejectedHallucinating += hr > 0 ? 1 : 0;
        histogram.merge(h1, 1, Integer::sum);
        histogram.merge(h2, 1, Integer::sum);
      }
      if (lp.informative1().isPresent() && lp.informative2().isPresent()) {
        int i1 = lp.informative1().getAsInt();
        int i2 = lp.informative2().getAsInt();
        informativeCounted++;
        infPreferred += p.preference() == 1 ? i1 : i2;
        infRejected += p.preference() == 1 ? i2 : i1;
      }
      if (lp.rule().isPresent()) {
        if (lp.rule().get() == Preference.Rule.FEWER_HALLUCINATIONS) {
          fewerHallucinations++;
        } else {
          moreInformative++;
        }
      }
    }
    int n = pairs.size();
    JsonObject o = new JsonObject();
    o.addProperty("pairs", n);
    o.addProperty("longer_wins", n == 0 ? 0 : (double) longerWins / n);
    o.addProperty("equal_length", equalLength);
    o.addProperty("mean_chars_preferred", n == 0 ? 0 : (double) charsPreferred / n);
    o.addProperty("mean_chars_rejected", n == 0 ? 0 : (double) charsRejected / n);
    if (counted > 0) {
      o.addProperty("mean_hallucinations_preferred", (double) hallPreferred / counted);
      o.addProperty("mean_hallucinations_rejected", (double) hallRejected / counted);
      o.addProperty("preferred_hallucinating", (double) preferredHallucinating / counted);
      o.addProperty("rejected_hallucinating", (double) rejectedHallucinating / counted);
      JsonObject h = new JsonObject();
      histogram.forEach((k, v) -> h.addProperty(Integer.toString(k), v));
      o.add("responses_by_hallucinations", h);
    }
    if (informativeCounted > 0) {
      o.addProperty("mean_informative_preferred", (double) infPreferred / informativeCounted);
      o.addProperty("mean_informative_rejected", (double) infRejected / informativeCounted);
    }
    if (fewerHallucinations + moreInformative > 0) {
      JsonObject r = new JsonObject();
      r.addProperty("fewer_hallucinations", fewerHallucinations);
      r.addProperty("more_informative", moreInformative);
      o.add("decided_by", r);
    }
    return o;
  }
}
