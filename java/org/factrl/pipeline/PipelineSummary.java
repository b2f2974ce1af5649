package org.factrl.pipeline;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Locale;

/**
 * The pipeline's closing table and the per-variant objects of {@code summary.json}: the headline
 * metrics of each evaluation ({@code metrics.json}) and, for the RLHF variants, the held-out
 * accuracy of the reward model that variant used.
 */
final class PipelineSummary {
  /** summary.json's variant keys and the table's column titles, in order. */
  static final List<String> VARIANTS = List.of("sft", "rlhf", "fact_rlhf");
  static final List<String> TITLES = List.of("SFT", "RLHF", "Fact-RLHF");

  /** The metric keys every variant carries (from its evaluation), in the table's order. */
  static final List<String> EVAL_KEYS = List.of("hallucination_rate", "mmhal_score", "pope_f1", "chair_s", "chair_i",
      "mean_response_tokens");
  static final String RM_ACCURACY = "rm_accuracy";

  private static final List<String> ROWS = List.of("hallucination rate", "MMHal score (0-6)", "POPE F1", "CHAIRs",
      "CHAIRi", "mean answer tokens", "RM accuracy (held out)");

  private PipelineSummary() {}

  /** One variant's object: the headline metrics, POPE accuracy, and the RM's accuracy when given (not NaN). */
  static JsonObject variant(JsonObject evalMetrics, double rmAccuracy) {
    JsonObject o = new JsonObject();
    for (String k : EVAL_KEYS) {
      o.add(k, evalMetrics.get(k));
    }
    o.add("pope_accuracy", evalMetrics.get("pope_accuracy"));
    if (!Double.isNaN(rmAccuracy)) {
      o.addProperty(RM_ACCURACY, rmAccuracy);
    }
    return o;
  }

  /** The table: one row per metric, one column per variant ("-" where a metric does not apply). */
  static String table(JsonObject summary) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%-24s", ""));
    for (String t : TITLES) {
      b.append(String.format(Locale.ROOT, "%12s", t));
    }
    b.append('\n');
    List<String> keys = new java.util.ArrayList<>(EVAL_KEYS);
    keys.add(RM_ACCURACY);
    for (int r = 0; r < keys.size(); r++) {
      b.append(String.format(Locale.ROOT, "%-24s", ROWS.get(r)));
      for (String v : VARIANTS) {
        JsonElement e = summary.getAsJsonObject(v).get(keys.get(r));
        String cell = e == null || e.isJsonNull() ? "-"
            : String.format(Locale.ROOT, keys.get(r).equals("mean_response_tokens") || keys.get(r).equals("mmhal_score")
                ? "%.2f" : "%.3f", e.getAsDouble());
        b.append(String.format(Locale.ROOT, "%12s", cell));
      }
      b.append('\n');
    }
    return b.toString();
  }
}
