package org.factrl.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The oracle itself works: matmul and autograd give known answers. */
class TorchSmokeTest {
  @Test
  void matmulAndGradientMatchHandComputedValues() {
    try (PointerScope scope = new PointerScope()) {
      Tensor a = Torch.tensor(new float[] {1, 2, 3, 4}, true, 2, 2);
      Tensor b = Torch.tensor(new float[] {5, 6, 7, 8}, 2, 2);
      Tensor c = torch.matmul(a, b);
      assertArrayEquals(new float[] {19, 22, 43, 50}, Torch.floats(c));
      c.sum().backward();
      // d(sum(a b))/da[i][k] = sum_j b[k][j]
      assertArrayEquals(new float[] {11, 15, 11, 15}, Torch.floats(a.grad()));
    }
  }
}
