// Argument checks shared by the model layers' C API files (rmsnorm, rope, swiglu, embedding, ...).
// Each throws frl::Error with a message naming the argument, like the checks in engine.h.
#pragma once

#include "engine.h"

namespace frl {

// Rows of a [..., d] tensor: N = product of the leading dimensions, d = the last one.
struct Rows {
  int64_t N, d;
};

// t is not null, lives in ctx and is F32 (these layers compute in fp32 on the CPU backend).
void check_f32(const frl_ctx* ctx, const frl_tensor* t, const char* name);

// Like check_f32, but t may be a row-contiguous view (see row_stride); returns its row stride.
int64_t check_f32_rows_view(const frl_ctx* ctx, const frl_tensor* t, const char* name);

// t has exactly the shape of ref (named ref_name in the message).
void check_same_shape(const frl_tensor* t, const char* name, const frl_tensor* ref, const char* ref_name);

// t has at least one dimension; returns its rows.
Rows check_rows(const frl_tensor* t, const char* name);

// The layer runs only on the CPU backend so far: FRL_ERR_UNAVAILABLE on any other.
void require_cpu_backend(const frl_ctx* ctx, const char* layer);

// A gradient output's mode (factrl.h): FRL_GRAD_OVERWRITE or FRL_GRAD_ACCUMULATE; names the argument.
void check_grad_mode(int mode, const char* name);

}  // namespace frl
