package org.factrl.data.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class RlPromptCodecTest {
  @TempDir Path dir;

  private static final String CONV = "\"conversations\": [{\"from\": \"human\", \"value\": \"<image>\\nIs it red?\"}]";
  private static final String VALID = "{\"id\": \"ok\", \"image\": \"a.png\", " + CONV
      + ", \"captions\": [\"A red circle.\"], \"answer\": {\"type\": \"yes_no\", \"value\": \"yes\"}}";

  private static String prompt(String rest) {
    return "{\"id\": \"q\", \"image\": \"a.png\", " + CONV + ", " + rest + "}";
  }

  @Test
  void roundTripsEveryAnswerType() {
    ImmutableList<Turn> q = ImmutableList.of(Turn.human("<image>\nWhich shape is red?"));
    ImmutableList<String> captions = ImmutableList.of("A red circle and a blue square.", "Two shapes on grass.");
    List<RlPrompt> prompts = List.of(
        new RlPrompt("a", Optional.of("i.png"), q, captions, Optional.empty(), Optional.of(GroundTruthAnswer.yesNo(false))),
        new RlPrompt("b", Optional.of("i.png"), q, captions, Optional.of("The circle is the only red shape."),
            Optional.of(GroundTruthAnswer.multipleChoice(2, List.of("square", "triangle", "circle", "star")))),
        new RlPrompt("c", Optional.of("i.png"), q, ImmutableList.of(), Optional.of("Only a rationale."),
            Optional.of(GroundTruthAnswer.open("the circle"))),
        new RlPrompt("d", Optional.empty(), ImmutableList.of(Turn.human("Describe."), Turn.gpt("Shapes."),
            Turn.human("More?")), captions, Optional.empty(), Optional.empty()));
    Path file = dir.resolve("rl.json");
    RlPromptCodec.write(file, prompts);
    List<RlPrompt> read = RlPromptCodec.read(file);
    assertEquals(prompts, read);
    assertEquals(2, read.get(1).answer().orElseThrow().choiceIndex());
    assertEquals("C", read.get(1).answer().orElseThrow().value());
    assertEquals("Describe.", read.get(3).firstQuestion());
  }

  @Test
  void openAnswersHaveNoChoicesInTheFile() throws IOException {
    Path file = dir.resolve("rl.json");
    RlPromptCodec.write(file, List.of(new RlPrompt("a", Optional.empty(), ImmutableList.of(Turn.human("How many?")),
        ImmutableList.of("Three dots."), Optional.empty(), Optional.of(GroundTruthAnswer.open("three")))));
    assertFalse(Files.readString(file).contains("choices"));
  }

  @Test
  void choiceIndexOnlyForMultipleChoice() {
    assertThrows(IllegalStateException.class, () -> GroundTruthAnswer.yesNo(true).choiceIndex());
  }

  static Stream<MalformedCase> malformed() {
    String caps = "\"captions\": [\"c\"]";
    return Stream.of(
        new MalformedCase("no facts", prompt("\"captions\": []"), "captions", "no facts"),
        new MalformedCase("captions absent and no rationale", prompt("\"answer\": {\"type\": \"open\", \"value\": \"x\"}"),
            "captions", "no facts"),
        new MalformedCase("empty caption", prompt("\"captions\": [\"a\", \"\"]"), "captions[1]", "must not be empty"),
        new MalformedCase("caption of wrong type", prompt("\"captions\": [\"a\", 2]"), "captions[1]",
            "expected a string, got number"),
        new MalformedCase("captions not a list", prompt("\"captions\": \"a\""), "captions", "expected an array"),
        new MalformedCase("empty rationale", prompt(caps + ", \"rationale\": \"\""), "rationale", "must not be empty"),
        new MalformedCase("unknown answer type", prompt(caps + ", \"answer\": {\"type\": \"number\", \"value\": \"3\"}"),
            "answer.type", "got 'number'"),
        new MalformedCase("yes_no with maybe", prompt(caps + ", \"answer\": {\"type\": \"yes_no\", \"value\": \"maybe\"}"),
            "answer.value", "expected 'yes' or 'no', got 'maybe'"),
        new MalformedCase("multiple choice without choices",
            prompt(caps + ", \"answer\": {\"type\": \"multiple_choice\", \"value\": \"A\"}"), "answer.choices", "missing"),
        new MalformedCase("multiple choice letter out of range", prompt(caps
            + ", \"answer\": {\"type\": \"multiple_choice\", \"value\": \"C\", \"choices\": [\"x\", \"y\"]}"),
            "answer.value", "expected a choice letter A..B, got 'C'"),
        new MalformedCase("one choice", prompt(caps
            + ", \"answer\": {\"type\": \"multiple_choice\", \"value\": \"A\", \"choices\": [\"x\"]}"),
            "answer.choices", "expected 2 to 26 choices, got 1"),
        new MalformedCase("empty choice", prompt(caps
            + ", \"answer\": {\"type\": \"multiple_choice\", \"value\": \"A\", \"choices\": [\"x\", \"\"]}"),
            "answer.choices[1]", "must not be empty"),
        new MalformedCase("open with choices", prompt(caps
            + ", \"answer\": {\"type\": \"open\", \"value\": \"x\", \"choices\": [\"x\", \"y\"]}"),
            "answer.choices", "only multiple_choice answers have choices"),
        new MalformedCase("answer missing value", prompt(caps + ", \"answer\": {\"type\": \"open\"}"),
            "answer.value", "missing"),
        new MalformedCase("answer not an object", prompt(caps + ", \"answer\": \"yes\""), "answer",
            "expected an object, got string"),
        new MalformedCase("question starts with gpt", "{\"id\": \"q\", \"conversations\": [{\"from\": \"gpt\", "
            + "\"value\": \"a\"}], " + caps + "}", "conversations[0].from", "expected 'human'"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void rejectsMalformedRecordNamingFileIndexAndField(MalformedCase c) throws IOException {
    c.assertRejected(dir, "rl.json", VALID, RlPromptCodec::read);
  }
}
