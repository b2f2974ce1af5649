package org.factrl.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;

/**
 * Metrics as JSON Lines: one object per step, appended and flushed as the step ends. On resume
 * from the checkpoint of step k, {@link #openForResume} first drops the records after step k (a
 * killed run may have logged steps whose checkpoint never landed; the resumed run logs them again),
 * rewriting the file atomically, so the file always holds each step once, in order.
 */
public final class MetricsLog implements AutoCloseable {
  private final Path file;
  private final BufferedWriter out;

  private MetricsLog(Path file, BufferedWriter out) {
    this.file = file;
    this.out = out;
  }

  /** A new log (the file must not exist). */
  public static MetricsLog create(Path file) {
    try {
      return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE));
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot create the metrics log: " + e, e);
    }
  }

  /** The log continued after step {@code step}: later records are dropped first (see the class comment). */
  public static MetricsLog openForResume(Path file, long step) {
    if (!Files.exists(file)) {
      return create(file);
    }
    List<String> kept = new ArrayList<>();
    for (JsonObject o : read(file)) {
      if (o.get("step").getAsLong() <= step) {
        kept.add(o.toString());
      }
    }
    AtomicWrite.writeBytes(file, IfExists.REPLACE,
        (kept.isEmpty() ? "" : String.join("\n", kept) + "\n").getBytes(StandardCharsets.UTF_8));
    try {
      return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot open the metrics log: " + e, e);
    }
  }

  /** Every record of a metrics log; a torn last line (a kill mid-append) is skipped. */
  public static List<JsonObject> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot read the metrics log: " + e, e);
    }
    List<JsonObject> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonElement e = JsonParser.parseString(line);
        if (e.isJsonObject() && e.getAsJsonObject().has("step")) {
          out.add(e.getAsJsonObject());
          continue;
        }
      } catch (RuntimeException ignored) {
        // handled below
      }
      if (i != lines.size() - 1) {
        throw new FactRlException(file + ": line " + (i + 1) + " is not a metrics record");
      }
    }
    return out;
  }

  public Path file() {
    return file;
  }

  public void append(StepMetrics m) {
    append(m.toJson());
  }

  /**
   * Appends one record: a {@link StepMetrics} record with extra fields (e.g. a pretraining phase).
   * It must carry a numeric {@code step}, the key {@link #openForResume} truncates by.
   */
  public void append(JsonObject record) {
    if (!record.has("step") || !record.get("step").isJsonPrimitive() || !record.get("step").getAsJsonPrimitive().isNumber()) {
      throw new FactRlException(file + ": a metrics record needs a numeric 'step', got " + record);
    }
    try {
      out.write(record.toString());
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot append to the metrics log: " + e, e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new FactRlException(file + ": cannot close the metrics log: " + e, e);
    }
  }
}
