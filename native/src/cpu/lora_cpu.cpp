// CPU reference of the fused LoRA matmul (fp32).
//
// Everything is one primitive, the K-augmented GEMM of gemm.h  C = sum_s alpha_s * A_s B_s  over strided views,
// so the transposes of the backward (g^T, v^T, W^T) are read in place and the rank-r LoRA term is
// just a second, short k range of the same accumulation (no second pass over y or dx).
#include "cpu/lora_cpu.h"

#include <cstddef>
#include <vector>

#include "cpu/gemm.h"

namespace frl {
namespace cpu {
namespace {

// Scratch for the rank-r intermediate (u or v, N x r floats), kept per calling thread and grown on
// demand: a training step's LoRA calls allocate nothing.
float* rank_scratch(int64_t N, int64_t r) {
  static thread_local std::vector<float> buffer;
  const size_t n = static_cast<size_t>(N * r);
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

}  // namespace

// u = x A^T                       (u[n,i] = sum_k x[n,k] A[i,k])
// y = x W^T + s u B^T = [x | s u] . [W | B]^T   (one pass over y; the last r "columns" of k are u/B)
void lora_forward(const float* x, const float* W, const float* A, const float* B, float scale,
                  bool use_adapter, int64_t N, int64_t K, int64_t M, int64_t r, float* y, float* u_out,
                  int64_t ldx, int64_t ldy) {
  if (ldx < 0) ldx = K;
  if (ldy < 0) ldy = M;
  GemmSegment base{{x, ldx, 1}, {W, 1, K}, K, 1.0f};  // x [N,K] . W^T, W^T(k,m) = W[m*K+k]
  if (!use_adapter) {
    gemm(N, M, &base, 1, y, ldy, false);
    return;
  }
  float* u = u_out != nullptr ? u_out : rank_scratch(N, r);
  GemmSegment down{{x, ldx, 1}, {A, 1, K}, K, 1.0f};  // x . A^T
  gemm(N, r, &down, 1, u, r, false);
  GemmSegment segs[2] = {base, {{u, r, 1}, {B, 1, r}, r, scale}};  // + s u . B^T
  gemm(N, M, segs, 2, y, ldy, false);
}

// v  = g B                        (v[n,i] = sum_m g[n,m] B[m,i])
// dx (+)= g W + s v A = [g | s v] . [W ; A]
// dA = s v^T x                    (dA[i,k] = s sum_n v[n,i] x[n,k])
// dB = s g^T u                    (dB[m,i] = s sum_n g[n,m] u[n,i])
void lora_backward(const float* x, const float* W, const float* A, const float* B, float scale,
                   bool use_adapter, const float* g, const float* u, int64_t N, int64_t K, int64_t M,
                   int64_t r, float* dx, float* dA, float* dB, bool accumulate, int64_t ldx, int64_t ldg,
                   int64_t lddx) {
  if (ldx < 0) ldx = K;
  if (ldg < 0) ldg = M;
  if (lddx < 0) lddx = K;
  GemmSegment base{{g, ldg, 1}, {W, K, 1}, M, 1.0f};  // g [N,M] . W [M,K]
  if (!use_adapter) {
    if (dx) gemm(N, K, &base, 1, dx, lddx, accumulate);
    return;
  }
  float* v = rank_scratch(N, r);
  GemmSegment up{{g, ldg, 1}, {B, r, 1}, M, 1.0f};  // g . B
  gemm(N, r, &up, 1, v, r, false);
  if (dx) {
    GemmSegment segs[2] = {base, {{v, r, 1}, {A, K, 1}, r, scale}};  // + s v . A
    gemm(N, K, segs, 2, dx, lddx, accumulate);
  }
  if (dA) {
    GemmSegment s{{v, 1, r}, {x, ldx, 1}, N, scale};  // v^T(i,n) = v[n*r+i]
    gemm(r, K, &s, 1, dA, K, accumulate);
  }
  if (dB) {
    GemmSegment s{{g, 1, ldg}, {u, r, 1}, N, scale};  // g^T(m,n) = g[n*ldg+m]
    gemm(M, r, &s, 1, dB, r, accumulate);
  }
}

}  // namespace cpu
}  // namespace frl
