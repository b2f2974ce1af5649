// Element types and the host-side bf16 conversion used for tensor I/O.
#include <cmath>
#include <cstring>

#include "engine.h"

namespace frl {

size_t dtype_size(frl_dtype dtype) {
  switch (dtype) {
    case FRL_F32: return 4;
    case FRL_BF16: return 2;
    case FRL_I32: return 4;
  }
  throw Error(FRL_ERR_ARGUMENT, format("unknown dtype %d", static_cast<int>(dtype)));
}

const char* dtype_name(frl_dtype dtype) {
  switch (dtype) {
    case FRL_F32: return "f32";
    case FRL_BF16: return "bf16";
    case FRL_I32: return "i32";
  }
  return "unknown";
}

// bf16 is the top half of an fp32. Round to nearest, ties to even; NaN stays a (quiet) NaN.
uint16_t f32_to_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if (std::isnan(x)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float bf16_to_f32(uint16_t x) {
  uint32_t bits = static_cast<uint32_t>(x) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace frl
