package org.factrl.train;

import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.ParamGroup;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;

/**
 * The model part of a checkpoint folder, shared by every stage:
 *
 * <pre>
 *   model/              the base (HF model.safetensors + config.json) — when any base group trained
 *   base.json           otherwise: {"path": ABS, "sha256": HEX} — the frozen base it sits on, by reference
 *   adapters/NAME/      each adapter set as a PEFT folder (adapter_model.safetensors + adapter_config.json)
 *   tokenizer.json      the tokenizer the model was trained with ({@link ModelTokenizer}; also in model/)
 * </pre>
 *
 * A base referenced by path is checked by the SHA-256 of its {@value LlavaModel#WEIGHTS_FILE} when
 * read back, so a checkpoint never silently loads onto a different base.
 */
public final class ModelCheckpoint {
  public static final String MODEL_DIR = "model";
  public static final String BASE_REFERENCE = "base.json";
  public static final String ADAPTERS_DIR = "adapters";

  private ModelCheckpoint() {}

  /** The SHA-256 (hex) of a base folder's weights file. */
  public static String baseHash(Path baseDir) {
    Path weights = baseDir.resolve(LlavaModel.WEIGHTS_FILE);
    try {
      return MoreFiles.asByteSource(weights).hash(Hashing.sha256()).toString();
    } catch (IOException e) {
      throw new FactRlException(weights + ": cannot read to hash: " + e, e);
    }
  }

  /**
   * Writes {@code model} into {@code folder}: the full base when {@code trainedGroups} is not empty
   * (the base changed), else a reference to {@code baseDir} (which must hold the model's base as it
   * is now); each adapter set in {@code adapters}; and a byte copy of {@code tokenizer} (the data
   * set's tokenizer.json the model is trained with) in the folder and in its {@code model/}.
   */
  public static void write(Path folder, LlavaModel model, Set<ParamGroup> trainedGroups, Path baseDir,
      List<String> adapters, Path tokenizer) {
    if (!trainedGroups.isEmpty()) {
      model.saveBase(folder.resolve(MODEL_DIR), IfExists.FAIL);
      ModelTokenizer.copyInto(folder.resolve(MODEL_DIR), tokenizer); // model/ alone is a base a stage may start from
    } else {
      if (baseDir == null) {
        throw new FactRlException("ModelCheckpoint: the base is frozen but has no folder to reference");
      }
      JsonObject ref = new JsonObject();
      ref.addProperty("path", baseDir.toAbsolutePath().normalize().toString());
      ref.addProperty("sha256", baseHash(baseDir));
      AtomicWrite.writeBytes(folder.resolve(BASE_REFERENCE), IfExists.FAIL,
          (JsonRecords.toPrettyJson(ref) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    for (String name : adapters) {
      model.saveAdapter(name, folder.resolve(ADAPTERS_DIR).resolve(name), IfExists.FAIL);
    }
    ModelTokenizer.copyInto(folder, tokenizer);
  }

  /** The base folder a checkpoint's model comes from: its own {@code model/} or the referenced one (hash checked). */
  public static Path baseFolder(Path folder) {
    Path own = folder.resolve(MODEL_DIR);
    if (Files.isDirectory(own)) {
      return own;
    }
    Path refFile = folder.resolve(BASE_REFERENCE);
    if (!Files.isRegularFile(refFile)) {
      throw new FactRlException(folder + ": neither " + MODEL_DIR + "/ nor " + BASE_REFERENCE + " (not a model checkpoint)");
    }
    JsonElement e = StrictJson.parse(JsonRecords.readText(refFile), refFile.toString());
    if (!e.isJsonObject()) {
      throw new FactRlException(refFile + ": not a JSON object");
    }
    JsonFields f = new JsonFields(e.getAsJsonObject(), refFile.toString());
    Path base = Path.of(f.string("path"));
    String want = f.string("sha256");
    if (!Files.isRegularFile(base.resolve(LlavaModel.WEIGHTS_FILE))) {
      throw new FactRlException(refFile + ": the base it refers to is gone: " + base.resolve(LlavaModel.WEIGHTS_FILE));
    }
    String got = baseHash(base);
    if (!got.equals(want)) {
      throw new FactRlException(refFile + ": the base at " + base + " has changed since the checkpoint (sha256 " + got
          + ", expected " + want + ")");
    }
    return base;
  }

  /** The adapter sets a checkpoint holds, by name (sorted). */
  public static List<String> adapterNames(Path folder) {
    Path dir = folder.resolve(ADAPTERS_DIR);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    TreeSet<String> names = new TreeSet<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, Files::isDirectory)) {
      s.forEach(p -> names.add(p.getFileName().toString()));
    } catch (IOException e) {
      throw new FactRlException(dir + ": cannot list: " + e, e);
    }
    return new ArrayList<>(names);
  }

  /** A new model on {@code device} with the checkpoint's base and every adapter set. */
  public static LlavaModel read(Device device, Path folder) {
    Path base = baseFolder(folder);
    LlavaModel model = LlavaModel.load(device, base);
    try {
      for (String name : adapterNames(folder)) {
        model.loadAdapter(name, folder.resolve(ADAPTERS_DIR).resolve(name));
      }
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** The model config of a checkpoint (its own or its base's config.json). */
  public static ModelConfig config(Path folder) {
    return ModelConfig.read(baseFolder(folder).resolve(ModelConfig.FILE_NAME));
  }
}
