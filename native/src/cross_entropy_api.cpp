// C API of the masked cross-entropy (factrl/cross_entropy.h): argument checks naming the argument,
// then the log-prob kernel plus the reductions, on the CPU or CUDA.
#include "factrl/cross_entropy.h"

#include <cmath>
#include <vector>

#include "cpu/cross_entropy_cpu.h"
#include "cpu/kl_cpu.h"
#include "engine.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "cross_entropy.cuh"
#endif

using frl::Error;
using frl::format;

namespace {

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

// logits [T, V], V >= 1: F32 (CPU) or F32/BF16 (CUDA).
void check_logits(frl_ctx* ctx, const frl_tensor* logits) {
  frl::check_not_null(logits, "logits");
  frl::check_float_storage(ctx, logits, "logits");
  frl::check_shape(logits, "logits", {-1, -1});
  FRL_REQUIRE(logits->shape[1] >= 1, FRL_ERR_SHAPE,
               "argument 'logits' has shape %s: the vocabulary (dimension 1) must be >= 1",
                      frl::shape_string(logits).c_str());
}

void check_vector(frl_ctx* ctx, const frl_tensor* t, const char* name, int64_t T, frl_dtype dtype, bool optional) {
  if (optional && t == nullptr) return;
  frl::check_not_null(t, name);
  frl::check_context(ctx, t, name);
  frl::check_dtype(t, name, {dtype});
  frl::check_shape(t, name, {T});
}

// On the CPU: every counted row's target in [0, V), before anything is written.
void check_targets_cpu(const frl_tensor* targets, const frl_tensor* mask, int64_t T, int64_t V) {
  const int32_t* a = frl::data_as<int32_t>(targets);
  const int64_t bad = frl::cpu::kl_first_bad_action(a, frl::data_as<int32_t>(mask), T, V);
  if (bad >= 0)
    throw Error(FRL_ERR_ARGUMENT, format("argument 'targets': row %lld has token %d outside [0, %lld)",
                                         static_cast<long long>(bad), a[bad], static_cast<long long>(V)));
}

}  // namespace

extern "C" {

frl_status frl_cross_entropy_forward(frl_ctx* ctx, const frl_tensor* logits, const frl_tensor* targets,
                                     const frl_tensor* mask, frl_tensor* loss, frl_tensor* logp, frl_tensor* lse) {
  return frl::guard("frl_cross_entropy_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    check_logits(ctx, logits);
    const int64_t T = logits->shape[0], V = logits->shape[1];
    check_vector(ctx, targets, "targets", T, FRL_I32, false);
    check_vector(ctx, mask, "mask", T, FRL_I32, true);
    check_vector(ctx, loss, "loss", 1, FRL_F32, false);
    check_vector(ctx, logp, "logp", T, FRL_F32, true);
    check_vector(ctx, lse, "lse", T, FRL_F32, true);
    frl::check_no_alias({{loss, "loss"}, {logp, "logp"}, {lse, "lse"}},
                        {{logits, "logits"}, {targets, "targets"}, {mask, "mask"}});
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::cross_entropy_forward(ctx, logits->dtype, logits->data, frl::data_as<int32_t>(targets),
                                              frl::data_as<int32_t>(mask), T, V, frl::data_as<float>(loss),
                                              frl::data_as<float>(logp), frl::data_as<float>(lse));
#endif
    check_targets_cpu(targets, mask, T, V);
    std::vector<float> scratch(logp ? 0 : static_cast<size_t>(T));
    frl::cpu::KlOutputs out;
    out.logp_policy = logp ? frl::data_as<float>(logp) : scratch.data();
    out.lse_policy = frl::data_as<float>(lse);
    if (T > 0)
      frl::cpu::token_logprobs_forward(frl::data_as<float>(logits), nullptr, frl::data_as<int32_t>(targets),
                                       frl::data_as<int32_t>(mask), T, V, out);
    frl::data_as<float>(loss)[0] = frl::cpu::masked_mean_nll(out.logp_policy, frl::data_as<int32_t>(mask), T);
  });
}

frl_status frl_cross_entropy_backward(frl_ctx* ctx, const frl_tensor* logits, const frl_tensor* targets,
                                      const frl_tensor* mask, const frl_tensor* lse, float grad_loss,
                                      frl_tensor* dlogits, int mode) {
  return frl::guard("frl_cross_entropy_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    check_logits(ctx, logits);
    const int64_t T = logits->shape[0], V = logits->shape[1];
    check_vector(ctx, targets, "targets", T, FRL_I32, false);
    check_vector(ctx, mask, "mask", T, FRL_I32, true);
    check_vector(ctx, lse, "lse", T, FRL_F32, true);
    FRL_REQUIRE(std::isfinite(grad_loss), FRL_ERR_ARGUMENT,
                 "argument 'grad_loss' must be finite, got %g", static_cast<double>(grad_loss));
    frl::check_not_null(dlogits, "dlogits");
    frl::check_float_storage(ctx, dlogits, "dlogits");
    frl::check_shape(dlogits, "dlogits", {T, V});
    frl::check_grad_mode(mode, "mode");
    frl::check_no_alias({{dlogits, "dlogits"}},
                        {{logits, "logits"}, {targets, "targets"}, {mask, "mask"}, {lse, "lse"}});
    const bool accumulate = mode == FRL_GRAD_ACCUMULATE;
    if (T == 0) return;
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::cross_entropy_backward(ctx, logits->dtype, logits->data, frl::data_as<int32_t>(targets),
                                               frl::data_as<int32_t>(mask), frl::data_as<float>(lse), grad_loss,
                                               dlogits->dtype, dlogits->data, T, V, accumulate);
#endif
    check_targets_cpu(targets, mask, T, V);
    std::vector<float> grad_logp(static_cast<size_t>(T));
    frl::cpu::cross_entropy_grad_logp(frl::data_as<int32_t>(mask), T, grad_loss, grad_logp.data());
    frl::cpu::token_logprobs_backward(frl::data_as<float>(logits), frl::data_as<int32_t>(targets),
                                      frl::data_as<int32_t>(mask), grad_logp.data(), frl::data_as<float>(lse),
                                      frl::data_as<float>(dlogits), T, V, accumulate);
  });
}

}  // extern "C"
