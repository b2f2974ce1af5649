package org.factrl.data.dataset;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.factrl.data.MmhalType;
import org.factrl.data.format.Conversations;
import org.factrl.data.judge.ExactJudge;
import org.factrl.data.judge.Judgement;
import org.factrl.data.judge.QuestionContext;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneJson;
import org.factrl.engine.FactRlException;

/**
 * The exact judge on a response to a question about an image, against that image's annotation (a
 * data set's {@code annotations.json}). One place for the rule that the prefs stage's labels
 * ({@code org.factrl.reward.PreferenceSampler}) and PPO's hallucination monitor both follow: the
 * question's image placeholder is dropped, and the shapes world's description prompt
 * ({@link ShapesRecords#DESCRIBE}) is judged as a holistic description, any other question by the
 * type the judge infers from it.
 *
 * <p>Not thread-safe: question contexts are parsed once per distinct question and cached.
 */
public final class AnnotatedJudge {
  private final ExactJudge judge;
  private final ImmutableMap<String, Scene> scenes;
  private final Map<String, QuestionContext> contexts = new HashMap<>();

  private AnnotatedJudge(ExactJudge judge, Map<String, Scene> scenesByImage) {
    this.judge = Preconditions.checkNotNull(judge, "judge");
    this.scenes = ImmutableMap.copyOf(scenesByImage);
  }

  /** A judge over {@code scenesByImage} (a record's image field → its scene). */
  public static AnnotatedJudge of(ExactJudge judge, Map<String, Scene> scenesByImage) {
    return new AnnotatedJudge(judge, scenesByImage);
  }

  /** A judge over the scenes of an annotations file ({@link SceneJson} list). */
  public static AnnotatedJudge read(Path annotations) {
    return new AnnotatedJudge(new ExactJudge(), scenesByImage(annotations));
  }

  /** The scenes of an annotations file by image field; two scenes of one image are an error naming both. */
  public static Map<String, Scene> scenesByImage(Path annotations) {
    List<Scene> list = SceneJson.readList(annotations);
    Map<String, Scene> out = new LinkedHashMap<>();
    for (Scene s : list) {
      Scene earlier = out.putIfAbsent(s.image(), s);
      if (earlier != null) {
        throw new FactRlException(annotations + ": scenes '" + earlier.id() + "' and '" + s.id()
            + "' both annotate image " + s.image());
      }
    }
    return out;
  }

  /**
   * The judge's context for {@code question} (a prompt turn, with or without the image
   * placeholder): the description prompt is holistic, any other question's type is inferred.
   */
  public static QuestionContext context(ExactJudge judge, String question) {
    String q = question.replace(Conversations.IMAGE_PLACEHOLDER, "").strip();
    return q.equals(ShapesRecords.DESCRIBE)
        ? QuestionContext.parse(judge.extractor(), q, MmhalType.HOLISTIC_DESCRIPTION)
        : QuestionContext.parse(judge.extractor(), q);
  }

  /** The scene annotating {@code image}, if any. */
  public Optional<Scene> scene(String image) {
    return Optional.ofNullable(scenes.get(image));
  }

  /** How many images are annotated. */
  public int size() {
    return scenes.size();
  }

  /**
   * The judgement of {@code response} to {@code question} about {@code image}; empty when no scene
   * annotates the image (nothing to judge against).
   */
  public Optional<Judgement> judge(String image, String question, String response) {
    Preconditions.checkNotNull(question, "question");
    Preconditions.checkNotNull(response, "response");
    Scene s = scenes.get(image);
    if (s == null) {
      return Optional.empty();
    }
    QuestionContext c = contexts.computeIfAbsent(question, q -> context(judge, q));
    return Optional.of(judge.judge(s, c, response));
  }
}
