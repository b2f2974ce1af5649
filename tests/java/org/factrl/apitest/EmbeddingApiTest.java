package org.factrl.apitest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.factrl.api.FactRl;
import org.factrl.api.GenerateOptions;
import org.factrl.api.Generation;
import org.factrl.api.Metrics;
import org.factrl.api.Model;
import org.factrl.api.RewardModel;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.factrl.stages.BaseModel;
import org.factrl.stages.FineTuning;
import org.factrl.stages.RmConfig;
import org.factrl.stages.SftConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedding API (issue 12 item 7) from outside the engine's packages: only org.factrl.api and
 * public classes. A micro model (random base, 2 LoRA SFT steps, 2 RM steps) is enough to check the
 * wiring; the README's example ({@link ApiExample}) runs as written.
 */
class EmbeddingApiTest {
  @TempDir static Path shared;
  static Path data;
  static Path runs;

  static ModelConfig micro(int vocab) {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(vocab).hidden(32).layers(2).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
  }

  @BeforeAll
  static void trainWithTheReadmeExample() throws IOException {
    data = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(9).build().write(data);
    runs = shared.resolve("runs");
    int vocab;
    try (Tokenizer t = Tokenizer.load(data.resolve("tokenizer.json"))) {
      vocab = t.vocabSize();
    }
    SftConfig sft = SftConfig.builder().finetune(FineTuning.LORA).loraRank(4).loraAlpha(8).steps(2).batchSize(2)
        .lr(5e-3).warmupSteps(0).checkpointEvery(0).build();
    RmConfig rm = RmConfig.builder().steps(2).pairsPerStep(2).heldOutPairs(2).warmupSteps(0).loraRank(4).loraAlpha(8)
        .checkpointEvery(0).build();
    ApiExample.run(data, BaseModel.random(micro(vocab), 5, 0.05f), sft, rm, runs);
  }

  private static Path image(int i) {
    return data.resolve("images").resolve(String.format("shapes-%06d.png", i));
  }

  @Test
  void theReadmeShowsTheExampleThatRuns() throws IOException {
    String source = Files.readString(Path.of("tests/java/org/factrl/apitest/ApiExample.java"), StandardCharsets.UTF_8);
    String example = source.substring(source.indexOf("// README-EXAMPLE-BEGIN\n") + "// README-EXAMPLE-BEGIN\n".length(),
        source.indexOf("// README-EXAMPLE-END"));
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    assertTrue(readme.contains("```java\n" + example + "```"), "README.md's embedding example differs from ApiExample");
    // the stages the example ran drew their plots beside the checkpoints
    assertTrue(Files.isRegularFile(runs.resolve("sft/plots/loss.png")));
    assertTrue(Files.isRegularFile(runs.resolve("rm/plots/accuracy.png")));
    assertTrue(Files.isRegularFile(runs.resolve("sft-plots/loss.png")));
  }

  @Test
  void generateGivesTextTokensAndLogProbsTheSameForAFileAndItsPixels() throws IOException {
    try (Model m = FactRl.loadModel(runs.resolve("sft"), data.resolve("tokenizer.json"))) {
      assertEquals("sft", m.adapter().orElseThrow(), "an SFT LoRA run answers under its adapter");
      Generation fromFile = m.generate(image(0), "What colour is the circle?", GenerateOptions.greedy(12));
      BufferedImage pixels = ImageIO.read(image(0).toFile());
      Generation fromPixels = m.generate(pixels, "What colour is the circle?", GenerateOptions.greedy(12));
      assertEquals(fromFile, fromPixels);
      int n = fromFile.tokenIds().length;
      assertEquals(n, fromFile.logProbs().length);
      assertTrue(fromFile.stopped() ? n < 12 : n == 12, fromFile.toString());
      // greedy picks the argmax, whose probability is at least 1 / vocab_size
      double floor = -Math.log(m.config().vocabSize()) - 1e-4;
      for (float lp : fromFile.logProbs()) {
        assertTrue(lp <= 0 && lp >= floor, "log-prob " + lp);
      }
      double sum = 0;
      for (float lp : fromFile.logProbs()) {
        sum += lp;
      }
      assertEquals(sum, fromFile.logLikelihood(), 1e-9);
      // the image reaches the model: another image changes the first token's distribution
      Generation other = m.generate(image(5), "What colour is the circle?", GenerateOptions.greedy(12));
      assertNotEquals(fromFile.logProbs()[0], other.logProbs()[0]);
      // a seeded sampled answer repeats
      GenerateOptions s = GenerateOptions.sampled(12, 1.0f, 42);
      assertEquals(m.generate(image(1), "How many shapes are there?", s),
          m.generate(image(1), "How many shapes are there?", s));
    }
  }

  @Test
  void theTokenizerIsFoundBesideAModelAndAMissingOneIsNamed() throws IOException {
    try (Model m = FactRl.loadModel(runs.resolve("rm"))) { // an RM run keeps its tokenizer.json
      assertTrue(m.generate(image(2), "Is there a square?", GenerateOptions.greedy(4)).tokenIds().length <= 4);
    }
    try (Model m = FactRl.loadModel(runs.resolve("sft"))) { // each checkpoint carries the one it was trained with
      assertEquals("sft", m.adapter().orElseThrow());
    }
    Path bare = Files.createDirectories(shared.resolve("bare/a/b")); // a base without one (older layout); deep:
    // loadModel also looks in the two folders above
    for (String f : List.of("model.safetensors", "config.json")) {
      Files.copy(runs.resolve("rm/base").resolve(f), bare.resolve(f));
    }
    FactRlException e = assertThrows(FactRlException.class, () -> FactRl.loadModel(bare));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }

  @Test
  void rewardModelScoresResponsesWithFacts() {
    try (RewardModel rm = RewardModel.load(runs.resolve("rm"))) {
      assertTrue(rm.usesFacts());
      List<String> facts = List.of("A red circle.", "There is one circle.");
      double[] both = rm.scoreAll(image(0), "What colour is the circle?", List.of("It is red.", "It is blue."), facts);
      assertEquals(2, both.length);
      assertTrue(Double.isFinite(both[0]) && Double.isFinite(both[1]));
      assertNotEquals(both[0], both[1]);
      assertEquals(both[0], rm.score(image(0), "What colour is the circle?", "It is red.", facts), 1e-5);
      FactRlException e = assertThrows(FactRlException.class,
          () -> rm.score(image(0), "What colour is the circle?", "It is red.", List.of()));
      assertTrue(e.getMessage().contains("facts"), e.getMessage());
    }
  }

  @Test
  void metricsReadTheStagesLog() {
    Metrics m = Metrics.read(runs.resolve("sft").resolve("metrics.jsonl"));
    assertArrayEquals(new long[] {1, 2}, m.steps());
    assertTrue(m.keys().containsAll(List.of("step", "loss", "lr", "grad_norm")), m.keys().toString());
    Metrics.Series loss = m.series("loss");
    assertArrayEquals(new long[] {1, 2}, loss.steps());
    assertEquals(m.records().get(1).get("loss").getAsDouble(), m.last("loss").orElseThrow());
    assertTrue(m.last("reward").isEmpty());
    Metrics rm = Metrics.read(runs.resolve("rm").resolve("metrics.jsonl"));
    assertEquals(2, rm.series("heldout_accuracy").steps()[0], "the RM evaluates held-out pairs at its last step");
  }
}
