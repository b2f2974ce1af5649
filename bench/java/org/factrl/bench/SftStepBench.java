package org.factrl.bench;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.ParameterBlob;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.model.LlavaModel;
import org.factrl.model.ModelConfig;
import org.factrl.model.ParamGroup;
import org.factrl.model.TorchLlavaConfig;
import org.factrl.model.TorchLlavaReference;
import org.factrl.train.AdamW;
import org.factrl.train.AdamWConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One SFT training step of the {@code tiny} preset (full fine-tuning: every base parameter) in
 * FactRL's native model beside the libtorch reference of the same model
 * ({@link TorchLlavaReference}, F32 autograd), same weights, same batch, same thread count
 * (FactRL's OpenMP threads; libtorch's set to the same).
 *
 * <p>The batch: {@code rows} conversations of {@code seq} tokens, each {@code BOS, 64 image
 * tokens, user text, SEP, assistant text, EOS} right-padded (lengths vary by row), one 64×64 image
 * per row. The loss is the mean NLL over assistant tokens, d loss / d logp = −mask / n.
 *
 * <p>Pairs (BenchMain prints time(torch) / time(factrl)):
 * <ul>
 *   <li>{@code Forward}: the training forward alone (FactRL keeps activations; libtorch builds the
 *       graph), logp out;
 *   <li>{@code ForwardBackward}: forward + backward, gradients of every base weight;
 *   <li>{@code Step}: forward + backward + AdamW (FactRL's {@link AdamW}; libtorch's
 *       {@code torch::optim::AdamW}, the same hyperparameters: lr 1e-4, betas 0.9/0.999, eps 1e-8,
 *       weight decay 0.01 on every tensor);
 *   <li>{@code Optimizer}: the AdamW update alone, on the last backward's gradients.
 * </ul>
 * Neither side copies logits or hidden states out. {@code bin/factrl bench -f 1 -wi 3 -i 5 SftStepBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class SftStepBench {
  @Param({"8"})
  public int rows;

  @Param({"96"})
  public int seq;

  static final int BOS = 1, SEP = 2, EOS = 3, PAD = 0;
  static final double LR = 1e-4;

  private Device cpu;
  private LlavaModel model;
  private ParameterBlob grads;
  private AdamW adamw;
  private Tensor ids, targets, images, logp, dLogp;
  private LlavaModel.Inputs inputs;
  private LlavaModel.Outputs outputs;

  private TorchLlavaReference reference;
  private org.bytedeco.pytorch.AdamW torchAdamW;
  private PointerScope torchScope;
  private int[][] idRows, targetRows;
  private float[] pixels, dLogpValues;

  /** The reference's config with the fields of {@code c}. */
  static TorchLlavaConfig torchConfig(ModelConfig c) {
    return TorchLlavaConfig.builder()
        .imageSize(c.imageSize()).imageChannels(c.imageChannels()).patchSize(c.patchSize())
        .visionHidden(c.visionHidden()).visionLayers(c.visionLayers()).visionHeads(c.visionHeads())
        .visionIntermediate(c.visionIntermediate()).visionFeatureLayer(c.visionFeatureLayer())
        .visionLayerNormEps(c.visionLayerNormEps())
        .projector(c.projector() == org.factrl.model.Projector.LINEAR ? TorchLlavaConfig.Projector.LINEAR
            : TorchLlavaConfig.Projector.MLP2X_GELU)
        .vocabSize(c.vocabSize()).hidden(c.hidden()).layers(c.layers()).heads(c.heads())
        .intermediate(c.intermediate()).maxPositions(c.maxPositions()).ropeTheta(c.ropeTheta())
        .rmsNormEps(c.rmsNormEps()).imageTokenId(c.imageTokenId())
        .build();
  }

  @Setup
  public void setup() {
    ModelConfig c = ModelConfig.tiny();
    TorchLlavaConfig tc = torchConfig(c);
    int p = c.patchesPerImage();
    SplittableRandom r = new SplittableRandom(12);
    idRows = new int[rows][seq];
    targetRows = new int[rows][seq];
    float[] mask = new float[rows * seq];
    int counted = 0;
    for (int row = 0; row < rows; row++) {
      List<Integer> t = new ArrayList<>();
      t.add(BOS);
      for (int i = 0; i < p; i++) {
        t.add(c.imageTokenId());
      }
      int room = seq - t.size() - 2;  // SEP and EOS
      int user = Math.max(1, room / 3 - (row % 4));
      int assistant = Math.max(1, room - user - (row % 5));
      for (int i = 0; i < user; i++) {
        t.add(text(r, c));
      }
      t.add(SEP);
      int assistantStart = t.size();
      for (int i = 0; i < assistant; i++) {
        t.add(text(r, c));
      }
      t.add(EOS);
      for (int i = 0; i < seq; i++) {
        idRows[row][i] = i < t.size() ? t.get(i) : PAD;
        targetRows[row][i] = i + 1 < t.size() ? t.get(i + 1) : PAD;
        if (i + 1 >= assistantStart && i + 1 < t.size()) {
          mask[row * seq + i] = 1;
          counted++;
        }
      }
    }
    dLogpValues = new float[rows * seq];
    for (int i = 0; i < dLogpValues.length; i++) {
      dLogpValues[i] = -mask[i] / counted;
    }
    pixels = new float[rows * c.imageChannels() * c.imageSize() * c.imageSize()];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (float) (r.nextDouble() * 2 - 1);
    }
    Map<String, float[]> base = TorchLlavaReference.randomBase(tc, 5);

    int threads = GemmBench.ompThreads();
    torch.set_num_threads(threads);

    cpu = Device.cpu();
    model = LlavaModel.create(cpu, c);
    for (Map.Entry<String, float[]> e : base.entrySet()) {
      model.params().tensor(e.getKey()).write(e.getValue());
    }
    model.plan(rows, seq, rows, true);
    grads = model.params().likeThis();
    AdamWConfig opt = AdamWConfig.builder().lr(LR).weightDecay(0.01).build();
    adamw = AdamW.over(opt, model.params(), grads);
    ids = cpu.fromInts(flat(idRows), rows, seq);
    targets = cpu.fromInts(flat(targetRows), rows, seq);
    images = cpu.fromFloats(pixels, rows, c.imageChannels(), c.imageSize(), c.imageSize());
    logp = cpu.zeros(DType.F32, rows, seq);
    dLogp = cpu.fromFloats(dLogpValues, rows, seq);
    inputs = new LlavaModel.Inputs(ids, images, targets);
    outputs = new LlavaModel.Outputs(null, null, logp);

    reference = new TorchLlavaReference(tc, base, null, TorchLlavaReference.Precision.F32);
    torchScope = new PointerScope();
    TensorVector leaves = new TensorVector();
    for (String name : reference.shapes().keySet()) {
      leaves.push_back(reference.leaf(name));
    }
    AdamWOptions o = new AdamWOptions(LR);
    o.betas().put(0, 0.999).put(1, 0.9);  // std::tuple<double, double> lies last element first
    o.eps().put(1e-8);
    o.weight_decay().put(0.01);
    torchAdamW = new org.bytedeco.pytorch.AdamW(leaves, o);
    // One backward each, so that the optimizer-alone pair finds gradients (libtorch's AdamW skips
    // parameters without one).
    factrlForwardBackward();
    torchForwardBackward();
    System.out.printf("%n[SftStepBench] tiny: %d parameters, batch %d x %d (%d image tokens/row, %d counted), "
        + "threads %d (factrl OpenMP, torch.get_num_threads()=%d), cpu isa %s%n", c.parameterCount(), rows, seq, p,
        counted, threads, torch.get_num_threads(), Device.cpuIsa());
  }

  private static int text(SplittableRandom r, ModelConfig c) {
    int id;
    do {
      id = 5 + r.nextInt(c.vocabSize() - 5);
    } while (id == c.imageTokenId());
    return id;
  }

  private static int[] flat(int[][] m) {
    int[] out = new int[m.length * m[0].length];
    for (int i = 0; i < m.length; i++) {
      System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
    }
    return out;
  }

  @TearDown
  public void tearDown() {
    for (Tensor t : new Tensor[] {ids, targets, images, logp, dLogp}) {
      t.close();
    }
    adamw.close();
    grads.close();
    model.close();
    cpu.close();
    torchAdamW.close();
    torchScope.close();
    reference.close();
  }

  @Benchmark
  public Tensor factrlForward() {
    model.forward(null, inputs, outputs, true);
    return logp;
  }

  @Benchmark
  public Object torchForward() {
    return reference.forward(idRows, pixels, targetRows, false);
  }

  @Benchmark
  public ParameterBlob factrlForwardBackward() {
    model.forward(null, inputs, outputs, true);
    model.backward(dLogp, null, grads, EnumSet.allOf(ParamGroup.class), null, GradMode.OVERWRITE);
    return grads;
  }

  @Benchmark
  public Object torchForwardBackward() {
    reference.forward(idRows, pixels, targetRows, false);
    reference.backward(dLogpValues, null);
    return reference;
  }

  /** AdamW alone on the gradients of the last backward (the optimizer's share of a step). */
  @Benchmark
  public ParameterBlob factrlOptimizer() {
    adamw.step();
    return grads;
  }

  @Benchmark
  public Object torchOptimizer() {
    try (PointerScope scope = new PointerScope()) {
      torchAdamW.step();
    }
    return reference;
  }

  @Benchmark
  public ParameterBlob factrlStep() {
    model.forward(null, inputs, outputs, true);
    model.backward(dLogp, null, grads, EnumSet.allOf(ParamGroup.class), null, GradMode.OVERWRITE);
    adamw.step();
    return grads;
  }

  @Benchmark
  public Object torchStep() {
    reference.forward(idRows, pixels, targetRows, false);
    reference.backward(dLogpValues, null);
    try (PointerScope scope = new PointerScope()) {
      torchAdamW.step();
    }
    return reference;
  }
}
