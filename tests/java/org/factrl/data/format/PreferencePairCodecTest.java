package org.factrl.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import com.google.common.collect.ImmutableList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PreferencePairCodecTest {
  @TempDir Path dir;

  private static final String PROMPT = "\"conversations\": [{\"from\": \"human\", \"value\": \"<image>\\nDescribe.\"}]";
  private static final String VALID = "{\"id\": \"ok\", \"image\": \"a.png\", " + PROMPT
      + ", \"output_1\": {\"from\": \"gpt\", \"value\": \"A.\"}, \"output_2\": \"B.\", \"preference\": 2}";

  private static String pair(String rest) {
    return "{\"id\": \"p\", \"image\": \"a.png\", " + PROMPT + ", " + rest + "}";
  }

  @Test
  void roundTripsWithAndWithoutHallucinationCounts() {
    List<PreferencePair> pairs = List.of(
        new PreferencePair("p0", Optional.of("img/0.png"), ImmutableList.of(Turn.human("<image>\nDescribe the image.")),
            "A red circle.", "A red circle and a blue cube.", 1, OptionalInt.of(0), OptionalInt.of(1)),
        PreferencePair.of("p1", Optional.empty(), List.of(Turn.human("Hi"), Turn.gpt("Hello!"), Turn.human("Count to 3")),
            "1 2 3", "1, 2, 3, 4", 2));
    Path file = dir.resolve("prefs.json");
    PreferencePairCodec.write(file, pairs);
    List<PreferencePair> read = PreferencePairCodec.read(file);
    assertEquals(pairs, read);
    assertEquals("A red circle.", read.get(0).preferred());
    assertEquals("1, 2, 3, 4", read.get(1).preferred());
    assertEquals("1 2 3", read.get(1).rejected());
  }

  @Test
  void roundTripsTheFactsAndWritesNoFactFieldsWithoutFacts() throws IOException {
    ImmutableList<String> captions = ImmutableList.of("A red circle on grass.", "One object in a grassy field.");
    List<PreferencePair> pairs = List.of(
        new PreferencePair("f0", Optional.of("img/0.png"), ImmutableList.of(Turn.human("<image>\nDescribe the image.")),
            "A red circle.", "A blue circle.", 1, OptionalInt.of(0), OptionalInt.of(1), captions, Optional.empty()),
        new PreferencePair("f1", Optional.of("img/0.png"), ImmutableList.of(Turn.human("<image>\nIs the circle red?")),
            "No.", "Yes.", 2, OptionalInt.empty(), OptionalInt.empty(), ImmutableList.of(),
            Optional.of("The only circle is red.")));
    Path file = dir.resolve("prefs.json");
    PreferencePairCodec.write(file, pairs);
    List<PreferencePair> read = PreferencePairCodec.read(file);
    assertEquals(pairs, read);
    assertEquals(captions, read.get(0).captions());
    assertEquals(Optional.of("The only circle is red."), read.get(1).rationale());
    assertTrue(read.get(0).hasFacts() && read.get(1).hasFacts());
    com.google.gson.JsonObject second = PreferencePairCodec.toJson(read.get(1));
    assertFalse(second.has("captions"), "no captions field for a record without captions: " + second);
    PreferencePairCodec.write(file, List.of(PreferencePair.of("p", Optional.empty(), List.of(Turn.human("Hi")), "a", "b", 1)));
    String text = Files.readString(file);
    assertFalse(text.contains("captions") || text.contains("rationale"), text);
    assertFalse(PreferencePairCodec.read(file).get(0).hasFacts());
  }

  @Test
  void acceptsPlainStringOutputsAndOtherSpeakerNames() throws IOException {
    Path file = dir.resolve("prefs.json");
    Files.writeString(file, "[" + pair("\"output_1\": \"one\", \"output_2\": {\"from\": \"llava\", \"value\": \"two\"},"
        + " \"preference\": 1") + "]");
    PreferencePair p = PreferencePairCodec.read(file).get(0);
    assertEquals("one", p.output1());
    assertEquals("two", p.output2());
    assertEquals(OptionalInt.empty(), p.hallucinations1());
  }

  static Stream<MalformedCase> malformed() {
    String outs = "\"output_1\": \"a\", \"output_2\": \"b\"";
    return Stream.of(
        new MalformedCase("preference 3", pair(outs + ", \"preference\": 3"), "preference", "expected 1 or 2, got 3"),
        new MalformedCase("preference 0", pair(outs + ", \"preference\": 0"), "preference", "expected 1 or 2, got 0"),
        new MalformedCase("preference as string", pair(outs + ", \"preference\": \"1\""), "preference",
            "expected an integer, got string"),
        new MalformedCase("fractional preference", pair(outs + ", \"preference\": 1.5"), "preference",
            "expected an integer, got 1.5"),
        new MalformedCase("missing preference", pair(outs), "preference", "missing"),
        new MalformedCase("preference with an exponent beyond range", pair(outs + ", \"preference\": 1e3000000000"),
            "preference", "expected an integer, got 1e3000000000"),
        new MalformedCase("missing output_2", pair("\"output_1\": \"a\", \"preference\": 1"), "output_2", "missing"),
        new MalformedCase("empty output value", pair("\"output_1\": {\"from\": \"gpt\", \"value\": \" \"}, "
            + "\"output_2\": \"b\", \"preference\": 1"), "output_1.value", "must not be empty"),
        new MalformedCase("output without value", pair("\"output_1\": {\"from\": \"gpt\"}, \"output_2\": \"b\", "
            + "\"preference\": 1"), "output_1.value", "missing"),
        new MalformedCase("output of wrong type", pair("\"output_1\": 7, \"output_2\": \"b\", \"preference\": 1"),
            "output_1", "expected an object {from, value} or a string, got number"),
        new MalformedCase("negative hallucination count",
            pair(outs + ", \"preference\": 1, \"hallucinations_2\": -1"), "hallucinations_2", "expected a count >= 0"),
        new MalformedCase("blank caption", pair(outs + ", \"preference\": 1, \"captions\": [\"A dot.\", \" \"]"),
            "captions[1]", "must not be empty"),
        new MalformedCase("caption not a string", pair(outs + ", \"preference\": 1, \"captions\": [3]"),
            "captions[0]", "expected a string, got number"),
        new MalformedCase("captions not an array", pair(outs + ", \"preference\": 1, \"captions\": \"A dot.\""),
            "captions", "expected an array, got string"),
        new MalformedCase("blank rationale", pair(outs + ", \"preference\": 1, \"rationale\": \"\""),
            "rationale", "must not be empty"),
        new MalformedCase("rationale not a string", pair(outs + ", \"preference\": 1, \"rationale\": [\"x\"]"),
            "rationale", "expected a string, got array"),
        new MalformedCase("prompt ends with gpt", "{\"id\": \"p\", \"conversations\": [{\"from\": \"human\", "
            + "\"value\": \"q\"}, {\"from\": \"gpt\", \"value\": \"a\"}], " + outs + ", \"preference\": 1}",
            "conversations", "must end with a 'human' turn"),
        new MalformedCase("prompt placeholder without image", "{\"id\": \"p\", \"conversations\": [{\"from\": "
            + "\"human\", \"value\": \"<image>\\nq\"}], " + outs + ", \"preference\": 1}",
            "conversations[0].value", "without an image"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void rejectsMalformedRecordNamingFileIndexAndField(MalformedCase c) throws IOException {
    c.assertRejected(dir, "prefs.json", VALID, PreferencePairCodec::read);
  }
}
