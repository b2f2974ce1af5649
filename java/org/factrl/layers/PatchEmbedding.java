package org.factrl.layers;

import static org.factrl.engine.Native.check;
import static org.factrl.layers.Handles.optional;
import static org.factrl.layers.Handles.required;

import org.factrl.bindings.VitEmbedNative;
import org.factrl.engine.Native;
import org.factrl.engine.Tensor;
import org.factrl.kernels.GradMode;

/**
 * The ViT's patch embedding (CLIP-style): a convolution with kernel = stride = p, a class token and
 * learned positions, computed as patchify → one GEMM over patches ({@link Linear}) → assemble.
 *
 * <pre>
 *   patches[b, i, f] = image[b, c, py·p + ky, px·p + kx]     i = py·(W/p) + px, f = (c·p + ky)·p + kx
 *   proj             = patches · Wᵀ + bias                  W = convWeight [D, C, p, p] seen as [D, C·p·p]
 *   out[b, 0]        = cls + pos[0]                          out[b, 1+i] = proj[b, i] + pos[1+i]
 * </pre>
 *
 * which equals {@code cat(cls, conv2d(image, W, bias, stride=p).flatten(2).transpose(1, 2)) + pos}.
 * Backward: {@code dcls = Σ_b dout[b, 0]}, {@code dpos = Σ_b dout[b]}, the linear's dW / dbias over
 * the patches, and (optionally) {@code dimage}, the inverse scatter of the patches' gradient.
 *
 * <p>Shapes: image {@code [B, C, H, W]} (H and W multiples of p; any view: its strides are read as
 * given), patches {@code [B, P, C·p·p]}, proj {@code [B, P, D]}, out {@code [B, P+1, D]} with
 * {@code P = (H/p)·(W/p)}. Buffers are the caller's (llm.c style: planned once, e.g. in an arena).
 * F32 on the CPU; on CUDA the patchify and assemble ops take F32 or BF16 (the linear layer is
 * CPU-only for now). The static ops are the layer's two native kernels, usable alone. Instances are
 * immutable; the parameter tensors stay owned by the caller.
 */
public final class PatchEmbedding {
  private final int patch;
  private final Tensor convWeight;
  private final Tensor bias;
  private final Tensor cls;
  private final Tensor pos;

  private PatchEmbedding(int patch, Tensor convWeight, Tensor bias, Tensor cls, Tensor pos) {
    this.patch = patch;
    this.convWeight = convWeight;
    this.bias = bias;
    this.cls = cls;
    this.pos = pos;
  }

  /**
   * A patch embedding with the conv weight {@code [D, C, p, p]} (HF's {@code patch_embedding.weight};
   * contiguous), an optional conv bias {@code [D]} (CLIP has none), the class token {@code [D]} and
   * positions {@code [P+1, D]}.
   */
  public static PatchEmbedding of(Tensor convWeight, Tensor bias, Tensor cls, Tensor pos) {
    Native.checkNotNull(convWeight, "convWeight");
    Native.checkArgument(convWeight.ndim() == 4 && convWeight.dim(2) == convWeight.dim(3), "convWeight",
        "must be [D, C, p, p], got shape %s", java.util.Arrays.toString(convWeight.shape()));
    Native.checkArgument(convWeight.dim(2) >= 1 && convWeight.dim(2) <= Integer.MAX_VALUE, "convWeight",
        "patch size must be in [1, 2^31), got %d", convWeight.dim(2));
    long d = convWeight.dim(0);
    Native.checkArgument(bias == null || (bias.ndim() == 1 && bias.dim(0) == d), "bias", "must be [%d]", d);
    Native.checkNotNull(cls, "cls");
    Native.checkArgument(cls.ndim() == 1 && cls.dim(0) == d, "cls", "must be [%d], got shape %s", d,
        java.util.Arrays.toString(cls.shape()));
    Native.checkNotNull(pos, "pos");
    Native.checkArgument(pos.ndim() == 2 && pos.dim(1) == d && pos.dim(0) >= 1, "pos", "must be [P+1, %d], got shape %s",
        d, java.util.Arrays.toString(pos.shape()));
    return new PatchEmbedding((int) convWeight.dim(2), convWeight, bias, cls, pos);
  }

  public int patch() {
    return patch;
  }

  public Tensor convWeight() {
    return convWeight;
  }

  public Tensor bias() {
    return bias;
  }

  public Tensor cls() {
    return cls;
  }

  public Tensor pos() {
    return pos;
  }

  /** image → patches → proj (the conv as a GEMM) → out with the class token and positions. */
  public void forward(Tensor image, Tensor patches, Tensor proj, Tensor out) {
    patchify(image, patch, patches);
    try (Tensor w = flatWeight(convWeight, "convWeight")) {
      Linear.of(w, bias).forward(patches, proj);
    }
    assemble(proj, cls, pos, out);
  }

  /**
   * Backward from {@code dout [B, P+1, D]}: {@code dproj [B, P, D]} is required scratch (its old
   * contents are overwritten); {@code dWeight [D, C, p, p]}, {@code dBias}, {@code dCls},
   * {@code dPos} may each be null and follow {@code paramMode}. The image gradient is computed when
   * {@code dimage} is given, and then needs {@code dpatches [B, P, C·p·p]} as scratch.
   */
  public void backward(Tensor patches, Tensor dout, Tensor dproj, Tensor dpatches, Tensor dimage, GradMode dimageMode,
      Tensor dWeight, Tensor dBias, Tensor dCls, Tensor dPos, GradMode paramMode) {
    Native.checkNotNull(paramMode, "paramMode");
    Native.checkArgument(dBias == null || bias != null, "dBias", "given, but the layer has no bias");
    Native.checkArgument(dimage == null || dpatches != null, "dpatches", "is required when dimage is given");
    if (dimage != null) Native.checkNotNull(dimageMode, "dimageMode");
    assembleBackward(dout, dproj, GradMode.OVERWRITE, dCls, dPos, paramMode);
    try (Tensor w = flatWeight(convWeight, "convWeight");
        Tensor dw = dWeight == null ? null : flatWeight(dWeight, "dWeight")) {
      Linear.of(w, bias).backward(patches, dproj, dimage == null ? null : dpatches, GradMode.OVERWRITE, dw, dBias,
          paramMode);
    }
    if (dimage != null) patchifyBackward(dpatches, patch, dimage, dimageMode);
  }

  private static Tensor flatWeight(Tensor w, String name) {
    Native.checkArgument(w.ndim() == 4, name, "must be [D, C, p, p], got shape %s", java.util.Arrays.toString(w.shape()));
    return w.reshape(w.dim(0), w.dim(1) * w.dim(2) * w.dim(3));
  }

  // ---- the two native ops ------------------------------------------------------------------

  /** {@code patches[b, i, f] = image[b, c, py·p + ky, px·p + kx]}; image may be any view. */
  public static void patchify(Tensor image, int patch, Tensor patches) {
    Tensor im = Native.checkNotNull(image, "image");
    check(VitEmbedNative.frl_patchify(im.device().handle(), im.handle("image"), patch, required(patches, "patches")));
  }

  /** {@code dimage (=|+=) the inverse scatter of dpatches}; dimage contiguous {@code [B, C, H, W]}. */
  public static void patchifyBackward(Tensor dpatches, int patch, Tensor dimage, GradMode mode) {
    Tensor dp = Native.checkNotNull(dpatches, "dpatches");
    Native.checkNotNull(mode, "mode");
    check(VitEmbedNative.frl_patchify_backward(dp.device().handle(), dp.handle("dpatches"), patch,
        required(dimage, "dimage"), mode.flag()));
  }

  /** {@code out[b, 0] = cls + pos[0]}, {@code out[b, 1+i] = proj[b, i] + pos[1+i]}. */
  public static void assemble(Tensor proj, Tensor cls, Tensor pos, Tensor out) {
    Tensor p = Native.checkNotNull(proj, "proj");
    check(VitEmbedNative.frl_vit_embed_assemble_forward(p.device().handle(), p.handle("proj"), required(cls, "cls"),
        required(pos, "pos"), required(out, "out")));
  }

  /**
   * {@code dproj[b, i] = dout[b, 1+i]} (per {@code dprojMode}); {@code dcls = Σ_b dout[b, 0]},
   * {@code dpos = Σ_b dout[b]} (per {@code paramMode}, summed b ascending). Outputs may be null.
   */
  public static void assembleBackward(Tensor dout, Tensor dproj, GradMode dprojMode, Tensor dcls, Tensor dpos,
      GradMode paramMode) {
    Tensor g = Native.checkNotNull(dout, "dout");
    Native.checkNotNull(dprojMode, "dprojMode");
    Native.checkNotNull(paramMode, "paramMode");
    check(VitEmbedNative.frl_vit_embed_assemble_backward(g.device().handle(), g.handle("dout"),
        optional(dproj, "dproj"), optional(dcls, "dcls"), optional(dpos, "dpos"), dprojMode.flag(), paramMode.flag()));
  }

  @Override
  public String toString() {
    return "PatchEmbedding[patch=" + patch + ", D=" + convWeight.dim(0) + ", C=" + convWeight.dim(1) + ", positions="
        + pos.dim(0) + "]";
  }
}
