package org.factrl.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.factrl.bindings.FactRlCore.frl_ctx;
import org.factrl.bindings.FactRlCore.frl_tensor;

/**
 * Raw JavaCPP binding of the ViT patch embedding's C API ({@code native/include/factrl/vit_embed.h}):
 * patchify (im2col for the stride-p conv) and the class-token / position assembly. Every function
 * returns an {@code frl_status} (0 = OK); optional tensors may be {@code null}. Use
 * {@code org.factrl.layers.PatchEmbedding}, which turns statuses into {@code FactRlException}s.
 */
@Platform(include = "factrl.h", link = "factrl")
public final class VitEmbedNative {
  static {
    Loader.load();
  }

  private VitEmbedNative() {}

  public static native int frl_patchify(frl_ctx ctx, @Const frl_tensor image, int patch, frl_tensor patches);

  public static native int frl_patchify_backward(frl_ctx ctx, @Const frl_tensor dpatches, int patch,
      frl_tensor dimage, int mode);

  public static native int frl_vit_embed_assemble_forward(frl_ctx ctx, @Const frl_tensor proj,
      @Const frl_tensor cls, @Const frl_tensor pos, frl_tensor out);

  public static native int frl_vit_embed_assemble_backward(frl_ctx ctx, @Const frl_tensor dout, frl_tensor dproj,
      frl_tensor dcls, frl_tensor dpos, int dprojMode, int dparamMode);
}
