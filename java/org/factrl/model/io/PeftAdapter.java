package org.factrl.model.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;

/**
 * A LoRA adapter in PEFT's folder format: {@value #WEIGHTS_FILE} holds, for each adapted module
 * {@code M} (e.g. {@code model.layers.0.self_attn.q_proj}), {@code base_model.model.M.lora_A.weight}
 * of shape {@code [r, in]} and {@code base_model.model.M.lora_B.weight} of shape {@code [out, r]}
 * (the update is {@code scale · B·A}); {@value LoraAdapterConfig#FILE_NAME} holds the
 * {@link LoraAdapterConfig}. {@link #read(Path)} checks that both agree: every tensor has such a
 * name, every module has both halves, ranks equal {@code r}, A and B are 2-D, and every module is a
 * target of the config. Immutable; weights load lazily ({@link #load}).
 */
public final class PeftAdapter {
  public static final String WEIGHTS_FILE = "adapter_model.safetensors";
  /** PEFT's prefix of every weight name (the wrapped model inside the PEFT model). */
  public static final String PREFIX = "base_model.model.";
  static final String A_SUFFIX = ".lora_A.weight";
  static final String B_SUFFIX = ".lora_B.weight";

  /** One module's pair: {@code a} is {@code [r, in]}, {@code b} is {@code [out, r]}. */
  public record Pair(Tensor a, Tensor b) {
    public Pair {
      Objects.requireNonNull(a, "a");
      Objects.requireNonNull(b, "b");
    }
  }

  private final LoraAdapterConfig config;
  private final SafeTensors weights;
  private final List<String> modules;

  private PeftAdapter(LoraAdapterConfig config, SafeTensors weights, List<String> modules) {
    this.config = config;
    this.weights = weights;
    this.modules = modules;
  }

  public static String aName(String module) {
    return PREFIX + module + A_SUFFIX;
  }

  public static String bName(String module) {
    return PREFIX + module + B_SUFFIX;
  }

  /** Reads and cross-checks the adapter in folder {@code dir}; reads no tensor data. */
  public static PeftAdapter read(Path dir) {
    Objects.requireNonNull(dir, "dir");
    if (!Files.isDirectory(dir)) {
      throw new FactRlException(dir + ": not a folder (a PEFT adapter is a folder with " + WEIGHTS_FILE + " and "
          + LoraAdapterConfig.FILE_NAME + ")");
    }
    LoraAdapterConfig config = LoraAdapterConfig.read(dir.resolve(LoraAdapterConfig.FILE_NAME));
    Path file = dir.resolve(WEIGHTS_FILE);
    SafeTensors weights = SafeTensors.read(file);
    List<String> modules = new ArrayList<>();
    for (String name : weights.names()) {
      String module = moduleOf(name);
      if (module == null) {
        throw new FactRlException(file + ": tensor '" + name + "' is not a LoRA weight (expected " + PREFIX
            + "<module>" + A_SUFFIX + " or " + B_SUFFIX + ")");
      }
      if (name.endsWith(A_SUFFIX)) {
        modules.add(module);
      } else if (!weights.contains(aName(module))) {
        throw new FactRlException(file + ": tensor '" + name + "' has no '" + aName(module) + "'");
      }
    }
    for (String module : modules) {
      if (!weights.contains(bName(module))) {
        throw new FactRlException(file + ": tensor '" + aName(module) + "' has no '" + bName(module) + "'");
      }
      checkPair(file, config, module, weights.entry(aName(module)).shape(), weights.entry(bName(module)).shape());
    }
    return new PeftAdapter(config, weights, Collections.unmodifiableList(modules));
  }

  private static String moduleOf(String name) {
    if (!name.startsWith(PREFIX)) {
      return null;
    }
    for (String suffix : List.of(A_SUFFIX, B_SUFFIX)) {
      if (name.endsWith(suffix) && name.length() > PREFIX.length() + suffix.length()) {
        return name.substring(PREFIX.length(), name.length() - suffix.length());
      }
    }
    return null;
  }

  private static void checkPair(Object file, LoraAdapterConfig config, String module, long[] a, long[] b) {
    if (!config.targets(module)) {
      throw new FactRlException(file + ": module '" + module + "' is not among the config's target_modules "
          + config.targetModules());
    }
    if (a.length != 2 || b.length != 2 || a[0] != config.r() || b[1] != config.r()) {
      throw new FactRlException(file + ": module '" + module + "': lora_A is " + Arrays.toString(a) + " and lora_B is "
          + Arrays.toString(b) + "; expected [r, in] and [out, r] with r = " + config.r());
    }
  }

  /**
   * Writes {@code modules} (module name → A/B pair, in map order) and {@code config} into folder
   * {@code dir}, each file atomically; refuses to replace existing files unless asked. The weights
   * are checked against the config first, so a written adapter always reads back.
   */
  public static void write(Path dir, LoraAdapterConfig config, Map<String, Pair> modules, IfExists ifExists) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(modules, "modules");
    Objects.requireNonNull(ifExists, "ifExists");
    Path file = dir.resolve(WEIGHTS_FILE);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Pair> m : modules.entrySet()) {
      String module = m.getKey();
      if (module == null || module.isEmpty()) {
        throw new FactRlException(file + ": a module has an empty name");
      }
      checkPair(file, config, module, m.getValue().a().shape(), m.getValue().b().shape());
      tensors.put(aName(module), m.getValue().a());
      tensors.put(bName(module), m.getValue().b());
    }
    if (ifExists == IfExists.FAIL && Files.exists(dir.resolve(LoraAdapterConfig.FILE_NAME))) {
      throw new FactRlException(dir.resolve(LoraAdapterConfig.FILE_NAME) + ": already exists; not overwritten (ask to replace it explicitly)");
    }
    SafeTensors.write(file, tensors, Map.of("format", "pt"), ifExists);
    config.write(dir.resolve(LoraAdapterConfig.FILE_NAME), ifExists);
  }

  public LoraAdapterConfig config() {
    return config;
  }

  /** The weights file's index. */
  public SafeTensors weights() {
    return weights;
  }

  /** Adapted module names in file order (immutable). */
  public List<String> modules() {
    return modules;
  }

  /** Loads the module's A and B into {@code a} and {@code b}, which must have their types and shapes. */
  public void load(String module, Tensor a, Tensor b) {
    Objects.requireNonNull(module, "module");
    if (!modules.contains(module)) {
      throw new FactRlException(weights.path() + ": no LoRA weights for module '" + module + "' (" + modules.size()
          + " modules)");
    }
    weights.load(aName(module), a);
    weights.load(bName(module), b);
  }

  @Override
  public String toString() {
    return "PeftAdapter(" + weights.path() + ", " + modules.size() + " modules, r=" + config.r() + ")";
  }
}
