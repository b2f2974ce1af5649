// The CPU attention kernels on every SIMD path this machine supports (scalar, AVX2, AVX-512: the
// ones the hardware lacks are skipped, never run), against a direct double-precision loop, and the
// promises the Java tests cannot reach through the C API:
//  - the one-task-per-head backward and the two-pass backward give the same bits;
//  - the bits do not depend on the OpenMP thread count (1, 2, 3 threads);
//  - accumulate = true adds the gradient to what the outputs hold.
//
// Tolerance vs the double loop: |ours − want| <= 2e-6 + 1e-5 |want| (as AttentionTest: inputs
// uniform in [−1, 1), fp32 dot products of length D <= 64 and sums over <= 200 keys). Accumulate:
// outputs start at c, must end at c + gradient within the same tolerance plus 1 ulp of c.
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
  int B, S, H, D;
  bool causal;
};

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
// want = out, lse, dq, dk, dv, concatenated.
void reference(const Case& c, const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                 const std::vector<float>& dout, float scale, std::vector<double>* want) {
  const size_t n = q.size();
  auto at = [&](int b, int t, int h) { return (static_cast<size_t>(b) * c.S + t) * c.H * c.D + static_cast<size_t>(h) * c.D; };
  std::vector<double> out(n, 0), lse(static_cast<size_t>(c.B) * c.H * c.S, 0), dq(n, 0), dk(n, 0), dv(n, 0), p(c.S);
  for (int b = 0; b < c.B; b++) {
    for (int h = 0; h < c.H; h++) {
      for (int i = 0; i < c.S; i++) {
        const int T = c.causal ? i + 1 : c.S;
        double m = -INFINITY, l = 0;
        for (int j = 0; j < T; j++) {
          double s = 0;
          for (int d = 0; d < c.D; d++) s += static_cast<double>(q[at(b, i, h) + d]) * k[at(b, j, h) + d];
          p[j] = s * scale;
          m = std::fmax(m, p[j]);
        }
        for (int j = 0; j < T; j++) l += (p[j] = std::exp(p[j] - m));
        for (int j = 0; j < T; j++) p[j] /= l;
        lse[(static_cast<size_t>(b) * c.H + h) * c.S + i] = m + std::log(l);
        for (int j = 0; j < T; j++) {
          for (int d = 0; d < c.D; d++) out[at(b, i, h) + d] += p[j] * v[at(b, j, h) + d];
        }
        double delta = 0;
        for (int d = 0; d < c.D; d++) delta += out[at(b, i, h) + d] * dout[at(b, i, h) + d];
        for (int j = 0; j < T; j++) {
          double dp = 0;
          for (int d = 0; d < c.D; d++) dp += static_cast<double>(dout[at(b, i, h) + d]) * v[at(b, j, h) + d];
          const double ds = p[j] * (dp - delta);
          for (int d = 0; d < c.D; d++) {
            dv[at(b, j, h) + d] += p[j] * dout[at(b, i, h) + d];
            dq[at(b, i, h) + d] += scale * ds * k[at(b, j, h) + d];
            dk[at(b, j, h) + d] += scale * ds * q[at(b, i, h) + d];
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
Result run(const Path& path, const Case& c, const std::vector<float>& q, const std::vector<float>& k,
           const std::vector<float>& v, const std::vector<float>& dout, float scale, int threads, bool one_task_per_head,
           bool accumulate, float start) {
#ifdef _OPENMP
  omp_set_num_threads(threads);
  const int slots = threads;
#else
  // Built without OpenMP flags the test cannot set the library's team size: room for any team.
  const int slots = threads + static_cast<int>(std::thread::hardware_concurrency());
#endif
  const size_t n = q.size(), rows = static_cast<size_t>(c.B) * c.H * c.S;
  Result r{std::vector<float>(n, 7.0f), std::vector<float>(rows, 7.0f), std::vector<float>(n, start),
           std::vector<float>(n, start), std::vector<float>(n, start)};
  std::vector<float> scratch(static_cast<size_t>(slots) * attention_scratch_floats(c.D));
  std::vector<float> kt(attention_packed_floats(c.B, c.S, c.H, c.D)), vt(kt.size()), delta(rows);
  std::vector<float> heads(static_cast<size_t>(slots) * attention_round_up(c.S, kAttentionBlock) *
                           attention_round_up(c.D, kAttentionPad));
  AttentionArgs a{};
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.o = r.out.data();
  a.lse = r.lse.data();
  a.B = c.B;
  a.S = c.S;
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
    const double err = std::fabs(got[i] - (want[i] + shift)), tol = 2e-6 + 1e-5 * std::fabs(want[i]) + 1e-6 * std::fabs(shift);
    worst = std::fmax(worst, err / tol);
  }
  if (!(worst <= 1.0)) {
    std::printf("FAIL %s %s B=%d S=%d H=%d D=%d causal=%d: worst error %.2f x tolerance\n", path.name, what, c.B, c.S,
                c.H, c.D, c.causal, worst);
    failures++;
  }
}

void check_same(const char* what, const Path& path, const Case& c, const std::vector<float>& a,
                const std::vector<float>& b) {
  if (a != b) {
    std::printf("FAIL %s %s B=%d S=%d H=%d D=%d causal=%d: bits differ\n", path.name, what, c.B, c.S, c.H, c.D, c.causal);
    failures++;
  }
}

}  // namespace

int main() {
  const Path paths[] = {{"scalar", Isa::kScalar, attention_forward_scalar, attention_backward_scalar},
                        {"avx2", Isa::kAvx2, attention_forward_avx2, attention_backward_avx2},
                        {"avx512", Isa::kAvx512, attention_forward_avx512, attention_backward_avx512}};
  const Isa hardware = detect_hardware_isa();
  const Case cases[] = {{1, 1, 1, 1, true},  {2, 7, 3, 5, true},    {2, 7, 3, 5, false},  {3, 16, 2, 8, true},
                        {1, 33, 4, 16, false}, {2, 130, 3, 20, true}, {1, 200, 2, 64, false}, {1, 129, 1, 48, true}};
  for (const Path& path : paths) {
    if (static_cast<int>(path.isa) > static_cast<int>(hardware)) {
      std::printf("skip %s: this CPU lacks it\n", path.name);
      continue;
    }
    for (const Case& c : cases) {
      const size_t n = static_cast<size_t>(c.B) * c.S * c.H * c.D;
      std::mt19937 rng(1000 * c.S + c.D);
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      std::vector<float> q(n), k(n), v(n), dout(n);
      for (auto* x : {&q, &k, &v, &dout}) {
        for (float& e : *x) e = u(rng);
      }
      const float scale = 1.0f / std::sqrt(static_cast<float>(c.D));
      std::vector<double> want;
      reference(c, q, k, v, dout, scale, &want);
      const std::vector<float> base = flat(run(path, c, q, k, v, dout, scale, 2, false, false, 0.0f));
      check_close("two-pass vs double loop", path, c, base, want, 0.0);
      check_same("one task per head vs two passes", path, c, base, flat(run(path, c, q, k, v, dout, scale, 2, true, false, 0.0f)));
      for (int threads : {1, 3}) {
        check_same("other thread count, two passes", path, c, base, flat(run(path, c, q, k, v, dout, scale, threads, false, false, 0.0f)));
        check_same("other thread count, per head", path, c, base, flat(run(path, c, q, k, v, dout, scale, threads, true, false, 0.0f)));
      }
      // Accumulate: the gradients land on top of 0.5; out and lse are unaffected.
      const Result acc = run(path, c, q, k, v, dout, scale, 2, false, true, 0.5f);
      const size_t rows = static_cast<size_t>(c.B) * c.H * c.S;
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
