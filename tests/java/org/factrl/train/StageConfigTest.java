package org.factrl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.factrl.engine.FactRlException;
import org.factrl.eval.EvalConfig;
import org.factrl.model.LoraTarget;
import org.factrl.model.io.IfExists;
import org.factrl.ppo.PpoConfig;
import org.factrl.ppo.PpoMath;
import org.factrl.stages.RmConfig;
import org.factrl.stages.SftConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One config format for every stage (issue 12 item 6): the same strict reader, the same error
 * shape ({@code config 'FILE': key 'K': ...}), the shared training keys, one LoRA target spelling
 * written and both read, and the defaults surviving a write / read round trip.
 */
class StageConfigTest {
  @TempDir Path dir;

  /** Each stage's file reader, by the name its --stage takes. */
  private static final Map<String, Function<Path, Object>> READERS = Map.of(
      "sft", SftConfig::read, "rm", RmConfig::read, "ppo", PpoConfig::read, "eval", EvalConfig::read);

  private String error(String stage, String json) throws IOException {
    Path f = dir.resolve(stage + ".json");
    Files.writeString(f, json, StandardCharsets.UTF_8);
    return assertThrows(FactRlException.class, () -> READERS.get(stage).apply(f), stage + " " + json).getMessage();
  }

  private String file(String stage) {
    return "config '" + dir.resolve(stage + ".json") + "'";
  }

  @Test
  void outOfRangeValuesAreRejectedNamingTheFileTheKeyAndTheRange() throws IOException {
    assertEquals(file("ppo") + ": key 'gamma': 1.5 not in [0, 1]", error("ppo", "{\"gamma\": 1.5}"));
    assertEquals(file("ppo") + ": key 'clip_range': -1 not in [1.0E-6, 10]", error("ppo", "{\"clip_range\": -1}"));
    assertEquals(file("sft") + ": key 'batch_size': 0 not in [1, 1048576]", error("sft", "{\"batch_size\": 0}"));
    assertEquals(file("rm") + ": key 'centring': -1 not in [0, 1000]", error("rm", "{\"centring\": -1}"));
    assertEquals(file("eval") + ": key 'top_p': 2 not in [0, 1]", error("eval", "{\"top_p\": 2}"));
    // the shared training keys: the same reader and message in every training stage
    for (String stage : List.of("sft", "rm", "ppo")) {
      assertEquals(file(stage) + ": key 'lr': 5 not in [0, 1]", error(stage, "{\"lr\": 5}"));
      assertEquals(file(stage) + ": key 'log_every': 0 not in [1, 2^63-1]", error(stage, "{\"log_every\": 0}"));
      assertEquals(file(stage) + ": key 'warmup_steps': 9 is more than steps 3",
          error(stage, "{\"steps\": 3, \"warmup_steps\": 9}"));
      assertEquals(file(stage) + ": key 'seed': must be an integer, got 1.5", error(stage, "{\"seed\": 1.5}"));
    }
    assertEquals(file("ppo") + ": key 'steps': must be >= 1 (PPO has no epochs over a data set to count from)",
        error("ppo", "{\"steps\": 0, \"warmup_steps\": 0}"));
    assertEquals(file("ppo") + ": key 'minibatch': 64 is more than rollouts_per_step 8",
        error("ppo", "{\"minibatch\": 64, \"rollouts_per_step\": 8}"));
  }

  @Test
  void unknownKeysWrongTypesAndBadFilesNameWhatIsWrong() throws IOException {
    for (String stage : READERS.keySet()) {
      String e = error(stage, "{\"batch_size\": 8, \"colour\": 1}".replace("batch_size", stage.equals("rm")
          ? "pairs_per_step" : stage.equals("ppo") ? "minibatch" : "batch_size"));
      assertTrue(e.startsWith(file(stage) + ": unknown key 'colour' (known: "), e);
      assertTrue(error(stage, "[1]").startsWith(file(stage) + ": expected a JSON object of "), stage);
      assertTrue(error(stage, "{\"seed\": 1, \"seed\": 2}").startsWith(file(stage)), stage);
      Path missing = dir.resolve("none-" + stage + ".json");
      assertEquals("config '" + missing + "': no such config file",
          assertThrows(FactRlException.class, () -> READERS.get(stage).apply(missing)).getMessage());
    }
    assertEquals(file("rm") + ": key 'facts': must be true or false, got \"yes\"", error("rm", "{\"facts\": \"yes\"}"));
    assertEquals(file("ppo") + ": key 'kl_estimator': k4 is not one of k1, k2, k3",
        error("ppo", "{\"kl_estimator\": \"k4\"}"));
    assertEquals(file("sft") + ": key 'finetune': \"half\" is not one of full, lora", error("sft", "{\"finetune\": \"half\"}"));
    assertEquals(file("eval") + ": key 'chair': must be true or false, got 1", error("eval", "{\"chair\": 1}"));
  }

  @Test
  void loraTargetsAcceptBothSpellingsEverywhereAndAreWrittenOneWay() throws IOException {
    String mixed = "{\"lora_targets\": [\"q\", \"v_proj\", \"gate\"]}";
    EnumSet<LoraTarget> want = EnumSet.of(LoraTarget.Q, LoraTarget.V, LoraTarget.GATE);
    assertEquals(want, SftConfig.parse(mixed, "s").loraSpec().targets());
    assertEquals(want, RmConfig.parse(mixed, "r").loraSpec().targets());
    assertEquals(want, PpoConfig.parse(mixed, "p").loraSpec().targets());
    String written = "[\"q_proj\",\"v_proj\",\"gate_proj\"]";
    assertEquals(written, SftConfig.parse(mixed, "s").toJson().get("lora_targets").toString());
    assertEquals(written, RmConfig.parse(mixed, "r").toJson().get("lora_targets").toString());
    assertEquals(written, PpoConfig.parse(mixed, "p").toJson().get("lora_targets").toString());
    assertEquals(written, PpoConfig.defaults().with("lora_targets", List.of("q_proj", "v", "gate_proj"))
        .toJson().get("lora_targets").toString());
    // the projector: SFT may adapt it (either name); RM and PPO's reward side keep it frozen
    assertEquals(EnumSet.of(LoraTarget.PROJECTOR),
        SftConfig.parse("{\"lora_targets\": [\"projector\"]}", "s").loraSpec().targets());
    assertTrue(assertThrows(FactRlException.class, () -> RmConfig.parse("{\"lora_targets\": [\"projector\"]}", "r"))
        .getMessage().startsWith("r: key 'lora_targets': has \"projector\""));
    // the same layer under both names is named twice
    assertTrue(assertThrows(FactRlException.class, () -> SftConfig.parse("{\"lora_targets\": [\"q\", \"q_proj\"]}", "s"))
        .getMessage().contains("key 'lora_targets': names q_proj twice"));
    assertTrue(error("ppo", "{\"lora_targets\": [\"q\", \"x\"]}").contains("key 'lora_targets': 'x' is not a LoRA target"));
  }

  @Test
  void defaultsSurviveAWriteReadRoundTripAndEveryTrainingStageSharesTheTrainingKeys() {
    SftConfig sft = SftConfig.defaults();
    sft.write(dir.resolve("sft.json"), IfExists.FAIL);
    assertEquals(sft, SftConfig.read(dir.resolve("sft.json")));
    RmConfig rm = RmConfig.defaults();
    rm.write(dir.resolve("rm.json"), IfExists.FAIL);
    assertEquals(rm, RmConfig.read(dir.resolve("rm.json")));
    PpoConfig ppo = PpoConfig.defaults();
    ppo.write(dir.resolve("ppo.json"), IfExists.FAIL);
    assertEquals(ppo, PpoConfig.read(dir.resolve("ppo.json")));
    EvalConfig eval = EvalConfig.builder().chair(true).adapter("ppo").seed(-3).build();
    assertEquals(eval, EvalConfig.parse(eval.toJson().toString(), "e"));
    assertEquals(EvalConfig.defaults(), EvalConfig.parse(EvalConfig.defaults().toJson().toString(), "e"));
    assertEquals(EvalConfig.defaults(), EvalConfig.parse("{}", "e"));

    for (List<String> keys : List.of(SftConfig.keys(), RmConfig.keys(), PpoConfig.keys())) {
      assertTrue(keys.containsAll(TrainingSettings.KEYS), keys.toString());
    }
    assertEquals(SftConfig.keys(), List.copyOf(sft.toJson().keySet()));
    assertEquals(RmConfig.keys(), List.copyOf(rm.toJson().keySet()));
    assertEquals(PpoConfig.keys(), List.copyOf(ppo.toJson().keySet()));
    assertEquals(EvalConfig.keys(), List.copyOf(EvalConfig.defaults().toJson().keySet()));

    // a non-default value of every shared key survives each stage's round trip
    TrainingSettings t = TrainingSettings.builder().lr(3e-3).minLrRatio(0.1).warmupSteps(2).steps(7).weightDecay(0.01)
        .maxGradNorm(0.5).seed(-9).checkpointEvery(3).logEvery(2).build();
    SftConfig s2 = sft.toBuilder().training(t).build();
    assertEquals(t, SftConfig.parse(s2.toJson().toString(), "s").training());
    RmConfig r2 = rm.toBuilder().training(t).build();
    assertEquals(t, RmConfig.parse(r2.toJson().toString(), "r").training());
    PpoConfig p2 = ppo.withTraining(t);
    assertEquals(t, PpoConfig.parse(p2.toJson().toString(), "p").training());
    assertEquals(0.01, p2.weightDecay());
    assertEquals(0.1, p2.minLrRatio());
  }

  @Test
  void theDefaultsAreTheRecipesWhereTheStagesKeepThem() {
    PpoConfig p = PpoConfig.defaults();
    // DESIGN.md §4: β 0.1, γ = λ = 1, clips 0.2, vf 0.1, penalties 1/2/10/8, reward ×10, temperature 1, top-p 1
    assertEquals(0.1, p.beta());
    assertEquals(1f, p.gamma());
    assertEquals(1f, p.lambda());
    assertEquals(0.2, p.clipRange());
    assertEquals(0.2, p.valueClipRange());
    assertEquals(0.1, p.vfCoef());
    assertEquals(new PpoMath.SymbolicWeights(1, 2, 10, 8), p.symbolicWeights());
    assertEquals(10.0, p.rewardScale());
    assertEquals(1f, p.temperature());
    assertEquals(1f, p.topP());
    assertEquals(2, p.epochs());
    assertEquals(128, p.maxPromptTokens());
    assertEquals(1.0, p.maxGradNorm());
    assertEquals(0.0, p.weightDecay());
    assertEquals(0.25f, p.loraSpec().alpha() / p.loraSpec().rank(), "the recipe's LoRA scale α/r");
    assertEquals(EnumSet.range(LoraTarget.Q, LoraTarget.DOWN), p.loraSpec().targets());
    RmConfig r = RmConfig.defaults();
    assertEquals(0.001, r.centring());
    assertEquals(16f, r.loraSpec().alpha());
    SftConfig s = SftConfig.defaults();
    assertEquals(64, s.loraSpec().rank());
    assertEquals(16f, s.loraSpec().alpha());
    assertEquals(0f, EvalConfig.defaults().temperature(), "greedy evaluation");
    JsonObject j = p.toJson();
    assertEquals(0.1, j.get("beta").getAsDouble());
  }
}
