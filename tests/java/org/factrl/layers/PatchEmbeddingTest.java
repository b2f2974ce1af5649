package org.factrl.layers;

import static org.factrl.layers.RmsNormTest.assertMessage;
import static org.factrl.testing.Numerics.assertClose;
import static org.factrl.testing.Numerics.plus;
import static org.factrl.testing.Numerics.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.factrl.bindings.FactRlCore;
import org.factrl.bindings.VitEmbedNative;
import org.factrl.engine.DType;
import org.factrl.engine.Device;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;
import org.factrl.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ViT patch embedding (patchify → linear → class token + positions) against libtorch autograd
 * of {@code cat(cls, conv2d(image, W, b, stride=p).flatten(2).transpose(1, 2)) + pos}: out and the
 * gradients of image, conv weight, conv bias, cls and pos; the two native ops alone against plain
 * loops (bitwise: they only move and add values); each gradient output's mode with a pre-filled
 * random G0; image views; argument errors.
 *
 * <p>Tolerances (fp32, values |x| <= 1): a quantity summing k products gets atol 1e-6·k + rtol
 * 1e-4 (another summation order): out k = C·p·p, dimage k = D, dW and dbias k = B·P, dcls and dpos
 * k = B. With a G0 (|G0| <= 3) one more rounding: + 1e-6.
 */
class PatchEmbeddingTest {

  /** Sizes and data of one case. */
  private record Case(int b, int c, int h, int w, int p, int d, boolean bias) {
    int hp() {
      return h / p;
    }

    int np() {
      return (h / p) * (w / p);
    }

    int f() {
      return c * p * p;
    }

    float[] image() {
      return uniform(11, b * c * h * w, 1f);
    }

    float[] weight() {
      return uniform(12, d * f(), 1f);
    }

    float[] biasValues() {
      return uniform(13, d, 1f);
    }

    float[] cls() {
      return uniform(14, d, 1f);
    }

    float[] pos() {
      return uniform(15, (np() + 1) * d, 1f);
    }

    float[] upstream() {
      return uniform(16, b * (np() + 1) * d, 1f);
    }
  }

  /** {out, dimage, dW, dbias (or null), dcls, dpos} from libtorch. */
  private static float[][] oracle(Case k) {
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.Tensor image = Torch.tensor(k.image(), true, k.b, k.c, k.h, k.w);
      org.bytedeco.pytorch.Tensor w = Torch.tensor(k.weight(), true, k.d, k.c, k.p, k.p);
      org.bytedeco.pytorch.Tensor bias = k.bias ? Torch.tensor(k.biasValues(), true, k.d) : null;
      org.bytedeco.pytorch.Tensor cls = Torch.tensor(k.cls(), true, k.d);
      org.bytedeco.pytorch.Tensor pos = Torch.tensor(k.pos(), true, k.np() + 1, k.d);
      org.bytedeco.pytorch.Tensor conv = torch.conv2d(image, w, bias == null ? new TensorOptional() : new TensorOptional(bias),
          new long[] {k.p, k.p}, new long[] {0, 0}, new long[] {1, 1}, 1);
      org.bytedeco.pytorch.Tensor tokens = conv.flatten(2, -1).transpose(1, 2);  // [B, P, D]
      org.bytedeco.pytorch.Tensor out =
          torch.cat(new TensorVector(cls.reshape(1, 1, k.d).expand(k.b, 1, k.d), tokens), 1).add(pos.unsqueeze(0));
      out.mul(Torch.tensor(k.upstream(), k.b, k.np() + 1, k.d)).sum().backward();
      return new float[][] {Torch.floats(out), Torch.floats(image.grad()), Torch.floats(w.grad()),
          k.bias ? Torch.floats(bias.grad()) : null, Torch.floats(cls.grad()), Torch.floats(pos.grad())};
    }
  }

  /** The layer's tensors on one device. */
  private static final class Layer implements AutoCloseable {
    final Case k;
    final Tensor image, weight, bias, cls, pos, patches, proj, out, dout, dproj, dpatches;

    Layer(Device dev, Case k) {
      this.k = k;
      image = dev.fromFloats(k.image(), k.b, k.c, k.h, k.w);
      weight = dev.fromFloats(k.weight(), k.d, k.c, k.p, k.p);
      bias = k.bias ? dev.fromFloats(k.biasValues(), k.d) : null;
      cls = dev.fromFloats(k.cls(), k.d);
      pos = dev.fromFloats(k.pos(), k.np() + 1, k.d);
      patches = dev.zeros(DType.F32, k.b, k.np(), k.f());
      proj = dev.zeros(DType.F32, k.b, k.np(), k.d);
      out = dev.zeros(DType.F32, k.b, k.np() + 1, k.d);
      dout = dev.fromFloats(k.upstream(), k.b, k.np() + 1, k.d);
      dproj = dev.fromFloats(uniform(99, k.b * k.np() * k.d, 3f), k.b, k.np(), k.d);  // garbage: overwritten
      dpatches = dev.zeros(DType.F32, k.b, k.np(), k.f());
    }

    PatchEmbedding embedding() {
      return PatchEmbedding.of(weight, bias, cls, pos);
    }

    @Override
    public void close() {
      for (Tensor t : new Tensor[] {image, weight, bias, cls, pos, patches, proj, out, dout, dproj, dpatches}) {
        if (t != null) t.close();
      }
    }
  }

  @ParameterizedTest(name = "B={0} C={1} H={2} W={3} p={4} D={5} bias={6}")
  @CsvSource({"1,1,2,2,1,3,true", "2,3,8,8,4,5,true", "3,3,16,12,4,7,false", "2,3,16,16,8,16,true",
      "1,2,6,9,3,4,false"})
  void matchesTorchConvPlusClassTokenAndPositions(int b, int c, int h, int w, int p, int d, boolean withBias) {
    Case k = new Case(b, c, h, w, p, d, withBias);
    float[][] want = oracle(k);
    try (Device cpu = Device.cpu();
        Layer l = new Layer(cpu, k);
        Tensor dimage = cpu.fromFloats(uniform(20, b * c * h * w, 3f), b, c, h, w);  // garbage: overwritten
        Tensor dw = cpu.fromFloats(uniform(21, d * k.f(), 3f), d, c, p, p);
        Tensor db = withBias ? cpu.fromFloats(uniform(22, d, 3f), d) : null;
        Tensor dcls = cpu.fromFloats(uniform(23, d, 3f), d);
        Tensor dpos = cpu.fromFloats(uniform(24, (k.np() + 1) * d, 3f), k.np() + 1, d)) {
      PatchEmbedding emb = l.embedding();
      emb.forward(l.image, l.patches, l.proj, l.out);
      assertClose(want[0], l.out.toFloatArray(), 1e-6 * k.f(), 1e-4, "out");
      emb.backward(l.patches, l.dout, l.dproj, l.dpatches, dimage, GradMode.OVERWRITE, dw, db, dcls, dpos,
          GradMode.OVERWRITE);
      assertClose(want[1], dimage.toFloatArray(), 1e-6 * d, 1e-4, "dimage");
      assertClose(want[2], dw.toFloatArray(), 1e-6 * b * k.np(), 1e-4, "dW");
      if (withBias) assertClose(want[3], db.toFloatArray(), 1e-6 * b * k.np(), 1e-4, "dbias");
      assertClose(want[4], dcls.toFloatArray(), 1e-6 * b, 1e-4, "dcls");
      assertClose(want[5], dpos.toFloatArray(), 1e-6 * b, 1e-4, "dpos");
    }
    if (withBias) {
      try (Device cpu = Device.cpu(); Layer l = new Layer(cpu, k)) {
        // Without an image gradient (the usual case: pixels are inputs) dpatches is not needed.
        try (Tensor dw = cpu.zeros(DType.F32, d, c, p, p)) {
          PatchEmbedding emb = l.embedding();
          emb.forward(l.image, l.patches, l.proj, l.out);
          emb.backward(l.patches, l.dout, l.dproj, null, null, null, dw, null, null, null, GradMode.OVERWRITE);
          assertClose(want[2], dw.toFloatArray(), 1e-6 * b * k.np(), 1e-4, "dW without dimage");
        }
      }
    }
  }

  @Test
  void eachGradientOverwritesOrAddsToG0PerItsMode() {
    Case k = new Case(2, 3, 8, 12, 4, 6, true);
    float[][] want = oracle(k);
    int nImage = k.b * k.c * k.h * k.w, nW = k.d * k.f(), nPos = (k.np() + 1) * k.d;
    float[] g0Image = uniform(31, nImage, 3f), g0W = uniform(32, nW, 3f), g0B = uniform(33, k.d, 3f),
        g0Cls = uniform(34, k.d, 3f), g0Pos = uniform(35, nPos, 3f);
    try (Device cpu = Device.cpu();
        Layer l = new Layer(cpu, k);
        Tensor dimage = cpu.zeros(DType.F32, k.b, k.c, k.h, k.w);
        Tensor dw = cpu.zeros(DType.F32, k.d, k.c, k.p, k.p);
        Tensor db = cpu.zeros(DType.F32, k.d);
        Tensor dcls = cpu.zeros(DType.F32, k.d);
        Tensor dpos = cpu.zeros(DType.F32, k.np() + 1, k.d)) {
      PatchEmbedding emb = l.embedding();
      emb.forward(l.image, l.patches, l.proj, l.out);
      for (GradMode imageMode : GradMode.values()) {
        for (GradMode paramMode : GradMode.values()) {
          dimage.write(g0Image);
          dw.write(g0W);
          db.write(g0B);
          dcls.write(g0Cls);
          dpos.write(g0Pos);
          emb.backward(l.patches, l.dout, l.dproj, l.dpatches, dimage, imageMode, dw, db, dcls, dpos, paramMode);
          String m = " (image " + imageMode + ", params " + paramMode + ")";
          boolean ai = imageMode == GradMode.ACCUMULATE, ap = paramMode == GradMode.ACCUMULATE;
          assertClose(ai ? plus(g0Image, want[1]) : want[1], dimage.toFloatArray(), 1e-6 * k.d + 1e-6, 1e-4, "dimage" + m);
          assertClose(ap ? plus(g0W, want[2]) : want[2], dw.toFloatArray(), 1e-6 * k.b * k.np() + 1e-6, 1e-4, "dW" + m);
          assertClose(ap ? plus(g0B, want[3]) : want[3], db.toFloatArray(), 1e-6 * k.b * k.np() + 1e-6, 1e-4, "db" + m);
          assertClose(ap ? plus(g0Cls, want[4]) : want[4], dcls.toFloatArray(), 1e-6 * k.b + 1e-6, 1e-4, "dcls" + m);
          assertClose(ap ? plus(g0Pos, want[5]) : want[5], dpos.toFloatArray(), 1e-6 * k.b + 1e-6, 1e-4, "dpos" + m);
        }
      }
    }
  }

  /** patches[b, i, f] by the header's formula, from an image indexed through strides. */
  private static float[] patchifyLoop(float[] storage, long offset, long[] s, int b, int c, int h, int w, int p) {
    int wp = w / p, np = (h / p) * wp, f = c * p * p;
    float[] out = new float[b * np * f];
    for (int bi = 0; bi < b; bi++)
      for (int i = 0; i < np; i++)
        for (int ci = 0; ci < c; ci++)
          for (int ky = 0; ky < p; ky++)
            for (int kx = 0; kx < p; kx++) {
              int y = (i / wp) * p + ky, x = (i % wp) * p + kx;
              out[(bi * np + i) * f + (ci * p + ky) * p + kx] =
                  storage[(int) (offset + bi * s[0] + ci * s[1] + y * s[2] + x * s[3])];
            }
    return out;
  }

  @Test
  void patchifyReadsAnyImageViewAndItsBackwardIsTheInverseScatter() {
    int b = 2, c = 3, h = 6, w = 4, p = 2, np = 6, f = 12;
    try (Device cpu = Device.cpu()) {
      // Channels-last storage [B, H, W, C] seen as [B, C, H, W]: strides (H·W·C, 1, W·C, C).
      float[] hwc = uniform(41, b * h * w * c, 1f);
      long[] s = {h * w * c, 1, w * c, c};
      try (Tensor store = cpu.fromFloats(hwc, b, h, w, c);
          Tensor image = store.view(0, new long[] {b, c, h, w}, s);
          Tensor patches = cpu.zeros(DType.F32, b, np, f)) {
        PatchEmbedding.patchify(image, p, patches);
        float[] want = patchifyLoop(hwc, 0, s, b, c, h, w, p);
        assertArrayEquals(want, patches.toFloatArray(), "channels-last view");
        // The inverse: dimage from the same values reproduces the image (a permutation), exactly.
        try (Tensor dimage = cpu.fromFloats(uniform(42, b * c * h * w, 3f), b, c, h, w)) {
          PatchEmbedding.patchifyBackward(patches, p, dimage, GradMode.OVERWRITE);
          float[] got = dimage.toFloatArray();
          for (int bi = 0; bi < b; bi++)
            for (int ci = 0; ci < c; ci++)
              for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                  assertArrayEquals(new float[] {hwc[(int) (bi * s[0] + ci * s[1] + y * s[2] + x * s[3])]},
                      new float[] {got[((bi * c + ci) * h + y) * w + x]}, "dimage[" + bi + "," + ci + "," + y + "," + x + "]");
        }
      }
      // A column slice (narrow on W: strided rows) and a batch slice of a wider image.
      float[] wide = uniform(43, 3 * c * h * (w + 3), 1f);
      long[] sw = {c * h * (w + 3), h * (w + 3), w + 3, 1};
      try (Tensor store = cpu.fromFloats(wide, 3, c, h, w + 3);
          Tensor image = store.view(sw[0] + 2, new long[] {b, c, h, w}, sw);
          Tensor patches = cpu.zeros(DType.F32, b, np, f)) {
        PatchEmbedding.patchify(image, p, patches);
        assertArrayEquals(patchifyLoop(wide, sw[0] + 2, sw, b, c, h, w, p), patches.toFloatArray(), "sliced view");
      }
    }
  }

  @Test
  void assembleOpsMatchPlainLoopsBitwiseInBothModes() {
    int b = 3, np = 4, d = 5, s = np + 1;
    float[] proj = uniform(51, b * np * d, 1f), cls = uniform(52, d, 1f), pos = uniform(53, s * d, 1f);
    float[] g = uniform(54, b * s * d, 1f), g0 = uniform(55, b * np * d, 3f);
    float[] wantOut = new float[b * s * d], wantDproj = new float[b * np * d];
    float[] wantDpos = new float[s * d];
    for (int bi = 0; bi < b; bi++)
      for (int j = 0; j < s; j++)
        for (int k = 0; k < d; k++) {
          int e = (bi * s + j) * d + k;
          wantOut[e] = (j == 0 ? cls[k] : proj[(bi * np + j - 1) * d + k]) + pos[j * d + k];
          if (j > 0) wantDproj[(bi * np + j - 1) * d + k] = g[e];
        }
    for (int j = 0; j < s; j++)
      for (int k = 0; k < d; k++) {
        float acc = 0f;
        for (int bi = 0; bi < b; bi++) acc += g[(bi * s + j) * d + k];
        wantDpos[j * d + k] = acc;
      }
    float[] wantDcls = java.util.Arrays.copyOf(wantDpos, d);
    try (Device cpu = Device.cpu();
        Tensor tp = cpu.fromFloats(proj, b, np, d);
        Tensor tc = cpu.fromFloats(cls, d);
        Tensor tpos = cpu.fromFloats(pos, s, d);
        Tensor out = cpu.zeros(DType.F32, b, s, d);
        Tensor dout = cpu.fromFloats(g, b, s, d);
        Tensor dproj = cpu.fromFloats(g0, b, np, d);
        Tensor dcls = cpu.zeros(DType.F32, d);
        Tensor dpos = cpu.zeros(DType.F32, s, d)) {
      PatchEmbedding.assemble(tp, tc, tpos, out);
      assertArrayEquals(wantOut, out.toFloatArray(), "out");
      PatchEmbedding.assembleBackward(dout, dproj, GradMode.ACCUMULATE, dcls, dpos, GradMode.OVERWRITE);
      assertArrayEquals(plus(g0, wantDproj), dproj.toFloatArray(), "dproj = G0 + dout[:, 1:]");
      assertArrayEquals(wantDcls, dcls.toFloatArray(), "dcls");
      assertArrayEquals(wantDpos, dpos.toFloatArray(), "dpos");
      PatchEmbedding.assembleBackward(dout, dproj, GradMode.OVERWRITE, null, dpos, GradMode.ACCUMULATE);
      assertArrayEquals(wantDproj, dproj.toFloatArray(), "dproj overwritten");
      assertArrayEquals(plus(wantDpos, wantDpos), dpos.toFloatArray(), "dpos accumulated");
      PatchEmbedding.assembleBackward(dout, null, GradMode.OVERWRITE, dcls, null, GradMode.ACCUMULATE);
      assertArrayEquals(plus(wantDcls, wantDcls), dcls.toFloatArray(), "dcls alone, accumulated");
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    try (Device cpu = Device.cpu();
        Tensor image = cpu.zeros(DType.F32, 1, 3, 8, 8);
        Tensor odd = cpu.zeros(DType.F32, 1, 3, 8, 9);
        Tensor patches = cpu.zeros(DType.F32, 1, 4, 48);
        Tensor badPatches = cpu.zeros(DType.F32, 1, 4, 47);
        Tensor ints = cpu.zeros(DType.I32, 1, 3, 8, 8);
        Tensor proj = cpu.zeros(DType.F32, 1, 4, 5);
        Tensor cls = cpu.zeros(DType.F32, 5);
        Tensor pos = cpu.zeros(DType.F32, 5, 5);
        Tensor pos4 = cpu.zeros(DType.F32, 4, 5);
        Tensor out = cpu.zeros(DType.F32, 1, 5, 5);
        Tensor w = cpu.zeros(DType.F32, 5, 3, 4, 4)) {
      assertMessage(() -> PatchEmbedding.patchify(image, 0, patches), "'patch' must be >= 1");
      assertMessage(() -> PatchEmbedding.patchify(odd, 4, patches), "'image' has shape [1, 3, 8, 9]");
      assertMessage(() -> PatchEmbedding.patchify(image, 4, badPatches), "'patches' has shape [1, 4, 47]");
      assertMessage(() -> PatchEmbedding.patchify(ints, 4, patches), "'image'");
      assertMessage(() -> PatchEmbedding.patchify(null, 4, patches), "'image'");
      assertMessage(() -> PatchEmbedding.patchify(image, 4, null), "'patches'");
      assertMessage(() -> PatchEmbedding.patchifyBackward(patches, 4, image, null), "'mode'");
      assertMessage(() -> PatchEmbedding.patchifyBackward(badPatches, 4, image, GradMode.OVERWRITE), "'dpatches'");
      assertMessage(() -> PatchEmbedding.assemble(proj, cls, pos4, out), "'pos' has shape [4, 5]");
      assertMessage(() -> PatchEmbedding.assemble(proj, pos, pos, out), "'cls'");
      assertMessage(() -> PatchEmbedding.assemble(proj, cls, pos, proj), "'out'");
      assertMessage(() -> PatchEmbedding.assembleBackward(out, out, GradMode.OVERWRITE, null, null, GradMode.OVERWRITE),
          "'dproj'");
      assertMessage(() -> PatchEmbedding.assembleBackward(out, proj, GradMode.OVERWRITE, cls, out, GradMode.OVERWRITE),
          "'dpos'");
      assertMessage(() -> PatchEmbedding.of(w, null, cls, pos4).forward(image, patches, proj, out), "'pos'");
      assertMessage(() -> PatchEmbedding.of(w, cls, cls, null), "'pos'");
      assertMessage(() -> PatchEmbedding.of(w, pos, cls, pos), "'bias'");
      // Outputs must be contiguous: a strided view of patches is refused by name.
      try (Tensor wide = cpu.zeros(DType.F32, 1, 4, 50); Tensor strided = wide.narrow(2, 0, 48)) {
        assertMessage(() -> PatchEmbedding.patchify(image, 4, strided), "'patches'");
      }
      // Raw modes other than 0 / 1 (the Java enum cannot pass one) name their argument.
      org.bytedeco.javacpp.Loader.load(VitEmbedNative.class);
      assertEquals(1 /* FRL_ERR_ARGUMENT */,
          VitEmbedNative.frl_patchify_backward(cpu.handle(), patches.handle(), 4, image.handle(), 2));
      assertTrue(FactRlCore.frl_last_error().getString().contains("'mode'"));
      assertEquals(1 /* FRL_ERR_ARGUMENT */, VitEmbedNative.frl_vit_embed_assemble_backward(cpu.handle(),
          out.handle(), proj.handle(), null, null, -1, 0));
      assertTrue(FactRlCore.frl_last_error().getString().contains("'dproj_mode'"));
      assertEquals(1 /* FRL_ERR_ARGUMENT */, VitEmbedNative.frl_vit_embed_assemble_backward(cpu.handle(),
          out.handle(), proj.handle(), null, null, 0, 7));
      assertTrue(FactRlCore.frl_last_error().getString().contains("'dparam_mode'"));
    }
  }
}
