package org.factrl.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.StrictJson;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.AtomicWrite;
import org.factrl.model.io.IfExists;

/**
 * Everything a trainer needs, beside the weights and the optimizer's moments, to take the next
 * step exactly as an uninterrupted run would: the optimizer steps done (the schedule's position:
 * step k uses {@code schedule.lr(k)}), the data cursor (seed, epoch, position: {@link DataOrder}),
 * the trainer's own random state ({@link SplitMix64}, for stages that sample), and counters for the
 * record (target tokens seen, seconds spent). Saved as {@value #FILE_NAME} ({@code "format":
 * "factrl.trainer.v1"}); read strictly: every key present, no other key, each in range.
 *
 * @param stage the stage that wrote it ({@code sft}, ...); a resume checks it
 * @param step optimizer steps done
 * @param totalSteps the run's planned steps
 * @param dataSeed the data order's seed
 * @param dataEpoch the epoch of the next example
 * @param dataPosition the next example's index in its epoch's permutation
 * @param rngState the trainer's {@link SplitMix64} state
 * @param tokens target tokens trained on so far
 * @param seconds training seconds so far (all runs together)
 */
public record TrainerState(String stage, long step, long totalSteps, long dataSeed, long dataEpoch, int dataPosition,
    long rngState, long tokens, double seconds) {
  public static final String FILE_NAME = "trainer_state.json";
  public static final String FORMAT = "factrl.trainer.v1";
  private static final Set<String> KEYS = Set.of("format", "stage", "step", "total_steps", "data_seed", "data_epoch",
      "data_position", "rng_state", "tokens", "seconds");

  public TrainerState {
    if (stage == null || stage.isEmpty()) {
      throw new FactRlException("TrainerState: stage is missing");
    }
    if (step < 0 || totalSteps < 0 || dataEpoch < 0 || dataPosition < 0 || tokens < 0 || !(seconds >= 0)) {
      throw new FactRlException("TrainerState: negative counter in " + this.toStringFields(stage, step, totalSteps,
          dataEpoch, dataPosition, tokens, seconds));
    }
  }

  private String toStringFields(String s, long st, long tot, long ep, int pos, long tok, double sec) {
    return "stage " + s + ", step " + st + ", total " + tot + ", epoch " + ep + ", position " + pos + ", tokens " + tok
        + ", seconds " + sec;
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("format", FORMAT);
    o.addProperty("stage", stage);
    o.addProperty("step", step);
    o.addProperty("total_steps", totalSteps);
    o.addProperty("data_seed", Long.toString(dataSeed)); // strings: a JSON reader may hold numbers as doubles
    o.addProperty("data_epoch", dataEpoch);
    o.addProperty("data_position", dataPosition);
    o.addProperty("rng_state", Long.toString(rngState));
    o.addProperty("tokens", tokens);
    o.addProperty("seconds", seconds);
    return o;
  }

  /** Writes {@value #FILE_NAME} into {@code dir} atomically (fsynced). */
  public void write(Path dir, IfExists ifExists) {
    AtomicWrite.writeBytes(dir.resolve(FILE_NAME), ifExists,
        (JsonRecords.toPrettyJson(toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** Reads {@value #FILE_NAME} from {@code dir}; errors name the file and the key. */
  public static TrainerState read(Path dir) {
    Path file = dir.resolve(FILE_NAME);
    JsonElement root = StrictJson.parse(JsonRecords.readText(file), file.toString());
    if (!root.isJsonObject()) {
      throw new FactRlException(file + ": not a JSON object");
    }
    JsonObject o = root.getAsJsonObject();
    Set<String> unknown = new TreeSet<>(o.keySet());
    unknown.removeAll(KEYS);
    if (!unknown.isEmpty()) {
      throw new FactRlException(file + ": unknown key '" + unknown.iterator().next() + "'");
    }
    JsonFields f = new JsonFields(o, file.toString());
    if (!FORMAT.equals(f.string("format"))) {
      throw new FactRlException(file + ": key 'format' is '" + f.string("format") + "', expected '" + FORMAT + "'");
    }
    return new TrainerState(f.string("stage"), f.integer("step", 0, Long.MAX_VALUE),
        f.integer("total_steps", 0, Long.MAX_VALUE), f.longString("data_seed"),
        f.integer("data_epoch", 0, Long.MAX_VALUE), (int) f.integer("data_position", 0, Integer.MAX_VALUE),
        f.longString("rng_state"), f.integer("tokens", 0, Long.MAX_VALUE), f.number("seconds", 0, Double.MAX_VALUE));
  }
}
