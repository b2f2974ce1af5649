// Thread-local last error and the argument checks every C API entry uses.
#include <cstdarg>
#include <cstdio>
#include <sstream>

#include "engine.h"

namespace frl {
namespace {
thread_local std::string last_error;
}

std::string format(const char* fmt, ...) {
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

frl_status fail(const char* fn, frl_status status, const std::string& message) noexcept {
  try {
    last_error = std::string(fn) + ": " + message;
  } catch (...) {
  }
  return status;
}

void clear_error() noexcept { last_error.clear(); }

void require(bool ok, frl_status status, const std::string& message) {
  if (!ok) throw Error(status, message);
}

void check_not_null(const void* ptr, const char* name) {
  if (ptr == nullptr) throw Error(FRL_ERR_ARGUMENT, format("argument '%s' is null", name));
}

std::string shape_string(const frl_tensor* t) {
  std::ostringstream s;
  s << '[';
  for (int i = 0; i < t->ndim; i++) s << (i ? ", " : "") << t->shape[i];
  s << ']';
  return s.str();
}

void check_shape(const frl_tensor* t, const char* name, std::initializer_list<int64_t> dims) {
  check_not_null(t, name);
  bool ok = t->ndim == static_cast<int>(dims.size());
  int i = 0;
  for (int64_t d : dims) {
    if (ok && d >= 0 && t->shape[i] != d) ok = false;
    i++;
  }
  if (!ok) {
    std::ostringstream want;
    want << '[';
    i = 0;
    for (int64_t d : dims) {
      want << (i++ ? ", " : "");
      if (d >= 0) want << d; else want << '*';
    }
    want << ']';
    throw Error(FRL_ERR_SHAPE, format("argument '%s' has shape %s, expected %s", name,
                                      shape_string(t).c_str(), want.str().c_str()));
  }
}

void check_dtype(const frl_tensor* t, const char* name, std::initializer_list<frl_dtype> allowed) {
  check_not_null(t, name);
  for (frl_dtype d : allowed)
    if (t->dtype == d) return;
  std::string names;
  for (frl_dtype d : allowed) names += (names.empty() ? "" : " or ") + std::string(dtype_name(d));
  throw Error(FRL_ERR_SHAPE, format("argument '%s' has dtype %s, expected %s", name,
                                    dtype_name(t->dtype), names.c_str()));
}

void check_context(const frl_ctx* ctx, const frl_tensor* t, const char* name) {
  check_not_null(t, name);
  if (t->ctx != ctx)
    throw Error(FRL_ERR_ARGUMENT, format("argument '%s' belongs to another context", name));
}

void check_float_storage(const frl_ctx* ctx, const frl_tensor* t, const char* name) {
  check_context(ctx, t, name);
  if (ctx->backend->kind() == FRL_BACKEND_CPU)
    check_dtype(t, name, {FRL_F32});
  else
    check_dtype(t, name, {FRL_F32, FRL_BF16});
}

void check_no_alias(std::initializer_list<Named> outputs, std::initializer_list<Named> inputs) {
  for (auto o = outputs.begin(); o != outputs.end(); ++o) {
    if (o->t == nullptr) continue;
    for (const Named& i : inputs)
      if (o->t == i.t)
        throw Error(FRL_ERR_ARGUMENT, format("argument '%s' must not be the same tensor as '%s'", o->name, i.name));
    for (auto p = outputs.begin(); p != o; ++p)
      if (o->t == p->t)
        throw Error(FRL_ERR_ARGUMENT, format("argument '%s' must not be the same tensor as '%s'", o->name, p->name));
  }
}

}  // namespace frl

extern "C" const char* frl_last_error(void) { return frl::last_error.c_str(); }
