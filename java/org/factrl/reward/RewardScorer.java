package org.factrl.reward;

import com.google.common.base.Preconditions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.factrl.data.format.Turn;
import org.factrl.data.text.SpecialTokens;
import org.factrl.data.text.Tokenizer;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Tensor;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.stages.RmConfig;
import org.factrl.stages.RmStage;
import org.factrl.train.Batch;
import org.factrl.train.CheckpointStore;
import org.factrl.train.ImageConversationBatcher;
import org.factrl.train.ModelCheckpoint;
import org.factrl.train.SplitMix64;
import org.factrl.train.TrainingExample;

/**
 * Scores responses with a trained reward model: the same input as at training
 * ({@link FactTemplate} with or without facts, as the checkpoint's {@code rm_config.json} says),
 * the RM adapter set and reward head of an {@link RmStage} checkpoint, the score read on the last
 * real token. For PPO's reward role.
 *
 * <pre>{@code
 * try (RewardScorer rm = RewardScorer.open(Path.of("runs/rm/checkpoints/step-00000100"))) {
 *   float[] s = rm.score(List.of(new RewardScorer.Request(Optional.of(png), prompt, "A red circle.", facts)));
 * }
 * }</pre>
 *
 * {@link #open} owns a model of its own (the checkpoint's base + adapter + head). PPO shares one
 * base among its roles: {@link #loadInto} adds the RM's adapter set and head to that model under
 * names of the caller's choosing, and {@link #over} scores through them (the caller plans the
 * model's arena for at most {@link #maxRows()} rows of {@link #maxLength()} tokens). Captions are
 * shuffled per request from {@code SplitMix64(mix(seed ^ mix(i)))}: a call is a pure function of
 * its requests and seed. Not thread-safe.
 */
public final class RewardScorer implements AutoCloseable {
  /**
   * One response to score.
   *
   * @param image the image file (PNG/JPEG), present when the prompt has the {@code <image>} placeholder
   * @param prompt the conversation so far, ending with a human turn
   * @param response the response to score
   * @param facts the image's facts (ignored by a reward model trained without facts; required by one with)
   */
  public record Request(Optional<Path> image, List<Turn> prompt, String response, FactTemplate.Facts facts) {
    public Request {
      Preconditions.checkNotNull(image, "image");
      Preconditions.checkNotNull(prompt, "prompt");
      Preconditions.checkNotNull(response, "response");
      Preconditions.checkNotNull(facts, "facts");
      prompt = List.copyOf(prompt);
    }
  }

  private final Device device;
  private final LlavaModel model;
  private final Tokenizer tokenizer;
  private final boolean owns;
  private final String adapter;
  private final String head;
  private final boolean facts;
  private final RewardEncoder encoder;
  private final ImageConversationBatcher batcher;
  private final int maxRows;

  private RewardScorer(Device device, LlavaModel model, Tokenizer tokenizer, boolean owns, String adapter, String head,
      boolean facts, int maxLength, int maxRows) {
    this.device = device;
    this.model = model;
    this.tokenizer = tokenizer;
    this.owns = owns;
    this.adapter = adapter;
    this.head = head;
    this.facts = facts;
    ModelConfig mc = model.config();
    this.encoder = new RewardEncoder(tokenizer, mc.imageTokenId(), mc.patchesPerImage(),
        Math.min(maxLength, mc.maxPositions()));
    this.batcher = new ImageConversationBatcher(tokenizer.requireTokenId(SpecialTokens.PAD), mc.imageSize(),
        mc.imageChannels());
    this.maxRows = maxRows;
  }

  /**
   * A scorer over its own model on the CPU: an RM checkpoint folder ({@code checkpoints/step-N}) or
   * an RM run folder (its last checkpoint); the tokenizer is the run's {@code tokenizer.json}.
   */
  public static RewardScorer open(Path checkpointOrRun) {
    Path ck = checkpoint(checkpointOrRun);
    Path tokenizerFile = ck.getParent().getParent().resolve(RmStage.TOKENIZER_FILE);
    if (!Files.isRegularFile(tokenizerFile)) {
      throw new FactRlException(ck + ": no " + RmStage.TOKENIZER_FILE + " in its run folder " + tokenizerFile.getParent());
    }
    RmConfig config = RmConfig.read(ck.resolve(RmConfig.FILE_NAME));
    Device cpu = Device.cpu();
    LlavaModel model = null;
    Tokenizer tok = null;
    try {
      model = ModelCheckpoint.read(cpu, ck);
      model.loadHead(RmStage.HEAD, ck.resolve(RmStage.HEAD_FILE));
      tok = Tokenizer.load(tokenizerFile);
      int rows = 2 * config.pairsPerStep();
      RewardScorer s = new RewardScorer(cpu, model, tok, true, RmStage.ADAPTER, RmStage.HEAD, config.facts(),
          config.maxLength(), rows);
      model.plan(rows, s.encoder.maxLength(), rows, false);
      return s;
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

  /**
   * Adds an RM checkpoint's adapter set (as {@code adapterName}) and reward head (as
   * {@code headName}) to {@code model}, which must hold the same base (the checkpoint's
   * {@code base.json} hash is checked against {@code baseDir}'s weights). Returns the checkpoint's
   * config (its {@code facts} and {@code max_length} are what {@link #over} needs).
   */
  public static RmConfig loadInto(LlavaModel model, Path checkpointOrRun, String adapterName, String headName) {
    Preconditions.checkNotNull(model, "model");
    Path ck = checkpoint(checkpointOrRun);
    ModelCheckpoint.baseFolder(ck); // the base it refers to still has the bytes it was trained on
    model.loadAdapter(adapterName, ck.resolve(ModelCheckpoint.ADAPTERS_DIR).resolve(RmStage.ADAPTER));
    try {
      model.loadHead(headName, ck.resolve(RmStage.HEAD_FILE));
    } catch (RuntimeException e) {
      model.removeAdapter(adapterName);
      throw e;
    }
    return RmConfig.read(ck.resolve(RmConfig.FILE_NAME));
  }

  /** A scorer over a model the caller owns and has planned (see the class comment). */
  public static RewardScorer over(LlavaModel model, Tokenizer tokenizer, String adapter, String head, RmConfig config,
      int maxRows) {
    Preconditions.checkNotNull(model, "model");
    Preconditions.checkNotNull(tokenizer, "tokenizer");
    Preconditions.checkNotNull(config, "config");
    Preconditions.checkArgument(maxRows > 0, "maxRows must be > 0, got %s", maxRows);
    model.head(head); // fails naming it when absent
    return new RewardScorer(model.device(), model, tokenizer, false, adapter, head, config.facts(), config.maxLength(),
        maxRows);
  }

  private static Path checkpoint(Path checkpointOrRun) {
    Preconditions.checkNotNull(checkpointOrRun, "checkpoint");
    Path p = checkpointOrRun.toAbsolutePath().normalize();
    if (Files.isRegularFile(p.resolve(CheckpointStore.COMPLETE_FILE))) {
      return p;
    }
    if (RmStage.isRunFolder(p)) {
      return new CheckpointStore(p.resolve(RmStage.CHECKPOINTS_DIR)).latest().orElseThrow(() -> new FactRlException(
          p + ": a reward-model run without a complete checkpoint"));
    }
    throw new FactRlException(p + ": neither a reward-model checkpoint nor a reward-model run folder");
  }

  /** Whether the inputs carry facts (the checkpoint was trained with them). */
  public boolean usesFacts() {
    return facts;
  }

  public int maxLength() {
    return encoder.maxLength();
  }

  /** Rows per forward (requests are scored in chunks of this many). */
  public int maxRows() {
    return maxRows;
  }

  /** The model scored through (owned by this scorer after {@link #open}). */
  public LlavaModel model() {
    return model;
  }

  /** {@link #score(List, long)} with seed 0. */
  public float[] score(List<Request> requests) {
    return score(requests, 0);
  }

  /** One score per request, in order (see the class comment for the caption order). */
  public float[] score(List<Request> requests, long seed) {
    Preconditions.checkNotNull(requests, "requests");
    float[] out = new float[requests.size()];
    for (int from = 0; from < requests.size(); from += maxRows) {
      int to = Math.min(requests.size(), from + maxRows);
      List<TrainingExample> rows = new ArrayList<>(to - from);
      for (int i = from; i < to; i++) {
        Request r = requests.get(i);
        String id = "request " + i;
        if (facts && r.facts().isEmpty()) {
          throw new FactRlException(FactRlException.Status.ARGUMENT, "requests[" + i + "]: no facts, but this reward"
              + " model was trained with facts");
        }
        rows.add(encoder.encode(id, r.image(), r.prompt(), r.response(),
            facts ? Optional.of(r.facts()) : Optional.empty(), new SplitMix64(SplitMix64.mix(seed ^ SplitMix64.mix(i)))));
      }
      Batch b = batcher.batch(rows);
      int[] ends = new int[rows.size()];
      for (int i = 0; i < ends.length; i++) {
        ends[i] = rows.get(i).length() - 1;
      }
      ModelConfig mc = model.config();
      try (Tensor ids = device.fromInts(b.inputIds(), b.rows(), b.seq());
          Tensor images = b.imageRows() == 0 ? null : device.fromFloats(b.images(), b.imageRows(), mc.imageChannels(),
              mc.imageSize(), mc.imageSize());
          Tensor endIndex = device.fromInts(ends, b.rows());
          Tensor scores = model.score(adapter, head, new LlavaModel.Inputs(ids, images, null), endIndex, false)) {
        System.arraycopy(scores.toFloatArray(), 0, out, from, to - from);
      }
    }
    return out;
  }

  @Override
  public void close() {
    if (owns) {
      tokenizer.close();
      model.close();
      device.close();
    }
  }
}
