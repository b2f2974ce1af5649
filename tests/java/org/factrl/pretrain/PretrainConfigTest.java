package org.factrl.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.IfExists;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PretrainConfig: JSON round trip, strict reading, and rejection messages that name the key. */
class PretrainConfigTest {
  @TempDir Path dir;

  private static String error(String json) {
    return assertThrows(FactRlException.class, () -> PretrainConfig.parse(json, "cfg.json")).getMessage();
  }

  @Test
  void roundTripsThroughJson() {
    PretrainConfig c = PretrainConfig.builder().textSteps(7).warmupSteps(2).textLr(2e-3).alignTrainDecoder(false).seed(-5)
        .initStd(0.03f).bf16(false).build();
    Path f = dir.resolve("c.json");
    c.write(f, IfExists.FAIL);
    PretrainConfig back = PretrainConfig.read(f);
    assertEquals(c, back);
    assertEquals(7, back.textSteps());
    assertFalse(back.alignTrainDecoder());
    assertEquals(-5, back.seed());
    assertEquals(0.03f, back.initStd());
    assertEquals("", c.differences(back));
    assertTrue(c.differences(PretrainConfig.defaults()).contains("text_steps: 7 vs 800"), c.differences(PretrainConfig.defaults()));
    assertEquals(PretrainConfig.defaults(), PretrainConfig.parse("{}", "x"));
    assertEquals(3, PretrainConfig.parse("{\"align_steps\": 3, \"warmup_steps\": 1}", "x").alignSteps());
  }

  @Test
  void rejectsWithMessagesNamingTheKey() {
    assertTrue(error("{\"text_step\": 3}").startsWith("cfg.json: unknown key 'text_step'"), error("{\"text_step\": 3}"));
    String vision = error("{\"vision_steps\": -1}");
    assertTrue(vision.startsWith("cfg.json: key 'vision_steps' must be an integer in [0, "), vision);
    assertTrue(error("{\"vision_lr\": 0}").contains("'vision_lr'"));
    assertTrue(error("{\"vision_batch_size\": 0}").contains("'vision_batch_size'"));
    assertTrue(error("{\"text_lr\": 0}").contains("'text_lr'"));
    assertTrue(error("{\"align_batch_size\": 0}").contains("'align_batch_size'"));
    assertTrue(error("{\"text_steps\": 1.5}").contains("'text_steps'"));
    assertTrue(error("{\"align_train_decoder\": 1}").contains("'align_train_decoder'"));
    assertTrue(error("{\"preset\": \"huge\"}").contains("'preset'"));
    String warm = error("{\"text_steps\": 5, \"warmup_steps\": 6}");
    assertTrue(warm.contains("'warmup_steps' is 6, more than text_steps (5)"), warm);
    assertTrue(error("[1]").contains("expected a JSON object"));
    FactRlException e = assertThrows(FactRlException.class,
        () -> PretrainConfig.builder().visionSteps(5).warmupSteps(6).textSteps(0).alignSteps(0).build());
    assertTrue(e.getMessage().contains("'warmup_steps' is 6, more than vision_steps (5)"), e.getMessage());
  }
}
