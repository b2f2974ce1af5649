// CUDA kernels of the ViT patch embedding (factrl/vit_embed.h). Memory-bound permutations and
// broadcast adds: a grid-stride loop, one thread per output element, 256-thread blocks. Each float
// tensor carries its own storage dtype (F32 or BF16) chosen at run time by a uniform branch (the
// kernels move data; the branch costs nothing next to the memory traffic). Math in fp32, one
// rounding per stored value. No atomics: patchify is a bijection and the sums over b loop b
// ascending per column (the CPU's order: F32 results agree bitwise).
#include <algorithm>
#include <cstdint>

#include "cuda_common.cuh"
#include "vit_embed.cuh"

namespace frl {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;

int blocks_for(int64_t n) {
  return static_cast<int>(std::min<int64_t>(kMaxBlocks, std::max<int64_t>(1, (n + kThreads - 1) / kThreads)));
}

__device__ __forceinline__ float load(const void* p, bool bf16, int64_t i) {
  return bf16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]) : static_cast<const float*>(p)[i];
}

__device__ __forceinline__ void store(void* p, bool bf16, int64_t i, float v) {
  if (bf16)
    static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16(v);
  else
    static_cast<float*>(p)[i] = v;
}

// patches[e] with e = (b·P + i)·F + f, f = (c·p + ky)·p + kx, i = py·Wp + px:
//   patches[b, i, f] = image[b·s0 + c·s1 + (py·p + ky)·s2 + (px·p + kx)·s3]
__global__ void patchify_kernel(const void* image, bool image_bf16, cpu::PatchGeometry g, void* patches,
                                bool patches_bf16, int64_t n) {
  const int64_t p = g.p, Wp = g.W / p, P = (g.H / p) * Wp, F = g.C * p * p;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t f = e % F, bi = e / F, i = bi % P, b = bi / P;
    const int64_t kx = f % p, ky = (f / p) % p, c = f / (p * p), py = i / Wp, px = i % Wp;
    const int64_t src = b * g.s[0] + c * g.s[1] + (py * p + ky) * g.s[2] + (px * p + kx) * g.s[3];
    store(patches, patches_bf16, e, load(image, image_bf16, src));
  }
}

// dimage[e] (=|+=) dpatches[b, i, f] with e = ((b·C + c)·H + y)·W + x (contiguous dimage): the same
// map read the other way, one thread per pixel.
__global__ void patchify_backward_kernel(const void* dpatches, bool dpatches_bf16, cpu::PatchGeometry g, void* dimage,
                                         bool dimage_bf16, bool accumulate, int64_t n) {
  const int64_t p = g.p, Wp = g.W / p, P = (g.H / p) * Wp, F = g.C * p * p;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t x = e % g.W, y = (e / g.W) % g.H, c = (e / (g.W * g.H)) % g.C, b = e / (g.W * g.H * g.C);
    const int64_t i = (y / p) * Wp + x / p, f = (c * p + y % p) * p + x % p;
    const float v = load(dpatches, dpatches_bf16, (b * P + i) * F + f);
    store(dimage, dimage_bf16, e, accumulate ? load(dimage, dimage_bf16, e) + v : v);
  }
}

// out[b, j, d] = (j == 0 ? cls[d] : proj[b, j-1, d]) + pos[j, d]; e = (b·S + j)·D + d, S = P + 1.
__global__ void assemble_forward_kernel(const void* proj, bool proj_bf16, const void* cls, bool cls_bf16,
                                        const void* pos, bool pos_bf16, void* out, bool out_bf16, int64_t B,
                                        int64_t P, int64_t D) {
  const int64_t S = P + 1, n = B * S * D;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t d = e % D, j = (e / D) % S, b = e / (S * D);
    const float v = j == 0 ? load(cls, cls_bf16, d) : load(proj, proj_bf16, (b * P + j - 1) * D + d);
    store(out, out_bf16, e, v + load(pos, pos_bf16, j * D + d));
  }
}

// dproj[b, i, d] (=|+=) dout[b, 1+i, d]; e = (b·P + i)·D + d.
__global__ void assemble_dproj_kernel(const void* dout, bool dout_bf16, void* dproj, bool dproj_bf16, bool accumulate,
                                      int64_t B, int64_t P, int64_t D) {
  const int64_t n = B * P * D;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t d = e % D, i = (e / D) % P, b = e / (P * D);
    const float v = load(dout, dout_bf16, (b * (P + 1) + 1 + i) * D + d);
    store(dproj, dproj_bf16, e, accumulate ? load(dproj, dproj_bf16, e) + v : v);
  }
}

// dpos[j, d] (=|+=) Σ_b dout[b, j, d] (b ascending), dcls[d] likewise from j = 0; one thread per (j, d).
__global__ void assemble_dparam_kernel(const void* dout, bool dout_bf16, void* dcls, bool dcls_bf16, void* dpos,
                                       bool dpos_bf16, bool accumulate, int64_t B, int64_t S, int64_t D) {
  const int64_t n = (dpos ? S : 1) * D;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t j = e / D, d = e % D;
    float acc = 0.0f;
    for (int64_t b = 0; b < B; b++) acc += load(dout, dout_bf16, (b * S + j) * D + d);
    if (dpos) store(dpos, dpos_bf16, e, accumulate ? load(dpos, dpos_bf16, e) + acc : acc);
    if (dcls && j == 0) store(dcls, dcls_bf16, d, accumulate ? load(dcls, dcls_bf16, d) + acc : acc);
  }
}

}  // namespace

namespace cuda {

void patchify(const frl_ctx* ctx, frl_dtype image_dtype, const void* image, const cpu::PatchGeometry& g,
              frl_dtype patches_dtype, void* patches) {
  const int64_t n = g.B * g.P() * g.F();
  if (n == 0) return;
  patchify_kernel<<<blocks_for(n), kThreads, 0, cuda_stream(ctx)>>>(image, image_dtype == FRL_BF16, g, patches,
                                                                     patches_dtype == FRL_BF16, n);
  FRL_CUDA_CHECK_LAUNCH();
}

void patchify_backward(const frl_ctx* ctx, frl_dtype dpatches_dtype, const void* dpatches, const cpu::PatchGeometry& g,
                       frl_dtype dimage_dtype, void* dimage, bool accumulate) {
  const int64_t n = g.B * g.C * g.H * g.W;
  if (n == 0) return;
  patchify_backward_kernel<<<blocks_for(n), kThreads, 0, cuda_stream(ctx)>>>(
      dpatches, dpatches_dtype == FRL_BF16, g, dimage, dimage_dtype == FRL_BF16, accumulate, n);
  FRL_CUDA_CHECK_LAUNCH();
}

void vit_embed_assemble_forward(const frl_ctx* ctx, frl_dtype proj_dtype, const void* proj, frl_dtype cls_dtype,
                                const void* cls, frl_dtype pos_dtype, const void* pos, frl_dtype out_dtype, void* out,
                                int64_t B, int64_t P, int64_t D) {
  const int64_t n = B * (P + 1) * D;
  if (n == 0) return;
  assemble_forward_kernel<<<blocks_for(n), kThreads, 0, cuda_stream(ctx)>>>(
      proj, proj_dtype == FRL_BF16, cls, cls_dtype == FRL_BF16, pos, pos_dtype == FRL_BF16, out,
      out_dtype == FRL_BF16, B, P, D);
  FRL_CUDA_CHECK_LAUNCH();
}

void vit_embed_assemble_backward(const frl_ctx* ctx, frl_dtype dout_dtype, const void* dout, const AssembleGrads& gr,
                                 int64_t B, int64_t P, int64_t D, bool dproj_accumulate, bool dparam_accumulate) {
  cudaStream_t st = cuda_stream(ctx);
  const bool dout_bf16 = dout_dtype == FRL_BF16;
  if (gr.dproj && B * P * D > 0) {
    assemble_dproj_kernel<<<blocks_for(B * P * D), kThreads, 0, st>>>(dout, dout_bf16, gr.dproj,
                                                                      gr.dproj_dtype == FRL_BF16, dproj_accumulate, B, P, D);
    FRL_CUDA_CHECK_LAUNCH();
  }
  if ((gr.dcls || gr.dpos) && D > 0) {
    const int64_t n = (gr.dpos ? P + 1 : 1) * D;
    assemble_dparam_kernel<<<blocks_for(n), kThreads, 0, st>>>(dout, dout_bf16, gr.dcls, gr.dcls_dtype == FRL_BF16,
                                                               gr.dpos, gr.dpos_dtype == FRL_BF16, dparam_accumulate, B,
                                                               P + 1, D);
    FRL_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace cuda
}  // namespace frl
