package org.factrl.pretrain;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.factrl.data.dataset.DataSetFiles;
import org.factrl.data.format.LlavaConversation;
import org.factrl.data.format.LlavaConversationCodec;
import org.factrl.engine.FactRlException;
import org.factrl.model.LlavaModel;
import org.factrl.train.Batch;
import org.factrl.train.ConversationEncoder;
import org.factrl.train.ImageConversationBatcher;
import org.factrl.train.NextTokenLoss;
import org.factrl.train.TrainingExample;

/**
 * Does the model use the image? The caption loss (mean NLL per caption token) of image–caption
 * examples scored three ways: with their own image, with another example's image (each example
 * gets the next one's, cyclically), and as text only (image and placeholder removed). A model that
 * reads its image tokens scores its own image clearly below the other two; one that ignores them
 * scores own ≈ other. The examples are the first of pretrain.json (its curriculum starts with
 * one-object scenes); they are training examples, so this measures use of the image, not
 * generalisation.
 *
 * @param examples the examples scored
 * @param ownImage the loss with each example's own image
 * @param otherImage the loss with another example's image
 * @param noImage the loss of the text-only versions
 */
public record ImageCheck(int examples, double ownImage, double otherImage, double noImage) {
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("examples", examples);
    o.addProperty("loss_own_image", ownImage);
    o.addProperty("loss_other_image", otherImage);
    o.addProperty("loss_no_image", noImage);
    return o;
  }

  /** Scores {@code examples} (image examples of {@code files}' pretrain.json), {@code batch} rows at a time. */
  public static ImageCheck run(LlavaModel model, List<TrainingExample> examples, ConversationEncoder encoder,
      DataSetFiles files, ImageConversationBatcher batcher, int batch) {
    int n = examples.size();
    if (n < 2) {
      return new ImageCheck(n, Double.NaN, Double.NaN, Double.NaN);
    }
    List<TrainingExample> textOnly = new ArrayList<>(n);
    List<LlavaConversation> records = LlavaConversationCodec.read(files.pretrain());
    for (int i = 0; i < n; i++) {
      LlavaConversation r = records.get(i);
      if (!r.id().equals(examples.get(i).id())) {
        throw new FactRlException(files.pretrain() + ": record " + i + " is '" + r.id() + "', expected '"
            + examples.get(i).id() + "' (the file changed?)");
      }
      textOnly.add(encoder.encode(PretrainStage.withoutImage(r)));
    }
    double[] own = new double[2];
    double[] other = new double[2];
    double[] none = new double[2];
    for (int from = 0; from < n; from += batch) {
      int to = Math.min(n, from + batch);
      Batch b = batcher.batch(examples.subList(from, to));
      add(own, NextTokenLoss.evaluate(model, null, b, b.images()), b.targetTokens());
      float[] shifted = new float[b.images().length];
      int plane = shifted.length / (to - from);
      for (int i = from; i < to; i++) {
        float[] px = batcher.image(examples.get((i + 1) % n).image().orElseThrow());
        System.arraycopy(px, 0, shifted, (i - from) * plane, plane);
      }
      add(other, NextTokenLoss.evaluate(model, null, b, shifted), b.targetTokens());
      Batch t = batcher.batch(textOnly.subList(from, to));
      add(none, NextTokenLoss.evaluate(model, null, t, t.images()), t.targetTokens());
    }
    return new ImageCheck(n, own[0] / own[1], other[0] / other[1], none[0] / none[1]);
  }

  private static void add(double[] acc, double loss, int tokens) {
    acc[0] += loss * tokens;
    acc[1] += tokens;
  }
}
