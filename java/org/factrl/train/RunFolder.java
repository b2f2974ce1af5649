package org.factrl.train;

import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;

/**
 * The rules every training stage's run folder follows (extracted from SftStage so that SFT and
 * pretraining share one copy): a fresh run writes only into a folder that is absent or empty (a
 * user's folder is never written into), its {@code run.json} carries a format marker and is written
 * first, and a resume reads it back strictly. Data files are fingerprinted by SHA-256.
 */
public final class RunFolder {
  public static final String RUN_FILE = "run.json";

  private RunFolder() {}

  /**
   * Fails unless {@code out} is absent or an empty real folder; {@code label} names the stage in
   * the message, with its article ("an SFT"), which suggests resuming when {@code out} already holds a run file.
   */
  public static void checkFresh(Path out, String label) {
    if (Files.isSymbolicLink(out)) {
      throw new FactRlException(out + ": is a symbolic link; give a real folder for the run");
    }
    if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS)) {
      throw new FactRlException(out + ": exists and is not a folder; refusing to write there");
    }
    try (Stream<Path> s = Files.list(out)) {
      Optional<Path> first = s.sorted().findFirst();
      if (first.isPresent()) {
        throw new FactRlException(out + ": is not empty (holds " + first.get().getFileName() + ")"
            + (Files.exists(out.resolve(RUN_FILE)) ? "; it is " + label
                + " run: continue it with resume (--resume)" : "; give a new or empty folder") + "; nothing was written");
      }
    } catch (IOException e) {
      throw new FactRlException(out + ": cannot list: " + e, e);
    }
  }

  /** Creates {@code out} and writes its {@code run.json} (must not exist yet). */
  public static void create(Path out, JsonObject run) {
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new FactRlException(out + ": cannot create the run folder: " + e, e);
    }
    AtomicWrite.writeBytes(out.resolve(RUN_FILE), IfExists.FAIL,
        (JsonRecords.toPrettyJson(run) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The {@code run.json} of {@code out}, which must carry {@code "format": format}; {@code label}
   * names the stage with its article ("an SFT").
   */
  public static JsonObject read(Path out, String format, String label) {
    Path file = out.resolve(RUN_FILE);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new FactRlException(out + ": not " + label + " run folder (no " + RUN_FILE + "); nothing to resume");
    }
    JsonElement e = StrictJson.parse(JsonRecords.readText(file), file.toString());
    if (!e.isJsonObject() || !e.getAsJsonObject().has("format")
        || !format.equals(new JsonFields(e.getAsJsonObject(), file.toString()).string("format"))) {
      throw new FactRlException(file + ": not " + label + " run file (format is not '" + format + "')");
    }
    return e.getAsJsonObject();
  }

  /** The SHA-256 (hex) of a data file; a missing one is named as such. */
  public static String sha256(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new FactRlException(file + ": missing (not a FactRL data set folder? write one with bin/factrl data)");
    }
    try {
      return MoreFiles.asByteSource(file).hash(Hashing.sha256()).toString();
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot read: " + e, e);
    }
  }

  /**
   * Fails unless every fingerprint in {@code then} (key → SHA-256) equals the one in {@code now}:
   * a resume must see the data set it started with.
   */
  public static void checkSameData(JsonObject then, JsonObject now, Path dataRoot, Path out) {
    for (String key : then.keySet()) {
      if (!then.get(key).equals(now.get(key))) {
        throw new FactRlException(dataRoot + ": the data set differs from the one " + out + " was trained on ("
            + key + " " + now.get(key) + ", expected " + then.get(key) + "); resume with the same data");
      }
    }
  }
}
