package org.factrl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.IfExists;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ModelConfig without the native library: every field's check names the field, config.json round
 * trips and reads HF's LlavaConfig keys strictly, and the presets' parameter counts equal closed-form
 * counts written out here (and, for LLaVA-1.5-7B, the published total).
 */
class ModelConfigTest {
  @TempDir Path dir;

  private static void assertFieldError(String field, UnaryOperator<ModelConfig.Builder> change) {
    FactRlException e = assertThrows(FactRlException.class, () -> change.apply(ModelConfig.tiny().toBuilder()).build());
    assertTrue(e.getMessage().contains("field '" + field + "'"), e.getMessage());
  }

  @Test
  void everyFieldIsCheckedByName() {
    assertFieldError("image_size", b -> b.imageSize(0));
    assertFieldError("image_size", b -> b.imageSize(60)); // not a multiple of 8
    assertFieldError("image_channels", b -> b.imageChannels(-1));
    assertFieldError("patch_size", b -> b.patchSize(0));
    assertFieldError("vision_hidden", b -> b.visionHidden(0));
    assertFieldError("vision_layers", b -> b.visionLayers(-1));
    assertFieldError("vision_heads", b -> b.visionHeads(0));
    assertFieldError("vision_heads", b -> b.visionHeads(3)); // 128 % 3 != 0
    assertFieldError("vision_intermediate", b -> b.visionIntermediate(0));
    assertFieldError("vision_feature_layer", b -> b.visionFeatureLayer(3));
    assertFieldError("vision_feature_layer", b -> b.visionFeatureLayer(-4));
    assertFieldError("vision_layer_norm_eps", b -> b.visionLayerNormEps(0f));
    assertFieldError("vision_layer_norm_eps", b -> b.visionLayerNormEps(Float.NaN));
    assertFieldError("projector", b -> b.projector(null));
    assertFieldError("vocab_size", b -> b.vocabSize(0));
    assertFieldError("image_token_id", b -> b.vocabSize(4)); // id 4 no longer fits
    assertFieldError("hidden", b -> b.hidden(0));
    assertFieldError("layers", b -> b.layers(-1));
    assertFieldError("heads", b -> b.heads(0));
    assertFieldError("heads", b -> b.heads(5)); // 192 % 5 != 0
    assertFieldError("heads", b -> b.hidden(12).heads(4)); // head width 3: odd, no RoPE pairs
    assertFieldError("intermediate", b -> b.intermediate(0));
    assertFieldError("max_positions", b -> b.maxPositions(0));
    assertFieldError("rope_theta", b -> b.ropeTheta(Float.POSITIVE_INFINITY));
    assertFieldError("rms_norm_eps", b -> b.rmsNormEps(-1e-6f));
    assertFieldError("image_token_id", b -> b.imageTokenId(-1));
    // the edges that are allowed
    ModelConfig edge = ModelConfig.tiny().toBuilder().visionFeatureLayer(-3).layers(0).build();
    assertEquals(-3, edge.visionFeatureLayer());
  }

  @Test
  void buildersAreIndependentAndConfigsAreValues() {
    ModelConfig a = ModelConfig.tiny();
    ModelConfig b = a.toBuilder().hidden(256).build();
    assertEquals(192, a.hidden());
    assertEquals(256, b.hidden());
    assertNotEquals(a, b);
    assertEquals(a, ModelConfig.tiny());
    assertEquals(a.hashCode(), ModelConfig.tiny().hashCode());
    assertEquals("hidden 192 vs 256", a.differences(b));
    assertEquals("", a.differences(ModelConfig.tiny()));
    assertEquals(ModelConfig.llava7b(), ModelConfig.preset("llava-7b"));
    assertTrue(assertThrows(FactRlException.class, () -> ModelConfig.preset("huge")).getMessage().contains("'name'"));
  }

  @Test
  void tinyUsesTheShapesWorldsTokens() {
    ModelConfig t = ModelConfig.tiny();
    assertEquals(4, t.imageTokenId()); // <unk> <s> </s> <pad> <image>
    assertEquals(909, t.vocabSize());
    assertEquals(64, t.patchesPerImage());
    assertEquals(64, t.imageSize());
    assertEquals(8, t.patchSize());
  }

  /** The parameter count written out from the structure in model.h, independently of parameterShapes(). */
  private static long closedForm(ModelConfig c) {
    long dv = c.visionHidden(), fv = c.visionIntermediate(), p = c.patchesPerImage();
    long vision = dv * c.imageChannels() * c.patchSize() * c.patchSize() + dv + (p + 1) * dv + 2 * dv
        + c.visionLayers() * (4 * dv + 4 * (dv * dv + dv) + (fv * dv + fv) + (dv * fv + dv));
    long d = c.hidden(), f = c.intermediate(), v = c.vocabSize();
    long projector = d * dv + d + (c.projector() == Projector.MLP2X_GELU ? d * d + d : 0);
    long decoder = 2 * v * d + d + c.layers() * (2 * d + 4 * d * d + 3 * d * f);
    return vision + projector + decoder;
  }

  @Test
  void presetParameterCounts() {
    for (ModelConfig c : List.of(ModelConfig.tiny(), ModelConfig.small(), ModelConfig.llava7b())) {
      assertEquals(closedForm(c), c.parameterCount(), c.toString());
    }
    assertEquals(2_574_848L, ModelConfig.tiny().parameterCount());
    long small = ModelConfig.small().parameterCount();
    assertTrue(small > 95_000_000L && small < 115_000_000L, "small has " + small);
    // HF llava-1.5-7b-hf: 7,063,427,072 parameters, of which CLIP's post_layernorm (2 x 1024) is not held
    assertEquals(7_063_427_072L - 2 * 1024, ModelConfig.llava7b().parameterCount());
    // its decoder with Vicuna's own 32000-token vocabulary is LLaMA-7B: 6,738,415,616
    ModelConfig l = ModelConfig.llava7b().toBuilder().vocabSize(32000).imageTokenId(0).build();
    long decoderOnly = 0;
    for (Map.Entry<String, long[]> e : l.parameterShapes().entrySet()) {
      if (e.getKey().startsWith("language_model.")) {
        long n = 1;
        for (long x : e.getValue()) {
          n *= x;
        }
        decoderOnly += n;
      }
    }
    assertEquals(6_738_415_616L, decoderOnly);
  }

  @Test
  void parameterNamesFollowModelH() {
    ModelConfig c = ModelConfig.tiny().toBuilder().projector(Projector.MLP2X_GELU).visionLayers(1).layers(1).build();
    List<String> names = List.copyOf(c.parameterShapes().keySet());
    String vl = "vision_tower.vision_model.encoder.layers.0.";
    String ll = "language_model.model.layers.0.";
    assertEquals(List.of(
        "vision_tower.vision_model.embeddings.patch_embedding.weight",
        "vision_tower.vision_model.embeddings.class_embedding",
        "vision_tower.vision_model.embeddings.position_embedding.weight",
        "vision_tower.vision_model.pre_layrnorm.weight", "vision_tower.vision_model.pre_layrnorm.bias",
        vl + "layer_norm1.weight", vl + "layer_norm1.bias",
        vl + "self_attn.q_proj.weight", vl + "self_attn.k_proj.weight", vl + "self_attn.v_proj.weight",
        vl + "self_attn.out_proj.weight", vl + "self_attn.q_proj.bias", vl + "self_attn.k_proj.bias",
        vl + "self_attn.v_proj.bias", vl + "self_attn.out_proj.bias",
        vl + "layer_norm2.weight", vl + "layer_norm2.bias", vl + "mlp.fc1.weight", vl + "mlp.fc1.bias",
        vl + "mlp.fc2.weight", vl + "mlp.fc2.bias",
        "multi_modal_projector.linear_1.weight", "multi_modal_projector.linear_1.bias",
        "multi_modal_projector.linear_2.weight", "multi_modal_projector.linear_2.bias",
        "language_model.model.embed_tokens.weight",
        ll + "input_layernorm.weight", ll + "self_attn.q_proj.weight", ll + "self_attn.k_proj.weight",
        ll + "self_attn.v_proj.weight", ll + "self_attn.o_proj.weight", ll + "post_attention_layernorm.weight",
        ll + "mlp.gate_proj.weight", ll + "mlp.up_proj.weight", ll + "mlp.down_proj.weight",
        "language_model.model.norm.weight", "language_model.lm_head.weight"), names);
    assertArrayEquals(new long[] {128, 3, 8, 8}, c.parameterShapes().get(names.get(0)));
    assertArrayEquals(new long[] {65, 128}, c.parameterShapes().get(names.get(2)));
    assertArrayEquals(new long[] {512, 192}, c.parameterShapes().get(ll + "mlp.gate_proj.weight"));
    assertArrayEquals(new long[] {192, 512}, c.parameterShapes().get(ll + "mlp.down_proj.weight"));
  }

  @Test
  void adapterModulesProjectorFirstThenLayers() {
    ModelConfig c = ModelConfig.tiny().toBuilder().layers(2).projector(Projector.MLP2X_GELU).build();
    Map<String, long[]> m = c.adapterModules(EnumSet.of(LoraTarget.DOWN, LoraTarget.Q, LoraTarget.PROJECTOR));
    assertEquals(List.of("multi_modal_projector.linear_1", "multi_modal_projector.linear_2",
        "language_model.model.layers.0.self_attn.q_proj", "language_model.model.layers.0.mlp.down_proj",
        "language_model.model.layers.1.self_attn.q_proj", "language_model.model.layers.1.mlp.down_proj"),
        List.copyOf(m.keySet()));
    assertArrayEquals(new long[] {128, 192}, m.get("multi_modal_projector.linear_1"));
    assertArrayEquals(new long[] {512, 192}, m.get("language_model.model.layers.1.mlp.down_proj"));
  }

  @Test
  void jsonRoundTripsEveryPresetAndOddValues() {
    ModelConfig odd = ModelConfig.tiny().toBuilder().visionLayerNormEps(1.2345678e-7f).ropeTheta(500000f)
        .rmsNormEps(0.1f).visionFeatureLayer(-3).projector(Projector.MLP2X_GELU).build();
    for (ModelConfig c : List.of(ModelConfig.tiny(), ModelConfig.small(), ModelConfig.llava7b(), odd)) {
      assertEquals(c, ModelConfig.parse(c.toJson(), "test"), c.toString());
    }
    Path file = dir.resolve("ckpt").resolve(ModelConfig.FILE_NAME);
    odd.write(file, IfExists.FAIL);
    assertEquals(odd, ModelConfig.read(file));
    FactRlException e = assertThrows(FactRlException.class, () -> ModelConfig.tiny().write(file, IfExists.FAIL));
    assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    ModelConfig.tiny().write(file, IfExists.REPLACE);
    assertEquals(ModelConfig.tiny(), ModelConfig.read(file));
  }

  @Test
  void writesHfLlavaConfigKeys() {
    JsonObject o = JsonParser.parseString(ModelConfig.llava7b().toJson()).getAsJsonObject();
    assertEquals("llava", o.get("model_type").getAsString());
    assertEquals(32000, o.get("image_token_index").getAsInt());
    assertEquals(-2, o.get("vision_feature_layer").getAsInt());
    assertEquals("mlp2x_gelu", o.get("projector").getAsString());
    JsonObject v = o.getAsJsonObject("vision_config");
    assertEquals(1024, v.get("hidden_size").getAsInt());
    assertEquals(336, v.get("image_size").getAsInt());
    assertEquals(14, v.get("patch_size").getAsInt());
    assertEquals(24, v.get("num_hidden_layers").getAsInt());
    JsonObject t = o.getAsJsonObject("text_config");
    assertEquals(32064, t.get("vocab_size").getAsInt());
    assertEquals(11008, t.get("intermediate_size").getAsInt());
    assertEquals(4096, t.get("max_position_embeddings").getAsInt());
    assertEquals(1e-5, t.get("rms_norm_eps").getAsDouble(), 1e-12);
  }

  /** llava-hf/llava-1.5-7b-hf's config.json, the keys that matter, as HF writes them. */
  private static final String HF_LLAVA_15_7B = """
      {
        "architectures": ["LlavaForConditionalGeneration"],
        "ignore_index": -100,
        "image_token_index": 32000,
        "model_type": "llava",
        "pad_token_id": 32001,
        "projector_hidden_act": "gelu",
        "text_config": {
          "_name_or_path": "lmsys/vicuna-7b-v1.5",
          "architectures": ["LlamaForCausalLM"],
          "max_position_embeddings": 4096,
          "model_type": "llama",
          "rms_norm_eps": 1e-05,
          "torch_dtype": "float16",
          "vocab_size": 32064,
          "hidden_size": 4096,
          "intermediate_size": 11008,
          "num_hidden_layers": 32,
          "num_attention_heads": 32
        },
        "tie_word_embeddings": false,
        "torch_dtype": "float16",
        "transformers_version": "4.36.0.dev0",
        "vision_config": {
          "hidden_size": 1024,
          "image_size": 336,
          "intermediate_size": 4096,
          "model_type": "clip_vision_model",
          "num_attention_heads": 16,
          "num_hidden_layers": 24,
          "patch_size": 14,
          "projection_dim": 768,
          "vocab_size": 32000
          %s
        },
        "vision_feature_layer": -2,
        "vision_feature_select_strategy": "default",
        "vocab_size": 32064
      }
      """;

  @Test
  void readsHfLlavaConfigButNotQuickGelu() {
    // HF's CLIP config defaults to quick_gelu, which the engine does not compute: refused, by name
    FactRlException e = assertThrows(FactRlException.class,
        () -> ModelConfig.parse(HF_LLAVA_15_7B.formatted(""), "hf.json"));
    assertTrue(e.getMessage().contains("hf.json: field 'vision_config.hidden_act' is missing"), e.getMessage());
    e = assertThrows(FactRlException.class,
        () -> ModelConfig.parse(HF_LLAVA_15_7B.formatted(", \"hidden_act\": \"quick_gelu\""), "hf.json"));
    assertTrue(e.getMessage().contains("'vision_config.hidden_act' is \"quick_gelu\""), e.getMessage());
    // with erf GELU it is exactly the llava-7b preset (HF defaults: channels 3, eps 1e-5, theta 1e4; MLP projector)
    assertEquals(ModelConfig.llava7b(),
        ModelConfig.parse(HF_LLAVA_15_7B.formatted(", \"hidden_act\": \"gelu\""), "hf.json"));
  }

  private static String tinyJsonWith(String key, String replacement) {
    String json = ModelConfig.tiny().toJson();
    String changed = json.replaceFirst(key, replacement);
    assertNotEquals(json, changed, "the test's edit did not apply: " + key);
    return changed;
  }

  private static void assertParseError(String json, String expected) {
    FactRlException e = assertThrows(FactRlException.class, () -> ModelConfig.parse(json, "c.json"));
    assertTrue(e.getMessage().startsWith("c.json: "), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void readingIsStrictAboutWhatChangesTheMath() {
    assertParseError(tinyJsonWith("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 2"),
        "field 'text_config.num_key_value_heads' is 2; only 4 is supported");
    assertParseError(tinyJsonWith("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\""),
        "field 'text_config.hidden_act'");
    assertParseError(tinyJsonWith("\"model_type\": \"llama\",", "\"model_type\": \"llama\", \"rope_scaling\": {\"type\": \"linear\"},"),
        "field 'text_config.rope_scaling'");
    assertParseError(tinyJsonWith("\"model_type\": \"llama\",", "\"model_type\": \"llama\", \"attention_bias\": true,"),
        "field 'text_config.attention_bias'");
    assertParseError(tinyJsonWith("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true"),
        "field 'text_config.tie_word_embeddings'");
    assertParseError(tinyJsonWith("\"default\"", "\"full\""), "field 'vision_feature_select_strategy'");
    assertParseError(tinyJsonWith("\"projector\": \"linear\"", "\"projector\": \"mlp3x_gelu\""), "field 'projector'");
    assertParseError(tinyJsonWith("\"projector_hidden_act\": \"gelu\"", "\"projector_hidden_act\": \"relu\""),
        "field 'projector_hidden_act'");
    // numbers and structure
    assertParseError(tinyJsonWith("\"hidden_size\": 192", "\"hidden_size\": 192.5"),
        "field 'text_config.hidden_size' must be an integer");
    assertParseError(tinyJsonWith("\"hidden_size\": 192", "\"hidden_size\": 99999999999"),
        "field 'text_config.hidden_size' must be an integer");
    assertParseError(tinyJsonWith("\"hidden_size\": 192,", ""), "field 'text_config.hidden_size' is missing");
    assertParseError(tinyJsonWith("\"rope_theta\": 10000.0", "\"rope_theta\": \"10000\""),
        "field 'text_config.rope_theta' must be a number");
    assertParseError(tinyJsonWith("\"rope_theta\": 10000.0", "\"rope_theta\": 1e60"), "beyond the float range");
    assertParseError(tinyJsonWith("\"image_token_index\": 4", "\"image_token_index\": 909"),
        "field 'image_token_id' is 909: must be in [0, vocab_size = 909)");
    assertParseError(tinyJsonWith("\"vision_config\": \\{", "\"vision_config\": 3, \"x\": {"),
        "field 'vision_config' is not an object");
    assertParseError(tinyJsonWith("\"hidden_size\": 192", "\"hidden_size\": 192, \"hidden_size\": 256"),
        "hidden_size");
    assertParseError("[1, 2]", "not a JSON object");
  }

  @Test
  void readNamesTheFile() {
    Path missing = dir.resolve("nope.json");
    FactRlException e = assertThrows(FactRlException.class, () -> ModelConfig.read(missing));
    assertTrue(e.getMessage().contains("nope.json") && e.getMessage().contains("does not exist"), e.getMessage());
  }

  @Test
  void loraSpecChecksItsArguments() throws Exception {
    assertTrue(assertThrows(FactRlException.class, () -> LoraSpec.allDecoder(0, 16f)).getMessage().contains("'rank'"));
    assertTrue(assertThrows(FactRlException.class, () -> LoraSpec.allDecoder(8, Float.NaN)).getMessage().contains("'alpha'"));
    assertTrue(assertThrows(FactRlException.class, () -> new LoraSpec(8, 16f, EnumSet.noneOf(LoraTarget.class)))
        .getMessage().contains("'targets'"));
    LoraSpec s = LoraSpec.allDecoder(64, 16f);
    assertEquals(0.25f, s.scale());
    assertEquals(127, LoraTarget.bits(s.targets()));
    assertThrows(UnsupportedOperationException.class, () -> s.targets().add(LoraTarget.PROJECTOR));
    assertEquals(7, ParamGroup.bits(EnumSet.allOf(ParamGroup.class)));
    assertEquals(ParamGroup.PROJECTOR, ParamGroup.of("multi_modal_projector.linear_1.bias"));
    assertTrue(Files.notExists(dir.resolve("x")));
  }
}
