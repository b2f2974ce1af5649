package org.factrl.api;

import com.google.common.base.Preconditions;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.factrl.data.image.ImagePreprocessor;
import org.factrl.data.image.ResizeMode;
import org.factrl.data.image.RgbImage;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.eval.PromptEncoder;
import org.factrl.eval.Question;
import org.factrl.model.GenerateConfig;
import org.factrl.model.Generator;
import org.factrl.model.KvCache;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.stages.EvalStage;
import org.factrl.train.ModelTokenizer;

/**
 * A loaded model that answers a question about an image, as the evaluation does: the SFT chat
 * template with the image placed before the question ({@link PromptEncoder}), the image resized,
 * centre-cropped and CLIP-normalised as at training, {@link Generator} with a KV cache, stopping at
 * the tokenizer's {@code </s>}. Owns the model, its device and the tokenizer: close it. Not thread-safe.
 */
public final class Model implements AutoCloseable {
  private final Device device;
  private final LlavaModel model;
  private final Tokenizer tokenizer;
  private final String adapter;
  private final PromptEncoder prompts;
  private final ImagePreprocessor images;
  private final Generator generator;
  private final int eos;
  private final int pad;

  Model(Device device, LlavaModel model, Tokenizer tokenizer, String adapter) {
    this.device = device;
    this.model = model;
    this.tokenizer = tokenizer;
    this.adapter = adapter;
    ModelConfig mc = model.config();
    if (tokenizer.vocabSize() > mc.vocabSize()) {
      throw new FactRlException(tokenizer.file() + ": the tokenizer has " + tokenizer.vocabSize()
          + " ids but the model's vocab_size is " + mc.vocabSize());
    }
    this.prompts = new PromptEncoder(tokenizer, ChatTemplate.vicunaV1(), mc.imageTokenId(), mc.patchesPerImage());
    // the preprocessing ImageConversationBatcher applies at training
    this.images = ImagePreprocessor.builder().size(mc.imageSize()).resizeMode(ResizeMode.SHORTEST_SIDE_CENTER_CROP)
        .mean(ImagePreprocessor.CLIP_MEAN[0], ImagePreprocessor.CLIP_MEAN[1], ImagePreprocessor.CLIP_MEAN[2])
        .std(ImagePreprocessor.CLIP_STD[0], ImagePreprocessor.CLIP_STD[1], ImagePreprocessor.CLIP_STD[2])
        .build();
    this.eos = tokenizer.requireTokenId(SpecialTokens.EOS);
    this.pad = tokenizer.requireTokenId(SpecialTokens.PAD);
    this.generator = new Generator(model);
  }

  /** The model's shapes (image size, vocabulary, layers, ...). */
  public ModelConfig config() {
    return model.config();
  }

  /** The adapter set answers are generated under (empty: the base alone). */
  public Optional<String> adapter() {
    return Optional.ofNullable(adapter);
  }

  /** Greedy answer of at most 64 tokens to {@code prompt} about the image file {@code image} (PNG / JPEG). */
  public Generation generate(Path image, String prompt) {
    return generate(image, prompt, GenerateOptions.greedy(64));
  }

  public Generation generate(Path image, String prompt, GenerateOptions options) {
    Preconditions.checkNotNull(image, "image");
    return generate(images.load(image), prompt, options);
  }

  /** Greedy answer of at most 64 tokens to {@code prompt} about {@code image} (its RGB; alpha is ignored). */
  public Generation generate(BufferedImage image, String prompt) {
    return generate(image, prompt, GenerateOptions.greedy(64));
  }

  public Generation generate(BufferedImage image, String prompt, GenerateOptions options) {
    Preconditions.checkNotNull(image, "image");
    int w = image.getWidth();
    int h = image.getHeight();
    byte[] rgb = new byte[w * h * 3];
    for (int y = 0, o = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int p = image.getRGB(x, y);
        rgb[o++] = (byte) (p >> 16);
        rgb[o++] = (byte) (p >> 8);
        rgb[o++] = (byte) p;
      }
    }
    return generate(images.apply(RgbImage.of(w, h, rgb)), prompt, options);
  }

  private Generation generate(float[] pixels, String prompt, GenerateOptions options) {
    Preconditions.checkNotNull(prompt, "prompt");
    Preconditions.checkNotNull(options, "options");
    // the encoder reads only the question's text; the pixels come from the caller
    int[] ids = prompts.encode(new Question("prompt", "image", Path.of("image"), prompt));
    int maxNew = options.maxNewTokens();
    ModelConfig mc = model.config();
    if (ids.length + maxNew - 1 > mc.maxPositions()) {
      throw new FactRlException("argument 'prompt': " + ids.length + " tokens; with " + maxNew + " new tokens it needs "
          + (ids.length + maxNew - 1) + " positions, above the model's max_positions " + mc.maxPositions());
    }
    model.plan(1, ids.length, 1, false);
    GenerateConfig config = GenerateConfig.builder().maxNewTokens(maxNew).temperature(options.temperature())
        .topP(options.topP()).eosTokenId(eos).padTokenId(pad).seed(options.seed()).build();
    Generator.Generation g;
    try (KvCache cache = KvCache.create(model, 1, ids.length + maxNew - 1);
        Tensor tIds = device.fromInts(ids, 1, ids.length);
        Tensor tImages = device.fromFloats(pixels, 1, mc.imageChannels(), mc.imageSize(), mc.imageSize())) {
      g = generator.generate(adapter, cache, new LlavaModel.Inputs(tIds, tImages, null), new int[] {ids.length}, config);
    }
    int length = g.lengths()[0];
    boolean stopped = length > 0 && g.tokens()[0][length - 1] == eos;
    int n = stopped ? length - 1 : length;
    int[] tokens = Arrays.copyOf(g.tokens()[0], n);
    float[] logp = Arrays.copyOf(g.logp()[0], n);
    int vocab = tokenizer.vocabSize();
    // ids past the tokenizer (a model vocabulary larger than it) have no text
    String text = tokenizer.decode(Arrays.stream(tokens).filter(t -> t >= 0 && t < vocab).toArray(), true).strip();
    return new Generation(text, tokens, logp, stopped);
  }

  /** Opens the model folder {@code modelPath} (see {@link FactRl#loadModel(Path, Path)}). */
  static Model open(Path modelPath, Path tokenizerFile, Optional<String> adapter) {
    Path folder = EvalStage.modelFolder(modelPath);
    ModelTokenizer.check(folder, tokenizerFile);
    Device cpu = Device.cpu();
    LlavaModel model = null;
    Tokenizer tok = null;
    try {
      model = EvalStage.open(cpu, folder);
      String a = EvalStage.chooseAdapter(model, adapter, folder);
      tok = Tokenizer.load(tokenizerFile);
      return new Model(cpu, model, tok, a);
    } catch (RuntimeException e) {
      if (tok != null) {
        tok.close();
      }
      if (model != null) {
        model.close();
      }
      cpu.close();
      throw e;
    }
  }

  @Override
  public void close() {
    generator.close();
    tokenizer.close();
    model.close();
    device.close();
  }
}
