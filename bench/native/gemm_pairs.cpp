// Paired GEMM timing, y = x W^T, FactRL's CPU GEMM vs OpenBLAS cblas_sgemm, alternating call by call
// so that a busy shared machine slows both alike; prints the median and quartiles of the per-pair
// time ratio (OpenBLAS / FactRL; above 1: FactRL faster) and each side's best GFLOP/s. A cross-check of
// GemmBench (JMH runs one method's iterations after the other's, so load drift enters its ratio).
//
//   g++ -O2 -std=c++17 -Inative/src bench/native/gemm_pairs.cpp -o /tmp/gemm_pairs \
//       -Ltarget/cmake -lfactrl -ldl -Wl,-rpath,$PWD/target/cmake
//   /tmp/gemm_pairs ~/.cache/factrl-javacpp/openblas-*/org/bytedeco/openblas/linux-x86_64/libopenblas.so.0 2 40
//   (arguments: OpenBLAS library, OpenBLAS threads = OMP_NUM_THREADS, pairs per shape)
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "cpu/gemm.h"

using frl::cpu::GemmSegment;
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                         int);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s libopenblas.so [threads [pairs]]\n", argv[0]);
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW);
  if (lib == nullptr) {
    std::fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  auto sgemm = reinterpret_cast<sgemm_fn>(dlsym(lib, "cblas_sgemm"));
  auto set_threads = reinterpret_cast<void (*)(int)>(dlsym(lib, "openblas_set_num_threads"));
  set_threads(argc > 2 ? std::atoi(argv[2]) : 2);
  const int pairs = argc > 3 ? std::atoi(argv[3]) : 40;
  const int shapes[][3] = {{256, 512, 512}, {1024, 1024, 1024}, {4096, 512, 512}};  // tokens x in x out
  std::printf("FactRL CPU GEMM kernels: %s\n", frl::cpu::isa_name(frl::cpu::gemm_isa()));
  for (const auto& s : shapes) {
    const int M = s[0], K = s[1], N = s[2];
    std::vector<float> x(static_cast<size_t>(M) * K), w(static_cast<size_t>(N) * K), y(static_cast<size_t>(M) * N);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : x) v = u(rng);
    for (float& v : w) v = u(rng);
    const GemmSegment seg{{x.data(), K, 1}, {w.data(), 1, K}, K, 1.0f};
    std::vector<double> ours, theirs, ratio;
    for (int i = 0; i < pairs + 2; i++) {  // the first two pairs warm up
      auto t0 = std::chrono::steady_clock::now();
      frl::cpu::gemm(M, N, &seg, 1, y.data(), N, false);
      auto t1 = std::chrono::steady_clock::now();
      sgemm(101 /* RowMajor */, 111 /* NoTrans */, 112 /* Trans */, M, N, K, 1.0f, x.data(), K, w.data(), K, 0.0f,
            y.data(), N);
      auto t2 = std::chrono::steady_clock::now();
      if (i < 2) continue;
      ours.push_back(std::chrono::duration<double>(t1 - t0).count());
      theirs.push_back(std::chrono::duration<double>(t2 - t1).count());
      ratio.push_back(theirs.back() / ours.back());
    }
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    std::sort(ratio.begin(), ratio.end());
    const double flop = 2.0 * M * N * K;
    std::printf("%dx%dx%d: best FactRL %.1f GFLOP/s, OpenBLAS %.1f; ratio OpenBLAS/FactRL median %.2f (quartiles %.2f-%.2f)\n",
                M, K, N, flop / ours[0] / 1e9, flop / theirs[0] / 1e9, ratio[pairs / 2], ratio[pairs / 4],
                ratio[3 * pairs / 4]);
  }
  return 0;
}
