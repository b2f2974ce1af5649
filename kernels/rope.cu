// CUDA kernel of rotary position embedding (factrl/rope.h), storage float or bf16 (template
// parameter T), math in fp32, one rounding per stored element. One thread per rotated pair
// (t, h, i), i < D/2, grid-stride; the thread reads x[i] and x[i + D/2] before writing either, so y
// may alias x.
//
// The angles follow the CPU reference (cpu/rope_cpu.cpp) operation by operation, with IEEE-rounded
// intrinsics because the library builds with --use_fast_math (which would make '/' approximate and
// sinf/cosf the short-range __sinf/__cosf, off by far more than an ulp at φ in the thousands):
//   e   = fp32(2i) / fp32(D)             __fdiv_rn
//   θ_i = 1 / fp32(base^e)               pow in double, rounded once to fp32 (libm powf is
//                                        correctly rounded in practice: the same θ), __frcp_rn
//   φ   = fp32(p) · θ_i                  __fmul_rn (no contraction)
//   c, s = cos φ, sin φ                  in double from the fp32 φ, rounded once (again libm's
//                                        correctly rounded cosf/sinf)
// so c and s match the CPU's to the last bit except on rare double-rounding ties; the rotation
// itself may fuse into FMAs (an ulp of the output).
#include <cstdint>

#include "cuda_common.cuh"
#include "rope.cuh"

namespace frl {
namespace {

// y[i] = x[i]·c − x[i+h]·s, y[i+h] = x[i+h]·c + x[i]·s (h = D/2), s negated when inverse.
template <typename T>
__global__ void rope_kernel(const T* x, const int32_t* positions, float base, bool inverse, T* y, int64_t T_tokens,
                            int64_t S, int64_t H, int64_t D, bool accumulate, DeviceErrorRecord* errors) {
  const int64_t half = D / 2;
  const int64_t total = T_tokens * H * half;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += gridDim.x * static_cast<int64_t>(blockDim.x)) {
    const int64_t i = k % half;
    const int64_t th = k / half;  // t·H + h
    const int64_t t = th / H;
    const int32_t p = positions[t];
    if (p < 0) {
      if (th % H == 0 && i == 0) report_device_error(errors, kOpRope, t, p, S);
      continue;
    }
    const float e = __fdiv_rn(static_cast<float>(2 * i), static_cast<float>(D));
    const float theta = __frcp_rn(static_cast<float>(pow(static_cast<double>(base), static_cast<double>(e))));
    const float phi = __fmul_rn(static_cast<float>(p), theta);
    const float c = static_cast<float>(cos(static_cast<double>(phi)));
    const float s0 = static_cast<float>(sin(static_cast<double>(phi)));
    const float s = inverse ? -s0 : s0;
    const int64_t row = th * D;
    const float x1 = to_f32(x[row + i]), x2 = to_f32(x[row + i + half]);
    const float y1 = x1 * c - x2 * s, y2 = x2 * c + x1 * s;
    y[row + i] = from_f32<T>(accumulate ? to_f32(y[row + i]) + y1 : y1);
    y[row + i + half] = from_f32<T>(accumulate ? to_f32(y[row + i + half]) + y2 : y2);
  }
}

}  // namespace

namespace cuda {

void rope(const frl_ctx* ctx, frl_dtype dtype, const void* x, const int32_t* positions, float base, bool inverse,
          void* y, int64_t B, int64_t S, int64_t H, int64_t D, bool accumulate) {
  const int64_t total = B * S * H * (D / 2);
  if (total == 0) return;
  cudaStream_t st = cuda_stream(ctx);
  dispatch_float_storage(dtype, [&](auto zero) {
    using T = decltype(zero);
    rope_kernel<T><<<grid_stride_blocks(total), kGridStrideThreads, 0, st>>>(
        static_cast<const T*>(x), positions, base, inverse, static_cast<T*>(y), B * S, S, H, D, accumulate,
        cuda_error_record(ctx));
    FRL_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace cuda
}  // namespace frl
