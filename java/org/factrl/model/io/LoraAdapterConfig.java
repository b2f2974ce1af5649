package org.factrl.model.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;

/**
 * A PEFT LoRA adapter's {@code adapter_config.json}: rank {@code r}, {@code lora_alpha} (the
 * update is scaled by {@code alpha / r}, {@link #scale()}), the module names it adapts
 * ({@code q_proj}, … — matched against the last part of a module's dotted name), dropout, bias
 * mode and task type. Immutable and valid by construction.
 *
 * <p>Reading is strict about what changes the adapter's meaning and lenient about bookkeeping: the
 * JSON syntax is {@link StrictJson}'s (duplicate keys are errors); {@code peft_type} must be
 * {@code LORA}; options this engine does not implement ({@code use_rslora}, {@code use_dora},
 * {@code fan_in_fan_out}, {@code modules_to_save}, {@code layers_to_transform}, per-module
 * {@code rank_pattern}/{@code alpha_pattern}, a regex {@code target_modules}, {@code bias} other
 * than {@code none}) are errors unless they have PEFT's default value, so an adapter is never
 * silently applied differently from how it was trained. Other fields PEFT writes
 * ({@code base_model_name_or_path}, {@code inference_mode}, {@code revision}, …) are ignored.
 */
public record LoraAdapterConfig(int r, double loraAlpha, List<String> targetModules, double loraDropout, String bias,
    String taskType) {
  public static final String FILE_NAME = "adapter_config.json";

  public LoraAdapterConfig {
    Objects.requireNonNull(targetModules, "targetModules");
    Objects.requireNonNull(bias, "bias");
    Objects.requireNonNull(taskType, "taskType");
    require(r > 0, "r", "must be positive, got " + r);
    require(Double.isFinite(loraAlpha) && loraAlpha > 0, "lora_alpha", "must be positive and finite, got " + loraAlpha);
    require(!targetModules.isEmpty(), "target_modules", "is empty");
    Set<String> seen = new HashSet<>();
    for (String t : targetModules) {
      require(t != null && !t.isEmpty(), "target_modules", "has an empty name");
      require(seen.add(t), "target_modules", "names '" + t + "' twice");
    }
    targetModules = List.copyOf(targetModules);
    require(loraDropout >= 0 && loraDropout < 1, "lora_dropout", "must be in [0, 1), got " + loraDropout);
    require(bias.equals("none"), "bias", "'" + bias + "' is not supported (only 'none': no bias tensors are trained)");
    require(!taskType.isEmpty(), "task_type", "is empty");
  }

  /** A causal-LM adapter with no dropout and no bias. */
  public static LoraAdapterConfig of(int r, double loraAlpha, List<String> targetModules) {
    return new LoraAdapterConfig(r, loraAlpha, targetModules, 0.0, "none", "CAUSAL_LM");
  }

  private static void require(boolean ok, String field, String reason) {
    if (!ok) {
      throw new FactRlException("LoRA adapter config: field '" + field + "' " + reason);
    }
  }

  /** The factor applied to {@code B·A}: {@code lora_alpha / r}. */
  public double scale() {
    return loraAlpha / r;
  }

  /** Whether a module (dotted name, e.g. {@code model.layers.0.self_attn.q_proj}) is a target. */
  public boolean targets(String moduleName) {
    String last = moduleName.substring(moduleName.lastIndexOf('.') + 1);
    return targetModules.contains(last) || targetModules.contains(moduleName);
  }

  /** Options that must keep PEFT's default value: a different one would change the adapter's math. */
  private static final Map<String, String> MUST_BE_DEFAULT = Map.of(
      "use_rslora", "false", "use_dora", "false", "fan_in_fan_out", "false", "modules_to_save", "null",
      "layers_to_transform", "null", "rank_pattern", "{}", "alpha_pattern", "{}", "lora_bias", "false",
      "layer_replication", "null");

  /** Parses the JSON of an {@code adapter_config.json}; errors name {@code source} and the field. */
  public static LoraAdapterConfig parse(String json, String source) {
    JsonElement root = StrictJson.parse(json, source);
    if (!root.isJsonObject()) {
      throw new FactRlException(source + ": not a JSON object");
    }
    JsonObject o = root.getAsJsonObject();
    String peftType = string(o, "peft_type", null, source);
    if (!peftType.equals("LORA")) {
      throw new FactRlException(source + ": field 'peft_type': '" + peftType + "' is not supported (only LORA)");
    }
    for (Map.Entry<String, String> d : MUST_BE_DEFAULT.entrySet()) {
      if (o.has(d.getKey()) && !o.get(d.getKey()).toString().equals(d.getValue())) {
        throw new FactRlException(source + ": field '" + d.getKey() + "' is " + abbreviate(o.get(d.getKey()).toString())
            + "; only " + d.getValue() + " is supported");
      }
    }
    JsonElement targets = o.get("target_modules");
    if (targets == null || !targets.isJsonArray()) {
      throw new FactRlException(source + ": field 'target_modules' must be a list of module names"
          + (targets != null && targets.isJsonPrimitive() ? " (a regular expression is not supported)" : ""));
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < targets.getAsJsonArray().size(); i++) {
      JsonElement t = targets.getAsJsonArray().get(i);
      if (!t.isJsonPrimitive() || !t.getAsJsonPrimitive().isString()) {
        throw new FactRlException(source + ": field 'target_modules[" + i + "]' is not a string");
      }
      names.add(t.getAsString());
    }
    JsonElement rank = o.get("r");
    if (rank == null || !rank.isJsonPrimitive() || !rank.getAsJsonPrimitive().isNumber() || !rank.getAsString().matches("[0-9]{1,9}")) {
      throw new FactRlException(source + ": field 'r' must be a positive integer, got " + (rank == null ? "nothing" : abbreviate(rank.toString())));
    }
    double alpha = number(o, "lora_alpha", null, source);
    double dropout = number(o, "lora_dropout", 0.0, source);
    String bias = string(o, "bias", "none", source);
    String task = string(o, "task_type", "CAUSAL_LM", source);
    try {
      return new LoraAdapterConfig(Integer.parseInt(rank.getAsString()), alpha, names, dropout, bias, task);
    } catch (FactRlException e) {
      throw new FactRlException(source + ": " + e.getMessage().replace("LoRA adapter config: ", ""), e);
    }
  }

  private static String string(JsonObject o, String field, String fallback, String source) {
    JsonElement v = o.get(field);
    if (v == null || v.isJsonNull()) {
      if (fallback == null) {
        throw new FactRlException(source + ": field '" + field + "' is missing");
      }
      return fallback;
    }
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
      throw new FactRlException(source + ": field '" + field + "' is not a string");
    }
    return v.getAsString();
  }

  private static double number(JsonObject o, String field, Double fallback, String source) {
    JsonElement v = o.get(field);
    if (v == null || v.isJsonNull()) {
      if (fallback == null) {
        throw new FactRlException(source + ": field '" + field + "' is missing");
      }
      return fallback;
    }
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
      throw new FactRlException(source + ": field '" + field + "' is not a number");
    }
    try {
      return Double.parseDouble(v.getAsString());
    } catch (NumberFormatException e) {
      throw new FactRlException(source + ": field '" + field + "' is not a number: " + abbreviate(v.getAsString()));
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  /** Reads {@code file} (an {@code adapter_config.json}). */
  public static LoraAdapterConfig read(Path file) {
    Objects.requireNonNull(file, "file");
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": not a regular file");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot read (or not UTF-8): " + e, e);
    }
    return parse(text, file.toString());
  }

  /** The JSON PEFT writes for this config (its defaults spelled out for the options above). */
  public String toJson() {
    StringWriter out = new StringWriter();
    try (JsonWriter w = new JsonWriter(out)) {
      w.setIndent("  ");
      w.setHtmlSafe(false);
      w.setSerializeNulls(true);
      w.beginObject();
      w.name("peft_type").value("LORA");
      w.name("task_type").value(taskType);
      w.name("r").value(r);
      w.name("lora_alpha");
      if (loraAlpha == Math.rint(loraAlpha) && Math.abs(loraAlpha) < 1e15) {
        w.value((long) loraAlpha); // PEFT writes integer alphas as integers
      } else {
        w.value(loraAlpha);
      }
      w.name("lora_dropout").value(loraDropout);
      w.name("target_modules").beginArray();
      for (String t : targetModules) {
        w.value(t);
      }
      w.endArray();
      w.name("bias").value(bias);
      w.name("fan_in_fan_out").value(false);
      w.name("use_rslora").value(false);
      w.name("use_dora").value(false);
      w.name("modules_to_save").nullValue();
      w.name("inference_mode").value(true);
      w.endObject();
    } catch (IOException e) {
      throw new AssertionError("a StringWriter does not fail", e);
    }
    return out + "\n";
  }

  /** Writes {@link #toJson()} to {@code file} atomically; replaces an existing file only if asked. */
  public void write(Path file, IfExists ifExists) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(ifExists, "ifExists");
    byte[] bytes = toJson().getBytes(StandardCharsets.UTF_8);
    AtomicWrite.write(file, ifExists, ch -> {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
    });
  }
}
