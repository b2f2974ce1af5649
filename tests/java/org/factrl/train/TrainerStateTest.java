package org.factrl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.factrl.engine.FactRlException;
import org.factrl.model.io.IfExists;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** trainer_state.json: an exact round trip (64-bit seeds and RNG states as strings) and strict reading. */
class TrainerStateTest {
  @TempDir Path dir;

  @Test
  void roundTripsExactlyAndRejectsWhatItDoesNotKnow() throws Exception {
    TrainerState s = new TrainerState("sft", 12, 40, Long.MIN_VALUE + 3, 2, 17, 0x9E3779B97F4A7C15L, 12345, 6.25);
    s.write(dir, IfExists.FAIL);
    assertEquals(s, TrainerState.read(dir));
    Path f = dir.resolve(TrainerState.FILE_NAME);
    String text = Files.readString(f);
    Files.writeString(f, text.replace("\"tokens\"", "\"extra\": 1, \"tokens\""));
    FactRlException unknown = assertThrows(FactRlException.class, () -> TrainerState.read(dir));
    assertTrue(unknown.getMessage().contains("unknown key 'extra'"), unknown.getMessage());
    Files.writeString(f, text.replace("\"step\": 12", "\"step\": -1"));
    FactRlException negative = assertThrows(FactRlException.class, () -> TrainerState.read(dir));
    assertTrue(negative.getMessage().contains("key 'step'"), negative.getMessage());
    Files.writeString(f, text.replace("\"data_position\": 17,", ""));
    FactRlException missing = assertThrows(FactRlException.class, () -> TrainerState.read(dir));
    assertTrue(missing.getMessage().contains("key 'data_position' is missing"), missing.getMessage());
  }
}
