// The CPU attention kernels on every SIMD path this machine supports (scalar, AVX2, AVX-512: the
// ones the hardware lacks are skipped, never run), against a direct double-precision loop, and the
// promises the Java tests cannot reach through the C API:
//  - the one-task-per-head backward and the two-pass backward give the same bits;
//  - the bits do not depend on the OpenMP thread count (1, 2, 3 threads);
//  - accumulate = true adds the gradient to what the outputs hold.
// Masked cases (Sq != Sk, per-row key lengths including 0 and Sk, query offsets, some past the
// keys) against the same loop over each query's visible keys; rows that see no key must give
// out = 0, lse = −inf, zero gradients and no NaN, and unmasked calls must give the same bits with
// null masks as with explicit full ones (L_b = Sk, off_b = 0). Keys past L_b hold NaN: never read.
//
// Tolerance vs the double loop: |ours − want| <= 2e-6 + 1e-5 |want| (as AttentionTest: inputs
// uniform in [−1, 1), fp32 dot products of length D <= 64 and sums over <= 200 keys). Accumulate:
// outputs start at c, must end at c + gradient within the same tolerance plus 1 ulp of c.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "cpu/attention_isa.h"
#include "cpu/isa.h"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace frl::cpu;

namespace {

int failures = 0;

struct Case {
  int B, Sq, Sk, H, D;
  bool causal;
  std::vector<int32_t> key_len, q_off;  // [B] each, or empty (null: Sk, 0)

  int L(int b) const { return key_len.empty() ? Sk : key_len[b]; }
  int off(int b) const { return q_off.empty() ? 0 : q_off[b]; }
  // The number of keys query i of row b sees (a prefix).
  int visible(int b, int i) const { return causal ? std::min(L(b), off(b) + i + 1) : L(b); }
};

Case unmasked(int B, int S, int H, int D, bool causal) { return {B, S, S, H, D, causal, {}, {}}; }

float scale_of(const Case& c) { return 1.0f / std::sqrt(static_cast<float>(c.D)); }

struct Path {
  const char* name;
  Isa isa;
  void (*forward)(const AttentionArgs&);
  void (*backward)(const AttentionArgs&);
};

struct Result {
  std::vector<float> out, lse, dq, dk, dv;
};

// Direct loops in double: scores, softmax over the visible keys, out; gradients as in attention.h.
// want = out, lse, dq, dk, dv, concatenated. A query that sees no key: out 0, lse −inf, no gradient.
void reference(const Case& c, const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                 const std::vector<float>& dout, float scale, std::vector<double>* want) {
  const size_t nq = q.size(), nk = k.size();
  auto qat = [&](int b, int t, int h) { return (static_cast<size_t>(b) * c.Sq + t) * c.H * c.D + static_cast<size_t>(h) * c.D; };
  auto kat = [&](int b, int t, int h) { return (static_cast<size_t>(b) * c.Sk + t) * c.H * c.D + static_cast<size_t>(h) * c.D; };
  std::vector<double> out(nq, 0), lse(static_cast<size_t>(c.B) * c.H * c.Sq, 0), dq(nq, 0), dk(nk, 0), dv(nk, 0),
      p(c.Sk + 1);
  for (int b = 0; b < c.B; b++) {
    for (int h = 0; h < c.H; h++) {
      for (int i = 0; i < c.Sq; i++) {
        const int T = c.visible(b, i);
        if (T == 0) {
          lse[(static_cast<size_t>(b) * c.H + h) * c.Sq + i] = -INFINITY;
          continue;
        }
        double m = -INFINITY, l = 0;
        for (int j = 0; j < T; j++) {
          double s = 0;
          for (int d = 0; d < c.D; d++) s += static_cast<double>(q[qat(b, i, h) + d]) * k[kat(b, j, h) + d];
          p[j] = s * scale;
          m = std::fmax(m, p[j]);
        }
        for (int j = 0; j < T; j++) l += (p[j] = std::exp(p[j] - m));
        for (int j = 0; j < T; j++) p[j] /= l;
        lse[(static_cast<size_t>(b) * c.H + h) * c.Sq + i] = m + std::log(l);
        for (int j = 0; j < T; j++) {
          for (int d = 0; d < c.D; d++) out[qat(b, i, h) + d] += p[j] * v[kat(b, j, h) + d];
        }
        double delta = 0;
        for (int d = 0; d < c.D; d++) delta += out[qat(b, i, h) + d] * dout[qat(b, i, h) + d];
        for (int j = 0; j < T; j++) {
          double dp = 0;
          for (int d = 0; d < c.D; d++) dp += static_cast<double>(dout[qat(b, i, h) + d]) * v[kat(b, j, h) + d];
          const double ds = p[j] * (dp - delta);
          for (int d = 0; d < c.D; d++) {
            dv[kat(b, j, h) + d] += p[j] * dout[qat(b, i, h) + d];
            dq[qat(b, i, h) + d] += scale * ds * k[kat(b, j, h) + d];
            dk[kat(b, j, h) + d] += scale * ds * q[qat(b, i, h) + d];
          }
        }
      }
    }
  }
  for (auto* x : {&out, &lse, &dq, &dk, &dv}) want->insert(want->end(), x->begin(), x->end());
}

std::vector<float> flat(const Result& r) {
  std::vector<float> all;
  for (auto* x : {&r.out, &r.lse, &r.dq, &r.dk, &r.dv}) all.insert(all.end(), x->begin(), x->end());
  return all;
}

// Forward, then backward (dq, dk, dv) from outputs holding `start`, on `threads` OpenMP threads.
// explicit_masks: pass L_b = Sk, off_b = 0 arrays where the case has none.
Result run(const Path& path, const Case& c, const std::vector<float>& q, const std::vector<float>& k,
           const std::vector<float>& v, const std::vector<float>& dout, float scale, int threads, bool one_task_per_head,
           bool accumulate, float start, bool explicit_masks = false) {
#ifdef _OPENMP
  omp_set_num_threads(threads);
  const int slots = threads;
#else
  // Built without OpenMP flags the test cannot set the library's team size: room for any team.
  const int slots = threads + static_cast<int>(std::thread::hardware_concurrency());
#endif
  const size_t n = q.size(), nk = k.size(), rows = static_cast<size_t>(c.B) * c.H * c.Sq;
  Result r{std::vector<float>(n, 7.0f), std::vector<float>(rows, 7.0f), std::vector<float>(n, start),
           std::vector<float>(nk, start), std::vector<float>(nk, start)};
  std::vector<float> scratch(static_cast<size_t>(slots) * attention_scratch_floats(c.D));
  int Lmax = 0;
  for (int b = 0; b < c.B; b++) Lmax = std::max(Lmax, c.L(b));
  std::vector<float> kt(attention_packed_floats(c.B, Lmax, c.H, c.D)), vt(kt.size()), delta(rows);
  std::vector<float> heads(static_cast<size_t>(slots) * attention_round_up(c.Sq, kAttentionBlock) *
                           attention_round_up(c.D, kAttentionPad));
  std::vector<int32_t> full_len(c.B, c.Sk), zero_off(c.B, 0);
  AttentionArgs a{};
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.o = r.out.data();
  a.lse = r.lse.data();
  a.B = c.B;
  a.Sq = c.Sq;
  a.Sk = c.Sk;
  a.Lmax = Lmax;
  a.key_len = !c.key_len.empty() ? c.key_len.data() : explicit_masks ? full_len.data() : nullptr;
  a.q_off = !c.q_off.empty() ? c.q_off.data() : explicit_masks ? zero_off.data() : nullptr;
  a.H = c.H;
  a.D = c.D;
  a.causal = c.causal;
  a.scale = scale;
  a.parallel = true;
  a.scratch = scratch.data();
  a.scratch_stride = attention_scratch_floats(c.D);
  a.kt = kt.data();
  a.vt = vt.data();
  path.forward(a);
  a.out = r.out.data();
  a.dout = dout.data();
  a.dq = r.dq.data();
  a.dk = r.dk.data();
  a.dv = r.dv.data();
  a.delta = delta.data();
  a.accumulate = accumulate;
  a.dq_heads = one_task_per_head ? heads.data() : nullptr;
  path.backward(a);
  return r;
}

void check_close(const char* what, const Path& path, const Case& c, const std::vector<float>& got,
                 const std::vector<double>& want, double shift) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); i++) {
    if (std::isnan(got[i])) {  // fmax below would skip it
      worst = INFINITY;
      break;
    }
    if (std::isinf(want[i])) {  // the lse of a query that sees no key
      if (!(got[i] == want[i])) worst = INFINITY;
      continue;
    }
    const double err = std::fabs(got[i] - (want[i] + shift)), tol = 2e-6 + 1e-5 * std::fabs(want[i]) + 1e-6 * std::fabs(shift);
    worst = std::fmax(worst, err / tol);
  }
  if (!(worst <= 1.0)) {
    std::printf("FAIL %s %s B=%d Sq=%d Sk=%d H=%d D=%d causal=%d masked=%d: worst error %.2f x tolerance\n", path.name,
                what, c.B, c.Sq, c.Sk, c.H, c.D, c.causal, !c.key_len.empty(), worst);
    failures++;
  }
}

void check_same(const char* what, const Path& path, const Case& c, const std::vector<float>& a,
                const std::vector<float>& b) {
  if (a != b) {
    std::printf("FAIL %s %s B=%d Sq=%d Sk=%d H=%d D=%d causal=%d masked=%d: bits differ\n", path.name, what, c.B, c.Sq,
                c.Sk, c.H, c.D, c.causal, !c.key_len.empty());
    failures++;
  }
}

}  // namespace

int main() {
  const Path paths[] = {{"scalar", Isa::kScalar, attention_forward_scalar, attention_backward_scalar},
                        {"avx2", Isa::kAvx2, attention_forward_avx2, attention_backward_avx2},
                        {"avx512", Isa::kAvx512, attention_forward_avx512, attention_backward_avx512}};
  const Isa hardware = detect_hardware_isa();
  const Case cases[] = {
      unmasked(1, 1, 1, 1, true), unmasked(2, 7, 3, 5, true), unmasked(2, 7, 3, 5, false), unmasked(3, 16, 2, 8, true),
      unmasked(1, 33, 4, 16, false), unmasked(2, 130, 3, 20, true), unmasked(1, 200, 2, 64, false),
      unmasked(1, 129, 1, 48, true),
      // Masked: key lengths 0, Sk and between; offsets 0, inside and past the keys; Sq != Sk.
      {4, 7, 20, 3, 5, true, {0, 20, 9, 13}, {0, 3, 2, 25}},
      {4, 7, 20, 3, 5, false, {0, 20, 9, 13}, {0, 3, 2, 25}},
      {3, 70, 150, 2, 20, true, {150, 0, 97}, {80, 5, 0}},
      {3, 70, 150, 2, 20, false, {150, 0, 97}, {80, 5, 0}},
      {3, 130, 130, 2, 16, true, {130, 67, 64}, {}},  // a right-padded prefill
      {2, 1, 200, 4, 32, true, {131, 1}, {130, 0}},   // one decode step on a cache of 200
      {2, 3, 200, 2, 8, true, {68, 200}, {65, 197}},  // three new tokens at a time
      {2, 64, 64, 1, 4, true, {}, {10, 0}},            // offsets alone
  };
  for (const Path& path : paths) {
    if (static_cast<int>(path.isa) > static_cast<int>(hardware)) {
      std::printf("skip %s: this CPU lacks it\n", path.name);
      continue;
    }
    for (const Case& c : cases) {
      const size_t n = static_cast<size_t>(c.B) * c.Sq * c.H * c.D, nk = static_cast<size_t>(c.B) * c.Sk * c.H * c.D;
      std::mt19937 rng(1000 * c.Sq + 10 * c.Sk + c.D);
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      std::vector<float> q(n), k(nk), v(nk), dout(n);
      for (auto* x : {&q, &k, &v, &dout}) {
        for (float& e : *x) e = u(rng);
      }
      std::vector<double> want;
      reference(c, q, k, v, dout, scale_of(c), &want);
      // Keys past L_b are never read: a KV cache may hold anything there.
      for (int b = 0; b < c.B; b++) {
        for (size_t e = (static_cast<size_t>(b) * c.Sk + c.L(b)) * c.H * c.D; e < (b + 1) * (nk / c.B); e++) {
          k[e] = NAN;
          v[e] = NAN;
        }
      }
      const float scale = scale_of(c);
      const std::vector<float> base = flat(run(path, c, q, k, v, dout, scale, 2, false, false, 0.0f));
      check_close("two-pass vs double loop", path, c, base, want, 0.0);
      if (c.key_len.empty() && c.q_off.empty()) {
        check_same("explicit full masks vs none", path, c, base, flat(run(path, c, q, k, v, dout, scale, 2, false, false, 0.0f, true)));
      }
      check_same("one task per head vs two passes", path, c, base, flat(run(path, c, q, k, v, dout, scale, 2, true, false, 0.0f)));
      for (int threads : {1, 3}) {
        check_same("other thread count, two passes", path, c, base, flat(run(path, c, q, k, v, dout, scale, threads, false, false, 0.0f)));
        check_same("other thread count, per head", path, c, base, flat(run(path, c, q, k, v, dout, scale, threads, true, false, 0.0f)));
      }
      // Accumulate: the gradients land on top of 0.5; out and lse are unaffected.
      const Result acc = run(path, c, q, k, v, dout, scale, 2, false, true, 0.5f);
      const size_t rows = static_cast<size_t>(c.B) * c.H * c.Sq;
      std::vector<double> want_grads(want.begin() + static_cast<long>(n + rows), want.end());
      std::vector<float> got_grads;
      for (auto* x : {&acc.dq, &acc.dk, &acc.dv}) got_grads.insert(got_grads.end(), x->begin(), x->end());
      check_close("accumulate onto 0.5", path, c, got_grads, want_grads, 0.5);
    }
    std::printf("%s: checked\n", path.name);
  }
  std::printf("%s\n", failures == 0 ? "attention_paths_test: OK" : "attention_paths_test: FAILED");
  return failures == 0 ? 0 : 1;
}
