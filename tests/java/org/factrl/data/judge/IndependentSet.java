package org.factrl.data.judge;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.factrl.data.MmhalType;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneJson;

/**
 * The independent answer set (tests/resources/org/factrl/data/judge/independent, written on branch
 * judgeset by someone who had not read the judge): labelled answers, judged here, with accuracy,
 * false-alarm rate (truthful called hallucinated) and miss rate (hallucinated passed) per MMHal
 * type and POPE.
 */
final class IndependentSet {
  private IndependentSet() {}

  static final String DIR = "/org/factrl/data/judge/independent/";

  /** One labelled answer. */
  record Item(String id, String imageId, String type, String question, String answer,
      boolean hallucinated, String cls) {}

  /** One answer with the judge's verdict. */
  record Result(Item item, boolean judged, Judgement judgement) {
    boolean right() {
      return judged == item.hallucinated();
    }
  }

  /** Rates over a group of results. */
  record Rates(int n, int truthful, int hallucinated, int falseAlarms, int misses) {
    double accuracy() {
      return n == 0 ? 1 : 1 - (double) (falseAlarms + misses) / n;
    }

    double falseAlarmRate() {
      return truthful == 0 ? 0 : (double) falseAlarms / truthful;
    }

    double missRate() {
      return hallucinated == 0 ? 0 : (double) misses / hallucinated;
    }
  }

  static String resource(String name) {
    try (InputStream in = IndependentSet.class.getResourceAsStream(DIR + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + DIR + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Map<String, Scene> scenes() {
    Map<String, Scene> out = new HashMap<>();
    for (Scene s : SceneJson.parseList(resource("annotations.json"), "annotations.json")) {
      out.put(s.id(), s);
    }
    return out;
  }

  static List<Item> items() {
    List<Item> out = new ArrayList<>();
    for (String line : resource("answers.jsonl").split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      out.add(new Item(o.get("id").getAsString(), o.get("image_id").getAsString(),
          o.get("question_type").getAsString(), o.get("question").getAsString(),
          o.get("answer").getAsString(), o.get("hallucinated").getAsBoolean(),
          o.get("class").getAsString()));
    }
    return out;
  }

  /** Judges every item: MMHal types with their type, POPE as a yes/no question. */
  static List<Result> judgeAll(ExactJudge judge) {
    Map<String, Scene> scenes = scenes();
    List<Result> out = new ArrayList<>();
    for (Item it : items()) {
      Scene s = scenes.get(it.imageId());
      if (s == null) {
        throw new IllegalStateException(it.id() + ": no scene " + it.imageId());
      }
      Judgement j = MmhalType.fromMmhalName(it.type())
          .map(t -> judge.judge(s, t, it.question(), it.answer()))
          .orElseGet(() -> judge.judge(s, it.question(), it.answer()));
      out.add(new Result(it, j.hallucinated(), j));
    }
    return out;
  }

  /** Rates per question type ("pope" included), plus "all". */
  static Map<String, Rates> byType(List<Result> results) {
    Map<String, List<Result>> groups = new TreeMap<>();
    for (Result r : results) {
      groups.computeIfAbsent(r.item().type(), k -> new ArrayList<>()).add(r);
      groups.computeIfAbsent("all", k -> new ArrayList<>()).add(r);
    }
    Map<String, Rates> out = new TreeMap<>();
    groups.forEach((k, v) -> out.put(k, rates(v)));
    return out;
  }

  /** Rates per answer class. */
  static Map<String, Rates> byClass(List<Result> results) {
    Map<String, List<Result>> groups = new TreeMap<>();
    for (Result r : results) {
      groups.computeIfAbsent(r.item().cls(), k -> new ArrayList<>()).add(r);
    }
    Map<String, Rates> out = new TreeMap<>();
    groups.forEach((k, v) -> out.put(k, rates(v)));
    return out;
  }

  static Rates rates(List<Result> rs) {
    int t = 0;
    int h = 0;
    int fa = 0;
    int miss = 0;
    for (Result r : rs) {
      if (r.item().hallucinated()) {
        h++;
        miss += r.judged() ? 0 : 1;
      } else {
        t++;
        fa += r.judged() ? 1 : 0;
      }
    }
    return new Rates(rs.size(), t, h, fa, miss);
  }

  static String table(Map<String, Rates> rates) {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
        "%-12s %5s %9s %12s %9s%n", "group", "n", "accuracy", "false-alarm", "miss"));
    rates.forEach((k, r) -> b.append(String.format(Locale.ROOT,
        "%-12s %5d %8.1f%% %11.1f%% %8.1f%%%n", k, r.n(), 100 * r.accuracy(),
        100 * r.falseAlarmRate(), 100 * r.missRate())));
    return b.toString();
  }
}
