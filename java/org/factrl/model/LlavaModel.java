package org.factrl.model;

import static org.factrl.engine.Native.check;
import static org.factrl.engine.Native.checkArgument;
import static org.factrl.engine.Native.checkNotNull;

import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.factrl.bindings.ModelNative;
import org.factrl.bindings.ModelNative.frl_model;
import org.factrl.bindings.ModelNative.frl_model_config;
import org.factrl.bindings.ModelNative.frl_model_inputs;
import org.factrl.bindings.ModelNative.frl_model_memory;
import org.factrl.bindings.ModelNative.frl_model_outputs;
import org.factrl.bindings.ViewNative.frl_blob;
import org.factrl.engine.Device;
import org.factrl.engine.FactRlException;
import org.factrl.engine.Native;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.model.io.IfExists;

/**
 * The LLaVA model (DESIGN.md §2, native/include/factrl/model.h): ViT encoder → projector → LLaMA
 * decoder, one frozen base in one {@link ParameterBlob} (HF names) plus any number of named LoRA
 * adapter sets, each its own blob (PEFT names). Forward and backward are each one native call;
 * every call names the adapter set to apply, or {@code null} for the base alone (the reference
 * model, with no second copy of the weights).
 *
 * <p>Lifecycle: {@link #create} (zero weights) → {@link #initWeights} or {@link #loadBase} →
 * {@link #plan} for the largest batch → {@link #forward} / {@link #backward}. The blobs from
 * {@link #params()} and {@link #adapter} belong to the model: closing them does nothing, and they
 * become unusable when the model closes or the adapter set is removed. Views made from their
 * tensors must be closed first ({@link #close()} fails otherwise and the model stays open).
 *
 * <p>Named heads ({@link #addHead}: a reward or value head, d → 1, in its own small blob) are
 * applied to the final hidden states by {@link #score} / {@link #values}, with their backward in
 * {@link #headBackward}; {@link TrainableGrads} makes the gradient blobs of a {@link TrainableSet}
 * and its AdamW, and {@link MemoryReport} lists every byte the roles over this base hold.
 *
 * <p>Weights on disk: {@link #saveBase} / {@link #loadBase} write and read an HF-style folder
 * ({@value #WEIGHTS_FILE} + {@value ModelConfig#FILE_NAME}); {@link #saveAdapter} /
 * {@link #loadAdapter} a PEFT folder ({@code adapter_model.safetensors} + {@code adapter_config.json}).
 *
 * <pre>{@code
 * try (Device cpu = Device.cpu(); LlavaModel m = LlavaModel.create(cpu, ModelConfig.tiny())) {
 *   m.initWeights(seed, 0.02f);
 *   ParameterBlob lora = m.addAdapter("policy", LoraSpec.allDecoder(64, 16f), seed);
 *   m.plan(batch, seq, images, true);
 *   m.forward("policy", new LlavaModel.Inputs(ids, images, targets), new LlavaModel.Outputs(null, null, logp), true);
 *   m.backward(dLogp, null, null, EnumSet.noneOf(ParamGroup.class), loraGrads, GradMode.OVERWRITE);
 *   m.forward(null, ...);                       // the reference model: the same base, no adapter
 *   m.saveAdapter("policy", dir, IfExists.FAIL);
 * }
 * }</pre>
 *
 * <p>Same inputs and weights give bitwise the same outputs and gradients on the CPU, for any thread
 * count; a saved and reloaded model gives bitwise the same logits. Not thread-safe.
 */
public final class LlavaModel implements AutoCloseable {
  /** The base weights' file name in a checkpoint folder (HF's single-file name). */
  public static final String WEIGHTS_FILE = "model.safetensors";

  /** One forward's inputs (model.h's {@code frl_model_inputs}). */
  public record Inputs(Tensor inputIds, Tensor images, Tensor targets) {
    /**
     * @param inputIds I32 [B, S], required; each row holds 0 or exactly P image tokens
     * @param images F32 [Bi, C, H, W] (already normalised), one per image row in row order, or null
     * @param targets I32 [B, S], the token whose log-prob is read at each position, or null
     */
    public Inputs {
      checkNotNull(inputIds, "inputIds");
    }

    /** Text only, no targets. */
    public static Inputs of(Tensor inputIds) {
      return new Inputs(inputIds, null, null);
    }
  }

  /** One forward's outputs (model.h's {@code frl_model_outputs}): each null when not wanted; contiguous. */
  public record Outputs(Tensor logits, Tensor hidden, Tensor logp) {
    /**
     * @param logits F32 [B, S, V] or null
     * @param hidden F32 [B, S, d] (after the final norm) or null
     * @param logp F32 [B, S] (log softmax(logits)[targets]; needs targets) or null
     */
    public Outputs {}

    public static Outputs logits(Tensor logits) {
      return new Outputs(logits, null, null);
    }
  }

  private final Device device;
  private final ModelConfig config;
  private final ParameterBlob params;
  private final Map<String, ParameterBlob> adapters = new LinkedHashMap<>();
  private final HeadSet heads = new HeadSet(this);
  private long forwards;  // forward calls so far: a head pass's backward checks none came between
  private final frl_model_inputs nativeInputs = new frl_model_inputs();
  private final frl_model_outputs nativeOutputs = new frl_model_outputs();
  private frl_model handle;

  private LlavaModel(Device device, ModelConfig config, frl_model handle) {
    this.device = device;
    this.config = config;
    this.handle = handle;
    frl_blob blob = new frl_blob();
    check(ModelNative.frl_model_params(handle, blob));
    this.params = ParameterBlob.borrowed(device, blob);
  }

  /**
   * A model of shape {@code config} on {@code device}, with zero weights (the native side checks
   * every field again). On a CUDA device forward and backward run the CUDA kernels (F32 storage);
   * generation ({@link KvCache}) is CPU only and fails there with status UNAVAILABLE.
   */
  public static LlavaModel create(Device device, ModelConfig config) {
    checkNotNull(device, "device");
    checkNotNull(config, "config");
    frl_model out = new frl_model();
    try (frl_model_config c = toNative(config)) {
      check(ModelNative.frl_model_create(device.handle(), c, out));
    }
    try {
      return new LlavaModel(device, config, out);
    } catch (RuntimeException e) {
      ModelNative.frl_model_destroy(out);
      throw e;
    }
  }

  /** A model with the config and base weights of checkpoint folder {@code dir} (see {@link #saveBase}). */
  public static LlavaModel load(Device device, Path dir) {
    checkNotNull(device, "device");
    checkNotNull(dir, "dir");
    ModelConfig config = ModelConfig.read(dir.resolve(ModelConfig.FILE_NAME));
    LlavaModel model = create(device, config);
    try {
      model.loadBase(dir);
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  static frl_model_config toNative(ModelConfig c) {
    frl_model_config n = new frl_model_config();
    n.image_size(c.imageSize()).image_channels(c.imageChannels()).patch_size(c.patchSize())
        .vision_hidden(c.visionHidden()).vision_layers(c.visionLayers()).vision_heads(c.visionHeads())
        .vision_intermediate(c.visionIntermediate()).vision_feature_layer(c.visionFeatureLayer())
        .vision_layer_norm_eps(c.visionLayerNormEps()).projector(c.projector().code())
        .vocab_size(c.vocabSize()).hidden(c.hidden()).layers(c.layers()).heads(c.heads())
        .intermediate(c.intermediate()).max_positions(c.maxPositions()).rope_theta(c.ropeTheta())
        .rms_norm_eps(c.rmsNormEps()).image_token_id(c.imageTokenId());
    return n;
  }

  static ModelConfig fromNative(frl_model_config n) {
    return ModelConfig.builder()
        .imageSize(n.image_size()).imageChannels(n.image_channels()).patchSize(n.patch_size())
        .visionHidden(n.vision_hidden()).visionLayers(n.vision_layers()).visionHeads(n.vision_heads())
        .visionIntermediate(n.vision_intermediate()).visionFeatureLayer(n.vision_feature_layer())
        .visionLayerNormEps(n.vision_layer_norm_eps()).projector(Projector.values()[n.projector()])
        .vocabSize(n.vocab_size()).hidden(n.hidden()).layers(n.layers()).heads(n.heads())
        .intermediate(n.intermediate()).maxPositions(n.max_positions()).ropeTheta(n.rope_theta())
        .rmsNormEps(n.rms_norm_eps()).imageTokenId(n.image_token_id())
        .build();
  }

  /** The native handle (package-private: Generator and KvCache pass it on); throws once closed. */
  frl_model handle() {
    if (handle == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "LlavaModel (" + config.parameterCount()
          + " parameters) is closed");
    }
    return handle;
  }

  public ModelConfig config() {
    return config;
  }

  /** The config as the native model holds it (equal to {@link #config()}; read back for tests). */
  public ModelConfig nativeConfig() {
    try (frl_model_config out = new frl_model_config()) {
      check(ModelNative.frl_model_get_config(handle(), out));
      return fromNative(out);
    }
  }

  public Device device() {
    return device;
  }

  /**
   * The base parameter blob (owned by the model): HF names in model.h's order. Make gradient and
   * optimizer blobs with {@link ParameterBlob#likeThis()}.
   */
  public ParameterBlob params() {
    handle();
    return params;
  }

  /**
   * Random initialisation of the base from {@code seed} (deterministic): weights, embeddings,
   * positions and the class embedding N(0, initStd²), biases 0, norm weights 1.
   */
  public void initWeights(long seed, float initStd) {
    checkArgument(Float.isFinite(initStd) && initStd >= 0, "initStd", "must be finite and >= 0, got %s", initStd);
    check(ModelNative.frl_model_init_weights(handle(), seed, initStd));
  }

  // ---- adapter sets -------------------------------------------------------------------------

  /**
   * Adds LoRA adapter set {@code name} (unique, non-empty) of shape {@code spec}, initialised from
   * {@code seed} (A uniform ±1/√in, B zero: it starts as no change). Returns its blob (owned by the
   * model).
   */
  public ParameterBlob addAdapter(String name, LoraSpec spec, long seed) {
    checkNotNull(name, "name");
    checkNotNull(spec, "spec");
    checkArgument(!name.isEmpty(), "name", "is empty");
    checkArgument(!adapters.containsKey(name), "name", "an adapter set '%s' already exists", name);
    check(ModelNative.frl_model_add_adapter(handle(), name, spec.rank(), spec.alpha(), LoraTarget.bits(spec.targets()),
        seed));
    frl_blob blob = new frl_blob();
    try {
      check(ModelNative.frl_model_adapter(handle, name, blob));
      ParameterBlob wrapped = ParameterBlob.borrowed(device, blob);
      adapters.put(name, wrapped);
      return wrapped;
    } catch (RuntimeException e) {
      ModelNative.frl_model_remove_adapter(handle, name);
      throw e;
    }
  }

  /** The blob of adapter set {@code name} (owned by the model). */
  public ParameterBlob adapter(String name) {
    checkNotNull(name, "name");
    handle();
    ParameterBlob b = adapters.get(name);
    if (b == null) {
      throw new FactRlException(FactRlException.Status.ARGUMENT, "argument 'name': no adapter set '" + name
          + "' (have " + adapters.keySet() + ")");
    }
    return b;
  }

  /** Rank, alpha and targets of adapter set {@code name}, as the native model reports them. */
  public LoraSpec adapterSpec(String name) {
    checkNotNull(name, "name");
    try (IntPointer rank = new IntPointer(1); FloatPointer alpha = new FloatPointer(1);
        IntPointer targets = new IntPointer(1)) {
      check(ModelNative.frl_model_adapter_info(handle(), name, rank, alpha, targets));
      EnumSet<LoraTarget> set = EnumSet.noneOf(LoraTarget.class);
      for (LoraTarget t : LoraTarget.values()) {
        if ((targets.get() & t.bit()) != 0) {
          set.add(t);
        }
      }
      return new LoraSpec(rank.get(), alpha.get(), set);
    }
  }

  /** The adapter sets' names, in the order they were added (unmodifiable view). */
  public Set<String> adapterNames() {
    handle();
    return Collections.unmodifiableSet(adapters.keySet());
  }

  /** Removes adapter set {@code name}; its blob becomes unusable. Fails while views of its tensors are open. */
  public void removeAdapter(String name) {
    ParameterBlob b = adapter(name);
    check(ModelNative.frl_model_remove_adapter(handle(), name));
    adapters.remove(name);
    b.release("was removed from its model (adapter set '" + name + "')");
  }

  // ---- memory -------------------------------------------------------------------------------

  /**
   * Plans (and allocates) the activation arena for batches of up to {@code maxBatch} rows of up to
   * {@code maxSeq} tokens with up to {@code maxImages} images, keeping activations for the backward
   * when {@code train}. Replaces an earlier plan; larger batches then fail naming the plan.
   */
  public void plan(long maxBatch, long maxSeq, long maxImages, boolean train) {
    checkArgument(maxBatch > 0, "maxBatch", "must be > 0, got %d", maxBatch);
    checkArgument(maxSeq > 0, "maxSeq", "must be > 0, got %d", maxSeq);
    checkArgument(maxSeq <= config.maxPositions(), "maxSeq", "is %d, above max_positions %d", maxSeq,
        config.maxPositions());
    checkArgument(maxImages >= 0, "maxImages", "must be >= 0, got %d", maxImages);
    check(ModelNative.frl_model_plan(handle(), maxBatch, maxSeq, maxImages, train ? 1 : 0));
  }

  /**
   * What the native model holds now, in bytes; {@code total} is what {@link Device#bytesInUse()}
   * grows by without heads. The full plan (heads, grads, optimizer state, KV caches, roles):
   * {@link MemoryReport#builder}.
   */
  public MemoryPlan memoryPlan() {
    try (frl_model_memory m = new frl_model_memory()) {
      check(ModelNative.frl_model_memory_plan(handle(), m));
      return new MemoryPlan(m.base(), m.adapters(), m.arena(), m.workspace(), m.total());
    }
  }

  // ---- compute ------------------------------------------------------------------------------

  /**
   * One batch forward under adapter set {@code adapter} ({@code null}: the base alone). With
   * {@code train} the activations the {@link #backward} needs are kept. Shape and content errors
   * (a row with a wrong number of image tokens, more images than image rows, a batch beyond the
   * plan) fail naming the argument.
   */
  public void forward(String adapter, Inputs inputs, Outputs outputs, boolean train) {
    checkNotNull(inputs, "inputs");
    checkNotNull(outputs, "outputs");
    frl_model h = handle();
    if (adapter != null) {
      adapter(adapter);
    }
    nativeInputs.input_ids(Native.handle(inputs.inputIds(), "inputIds"))
        .images(Native.handleOrNull(inputs.images(), "images"))
        .targets(Native.handleOrNull(inputs.targets(), "targets"));
    nativeOutputs.logits(Native.handleOrNull(outputs.logits(), "logits"))
        .hidden(Native.handleOrNull(outputs.hidden(), "hidden"))
        .logp(Native.handleOrNull(outputs.logp(), "logp"));
    forwards++;
    check(ModelNative.frl_model_forward(h, adapter, nativeInputs, nativeOutputs, train ? 1 : 0));
  }

  /** Forward calls so far (a head pass's backward checks that no other forward came between). */
  long forwardCount() {
    return forwards;
  }

  /**
   * The backward of the last training forward (no other forward in between), under that forward's
   * adapter set: given d loss / d logp [B, S] and/or d loss / d hidden [B, S, d] (either may be
   * null), writes the gradients of the base groups {@code baseGroups} into {@code baseGrads} (a blob
   * like {@link #params()}, or null; other groups are left as they are) and of the adapter set into
   * {@code adapterGrads} (a blob like the adapter's, or null), overwriting or adding per {@code mode}.
   */
  public void backward(Tensor dLogp, Tensor dHidden, ParameterBlob baseGrads, Set<ParamGroup> baseGroups,
      ParameterBlob adapterGrads, GradMode mode) {
    checkNotNull(baseGroups, "baseGroups");
    checkNotNull(mode, "mode");
    checkArgument(baseGrads != null || baseGroups.isEmpty(), "baseGroups", "names %s but baseGrads is null",
        baseGroups);
    check(ModelNative.frl_model_backward(handle(), Native.handleOrNull(dLogp, "dLogp"),
        Native.handleOrNull(dHidden, "dHidden"), baseGrads == null ? null : baseGrads.handle("baseGrads"),
        ParamGroup.bits(baseGroups), adapterGrads == null ? null : adapterGrads.handle("adapterGrads"), mode.flag()));
  }

  // ---- vision tower alone -------------------------------------------------------------------

  /**
   * The vision tower alone on {@code images} F32 [Bi, C, H, W] (1 <= Bi <= the plan's maxImages):
   * returns new features F32 [Bi, P, Dv] (the caller closes them) — the output of the feature layer
   * with the class token dropped, bitwise what {@link #forward} hands the projector. With
   * {@code train} the activations for {@link #visionBackward} are kept (a training plan needed).
   * Counts as a forward: {@link #backward} cannot follow it.
   */
  public Tensor visionFeatures(Tensor images, boolean train) {
    checkNotNull(images, "images");
    long[] want = {-1, config.imageChannels(), config.imageSize(), config.imageSize()};
    long[] shape = images.shape();
    checkArgument(shape.length == 4 && shape[0] >= 1 && shape[1] == want[1] && shape[2] == want[2]
        && shape[3] == want[3], "images", "has shape %s, want [Bi >= 1, %d, %d, %d]",
        java.util.Arrays.toString(shape), want[1], want[2], want[3]);
    Tensor features = device.zeros(org.factrl.engine.DType.F32, shape[0], config.patchesPerImage(),
        config.visionHidden());
    try {
      visionFeatures(images, features, train);
    } catch (RuntimeException e) {
      features.close();
      throw e;
    }
    return features;
  }

  /** {@link #visionFeatures(Tensor, boolean)} into a caller's tensor F32 [Bi, P, Dv]. */
  public void visionFeatures(Tensor images, Tensor features, boolean train) {
    checkNotNull(images, "images");
    checkNotNull(features, "features");
    long bi = images.shape()[0];
    checkArgument(java.util.Arrays.equals(features.shape(),
        new long[] {bi, config.patchesPerImage(), config.visionHidden()}), "features",
        "has shape %s, want [Bi = %d, P = %d, Dv = %d]", java.util.Arrays.toString(features.shape()), bi,
        config.patchesPerImage(), config.visionHidden());
    forwards++;
    check(ModelNative.frl_model_vision_forward(handle(), Native.handle(images, "images"),
        Native.handle(features, "features"), train ? 1 : 0));
  }

  /**
   * The backward of the last {@code visionFeatures(.., train = true)} (no other forward in between):
   * given d loss / d features F32 [Bi, P, Dv], writes the vision group's gradients into
   * {@code baseGrads} (a blob like {@link #params()}; other groups are left as they are),
   * overwriting or adding per {@code mode}.
   */
  public void visionBackward(Tensor dFeatures, ParameterBlob baseGrads, GradMode mode) {
    checkNotNull(dFeatures, "dFeatures");
    checkNotNull(baseGrads, "baseGrads");
    checkNotNull(mode, "mode");
    long[] shape = dFeatures.shape();
    checkArgument(shape.length == 3 && shape[1] == config.patchesPerImage() && shape[2] == config.visionHidden(),
        "dFeatures", "has shape %s, want [Bi, P = %d, Dv = %d]", java.util.Arrays.toString(shape),
        config.patchesPerImage(), config.visionHidden());
    check(ModelNative.frl_model_vision_backward(handle(), Native.handle(dFeatures, "dFeatures"),
        baseGrads.handle("baseGrads"), mode.flag()));
  }

  // ---- heads --------------------------------------------------------------------------------

  /**
   * Adds head {@code name} (unique, non-empty) of {@code kind}: weight {@code [1, d]} and bias
   * {@code [1]} in their own small blob, zero-initialised (DESIGN.md §4: a reward head with zero
   * bias, a value head zero-initialised; set the weight through {@link Head#weight()} for another
   * start). Returns it (owned by the model).
   */
  public Head addHead(String name, HeadKind kind) {
    handle();
    return heads.add(name, kind);
  }

  /**
   * As {@link #addHead(String, HeadKind)} with the weight drawn N(0, weightStd²) from {@code seed}
   * (deterministic; bias 0), HF's {@code initializer_range} start for a sequence-classification
   * {@code score}. A zero weight passes no gradient to the hidden states (d h = g·w), so a reward
   * model trained as LoRA + head from a zero head moves only the head on its first step.
   */
  public Head addHead(String name, HeadKind kind, long seed, float weightStd) {
    checkArgument(Float.isFinite(weightStd) && weightStd >= 0, "weightStd", "must be finite and >= 0, got %s",
        weightStd);
    Head h = addHead(name, kind);
    java.util.Random r = new java.util.Random(seed);
    float[] w = new float[(int) h.width()];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * weightStd);
    }
    h.weight().write(w);
    return h;
  }

  /** Head {@code name} (owned by the model). */
  public Head head(String name) {
    handle();
    return heads.get(name);
  }

  /** The heads' names, in the order they were added (unmodifiable view). */
  public Set<String> headNames() {
    handle();
    return heads.names();
  }

  /** Removes and frees head {@code name}; its blob and tensors become unusable. */
  public void removeHead(String name) {
    handle();
    heads.remove(name);
  }

  /**
   * Writes head {@code name} to safetensors {@code file} (atomic): its two HF-named tensors
   * ({@code score.*} or {@code v_head.summary.*}, see {@link HeadKind}) and its kind in the
   * metadata. A head is a file of its own, not part of an adapter folder, because a head and an
   * adapter set are chosen independently per call (the value model starts from the reward model's
   * LoRA with a fresh head); keep it beside the adapter folder it was trained with.
   */
  public void saveHead(String name, Path file, IfExists ifExists) {
    handle();
    heads.save(name, file, ifExists);
  }

  /**
   * Adds head {@code name} from a file {@link #saveHead} wrote; its kind from the tensor names,
   * every name and shape checked before anything is read (errors name the file, the tensor and both
   * shapes; nothing is added).
   */
  public Head loadHead(String name, Path file) {
    handle();
    return heads.load(name, file);
  }

  /**
   * The reward model's pass: a forward under adapter set {@code adapter} ({@code null}: the base)
   * writing the final hidden states into the model's head scratch, then reward head {@code head} at
   * {@code endIndex} ({@code [B]} I32, see {@link org.factrl.kernels.RewardHead}). Returns the
   * scores, a new {@code [B]} F32 tensor the caller closes. With {@code train} the pass is kept for
   * {@link #headBackward}.
   */
  public Tensor score(String adapter, String head, Inputs inputs, Tensor endIndex, boolean train) {
    handle();
    return heads.score(adapter, head, inputs, endIndex, train);
  }

  /**
   * The value model's pass: a forward under {@code adapter}, then value head {@code head} at every
   * position where {@code mask} ({@code [B, S]} I32, or null: all) is nonzero. Returns the values,
   * a new {@code [B, S]} F32 tensor the caller closes (0 at masked positions).
   */
  public Tensor values(String adapter, String head, Inputs inputs, Tensor mask, boolean train) {
    handle();
    return heads.values(adapter, head, inputs, mask, train);
  }

  /**
   * The backward of the last {@link #score} or {@link #values} pass made with {@code train} (no
   * other forward in between): given d loss / d scores {@code [B]} or d loss / d values
   * {@code [B, S]}, writes the head's gradients into {@code headGrads} (a blob like
   * {@code head.params()}, or null) and passes d hidden to {@link #backward} for the base groups and
   * the pass's adapter set (as there). With no baseGrads and no adapterGrads the decoder's backward
   * is skipped: head-only training costs a forward and the head's kernels.
   */
  public void headBackward(Tensor dOut, ParameterBlob headGrads, ParameterBlob baseGrads, Set<ParamGroup> baseGroups,
      ParameterBlob adapterGrads, GradMode mode) {
    handle();
    heads.backward(dOut, headGrads, baseGrads, baseGroups, adapterGrads, mode);
  }

  /** The heads by name (for the memory plan). */
  Map<String, Head> headsByName() {
    return heads.all();
  }

  /** Bytes of the head passes' scratch (hidden states, d hidden, index copy) held now. */
  long headScratchBytes() {
    return heads.scratchBytes();
  }

  // ---- weights on disk ----------------------------------------------------------------------

  /**
   * Writes the base into folder {@code dir}: {@value #WEIGHTS_FILE} (every parameter, HF names, F32)
   * and {@value ModelConfig#FILE_NAME}, each atomically; with {@link IfExists#FAIL} nothing is
   * written when either exists.
   */
  public void saveBase(Path dir, IfExists ifExists) {
    handle();
    LlavaWeights.saveBase(this, dir, ifExists, false);
  }

  /**
   * As {@link #saveBase}, the weights stored as BF16 (rounded to nearest even; half the bytes: a
   * small pretrained base that can be committed). {@link #loadBase} widens them back to F32, so
   * the loaded model equals this one with every weight rounded to bf16.
   */
  public void saveBaseBf16(Path dir, IfExists ifExists) {
    handle();
    LlavaWeights.saveBase(this, dir, ifExists, true);
  }

  /**
   * Loads the base from folder {@code dir} (see {@link #saveBase}). Its config.json must equal this
   * model's config (else the differing fields are named), and every tensor must be there with this
   * model's shape (else the tensor and both shapes are named); everything is checked before any
   * weight changes.
   */
  public void loadBase(Path dir) {
    handle();
    LlavaWeights.loadBase(this, dir);
  }

  /** Writes adapter set {@code name} as a PEFT folder {@code dir} (r, lora_alpha, target_modules). */
  public void saveAdapter(String name, Path dir, IfExists ifExists) {
    adapter(name);
    LlavaWeights.saveAdapter(this, name, dir, ifExists);
  }

  /**
   * Adds adapter set {@code name} from a PEFT folder {@code dir}: rank, alpha and targets from its
   * adapter_config.json, weights from its safetensors, every module of the set present with its
   * shape (else the tensor and both shapes are named; nothing is added). Returns its blob.
   */
  public ParameterBlob loadAdapter(String name, Path dir) {
    checkNotNull(name, "name");
    handle();
    return LlavaWeights.loadAdapter(this, name, dir);
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  public boolean isClosed() {
    return handle == null;
  }

  /**
   * Frees the model, its parameters and adapter sets; their blobs become unusable. Throws and stays
   * open while views of their tensors are open. Closing twice is harmless.
   */
  @Override
  public void close() {
    if (handle == null) {
      return;
    }
    check(ModelNative.frl_model_destroy(handle));
    handle = null;
    heads.close();
    params.release("was freed with its model (LlavaModel closed)");
    for (Map.Entry<String, ParameterBlob> a : adapters.entrySet()) {
      a.getValue().release("was freed with its model (LlavaModel closed; adapter set '" + a.getKey() + "')");
    }
    adapters.clear();
    nativeInputs.close();
    nativeOutputs.close();
  }

  @Override
  public String toString() {
    return "LlavaModel(" + config.parameterCount() + " parameters, " + adapters.size() + " adapter sets"
        + ", " + heads.names().size() + " heads" + (handle == null ? ", closed" : "") + ") on " + device;
  }
}
