package org.factrl.eval;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;
import org.factrl.data.text.ChatTemplate;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.model.GenerateConfig;
import org.factrl.model.Generator;
import org.factrl.model.KvCache;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.train.ImageConversationBatcher;
import org.factrl.train.SplitMix64;

/**
 * Answers questions with a {@link LlavaModel}: prompts built as the SFT stage trains on them
 * ({@link PromptEncoder}), images decoded, resized and CLIP-normalised by the SFT batcher
 * ({@link ImageConversationBatcher#image}), then {@link Generator#generate} in batches of up to
 * {@code batchSize} right-padded rows (greedy at temperature 0: row b's tokens do not depend on the
 * other rows), stopping at the tokenizer's {@code </s>}.
 *
 * <p>Each {@link #answer} call encodes every prompt first (so a question that cannot be encoded or
 * does not fit {@code max_positions} fails before any generation, naming it), plans the model for
 * the longest prompt and creates one KV cache for the call. Batch k of a call samples with seed
 * {@code mix(seed ^ k)}: a seeded sampled run repeats. Holds a {@link Generator}: close it; the
 * model and tokenizer stay the caller's. Not thread-safe.
 */
public final class ModelAnswerSource implements AnswerSource, AutoCloseable {
  private final LlavaModel model;
  private final String adapter;
  private final Tokenizer tokenizer;
  private final PromptEncoder prompts;
  private final ImageConversationBatcher images;
  private final Generator generator;
  private final int batchSize;
  private final GenerateConfig generate;
  private final int eos;
  private final int pad;

  /**
   * @param adapter the adapter set to generate under, or null for the base alone
   * @param generate max new tokens, temperature, top-p and seed (its EOS and pad ids are replaced
   *     by the tokenizer's {@code </s>} and {@code <pad>})
   */
  public ModelAnswerSource(LlavaModel model, String adapter, Tokenizer tokenizer, int batchSize,
      GenerateConfig generate) {
    this.model = Preconditions.checkNotNull(model, "model");
    this.tokenizer = Preconditions.checkNotNull(tokenizer, "tokenizer");
    this.generate = Preconditions.checkNotNull(generate, "generate");
    Preconditions.checkArgument(batchSize >= 1, "batchSize must be >= 1, got %s", batchSize);
    if (adapter != null && !model.adapterNames().contains(adapter)) {
      throw new FactRlException("adapter '" + adapter + "': the model has no such adapter set (has "
          + model.adapterNames() + ")");
    }
    ModelConfig mc = model.config();
    if (tokenizer.vocabSize() > mc.vocabSize()) {
      throw new FactRlException(tokenizer.file() + ": the tokenizer has " + tokenizer.vocabSize()
          + " ids but the model's vocab_size is " + mc.vocabSize());
    }
    this.adapter = adapter;
    this.batchSize = batchSize;
    this.eos = tokenizer.requireTokenId(SpecialTokens.EOS);
    this.pad = tokenizer.requireTokenId(SpecialTokens.PAD);
    this.prompts = new PromptEncoder(tokenizer, ChatTemplate.vicunaV1(), mc.imageTokenId(), mc.patchesPerImage());
    this.images = new ImageConversationBatcher(pad, mc.imageSize(), mc.imageChannels());
    this.generator = new Generator(model);
  }

  public PromptEncoder prompts() {
    return prompts;
  }

  @Override
  public List<Answer> answer(List<Question> questions, IntConsumer answered) {
    Preconditions.checkNotNull(questions, "questions");
    Preconditions.checkNotNull(answered, "answered");
    if (questions.isEmpty()) {
      return ImmutableList.of();
    }
    int maxNew = generate.maxNewTokens();
    int maxPositions = model.config().maxPositions();
    List<int[]> encoded = new ArrayList<>(questions.size());
    int longest = 0;
    for (Question q : questions) {
      int[] ids = prompts.encode(q);
      if (ids.length + maxNew - 1 > maxPositions) {
        throw new FactRlException("question " + q.id() + ": its prompt has " + ids.length + " tokens; with "
            + maxNew + " new tokens it needs " + (ids.length + maxNew - 1) + " positions, above the model's "
            + "max_positions " + maxPositions + " (lower the new-token limit)");
      }
      encoded.add(ids);
      longest = Math.max(longest, ids.length);
    }
    int rowsMax = Math.min(batchSize, questions.size());
    model.plan(rowsMax, longest, rowsMax, false);
    ModelConfig mc = model.config();
    int plane = mc.imageChannels() * mc.imageSize() * mc.imageSize();
    Device dev = model.device();
    List<Answer> out = new ArrayList<>(questions.size());
    try (KvCache cache = KvCache.create(model, rowsMax, longest + maxNew - 1)) {
      for (int start = 0, k = 0; start < questions.size(); start += rowsMax, k++) {
        int end = Math.min(questions.size(), start + rowsMax);
        int rows = end - start;
        int seq = 0;
        for (int i = start; i < end; i++) {
          seq = Math.max(seq, encoded.get(i).length);
        }
        int[] ids = new int[rows * seq];
        Arrays.fill(ids, pad);
        int[] lengths = new int[rows];
        float[] pixels = new float[rows * plane];
        for (int r = 0; r < rows; r++) {
          int[] p = encoded.get(start + r);
          System.arraycopy(p, 0, ids, r * seq, p.length);
          lengths[r] = p.length;
          Question q = questions.get(start + r);
          float[] px;
          try {
            px = images.image(q.image());
          } catch (RuntimeException e) {
            throw new FactRlException("question " + q.id() + ": image " + q.image() + ": " + e.getMessage(), e);
          }
          System.arraycopy(px, 0, pixels, r * plane, plane);
        }
        GenerateConfig config = generate.toBuilder().eosTokenId(eos).padTokenId(pad)
            .seed(SplitMix64.mix(generate.seed() ^ k)).build();
        Generator.Generation g;
        try (Tensor tIds = dev.fromInts(ids, rows, seq);
            Tensor tImages = dev.fromFloats(pixels, rows, mc.imageChannels(), mc.imageSize(), mc.imageSize())) {
          g = generator.generate(adapter, cache, new LlavaModel.Inputs(tIds, tImages, null), lengths, config);
        }
        for (int r = 0; r < rows; r++) {
          out.add(decode(g.tokens()[r], g.lengths()[r]));
        }
        answered.accept(end);
      }
    }
    return out;
  }

  /** The row's text up to EOS; ids the tokenizer does not know (a larger model vocabulary) are dropped. */
  Answer decode(int[] tokens, int length) {
    boolean stopped = length > 0 && tokens[length - 1] == eos;
    int n = stopped ? length - 1 : length;
    int vocab = tokenizer.vocabSize();
    int[] kept = new int[n];
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (tokens[i] >= 0 && tokens[i] < vocab) {
        kept[m++] = tokens[i];
      }
    }
    String text = tokenizer.decode(Arrays.copyOf(kept, m), true).strip();
    return new Answer(text, n, stopped);
  }

  @Override
  public void close() {
    generator.close();
  }
}
