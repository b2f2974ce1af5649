package org.factrl.model.io;

import static org.factrl.model.io.SafeTensorsTest.assertMessage;
import static org.factrl.model.io.SafeTensorsTest.bits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEFT adapter folders: config validation, strict reading, and A/B weights written and read back bit for bit. */
class PeftAdapterTest {
  @TempDir Path dir;

  static final String PEFT_CONFIG = """
      {
        "alpha_pattern": {},
        "auto_mapping": null,
        "base_model_name_or_path": "llava-hf/llava-1.5-7b-hf",
        "bias": "none",
        "fan_in_fan_out": false,
        "inference_mode": true,
        "init_lora_weights": true,
        "layers_pattern": null,
        "layers_to_transform": null,
        "lora_alpha": 16,
        "lora_dropout": 0.05,
        "modules_to_save": null,
        "peft_type": "LORA",
        "r": 64,
        "rank_pattern": {},
        "revision": null,
        "target_modules": ["q_proj", "v_proj", "k_proj", "o_proj"],
        "task_type": "CAUSAL_LM",
        "use_dora": false,
        "use_rslora": false
      }
      """;

  @Test
  void readsTheConfigPeftWrites() {
    LoraAdapterConfig c = LoraAdapterConfig.parse(PEFT_CONFIG, "adapter_config.json");
    assertEquals(64, c.r());
    assertEquals(16.0, c.loraAlpha());
    assertEquals(0.25, c.scale());
    assertEquals(List.of("q_proj", "v_proj", "k_proj", "o_proj"), c.targetModules());
    assertEquals(0.05, c.loraDropout());
    assertEquals("CAUSAL_LM", c.taskType());
    assertTrue(c.targets("model.layers.3.self_attn.q_proj"));
    assertTrue(!c.targets("model.layers.3.mlp.up_proj"));
    assertEquals(c, LoraAdapterConfig.parse(c.toJson(), "again"));
  }

  @Test
  void rejectsConfigsThatWouldChangeTheMathOrAreMalformed() {
    String s = "cfg.json";
    assertMessage(() -> LoraAdapterConfig.parse(PEFT_CONFIG.replace("\"use_rslora\": false", "\"use_rslora\": true"), s),
        s, "'use_rslora'");
    assertMessage(() -> LoraAdapterConfig.parse(PEFT_CONFIG.replace("\"rank_pattern\": {}", "\"rank_pattern\": {\"q_proj\": 8}"), s),
        "'rank_pattern'");
    assertMessage(() -> LoraAdapterConfig.parse(PEFT_CONFIG.replace("\"LORA\"", "\"IA3\""), s), "'peft_type'", "IA3");
    assertMessage(() -> LoraAdapterConfig.parse(PEFT_CONFIG.replace("\"r\": 64", "\"r\": 0"), s), s, "'r'");
    assertMessage(() -> LoraAdapterConfig.parse(PEFT_CONFIG.replace("\"r\": 64", "\"r\": 6.5"), s), "'r'");
    assertMessage(() -> LoraAdapterConfig.parse(PEFT_CONFIG.replace("\"lora_alpha\": 16", "\"lora_alpha\": -1"), s), "'lora_alpha'");
    assertMessage(() -> LoraAdapterConfig.parse(PEFT_CONFIG.replace("\"bias\": \"none\"", "\"bias\": \"all\""), s), "'bias'");
    assertMessage(() -> LoraAdapterConfig.parse(
        PEFT_CONFIG.replace("[\"q_proj\", \"v_proj\", \"k_proj\", \"o_proj\"]", "\".*proj\""), s), "'target_modules'", "regular expression");
    assertMessage(() -> LoraAdapterConfig.parse(
        PEFT_CONFIG.replace("[\"q_proj\", \"v_proj\", \"k_proj\", \"o_proj\"]", "[\"q_proj\", \"q_proj\"]"), s), "'target_modules'", "twice");
    assertMessage(() -> LoraAdapterConfig.parse(PEFT_CONFIG.replace("\"r\": 64,", "\"r\": 64, \"r\": 8,"), s), "duplicate key");
    assertMessage(() -> LoraAdapterConfig.parse(PEFT_CONFIG.replace("\"lora_dropout\": 0.05", "\"lora_dropout\": 1.0"), s), "'lora_dropout'");
    assertMessage(() -> LoraAdapterConfig.of(8, 16, List.of()), "'target_modules'");
  }

  @Test
  void adapterRoundTripsBitForBit() throws IOException {
    LoraAdapterConfig config = LoraAdapterConfig.of(4, 8, List.of("q_proj", "v_proj"));
    Random rnd = new Random(5);
    try (Device cpu = Device.cpu();
        Tensor qa = random(cpu, DType.BF16, rnd, 4, 16); Tensor qb = random(cpu, DType.BF16, rnd, 16, 4);
        Tensor va = random(cpu, DType.F32, rnd, 4, 16); Tensor vb = random(cpu, DType.F32, rnd, 8, 4);
        Tensor qa2 = cpu.zeros(DType.BF16, 4, 16); Tensor qb2 = cpu.zeros(DType.BF16, 16, 4);
        Tensor va2 = cpu.zeros(DType.F32, 4, 16); Tensor vb2 = cpu.zeros(DType.F32, 8, 4)) {
      Map<String, PeftAdapter.Pair> modules = new LinkedHashMap<>();
      modules.put("model.layers.0.self_attn.q_proj", new PeftAdapter.Pair(qa, qb));
      modules.put("model.layers.0.self_attn.v_proj", new PeftAdapter.Pair(va, vb));
      Path out = dir.resolve("adapter");
      PeftAdapter.write(out, config, modules, IfExists.FAIL);
      PeftAdapter read = PeftAdapter.read(out);
      assertEquals(config, read.config());
      assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"), read.modules());
      assertTrue(read.weights().contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
      read.load("model.layers.0.self_attn.q_proj", qa2, qb2);
      read.load("model.layers.0.self_attn.v_proj", va2, vb2);
      assertArrayEquals(bits(qa), bits(qa2));
      assertArrayEquals(bits(qb), bits(qb2));
      assertArrayEquals(bits(va), bits(va2));
      assertArrayEquals(bits(vb), bits(vb2));
      assertMessage(() -> PeftAdapter.write(out, config, modules, IfExists.FAIL), "already exists");
      PeftAdapter.write(out, config, modules, IfExists.REPLACE);

      // a pair whose rank is not r, a module that is not a target, a missing half
      assertMessage(() -> PeftAdapter.write(dir.resolve("bad"), LoraAdapterConfig.of(2, 8, List.of("q_proj", "v_proj")),
          modules, IfExists.FAIL), "'model.layers.0.self_attn.q_proj'", "[4, 16]", "r = 2");
      assertMessage(() -> PeftAdapter.write(dir.resolve("bad"), LoraAdapterConfig.of(4, 8, List.of("q_proj")), modules,
          IfExists.FAIL), "'model.layers.0.self_attn.v_proj'", "target_modules");
      Path half = dir.resolve("half");
      Files.createDirectories(half);
      SafeTensors.write(half.resolve(PeftAdapter.WEIGHTS_FILE),
          Map.of(PeftAdapter.aName("model.layers.0.self_attn.q_proj"), qa), Map.of(), IfExists.FAIL);
      config.write(half.resolve(LoraAdapterConfig.FILE_NAME), IfExists.FAIL);
      assertMessage(() -> PeftAdapter.read(half), "lora_B.weight");
      Path stray = dir.resolve("stray");
      Files.createDirectories(stray);
      SafeTensors.write(stray.resolve(PeftAdapter.WEIGHTS_FILE), Map.of("model.norm.weight", qa), Map.of(), IfExists.FAIL);
      config.write(stray.resolve(LoraAdapterConfig.FILE_NAME), IfExists.FAIL);
      assertMessage(() -> PeftAdapter.read(stray), "'model.norm.weight'", "not a LoRA weight");
      assertMessage(() -> PeftAdapter.read(dir.resolve("nowhere")), "not a folder");
    }
  }

  static Tensor random(Device cpu, DType dtype, Random rnd, long... shape) {
    Tensor t = cpu.zeros(dtype, shape);
    float[] v = new float[(int) t.numel()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    t.write(v);
    return t;
  }

}
