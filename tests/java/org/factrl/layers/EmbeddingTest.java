package org.factrl.layers;

import static org.factrl.layers.RmsNormTest.assertMessage;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
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
 * Token embedding against libtorch {@code embedding} with autograd (repeated ids sum their
 * gradients), accumulate, and id range errors. Forward is a copy (exact); dtable sums at most N rows
 * in another order: atol 1e-6·N.
 */
class EmbeddingTest {

  @ParameterizedTest(name = "B={0} S={1} V={2} d={3}")
  @CsvSource({"1,1,1,1", "2,5,3,7", "4,16,11,300", "1,40,5,64"})
  void matchesTorchEmbeddingWithAutograd(int b, int s, int v, int d) {
    float[] table = uniform(v * 13L + d, v * d, 1f);
    float[] g = uniform(v * 13L + d + 1, b * s * d, 1f);
    int[] ids = new int[b * s];
    long[] idsLong = new long[b * s];
    SplittableRandom r = new SplittableRandom(b * s);
    for (int i = 0; i < ids.length; i++) {
      ids[i] = r.nextInt(v);  // V small: ids repeat
      idsLong[i] = ids[i];
    }
    float[] out, dtable;
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor tt = Torch.tensor(table, true, v, d);
      org.bytedeco.pytorch.Tensor o = torch.embedding(tt, Torch.longTensor(idsLong, b, s));
      o.mul(Torch.tensor(g, b, s, d)).sum().backward();
      out = Torch.floats(o);
      dtable = Torch.floats(tt.grad());
    }
    try (Device cpu = Device.cpu();
        Tensor tt = cpu.fromFloats(table, v, d);
        Tensor it = cpu.fromInts(ids, b, s);
        Tensor ot = cpu.zeros(DType.F32, b, s, d);
        Tensor gt = cpu.fromFloats(g, b, s, d);
        Tensor dt = cpu.fromFloats(uniform(5, v * d, 9f), v, d)) {  // garbage: overwritten
      Embedding emb = Embedding.of(tt);
      emb.forward(it, ot);
      assertArrayEquals(out, ot.toFloatArray(), "out");
      emb.backward(it, gt, dt, GradMode.OVERWRITE);
      assertClose(dtable, dt.toFloatArray(), 1e-6 * b * s, 1e-6, "dtable");
      float[] g0 = uniform(6, v * d, 9f);
      dt.write(g0);
      emb.backward(it, gt, dt, GradMode.ACCUMULATE);
      assertClose(plus(g0, dtable), dt.toFloatArray(), 2e-6 * b * s + 1e-6, 1e-6, "dtable = G0 + oracle");
    }
  }

  @Test
  void badIdsAreRejectedBeforeAnythingIsWritten() {
    try (Device cpu = Device.cpu();
        Tensor table = cpu.fromFloats(uniform(1, 3 * 2, 1f), 3, 2);
        Tensor ok = cpu.fromInts(new int[] {0, 2}, 2);
        Tensor high = cpu.fromInts(new int[] {1, 3}, 2);
        Tensor low = cpu.fromInts(new int[] {-1, 0}, 2);
        Tensor floats = cpu.zeros(DType.F32, 2);
        Tensor out = cpu.fromFloats(new float[] {7, 7, 7, 7}, 2, 2);
        Tensor outBad = cpu.zeros(DType.F32, 2, 3)) {
      Embedding emb = Embedding.of(table);
      try (Tensor three = cpu.fromInts(new int[] {0, 1, 2}, 3)) {
        assertMessage(() -> emb.forward(three, table), "'out' must not be the same tensor as 'table'");
        assertMessage(() -> emb.backward(three, table, table, GradMode.OVERWRITE), "'dtable' must not be the same tensor as 'dout'");
      }
      assertMessage(() -> emb.forward(high, out), "ids[1] (flat index) = 3 is outside the vocabulary [0, 3)");
      assertArrayEquals(new float[] {7, 7, 7, 7}, out.toFloatArray(), "nothing written");
      assertMessage(() -> emb.forward(low, out), "ids[0] (flat index) = -1");
      assertMessage(() -> emb.forward(floats, out), "'ids'");
      assertMessage(() -> emb.forward(null, out), "'ids'");
      assertMessage(() -> emb.forward(ok, outBad), "'out' has shape [2, 3]");
      assertMessage(() -> emb.backward(high, out, table, GradMode.OVERWRITE), "ids[1]");
      assertMessage(() -> emb.backward(ok, outBad, table, GradMode.OVERWRITE), "'dout'");
      assertMessage(() -> emb.backward(ok, out, null, GradMode.OVERWRITE), "'dTable'");
      assertMessage(() -> Embedding.of(ok), "'table'");
    }
  }
}
