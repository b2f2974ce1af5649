package org.factrl.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.model.HeadKind;
import org.factrl.model.LlavaModel;
import org.factrl.model.LoraSpec;
import org.factrl.model.MemoryReport;
import org.factrl.model.ModelConfig;
import org.factrl.model.Projector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PPO end to end on a micro LLaVA (vocab 37, 2 layers, d 16) with a stub reward: +1 when the
 * response contains token {@value #GOOD}. A few steps raise the mean reward; the memory report lists
 * one base under four roles; a checkpoint after step 1 resumed in a fresh model takes bitwise the
 * same step 2 as the uninterrupted run.
 */
class PpoTrainerTest {
  static final int GOOD = 7;
  static final int EOS = 2;
  static final int PAD = 0;

  static ModelConfig micro() {
    return ModelConfig.builder()
        .imageSize(16).imageChannels(3).patchSize(8)
        .visionHidden(16).visionLayers(2).visionHeads(2).visionIntermediate(24).visionFeatureLayer(-2)
        .projector(Projector.LINEAR)
        .vocabSize(37).hidden(16).layers(2).heads(2).intermediate(40).maxPositions(32)
        .imageTokenId(36)
        .build();
  }

  static PpoConfig config() {
    return PpoConfig.defaults().variant("rlhf")
        .with("max_prompt_tokens", 6).with("max_response_tokens", 8)
        .with("rollouts_per_step", 8).with("minibatch", 4).with("epochs", 2)
        .with("lr", 2e-2).with("warmup_steps", 0).with("steps", 12)
        .with("beta", 0.01).with("reward_scale", 1.0)
        .with("lora_rank", 4).with("lora_alpha", 8.0).with("seed", 3);
  }

  static LlavaModel model(Device cpu) {
    LlavaModel m = LlavaModel.create(cpu, micro());
    m.initWeights(11, 0.1f);
    return m;
  }

  static List<PpoPrompt> prompts(long step, int n) {
    List<PpoPrompt> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int len = 3 + (int) ((step + i) % 3);
      int[] t = new int[len];
      t[0] = 1;
      for (int k = 1; k < len; k++) {
        t[k] = 8 + (int) ((step * 5 + i * 3 + k * 7) % 25);
      }
      out.add(new PpoPrompt("p" + step + "-" + i, t, null, Optional.empty(), null));
    }
    return out;
  }

  /** +1 when the response holds the good token. */
  static final class ContainsToken implements SequenceScorer {
    @Override
    public double[] score(List<Rollout> rollouts) {
      double[] s = new double[rollouts.size()];
      for (int i = 0; i < s.length; i++) {
        for (int tok : rollouts.get(i).response()) {
          if (tok == GOOD) {
            s[i] = 1;
            break;
          }
        }
      }
      return s;
    }

    @Override
    public String rewardAdapter() {
      return "rm";
    }

    @Override
    public String rewardHead() {
      return "rm";
    }
  }

  static float[] weights(LlavaModel m) {
    try (org.factrl.engine.Tensor f = m.adapter(PpoTrainer.POLICY).flat(org.factrl.engine.DType.F32)) {
      return f.toFloatArray();
    }
  }

  @Test
  void fewStepsRaiseTheMeanReward() {
    PpoConfig c = config();
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu);
        PpoTrainer tr = new PpoTrainer(m, c, new ContainsToken(), null, EOS, PAD)) {
      List<PpoStepMetrics> ms = new ArrayList<>();
      for (int s = 1; s <= 12; s++) {
        PpoStepMetrics x = tr.step(prompts(s, 8));
        ms.add(x);
        System.out.println("ppo micro " + x.toJson());
        assertTrue(Double.isFinite(x.policyLoss()) && Double.isFinite(x.valueLoss()), "step " + s);
        assertTrue(x.kl() >= 0, "k1 clamped is >= 0");
      }
      double first = (ms.get(0).rmScore() + ms.get(1).rmScore() + ms.get(2).rmScore()) / 3;
      double last = (ms.get(9).rmScore() + ms.get(10).rmScore() + ms.get(11).rmScore()) / 3;
      System.out.printf("ppo micro: mean reward first 3 steps %.3f, last 3 steps %.3f%n", first, last);
      assertTrue(last > first + 0.2, "reward " + first + " -> " + last);
      assertTrue(ms.get(11).kl() > 0, "the policy moved away from the reference");
    }
  }

  @Test
  void memoryReportShowsOneBaseUnderFourRoles() {
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu)) {
      m.addAdapter("rm", LoraSpec.allDecoder(4, 8f), 9);
      m.addHead("rm", HeadKind.REWARD);
      try (PpoTrainer tr = new PpoTrainer(m, config(), new ContainsToken(), null, EOS, PAD)) {
        MemoryReport r = tr.memoryReport();
        System.out.println(r);
        assertEquals(m.params().bytes(), r.base());
        assertEquals(List.of("rm", PpoTrainer.POLICY, PpoTrainer.VALUE), List.copyOf(r.adapters().keySet()));
        assertEquals(4, r.roles().size());
        assertEquals(null, r.roles().get(1).adapter()); // the reference: the base, no copy
        assertEquals(cpu.bytesInUse(), r.total());
      }
    }
  }

  @Test
  void theKlMonitorJudgesEachStepsKlAgainstTheWindow() {
    // window 1 and a tiny floor: step s's growth is kl_s / kl_{s-1}; factor 1.5 flags a 50% rise
    PpoConfig c = config().with("kl_growth_window", 1L).with("kl_growth_floor", 1e-9).with("kl_growth_factor", 1.5)
        .with("kl_warning", 1e6);
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu);
        PpoTrainer tr = new PpoTrainer(m, c, new ContainsToken(), null, EOS, PAD)) {
      PpoStepMetrics prev = tr.step(prompts(1, 8));
      assertTrue(Double.isNaN(prev.klGrowth()) && !prev.klBlowUp());
      assertFalse(prev.toJson().has("kl_growth"), "no growth before a full window");
      for (int s = 2; s <= 5; s++) {
        PpoStepMetrics x = tr.step(prompts(s, 8));
        double growth = x.kl() / Math.max(prev.kl(), 1e-9);
        assertEquals(growth, x.klGrowth(), 1e-12 * Math.max(1, growth), "step " + s);
        assertEquals(growth >= 1.5, x.klBlowUp(), "step " + s);
        assertEquals(x.klGrowth(), x.toJson().get("kl_growth").getAsDouble(), 0.0);
        assertTrue(x.noEosShare() >= 0 && x.noEosShare() <= 1);
        prev = x;
      }
    }
  }

  @Test
  void resumeTakesBitwiseTheSameNextStep(@TempDir Path tmp) {
    // window 1: the resumed step's KL growth needs step 1's KL from the checkpoint
    PpoConfig c = config().with("kl_growth_window", 1L);
    PpoStepMetrics straight;
    float[] straightWeights;
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu);
        PpoTrainer tr = new PpoTrainer(m, c, new ContainsToken(), null, EOS, PAD)) {
      tr.step(prompts(1, 8));
      straight = tr.step(prompts(2, 8));
      straightWeights = weights(m);
    }
    Path ck = tmp.resolve("step-1");
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu);
        PpoTrainer tr = new PpoTrainer(m, c, new ContainsToken(), null, EOS, PAD)) {
      tr.step(prompts(1, 8));
      tr.save(ck);
    }
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu)) {
      PpoTrainer.loadRoles(m, ck);
      try (PpoTrainer tr = new PpoTrainer(m, c, new ContainsToken(), null, EOS, PAD)) {
        tr.restore(ck);
        assertEquals(1, tr.completedSteps());
        PpoStepMetrics resumed = tr.step(prompts(2, 8));
        assertEquals(straight.policyLoss(), resumed.policyLoss(), 0.0);
        assertEquals(straight.valueLoss(), resumed.valueLoss(), 0.0);
        assertEquals(straight.reward(), resumed.reward(), 0.0);
        assertEquals(straight.kl(), resumed.kl(), 0.0);
        assertEquals(straight.klGrowth(), resumed.klGrowth(), 0.0);
        assertEquals(straight.klBlowUp(), resumed.klBlowUp());
        assertArrayEquals(straightWeights,
            weights(m), 0f);
      }
    }
  }

  @Test
  void aResponseJudgeOnlyWatchesAndItsRateIsTheJudgedShare() {
    PpoConfig c = config();
    List<PpoStepMetrics> plain = new ArrayList<>();
    float[] plainWeights;
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu);
        PpoTrainer tr = new PpoTrainer(m, c, new ContainsToken(), null, EOS, PAD)) {
      for (int s = 1; s <= 3; s++) {
        plain.add(tr.step(prompts(s, 8)));
      }
      plainWeights = weights(m);
    }
    // A stub judge over the decoded ids: prompt 7 of each step cannot be judged; a response holding a
    // 7 in its text "hallucinates". It records what it saw, so the rate can be recounted.
    List<String> seen = new ArrayList<>();
    ResponseJudge judge = (p, text) -> {
      seen.add(text);
      return p.id().endsWith("-7") ? Optional.empty()
          : Optional.of(new ResponseJudge.Verdict(text.contains("7") ? 1 : 0, text.length() % 3));
    };
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu);
        PpoTrainer tr = new PpoTrainer(m, c, new ContainsToken(), java.util.Arrays::toString, judge, EOS, PAD)) {
      for (int s = 1; s <= 3; s++) {
        PpoStepMetrics x = tr.step(prompts(s, 8));
        PpoStepMetrics y = plain.get(s - 1);
        assertEquals(y.reward(), x.reward(), 0.0, "step " + s);
        assertEquals(y.rmScore(), x.rmScore(), 0.0, "step " + s);
        assertEquals(y.kl(), x.kl(), 0.0, "step " + s);
        assertEquals(y.policyLoss(), x.policyLoss(), 0.0, "step " + s);
        assertEquals(y.valueLoss(), x.valueLoss(), 0.0, "step " + s);
        assertEquals(0, y.judged());
        assertFalse(y.toJson().has("hallucination_rate"));
        List<String> step = seen.subList((s - 1) * 8, s * 8);
        int bad = 0;
        int info = 0;
        for (int i = 0; i < 7; i++) {
          bad += step.get(i).contains("7") ? 1 : 0;
          info += step.get(i).length() % 3;
        }
        assertEquals(7, x.judged(), "step " + s);
        assertEquals(bad / 7.0, x.hallucinationRate(), 0.0, "step " + s);
        assertEquals(info / 7.0, x.informative(), 0.0, "step " + s);
        assertEquals(x.hallucinationRate(), x.toJson().get("hallucination_rate").getAsDouble(), 0.0);
      }
      assertEquals(24, seen.size(), "every rollout judged once");
      assertArrayEquals(plainWeights, weights(m), 0f);
    }
  }

  @Test
  void aJudgeNeedsADecoder() {
    try (Device cpu = Device.cpu(); LlavaModel m = model(cpu)) {
      FactRlException e = assertThrows(FactRlException.class, () -> new PpoTrainer(m, config(), new ContainsToken(),
          null, (p, text) -> Optional.empty(), EOS, PAD));
      assertTrue(e.getMessage().contains("'decoder'"), e.getMessage());
    }
  }

  @Test
  void configErrorsNameTheKey() {
    assertTrue(assertThrows(FactRlException.class, () -> PpoConfig.parse("{\"betta\": 0.1}", "c.json"))
        .getMessage().contains("unknown key 'betta'"));
    assertTrue(assertThrows(FactRlException.class, () -> PpoConfig.parse("{\"clip_range\": -1}", "c.json"))
        .getMessage().contains("'clip_range'"));
    assertTrue(assertThrows(FactRlException.class, () -> PpoConfig.parse("{\"kl_estimator\": \"k4\"}", "c.json"))
        .getMessage().contains("'kl_estimator'"));
    assertTrue(assertThrows(FactRlException.class, () -> PpoConfig.parse("{\"epochs\": 1.5}", "c.json"))
        .getMessage().contains("'epochs'"));
    assertTrue(assertThrows(FactRlException.class,
        () -> PpoConfig.parse("{\"minibatch\": 64, \"rollouts_per_step\": 8}", "c.json"))
        .getMessage().contains("'minibatch'"));
    assertTrue(assertThrows(FactRlException.class, () -> PpoConfig.parse("{\"lora_targets\": [\"q\", \"x\"]}", "c.json"))
        .getMessage().contains("'lora_targets'"));
    PpoConfig c = config().with("kl_mode", "adaptive").with("kl_estimator", "k3");
    assertEquals(c, PpoConfig.parse(c.toJson().toString(), "round trip"));
    assertEquals(PpoMath.KlEstimator.K3, c.klEstimator());
    assertEquals(0.1, PpoConfig.defaults().beta(), 0);
    assertEquals(0.1, PpoConfig.defaults().vfCoef(), 0);
    assertEquals(10.0, PpoConfig.defaults().rewardScale(), 0);
    assertEquals(1.0, PpoConfig.defaults().with("whiten_rewards", true).rewardScale(), 0);
  }
}
