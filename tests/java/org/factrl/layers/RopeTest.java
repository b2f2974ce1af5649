package org.factrl.layers;

import static org.factrl.layers.RmsNormTest.assertMessage;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RoPE against Hugging Face's LLaMA formulation written in libtorch ({@code inv_freq = 1 /
 * base^(arange(0, D, 2) / D)}, {@code x·cos + rotate_half(x)·sin}) with autograd for the backward;
 * rotation identities; argument errors.
 *
 * <p>Tolerance (fp32): atol 2e-5 + rtol 1e-5 — angles up to p·1 with p < 512 carry fp32 rounding
 * of a few 1e-5 rad from pow/mul ordering differences between libm and libtorch.
 */
class RopeTest {

  /** {y, dx} from libtorch for x [B, S, H, D], positions [B, S], upstream g. */
  private static float[][] oracle(float[] x, int[] pos, float[] g, int b, int s, int h, int d, float base) {
    int half = d / 2;
    float[] exponents = new float[half];
    for (int i = 0; i < half; i++) {
      exponents[i] = 2f * i / d;
    }
    float[] p = new float[pos.length];
    for (int i = 0; i < pos.length; i++) {
      p[i] = pos[i];
    }
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor invFreq = torch.pow(new Scalar(base), Torch.tensor(exponents, half)).reciprocal();
      org.bytedeco.pytorch.Tensor phi = Torch.tensor(p, b, s, 1, 1).mul(invFreq.reshape(1, 1, 1, half));
      org.bytedeco.pytorch.Tensor emb = torch.cat(new TensorVector(phi, phi), 3);
      org.bytedeco.pytorch.Tensor xt = Torch.tensor(x, true, b, s, h, d);
      org.bytedeco.pytorch.Tensor x1 = xt.narrow(3, 0, half);
      org.bytedeco.pytorch.Tensor x2 = xt.narrow(3, half, half);
      org.bytedeco.pytorch.Tensor rotated = torch.cat(new TensorVector(x2.neg(), x1), 3);
      org.bytedeco.pytorch.Tensor y = xt.mul(emb.cos()).add(rotated.mul(emb.sin()));
      y.mul(Torch.tensor(g, b, s, h, d)).sum().backward();
      return new float[][] {Torch.floats(y), Torch.floats(xt.grad())};
    }
  }

  @ParameterizedTest(name = "B={0} S={1} H={2} D={3} base={4}")
  @CsvSource({"1,1,1,2,10000", "2,5,3,8,10000", "1,7,2,64,10000", "3,4,1,6,500000", "2,3,4,126,10000"})
  void matchesHuggingFaceFormulaInTorch(int b, int s, int h, int d, float base) {
    float[] x = uniform(b * 100L + s * 10L + d, b * s * h * d, 1f);
    float[] g = uniform(b * 100L + s * 10L + d + 1, b * s * h * d, 1f);
    int[] pos = new int[b * s];
    SplittableRandom r = new SplittableRandom(d);
    for (int i = 0; i < pos.length; i++) {
      pos[i] = r.nextInt(512);  // offsets as after a KV cache: not 0..S-1
    }
    float[][] want = oracle(x, pos, g, b, s, h, d, base);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, b, s, h, d);
        Tensor pt = cpu.fromInts(pos, b, s);
        Tensor y = cpu.zeros(DType.F32, b, s, h, d);
        Tensor gt = cpu.fromFloats(g, b, s, h, d);
        Tensor dx = cpu.zeros(DType.F32, b, s, h, d)) {
      Rope rope = Rope.withBase(base);
      rope.forward(xt, pt, y);
      rope.backward(gt, pt, dx, GradMode.OVERWRITE);
      assertClose(want[0], y.toFloatArray(), 2e-5, 1e-5, "y");
      assertClose(want[1], dx.toFloatArray(), 2e-5, 1e-5, "dx");
      float[] g0 = uniform(b * 100L + s * 10L + d + 2, b * s * h * d, 3f);
      dx.write(g0);
      rope.backward(gt, pt, dx, GradMode.ACCUMULATE);
      assertClose(plus(g0, want[1]), dx.toFloatArray(), 3e-5, 1e-5, "dx = G0 + oracle");
    }
  }

  @Test
  void positionZeroIsIdentityAndBackwardInvertsForwardInPlace() {
    float[] x = uniform(42, 2 * 3 * 2 * 4, 1f);
    try (Device cpu = Device.cpu();
        Tensor xt = cpu.fromFloats(x, 2, 3, 2, 4);
        Tensor zeros = cpu.fromInts(new int[6], 2, 3);
        Tensor pos = cpu.fromInts(new int[] {0, 1, 2, 7, 8, 300}, 2, 3);
        Tensor y = cpu.zeros(DType.F32, 2, 3, 2, 4)) {
      Rope rope = Rope.withBase(Rope.DEFAULT_BASE);
      rope.forward(xt, zeros, y);
      assertArrayEquals(x, y.toFloatArray(), "position 0 rotates by 0");
      rope.forward(xt, pos, xt);
      rope.backward(xt, pos, xt, GradMode.OVERWRITE);
      assertArrayEquals(x, xt.toFloatArray(), 1e-6f, "R(-φ) R(φ) = I");
    }
  }

  @Test
  void handComputedOneRadianTurn() {
    // D = 2: θ_0 = base^0 = 1, so position 1 rotates the pair (x0, x1) = (1, 0) by 1 radian.
    try (Device cpu = Device.cpu();
        Tensor x = cpu.fromFloats(new float[] {1, 0}, 1, 1, 1, 2);
        Tensor pos = cpu.fromInts(new int[] {1}, 1, 1);
        Tensor y = cpu.zeros(DType.F32, 1, 1, 1, 2)) {
      Rope.withBase(10000f).forward(x, pos, y);
      assertArrayEquals(new float[] {(float) Math.cos(1), (float) Math.sin(1)}, y.toFloatArray(), 1e-7f);
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor x = cpu.zeros(DType.F32, 1, 2, 1, 4);
        Tensor odd = cpu.zeros(DType.F32, 1, 2, 1, 3);
        Tensor flat = cpu.zeros(DType.F32, 2, 4);
        Tensor pos = cpu.fromInts(new int[] {0, 1}, 1, 2);
        Tensor negative = cpu.fromInts(new int[] {0, -3}, 1, 2);
        Tensor posWrong = cpu.fromInts(new int[] {0, 1, 2}, 1, 3);
        Tensor posFloat = cpu.zeros(DType.F32, 1, 2)) {
      Rope rope = Rope.withBase(10000f);
      assertMessage(() -> Rope.withBase(0f), "'base'");
      assertMessage(() -> Rope.withBase(Float.POSITIVE_INFINITY), "'base'");
      assertMessage(() -> rope.forward(null, pos, x), "'x'");
      assertMessage(() -> rope.forward(x, null, x), "'positions'");
      assertMessage(() -> rope.forward(x, pos, null), "'y'");
      assertMessage(() -> rope.forward(flat, pos, flat), "'x' has shape [2, 4]");
      assertMessage(() -> rope.forward(odd, pos, odd), "even D");
      assertMessage(() -> rope.forward(x, posWrong, x), "'positions' has shape [1, 3]");
      assertMessage(() -> rope.forward(x, posFloat, x), "'positions'");
      assertMessage(() -> rope.forward(x, negative, x), "positions[0][1] = -3");
      assertMessage(() -> rope.forward(x, pos, odd), "'y'");
      assertMessage(() -> rope.backward(x, pos, null, GradMode.OVERWRITE), "'dx'");
    }
  }
}
