package org.factrl.train;

import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;

/**
 * The tokenizer a model folder carries, as an HF model folder does: {@value #FILE_NAME} beside
 * {@code model.safetensors} (and at the top of every checkpoint folder), a byte copy of the data
 * set's tokenizer the model was trained with.
 *
 * <p>Why: the shapes tokenizer is learnt from the sampled corpus, its merges ordered by frequency,
 * so two data sets of other seeds or sizes get the same vocabulary size but different ids for most
 * tokens. A model used with another data set's tokenizer would read wrong ids without any error.
 * Every stage therefore {@link #check checks} the model's tokenizer (when it has one) against the
 * data set's before using them together; a folder without one (older checkpoints, random bases)
 * is used as before.
 */
public final class ModelTokenizer {
  public static final String FILE_NAME = "tokenizer.json";

  private ModelTokenizer() {}

  /** {@code dir}/{@value #FILE_NAME} when present. */
  public static Optional<Path> in(Path dir) {
    Path f = dir.resolve(FILE_NAME);
    return Files.isRegularFile(f) ? Optional.of(f) : Optional.empty();
  }

  /**
   * The tokenizer of a model folder: its own {@value #FILE_NAME}; for a checkpoint without one, its
   * {@code model/}'s or (by {@code base.json}) its base's. Empty when none of them holds one.
   */
  public static Optional<Path> of(Path folder) {
    Optional<Path> own = in(folder);
    if (own.isPresent()) {
      return own;
    }
    if (Files.isDirectory(folder.resolve(ModelCheckpoint.MODEL_DIR))
        || Files.isRegularFile(folder.resolve(ModelCheckpoint.BASE_REFERENCE))) {
      return in(ModelCheckpoint.baseFolder(folder));
    }
    return Optional.empty();
  }

  /** Writes a byte copy of {@code tokenizer} as {@code dir}/{@value #FILE_NAME} (replacing one a crashed run left). */
  public static void copyInto(Path dir, Path tokenizer) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(tokenizer);
    } catch (IOException e) {
      throw new FactRlException(tokenizer + ": cannot read the tokenizer to copy it beside the model: " + e, e);
    }
    AtomicWrite.writeBytes(dir.resolve(FILE_NAME), IfExists.REPLACE, bytes);
  }

  /**
   * Fails unless the model in {@code modelFolder} may be used with the data set's tokenizer
   * {@code dataTokenizer}: when the folder carries a tokenizer ({@link #of}), both files must hold
   * the same bytes. A folder without one passes (today's behaviour).
   *
   * @throws FactRlException naming both files and what to do
   */
  public static void check(Path modelFolder, Path dataTokenizer) {
    check(of(modelFolder), dataTokenizer);
  }

  /** {@link #check(Path, Path)} with the model's tokenizer already found (empty: nothing to check). */
  public static void check(Optional<Path> modelTokenizer, Path dataTokenizer) {
    if (modelTokenizer.isEmpty() || !Files.isRegularFile(dataTokenizer)) {
      return; // nothing to compare; a missing data file is the stage's to report, as before
    }
    Path model = modelTokenizer.get().toAbsolutePath().normalize();
    Path data = dataTokenizer.toAbsolutePath().normalize();
    String want = sha256(model);
    String got = sha256(data);
    if (!want.equals(got)) {
      throw new FactRlException(data + ": the data set's tokenizer differs from the one the model was trained with, "
          + model + " (sha256 " + got.substring(0, 12) + " vs " + want.substring(0, 12) + "): the same ids would"
          + " mean other tokens. Write the data set with the model's tokenizer (bin/factrl data ... --tokenizer "
          + model + "), or use a model trained on this data set");
    }
  }

  private static String sha256(Path file) {
    try {
      return MoreFiles.asByteSource(file).hash(Hashing.sha256()).toString();
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot read the tokenizer: " + e, e);
    }
  }
}
