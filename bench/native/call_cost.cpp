// Native-side cost of one engine call when the work is nothing (issue 9, "cheap calls": goal
// <= 1 us per op native side). Calls the C API in a tight loop, as the model's one-native-call
// layer sequence will: a 1x1 SwiGLU forward (argument checks + dispatch), a 64x64 tensor
// create + destroy, and RoPE over 8192 positions with one rotation pair (dominated by the check of
// every position). Prints ns per call, best of 5 rounds.
//   usage: build/bench_call_cost   (built beside libfactrl.so when FACTRL_NATIVE_TESTS is ON)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "factrl.h"

namespace {

void ok(frl_status s) {
  if (s != FRL_OK) {
    std::fprintf(stderr, "call failed: %s\n", frl_last_error());
    std::exit(1);
  }
}

double best_ns_per_call(long calls, const std::function<void()>& body) {
  double best = 1e300;
  for (int round = 0; round < 5; round++) {
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < calls; i++) body();
    auto t1 = std::chrono::steady_clock::now();
    double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / calls;
    if (ns < best) best = ns;
  }
  return best;
}

frl_tensor* tensor(frl_ctx* ctx, frl_dtype dtype, std::vector<int64_t> shape) {
  frl_tensor* t = nullptr;
  ok(frl_tensor_create(ctx, dtype, static_cast<int>(shape.size()), shape.data(), &t));
  return t;
}

}  // namespace

int main() {
  frl_ctx* ctx = nullptr;
  ok(frl_ctx_create(FRL_BACKEND_CPU, 0, &ctx));
  frl_tensor* a = tensor(ctx, FRL_F32, {1, 1});
  frl_tensor* b = tensor(ctx, FRL_F32, {1, 1});
  frl_tensor* out = tensor(ctx, FRL_F32, {1, 1});
  const int64_t S = 8192;
  frl_tensor* x = tensor(ctx, FRL_F32, {1, S, 1, 2});
  frl_tensor* y = tensor(ctx, FRL_F32, {1, S, 1, 2});
  frl_tensor* pos = tensor(ctx, FRL_I32, {1, S});
  std::vector<int32_t> p(S);
  for (int64_t i = 0; i < S; i++) p[i] = static_cast<int32_t>(i);
  ok(frl_tensor_write_i32(pos, 0, p.data(), S));

  double swiglu = best_ns_per_call(200000, [&] { ok(frl_swiglu_forward(ctx, a, b, out)); });
  const int64_t shape[2] = {64, 64};
  double create = best_ns_per_call(100000, [&] {
    frl_tensor* t = nullptr;
    ok(frl_tensor_create(ctx, FRL_F32, 2, shape, &t));
    ok(frl_tensor_destroy(t));
  });
  double rope = best_ns_per_call(200, [&] { ok(frl_rope(ctx, x, pos, 10000.f, 0, y, FRL_GRAD_OVERWRITE)); });
  std::printf("{\"swiglu_1x1_ns\": %.1f, \"tensor_create_destroy_64x64_ns\": %.1f, \"rope_8192_ns\": %.1f}\n",
              swiglu, create, rope);

  for (frl_tensor* t : {a, b, out, x, y, pos}) ok(frl_tensor_destroy(t));
  ok(frl_ctx_destroy(ctx));
  return 0;
}
