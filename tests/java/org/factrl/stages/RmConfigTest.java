package org.factrl.stages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.EnumSet;
import org.factrl.engine.FactRlException;
import org.factrl.model.LoraTarget;
import org.factrl.model.io.IfExists;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RmConfig: defaults, JSON round trip, strict parsing with the key named. */
class RmConfigTest {
  @TempDir Path dir;

  @Test
  void defaultsAreTheDocumentedOnes() {
    RmConfig c = RmConfig.defaults();
    assertTrue(c.facts());
    assertEquals(0.001, c.centring());
    assertEquals(8, c.pairsPerStep());
    assertEquals(64, c.heldOutPairs());
    assertEquals(16, c.loraSpec().rank());
    assertEquals(EnumSet.range(LoraTarget.Q, LoraTarget.DOWN), c.loraSpec().targets());
    assertEquals(13, c.totalSteps(100)); // ceil(100 / 8)
  }

  @Test
  void roundTripsThroughAFile() {
    RmConfig c = RmConfig.builder().facts(false).lr(2e-5).steps(7).pairsPerStep(32).heldOutPairs(500).seed(-3)
        .loraTargets(EnumSet.of(LoraTarget.Q, LoraTarget.V)).centring(0.01).build();
    c.write(dir.resolve("c.json"), IfExists.FAIL);
    RmConfig back = RmConfig.read(dir.resolve("c.json"));
    assertEquals(c, back);
    assertEquals("", c.differences(back));
    assertFalse(back.facts());
  }

  private static String error(String json) {
    return assertThrows(FactRlException.class, () -> RmConfig.parse(json, "rm.json")).getMessage();
  }

  @Test
  void badKeysAndValuesAreNamed() {
    assertTrue(error("{\"lr\": 0.1, \"centering\": 1}").contains("unknown key 'centering'"));
    assertTrue(error("{\"lr\": 5}").contains("key 'lr'"));
    assertTrue(error("{\"facts\": \"yes\"}").contains("key 'facts': must be true or false"));
    assertTrue(error("{\"held_out_pairs\": 0}").contains("key 'held_out_pairs'"));
    assertTrue(error("{\"pairs_per_step\": 2.5}").contains("key 'pairs_per_step': must be an integer"));
    assertTrue(error("{\"centring\": -1}").contains("key 'centring'"));
    assertTrue(error("{\"lora_targets\": [\"multi_modal_projector\"]}").contains("key 'lora_targets'"));
    assertTrue(error("{\"lora_targets\": [\"q_proj\", \"q_proj\"]}").contains("twice"));
    assertTrue(error("[1]").contains("expected a JSON object"));
    assertTrue(error("{\"lr\": 0.1, \"lr\": 0.2}").startsWith("rm.json"));
    assertTrue(error("{\"preferences\": \"  \"}").contains("key 'preferences': must name a file"));
    assertTrue(error("{\"preferences\": 3}").contains("'preferences'"));
  }

  @Test
  void thePreferencesFileIsTheDataSetsUnlessNamed() {
    Path data = Path.of("/data/ds");
    assertEquals(Path.of("/data/ds/preferences.json"), RmConfig.defaults().preferencesFile(data));
    RmConfig relative = RmConfig.parse("{\"preferences\": \"../sampled.json\"}", "rm.json");
    assertEquals(Path.of("/data/sampled.json"), relative.preferencesFile(data));
    RmConfig absolute = RmConfig.builder().preferences("/runs/p/prefs.json").build();
    assertEquals(Path.of("/runs/p/prefs.json"), absolute.preferencesFile(data));
    assertEquals(absolute, RmConfig.parse(absolute.toJson().toString(), "again"));
    assertTrue(absolute.differences(RmConfig.defaults()).startsWith("preferences:"));
  }
}
