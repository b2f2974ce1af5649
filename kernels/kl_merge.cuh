// The online log-sum-exp state of the per-token log-prob / KL kernel and its merge, as plain
// __host__ __device__ code: kernels/kl.cu reduces with it across threads, and the native test
// tests/native/kl_merge_test.cpp runs the same merge on the CPU, emulating the block reduction
// (host compiler, no GPU), against a direct computation.
//
// State of one row (or one thread's share of it), policy p and reference r:
//   mp = running max, sp = Σ exp(zp - mp), mr, sr likewise for the reference,
//   q = Σ exp(zp - mp)(zp - mp)                     (entropy = log sp - q/sp)
//   c = Σ exp(zp - mp)((zp - mp) - (zr - mr))       (full KL = c/sp - log sp + log sr)
// All terms are relative to the running maxima (no overflow for logits near ±3e38).
// An EMPTY share has m = -inf and s = 0: it must merge as the identity. A share whose reference is
// all -inf while its policy has mass has c = +inf (the full KL is +inf: the reference bans a token
// the policy gives mass), and that +inf must survive every merge.
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define FRL_HD __host__ __device__ __forceinline__
#else
#define FRL_HD inline
#endif

namespace frl {
namespace kl {

struct RowState {
  float mp, sp, q, c, mr, sr;
};

FRL_HD RowState state_empty() { return {-INFINITY, 0.0f, 0.0f, 0.0f, -INFINITY, 0.0f}; }

// How far a share's maximum m is below the common maximum M, for rescaling its terms: 0 when they
// are equal — in particular when both are -inf, where M - m would be (-inf) - (-inf) = NaN.
FRL_HD float gap(float M, float m) { return M == m ? 0.0f : M - m; }

// A ⊕ B: c brought to the common reference max, then everything to the common policy max, then
// added. Symmetric (IEEE + and * commute), so butterfly lanes agree. A share without policy mass
// (sp == 0) contributes nothing; a share with c = +inf keeps c = +inf (rescaling it by an underflowed
// factor must not give 0·inf = NaN).
template <bool HAS_REF>
FRL_HD void merge(RowState& A, const RowState& B) {
  const float Mp = fmaxf(A.mp, B.mp);
  const bool a_has = A.sp > 0.0f, b_has = B.sp > 0.0f;
  const float fa = a_has ? expf(A.mp - Mp) : 0.0f, fb = b_has ? expf(B.mp - Mp) : 0.0f;
  const float da = a_has ? gap(Mp, A.mp) : 0.0f, db = b_has ? gap(Mp, B.mp) : 0.0f;
  const float qa = a_has ? fa * (A.q - da * A.sp) : 0.0f, qb = b_has ? fb * (B.q - db * B.sp) : 0.0f;
  A.q = qa + qb;
  if (HAS_REF) {
    const float Mr = fmaxf(A.mr, B.mr);
    const float ca = !a_has ? 0.0f
                     : A.c == INFINITY ? INFINITY
                                       : fa * (A.c + gap(Mr, A.mr) * A.sp - da * A.sp);
    const float cb = !b_has ? 0.0f
                     : B.c == INFINITY ? INFINITY
                                       : fb * (B.c + gap(Mr, B.mr) * B.sp - db * B.sp);
    A.c = ca + cb;
    const float ga = A.sr > 0.0f ? expf(A.mr - Mr) : 0.0f, gb = B.sr > 0.0f ? expf(B.mr - Mr) : 0.0f;
    A.sr = ga * A.sr + gb * B.sr;
    A.mr = Mr;
  }
  A.sp = fa * A.sp + fb * B.sp;
  A.mp = Mp;
}

// Adds one logit pair (zp, zr) to a thread's state, as the kernel's scalar path does.
template <bool HAS_REF>
FRL_HD void add_one(RowState& S, float zp, float zr) {
  RowState one = state_empty();
  if (zp != -INFINITY) {
    one.mp = zp;
    one.sp = 1.0f;  // exp(zp - mp) = 1, q = 0, c = (0 - (zr - mr)) = 0 at its own maxima
  }
  if (HAS_REF && zr != -INFINITY) {
    one.mr = zr;
    one.sr = 1.0f;
  }
  if (HAS_REF && zp != -INFINITY && zr == -INFINITY) one.c = INFINITY;
  merge<HAS_REF>(S, one);
}

// Results of a fully reduced state.
FRL_HD float kl_full_of(const RowState& S) { return S.c / S.sp - logf(S.sp) + logf(S.sr); }
FRL_HD float entropy_of(const RowState& S) { return logf(S.sp) - S.q / S.sp; }

}  // namespace kl
}  // namespace frl
