// C API of the per-token log-prob / KL kernel: argument checks, then CPU reference or CUDA launcher.
#include "factrl/kl.h"

#include "cpu/kl_cpu.h"
#include "engine.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "kl.cuh"
#endif

using frl::Error;
using frl::format;

namespace {

// Shape [T, V] of the logits (V >= 1) after the common checks; dtype F32 (CPU) or F32/BF16 (CUDA).
void check_logits(frl_ctx* ctx, const frl_tensor* logits, const char* name) {
  frl::check_float_storage(ctx, logits, name);
  frl::check_shape(logits, name, {-1, -1});
  frl::require(logits->shape[1] >= 1, FRL_ERR_SHAPE,
               format("argument '%s' has shape %s: the vocabulary (dimension 1) must be >= 1", name,
                      frl::shape_string(logits).c_str()));
}

// A [T] tensor of the given dtype in ctx; null allowed when optional.
void check_vector(frl_ctx* ctx, const frl_tensor* t, const char* name, int64_t T, frl_dtype dtype, bool optional) {
  if (optional && t == nullptr) return;
  frl::check_not_null(t, name);
  frl::check_context(ctx, t, name);
  frl::check_dtype(t, name, {dtype});
  frl::check_shape(t, name, {T});
}

[[noreturn]] void bad_action(int64_t row, int32_t action, int64_t V) {
  throw Error(FRL_ERR_ARGUMENT, format("argument 'actions': row %lld has token %d outside [0, %lld)",
                                       static_cast<long long>(row), action, static_cast<long long>(V)));
}

}  // namespace

extern "C" {

frl_status frl_token_logprobs(frl_ctx* ctx, const frl_tensor* policy_logits, const frl_tensor* ref_logits,
                              const frl_tensor* actions, const frl_tensor* mask, frl_tensor* logp_policy,
                              frl_tensor* logp_ref, frl_tensor* kl_k1, frl_tensor* kl_k3, frl_tensor* kl_full,
                              frl_tensor* entropy, frl_tensor* lse_policy) {
  return frl::guard("frl_token_logprobs", [&] {
    frl::check_not_null(ctx, "ctx");
    check_logits(ctx, policy_logits, "policy_logits");
    const int64_t T = policy_logits->shape[0], V = policy_logits->shape[1];
    if (ref_logits != nullptr) {
      frl::check_context(ctx, ref_logits, "ref_logits");
      frl::check_dtype(ref_logits, "ref_logits", {policy_logits->dtype});
      frl::check_shape(ref_logits, "ref_logits", {T, V});
    }
    check_vector(ctx, actions, "actions", T, FRL_I32, false);
    check_vector(ctx, mask, "mask", T, FRL_I32, true);
    struct Out {
      frl_tensor* t;
      const char* name;
      bool needs_ref;
    } outs[] = {{logp_policy, "logp_policy", false}, {logp_ref, "logp_ref", true}, {kl_k1, "kl_k1", true},
                {kl_k3, "kl_k3", true},             {kl_full, "kl_full", true},   {entropy, "entropy", false},
                {lse_policy, "lse_policy", false}};
    for (const Out& o : outs) {
      check_vector(ctx, o.t, o.name, T, FRL_F32, true);
      frl::require(o.t == nullptr || !o.needs_ref || ref_logits != nullptr, FRL_ERR_ARGUMENT,
                   format("argument '%s' was requested but ref_logits is null", o.name));
    }
    // One pass writes every output while reading the inputs: a tensor given twice would silently
    // keep only the last quantity written into it.
    frl::check_no_alias({{logp_policy, "logp_policy"},
                         {logp_ref, "logp_ref"},
                         {kl_k1, "kl_k1"},
                         {kl_k3, "kl_k3"},
                         {kl_full, "kl_full"},
                         {entropy, "entropy"},
                         {lse_policy, "lse_policy"}},
                        {{policy_logits, "policy_logits"}, {ref_logits, "ref_logits"}, {actions, "actions"},
                         {mask, "mask"}});
    frl::cpu::KlOutputs out;
    out.logp_policy = frl::data_as<float>(logp_policy);
    out.logp_ref = frl::data_as<float>(logp_ref);
    out.kl_k1 = frl::data_as<float>(kl_k1);
    out.kl_k3 = frl::data_as<float>(kl_k3);
    out.kl_full = frl::data_as<float>(kl_full);
    out.entropy = frl::data_as<float>(entropy);
    out.lse_policy = frl::data_as<float>(lse_policy);
    if (T == 0) return;
    if (ctx->backend->kind() == FRL_BACKEND_CPU) {
      const int32_t* a = frl::data_as<int32_t>(actions);
      const int32_t* m = frl::data_as<int32_t>(mask);
      const int64_t bad = frl::cpu::kl_first_bad_action(a, m, T, V);
      if (bad >= 0) bad_action(bad, a[bad], V);
      frl::cpu::token_logprobs_forward(frl::data_as<float>(policy_logits), frl::data_as<float>(ref_logits), a, m,
                                       T, V, out);
    } else {
#ifdef FACTRL_WITH_CUDA
      frl::cuda::token_logprobs_forward(ctx, policy_logits->dtype, policy_logits->data,
                                        ref_logits ? ref_logits->data : nullptr, frl::data_as<int32_t>(actions),
                                        frl::data_as<int32_t>(mask), T, V, out);
#else
      throw Error(FRL_ERR_UNAVAILABLE, "the CUDA backend is not built into this library");
#endif
    }
  });
}

frl_status frl_token_logprobs_backward(frl_ctx* ctx, const frl_tensor* policy_logits, const frl_tensor* actions,
                                       const frl_tensor* mask, const frl_tensor* grad_logp,
                                       const frl_tensor* lse_policy, frl_tensor* dlogits, int mode) {
  return frl::guard("frl_token_logprobs_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    check_logits(ctx, policy_logits, "policy_logits");
    const int64_t T = policy_logits->shape[0], V = policy_logits->shape[1];
    check_vector(ctx, actions, "actions", T, FRL_I32, false);
    check_vector(ctx, mask, "mask", T, FRL_I32, true);
    check_vector(ctx, grad_logp, "grad_logp", T, FRL_F32, false);
    check_vector(ctx, lse_policy, "lse_policy", T, FRL_F32, true);
    frl::check_not_null(dlogits, "dlogits");
    frl::check_context(ctx, dlogits, "dlogits");
    if (ctx->backend->kind() == FRL_BACKEND_CPU)
      frl::check_dtype(dlogits, "dlogits", {FRL_F32});
    else
      frl::check_dtype(dlogits, "dlogits", {FRL_F32, FRL_BF16});
    frl::check_shape(dlogits, "dlogits", {T, V});
    frl::check_grad_mode(mode, "mode");
    const bool accumulate = mode == FRL_GRAD_ACCUMULATE;
    // dlogits is written row by row while policy_logits is still read (twice: max, then softmax)
    frl::check_no_alias({{dlogits, "dlogits"}}, {{policy_logits, "policy_logits"}, {actions, "actions"},
                                                 {mask, "mask"}, {grad_logp, "grad_logp"},
                                                 {lse_policy, "lse_policy"}});
    if (T == 0) return;
    if (ctx->backend->kind() == FRL_BACKEND_CPU) {
      const int32_t* a = frl::data_as<int32_t>(actions);
      const int32_t* m = frl::data_as<int32_t>(mask);
      const int64_t bad = frl::cpu::kl_first_bad_action(a, m, T, V);
      if (bad >= 0) bad_action(bad, a[bad], V);
      frl::cpu::token_logprobs_backward(frl::data_as<float>(policy_logits), a, m, frl::data_as<float>(grad_logp),
                                        frl::data_as<float>(lse_policy), frl::data_as<float>(dlogits), T, V,
                                        accumulate);
    } else {
#ifdef FACTRL_WITH_CUDA
      frl::cuda::token_logprobs_backward(ctx, policy_logits->dtype, policy_logits->data,
                                         frl::data_as<int32_t>(actions), frl::data_as<int32_t>(mask),
                                         frl::data_as<float>(grad_logp), frl::data_as<float>(lse_policy),
                                         dlogits->dtype, dlogits->data, T, V, accumulate);
#else
      throw Error(FRL_ERR_UNAVAILABLE, "the CUDA backend is not built into this library");
#endif
    }
  });
}

}  // extern "C"
