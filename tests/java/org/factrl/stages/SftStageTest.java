package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.dataset.ShapesDataSetWriter;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.factrl.model.ModelConfig;
import org.factrl.model.ParamGroup;
import org.factrl.model.Projector;
import org.factrl.train.CheckpointStore;
import org.factrl.train.MetricsLog;
import org.factrl.train.TrainerState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SFT stage end to end on a micro model (P = 4 image tokens, 16×16 images) and a 12-scene
 * data set: the loss falls; a run split by a checkpoint and resumed in new model objects takes the
 * same next steps bit for bit (losses, gradient norms, final weights and moments), for full
 * fine-tuning and for LoRA; a partial checkpoint left by a killed run is ignored and cleaned; a
 * user's folder is refused.
 */
class SftStageTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path data;
  static int vocab;

  @BeforeAll
  static void dataSet() {
    data = shared.resolve("ds");
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(9).build().write(data);
    try (Tokenizer t = Tokenizer.load(DataSetFiles.in(data).tokenizer())) {
      vocab = t.vocabSize();
    }
  }

  /** A model small enough that a step takes milliseconds: 16×16 images in 8×8 patches (P = 4). */
  static ModelConfig micro() {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(1).visionHeads(2).visionIntermediate(32).visionFeatureLayer(-1)
        .projector(Projector.LINEAR)
        .vocabSize(vocab).hidden(32).layers(2).heads(2).intermediate(64).maxPositions(512)
        .imageTokenId(4)
        .build();
  }

  static SftStage.Options quiet() {
    return new SftStage.Options(null, false, 0);
  }

  private static List<JsonObject> metrics(Path run) {
    return MetricsLog.read(run.resolve(SftStage.METRICS_FILE));
  }

  @Test
  void theLossFallsOnATinyDataSet() {
    SftConfig c = SftConfig.builder().steps(40).batchSize(4).lr(3e-3).warmupSteps(3).checkpointEvery(0).build();
    SftResult r = SftStage.run(c, data, BaseModel.random(micro(), 1, 0.05f), dir.resolve("run"), quiet());
    assertEquals(40, r.steps());
    List<JsonObject> m = metrics(dir.resolve("run"));
    assertEquals(40, m.size());
    double first = 0;
    double last = 0;
    for (int i = 0; i < 5; i++) {
      first += m.get(i).get("loss").getAsDouble() / 5;
      last += m.get(m.size() - 1 - i).get("loss").getAsDouble() / 5;
    }
    assertTrue(first > Math.log(vocab) * 0.9, "starts near log V: " + first);
    assertTrue(last < first * 0.75, "loss " + first + " -> " + last);
    assertEquals(m.get(39).get("loss").getAsDouble(), r.finalLoss());
    for (JsonObject o : m) {
      for (String k : List.of("step", "loss", "lr", "grad_norm", "tokens", "target_tokens", "tokens_per_s", "seconds")) {
        assertTrue(o.has(k), k);
      }
    }
    assertEquals(List.of(dir.resolve("run/checkpoints/step-00000040")), new CheckpointStore(dir.resolve("run/checkpoints")).list());
  }

  /** Full fine-tuning: 3 steps, checkpoint, 2 more — vs 5 steps in one go, and vs a resume in new objects. */
  @Test
  void aResumedFullFineTuningRunTakesTheSameStepsBitForBit() throws IOException {
    SftConfig c = SftConfig.builder().steps(5).batchSize(3).lr(2e-3).warmupSteps(2).checkpointEvery(3)
        .trainableGroups(EnumSet.allOf(ParamGroup.class)).weightDecay(0.01).build();
    checkResume(c, "model/model.safetensors");
  }

  /** LoRA over a frozen base (only the adapter trains: the base is referenced, not copied). */
  @Test
  void aResumedLoraRunTakesTheSameStepsBitForBit() throws IOException {
    SftConfig c = SftConfig.builder().finetune(FineTuning.LORA).loraRank(4).loraAlpha(8).steps(5).batchSize(3)
        .lr(5e-3).warmupSteps(1).checkpointEvery(3).trainableGroups(EnumSet.noneOf(ParamGroup.class)).build();
    checkResume(c, "adapters/sft/adapter_model.safetensors");
    Path ck = dir.resolve("whole/checkpoints/step-00000005");
    assertTrue(Files.exists(ck.resolve("base.json")));
    assertFalse(Files.exists(ck.resolve("model")));
  }

  private void checkResume(SftConfig c, String weights) throws IOException {
    BaseModel base = BaseModel.random(micro(), 2, 0.05f);
    Path whole = dir.resolve("whole");
    SftStage.run(c, data, base, whole, quiet());
    Path split = dir.resolve("split");
    SftResult first = SftStage.run(c, data, base, split, quiet().stopAfter(3));
    assertEquals(3, first.steps());
    assertEquals(split.resolve("checkpoints/step-00000003"), first.checkpoint());
    SftResult rest = SftStage.resume(data, split, quiet()); // new device, model, optimizer, data order
    assertEquals(2, rest.stepsThisRun());
    assertEquals(5, rest.steps());
    List<JsonObject> a = metrics(whole);
    List<JsonObject> b = metrics(split);
    assertEquals(5, a.size());
    assertEquals(5, b.size());
    for (int i = 0; i < 5; i++) {
      for (String k : List.of("loss", "grad_norm", "lr")) {
        assertEquals(a.get(i).get(k).getAsDouble(), b.get(i).get(k).getAsDouble(), 0.0, "step " + (i + 1) + " " + k);
      }
    }
    Path endA = whole.resolve("checkpoints/step-00000005");
    Path endB = split.resolve("checkpoints/step-00000005");
    assertArrayEquals(Files.readAllBytes(endA.resolve(weights)), Files.readAllBytes(endB.resolve(weights)));
    assertArrayEquals(Files.readAllBytes(endA.resolve(SftStage.OPTIMIZER_FILE)),
        Files.readAllBytes(endB.resolve(SftStage.OPTIMIZER_FILE)));
    TrainerState sa = TrainerState.read(endA);
    TrainerState sb = TrainerState.read(endB);
    assertEquals(sa.dataEpoch(), sb.dataEpoch());
    assertEquals(sa.dataPosition(), sb.dataPosition());
    assertEquals(sa.rngState(), sb.rngState());
    assertEquals(sa.tokens(), sb.tokens());
    assertEquals(c, SftConfig.read(endB.resolve(SftConfig.FILE_NAME)));
    // the step-3 checkpoint of the uninterrupted run is the one the split run stopped at
    assertArrayEquals(Files.readAllBytes(whole.resolve("checkpoints/step-00000003").resolve(weights)),
        Files.readAllBytes(split.resolve("checkpoints/step-00000003").resolve(weights)));
    // resuming a finished run does nothing
    SftResult again = SftStage.resume(data, split, quiet());
    assertEquals(0, again.stepsThisRun());
    assertEquals(5, metrics(split).size());
  }

  /**
   * kill -9 during a checkpoint write leaves a hidden partial folder (and maybe metrics of steps
   * after the last checkpoint): the resume ignores both, continues from the last complete
   * checkpoint with the same losses, and the next checkpoint write removes the dead run's folder.
   */
  @Test
  void aCheckpointLeftHalfWrittenByAKilledRunIsIgnoredAndCleaned() throws Exception {
    SftConfig c = SftConfig.builder().steps(4).batchSize(2).lr(2e-3).warmupSteps(0).checkpointEvery(2).build();
    BaseModel base = BaseModel.random(micro(), 3, 0.05f);
    Path whole = dir.resolve("whole");
    SftStage.run(c, data, base, whole, quiet());
    Path run = dir.resolve("killed");
    SftStage.run(c, data, base, run, quiet().stopAfter(3)); // checkpoints 2 and 3
    Path checkpoints = run.resolve("checkpoints");
    // as if the process died while writing step 3: the folder never got its final name ...
    Process dead = new ProcessBuilder("true").start();
    dead.waitFor();
    Path partial = checkpoints.resolve(".step-00000003.abc123.partial");
    Files.move(checkpoints.resolve("step-00000003"), partial);
    Files.writeString(partial.resolve(".factrl-checkpoint-partial"),
        "factrl checkpoint\npid " + dead.pid() + "\nstarted unknown\n", StandardCharsets.UTF_8);
    Files.delete(partial.resolve("trainer_state.json")); // ... and was cut short
    // a folder that is not ours (no marker) must survive
    Path foreign = checkpoints.resolve(".step-00000009.def.partial");
    Files.createDirectories(foreign);
    Files.writeString(foreign.resolve("notes.txt"), "mine");
    assertEquals(checkpoints.resolve("step-00000002"), new CheckpointStore(checkpoints).latest().orElseThrow());
    SftResult r = SftStage.resume(data, run, quiet());
    assertEquals(2, r.stepsThisRun());
    assertFalse(Files.exists(partial), "the dead run's partial checkpoint is removed");
    assertEquals("mine", Files.readString(foreign.resolve("notes.txt")));
    List<JsonObject> a = metrics(whole);
    List<JsonObject> b = metrics(run);
    assertEquals(4, b.size(), "step 3's record from the killed run is replaced, not repeated");
    for (int i = 0; i < 4; i++) {
      assertEquals(a.get(i).get("loss").getAsDouble(), b.get(i).get("loss").getAsDouble(), 0.0, "step " + (i + 1));
    }
    try (Stream<Path> s = Files.list(checkpoints)) {
      // step 3 is not a checkpoint step (every 2): only the run that stopped there wrote one
      assertEquals(List.of(".step-00000009.def.partial", "step-00000002", "step-00000004"),
          s.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void aFreshRunRefusesAFolderThatIsNotEmptyAndResumeNeedsARunFolder() throws IOException {
    Path user = dir.resolve("user");
    Files.createDirectories(user);
    Files.writeString(user.resolve("thesis.tex"), "precious");
    SftConfig c = SftConfig.builder().steps(1).batchSize(1).warmupSteps(0).build();
    FactRlException e = assertThrows(FactRlException.class,
        () -> SftStage.run(c, data, BaseModel.random(micro(), 1, 0.02f), user, quiet()));
    assertTrue(e.getMessage().contains("not empty") && e.getMessage().contains("thesis.tex"), e.getMessage());
    FactRlException r = assertThrows(FactRlException.class, () -> SftStage.resume(data, user, quiet()));
    assertTrue(r.getMessage().contains("not an SFT run folder"), r.getMessage());
    try (Stream<Path> s = Files.list(user)) {
      assertEquals(List.of("thesis.tex"), s.map(p -> p.getFileName().toString()).toList());
    }
    Path run = dir.resolve("run");
    SftStage.run(c, data, BaseModel.random(micro(), 1, 0.02f), run, quiet());
    FactRlException again = assertThrows(FactRlException.class,
        () -> SftStage.run(c, data, BaseModel.random(micro(), 1, 0.02f), run, quiet()));
    assertTrue(again.getMessage().contains("resume"), again.getMessage());
  }

  @Test
  void resumeRefusesADifferentDataSet() throws IOException {
    Path other = dir.resolve("other");
    ShapesDataSetWriter.builder().scenes(12).imageSize(16).seed(10).build().write(other);
    SftConfig c = SftConfig.builder().steps(1).batchSize(1).warmupSteps(0).build();
    Path run = dir.resolve("run");
    SftStage.run(c, data, BaseModel.random(micro(), 1, 0.02f), run, quiet());
    FactRlException e = assertThrows(FactRlException.class, () -> SftStage.resume(other, run, quiet()));
    assertTrue(e.getMessage().contains("differs"), e.getMessage());
  }

  static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
