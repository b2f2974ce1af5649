package org.factrl.model;

import static org.factrl.engine.Native.check;
import static org.factrl.engine.Native.checkArgument;
import static org.factrl.engine.Native.checkNotNull;

import org.factrl.bindings.GenerateNative;
import org.factrl.bindings.GenerateNative.frl_generate_config;
import org.factrl.bindings.ModelNative.frl_model_inputs;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;

/**
 * Generation with a {@link LlavaModel} (DESIGN.md §1, native/include/factrl/generate.h): prefill of
 * right-padded prompts into a {@link KvCache}, the batched decode step, and whole sampled
 * generations in one native call (greedy / temperature / top-p, EOS, per-row seeded streams), with
 * the log-prob of every emitted token under the model's own distribution log_softmax(logits) — the
 * distribution PPO's scoring and training forwards compute, so old and new log-probs agree.
 *
 * <p>Cached = uncached: a decode step's logits equal {@link LlavaModel#forward}'s over the whole
 * sequence at the same position (bitwise on the CPU in the tests). The prefill runs the model's
 * forward, so the model needs a {@link LlavaModel#plan} covering the prompts' [B, S] and images.
 * Holds reusable native argument structs: close it when done. Not thread-safe.
 */
public final class Generator implements AutoCloseable {
  /** One call's outputs on the host: tokens and log-probs [B][maxNewTokens] (pad / 0 after a row's length). */
  public record Generation(int[][] tokens, float[][] logp, int[] lengths) {}

  private final LlavaModel model;
  private final frl_model_inputs nativeInputs = new frl_model_inputs();
  private final frl_generate_config nativeConfig = new frl_generate_config();
  private boolean closed;

  public Generator(LlavaModel model) {
    this.model = checkNotNull(model, "model");
  }

  public LlavaModel model() {
    return model;
  }

  private void checkOpen(KvCache cache) {
    if (closed) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "Generator is closed");
    }
    checkNotNull(cache, "cache");
    checkArgument(cache.model() == model, "cache", "was created for another model");
  }

  private frl_model_inputs inputs(LlavaModel.Inputs prompts) {
    checkNotNull(prompts, "prompts");
    checkArgument(prompts.targets() == null, "prompts", "must not hold targets (generation reads none)");
    return nativeInputs.input_ids(Native.handle(prompts.inputIds(), "prompts.inputIds"))
        .images(Native.handleOrNull(prompts.images(), "prompts.images")).targets(null);
  }

  /**
   * Runs the prompts (input ids I32 [B, S], right-padded; images as in {@link LlavaModel#forward})
   * under {@code adapter} ({@code null}: the base), caching each row's first {@code promptLengths[b]}
   * (I32 [B], 1..S) positions, and writes the logits of each row's last real token to
   * {@code lastLogits} (F32 [B, V], or null).
   */
  public void prefill(String adapter, KvCache cache, LlavaModel.Inputs prompts, Tensor promptLengths,
      Tensor lastLogits) {
    checkOpen(cache);
    frl_model_inputs in = inputs(prompts);
    cache.setBatch(0);
    check(GenerateNative.frl_model_prefill(model.handle(), adapter, cache.handle(), in,
        Native.handle(promptLengths, "promptLengths"), Native.handleOrNull(lastLogits, "lastLogits")));
    cache.setBatch((int) prompts.inputIds().dim(0));
  }

  /**
   * Feeds one token per row ({@code tokens} I32 [B], B = the prefill's batch) at position
   * lengths[b], appends it to the cache and writes the logits F32 [B, V] ({@code logits}, or null).
   * Rows with {@code active[b] = 0} (I32 [B], or null = all active) are skipped and their logits
   * row is left as it is. A full row (lengths[b] = maxLen) fails naming the row.
   */
  public void decodeStep(KvCache cache, Tensor tokens, Tensor active, Tensor logits) {
    checkOpen(cache);
    check(GenerateNative.frl_model_decode_step(model.handle(), cache.handle(), Native.handle(tokens, "tokens"),
        Native.handleOrNull(active, "active"), Native.handleOrNull(logits, "logits")));
  }

  /**
   * Prefill, then up to {@code config.maxNewTokens()} decode steps per row, into {@code outTokens}
   * (I32 [B, maxNewTokens]), {@code outLogp} (F32 [B, maxNewTokens], or null) and
   * {@code outLengths} (I32 [B], tokens emitted, EOS included). Every row needs
   * promptLengths[b] + maxNewTokens − 1 <= the cache's maxLen (else the row is named).
   */
  public void generate(String adapter, KvCache cache, LlavaModel.Inputs prompts, Tensor promptLengths,
      GenerateConfig config, Tensor outTokens, Tensor outLogp, Tensor outLengths) {
    checkOpen(cache);
    checkNotNull(config, "config");
    frl_model_inputs in = inputs(prompts);
    nativeConfig.max_new_tokens(config.maxNewTokens()).temperature(config.temperature()).top_p(config.topP())
        .eos_token_id(config.eosTokenId()).pad_token_id(config.padTokenId()).seed(config.seed());
    cache.setBatch(0);
    check(GenerateNative.frl_model_generate(model.handle(), adapter, cache.handle(), in,
        Native.handle(promptLengths, "promptLengths"), nativeConfig, Native.handle(outTokens, "outTokens"),
        Native.handleOrNull(outLogp, "outLogp"), Native.handle(outLengths, "outLengths")));
    cache.setBatch((int) prompts.inputIds().dim(0));
  }

  /** {@link #generate(String, KvCache, LlavaModel.Inputs, Tensor, GenerateConfig, Tensor, Tensor, Tensor)} with host prompt lengths and results. */
  public Generation generate(String adapter, KvCache cache, LlavaModel.Inputs prompts, int[] promptLengths,
      GenerateConfig config) {
    checkNotNull(promptLengths, "promptLengths");
    checkNotNull(config, "config");
    checkNotNull(prompts, "prompts");
    int b = (int) checkNotNull(prompts.inputIds(), "prompts.inputIds").dim(0);
    checkArgument(promptLengths.length == b, "promptLengths", "has %d entries for %d prompt rows",
        promptLengths.length, b);
    int t = config.maxNewTokens();
    Device dev = model.device();
    try (Tensor len = dev.fromInts(promptLengths, b);
        Tensor tokens = dev.zeros(DType.I32, b, t);
        Tensor logp = dev.zeros(DType.F32, b, t);
        Tensor lengths = dev.zeros(DType.I32, b)) {
      generate(adapter, cache, prompts, len, config, tokens, logp, lengths);
      int[] tok = tokens.toIntArray();
      float[] lp = logp.toFloatArray();
      int[][] tokRows = new int[b][];
      float[][] lpRows = new float[b][];
      for (int r = 0; r < b; r++) {
        tokRows[r] = java.util.Arrays.copyOfRange(tok, r * t, (r + 1) * t);
        lpRows[r] = java.util.Arrays.copyOfRange(lp, r * t, (r + 1) * t);
      }
      return new Generation(tokRows, lpRows, lengths.toIntArray());
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    nativeInputs.close();
    nativeConfig.close();
  }
}
