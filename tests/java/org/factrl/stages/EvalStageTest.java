package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.factrl.data.MmhalType;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.MmhalRecord;
import org.factrl.data.format.Turn;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.eval.EvalConfig;
import org.factrl.eval.EvalData;
import org.factrl.eval.Evaluator;
import org.factrl.eval.PromptEncoder;
import org.factrl.eval.Question;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.ParamGroup;
import org.factrl.model.Projector;
import org.factrl.model.io.IfExists;
import org.factrl.train.ConversationEncoder;
import org.factrl.train.TrainingExample;
import org.factrl.testing.TreeSnapshot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The eval stage end to end with a micro model of random weights (P = 4 image tokens, 16×16
 * images) on a small generated data set: the three files are written and well formed, and every
 * headline metric equals what the per-question records give when recomputed; the response template
 * reads back with MmhalCodec; greedy answers do not depend on the batch; an SFT run folder is
 * evaluated with its LoRA adapter; prompts are the SFT sequences' prefixes; a user's folder is
 * refused and an earlier evaluation's output replaced.
 */
class EvalStageTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path data;
  static Path base;
  static Path tokenizer;
  static EvalData eval;
  static int vocab;

  @BeforeAll
  static void setUp() {
    data = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(30).imageSize(16).seed(4).build().write(data);
    DataSetFiles files = DataSetFiles.in(data);
    tokenizer = files.tokenizer();
    try (Tokenizer t = Tokenizer.load(tokenizer)) {
      vocab = t.vocabSize();
    }
    eval = EvalData.of(files);
    base = shared.resolve("base");
    try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, micro())) {
      m.initWeights(7, 0.5f);
      m.saveBase(base, IfExists.FAIL);
    }
  }

  static ModelConfig micro() {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(vocab).hidden(32).layers(2).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
  }

  private static EvalConfig config(int batch) {
    return EvalConfig.builder().batchSize(batch).maxNewTokens(6).limit(5).chair(true).build();
  }

  private static List<JsonObject> lines(Path file) throws IOException {
    List<JsonObject> out = new ArrayList<>();
    for (String l : Files.readAllLines(file)) {
      out.add(JsonParser.parseString(l).getAsJsonObject());
    }
    return out;
  }

  private static JsonObject json(Path file) throws IOException {
    return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
  }

  @Test
  void writesWellFormedMetricsThatAgreeWithThePerQuestionRecords() throws IOException {
    Path out = dir.resolve("out");
    EvalResult r = EvalStage.run(config(3), eval, base, tokenizer, out, EvalStage.Options.quiet());
    try (var s = Files.list(out)) {
      assertEquals(List.of("answers.jsonl", "metrics.json", "response_template.json"),
          s.map(p -> p.getFileName().toString()).sorted().toList());
    }
    JsonObject m = json(r.metrics());
    assertEquals(Evaluator.FORMAT, m.get("format").getAsString());
    for (String k : List.of("hallucination_rate", "mmhal_score", "pope_f1", "pope_accuracy", "chair_s", "chair_i",
        "mean_response_tokens", "mmhal", "pope", "chair", "lengths", "seconds", "settings", "model")) {
      assertTrue(m.has(k) && !m.get(k).isJsonNull(), k);
    }
    for (String k : List.of("mmhal", "pope", "chair", "load", "total")) {
      assertTrue(m.getAsJsonObject("seconds").get(k).getAsDouble() >= 0, k);
    }
    JsonObject settings = m.getAsJsonObject("settings");
    assertEquals(6, settings.get("max_new_tokens").getAsInt());
    assertEquals(0.0, settings.get("temperature").getAsDouble());
    assertEquals(3, settings.get("batch_size").getAsInt());
    assertEquals(base.toAbsolutePath().normalize().toString(), m.getAsJsonObject("model").get("checkpoint").getAsString());
    assertEquals("none", m.getAsJsonObject("model").get("adapter").getAsString());

    List<JsonObject> answers = lines(r.answers());
    List<JsonObject> mmhal = answers.stream().filter(o -> o.get("phase").getAsString().equals("mmhal")).toList();
    List<JsonObject> pope = answers.stream().filter(o -> o.get("phase").getAsString().equals("pope")).toList();
    List<JsonObject> chair = answers.stream().filter(o -> o.get("phase").getAsString().equals("chair")).toList();
    assertEquals(5, mmhal.size());
    assertEquals(15, pope.size(), "5 of each of the 3 POPE files");
    assertEquals(eval.limit(5).distinctImages().size(), chair.size());
    assertEquals(answers.size(), mmhal.size() + pope.size() + chair.size());
    for (JsonObject o : answers) {
      int tokens = o.get("tokens").getAsInt();
      assertTrue(tokens >= 0 && tokens <= 6, o.toString());
      assertTrue(tokens == 6 || o.get("stopped").getAsBoolean(), "short only when stopped at EOS: " + o);
    }
    // MMHal: rate and score recomputed from the records
    double hall = mmhal.stream().filter(o -> o.get("score").getAsInt() < 3).count() / 5.0;
    double score = mmhal.stream().mapToInt(o -> o.get("score").getAsInt()).average().orElseThrow();
    double tokens = mmhal.stream().mapToInt(o -> o.get("tokens").getAsInt()).average().orElseThrow();
    assertEquals(hall, m.get("hallucination_rate").getAsDouble(), 1e-12);
    assertEquals(score, m.get("mmhal_score").getAsDouble(), 1e-12);
    assertEquals(tokens, m.get("mean_response_tokens").getAsDouble(), 1e-12);
    assertEquals(hall, r.report().hallucinationRate(), 1e-12);
    Map<String, Integer> perType = new TreeMap<>();
    mmhal.forEach(o -> perType.merge(o.get("question_type").getAsString(), 1, Integer::sum));
    JsonObject types = m.getAsJsonObject("mmhal").getAsJsonObject("per_type");
    for (MmhalType t : MmhalType.values()) {
      assertEquals(perType.getOrDefault(t.mmhalName(), 0), types.getAsJsonObject(t.mmhalName()).get("answers").getAsInt());
    }
    // POPE: accuracy per sampling and its mean from the records' 'correct'
    double meanAcc = 0;
    for (String s : List.of("random", "popular", "adversarial")) {
      List<JsonObject> l = pope.stream().filter(o -> o.get("sampling").getAsString().equals(s)).toList();
      double acc = l.stream().filter(o -> o.get("correct").getAsBoolean()).count() / (double) l.size();
      double yes = l.stream().filter(o -> o.get("parsed").getAsString().equals("yes")).count() / (double) l.size();
      JsonObject p = m.getAsJsonObject("pope").getAsJsonObject(s);
      assertEquals(acc, p.get("accuracy").getAsDouble(), 1e-12, s);
      assertEquals(yes, p.get("yes_ratio").getAsDouble(), 1e-12, s);
      meanAcc += acc / 3;
    }
    assertEquals(meanAcc, m.get("pope_accuracy").getAsDouble(), 1e-12);
    // CHAIR from the records' object lists
    int objects = chair.stream().mapToInt(o -> o.getAsJsonArray("objects").size()).sum();
    int bad = chair.stream().mapToInt(o -> o.getAsJsonArray("hallucinated_objects").size()).sum();
    long badDescriptions = chair.stream().filter(o -> o.getAsJsonArray("hallucinated_objects").size() > 0).count();
    assertEquals(objects == 0 ? 0 : (double) bad / objects, m.get("chair_i").getAsDouble(), 1e-12);
    assertEquals((double) badDescriptions / chair.size(), m.get("chair_s").getAsDouble(), 1e-12);

    // the response template reads back with MmhalCodec: the questions with our answers
    List<MmhalRecord> template = MmhalCodec.read(r.template());
    assertEquals(5, template.size());
    for (int i = 0; i < 5; i++) {
      assertEquals(eval.mmhal().get(i).withModelAnswer(mmhal.get(i).get("model_answer").getAsString()), template.get(i));
    }
  }

  @Test
  void greedyAnswersDoNotDependOnTheBatch() throws IOException {
    EvalResult one = EvalStage.run(config(1), eval, base, tokenizer, dir.resolve("b1"), EvalStage.Options.quiet());
    EvalResult four = EvalStage.run(config(4), eval, base, tokenizer, dir.resolve("b4"), EvalStage.Options.quiet());
    List<String> a = lines(one.answers()).stream().map(o -> o.get("model_answer").getAsString()).toList();
    List<String> b = lines(four.answers()).stream().map(o -> o.get("model_answer").getAsString()).toList();
    assertEquals(a, b);
    assertTrue(a.stream().anyMatch(s -> !s.isEmpty()), "the model said something");
  }

  @Test
  void anSftRunFolderIsEvaluatedAtItsLatestCheckpointWithItsAdapter() throws IOException {
    Path run = dir.resolve("sft");
    SftConfig c = SftConfig.builder().finetune(FineTuning.LORA).loraRank(4).loraAlpha(8).steps(2).batchSize(2)
        .lr(1e-3).warmupSteps(0).checkpointEvery(1).trainableGroups(EnumSet.noneOf(ParamGroup.class)).build();
    SftStage.run(c, data, BaseModel.fromDir(base), run, new SftStage.Options(null, false, 0));
    EvalConfig small = EvalConfig.builder().batchSize(4).maxNewTokens(3).limit(2).build();
    EvalResult r = EvalStage.run(small, eval, run, tokenizer, dir.resolve("out"), EvalStage.Options.quiet());
    JsonObject model = json(r.metrics()).getAsJsonObject("model");
    assertEquals(run.resolve("checkpoints/step-00000002").toAbsolutePath().normalize().toString(),
        model.get("checkpoint").getAsString());
    assertEquals(SftStage.ADAPTER, model.get("adapter").getAsString());
    // the base alone on request; an adapter it lacks is named
    EvalResult b = EvalStage.run(small.toBuilder().adapter(EvalConfig.BASE).build(), eval, run, tokenizer,
        dir.resolve("base-only"), EvalStage.Options.quiet());
    assertEquals("none", json(b.metrics()).getAsJsonObject("model").get("adapter").getAsString());
    FactRlException e = assertThrows(FactRlException.class, () -> EvalStage.run(small.toBuilder().adapter("ppo")
        .build(), eval, run, tokenizer, dir.resolve("x"), EvalStage.Options.quiet()));
    assertTrue(e.getMessage().contains("no adapter set 'ppo' (has [sft]"), e.getMessage());
  }

  @Test
  void promptsAreThePrefixOfTheSftSequenceOfTheSameQuestion() {
    ModelConfig mc = micro();
    try (Tokenizer t = Tokenizer.load(tokenizer)) {
      PromptEncoder p = new PromptEncoder(t, ChatTemplate.vicunaV1(), mc.imageTokenId(), mc.patchesPerImage());
      ConversationEncoder sft = new ConversationEncoder(t, ChatTemplate.vicunaV1(), mc.imageTokenId(),
          mc.patchesPerImage(), 512, DataSetFiles.in(data).images());
      for (MmhalRecord r : eval.mmhal().subList(0, 5)) {
        int[] prompt = p.encode(new Question("q", r.imageId(), Path.of(r.imageSrc()), r.question()));
        TrainingExample ex = sft.encode(LlavaConversation.withImage("x", r.imageSrc(),
            List.of(Turn.human(PromptEncoder.userTurn(r.question())), Turn.gpt(r.gtAnswer()))));
        int[] full = ex.ids();
        assertTrue(full.length > prompt.length);
        assertArrayEquals(Arrays.copyOf(full, prompt.length), prompt, r.question());
        assertEquals(0, ex.lossMask()[prompt.length - 1], "the prompt's last token is not a target");
        assertEquals(1, ex.lossMask()[prompt.length], "the answer starts right after the prompt");
        assertEquals(mc.patchesPerImage(), Arrays.stream(prompt).filter(id -> id == mc.imageTokenId()).count());
      }
      FactRlException e = assertThrows(FactRlException.class,
          () -> p.encode(new Question("q7", "s", Path.of("x.png"), "<image>\nWhat is this?")));
      assertTrue(e.getMessage().contains("question q7"), e.getMessage());
    }
  }

  @Test
  void refusesAUsersFolderAndReplacesOnlyItsOwnEarlierOutput() throws IOException {
    Path user = dir.resolve("user");
    Files.createDirectories(user);
    Files.writeString(user.resolve("notes.txt"), "mine");
    TreeSnapshot before = TreeSnapshot.of(user);
    EvalConfig small = EvalConfig.builder().batchSize(4).maxNewTokens(2).limit(1).build();
    FactRlException e = assertThrows(FactRlException.class,
        () -> EvalStage.run(small, eval, base, tokenizer, user, EvalStage.Options.quiet()));
    assertTrue(e.getMessage().contains("holds notes.txt"), e.getMessage());
    assertEquals(before, TreeSnapshot.of(user));
    Path out = dir.resolve("out");
    EvalStage.run(small, eval, base, tokenizer, out, EvalStage.Options.quiet());
    EvalResult again = EvalStage.run(small.toBuilder().maxNewTokens(3).build(), eval, base, tokenizer, out,
        EvalStage.Options.quiet());
    assertEquals(3, json(again.metrics()).getAsJsonObject("settings").get("max_new_tokens").getAsInt());
    // one foreign file beside our three: refused
    Files.writeString(out.resolve("extra.txt"), "x");
    assertThrows(FactRlException.class, () -> EvalStage.run(small, eval, base, tokenizer, out,
        EvalStage.Options.quiet()));
    assertEquals("x", Files.readString(out.resolve("extra.txt")));
  }
}
