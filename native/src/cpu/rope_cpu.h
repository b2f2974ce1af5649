// CPU reference of rotary position embedding (fp32, OpenMP). Math: factrl/rope.h.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// x, y [T, H, D] with T = B·S tokens, positions [T]; rotates by +φ (or −φ when inverse); y is
// overwritten, or the rotation is added into it when accumulate.
void rope(const float* x, const int32_t* positions, float base, bool inverse, float* y, int64_t T, int64_t H,
          int64_t D, bool accumulate);

}  // namespace cpu
}  // namespace frl
