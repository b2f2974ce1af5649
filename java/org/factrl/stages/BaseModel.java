package org.factrl.stages;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.train.JsonFields;
import org.factrl.train.ModelTokenizer;

/**
 * Where a stage's starting weights come from: a base folder ({@link LlavaModel#saveBase}: a
 * pretrained base, or an earlier stage's {@code model/}), or a random initialisation of a config
 * from a seed (tests, overfit checks). Immutable.
 */
public final class BaseModel {
  private final Path dir;
  private final ModelConfig config;
  private final long seed;
  private final float initStd;

  private BaseModel(Path dir, ModelConfig config, long seed, float initStd) {
    this.dir = dir;
    this.config = config;
    this.seed = seed;
    this.initStd = initStd;
  }

  /** The base saved in {@code dir} (model.safetensors + config.json; its tokenizer.json, if any: {@link #tokenizer}). */
  public static BaseModel fromDir(Path dir) {
    Objects.requireNonNull(dir, "dir");
    Path abs = dir.toAbsolutePath().normalize();
    if (!Files.isRegularFile(abs.resolve(LlavaModel.WEIGHTS_FILE)) || !Files.isRegularFile(abs.resolve(ModelConfig.FILE_NAME))) {
      throw new FactRlException(dir + ": not a base model folder (needs " + LlavaModel.WEIGHTS_FILE + " and "
          + ModelConfig.FILE_NAME + ")");
    }
    return new BaseModel(abs, ModelConfig.read(abs.resolve(ModelConfig.FILE_NAME)), 0, 0);
  }

  /** {@code config} with weights from {@link LlavaModel#initWeights initWeights(seed, initStd)}. */
  public static BaseModel random(ModelConfig config, long seed, float initStd) {
    Objects.requireNonNull(config, "config");
    if (!(Float.isFinite(initStd) && initStd >= 0)) {
      throw new FactRlException("argument 'initStd': must be finite and >= 0, got " + initStd);
    }
    return new BaseModel(null, config, seed, initStd);
  }

  public boolean isRandom() {
    return dir == null;
  }

  /** The folder of a saved base; null for a random one. */
  public Path dir() {
    return dir;
  }

  public ModelConfig config() {
    return config;
  }

  /**
   * The tokenizer the base was trained with ({@code dir/tokenizer.json}, {@link ModelTokenizer});
   * empty for a random base or a folder without one. A data set used with this base must hold the
   * same file ({@link ModelTokenizer#check}).
   */
  public Optional<Path> tokenizer() {
    return dir == null ? Optional.empty() : ModelTokenizer.in(dir);
  }

  /** A new model with these weights. */
  public LlavaModel open(Device device) {
    if (dir != null) {
      return LlavaModel.load(device, dir);
    }
    LlavaModel m = LlavaModel.create(device, config);
    try {
      m.initWeights(seed, initStd);
      return m;
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
  }

  /** How a run.json records this base (a folder by path, or a random initialisation by config, seed and std). */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    if (dir != null) {
      o.addProperty("kind", "dir");
      o.addProperty("path", dir.toString());
    } else {
      o.addProperty("kind", "random");
      o.add("config", StrictJson.parse(config.toJson(), "config"));
      o.addProperty("seed", Long.toString(seed));
      o.addProperty("init_std", initStd);
    }
    return o;
  }

  /** The base {@link #toJson} recorded; {@code source} names the file in errors. */
  public static BaseModel fromJson(JsonObject o, String source) {
    JsonFields f = new JsonFields(o, source);
    return switch (f.string("kind")) {
      case "dir" -> fromDir(Path.of(f.string("path")));
      case "random" -> random(ModelConfig.parse(f.raw("config").toString(), source + ": base.config"),
          f.longString("seed"), (float) f.number("init_std", 0, 10));
      default -> throw f.error("kind", "must be \"dir\" or \"random\"");
    };
  }

  @Override
  public String toString() {
    return dir != null ? "base " + dir : "random base (seed " + seed + ", std " + initStd + ") " + config;
  }
}
