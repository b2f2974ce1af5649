package org.factrl.stages;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.model.LlavaModel;
import org.factrl.model.LoraSpec;
import org.factrl.model.io.PeftAdapter;
import org.factrl.train.CheckpointStore;
import org.factrl.train.ModelCheckpoint;

/**
 * The SFT model as one plain base, the starting point of the reward model and of PPO (DESIGN.md
 * §4: "initialised from the SFT model"). A full-fine-tuning checkpoint already is one; a LoRA
 * checkpoint's adapter is merged into the base weights it sits on, so the RM (and later the PPO
 * roles) can put their own adapter set on top — the model applies one adapter set per pass:
 *
 * <pre>
 *   y = x Wᵀ + s·(x Aᵀ) Bᵀ = x (W + s·B A)ᵀ        ⇒   W ← W + s·B A      (s = α / r)
 * </pre>
 *
 * for every adapted module {@code M} ({@code base_model.model.M.lora_A/B.weight} → {@code M.weight}).
 * The sum is taken in float on the host in a fixed order (k = 0..r−1 innermost), so it is
 * reproducible; it equals the adapter forward up to float rounding (the adapter path rounds
 * x Aᵀ first).
 */
public final class SftModel {
  private SftModel() {}

  /** Whether {@code dir} is a complete checkpoint folder (as {@link CheckpointStore} writes). */
  static boolean isCheckpoint(Path dir) {
    return Files.isRegularFile(dir.resolve(CheckpointStore.COMPLETE_FILE));
  }

  /**
   * A new model holding the SFT model of checkpoint {@code checkpoint} as its base, with no adapter
   * sets (each merged as above). {@code checkpoint} may also be an SFT run folder: its last
   * complete checkpoint is taken.
   */
  public static LlavaModel open(Device device, Path checkpoint) {
    Path ck = resolve(checkpoint);
    LlavaModel model = ModelCheckpoint.read(device, ck);
    try {
      for (String name : new ArrayList<>(model.adapterNames())) {
        merge(model, name);
        model.removeAdapter(name);
      }
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** The checkpoint folder {@code path} names: itself, or a run folder's last complete checkpoint. */
  public static Path resolve(Path path) {
    Path p = path.toAbsolutePath().normalize();
    if (isCheckpoint(p)) {
      return p;
    }
    if (Files.isDirectory(p.resolve(SftStage.CHECKPOINTS_DIR))) {
      return new CheckpointStore(p.resolve(SftStage.CHECKPOINTS_DIR)).latest().orElseThrow(() -> new FactRlException(
          p + ": an SFT run folder without a complete checkpoint"));
    }
    throw new FactRlException(p + ": not an SFT checkpoint (no " + CheckpointStore.COMPLETE_FILE + ") nor an SFT run"
        + " folder (no " + SftStage.CHECKPOINTS_DIR + "/)");
  }

  /** W ← W + s·B A for every module of adapter set {@code name}. */
  static void merge(LlavaModel model, String name) {
    ParameterBlob adapter = model.adapter(name);
    LoraSpec spec = model.adapterSpec(name);
    float s = spec.scale();
    List<String> entries = adapter.names();
    String aSuffix = ".lora_A.weight";
    for (String entry : entries) {
      if (!entry.endsWith(aSuffix) || !entry.startsWith(PeftAdapter.PREFIX)) {
        continue;
      }
      String module = entry.substring(PeftAdapter.PREFIX.length(), entry.length() - aSuffix.length());
      String weight = module + ".weight";
      if (!model.params().contains(weight)) {
        throw new FactRlException("adapter set '" + name + "': module " + module + " has no base weight " + weight);
      }
      try (Tensor ta = adapter.tensor(entry); Tensor tb = adapter.tensor(PeftAdapter.bName(module));
          Tensor tw = model.params().tensor(weight)) {
        int r = (int) ta.dim(0);
        int k = (int) ta.dim(1);
        int m = (int) tb.dim(0);
        if (tb.dim(1) != r || tw.dim(0) != m || tw.dim(1) != k) {
          throw new FactRlException("adapter set '" + name + "': module " + module + " shapes do not fit: A ["
              + r + ", " + k + "], B [" + tb.dim(0) + ", " + tb.dim(1) + "], W [" + tw.dim(0) + ", " + tw.dim(1) + "]");
        }
        float[] a = ta.toFloatArray();
        float[] b = tb.toFloatArray();
        float[] w = tw.toFloatArray();
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < k; j++) {
            float acc = 0f;
            for (int t = 0; t < r; t++) {
              acc += b[i * r + t] * a[t * k + j];
            }
            w[i * k + j] += s * acc;
          }
        }
        tw.write(w);
      }
    }
  }
}
