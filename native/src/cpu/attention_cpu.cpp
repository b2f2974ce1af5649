// CPU multi-head scaled dot-product attention: the dispatcher. It sizes the per-thread scratch,
// picks the ISA once (cpu/isa.h: AVX-512, AVX2 + FMA, or scalar, FACTRL_CPU_ISA may lower it) and
// runs the blocked kernels of attention_kernels.h compiled for that ISA
// (attention_cpu_{avx512,avx2,scalar}.cpp). This unit is compiled for the baseline ISA.
//
// Every sum runs in a fixed order that depends neither on the thread count nor on the schedule
// (each output element is owned by one task): for a given ISA path the outputs are bitwise
// reproducible. Different paths round differently (vector widths differ).
#include "cpu/attention_cpu.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "cpu/attention_isa.h"
#include "cpu/isa.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace frl {
namespace cpu {
namespace {

constexpr int64_t kParallelWork = 65536;  // run serially below this many multiply-adds

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Multiply-adds of one pass over all (query, visible key) pairs, for the serial cut-off. Row b's
// query i sees min(L_b, off_b + i + 1) keys when causal: off_b + i + 1 for the first
// n1 = clamp(L_b − off_b, 0, Sq) queries, L_b for the rest.
int64_t pair_work(const Masks& m, int64_t B, int64_t Sq, int64_t Sk, int64_t H, int64_t D, bool causal) {
  int64_t pairs = 0;
  for (int64_t b = 0; b < B; b++) {
    const int64_t L = m.key_len != nullptr ? m.key_len[b] : Sk, off = m.q_off != nullptr ? m.q_off[b] : 0;
    if (!causal) {
      pairs += Sq * L;
      continue;
    }
    const int64_t n1 = std::min(std::max(L - off, int64_t{0}), Sq);
    pairs += n1 * off + n1 * (n1 + 1) / 2 + (Sq - n1) * L;
  }
  return H * pairs * (D + 1);
}

// The argument block with one scratch slice per thread, owned by `scratch` (allocated here:
// nothing may throw inside the OpenMP regions).
AttentionArgs make_args(const Masks& m, int64_t B, int64_t Sq, int64_t Sk, int64_t H, int64_t D, bool causal,
                        float scale, int64_t work, std::vector<float>* scratch) {
  AttentionArgs a{};
  a.B = B;
  a.Sq = Sq;
  a.Sk = Sk;
  a.H = H;
  a.D = D;
  a.key_len = m.key_len;
  a.q_off = m.q_off;
  a.Lmax = m.key_len != nullptr ? 0 : Sk;
  for (int64_t b = 0; m.key_len != nullptr && b < B; b++) a.Lmax = std::max<int64_t>(a.Lmax, m.key_len[b]);
  a.causal = causal;
  a.scale = scale;
  a.parallel = work > kParallelWork;
  a.scratch_stride = attention_scratch_floats(D);
  const int threads = a.parallel ? max_threads() : 1;
  scratch->assign(static_cast<size_t>(threads) * static_cast<size_t>(a.scratch_stride), 0.0f);
  a.scratch = scratch->data();
  return a;
}

}  // namespace

void attention_forward(const float* q, const float* k, const float* v, float* out, float* lse, const Masks& masks,
                       int64_t B, int64_t Sq, int64_t Sk, int64_t H, int64_t D, bool causal, float scale) {
  std::vector<float> scratch;
  AttentionArgs a = make_args(masks, B, Sq, Sk, H, D, causal, scale, 2 * pair_work(masks, B, Sq, Sk, H, D, causal),
                              &scratch);
  // Written there for every block below L_b; only those are read. With one query tile per head
  // (a decode step) each block is used once: the tile packs it into its scratch instead (kt null).
  std::unique_ptr<float[]> kt(Sq > kAttentionBlock ? new float[attention_packed_floats(B, a.Lmax, H, D)] : nullptr);
  a.kt = kt.get();
  a.q = q;
  a.k = k;
  a.v = v;
  a.o = out;
  a.lse = lse;
  switch (cpu_isa()) {
    case Isa::kAvx512: attention_forward_avx512(a); break;
    case Isa::kAvx2: attention_forward_avx2(a); break;
    default: attention_forward_scalar(a); break;
  }
}

void attention_backward(const float* q, const float* k, const float* v, const float* out,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv, const Masks& masks,
                        int64_t B, int64_t Sq, int64_t Sk, int64_t H, int64_t D, bool causal, float scale,
                        bool accumulate) {
  if (dq == nullptr && dk == nullptr && dv == nullptr) return;
  std::vector<float> scratch;
  AttentionArgs a = make_args(masks, B, Sq, Sk, H, D, causal, scale,
                              7 * pair_work(masks, B, Sq, Sk, H, D, causal), &scratch);
  const bool want_ds = dq != nullptr || dk != nullptr;
  std::vector<float> delta(want_ds ? static_cast<size_t>(B * H * Sq) : 0);
  // Written there for every block below L_b; only those are read.
  std::unique_ptr<float[]> kt(new float[attention_packed_floats(B, a.Lmax, H, D)]);
  std::unique_ptr<float[]> vt(new float[want_ds ? attention_packed_floats(B, a.Lmax, H, D) : 0]);
  a.kt = kt.get();
  a.vt = vt.get();
  // With at least 4 heads per thread, one task per head does the whole backward (5 GEMM tiles per
  // block pair, not 7); with fewer, the two passes split heads into blocks to feed every thread.
  // Both schedules give the same bits (attention_kernels.h), so the thread count cannot change them.
  std::unique_ptr<float[]> dq_heads;
  const int threads = a.parallel ? max_threads() : 1;
  if (dq != nullptr && (dk != nullptr || dv != nullptr) && B * H >= 4 * static_cast<int64_t>(threads)) {
    dq_heads.reset(new float[static_cast<size_t>(threads) * attention_round_up(Sq, kAttentionBlock) *
                             attention_round_up(D, kAttentionPad)]);
    a.dq_heads = dq_heads.get();
  }
  a.q = q;
  a.k = k;
  a.v = v;
  a.out = out;
  a.dout = dout;
  a.lse = const_cast<float*>(lse);  // read only in the backward
  a.dq = dq;
  a.dk = dk;
  a.dv = dv;
  a.delta = delta.data();
  a.accumulate = accumulate;
  switch (cpu_isa()) {
    case Isa::kAvx512: attention_backward_avx512(a); break;
    case Isa::kAvx2: attention_backward_avx2(a); break;
    default: attention_backward_scalar(a); break;
  }
}

}  // namespace cpu
}  // namespace frl
