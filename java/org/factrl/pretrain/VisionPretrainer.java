package org.factrl.pretrain;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.format.JsonRecords;
import org.factrl.data.image.ImagePaths;
import org.factrl.data.shapes.Scene;
import org.factrl.data.shapes.SceneJson;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.ParameterBlob;
import org.factrl.model.LlavaModel;
import org.factrl.model.ParamGroup;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;
import org.factrl.train.DataOrder;
import org.factrl.train.ImageConversationBatcher;
import org.factrl.train.LearningRateSchedule;
import org.factrl.train.MetricsLog;
import org.factrl.train.StepMetrics;

/**
 * Phase 1 of pretraining: the vision encoder learns to see the shapes world from DENSE targets — per
 * patch the owning object's shape, colour and size ({@link PatchLabels}, from the exact scene ground
 * truth), per image the environment — instead of a caption loss that gives one weak signal per image.
 *
 * <p>Model: the ViT up to the feature layer ({@link LlavaModel#visionFeatures}, features
 * {@code [B, P, Dv]}, exactly what the projector reads), then four linear heads trained with it
 * ({@link VisionHeads}): shape, colour and size per patch, environment on the mean-pooled features;
 * the loss is the sum of the four mean softmax cross-entropies. AdamW ({@link AdamW}) updates the
 * vision group of the base blob and the heads; the base's other groups have zero gradients and are
 * excluded from weight decay, so they stay bitwise as they were. The heads are discarded at the end:
 * what is kept is the trained vision tower, in place.
 *
 * <p>Data: a shapes data set folder ({@link DataSetFiles}): {@code annotations.json} (the scenes),
 * {@code images/}, and the manifest's {@code splits} — it trains on the {@code sft} split's scenes and
 * evaluates on the {@code eval} split's (at most {@link VisionPretrainConfig#maxEvalScenes}). Images
 * are normalised exactly as SFT normalises them ({@link ImageConversationBatcher#image}).
 *
 * <p>Deterministic for a seed: the batch order ({@link DataOrder}), the heads' initial weights and
 * every native kernel are. The model's activation plan is replaced by one for {@code batchSize}
 * images; plan again before other passes.
 */
public final class VisionPretrainer {
  private VisionPretrainer() {}

  /** Scenes of a data set split, each with its normalised image and its labels. */
  record Split(List<Scene> scenes, List<float[]> images, List<PatchLabels> labels) {
    int size() {
      return scenes.size();
    }
  }

  /**
   * Trains {@code model}'s vision tower in place on {@code dataDir}'s SFT-split scenes; returns the
   * losses, the seconds per step and the held-out evaluations. {@code metrics} (may be null) gets one
   * line per step; {@code progress} (may be null) a line per evaluation and every 10 steps.
   */
  public static VisionPretrainResult train(LlavaModel model, Path dataDir, VisionPretrainConfig config,
      MetricsLog metrics, PrintStream progress) {
    Preconditions.checkNotNull(model, "model");
    Preconditions.checkNotNull(dataDir, "dataDir");
    Preconditions.checkNotNull(config, "config");
    int imageSize = model.config().imageSize();
    int patchSize = model.config().patchSize();
    DataSetFiles files = DataSetFiles.in(dataDir);
    List<Scene> all = SceneJson.readList(files.annotations());
    JsonObject manifest = JsonRecords.readDocument(files.manifest()).getAsJsonObject();
    Split train = load(files, all, manifest, "sft", Integer.MAX_VALUE, imageSize, patchSize);
    Split eval = load(files, all, manifest, "eval", config.maxEvalScenes(), imageSize, patchSize);
    return train(model, train, eval, config, metrics, progress);
  }

  static VisionPretrainResult train(LlavaModel model, Split train, Split eval, VisionPretrainConfig config,
      MetricsLog metrics, PrintStream progress) {
    int batch = config.batchSize();
    Device device = model.device();
    model.plan(batch, 1, batch, true);
    AdamWConfig adamConfig = AdamWConfig.builder()
        .schedule(LearningRateSchedule.warmupCosine(config.lr(), config.warmupSteps(), config.steps(), 0.1))
        .weightDecay(config.weightDecay())
        .maxGradNorm(config.maxGradNorm())
        // Biases and norms as usual; and every base entry outside the vision group: zero gradient,
        // zero moments, no decay — AdamW leaves them bitwise as they were.
        .noDecay(n -> AdamWConfig.BIASES_AND_NORMS.test(n)
            || (model.params().contains(n) && ParamGroup.of(n) != ParamGroup.VISION))
        .build();
    List<Double> losses = new ArrayList<>();
    List<VisionEval> evals = new ArrayList<>();
    double trainSeconds = 0;
    try (VisionHeads heads = VisionHeads.create(model, batch, config.seed(), config.headInitStd());
        ParameterBlob baseGrads = model.params().likeThis();
        AdamW opt = AdamW.over(adamConfig, List.of(new AdamW.Trainable(model.params(), baseGrads),
            new AdamW.Trainable(heads.params(), heads.grads())))) {
      DataOrder order = new DataOrder(train.size(), config.seed());
      for (int step = 1; step <= config.steps(); step++) {
        long t0 = System.nanoTime();
        int[] pick = order.next(batch);
        List<float[]> images = new ArrayList<>(batch);
        List<PatchLabels> labels = new ArrayList<>(batch);
        for (int i : pick) {
          images.add(train.images().get(i));
          labels.add(train.labels().get(i));
        }
        double loss = heads.trainStep(images, labels, baseGrads);
        AdamW.StepStats stats = opt.step();
        double seconds = (System.nanoTime() - t0) / 1e9;
        trainSeconds += seconds;
        losses.add(loss);
        if (!Double.isFinite(loss)) {
          throw new FactRlException(String.format(Locale.ROOT, "vision pretraining: loss %s at step %d", loss, step));
        }
        long patches = (long) batch * heads.patches();
        if (metrics != null) {
          // the pretrain stage's metrics: the vision phase's steps come first (global = phase step)
          JsonObject record = new StepMetrics(step, loss, stats.lr(), stats.gradNorm(), patches, patches,
              patches / seconds, seconds).toJson();
          record.addProperty("phase", PretrainPhase.VISION.jsonName());
          record.addProperty("phase_step", step);
          metrics.append(record);
        }
        if (progress != null && (step % 10 == 0 || step == 1)) {
          progress.printf(Locale.ROOT, "vision step %d/%d loss %.4f lr %.2e grad norm %.3f %.3f s/step%n", step,
              config.steps(), loss, stats.lr(), stats.gradNorm(), seconds);
        }
        boolean last = step == config.steps();
        if (last || (config.evalEvery() > 0 && step % config.evalEvery() == 0)) {
          VisionEval e = heads.evaluate(eval, step);
          evals.add(e);
          if (progress != null) {
            progress.println(e.summary());
          }
        }
      }
    }
    int tail = Math.min(10, losses.size());
    double finalLoss = losses.subList(losses.size() - tail, losses.size()).stream().mapToDouble(d -> d).average()
        .orElseThrow();
    return new VisionPretrainResult(config.steps(), losses.get(0), finalLoss, trainSeconds / config.steps(),
        ImmutableList.copyOf(evals));
  }

  /** The scenes of split {@code name} (the manifest's first_scene / scenes), at most {@code max}. */
  static Split load(DataSetFiles files, List<Scene> all, JsonObject manifest, String name, int max, int imageSize,
      int patchSize) {
    String where = files.manifest() + ": splits." + name;
    JsonElement splits = manifest.get("splits");
    if (splits == null || !splits.isJsonObject() || !splits.getAsJsonObject().has(name)
        || !splits.getAsJsonObject().get(name).isJsonObject()) {
      throw new FactRlException(where + " is missing (a shapes data set's manifest names its splits)");
    }
    JsonObject s = splits.getAsJsonObject().getAsJsonObject(name);
    int first = intField(s, "first_scene", where);
    int count = intField(s, "scenes", where);
    if (first < 0 || count < 1 || (long) first + count > all.size()) {
      throw new FactRlException(String.format(Locale.ROOT,
          "%s: scenes [%d, %d) do not fit the %d scenes of %s", where, first, (long) first + count, all.size(),
          files.annotations()));
    }
    count = Math.min(count, max);
    ImageConversationBatcher normaliser = new ImageConversationBatcher(0, imageSize, 3);
    List<Scene> scenes = all.subList(first, first + count);
    List<float[]> images = new ArrayList<>(count);
    List<PatchLabels> labels = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Scene scene = scenes.get(i);
      String at = files.annotations() + ": scene " + (first + i) + ": field 'image'";
      images.add(normaliser.image(ImagePaths.resolve(files.images(), scene.image(), at)));
      labels.add(PatchLabels.of(scene, imageSize, patchSize));
    }
    return new Split(List.copyOf(scenes), images, labels);
  }

  private static int intField(JsonObject o, String field, String where) {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw new FactRlException(where + ": field '" + field + "' is missing or not a number");
    }
    return e.getAsInt();
  }
}
