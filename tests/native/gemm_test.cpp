// The CPU GEMM (native/src/cpu/gemm.h) against a plain double-precision loop, on every instruction
// set this machine supports, its bits across thread counts, and the few-rows path's bits against the
// blocked path's. Run by ctest (Maven's test phase);
// the gemm_dispatch_* ctest entries run its dispatch check under each FACTRL_CPU_ISA value.
//
// Tolerance: |C - ref| <= 1e-5 * (sum_s sum_k |alpha_s A_s(i,k) B_s(k,j)| + |C0(i,j)|) + 1e-30. The
// worst-case bound of an fp32 sum of K terms is about K * 6e-8 times that magnitude (6.6e-5 at the
// largest K here, 1100), but rounding errors of random data grow like sqrt(K) * 6e-8 (~2e-6), so 1e-5
// has a wide margin while a packing or indexing bug (an error of O(1) of the magnitude) fails.
//
// Exit status 0 when every check passes; each failure prints one line.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "cpu/gemm.h"
#include "factrl.h"

using frl::cpu::GemmPath;
using frl::cpu::GemmSegment;
using frl::cpu::Isa;
using frl::cpu::MatView;

namespace {

int failures = 0;
int checks = 0;

void fail(const std::string& what) {
  failures++;
  if (failures <= 20) std::printf("FAIL %s\n", what.c_str());
}

// A matrix of rows x cols stored in one of three layouts: 0 row-major (ld = cols + pad), 1 column-
// major (ld = rows + pad), 2 neither stride unit (element (i, j) at 2 i + (2 rows + 1) j).
struct Strided {
  std::vector<float> data;
  MatView view;

  Strided(int64_t rows, int64_t cols, int layout, int64_t pad, std::mt19937& rng) {
    int64_t rs, cs, size;
    if (layout == 0) {
      rs = cols + pad, cs = 1, size = rows * rs;
    } else if (layout == 1) {
      rs = 1, cs = rows + pad, size = cols * cs;
    } else {
      rs = 2, cs = 2 * rows + 1, size = cols * cs + 2 * rows;
    }
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    data.resize(static_cast<size_t>(size > 0 ? size : 1));
    for (float& v : data) v = u(rng);
    view = MatView{data.data(), rs, cs};
  }
};

struct Problem {
  int64_t M, N;
  std::vector<Strided> a, b;
  std::vector<GemmSegment> segs;
  std::vector<float> c0;  // initial C (ldc x M)
  int64_t ldc;
  bool accumulate;

  Problem(int64_t M_, int64_t N_, const std::vector<int64_t>& ks, const std::vector<float>& alphas, int la, int lb,
          int64_t ldc_pad, bool acc, uint32_t seed)
      : M(M_), N(N_), ldc(N_ + ldc_pad), accumulate(acc) {
    std::mt19937 rng(seed);
    for (size_t s = 0; s < ks.size(); s++) {
      a.emplace_back(M, ks[s], la, 3, rng);
      b.emplace_back(ks[s], N, lb, 5, rng);
    }
    for (size_t s = 0; s < ks.size(); s++) segs.push_back(GemmSegment{a[s].view, b[s].view, ks[s], alphas[s]});
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    c0.resize(static_cast<size_t>(M * ldc));
    for (float& v : c0) v = u(rng);
  }

  std::vector<float> run(Isa isa, GemmPath path = GemmPath::kAuto) const {
    std::vector<float> c = c0;
    frl::cpu::gemm_with_path(isa, path, M, N, segs.data(), static_cast<int>(segs.size()), c.data(), ldc, accumulate);
    return c;
  }

  // The double loop, once per problem: ref[i * ldc + j] and the sum of magnitudes mag (for the tolerance).
  mutable std::vector<double> ref, mag;

  void reference() const {
    if (!ref.empty()) return;
    ref.assign(c0.size(), 0.0);
    mag.assign(c0.size(), 0.0);
    for (int64_t i = 0; i < M; i++) {
      for (int64_t j = 0; j < N; j++) {
        double r = accumulate ? c0[i * ldc + j] : 0.0, m = accumulate ? std::fabs(c0[i * ldc + j]) : 0.0;
        for (const GemmSegment& s : segs) {
          for (int64_t k = 0; k < s.k; k++) {
            const double t = static_cast<double>(s.alpha) * s.a.p[i * s.a.rs + k * s.a.cs] * s.b.p[k * s.b.rs + j * s.b.cs];
            r += t;
            m += std::fabs(t);
          }
        }
        ref[i * ldc + j] = r;
        mag[i * ldc + j] = m;
      }
    }
  }

  // Checks c against the double loop; the padding columns of C must be untouched.
  void check(const std::vector<float>& c, const std::string& name) const {
    reference();
    checks++;
    for (int64_t i = 0; i < M; i++) {
      for (int64_t j = 0; j < ldc; j++) {
        const float got = c[i * ldc + j];
        if (j >= N) {
          if (got != c0[i * ldc + j]) return fail(name + ": padding column of C written");
          continue;
        }
        const double want = ref[i * ldc + j], tol = 1e-5 * mag[i * ldc + j] + 1e-30;
        if (!(std::fabs(got - want) <= tol)) {
          char buf[160];
          std::snprintf(buf, sizeof buf, ": C[%lld,%lld] = %.8g, reference %.8g (tolerance %.3g)",
                        static_cast<long long>(i), static_cast<long long>(j), got, want, tol);
          return fail(name + buf);
        }
      }
    }
  }
};

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
    if (frl::cpu::isa_supported(isa)) out.push_back(isa);
  return out;
}

std::string shape_name(const char* what, Isa isa, int64_t M, int64_t N, const std::vector<int64_t>& ks, int la, int lb,
                       bool acc) {
  std::string k;
  for (int64_t v : ks) k += (k.empty() ? "" : "+") + std::to_string(v);
  return std::string(what) + " " + frl::cpu::isa_name(isa) + " M=" + std::to_string(M) + " N=" + std::to_string(N) +
         " K=" + k + " layouts A" + std::to_string(la) + " B" + std::to_string(lb) + (acc ? " accumulate" : "");
}

// Every odd size in each of M, N, K, one segment, layouts / accumulate / ldc padding rotating.
void test_odd_shapes() {
  const int64_t sizes[] = {1, 7, 17, 63, 65, 257};
  int idx = 0;
  for (int64_t M : sizes)
    for (int64_t N : sizes)
      for (int64_t K : sizes) {
        const int la = idx % 3, lb = (idx / 3) % 3;
        const bool acc = (idx / 9) % 2 == 1;
        Problem p(M, N, {K}, {1.0f}, la, lb, idx % 4 == 0 ? 5 : 0, acc, 1000 + idx);
        for (Isa isa : supported_isas()) p.check(p.run(isa), shape_name("odd", isa, M, N, {K}, la, lb, acc));
        idx++;
      }
}

// Several segments (a rank-r term, a 1-wide term, negative alpha); blocks past KC, MC and NC.
void test_segments_and_blocks() {
  struct Case {
    int64_t M, N;
    std::vector<int64_t> ks;
    std::vector<float> alphas;
  };
  const Case cases[] = {
      {65, 257, {257, 16, 1}, {1.0f, 0.25f, -2.0f}},
      {257, 17, {63, 16}, {1.0f, 0.5f}},
      {16, 512, {256}, {0.25f}},       // dA = s v^T x (r = 16 rows)
      {512, 16, {256}, {0.25f}},       // dB = s g^T u (r = 16 columns)
      {130, 2100, {600, 7}, {1.0f, 3.0f}},  // two NC panels, several KC blocks, two MC blocks
      {9, 40, {1100}, {1.0f}},              // three KC blocks of every ISA
      {2100, 33, {530, 16}, {1.0f, 0.25f}},  // tall: a private copy of B per thread, two k blocks + r
  };
  int idx = 0;
  for (const Case& c : cases) {
    for (int layouts = 0; layouts < 4; layouts++) {
      const int la = layouts % 2, lb = layouts / 2;  // the layouts the layers use (row / column major)
      const bool acc = (idx + layouts) % 2 == 1;
      Problem p(c.M, c.N, c.ks, c.alphas, la, lb, 3, acc, 5000 + 10 * idx + layouts);
      for (Isa isa : supported_isas()) p.check(p.run(isa), shape_name("segments", isa, c.M, c.N, c.ks, la, lb, acc));
    }
    idx++;
  }
}

// No k at all: C becomes 0 (overwrite) or stays (accumulate).
void test_empty_k() {
  for (bool acc : {false, true}) {
    Problem p(7, 9, {0}, {1.0f}, 0, 0, 2, acc, 77);
    for (Isa isa : supported_isas()) p.check(p.run(isa), shape_name("empty-k", isa, 7, 9, {0}, 0, 0, acc));
  }
}

// The same bits with 1, 2, 3, 4 and 7 threads (the layers' shapes, skinny LoRA terms, odd edges).
void test_thread_counts() {
  struct Case {
    int64_t M, N;
    std::vector<int64_t> ks;
    int la, lb;
  };
  const Case cases[] = {
      {256, 512, {512}, 0, 1},       // y = x W^T
      {256, 512, {512, 16}, 0, 1},   // y = x W^T + s u B^T
      {16, 512, {256}, 1, 0},        // dA
      {512, 16, {256}, 1, 0},        // dB
      {7, 2100, {33}, 0, 0},
      {1000, 300, {70, 9}, 2, 2},
      {64, 96, {1030}, 0, 1},        // three k blocks of every ISA
      {64, 16, {512}, 0, 1},         // u = x A^T for 64 tokens: one row block and one panel at most
      {2100, 70, {600, 16}, 0, 1},   // tall: every thread packs its own B (gemm_private_b)
  };
  const int counts[] = {1, 2, 3, 4, 7};
  int idx = 0;
  for (const Case& c : cases) {
    std::vector<float> alphas(c.ks.size(), 0.5f);
    Problem p(c.M, c.N, c.ks, alphas, c.la, c.lb, 1, idx % 2 == 1, 9000 + idx);
    for (Isa isa : supported_isas()) {
      std::vector<float> first;
      for (int t : counts) {
        omp_set_num_threads(t);
        std::vector<float> c_t = p.run(isa);
        checks++;
        if (first.empty()) {
          first = c_t;
          p.check(c_t, shape_name("threads", isa, c.M, c.N, c.ks, c.la, c.lb, p.accumulate));
        } else if (std::memcmp(first.data(), c_t.data(), first.size() * sizeof(float)) != 0) {
          fail(shape_name("threads", isa, c.M, c.N, c.ks, c.la, c.lb, p.accumulate) + ": " + std::to_string(t) +
               " threads give other bits than 1 thread");
        }
      }
    }
    idx++;
  }
  omp_set_num_threads(omp_get_num_procs());
}

// The few-rows path (gemm_few_rows.h: B read in place) gives the blocked path's bits on every ISA,
// for the row counts it is chosen for and past them (several 16-row passes), with segments, alphas,
// k blocks past KC, every layout, accumulate, odd column tails, and any thread count.
void test_few_rows() {
  struct Case {
    int64_t M, N;
    std::vector<int64_t> ks;
    std::vector<float> alphas;
  };
  const Case cases[] = {
      {1, 192, {192}, {1.0f}},               // a decode step at batch 1: y = x W^T
      {8, 835, {192}, {1.0f}},               // batch 8, the LM head (an odd column tail)
      {3, 512, {192, 16}, {1.0f, 0.5f}},     // with a LoRA term s u B^T
      {5, 17, {1100}, {1.0f}},               // three KC blocks of every ISA
      {13, 70, {257, 7, 1}, {0.25f, -2.0f, 3.0f}},
      {16, 63, {65}, {1.0f}},
      {21, 33, {300}, {1.0f}},               // two 16-row passes, forced (auto takes the blocked path)
  };
  const int counts[] = {1, 2, 3};
  int idx = 0;
  for (const Case& c : cases) {
    for (int layouts = 0; layouts < 9; layouts++) {
      const int la = layouts % 3, lb = layouts / 3;
      const bool acc = (idx + layouts) % 2 == 1;
      Problem p(c.M, c.N, c.ks, c.alphas, la, lb, layouts % 2 == 0 ? 3 : 0, acc, 7000 + 10 * idx + layouts);
      for (Isa isa : supported_isas()) {
        const std::string name = shape_name("few-rows", isa, c.M, c.N, c.ks, la, lb, acc);
        const std::vector<float> blocked = p.run(isa, GemmPath::kBlocked);
        for (int t : counts) {
          omp_set_num_threads(t);
          const std::vector<float> few = p.run(isa, GemmPath::kFewRows);
          if (t == 1) p.check(few, name);
          checks++;
          if (std::memcmp(few.data(), blocked.data(), few.size() * sizeof(float)) != 0)
            fail(name + ": " + std::to_string(t) + " threads: other bits than the blocked path");
        }
      }
    }
    idx++;
  }
  omp_set_num_threads(omp_get_num_procs());
}

// FACTRL_CPU_ISA lowers the dispatched ISA (never above what the CPU has), frl_cpu_isa reports it,
// and gemm() runs exactly that ISA's kernels.
void test_dispatch() {
  Isa best = Isa::kScalar;
  for (Isa isa : supported_isas()) best = isa;
  Isa expected = best;
  const char* want = std::getenv("FACTRL_CPU_ISA");
  if (want != nullptr)
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
      if (std::strcmp(want, frl::cpu::isa_name(isa)) == 0 && static_cast<int>(isa) <= static_cast<int>(best)) expected = isa;
  checks++;
  if (frl::cpu::gemm_isa() != expected || std::strcmp(frl_cpu_isa(), frl::cpu::isa_name(expected)) != 0)
    fail(std::string("dispatch: FACTRL_CPU_ISA=") + (want ? want : "(unset)") + " gave " + frl_cpu_isa() +
         ", expected " + frl::cpu::isa_name(expected));
  Problem p(65, 63, {257}, {1.0f}, 0, 1, 0, false, 4242);
  std::vector<float> c = p.c0;
  frl::cpu::gemm(p.M, p.N, p.segs.data(), 1, c.data(), p.ldc, false);
  checks++;
  if (std::memcmp(c.data(), p.run(expected).data(), c.size() * sizeof(float)) != 0)
    fail("dispatch: gemm() differs from the kernels of " + std::string(frl::cpu::isa_name(expected)));
}

}  // namespace

// With the argument "dispatch" only the dispatch check runs (ctest runs it under several
// FACTRL_CPU_ISA values; the full run covers every ISA path by itself).
int main(int argc, char** argv) {
  std::printf("gemm_test: cpu isa %s (FACTRL_CPU_ISA=%s, %d OpenMP threads); paths tested:", frl_cpu_isa(),
              std::getenv("FACTRL_CPU_ISA") ? std::getenv("FACTRL_CPU_ISA") : "unset", omp_get_max_threads());
  for (Isa isa : supported_isas()) std::printf(" %s", frl::cpu::isa_name(isa));
  std::printf("\n");
  test_dispatch();
  if (!(argc > 1 && std::strcmp(argv[1], "dispatch") == 0)) {
    test_empty_k();
    test_odd_shapes();
    test_segments_and_blocks();
    test_thread_counts();
    test_few_rows();
  }
  std::printf("gemm_test: %d checks, %d failures\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
