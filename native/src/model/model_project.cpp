// One projection of the model with its optional LoRA pair and bias: the unit every linear layer of
// the vision tower, projector and decoder runs through.
//
//   y = x Wᵀ (+ s (x Aᵀ) Bᵀ) (+ b)
//   dx = dy W (+ s (dy B) A)      dW = dyᵀ x     db = Σ_n dy
//   dA = s (dy B)ᵀ x              dB = s dyᵀ (x Aᵀ)
//
// The bias is added after the product in both paths (lora_forward has no bias; linear_forward also
// adds it afterwards), so an adapter whose B is zero gives bitwise the base's output.
#include "model/model_internal.h"
#include "model/model_ops.h"

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
    ops::linear_forward(x, W, b, y, N, K, M);
    return;
  }
  ops::lora_forward(x, W, b, lora.A, lora.B, lora.scale, N, K, M, lora.r, y);
}

void project_backward(const float* x, const float* W, const Lora& lora, const float* dy, float* dx, bool dx_accumulate,
                      float* dW, float* db, const LoraGrad& g, int64_t N, int64_t K, int64_t M) {
  if (N == 0) return;
  if (lora.A == nullptr) {
    if (dx != nullptr || dW != nullptr || db != nullptr)
      ops::linear_backward(x, W, dy, dx, dW, db, N, K, M, dx_accumulate, true);
    return;
  }
  // The base weight's own gradients do not depend on the adapter.
  if (dW != nullptr || db != nullptr) ops::linear_backward(x, W, dy, nullptr, dW, db, N, K, M, false, true);
  const bool want_lora = g.dA != nullptr || g.dB != nullptr;
  if (dx == nullptr && !want_lora) return;
  ops::lora_backward(x, W, lora.A, lora.B, lora.scale, dy, N, K, M, lora.r, dx, dx_accumulate, g.dA, g.dB);
}

}  // namespace model
}  // namespace frl
