// The operand views of the CPU GEMM (gemm.h), in a header of plain types that the per-ISA kernel
// files can include (they must not include cpu/isa.h: see there).
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// A strided fp32 matrix view: element (i, j) is p[i * rs + j * cs].
struct MatView {
  const float* p;
  int64_t rs, cs;
};

// One term of a K-augmented product: alpha * A[M x k] * B[k x N].
struct GemmSegment {
  MatView a, b;
  int64_t k;
  float alpha;
};

}  // namespace cpu
}  // namespace frl
