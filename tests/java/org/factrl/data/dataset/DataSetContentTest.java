package org.factrl.data.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.hash.Hashing;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.factrl.data.PopeSampling;
import org.factrl.data.format.GroundTruthAnswer;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.LlavaConversationCodec;
import org.factrl.data.format.MmhalCodec;
import org.factrl.data.format.PopeCodec;
import org.factrl.data.format.PreferencePair;
import org.factrl.data.format.PreferencePairCodec;
import org.factrl.data.format.RlPrompt;
import org.factrl.data.format.RlPromptCodec;
import org.factrl.data.shapes.Colour;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneJson;
import org.factrl.data.shapes.ShapeKind;
import org.factrl.data.shapes.Size;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a written data set holds, read back from its files (issue 12): evaluation scenes held out of
 * every training file, facts on every reward-model and RL record, and reward-model pairs without
 * the length and word shortcuts the old bootstrap taught.
 */
class DataSetContentTest {
  private static final int SCENES = 1000;
  @TempDir static Path shared;
  private static DataSetFiles files;
  private static List<PreferencePair> preferences;

  @BeforeAll
  static void writeOnce() {
    ShapesDataSetWriter.builder().scenes(SCENES).seed(7).imageSize(32).build().write(shared.resolve("ds"));
    files = DataSetFiles.in(shared.resolve("ds"));
    preferences = PreferencePairCodec.read(files.preferences());
  }

  /** The images of the evaluation split, by the manifest's split bounds and the annotations. */
  private static Set<String> evalImages() {
    JsonObject eval = JsonRecords.readDocument(files.manifest()).getAsJsonObject()
        .getAsJsonObject("splits").getAsJsonObject("eval");
    int first = eval.get("first_scene").getAsInt();
    List<Scene> scenes = SceneJson.readList(files.annotations());
    Set<String> images = new HashSet<>();
    for (int i = first; i < first + eval.get("scenes").getAsInt(); i++) {
      images.add(scenes.get(i).image());
    }
    return images;
  }

  @Test
  void noEvaluationSceneAppearsInAnyTrainingFile() throws IOException {
    Set<String> eval = evalImages();
    assertEquals(SCENES / 10, eval.size());
    Map<String, Set<String>> training = new TreeMap<>();
    training.put("sft", LlavaConversationCodec.read(files.sft()).stream().map(c -> c.image().orElseThrow())
        .collect(Collectors.toSet()));
    training.put("pretrain", LlavaConversationCodec.read(files.pretrain()).stream().map(c -> c.image().orElseThrow())
        .collect(Collectors.toSet()));
    training.put("rm", preferences.stream().map(p -> p.image().orElseThrow()).collect(Collectors.toSet()));
    training.put("rl", RlPromptCodec.read(files.rlPrompts()).stream().map(p -> p.image().orElseThrow())
        .collect(Collectors.toSet()));
    Set<String> trainingPixels = new HashSet<>();
    for (Map.Entry<String, Set<String>> e : training.entrySet()) {
      assertFalse(e.getValue().isEmpty(), e.getKey());
      for (String image : e.getValue()) {
        assertFalse(eval.contains(image), e.getKey() + " uses the evaluation image " + image);
        trainingPixels.add(sha256(files.image(image)));
      }
    }
    // and no training image is a pixel-identical copy of an evaluation image under another name
    for (String image : eval) {
      assertFalse(trainingPixels.contains(sha256(files.image(image))), image + " has a twin in the training files");
    }
    // the evaluation files use only evaluation images
    MmhalCodec.read(files.mmhal()).forEach(r -> assertTrue(eval.contains(r.imageSrc()), r.imageSrc()));
    for (PopeSampling p : PopeSampling.values()) {
      PopeCodec.read(files.pope(p)).forEach(r -> assertTrue(eval.contains(r.image()), r.image()));
    }
  }

  private static String sha256(Path file) throws IOException {
    return Hashing.sha256().hashBytes(Files.readAllBytes(file)).toString();
  }

  @Test
  void everyPreferenceAndRlPromptCarriesItsFacts() {
    Map<String, Scene> byImage = new HashMap<>();
    SceneJson.readList(files.annotations()).forEach(s -> byImage.put(s.image(), s));
    assertTrue(preferences.size() > 6 * SCENES / 5, "pairs: " + preferences.size());
    for (PreferencePair p : preferences) {
      assertEquals(5, p.captions().size(), p.id());
      assertEquals(5, new HashSet<>(p.captions()).size(), p.id());
    }
    int multipleChoice = 0;
    for (RlPrompt p : RlPromptCodec.read(files.rlPrompts())) {
      assertEquals(5, p.captions().size(), p.id());
      if (p.answer().isPresent()) {
        assertTrue(p.rationale().isPresent(), p.id() + ": a checkable answer needs its rationale");
        multipleChoice += p.answer().get().type() == GroundTruthAnswer.Type.MULTIPLE_CHOICE ? 1 : 0;
      }
    }
    assertTrue(multipleChoice >= SCENES / 5, "multiple-choice prompts: " + multipleChoice);
  }

  /**
   * Length: over the RM split, the preferred answer is the shorter one in 40–60% of the pairs (it
   * was 0% for insertions before), and some pairs prefer the longer of two correct answers.
   */
  @Test
  void thePreferredAnswerIsTheShorterInAboutHalfThePairs() {
    int shorter = 0;
    int longer = 0;
    int omissions = 0;
    for (PreferencePair p : preferences) {
      int d = p.preferred().length() - p.rejected().length();
      shorter += d < 0 ? 1 : 0;
      longer += d > 0 ? 1 : 0;
      omissions += p.id().endsWith("-omission") ? 1 : 0;
    }
    double share = (double) shorter / preferences.size();
    System.out.printf(Locale.ROOT, "RM pairs %d: preferred shorter %.3f, longer %.3f, omission pairs %d%n",
        preferences.size(), share, (double) longer / preferences.size(), omissions);
    assertTrue(share >= 0.4 && share <= 0.6, "preferred answer shorter in " + share + " of the pairs");
    assertTrue(omissions >= SCENES / 5 * 9 / 10, "longer correct answers preferred over shorter ones: " + omissions);
  }

  /**
   * Words: for every object word (colour, shape, size), the rule "the answer that contains the word
   * (and the other does not) loses" is right in at most 60% of the pairs it applies to.
   */
  @Test
  void noObjectWordPredictsTheLosingAnswer() {
    Set<String> words = new HashSet<>();
    Arrays.stream(Colour.values()).forEach(c -> words.add(c.word()));
    Arrays.stream(ShapeKind.values()).forEach(s -> {
      words.add(s.singular());
      words.add(s.plural());
    });
    Arrays.stream(Size.values()).forEach(z -> words.add(z.word()));
    words.addAll(List.of("dog", "cat", "car", "tree", "ball", "house", "hexagon"));
    Map<String, int[]> hits = new TreeMap<>(); // word -> {rule right, rule applies}
    for (PreferencePair p : preferences) {
      Set<String> won = words(p.preferred());
      Set<String> lost = words(p.rejected());
      for (String w : words) {
        if (won.contains(w) != lost.contains(w)) {
          int[] h = hits.computeIfAbsent(w, k -> new int[2]);
          h[0] += lost.contains(w) ? 1 : 0;
          h[1]++;
        }
      }
    }
    StringBuilder report = new StringBuilder();
    double worst = 0;
    for (Map.Entry<String, int[]> e : hits.entrySet()) {
      int[] h = e.getValue();
      double accuracy = (double) h[0] / h[1];
      report.append(String.format(Locale.ROOT, " %s %.2f/%d", e.getKey(), accuracy, h[1]));
      if (h[1] >= 30) {
        worst = Math.max(worst, accuracy);
      }
    }
    System.out.println("word -> loses accuracy / pairs:" + report);
    assertTrue(worst <= 0.6, "a word predicts the loser too well:" + report);
    for (String foreign : List.of("dog", "cat", "car", "tree", "ball", "house", "hexagon")) {
      assertFalse(hits.containsKey(foreign), foreign + " appears in a preference pair");
    }
  }

  private static Set<String> words(String text) {
    return new HashSet<>(Arrays.asList(text.toLowerCase(Locale.ROOT).split("[^a-z]+")));
  }

  /** The pretraining corpus: captions of training scenes only, one-object scenes first. */
  @Test
  void thePretrainingCorpusHoldsCaptionsOfTrainingScenesOneObjectScenesFirst() {
    List<LlavaConversation> corpus = LlavaConversationCodec.read(files.pretrain());
    Map<String, Scene> byImage = new HashMap<>();
    SceneJson.readList(files.annotations()).forEach(s -> byImage.put(s.image(), s));
    int previous = 0;
    for (LlavaConversation c : corpus) {
      Scene s = byImage.get(c.image().orElseThrow());
      assertEquals(2, c.conversations().size(), c.id());
      assertTrue(s.objects().size() >= previous, c.id() + ": curriculum order broken");
      previous = s.objects().size();
    }
    assertEquals(1, byImage.get(corpus.get(0).image().orElseThrow()).objects().size(), "one-object scenes first");
    assertEquals(5 * (SCENES / 2), corpus.size(), "five captions per SFT scene");
  }
}
