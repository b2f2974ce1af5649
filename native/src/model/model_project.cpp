// One projection of the model with its optional LoRA pair and bias: the unit every linear layer of
// the vision tower, projector and decoder runs through.
//
//   y = x Wᵀ (+ s (x Aᵀ) Bᵀ) (+ b)
//   dx = dy W (+ s (dy B) A)      dW = dyᵀ x     db = Σ_n dy
//   dA = s (dy B)ᵀ x              dB = s dyᵀ (x Aᵀ)
//
// The bias is added after the product in both paths (lora_forward has no bias; linear_forward also
// adds it afterwards), so an adapter whose B is zero gives bitwise the base's output.
#include <cstring>
#include <vector>

#include "cpu/gemm.h"
#include "cpu/linear_cpu.h"
#include "cpu/lora_cpu.h"
#include "model/model_internal.h"

namespace frl {
namespace model {

Lora AdapterView::lora(const LoraSlot& s) const {
  Lora l;
  if (w == nullptr || s.a < 0) return l;
  l.A = (*w)[s.a];
  l.B = (*w)[s.b];
  l.scale = scale;
  l.r = r;
  return l;
}

LoraGrad AdapterView::grad(const LoraSlot& s) const {
  LoraGrad d;
  if (g == nullptr || s.a < 0) return d;
  d.dA = (*g)[s.a];
  d.dB = (*g)[s.b];
  return d;
}

void project_forward(const float* x, const float* W, const float* b, const Lora& lora, float* y, int64_t N,
                     int64_t K, int64_t M) {
  if (N == 0) return;
  if (lora.A == nullptr) {
    cpu::linear_forward(x, W, b, y, N, K, M);
    return;
  }
  cpu::lora_forward(x, W, lora.A, lora.B, lora.scale, true, N, K, M, lora.r, y, nullptr);
  if (b != nullptr)
    for (int64_t n = 0; n < N; n++) {
      float* yn = y + n * M;
      for (int64_t m = 0; m < M; m++) yn[m] += b[m];
    }
}

void project_backward(const float* x, const float* W, const Lora& lora, const float* dy, float* dx, bool dx_accumulate,
                      float* dW, float* db, const LoraGrad& g, int64_t N, int64_t K, int64_t M) {
  if (N == 0) return;
  if (lora.A == nullptr) {
    if (dx != nullptr || dW != nullptr || db != nullptr)
      cpu::linear_backward(x, W, dy, dx, dW, db, N, K, M, dx_accumulate, true);
    return;
  }
  // The base weight's own gradients do not depend on the adapter.
  if (dW != nullptr || db != nullptr) cpu::linear_backward(x, W, dy, nullptr, dW, db, N, K, M, false, true);
  const bool want_lora = g.dA != nullptr || g.dB != nullptr;
  if (dx == nullptr && !want_lora) return;
  // lora_backward has one accumulate flag for dx, dA and dB: parameter gradients always add, so
  // an overwritten dx is zeroed first.
  if (dx != nullptr && !dx_accumulate) std::memset(dx, 0, sizeof(float) * static_cast<size_t>(N * K));
  // u = x Aᵀ is not kept by the forward (its rank is the adapter's, not the plan's): recomputed
  // here into a per-thread scratch that grows once (a step allocates nothing after the first).
  static thread_local std::vector<float> u;
  if (g.dB != nullptr) {
    if (u.size() < static_cast<size_t>(N * lora.r)) u.resize(static_cast<size_t>(N * lora.r));
    cpu::GemmSegment s{{x, K, 1}, {lora.A, 1, K}, K, 1.0f};
    cpu::gemm(N, lora.r, &s, 1, u.data(), lora.r, false);
  }
  cpu::lora_backward(x, W, lora.A, lora.B, lora.scale, true, dy, g.dB != nullptr ? u.data() : nullptr, N, K, M,
                     lora.r, dx, g.dA, g.dB, true);
}

}  // namespace model
}  // namespace frl
