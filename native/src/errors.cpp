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

void check_not_stale(const frl_tensor* t, const char* name) {
  if (is_stale(t))
    throw Error(FRL_ERR_ARGUMENT,
                format("argument '%s' is a view of an activation arena that was reset since it was made "
                       "(generation %llu, arena at %llu); allocate it again",
                       name, static_cast<unsigned long long>(t->generation),
                       static_cast<unsigned long long>(t->storage->generation)));
}

void check_view(const frl_ctx* ctx, const frl_tensor* t, const char* name) {
  check_not_null(t, name);
  if (t->ctx != ctx)
    throw Error(FRL_ERR_ARGUMENT, format("argument '%s' belongs to another context", name));
  check_not_stale(t, name);
}

void check_context(const frl_ctx* ctx, const frl_tensor* t, const char* name) {
  check_view(ctx, t, name);
  if (!t->contiguous)
    throw Error(FRL_ERR_SHAPE, format("argument '%s' is a non-contiguous view (shape %s, strides %s); this op "
                                      "needs a contiguous tensor (copy it into one first)",
                                      name, shape_string(t).c_str(), strides_string(t).c_str()));
}

std::string strides_string(const frl_tensor* t) {
  std::ostringstream s;
  s << '[';
  for (int i = 0; i < t->ndim; i++) s << (i ? ", " : "") << t->strides[i];
  s << ']';
  return s.str();
}

void contiguous_strides(int ndim, const int64_t* shape, int64_t* strides) {
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  for (int i = ndim; i < FRL_MAX_DIMS; i++) strides[i] = 0;
}

bool strides_contiguous(int ndim, const int64_t* shape, const int64_t* strides) {
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    if (shape[i] == 0) return true;  // no elements: any strides describe it
    if (shape[i] != 1 && strides[i] != s) return false;
    s *= shape[i];
  }
  return true;
}

int64_t row_stride(const frl_tensor* t, const char* name) {
  const int n = t->ndim;
  if (n == 0 || t->numel == 0) return n == 0 ? 1 : t->shape[n - 1];
  const int64_t d = t->shape[n - 1];
  bool ok = d == 1 || t->strides[n - 1] == 1;
  // The leading dims (those of size > 1) must collapse into one row index: each steps over the
  // next one's whole extent. The innermost of them gives the row stride.
  int64_t ld = -1, inner_extent = 0;
  for (int i = n - 2; ok && i >= 0; i--) {
    if (t->shape[i] == 1) continue;
    if (ld < 0) {
      ld = t->strides[i];
      ok = ld >= d;
    } else {
      ok = t->strides[i] == inner_extent;
    }
    inner_extent = t->strides[i] * t->shape[i];
  }
  if (!ok)
    throw Error(FRL_ERR_SHAPE, format("argument '%s' is a view with shape %s and strides %s; this op needs rows "
                                      "with contiguous elements and one row stride >= the row width",
                                      name, shape_string(t).c_str(), strides_string(t).c_str()));
  return ld < 0 ? d : ld;
}

void check_float_storage(const frl_ctx* ctx, const frl_tensor* t, const char* name) {
  check_context(ctx, t, name);
  if (ctx->backend->kind() == FRL_BACKEND_CPU)
    check_dtype(t, name, {FRL_F32});
  else
    check_dtype(t, name, {FRL_F32, FRL_BF16});
}

namespace {

// Byte range [lo, hi) a view can touch in its storage (hi == lo when empty).
void byte_span(const frl_tensor* t, int64_t* lo, int64_t* hi) {
  const int64_t elem = static_cast<int64_t>(dtype_size(t->dtype));
  int64_t last = 0;
  for (int i = 0; i < t->ndim; i++) last += (t->shape[i] - 1) * t->strides[i];
  *lo = t->offset * elem;
  *hi = t->numel == 0 ? *lo : (t->offset + last + 1) * elem;
}

// Whether two views can share a byte. Exact for disjoint spans and for row-contiguous views with
// the same row stride whose column ranges are disjoint (q/k/v as column slices of one buffer);
// conservative (true) otherwise.
bool may_overlap(const frl_tensor* a, const frl_tensor* b) {
  if (a->storage == nullptr || a->storage != b->storage || a->numel == 0 || b->numel == 0) return false;
  int64_t alo, ahi, blo, bhi;
  byte_span(a, &alo, &ahi);
  byte_span(b, &blo, &bhi);
  if (ahi <= blo || bhi <= alo) return false;
  if (a->ndim < 2 || b->ndim < 2 || a->contiguous || b->contiguous) return true;
  const int64_t ea = dtype_size(a->dtype), eb = dtype_size(b->dtype);
  int64_t lda, ldb;
  try {
    lda = row_stride(a, "a") * ea;
    ldb = row_stride(b, "b") * eb;
  } catch (const Error&) {
    return true;
  }
  if (lda != ldb || lda == 0) return true;
  const int64_t ac0 = alo % lda, ac1 = ac0 + a->shape[a->ndim - 1] * ea;
  const int64_t bc0 = blo % ldb, bc1 = bc0 + b->shape[b->ndim - 1] * eb;
  if (ac1 > lda || bc1 > ldb) return true;
  return !(ac1 <= bc0 || bc1 <= ac0);
}

[[noreturn]] void aliased(const Named& o, const Named& other) {
  if (o.t == other.t)
    throw Error(FRL_ERR_ARGUMENT, format("argument '%s' must not be the same tensor as '%s'", o.name, other.name));
  throw Error(FRL_ERR_ARGUMENT, format("argument '%s' is a view that overlaps '%s' in the same storage", o.name,
                                       other.name));
}

}  // namespace

void check_no_alias(std::initializer_list<Named> outputs, std::initializer_list<Named> inputs) {
  for (auto o = outputs.begin(); o != outputs.end(); ++o) {
    if (o->t == nullptr) continue;
    for (const Named& i : inputs)
      if (i.t && (o->t == i.t || may_overlap(o->t, i.t))) aliased(*o, i);
    for (auto p = outputs.begin(); p != o; ++p)
      if (p->t && (o->t == p->t || may_overlap(o->t, p->t))) aliased(*o, *p);
  }
}

}  // namespace frl

extern "C" const char* frl_last_error(void) { return frl::last_error.c_str(); }
