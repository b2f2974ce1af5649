package org.factrl.train;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.factrl.data.image.ImagePreprocessor;
import org.factrl.data.image.ResizeMode;

/**
 * Examples → {@link Batch}: right padding with the pad id, targets and loss mask shifted left by
 * one, images decoded and normalised.
 *
 * <p>Images: decoded with LWJGL stb ({@link org.factrl.data.image.ImageLoader}), resized to the
 * model's side (shortest side, centre crop: the shapes world's square images are only rescaled)
 * and normalised with CLIP's per-channel mean and std — {@code (pixel/255 − mean[c]) / std[c]},
 * CHW — because LLaVA's vision tower is CLIP and its pretrained weights expect exactly that input;
 * a base pretrained here sees the same statistics, so a later swap to real CLIP weights needs no
 * change in the data path. Rows without an image are allowed: they hold no image tokens and take
 * no slot in the images array. Immutable and thread-safe.
 */
public final class ImageConversationBatcher {
  private final int padId;
  private final ImagePreprocessor images;
  private final int channels;

  /**
   * @param padId the id written into padding (input and target positions the mask excludes)
   * @param imageSize the model's image side (H = W)
   * @param imageChannels the model's channels (3: the preprocessor makes RGB)
   */
  public ImageConversationBatcher(int padId, int imageSize, int imageChannels) {
    Preconditions.checkArgument(padId >= 0, "padId must be >= 0, got %s", padId);
    Preconditions.checkArgument(imageChannels == 3, "imageChannels must be 3 (RGB), got %s", imageChannels);
    this.padId = padId;
    this.channels = imageChannels;
    this.images = ImagePreprocessor.builder().size(imageSize).resizeMode(ResizeMode.SHORTEST_SIDE_CENTER_CROP)
        .mean(ImagePreprocessor.CLIP_MEAN[0], ImagePreprocessor.CLIP_MEAN[1], ImagePreprocessor.CLIP_MEAN[2])
        .std(ImagePreprocessor.CLIP_STD[0], ImagePreprocessor.CLIP_STD[1], ImagePreprocessor.CLIP_STD[2])
        .build();
  }

  public int padId() {
    return padId;
  }

  /** The normalised image of {@code file}, F32 CHW. */
  public float[] image(Path file) {
    return images.load(file);
  }

  /** The batch of {@code examples}, in order (see {@link Batch} for the layout). */
  public Batch batch(List<TrainingExample> examples) {
    Preconditions.checkNotNull(examples, "examples");
    Preconditions.checkArgument(!examples.isEmpty(), "no examples");
    int rows = examples.size();
    int seq = 0;
    int imageRows = 0;
    for (TrainingExample e : examples) {
      seq = Math.max(seq, e.length());
      imageRows += e.image().isPresent() ? 1 : 0;
    }
    int[] inputIds = new int[rows * seq];
    int[] targets = new int[rows * seq];
    float[] mask = new float[rows * seq];
    java.util.Arrays.fill(inputIds, padId);
    java.util.Arrays.fill(targets, padId);
    int plane = images.size() * images.size() * channels;
    float[] pixels = new float[imageRows * plane];
    List<String> ids = new ArrayList<>(rows);
    int targetTokens = 0;
    int realTokens = 0;
    int image = 0;
    for (int b = 0; b < rows; b++) {
      TrainingExample e = examples.get(b);
      ids.add(e.id());
      int row = b * seq;
      int len = e.length();
      realTokens += len;
      for (int t = 0; t < len; t++) {
        inputIds[row + t] = e.idAt(t);
      }
      for (int t = 0; t + 1 < len; t++) {
        targets[row + t] = e.idAt(t + 1);
        if (e.maskAt(t + 1) != 0) {
          mask[row + t] = 1f;
          targetTokens++;
        }
      }
      if (e.image().isPresent()) {
        float[] px = image(e.image().get());
        System.arraycopy(px, 0, pixels, image * plane, plane);
        image++;
      }
    }
    return new Batch(ids, rows, seq, inputIds, targets, mask, imageRows, pixels, targetTokens, realTokens);
  }
}
