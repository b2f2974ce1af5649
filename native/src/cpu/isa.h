// Which SIMD instruction set the CPU kernels use, chosen once per process at run time.
//
// Build machines and run machines differ (some lack AVX-512), so the library is compiled for
// baseline x86-64 and each SIMD kernel lives in its own translation unit compiled with its ISA flags
// (files named *_avx512.cpp / *_avx2.cpp, see CMakeLists.txt). A dispatcher compiled for the
// baseline calls cpu_isa() and runs the matching unit: no AVX instruction ever runs on a CPU (or
// an OS) without it.
//
// FACTRL_CPU_ISA=avx512|avx2|scalar forces a path, for tests and benchmarks; it is read once, and
// can only lower the choice (asking for AVX-512 on an AVX2-only machine gives AVX2). An unknown
// value is ignored with a warning on stderr.
//
// Include this header only from translation units compiled for the baseline ISA: an inline function
// compiled with -mavx512f in one unit could be the copy the linker keeps for every unit.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace frl {
namespace cpu {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "scalar";
  }
}

// The best path this CPU and OS support (AVX2 paths also need FMA).
inline Isa detect_hardware_isa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kScalar;
}

// The hardware's best path, lowered by FACTRL_CPU_ISA when it names a lower one.
inline Isa detect_isa() {
  const Isa hardware = detect_hardware_isa();
  const char* forced = std::getenv("FACTRL_CPU_ISA");
  if (forced == nullptr || *forced == '\0') return hardware;
  Isa wanted;
  if (std::strcmp(forced, "avx512") == 0) {
    wanted = Isa::kAvx512;
  } else if (std::strcmp(forced, "avx2") == 0) {
    wanted = Isa::kAvx2;
  } else if (std::strcmp(forced, "scalar") == 0) {
    wanted = Isa::kScalar;
  } else {
    std::fprintf(stderr, "factrl: ignoring FACTRL_CPU_ISA=%s (expected avx512, avx2 or scalar)\n", forced);
    return hardware;
  }
  return static_cast<int>(wanted) < static_cast<int>(hardware) ? wanted : hardware;
}

// The path every CPU kernel uses, decided on first call (thread-safe static initialisation).
inline Isa cpu_isa() {
  static const Isa isa = detect_isa();
  return isa;
}

}  // namespace cpu
}  // namespace frl
