package org.factrl.data.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.hash.Hashing;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.factrl.data.PopeSampling;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.LlavaConversationCodec;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.PopeCodec;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.format.RlPromptCodec;
import org.factrl.data.format.Turn;
import org.factrl.data.image.ImageLoader;
import org.factrl.data.image.RgbImage;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneJson;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.FactRlException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A written data set: deterministic, complete, readable by every codec, and written all or nothing. */
class ShapesDataSetWriterTest {
  private static final int SCENES = 60;
  @TempDir static Path shared;
  @TempDir Path dir;
  private static DataSetFiles files;
  private static DataSetSummary summary;

  @BeforeAll
  static void writeOnce() {
    summary = ShapesDataSetWriter.builder().scenes(SCENES).seed(5).imageSize(32).build().write(shared.resolve("ds"));
    files = DataSetFiles.in(shared.resolve("ds"));
  }

  private static List<Path> allFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
    }
  }

  @Test
  void theSameSeedWritesByteIdenticalFilesAndAnotherSeedDoesNot() throws IOException {
    Path again = dir.resolve("again");
    ShapesDataSetWriter.builder().scenes(SCENES).seed(5).imageSize(32).build().write(again);
    List<Path> names = allFiles(files.root());
    assertEquals(names, allFiles(again));
    assertEquals(SCENES + 12, names.size(),
        "manifest, SHA256SUMS, annotations, 5 record files (pretrain.json since format 3), 3 POPE files, tokenizer,"
            + " images");
    for (Path p : names) {
      assertArrayEquals(Files.readAllBytes(files.root().resolve(p)), Files.readAllBytes(again.resolve(p)), p.toString());
    }
    Path other = dir.resolve("other");
    ShapesDataSetWriter.builder().scenes(SCENES).seed(6).imageSize(32).build().write(other);
    assertNotEquals(Files.readString(files.annotations()), Files.readString(DataSetFiles.in(other).annotations()));
  }

  @Test
  void everyFileReadsBackThroughItsCodecWithTheManifestsCounts() throws IOException {
    JsonObject m = JsonRecords.readDocument(files.manifest()).getAsJsonObject();
    assertEquals(ShapesDataSetWriter.FORMAT, m.get("format").getAsString());
    JsonObject listed = m.getAsJsonObject("files");
    // caption + one per MMHal type + yes/no & multiple choice + POPE probes (issue 12: was 3 per scene)
    assertEquals(11 * 30, LlavaConversationCodec.read(files.sft()).size(), "11 conversations x 30 SFT scenes");
    check(listed, files.sft(), LlavaConversationCodec.read(files.sft()).size());
    check(listed, files.pretrain(), LlavaConversationCodec.read(files.pretrain()).size());
    assertEquals(OwnedFolder.FORMAT_VERSION, m.get("format_version").getAsInt());
    check(listed, files.preferences(), PreferencePairCodec.read(files.preferences()).size());
    check(listed, files.rlPrompts(), RlPromptCodec.read(files.rlPrompts()).size());
    check(listed, files.mmhal(), MmhalCodec.read(files.mmhal()).size());
    assertEquals(8 * 6, MmhalCodec.read(files.mmhal()).size(), "8 MMHal questions x 6 eval scenes");
    for (PopeSampling p : PopeSampling.values()) {
      check(listed, files.pope(p), PopeCodec.read(files.pope(p)).size());
    }
    List<Scene> scenes = SceneJson.readList(files.annotations());
    check(listed, files.annotations(), scenes.size());
    assertEquals(SCENES, scenes.size());
    assertEquals(summary.records().get("sft.json"), LlavaConversationCodec.read(files.sft()).size());
    assertEquals(Hashing.sha256().hashBytes(Files.readAllBytes(files.tokenizer())).toString(),
        listed.getAsJsonObject("tokenizer.json").get("sha256").getAsString());
  }

  private static void check(JsonObject listed, Path file, int records) throws IOException {
    JsonObject entry = listed.getAsJsonObject(file.getFileName().toString());
    assertEquals(records, entry.get("records").getAsInt(), file.toString());
    assertTrue(records > 0, file + " is empty");
    assertEquals(Hashing.sha256().hashBytes(Files.readAllBytes(file)).toString(), entry.get("sha256").getAsString(), file.toString());
  }

  @Test
  void everyRecordsImageExistsAndDecodesAtTheChosenSize() {
    Set<String> images = new HashSet<>();
    LlavaConversationCodec.read(files.sft()).forEach(c -> images.add(c.image().orElseThrow()));
    PreferencePairCodec.read(files.preferences()).forEach(p -> images.add(p.image().orElseThrow()));
    RlPromptCodec.read(files.rlPrompts()).forEach(p -> images.add(p.image().orElseThrow()));
    MmhalCodec.read(files.mmhal()).forEach(r -> images.add(r.imageSrc()));
    for (PopeSampling p : PopeSampling.values()) {
      PopeCodec.read(files.pope(p)).forEach(r -> images.add(r.image()));
    }
    assertEquals(SCENES, images.size(), "every scene's image is used by exactly one split");
    for (String image : images) {
      RgbImage img = ImageLoader.load(files.image(image));
      assertEquals(32, img.width(), image);
      assertEquals(32, img.height(), image);
    }
  }

  @Test
  void theDataSetsTokenizerRoundTripsItsTextAndKeepsWordsWhole() throws IOException {
    List<String> texts = new ArrayList<>();
    List<LlavaConversation> sft = LlavaConversationCodec.read(files.sft());
    sft.forEach(c -> c.conversations().forEach(t -> texts.add(t.value())));
    try (Tokenizer tok = Tokenizer.load(files.tokenizer())) {
      for (String s : texts) {
        assertEquals(s, tok.decode(tok.encode(s, false), false), s);
      }
      int image = tok.requireTokenId(SpecialTokens.IMAGE);
      String rendered = ChatTemplate.vicunaV1().render(sft.get(0).conversations());
      int[] ids = tok.encode(rendered, false);
      assertEquals(1, java.util.Arrays.stream(ids).filter(id -> id == image).count(), "<image> is one token");
      assertEquals(rendered, tok.decode(ids, false));
      // a corpus sentence is one token per word or punctuation mark
      String description = sft.get(0).conversations().get(1).value();
      int pieces = description.split("[ ]+|(?=[.,:;])").length;
      assertTrue(tok.encode(description, false).length <= pieces, description);
    }
  }

  @Test
  void refusesAFolderThatIsNotADataSetAndLeavesItUntouched() throws IOException {
    Path mine = dir.resolve("mine");
    Files.createDirectories(mine);
    Files.writeString(mine.resolve("notes.txt"), "keep me");
    ShapesDataSetWriter w = ShapesDataSetWriter.builder().scenes(20).overwrite(true).build();
    FactRlException e = assertThrows(FactRlException.class, () -> w.write(mine));
    assertTrue(e.getMessage().contains("not (only) a FactRL data set: has no manifest.json; first entry: notes.txt"),
        e.getMessage());
    assertEquals(List.of(Path.of("notes.txt")), allFiles(mine));
    assertHiddenSiblingsGone(dir);
  }

  @Test
  void replacesAnExistingDataSetOnlyWhenAskedAndLeavesNoPartialFolders() throws IOException {
    Path target = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(20).seed(1).build().write(target);
    String first = Files.readString(DataSetFiles.in(target).annotations());
    FactRlException e = assertThrows(FactRlException.class,
        () -> ShapesDataSetWriter.builder().scenes(20).seed(2).build().write(target));
    assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
    assertEquals(first, Files.readString(DataSetFiles.in(target).annotations()), "untouched after the refusal");
    ShapesDataSetWriter.builder().scenes(20).seed(2).overwrite(true).build().write(target);
    assertNotEquals(first, Files.readString(DataSetFiles.in(target).annotations()));
    assertTrue(DataSetFiles.in(target).isComplete());
    assertHiddenSiblingsGone(dir);
  }

  private static void assertHiddenSiblingsGone(Path parent) throws IOException {
    try (Stream<Path> s = Files.list(parent)) {
      List<Path> hidden = s.filter(p -> p.getFileName().toString().startsWith(".")).toList();
      assertTrue(hidden.isEmpty(), "left behind: " + hidden);
    }
  }

  @Test
  void settingsThatLeaveASplitEmptyAreRejectedBeforeAnythingIsWritten() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ShapesDataSetWriter.builder().scenes(5).build());
    assertTrue(e.getMessage().contains("split empty"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ShapesDataSetWriter.builder().imageSize(8));
    assertThrows(IllegalArgumentException.class, () -> ShapesDataSetWriter.builder().fractions(0.5, 0.5, 0.5, 0));
    assertFalse(Files.exists(dir.resolve("never")));
  }

  @Test
  void aDataSetIsRecognisedForReuseOnlyWithTheSameSettingsAndAnIntactManifest() throws IOException {
    Path target = dir.resolve("ds");
    ShapesDataSetWriter.builder().scenes(20).seed(3).build().write(target);
    assertTrue(ShapesDataSetWriter.builder().scenes(20).seed(3).build().wroteAlready(target));
    assertFalse(ShapesDataSetWriter.builder().scenes(20).seed(4).build().wroteAlready(target));
    assertFalse(ShapesDataSetWriter.builder().scenes(21).seed(3).build().wroteAlready(target));
    assertFalse(ShapesDataSetWriter.builder().scenes(20).seed(3).imageSize(32).build().wroteAlready(target));
    assertFalse(ShapesDataSetWriter.builder().scenes(20).seed(3).fractions(0.4, 0.3, 0.2, 0.1).build()
        .wroteAlready(target));
    Files.writeString(DataSetFiles.in(target).manifest(), "{\"format\": ");
    assertFalse(ShapesDataSetWriter.builder().scenes(20).seed(3).build().wroteAlready(target));
    assertFalse(ShapesDataSetWriter.builder().build().wroteAlready(dir.resolve("absent")));
  }

  /** A version-2 data set (before issue 12's records) is replaced on request but never reused; a newer one is refused. */
  @Test
  void anOlderFormatVersionIsReplacedButNotReusedAndANewerOneIsRefused() throws IOException {
    Path target = dir.resolve("old");
    ShapesDataSetWriter w = ShapesDataSetWriter.builder().scenes(20).seed(3).build();
    w.write(target);
    Path manifest = DataSetFiles.in(target).manifest();
    String current = Files.readString(manifest);
    String versionLine = "\"format_version\": " + OwnedFolder.FORMAT_VERSION;
    assertTrue(current.contains(versionLine), current);
    Files.writeString(manifest, current.replace(versionLine, "\"format_version\": 2"));
    assertFalse(w.wroteAlready(target), "a version-2 folder lacks this version's records");
    Files.writeString(manifest, current.replace(versionLine, "\"format_version\": 4"));
    FactRlException e = assertThrows(FactRlException.class,
        () -> ShapesDataSetWriter.builder().scenes(20).seed(3).overwrite(true).build().write(target));
    assertTrue(e.getMessage().contains("format_version 4, this FactRL knows 2 to 3 only"), e.getMessage());
    Files.writeString(manifest, current.replace(versionLine, "\"format_version\": 2"));
    ShapesDataSetWriter.builder().scenes(20).seed(3).overwrite(true).build().write(target);
    assertTrue(w.wroteAlready(target));
    assertHiddenSiblingsGone(dir);
  }

  @Test
  void evalScenesAreDisjointFromTrainingScenes() {
    Set<String> train = new HashSet<>();
    LlavaConversationCodec.read(files.sft()).forEach(c -> train.add(c.image().orElseThrow()));
    PreferencePairCodec.read(files.preferences()).forEach(p -> train.add(p.image().orElseThrow()));
    RlPromptCodec.read(files.rlPrompts()).forEach(p -> train.add(p.image().orElseThrow()));
    MmhalCodec.read(files.mmhal()).forEach(r -> assertFalse(train.contains(r.imageSrc()), r.imageSrc()));
    assertTrue(LlavaConversationCodec.read(files.sft()).stream().allMatch(c ->
        c.conversations().get(0).value().startsWith("<image>\n")
            && c.conversations().stream().skip(1).map(Turn::value).noneMatch(v -> v.contains("<image>"))));
  }
}
