// Host launchers of the ViT patch embedding's CUDA kernels (kernels/vit_embed.cu). Plain C++ so that
// native/src/vit_embed_api.cpp (compiled by the host compiler) can include it. The C API has checked
// shapes and dtypes; pointers are device pointers of the context; each float tensor's dtype
// (FRL_F32 or FRL_BF16) is passed beside it; work is queued on the context's stream.
#pragma once

#include <cstdint>

#include "cpu/vit_embed_cpu.h"
#include "engine.h"

namespace frl {
namespace cuda {

// patches[b, i, f] = image[b, c, py·p + ky, px·p + kx] (image through the strides in g.s).
void patchify(const frl_ctx* ctx, frl_dtype image_dtype, const void* image, const cpu::PatchGeometry& g,
              frl_dtype patches_dtype, void* patches);

// dimage[b, c, y, x] (=|+=) dpatches[b, i, f] (dimage contiguous).
void patchify_backward(const frl_ctx* ctx, frl_dtype dpatches_dtype, const void* dpatches, const cpu::PatchGeometry& g,
                       frl_dtype dimage_dtype, void* dimage, bool accumulate);

void vit_embed_assemble_forward(const frl_ctx* ctx, frl_dtype proj_dtype, const void* proj, frl_dtype cls_dtype,
                                const void* cls, frl_dtype pos_dtype, const void* pos, frl_dtype out_dtype, void* out,
                                int64_t B, int64_t P, int64_t D);

// The assemble backward's outputs (null: not computed), each with its dtype.
struct AssembleGrads {
  frl_dtype dproj_dtype;
  void* dproj;
  frl_dtype dcls_dtype;
  void* dcls;
  frl_dtype dpos_dtype;
  void* dpos;
};

void vit_embed_assemble_backward(const frl_ctx* ctx, frl_dtype dout_dtype, const void* dout, const AssembleGrads& gr,
                                 int64_t B, int64_t P, int64_t D, bool dproj_accumulate, bool dparam_accumulate);

}  // namespace cuda
}  // namespace frl
