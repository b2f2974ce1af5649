package org.factrl.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.model.io.IfExists;
import org.factrl.model.io.LoraAdapterConfig;
import org.factrl.model.io.PeftAdapter;
import org.factrl.model.io.SafeTensors;
import org.factrl.model.io.SafeTensorsEntry;

/**
 * A {@link LlavaModel}'s weights on disk: the base as an HF-style folder (model.safetensors +
 * config.json), adapter sets as PEFT folders. Every load checks everything before it changes a
 * weight, and names the file, the tensor and both shapes when something does not fit.
 */
final class LlavaWeights {
  /** PEFT target_modules names of the projector's linear layers (full module paths: unambiguous). */
  static final String PROJECTOR_LINEAR_1 = "multi_modal_projector.linear_1";
  static final String PROJECTOR_LINEAR_2 = "multi_modal_projector.linear_2";
  private static final String A = ".lora_A.weight";
  private static final String B = ".lora_B.weight";

  private LlavaWeights() {}

  static void saveBase(LlavaModel model, Path dir, IfExists ifExists, boolean bf16) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(ifExists, "ifExists");
    Path weights = dir.resolve(LlavaModel.WEIGHTS_FILE);
    Path config = dir.resolve(ModelConfig.FILE_NAME);
    if (ifExists == IfExists.FAIL) {
      for (Path p : List.of(weights, config)) {
        if (Files.exists(p)) {
          throw new FactRlException(p + ": already exists; not overwritten (ask to replace it explicitly)");
        }
      }
    }
    // weights first: a folder with a config.json always has its weights
    if (bf16) {
      SafeTensors.writeBf16(weights, model.params(), Map.of("format", "pt"), ifExists);
    } else {
      SafeTensors.write(weights, model.params(), Map.of("format", "pt"), ifExists);
    }
    model.config().write(config, ifExists);
  }

  static void loadBase(LlavaModel model, Path dir) {
    Objects.requireNonNull(dir, "dir");
    Path configFile = dir.resolve(ModelConfig.FILE_NAME);
    ModelConfig onDisk = ModelConfig.read(configFile);
    if (!onDisk.equals(model.config())) {
      throw new FactRlException(configFile + ": the checkpoint's config differs from the model's in: "
          + model.config().differences(onDisk) + " (model vs file)");
    }
    // SafeTensors checks names (missing / unexpected) and every type and shape before reading data
    // a base saved in bf16 (saveBaseBf16) widens exactly into the f32 weights
    SafeTensors.loadWidening(dir.resolve(LlavaModel.WEIGHTS_FILE), model.params());
  }

  /** The PEFT module name of a blob entry ({@code base_model.model.M.lora_A.weight} → M), or null. */
  private static String moduleOf(String entry) {
    if (entry.startsWith(PeftAdapter.PREFIX) && entry.endsWith(A)) {
      return entry.substring(PeftAdapter.PREFIX.length(), entry.length() - A.length());
    }
    return null;
  }

  /** The target_modules list of a spec: decoder short names (q_proj, ...) then the projector's layers. */
  static List<String> targetModules(LoraSpec spec, ModelConfig config) {
    List<String> names = new ArrayList<>();
    for (LoraTarget t : spec.targets()) {
      if (t.isDecoder()) {
        names.add(t.peftName());
      }
    }
    if (spec.targets().contains(LoraTarget.PROJECTOR)) {
      names.add(PROJECTOR_LINEAR_1);
      if (config.projector() == Projector.MLP2X_GELU) {
        names.add(PROJECTOR_LINEAR_2);
      }
    }
    return names;
  }

  static void saveAdapter(LlavaModel model, String name, Path dir, IfExists ifExists) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(ifExists, "ifExists");
    ParameterBlob blob = model.adapter(name);
    LoraSpec spec = model.adapterSpec(name);
    LoraAdapterConfig peft = LoraAdapterConfig.of(spec.rank(), spec.alpha(), targetModules(spec, model.config()));
    Map<String, PeftAdapter.Pair> modules = new LinkedHashMap<>();
    for (String entry : blob.names()) {
      String module = moduleOf(entry);
      if (module != null) {
        modules.put(module, new PeftAdapter.Pair(blob.tensor(entry), blob.tensor(PeftAdapter.bName(module))));
      }
    }
    if (modules.size() * 2 != blob.names().size()) {
      throw new FactRlException(FactRlException.Status.INTERNAL, "adapter set '" + name + "' has entries that are not"
          + " PEFT lora_A/lora_B pairs: " + blob.names());
    }
    PeftAdapter.write(dir, peft, modules, ifExists);
  }

  /** The spec a PEFT config describes for this model; unknown target modules are errors naming them. */
  static LoraSpec specOf(LoraAdapterConfig peft, Path source) {
    EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
    for (String module : peft.targetModules()) {
      LoraTarget found = null;
      for (LoraTarget t : LoraTarget.values()) {
        if (t.isDecoder() && (module.equals(t.peftName()) || module.equals(t.module()))) {
          found = t;
        }
      }
      if (module.equals(PROJECTOR_LINEAR_1) || module.equals(PROJECTOR_LINEAR_2)) {
        found = LoraTarget.PROJECTOR;
      }
      if (found == null) {
        throw new FactRlException(source + ": field 'target_modules' names '" + module + "', which this model cannot"
            + " adapt (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, " + PROJECTOR_LINEAR_1 + ", "
            + PROJECTOR_LINEAR_2 + ")");
      }
      targets.add(found);
    }
    return new LoraSpec(peft.r(), (float) peft.loraAlpha(), targets);
  }

  static ParameterBlob loadAdapter(LlavaModel model, String name, Path dir) {
    Objects.requireNonNull(dir, "dir");
    PeftAdapter peft = PeftAdapter.read(dir);
    Path configFile = dir.resolve(LoraAdapterConfig.FILE_NAME);
    LoraSpec spec = specOf(peft.config(), configFile);
    if (spec.targets().contains(LoraTarget.PROJECTOR) && model.config().projector() == Projector.LINEAR
        && peft.config().targetModules().contains(PROJECTOR_LINEAR_2)) {
      throw new FactRlException(configFile + ": field 'target_modules' names '" + PROJECTOR_LINEAR_2
          + "', but this model's projector is linear (no linear_2)");
    }
    // every module the set has must be in the file with its shape, and nothing else: checked first
    Map<String, long[]> expected = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> m : model.config().adapterModules(spec.targets()).entrySet()) {
      long in = m.getValue()[0];
      long out = m.getValue()[1];
      expected.put(PeftAdapter.aName(m.getKey()), new long[] {spec.rank(), in});
      expected.put(PeftAdapter.bName(m.getKey()), new long[] {out, spec.rank()});
    }
    SafeTensors file = peft.weights();
    TreeSet<String> missing = new TreeSet<>(expected.keySet());
    missing.removeAll(file.names());
    TreeSet<String> unexpected = new TreeSet<>(file.names());
    unexpected.removeAll(expected.keySet());
    if (!missing.isEmpty() || !unexpected.isEmpty()) {
      throw new FactRlException(file.path() + ": tensor names do not fit the model's adapter set: " + missing.size()
          + " missing from the file " + firstFew(missing) + ", " + unexpected.size() + " not in the model "
          + firstFew(unexpected));
    }
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      SafeTensorsEntry entry = file.entry(e.getKey());
      if (!Arrays.equals(entry.shape(), e.getValue())) {
        throw new FactRlException(file.path() + ": tensor '" + e.getKey() + "' is " + entry.dtype() + " "
            + Arrays.toString(entry.shape()) + " in the file, but the model's is F32 " + Arrays.toString(e.getValue()));
      }
    }
    ParameterBlob blob = model.addAdapter(name, spec, 0);
    try {
      for (String module : peft.modules()) {
        Tensor a = blob.tensor(PeftAdapter.aName(module));
        Tensor b = blob.tensor(PeftAdapter.bName(module));
        peft.load(module, a, b);
      }
      return blob;
    } catch (RuntimeException e) {
      model.removeAdapter(name);
      throw e;
    }
  }

  private static String firstFew(TreeSet<String> names) {
    List<String> few = new ArrayList<>();
    for (String n : names) {
      if (few.size() == 5) {
        few.add("...");
        break;
      }
      few.add("'" + n + "'");
    }
    return few.toString();
  }
}
