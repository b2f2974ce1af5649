// CPU reference of the ViT patch embedding: llm.c-style loops. Patchify is a pure permutation
// (each pixel lands in exactly one patch slot), so forward and backward are both parallel over
// output rows without races; the class/position sums over b run b ascending per column.
#include "cpu/vit_embed_cpu.h"

#include <algorithm>
#include <vector>

namespace frl {
namespace cpu {

void patchify(const float* image, const PatchGeometry& g, float* patches) {
  const int64_t Wp = g.Wp(), P = g.P(), F = g.F(), p = g.p;
#pragma omp parallel for schedule(static) if (g.B * P * F > 32768)
  for (int64_t bi = 0; bi < g.B * P; bi++) {
    const int64_t b = bi / P, i = bi - b * P, py = i / Wp, px = i - py * Wp;
    float* out = patches + bi * F;
    for (int64_t c = 0; c < g.C; c++)
      for (int64_t ky = 0; ky < p; ky++) {
        const float* src = image + b * g.s[0] + c * g.s[1] + (py * p + ky) * g.s[2] + px * p * g.s[3];
        float* dst = out + (c * p + ky) * p;
        for (int64_t kx = 0; kx < p; kx++) dst[kx] = src[kx * g.s[3]];
      }
  }
}

void patchify_backward(const float* dpatches, const PatchGeometry& g, float* dimage, bool accumulate) {
  const int64_t Wp = g.Wp(), P = g.P(), F = g.F(), p = g.p, H = g.H, W = g.W;
  // One image row (b, c, y) at a time: it reads Wp patch segments of length p.
#pragma omp parallel for schedule(static) if (g.B * g.C * H * W > 32768)
  for (int64_t bcy = 0; bcy < g.B * g.C * H; bcy++) {
    const int64_t y = bcy % H, bc = bcy / H, c = bc % g.C, b = bc / g.C;
    const int64_t py = y / p, ky = y - py * p;
    float* row = dimage + bcy * W;
    for (int64_t px = 0; px < Wp; px++) {
      const float* src = dpatches + (b * P + py * Wp + px) * F + (c * p + ky) * p;
      float* dst = row + px * p;
      for (int64_t kx = 0; kx < p; kx++) dst[kx] = accumulate ? dst[kx] + src[kx] : src[kx];
    }
  }
}

void vit_embed_assemble_forward(const float* proj, const float* cls, const float* pos, float* out, int64_t B,
                                int64_t P, int64_t D) {
  const int64_t S = P + 1;
#pragma omp parallel for schedule(static) if (B * S * D > 32768)
  for (int64_t bj = 0; bj < B * S; bj++) {
    const int64_t b = bj / S, j = bj - b * S;
    const float* src = j == 0 ? cls : proj + (b * P + j - 1) * D;
    const float* pj = pos + j * D;
    float* dst = out + bj * D;
#pragma omp simd
    for (int64_t d = 0; d < D; d++) dst[d] = src[d] + pj[d];
  }
}

void vit_embed_assemble_backward(const float* dout, float* dproj, float* dcls, float* dpos, int64_t B, int64_t P,
                                 int64_t D, bool dproj_accumulate, bool dparam_accumulate) {
  const int64_t S = P + 1;
  if (dproj) {
#pragma omp parallel for schedule(static) if (B * P * D > 32768)
    for (int64_t bi = 0; bi < B * P; bi++) {
      const int64_t b = bi / P, i = bi - b * P;
      const float* src = dout + (b * S + 1 + i) * D;
      float* dst = dproj + bi * D;
#pragma omp simd
      for (int64_t d = 0; d < D; d++) dst[d] = dproj_accumulate ? dst[d] + src[d] : src[d];
    }
  }
  // dpos[j, d] = Σ_b dout[b, j, d], b ascending for each (j, d); dcls is the j = 0 row of that sum.
  // Row-wise (a row of D accumulators per j) so dout is read along its rows, not down its columns.
  if (dpos || dcls) {
#pragma omp parallel if (B * S * D > 32768)
    {
      std::vector<float> acc(static_cast<size_t>(D));
#pragma omp for schedule(static)
      for (int64_t j = 0; j < S; j++) {
        if (j > 0 && !dpos) continue;
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int64_t b = 0; b < B; b++) {
          const float* g = dout + (b * S + j) * D;
#pragma omp simd
          for (int64_t d = 0; d < D; d++) acc[d] += g[d];
        }
        if (dpos) {
          float* dst = dpos + j * D;
          for (int64_t d = 0; d < D; d++) dst[d] = dparam_accumulate ? dst[d] + acc[d] : acc[d];
        }
        if (j == 0 && dcls)
          for (int64_t d = 0; d < D; d++) dcls[d] = dparam_accumulate ? dcls[d] + acc[d] : acc[d];
      }
    }
  }
}

}  // namespace cpu
}  // namespace frl
