package org.factrl.reward;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.factrl.data.dataset.AnnotatedJudge;
import org.factrl.data.format.AtomicFiles;
import org.factrl.data.format.Conversations;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.format.Speaker;
import org.factrl.data.format.Turn;
import org.factrl.data.image.ImagePaths;
import org.factrl.data.judge.ExactJudge;
import org.factrl.data.judge.Preference;
import org.factrl.data.judge.PreferenceLabeler;
import org.factrl.data.judge.QuestionContext;
import org.factrl.data.shapes.Scene;
import org.factrl.engine.FactRlException;
import org.factrl.eval.Answer;
import org.factrl.eval.Question;
import org.factrl.train.DataOrder;
import org.factrl.train.SplitMix64;

/**
 * Preference pairs as in LLaVA-RLHF (DESIGN.md §4.2, issue 12): for each reward-model prompt, two
 * responses sampled from the SFT model, labelled by the exact judge against the image's annotation.
 *
 * <p><b>Label.</b> {@link PreferenceLabeler}: the response with fewer hallucinated claims wins
 * ({@link org.factrl.data.judge.Judgement#hallucinationCount}); on equal hallucinations the more informative one wins,
 * counted as {@link org.factrl.data.judge.Judgement#informativeCount}: the correct claims that
 * count as informative in the judge's rubric (the MMHal scale's C), so a correct negative that does
 * not answer the question ("There is no dog.") or a bare "there is a star" beside "a large yellow
 * star" earns nothing. A pair still tied after both is dropped (the labeler's length and "first
 * wins" fallbacks are not used: they would teach the reward model length), as are pairs whose two
 * responses are identical after trimming and pairs with an empty response (the format needs text).
 *
 * <p><b>Prompts.</b> The reward-model split's prompts are the distinct (image, prompt turns) of
 * the data set's {@code preferences.json} (the RM split's scenes, one description prompt each in
 * the shapes world), in file order; each keeps the facts (captions, rationale) of its first record.
 *
 * <p><b>Order and seeds.</b> Round r visits the prompts in a seeded permutation ({@link DataOrder},
 * epoch r) in chunks of {@code prompts_per_batch}; a chunk is one generation call of 2 rows per
 * prompt (the two rows of a prompt draw from different streams), seeded by a pure function of
 * (seed, round, chunk). Sampling stops as soon as {@link PreferenceSamplerConfig#sampledPairs} pairs
 * are kept, or after {@code max_rounds} rounds. So a seed gives the same pairs, in the same order.
 *
 * <p><b>Output.</b> {@link PreferencePairCodec}'s records, plus fields the reader ignores (unknown
 * fields are allowed by the format): {@code "source": "sampled" | "bootstrap"}, and on sampled
 * records {@code "rule"} ({@code fewer_hallucinations} / {@code more_informative}) and
 * {@code informative_1} / {@code informative_2}. Sampled ids are {@code <prompt>-sampled-<round>}.
 */
public final class PreferenceSampler {
  /** Where a pair came from ({@code source} field). */
  public enum Source {
    SAMPLED, BOOTSTRAP;

    public String jsonName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Why two responses gave no pair. */
  public enum Drop {
    /** A response is empty after trimming. */
    EMPTY,
    /** Both responses are the same text after trimming. */
    IDENTICAL,
    /** Same hallucinated and same informative counts. */
    TIED
  }

  /**
   * One reward-model prompt: {@code id} names it in pair ids and errors, {@code scene} is its
   * image's annotation, {@code image} the record's image field and {@code imageFile} the file.
   */
  public record Prompt(String id, Scene scene, String image, Path imageFile, ImmutableList<Turn> turns,
      ImmutableList<String> captions, Optional<String> rationale) {
    public Prompt {
      Preconditions.checkNotNull(id, "id");
      Preconditions.checkNotNull(scene, "scene");
      Preconditions.checkNotNull(image, "image");
      Preconditions.checkNotNull(imageFile, "imageFile");
      Preconditions.checkArgument(turns != null && turns.size() == 1 && turns.get(0).from() == Speaker.HUMAN,
          "prompt %s: one human turn expected", id);
      Preconditions.checkNotNull(captions, "captions");
      Preconditions.checkNotNull(rationale, "rationale");
    }

    /** The question without the image placeholder (the generator places the image before it). */
    public String question() {
      return turns.get(0).value().replace(Conversations.IMAGE_PLACEHOLDER, "").strip();
    }
  }

  /** A pair in the output, with its provenance; {@code rule} and the informative counts only for sampled pairs. */
  public record LabelledPair(PreferencePair pair, Source source, Optional<Preference.Rule> rule,
      OptionalInt informative1, OptionalInt informative2) {
    public LabelledPair {
      Preconditions.checkNotNull(pair, "pair");
      Preconditions.checkNotNull(source, "source");
      Preconditions.checkNotNull(rule, "rule");
    }

    /** The record as the file holds it: the format's fields plus provenance. */
    public JsonObject toJson() {
      JsonObject o = PreferencePairCodec.toJson(pair);
      o.addProperty("source", source.jsonName());
      rule.ifPresent(r -> o.addProperty("rule", r == Preference.Rule.FEWER_HALLUCINATIONS
          ? "fewer_hallucinations" : "more_informative"));
      informative1.ifPresent(n -> o.addProperty("informative_1", n));
      informative2.ifPresent(n -> o.addProperty("informative_2", n));
      return o;
    }
  }

  /** The outcome of labelling two responses: a pair, or why there is none. */
  public record Labelled(Optional<LabelledPair> pair, Optional<Drop> drop, int hallucinations1,
      int hallucinations2) {}

  /** Generates one response per question (in order) with the given seed; the model behind it. */
  @FunctionalInterface
  public interface Responder {
    List<Answer> respond(List<Question> questions, long seed);
  }

  /** What {@link #sample} produced and what it cost. */
  public record Result(ImmutableList<LabelledPair> pairs, ImmutableMap<Drop, Integer> dropped, int rounds,
      int responses, int cutOff, double generateSeconds, double judgeSeconds) {}

  private static final long ORDER_SALT = 0x5a3b1e0dL;
  private static final long SAMPLE_SALT = 0x7e3a9c21L;

  private final PreferenceSamplerConfig config;
  private final ExactJudge judge;
  private final PreferenceLabeler labeler;

  public PreferenceSampler(PreferenceSamplerConfig config) {
    this.config = Preconditions.checkNotNull(config, "config");
    this.judge = new ExactJudge();
    this.labeler = new PreferenceLabeler(judge);
  }

  public PreferenceSamplerConfig config() {
    return config;
  }

  /**
   * The reward-model prompts of {@code records} (see the class comment). Every record needs an
   * image that {@code scenes} (by image field) annotates and a single human prompt turn; errors
   * name the file and record.
   */
  public static ImmutableList<Prompt> prompts(List<PreferencePair> records, Map<String, Scene> scenes,
      Path imageDir, Path file) {
    Map<String, Prompt> byKey = new LinkedHashMap<>();
    Map<String, Integer> perScene = new LinkedHashMap<>();
    for (int i = 0; i < records.size(); i++) {
      PreferencePair p = records.get(i);
      String where = file + ": record " + i + " ('" + p.id() + "')";
      if (p.image().isEmpty()) {
        throw new FactRlException(where + ": has no image; sampled pairs are judged against the image's annotation");
      }
      if (p.prompt().size() != 1) {
        throw new FactRlException(where + ": a prompt of " + p.prompt().size() + " turns; only single-question"
            + " prompts can be sampled");
      }
      Scene scene = scenes.get(p.image().get());
      if (scene == null) {
        throw new FactRlException(where + ": image " + p.image().get() + " has no annotation");
      }
      String key = p.image().get() + "\u0000" + p.prompt().get(0).value();
      if (!byKey.containsKey(key)) {
        int k = perScene.merge(scene.id(), 1, Integer::sum) - 1;
        String id = k == 0 ? scene.id() : scene.id() + "-q" + k;
        Path imageFile = ImagePaths.resolve(imageDir, p.image().get(), where + ": field 'image'");
        byKey.put(key, new Prompt(id, scene, p.image().get(), imageFile, p.prompt(), p.captions(), p.rationale()));
      }
    }
    return ImmutableList.copyOf(byKey.values());
  }

  /** The judge's question context for a prompt ({@link AnnotatedJudge#context}: PPO's monitor reads questions alike). */
  private QuestionContext context(Prompt p) {
    return AnnotatedJudge.context(judge, p.question());
  }

  /** Labels two responses to {@code prompt} (see the class comment); {@code id} names the pair. */
  public Labelled label(Prompt prompt, String id, String responseA, String responseB) {
    return label(prompt, context(prompt), id, responseA, responseB);
  }

  private Labelled label(Prompt prompt, QuestionContext context, String id, String responseA, String responseB) {
    String a = responseA.strip();
    String b = responseB.strip();
    if (a.isEmpty() || b.isEmpty()) {
      return new Labelled(Optional.empty(), Optional.of(Drop.EMPTY), 0, 0);
    }
    if (a.equals(b)) {
      return new Labelled(Optional.empty(), Optional.of(Drop.IDENTICAL), 0, 0);
    }
    Preference pref = labeler.compare(prompt.scene(), context, a, b);
    int ha = pref.a().hallucinationCount();
    int hb = pref.b().hallucinationCount();
    if (!pref.decisive()) {
      return new Labelled(Optional.empty(), Optional.of(Drop.TIED), ha, hb);
    }
    PreferencePair pair = new PreferencePair(id, Optional.of(prompt.image()), prompt.turns(), a, b,
        pref.preferred() + 1, OptionalInt.of(ha), OptionalInt.of(hb), prompt.captions(), prompt.rationale());
    return new Labelled(Optional.of(new LabelledPair(pair, Source.SAMPLED, Optional.of(pref.rule()),
        OptionalInt.of(pref.a().informativeCount()), OptionalInt.of(pref.b().informativeCount()))),
        Optional.empty(), ha, hb);
  }

  /**
   * Samples and labels until {@link PreferenceSamplerConfig#sampledPairs} pairs are kept or
   * {@code max_rounds} rounds are done (see the class comment). {@code progress} (may be null) gets
   * a line per round.
   */
  public Result sample(List<Prompt> prompts, Responder responder, PrintStream progress) {
    Preconditions.checkNotNull(prompts, "prompts");
    Preconditions.checkNotNull(responder, "responder");
    if (prompts.isEmpty()) {
      throw new FactRlException("no reward-model prompts to sample");
    }
    int want = config.sampledPairs();
    int n = prompts.size();
    int chunk = config.promptsPerBatch();
    int chunksPerRound = (n + chunk - 1) / chunk;
    List<QuestionContext> contexts = new ArrayList<>(n);
    for (Prompt p : prompts) {
      contexts.add(context(p));
    }
    List<LabelledPair> kept = new ArrayList<>();
    int[] dropped = new int[Drop.values().length];
    int responses = 0;
    int cutOff = 0;
    long generateNanos = 0;
    long judgeNanos = 0;
    int round = 0;
    while (round < config.maxRounds() && kept.size() < want) {
      int[] order = DataOrder.permutation(n, SplitMix64.mix(config.seed() ^ ORDER_SALT), round);
      for (int c = 0; c < chunksPerRound && kept.size() < want; c++) {
        int[] idx = Arrays.copyOfRange(order, c * chunk, Math.min(n, (c + 1) * chunk));
        List<Question> questions = new ArrayList<>(2 * idx.length);
        for (int i : idx) {
          Prompt p = prompts.get(i);
          questions.add(new Question(p.id() + "-sampled-" + round + "-a", p.scene().id(), p.imageFile(), p.question()));
          questions.add(new Question(p.id() + "-sampled-" + round + "-b", p.scene().id(), p.imageFile(), p.question()));
        }
        long seed = SplitMix64.mix(SplitMix64.mix(config.seed() ^ SAMPLE_SALT) + (long) round * chunksPerRound + c);
        long t0 = System.nanoTime();
        List<Answer> answers = responder.respond(questions, seed);
        long t1 = System.nanoTime();
        generateNanos += t1 - t0;
        if (answers.size() != questions.size()) {
          throw new FactRlException("the responder gave " + answers.size() + " answers to " + questions.size()
              + " questions");
        }
        responses += answers.size();
        for (Answer a : answers) {
          cutOff += a.stopped() ? 0 : 1;
        }
        for (int k = 0; k < idx.length && kept.size() < want; k++) {
          Prompt p = prompts.get(idx[k]);
          Labelled l = label(p, contexts.get(idx[k]), p.id() + "-sampled-" + round, answers.get(2 * k).text(),
              answers.get(2 * k + 1).text());
          l.pair().ifPresent(kept::add);
          l.drop().ifPresent(d -> dropped[d.ordinal()]++);
        }
        judgeNanos += System.nanoTime() - t1;
      }
      round++;
      if (progress != null) {
        progress.printf(Locale.ROOT, "prefs: round %d: %d of %d pairs kept from %d responses (%.1f s generating,"
            + " %.1f s judging)%n", round, kept.size(), want, responses, generateNanos / 1e9, judgeNanos / 1e9);
      }
    }
    ImmutableMap.Builder<Drop, Integer> drops = ImmutableMap.builder();
    for (Drop d : Drop.values()) {
      drops.put(d, dropped[d.ordinal()]);
    }
    return new Result(ImmutableList.copyOf(kept), drops.build(), round, responses, cutOff, generateNanos / 1e9,
        judgeNanos / 1e9);
  }

  /**
   * The bootstrap supplement for {@code sampled} sampled pairs: {@link
   * PreferenceSamplerConfig#bootstrapPairsFor} of {@code available} (at most all), a seeded choice
   * kept in file order. The data set's bootstrap pairs are already length-balanced and drawn from
   * plausible in-world errors ({@link org.factrl.data.judge.CorruptionBootstrap}).
   */
  public ImmutableList<LabelledPair> bootstrap(List<PreferencePair> available, int sampled) {
    int count = Math.min(available.size(), config.bootstrapPairsFor(sampled));
    int[] perm = DataOrder.permutation(available.size(), SplitMix64.mix(config.seed() ^ ORDER_SALT ^ 0xb007L), 0);
    boolean[] take = new boolean[available.size()];
    for (int i = 0; i < count; i++) {
      take[perm[i]] = true;
    }
    ImmutableList.Builder<LabelledPair> out = ImmutableList.builder();
    for (int i = 0; i < available.size(); i++) {
      if (take[i]) {
        out.add(new LabelledPair(available.get(i), Source.BOOTSTRAP, Optional.empty(), OptionalInt.empty(),
            OptionalInt.empty()));
      }
    }
    return out.build();
  }

  /** Writes {@code pairs} as a preferences file (pretty JSON array, atomic, UTF-8), provenance included. */
  public static void write(Path file, List<LabelledPair> pairs) {
    JsonArray array = new JsonArray(pairs.size());
    for (LabelledPair p : pairs) {
      array.add(p.toJson());
    }
    AtomicFiles.writeString(file, JsonRecords.toPrettyJson(array) + "\n");
  }

  /** The {@code source} of every record of a preferences file (absent: "" for files of other tools). */
  public static ImmutableList<String> sources(Path file) {
    JsonElement root = JsonRecords.readDocument(file);
    if (!root.isJsonArray()) {
      throw new FactRlException(file + ": expected a JSON array of preference records");
    }
    ImmutableList.Builder<String> out = ImmutableList.builder();
    for (JsonElement e : root.getAsJsonArray()) {
      JsonObject o = e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
      out.add(o.has("source") && o.get("source").isJsonPrimitive() ? o.get("source").getAsString() : "");
    }
    return out.build();
  }
}
