package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.factrl.engine.FactRlException;
import org.factrl.model.LoraTarget;
import org.factrl.model.ParamGroup;
import org.factrl.model.io.IfExists;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SftConfig: documented defaults, a lossless JSON round trip, and errors that name the key. */
class SftConfigTest {
  @TempDir Path dir;

  @Test
  void defaultsAreTheDocumentedOnes() {
    SftConfig c = SftConfig.defaults();
    assertEquals(FineTuning.FULL, c.finetune());
    assertEquals(EnumSet.of(ParamGroup.PROJECTOR, ParamGroup.DECODER), c.trainableGroups());
    assertEquals(64, c.loraSpec().rank());
    assertEquals(16f, c.loraSpec().alpha());
    assertEquals(EnumSet.range(LoraTarget.Q, LoraTarget.DOWN), c.loraSpec().targets());
    assertEquals(5e-4, c.lr());
    assertEquals(10, c.warmupSteps());
    assertEquals(8, c.batchSize());
    assertEquals(320, c.maxLength());
    assertEquals(1.0, c.maxGradNorm());
    assertEquals(0.0, c.weightDecay());
    assertEquals("tiny", c.preset());
    assertEquals(EnumSet.of(ParamGroup.PROJECTOR), SftConfig.builder().finetune(FineTuning.LORA).build().trainableGroups());
    assertEquals(13, c.totalSteps(100), "ceil(1 epoch * 100 / 8)");
    assertEquals(7, c.toBuilder().steps(7).warmupSteps(0).build().totalSteps(100));
    assertEquals(SftConfig.defaults(), SftConfig.parse("{}", "empty"));
  }

  @Test
  void jsonRoundTripsEveryKey() {
    SftConfig c = SftConfig.builder().finetune(FineTuning.LORA).loraRank(8).loraAlpha(32)
        .loraTargets(EnumSet.of(LoraTarget.Q, LoraTarget.V, LoraTarget.PROJECTOR)).trainableGroups(EnumSet.noneOf(ParamGroup.class))
        .lr(1.5e-4).minLrRatio(0.1).warmupSteps(3).epochs(2).steps(0).batchSize(4).maxLength(200).weightDecay(0.05)
        .maxGradNorm(0).seed(-7).checkpointEvery(25).logEvery(5).preset("small").initStd(0.01f).build();
    Path f = dir.resolve("c.json");
    c.write(f, IfExists.FAIL);
    SftConfig back = SftConfig.read(f);
    assertEquals(c, back);
    assertEquals("", c.differences(back));
    assertEquals(c.toJson(), back.toJson());
    assertTrue(c.toJson().toString().contains("\"lora_targets\":[\"q_proj\",\"v_proj\",\"multi_modal_projector\"]"),
        c.toJson().toString());
    assertEquals("lr: 1.5E-4 vs 5.0E-4", c.toBuilder().finetune(FineTuning.LORA).build().differences(
        c.toBuilder().lr(5e-4).build()));
  }

  @Test
  void badValuesNameTheirKey() throws Exception {
    String[][] cases = {
        {"{\"lr\": 0}", "key 'lr': 0 not in (0, 1]"},
        {"{\"lr\": \"fast\"}", "key 'lr': must be a number"},
        {"{\"epochs\": 0}", "key 'epochs': 0 not in [1,"},
        {"{\"warmup_steps\": -1}", "key 'warmup_steps': -1 not in [0,"},
        {"{\"steps\": 5, \"warmup_steps\": 6}", "key 'warmup_steps': 6 is more than steps 5"},
        {"{\"trainable_groups\": []}", "key 'trainable_groups': is empty"},
        {"{\"trainable_groups\": [\"eyes\"]}", "key 'trainable_groups': has \"eyes\""},
        {"{\"trainable_groups\": [\"vision\", \"vision\"]}", "names \"vision\" twice"},
        {"{\"lora_alpha\": -1}", "key 'lora_alpha': -1 not in"},
        {"{\"preset\": \"huge\"}", "key 'preset': \"huge\" is not one of"},
        {"{\"max_grad_norm\": -1}", "key 'max_grad_norm': -1 not in"},
        {"{\"seed\": 1e3}", "key 'seed': must be an integer"},
        {"{\"batchsize\": 2}", "unknown key 'batchsize'"},
        {"[1]", "expected a JSON object"},
        {"{\"lr\": 0.1,}", "x.json"}};
    for (String[] c : cases) {
      FactRlException e = assertThrows(FactRlException.class, () -> SftConfig.parse(c[0], "x.json"), c[0]);
      assertTrue(e.getMessage().contains(c[1]) && e.getMessage().startsWith("x.json"), c[0] + " -> " + e.getMessage());
    }
    FactRlException b = assertThrows(FactRlException.class, () -> SftConfig.builder().batchSize(0));
    assertTrue(b.getMessage().contains("key 'batch_size'"), b.getMessage());
    FactRlException missing = assertThrows(FactRlException.class, () -> SftConfig.read(dir.resolve("none.json")));
    assertTrue(missing.getMessage().contains("none.json"), missing.getMessage());
    assertTrue(!Files.exists(dir.resolve("none.json")));
  }
}
