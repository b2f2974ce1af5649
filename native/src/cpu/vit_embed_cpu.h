// CPU reference of the ViT patch embedding ops (fp32, OpenMP). Raw-pointer kernels:
// native/src/vit_embed_api.cpp checks every argument first. Math and conventions: factrl/vit_embed.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// Geometry of a patchify call: image [B, C, H, W] read through element strides s[4].
struct PatchGeometry {
  int64_t B, C, H, W, p;
  int64_t s[4];  // image strides (elements) of b, c, y, x
  int64_t Hp() const { return H / p; }
  int64_t Wp() const { return W / p; }
  int64_t P() const { return Hp() * Wp(); }
  int64_t F() const { return C * p * p; }
};

// patches[b, i, f] = image[b, c, py·p + ky, px·p + kx] (patches contiguous [B, P, F]).
void patchify(const float* image, const PatchGeometry& g, float* patches);

// dimage[b, c, y, x] (=|+=) dpatches[b, i, f] (dimage contiguous [B, C, H, W]; g.s ignored).
void patchify_backward(const float* dpatches, const PatchGeometry& g, float* dimage, bool accumulate);

// out[b, 0] = cls + pos[0]; out[b, 1+i] = proj[b, i] + pos[1+i].
void vit_embed_assemble_forward(const float* proj, const float* cls, const float* pos, float* out, int64_t B,
                                int64_t P, int64_t D);

// dproj[b, i] (=|+=) dout[b, 1+i]; dcls (=|+=) Σ_b dout[b, 0]; dpos[j] (=|+=) Σ_b dout[b, j] (b ascending).
// Any output may be null.
void vit_embed_assemble_backward(const float* dout, float* dproj, float* dcls, float* dpos, int64_t B, int64_t P,
                                 int64_t D, bool dproj_accumulate, bool dparam_accumulate);

}  // namespace cpu
}  // namespace frl
