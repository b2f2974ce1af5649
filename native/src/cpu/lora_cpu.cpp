// CPU reference of the fused LoRA matmul (fp32), llm.c style: explicit loops, OpenMP.
//
// Everything is one primitive, a K-augmented GEMM  C = sum_s alpha_s * A_s B_s  over strided views,
// so the transposes of the backward (g^T, v^T, W^T) are read in place and the rank-r LoRA term is
// just a second, short k range of the same accumulation (no second pass over y or dx).
#include "cpu/lora_cpu.h"

#include <algorithm>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace frl {
namespace cpu {
namespace {

constexpr int MR = 6;        // micro-tile rows (of C)
constexpr int NR = 16;       // micro-tile columns (two 8-wide vectors)
constexpr int64_t KC = 256;  // k block: one A micro-panel (6 x 256 floats) + one B micro-panel in L1
constexpr int64_t MC = 72;   // rows of C per block (A block 72 x 256 floats, in L2)
constexpr int64_t NC = 128;  // columns of C per block (B panel 256 x 128 floats, in L2)

typedef float v8 __attribute__((vector_size(32)));

// c[0:mr, 0:nr] (+)= sum_k ap[k][i] * bp[k][j], ap packed k-major in groups of MR rows, bp k-major
// in groups of NR columns (both zero-padded). Cloned for FMA/AVX machines; generic code elsewhere.
__attribute__((target_clones("fma", "default")))
void micro_kernel(int64_t kc, const float* __restrict ap, const float* __restrict bp, float* __restrict c,
                  int64_t ldc, int mr, int nr, bool overwrite) {
  v8 acc[MR][2];
  for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = v8{};
  for (int64_t k = 0; k < kc; k++) {
    v8 b0, b1;
    std::memcpy(&b0, bp + k * NR, sizeof b0);
    std::memcpy(&b1, bp + k * NR + 8, sizeof b1);
    const float* a = ap + k * MR;
    for (int i = 0; i < MR; i++) {
      acc[i][0] += a[i] * b0;
      acc[i][1] += a[i] * b1;
    }
  }
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; i++) {
      float* row = c + i * ldc;
      if (!overwrite) {
        v8 c0, c1;
        std::memcpy(&c0, row, sizeof c0);
        std::memcpy(&c1, row + 8, sizeof c1);
        acc[i][0] += c0;
        acc[i][1] += c1;
      }
      std::memcpy(row, &acc[i][0], sizeof acc[i][0]);
      std::memcpy(row + 8, &acc[i][1], sizeof acc[i][1]);
    }
  } else {
    float tile[MR][NR];
    std::memcpy(tile, acc, sizeof tile);
    for (int i = 0; i < mr; i++)
      for (int j = 0; j < nr; j++) c[i * ldc + j] = overwrite ? tile[i][j] : c[i * ldc + j] + tile[i][j];
  }
}

}  // namespace

// C = (accumulate ? C : 0) + sum_s alpha_s A_s B_s. The output is cut into MC x NC blocks that
// threads take independently (dynamic schedule, one barrier at the end: robust when the cores are
// shared); per block, for each segment and k block, the thread packs its B panel (kc x nc) and A block
// (mc x kc) and runs the 6 x 16 micro-kernel over them. Packing per block costs ~1/MC of the FMAs.
void gemm(int64_t M, int64_t N, const GemmSegment* segs, int nsegs, float* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  int64_t total_k = 0;
  for (int s = 0; s < nsegs; s++) total_k += segs[s].k;
  if (total_k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; i++) std::fill(C + i * ldc, C + i * ldc + N, 0.0f);
    return;
  }
  const int64_t mblocks = (M + MC - 1) / MC, nblocks = (N + NC - 1) / NC;
#ifdef _OPENMP
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), mblocks * nblocks)));
#else
  const int threads = 1;
#endif
  const size_t bsize = static_cast<size_t>(KC * NC), asize = static_cast<size_t>(MC * KC);
  std::vector<float> buffers(static_cast<size_t>(threads) * (asize + bsize));

#pragma omp parallel for collapse(2) schedule(dynamic) num_threads(threads)
  for (int64_t ib = 0; ib < mblocks; ib++) {
    for (int64_t jb = 0; jb < nblocks; jb++) {
#ifdef _OPENMP
      const int tid = omp_get_thread_num();
#else
      const int tid = 0;
#endif
      float* ap = buffers.data() + static_cast<size_t>(tid) * (asize + bsize);
      float* bp = ap + asize;
      const int64_t ic = ib * MC, jc = jb * NC;
      const int64_t mc = std::min(MC, M - ic), nc = std::min(NC, N - jc);
      const int64_t mpanels = (mc + MR - 1) / MR, npanels = (nc + NR - 1) / NR;
      bool first = !accumulate;
      for (int s = 0; s < nsegs; s++) {
        const GemmSegment& sg = segs[s];
        for (int64_t pc = 0; pc < sg.k; pc += KC) {
          const int64_t kc = std::min(KC, sg.k - pc);
          // B[pc:pc+kc, jc:jc+nc] as NR-column micro-panels, k-major, zero-padded.
          for (int64_t jr = 0; jr < npanels; jr++) {
            float* dst = bp + jr * kc * NR;
            const int64_t cols = std::min<int64_t>(NR, nc - jr * NR);
            for (int64_t k = 0; k < kc; k++) {
              const float* src = sg.b.p + (pc + k) * sg.b.rs + (jc + jr * NR) * sg.b.cs;
              int j = 0;
              for (; j < cols; j++) dst[k * NR + j] = src[j * sg.b.cs];
              for (; j < NR; j++) dst[k * NR + j] = 0.0f;
            }
          }
          // alpha * A[ic:ic+mc, pc:pc+kc] as MR-row micro-panels, k-major, zero-padded.
          for (int64_t ir = 0; ir < mpanels; ir++) {
            float* dst = ap + ir * kc * MR;
            const int64_t rows = std::min<int64_t>(MR, mc - ir * MR);
            for (int64_t k = 0; k < kc; k++) {
              const float* src = sg.a.p + (pc + k) * sg.a.cs + (ic + ir * MR) * sg.a.rs;
              int i = 0;
              for (; i < rows; i++) dst[k * MR + i] = sg.alpha * src[i * sg.a.rs];
              for (; i < MR; i++) dst[k * MR + i] = 0.0f;
            }
          }
          for (int64_t jr = 0; jr < npanels; jr++) {
            for (int64_t ir = 0; ir < mpanels; ir++) {
              const int64_t row = ic + ir * MR, col = jc + jr * NR;
              micro_kernel(kc, ap + ir * kc * MR, bp + jr * kc * NR, C + row * ldc + col, ldc,
                           static_cast<int>(std::min<int64_t>(MR, ic + mc - row)),
                           static_cast<int>(std::min<int64_t>(NR, jc + nc - col)), first);
            }
          }
          first = false;
        }
      }
    }
  }
}

// u = x A^T                       (u[n,i] = sum_k x[n,k] A[i,k])
// y = x W^T + s u B^T = [x | s u] . [W | B]^T   (one pass over y; the last r "columns" of k are u/B)
void lora_forward(const float* x, const float* W, const float* A, const float* B, float scale,
                  bool use_adapter, int64_t N, int64_t K, int64_t M, int64_t r, float* y, float* u_out) {
  GemmSegment base{{x, K, 1}, {W, 1, K}, K, 1.0f};  // x [N,K] . W^T, W^T(k,m) = W[m*K+k]
  if (!use_adapter) {
    gemm(N, M, &base, 1, y, M, false);
    return;
  }
  std::vector<float> workspace;
  float* u = u_out;
  if (u == nullptr) {
    workspace.resize(static_cast<size_t>(N * r));
    u = workspace.data();
  }
  GemmSegment down{{x, K, 1}, {A, 1, K}, K, 1.0f};  // x . A^T
  gemm(N, r, &down, 1, u, r, false);
  GemmSegment segs[2] = {base, {{u, r, 1}, {B, 1, r}, r, scale}};  // + s u . B^T
  gemm(N, M, segs, 2, y, M, false);
}

// v  = g B                        (v[n,i] = sum_m g[n,m] B[m,i])
// dx (+)= g W + s v A = [g | s v] . [W ; A]
// dA = s v^T x                    (dA[i,k] = s sum_n v[n,i] x[n,k])
// dB = s g^T u                    (dB[m,i] = s sum_n g[n,m] u[n,i])
void lora_backward(const float* x, const float* W, const float* A, const float* B, float scale,
                   bool use_adapter, const float* g, const float* u, int64_t N, int64_t K, int64_t M,
                   int64_t r, float* dx, float* dA, float* dB, bool accumulate) {
  GemmSegment base{{g, M, 1}, {W, K, 1}, M, 1.0f};  // g [N,M] . W [M,K]
  if (!use_adapter) {
    if (dx) gemm(N, K, &base, 1, dx, K, accumulate);
    return;
  }
  std::vector<float> v(static_cast<size_t>(N * r));
  GemmSegment up{{g, M, 1}, {B, r, 1}, M, 1.0f};  // g . B
  gemm(N, r, &up, 1, v.data(), r, false);
  if (dx) {
    GemmSegment segs[2] = {base, {{v.data(), r, 1}, {A, K, 1}, r, scale}};  // + s v . A
    gemm(N, K, segs, 2, dx, K, accumulate);
  }
  if (dA) {
    GemmSegment s{{v.data(), 1, r}, {x, K, 1}, N, scale};  // v^T(i,n) = v[n*r+i]
    gemm(r, K, &s, 1, dA, K, accumulate);
  }
  if (dB) {
    GemmSegment s{{g, 1, M}, {u, r, 1}, N, scale};  // g^T(m,n) = g[n*M+m]
    gemm(M, r, &s, 1, dB, r, accumulate);
  }
}

}  // namespace cpu
}  // namespace frl
