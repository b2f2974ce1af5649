// The LLaVA model's C API (factrl/model.h) on a micro config: image 8x8 (C 3, patch 4: P = 4),
// Dv 8, 2 vision blocks (feature layer -2: block 1 is held but never runs), MLP projector, d 16,
// 2 decoder layers of 2 heads, V 23, S 7, B 2 (row 0 holds the image, row 1 is text with right
// padding).
//
//  1. Finite differences of L = Σ w·logp + Σ u·hidden (central at h = 1e-2 and 5e-3 on fp32
//     weights of std 0.2, Richardson-combined, the loss summed in double) against the backward,
//     for a sample of elements of EVERY base entry and of every lora_A / lora_B (B made non-zero),
//     without and with an adapter on all decoder targets and the projector; and on a second config
//     (linear projector, feature layer = last block, adapter on q, v, down and the projector).
//     Pass: |fd − an| <= 1e-3 + 1e-2 |an|.
//  2. Gradient plumbing: LoRA-only grads equal the full run's adapter grads bitwise; a projector-
//     only backward writes the projector exactly as the full run and leaves the rest untouched;
//     the held vision block after the feature layer gets exactly 0; ACCUMULATE adds (2x after
//     OVERWRITE + ACCUMULATE, to 1e-5 + 1e-5 |2g|: the kernels add partial sums in another order).
//  3. A fresh adapter (B = 0) gives bitwise the base's logits / hidden / logp.
//  4. Row independence: changing row 1's tokens leaves row 0's outputs bitwise unchanged; with two
//     image rows each row equals that row run alone with its image (images go to rows in order).
//  5. An independent double-precision forward of the same model (written from factrl/model.h)
//     matches logits to 2e-4 (abs) — the FD check cannot see a wrong forward.
//  6. Bad inputs: status and a message naming the argument.
//  7. frl_model_memory_plan == frl_ctx_bytes_in_use growth; back to the start after destroy.
//  8. Bitwise the same outputs and gradients with 1 and 2 OpenMP threads.
//  9. On a CUDA context (when a device is present) the model is created and a KV cache is refused
//     with FRL_ERR_UNAVAILABLE (generation is CPU only); bench/gpu/model_gpu.py checks its values.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "factrl.h"

namespace {

int failures = 0;

#define CHECK(cond, ...)                       \
  do {                                         \
    if (!(cond)) {                             \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      std::printf(__VA_ARGS__);                \
      std::printf("\n");                       \
      failures++;                              \
    }                                          \
  } while (0)

void ok(frl_status s, const char* what) {
  if (s != FRL_OK) {
    std::printf("FATAL: %s failed: %s\n", what, frl_last_error());
    std::exit(1);
  }
}

frl_model_config micro_config() {
  frl_model_config c{};
  c.image_size = 8;
  c.image_channels = 3;
  c.patch_size = 4;
  c.vision_hidden = 8;
  c.vision_layers = 2;
  c.vision_heads = 2;
  c.vision_intermediate = 12;
  c.vision_feature_layer = -2;
  c.vision_layer_norm_eps = 1e-5f;
  c.projector = FRL_PROJECTOR_MLP2X_GELU;
  c.vocab_size = 23;
  c.hidden = 16;
  c.layers = 2;
  c.heads = 2;
  c.intermediate = 24;
  c.max_positions = 16;
  c.rope_theta = 10000.f;
  c.rms_norm_eps = 1e-6f;
  c.image_token_id = 22;
  return c;
}

constexpr int64_t B = 2, S = 7, P = 4, V = 23, D = 16;
const int32_t kIds[B * S] = {1, 22, 22, 22, 22, 5, 6,   // image row
                             3, 4, 7, 8, 9, 0, 0};      // text row, right-padded

frl_tensor* tensor(frl_ctx* ctx, frl_dtype dt, std::vector<int64_t> shape) {
  frl_tensor* t = nullptr;
  ok(frl_tensor_create(ctx, dt, static_cast<int>(shape.size()), shape.data(), &t), "tensor_create");
  return t;
}

std::vector<float> read(const frl_tensor* t) {
  int64_t n = 0;
  frl_tensor_numel(t, &n);
  std::vector<float> v(static_cast<size_t>(n));
  ok(frl_tensor_read_f32(t, 0, v.data(), n), "read");
  return v;
}

std::vector<float> read_blob(const frl_blob* b) {
  frl_tensor* flat = nullptr;
  ok(frl_blob_flat(b, FRL_F32, &flat), "blob_flat");
  std::vector<float> v = read(flat);
  frl_tensor_destroy(flat);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Everything one test run needs: model, inputs, outputs, loss weights.
struct Rig {
  frl_ctx* ctx = nullptr;
  frl_model* model = nullptr;
  frl_tensor *ids, *images, *targets, *logits, *hidden, *logp, *wt, *u;
  std::vector<float> wt_host, u_host;

  explicit Rig(frl_model_config c = micro_config()) {
    ok(frl_ctx_create(FRL_BACKEND_CPU, 0, &ctx), "ctx_create");
    ok(frl_model_create(ctx, &c, &model), "model_create");
    ok(frl_model_init_weights(model, 1234, 0.2f), "init_weights");
    ok(frl_model_plan(model, B, S, 2, 1), "plan");
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> U(-1.f, 1.f);
    ids = tensor(ctx, FRL_I32, {B, S});
    ok(frl_tensor_write_i32(ids, 0, kIds, B * S), "write ids");
    images = tensor(ctx, FRL_F32, {1, 3, 8, 8});
    std::vector<float> img(3 * 64);
    for (float& x : img) x = U(rng);
    ok(frl_tensor_write_f32(images, 0, img.data(), 3 * 64), "write images");
    targets = tensor(ctx, FRL_I32, {B, S});
    std::vector<int32_t> tg(B * S);
    for (int64_t i = 0; i < B * S; i++) tg[i] = (kIds[(i + 1) % (B * S)] * 7 + 3) % V;
    ok(frl_tensor_write_i32(targets, 0, tg.data(), B * S), "write targets");
    logits = tensor(ctx, FRL_F32, {B, S, V});
    hidden = tensor(ctx, FRL_F32, {B, S, D});
    logp = tensor(ctx, FRL_F32, {B, S});
    wt = tensor(ctx, FRL_F32, {B, S});
    u = tensor(ctx, FRL_F32, {B, S, D});
    wt_host.resize(B * S);
    u_host.resize(B * S * D);
    for (float& x : wt_host) x = U(rng);
    for (float& x : u_host) x = 0.3f * U(rng);
    ok(frl_tensor_write_f32(wt, 0, wt_host.data(), B * S), "write wt");
    ok(frl_tensor_write_f32(u, 0, u_host.data(), B * S * D), "write u");
  }
  ~Rig() {
    for (frl_tensor* t : {ids, images, targets, logits, hidden, logp, wt, u}) frl_tensor_destroy(t);
    ok(frl_model_destroy(model), "model_destroy");
    ok(frl_ctx_destroy(ctx), "ctx_destroy");
  }
  frl_status forward(const char* adapter, int train) {
    frl_model_inputs in{ids, images, targets};
    frl_model_outputs out{logits, hidden, logp};
    return frl_model_forward(model, adapter, &in, &out, train);
  }
  double loss(const char* adapter) {
    ok(forward(adapter, 0), "forward");
    std::vector<float> lp = read(logp), h = read(hidden);
    double L = 0;
    for (size_t i = 0; i < lp.size(); i++) L += static_cast<double>(wt_host[i]) * lp[i];
    for (size_t i = 0; i < h.size(); i++) L += static_cast<double>(u_host[i]) * h[i];
    return L;
  }
  frl_blob* params() {
    frl_blob* b = nullptr;
    ok(frl_model_params(model, &b), "params");
    return b;
  }
  frl_blob* adapter_blob(const char* name) {
    frl_blob* b = nullptr;
    ok(frl_model_adapter(model, name, &b), "adapter");
    return b;
  }
};

float get(frl_tensor* t, int64_t i) {
  float x;
  ok(frl_tensor_read_f32(t, i, &x, 1), "get");
  return x;
}
void set(frl_tensor* t, int64_t i, float x) { ok(frl_tensor_write_f32(t, i, &x, 1), "set"); }

// Central differences on `count` elements (spread over the entry) of every entry of `weights`,
// against the same entries of `grads`. Returns the worst |fd − an| / (1e-3 + 1e-2 |an|).
double fd_check(Rig& r, const char* adapter, frl_blob* weights, frl_blob* grads, int count, const char* label) {
  int64_t n = 0;
  frl_blob_count(weights, &n);
  double worst = 0, max_abs = 0;
  int checked = 0;
  std::string worst_at;
  for (int64_t e = 0; e < n; e++) {
    frl_tensor *w = nullptr, *g = nullptr;
    frl_blob_tensor_at(weights, e, &w);
    frl_blob_tensor_at(grads, e, &g);
    const char* name = nullptr;
    frl_blob_name(weights, e, &name);
    int64_t numel = 0;
    frl_tensor_numel(w, &numel);
    for (int k = 0; k < count && k < numel; k++) {
      const int64_t i = (k * 7919 + e * 31) % numel;
      const float w0 = get(w, i);
      // Central differences at h and h/2, Richardson-combined: (4 D(h/2) − D(h)) / 3 cancels the
      // h² term, so what is left is fp32 noise of the loss (~1e-6) over h.
      auto central = [&](float h) {
        set(w, i, w0 + h);
        const double lp = r.loss(adapter);
        set(w, i, w0 - h);
        const double lm = r.loss(adapter);
        set(w, i, w0);
        const double step = static_cast<double>(w0 + h) - static_cast<double>(w0 - h);  // the fp32 step taken
        return (lp - lm) / step;
      };
      const double fd = (4.0 * central(5e-3f) - central(1e-2f)) / 3.0;
      const double an = get(g, i);
      const double err = std::fabs(fd - an), tol = 1e-3 + 1e-2 * std::fabs(an);
      if (err / tol > worst) {
        worst = err / tol;
        worst_at = std::string(name) + "[" + std::to_string(i) + "] fd " + std::to_string(fd) + " an " + std::to_string(an);
      }
      max_abs = std::fmax(max_abs, err);
      checked++;
      CHECK(err <= tol, "%s: %s[%lld] fd %.6g analytic %.6g", label, name, static_cast<long long>(i), fd, an);
    }
  }
  std::printf("%s: %d elements over %lld entries, max |fd-an| %.3g, worst err/tol %.3f at %s\n", label, checked,
              static_cast<long long>(n), max_abs, worst, worst_at.c_str());
  return worst;
}

void backward(Rig& r, frl_blob* base, uint32_t groups, frl_blob* ad, int mode) {
  ok(frl_model_backward(r.model, r.wt, r.u, base, groups, ad, mode), "backward");
}

// Makes every lora_B of the adapter non-zero (deterministic), so A's gradient is not zero.
void randomize_b(frl_blob* blob) {
  int64_t n = 0;
  frl_blob_count(blob, &n);
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> U(-0.3f, 0.3f);
  for (int64_t e = 0; e < n; e++) {
    const char* name;
    frl_blob_name(blob, e, &name);
    if (std::strstr(name, "lora_B") == nullptr) continue;
    frl_tensor* t;
    frl_blob_tensor_at(blob, e, &t);
    int64_t numel;
    frl_tensor_numel(t, &numel);
    std::vector<float> v(numel);
    for (float& x : v) x = U(rng);
    frl_tensor_write_f32(t, 0, v.data(), numel);
  }
}

void test_gradients() {
  Rig r;
  frl_blob *gb = nullptr, *gb2 = nullptr;
  ok(frl_blob_create_like(r.params(), &gb), "create_like");
  ok(frl_blob_create_like(r.params(), &gb2), "create_like");
  // (a) base alone, every group
  ok(r.forward(nullptr, 1), "train forward");
  backward(r, gb, FRL_GROUP_ALL, nullptr, FRL_GRAD_OVERWRITE);
  const std::vector<float> full = read_blob(gb);
  fd_check(r, nullptr, r.params(), gb, 3, "fd base (no adapter)");

  // the held vision block (after the feature layer) gets exactly zero
  frl_tensor* t = nullptr;
  ok(frl_blob_tensor(gb, "vision_tower.vision_model.encoder.layers.1.mlp.fc1.weight", &t), "tensor");
  double s = 0;
  for (float x : read(t)) s += std::fabs(x);
  CHECK(s == 0, "unused vision block has gradient %g", s);

  // (b) ACCUMULATE adds: OVERWRITE then ACCUMULATE = 2x (up to fp32 rounding: the kernels add
  // their partial sums into what the gradient holds, so g + g is summed in another order)
  ok(r.forward(nullptr, 1), "train forward");
  backward(r, gb2, FRL_GROUP_ALL, nullptr, FRL_GRAD_OVERWRITE);
  CHECK(same_bits(read_blob(gb2), full), "a second OVERWRITE backward differs from the first");
  backward(r, gb2, FRL_GROUP_ALL, nullptr, FRL_GRAD_ACCUMULATE);
  std::vector<float> twice = read_blob(gb2);
  double acc_err = 0;
  for (size_t i = 0; i < full.size(); i++) {
    const double err = std::fabs(twice[i] - 2.0 * full[i]);
    acc_err = std::fmax(acc_err, err);
    CHECK(err <= 1e-5 + 1e-5 * std::fabs(2.0 * full[i]), "ACCUMULATE [%zu]: %g, want %g", i,
          static_cast<double>(twice[i]), 2.0 * full[i]);
  }
  std::printf("ACCUMULATE after OVERWRITE: max |g - 2 g1| %.3g (tolerance 1e-5 + 1e-5 |2 g1|)\n", acc_err);

  // (c) projector group only: the projector's entries as in the full run, the rest untouched (7)
  frl_tensor* flat;
  frl_blob_flat(gb2, FRL_F32, &flat);
  std::vector<float> sevens(read(flat).size(), 7.f);
  frl_tensor_write_f32(flat, 0, sevens.data(), static_cast<int64_t>(sevens.size()));
  frl_tensor_destroy(flat);
  backward(r, gb2, FRL_GROUP_PROJECTOR, nullptr, FRL_GRAD_OVERWRITE);
  int64_t n = 0;
  frl_blob_count(gb2, &n);
  int bad = 0;
  for (int64_t e = 0; e < n; e++) {
    const char* name;
    frl_blob_name(gb2, e, &name);
    frl_tensor *a, *b;
    frl_blob_tensor_at(gb2, e, &a);
    frl_blob_tensor_at(gb, e, &b);
    std::vector<float> va = read(a), vb = read(b);
    const bool proj = std::strncmp(name, "multi_modal_projector.", 22) == 0;
    if (proj ? !same_bits(va, vb) : !same_bits(va, std::vector<float>(va.size(), 7.f))) bad++;
  }
  CHECK(bad == 0, "projector-only backward: %d entries wrong", bad);

  // (d) with an adapter on every decoder target and the projector, B non-zero
  ok(frl_model_add_adapter(r.model, "pol", 2, 4.f, FRL_LORA_ALL_DECODER | FRL_LORA_PROJECTOR, 5), "add_adapter");
  frl_blob* ab = r.adapter_blob("pol");
  randomize_b(ab);
  frl_blob *ga = nullptr, *ga2 = nullptr;
  ok(frl_blob_create_like(ab, &ga), "create_like");
  ok(frl_blob_create_like(ab, &ga2), "create_like");
  ok(r.forward("pol", 1), "train forward");
  backward(r, gb, FRL_GROUP_ALL, ga, FRL_GRAD_OVERWRITE);
  const std::vector<float> lora_full = read_blob(ga);
  // LoRA-only backward (no base grads: no vision backward, no projector weight grads): same bits
  backward(r, nullptr, 0, ga2, FRL_GRAD_OVERWRITE);
  CHECK(same_bits(read_blob(ga2), lora_full), "LoRA-only adapter grads differ from the full backward's");
  fd_check(r, "pol", ab, ga, 4, "fd lora A/B (all decoder targets + projector)");
  fd_check(r, "pol", r.params(), gb, 2, "fd base with adapter");

  frl_blob_destroy(ga);
  frl_blob_destroy(ga2);

  // (e) decoder-only adapter: its LoRA-only backward stops at the first block (no projector, no
  // embedding below it) and must still give the full backward's adapter grads
  ok(frl_model_add_adapter(r.model, "dec", 3, 3.f, FRL_LORA_ALL_DECODER, 8), "add_adapter");
  frl_blob* db = r.adapter_blob("dec");
  randomize_b(db);
  ok(frl_blob_create_like(db, &ga), "create_like");
  ok(frl_blob_create_like(db, &ga2), "create_like");
  ok(r.forward("dec", 1), "train forward");
  backward(r, gb, FRL_GROUP_ALL, ga, FRL_GRAD_OVERWRITE);
  backward(r, nullptr, 0, ga2, FRL_GRAD_OVERWRITE);
  CHECK(same_bits(read_blob(ga2), read_blob(ga)), "decoder-only LoRA grads differ between LoRA-only and full");
  fd_check(r, "dec", db, ga2, 2, "fd lora A/B (decoder only, LoRA-only backward)");
  frl_blob_destroy(ga);
  frl_blob_destroy(ga2);
  frl_blob_destroy(gb);
  frl_blob_destroy(gb2);
}

void test_linear_projector() {
  frl_model_config c = micro_config();
  c.projector = FRL_PROJECTOR_LINEAR;
  c.vision_feature_layer = 2;  // the last block's output: both blocks run
  Rig r(c);
  ok(frl_model_add_adapter(r.model, "qv", 3, 6.f, FRL_LORA_Q | FRL_LORA_V | FRL_LORA_DOWN | FRL_LORA_PROJECTOR, 9),
     "add_adapter");
  frl_blob* ab = r.adapter_blob("qv");
  randomize_b(ab);
  frl_blob *gb = nullptr, *ga = nullptr;
  ok(frl_blob_create_like(r.params(), &gb), "create_like");
  ok(frl_blob_create_like(ab, &ga), "create_like");
  ok(r.forward("qv", 1), "train forward");
  backward(r, gb, FRL_GROUP_ALL, ga, FRL_GRAD_OVERWRITE);
  fd_check(r, "qv", r.params(), gb, 2, "fd base (linear projector, feature layer 2)");
  fd_check(r, "qv", ab, ga, 3, "fd lora (q, v, down, projector)");
  frl_blob_destroy(ga);
  frl_blob_destroy(gb);
}

void test_identity_adapter_and_rows() {
  Rig r;
  ok(r.forward(nullptr, 0), "forward");
  const std::vector<float> l0 = read(r.logits), h0 = read(r.hidden), p0 = read(r.logp);
  ok(frl_model_add_adapter(r.model, "fresh", 4, 8.f, FRL_LORA_ALL_DECODER | FRL_LORA_PROJECTOR, 3), "add");
  ok(r.forward("fresh", 0), "forward");
  CHECK(same_bits(read(r.logits), l0) && same_bits(read(r.hidden), h0) && same_bits(read(r.logp), p0),
        "a fresh adapter (B = 0) changes the outputs");
  // row 1 changed: row 0's outputs stay bitwise
  const int32_t other[S] = {11, 2, 2, 19, 0, 0, 0};
  ok(frl_tensor_write_i32(r.ids, S, other, S), "write");
  ok(r.forward(nullptr, 0), "forward");
  std::vector<float> l1 = read(r.logits), h1 = read(r.hidden), p1 = read(r.logp);
  CHECK(std::memcmp(l1.data(), l0.data(), S * V * 4) == 0 && std::memcmp(h1.data(), h0.data(), S * D * 4) == 0 &&
            std::memcmp(p1.data(), p0.data(), S * 4) == 0,
        "row 0's outputs depend on row 1");
  CHECK(std::memcmp(l1.data() + S * V, l0.data() + S * V, S * V * 4) != 0, "row 1's logits did not change");
}

// Two image rows take images 0 and 1 in row order: each row of a batch of two equals the same row
// run alone with its own image (bitwise: every kernel's result per row is independent of the others).
void test_two_images() {
  Rig r;
  const int32_t ids2[B * S] = {1, 22, 22, 22, 22, 5, 6,    // image 0
                               22, 22, 3, 22, 22, 9, 0};   // image 1, tokens not contiguous
  std::vector<float> img(2 * 3 * 64);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> U(-1.f, 1.f);
  for (float& x : img) x = U(rng);
  frl_tensor* ids = tensor(r.ctx, FRL_I32, {B, S});
  frl_tensor* images = tensor(r.ctx, FRL_F32, {2, 3, 8, 8});
  frl_tensor* logits = tensor(r.ctx, FRL_F32, {B, S, V});
  ok(frl_tensor_write_i32(ids, 0, ids2, B * S), "write");
  ok(frl_tensor_write_f32(images, 0, img.data(), 2 * 192), "write");
  frl_model_inputs in{ids, images, nullptr};
  frl_model_outputs out{logits, nullptr, nullptr};
  ok(frl_model_forward(r.model, nullptr, &in, &out, 0), "forward of two image rows");
  const std::vector<float> both = read(logits);
  for (int64_t row = 0; row < B; row++) {
    frl_tensor* ids1 = tensor(r.ctx, FRL_I32, {1, S});
    frl_tensor* img1 = tensor(r.ctx, FRL_F32, {1, 3, 8, 8});
    frl_tensor* lg1 = tensor(r.ctx, FRL_F32, {1, S, V});
    ok(frl_tensor_write_i32(ids1, 0, ids2 + row * S, S), "write");
    ok(frl_tensor_write_f32(img1, 0, img.data() + row * 192, 192), "write");
    frl_model_inputs in1{ids1, img1, nullptr};
    frl_model_outputs out1{lg1, nullptr, nullptr};
    ok(frl_model_forward(r.model, nullptr, &in1, &out1, 0), "forward of one row");
    CHECK(std::memcmp(read(lg1).data(), both.data() + row * S * V, S * V * 4) == 0,
          "row %lld of the two-image batch differs from the row alone", static_cast<long long>(row));
    for (frl_tensor* t : {ids1, img1, lg1}) frl_tensor_destroy(t);
  }
  for (frl_tensor* t : {ids, images, logits}) frl_tensor_destroy(t);
}

// ---- an independent forward in double, from factrl/model.h's description -----------------------
struct RefModel {
  frl_model_config c;
  frl_blob* blob;
  std::vector<double> w(const std::string& name) const {
    frl_tensor* t = nullptr;
    ok(frl_blob_tensor(blob, name.c_str(), &t), name.c_str());
    std::vector<float> f = read(t);
    return std::vector<double>(f.begin(), f.end());
  }
};
using Mat = std::vector<double>;  // row-major [n, k]

Mat linear(const Mat& x, int64_t n, int64_t k, const Mat& W, int64_t m, const Mat* b) {
  Mat y(n * m, 0.0);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < m; j++) {
      double s = b ? (*b)[j] : 0.0;
      for (int64_t t = 0; t < k; t++) s += x[i * k + t] * W[j * k + t];
      y[i * m + j] = s;
    }
  return y;
}
Mat layernorm(const Mat& x, int64_t n, int64_t d, const Mat& w, const Mat& b, double eps) {
  Mat y(x.size());
  for (int64_t i = 0; i < n; i++) {
    double mu = 0, var = 0;
    for (int64_t j = 0; j < d; j++) mu += x[i * d + j];
    mu /= d;
    for (int64_t j = 0; j < d; j++) var += (x[i * d + j] - mu) * (x[i * d + j] - mu);
    var /= d;
    for (int64_t j = 0; j < d; j++) y[i * d + j] = (x[i * d + j] - mu) / std::sqrt(var + eps) * w[j] + b[j];
  }
  return y;
}
Mat rmsnorm(const Mat& x, int64_t n, int64_t d, const Mat& w, double eps) {
  Mat y(x.size());
  for (int64_t i = 0; i < n; i++) {
    double ms = 0;
    for (int64_t j = 0; j < d; j++) ms += x[i * d + j] * x[i * d + j];
    ms /= d;
    for (int64_t j = 0; j < d; j++) y[i * d + j] = x[i * d + j] / std::sqrt(ms + eps) * w[j];
  }
  return y;
}
double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
// One sequence of T tokens: q, k, v [T, H·Dh].
Mat attention(const Mat& q, const Mat& k, const Mat& v, int64_t T, int64_t H, int64_t Dh, bool causal) {
  Mat o(T * H * Dh, 0.0);
  for (int64_t h = 0; h < H; h++)
    for (int64_t i = 0; i < T; i++) {
      const int64_t J = causal ? i + 1 : T;
      std::vector<double> s(J);
      double mx = -1e300;
      for (int64_t j = 0; j < J; j++) {
        double d = 0;
        for (int64_t t = 0; t < Dh; t++) d += q[i * H * Dh + h * Dh + t] * k[j * H * Dh + h * Dh + t];
        s[j] = d / std::sqrt(static_cast<double>(Dh));
        mx = std::fmax(mx, s[j]);
      }
      double z = 0;
      for (double& x : s) z += (x = std::exp(x - mx));
      for (int64_t j = 0; j < J; j++)
        for (int64_t t = 0; t < Dh; t++) o[i * H * Dh + h * Dh + t] += s[j] / z * v[j * H * Dh + h * Dh + t];
    }
  return o;
}
void rope(Mat& x, int64_t T, int64_t H, int64_t Dh, double theta) {
  for (int64_t pos = 0; pos < T; pos++)
    for (int64_t h = 0; h < H; h++)
      for (int64_t i = 0; i < Dh / 2; i++) {
        const double inv = std::pow(theta, -2.0 * i / Dh), a = pos * inv;
        double& x1 = x[pos * H * Dh + h * Dh + i];
        double& x2 = x[pos * H * Dh + h * Dh + i + Dh / 2];
        const double y1 = x1 * std::cos(a) - x2 * std::sin(a), y2 = x2 * std::cos(a) + x1 * std::sin(a);
        x1 = y1;
        x2 = y2;
      }
}

void test_reference_forward() {
  Rig r;
  ok(r.forward(nullptr, 0), "forward");
  const std::vector<float> logits = read(r.logits);
  RefModel m{micro_config(), r.params()};
  const frl_model_config& c = m.c;
  const int64_t Dv = c.vision_hidden, Tv = P + 1, Fv = c.vision_intermediate, F = c.intermediate;
  // vision: patches in the conv weight's (c, ky, kx) order
  std::vector<float> img = read(r.images);
  Mat patches(P * 48);
  for (int64_t i = 0; i < P; i++)
    for (int64_t ch = 0; ch < 3; ch++)
      for (int64_t ky = 0; ky < 4; ky++)
        for (int64_t kx = 0; kx < 4; kx++)
          patches[i * 48 + (ch * 4 + ky) * 4 + kx] = img[ch * 64 + ((i / 2) * 4 + ky) * 8 + (i % 2) * 4 + kx];
  const std::string vm = "vision_tower.vision_model.";
  Mat pe = linear(patches, P, 48, m.w(vm + "embeddings.patch_embedding.weight"), Dv, nullptr);
  Mat cls = m.w(vm + "embeddings.class_embedding"), pos = m.w(vm + "embeddings.position_embedding.weight");
  Mat x(Tv * Dv);
  for (int64_t j = 0; j < Dv; j++) x[j] = cls[j] + pos[j];
  for (int64_t i = 0; i < P; i++)
    for (int64_t j = 0; j < Dv; j++) x[(i + 1) * Dv + j] = pe[i * Dv + j] + pos[(i + 1) * Dv + j];
  x = layernorm(x, Tv, Dv, m.w(vm + "pre_layrnorm.weight"), m.w(vm + "pre_layrnorm.bias"), c.vision_layer_norm_eps);
  for (int l = 0; l < 1; l++) {  // feature layer -2 of 2 blocks: block 0 only
    const std::string p = vm + "encoder.layers." + std::to_string(l) + ".";
    Mat h = layernorm(x, Tv, Dv, m.w(p + "layer_norm1.weight"), m.w(p + "layer_norm1.bias"), c.vision_layer_norm_eps);
    Mat bq = m.w(p + "self_attn.q_proj.bias"), bk = m.w(p + "self_attn.k_proj.bias"),
        bv = m.w(p + "self_attn.v_proj.bias"), bo = m.w(p + "self_attn.out_proj.bias");
    Mat q = linear(h, Tv, Dv, m.w(p + "self_attn.q_proj.weight"), Dv, &bq);
    Mat k = linear(h, Tv, Dv, m.w(p + "self_attn.k_proj.weight"), Dv, &bk);
    Mat v = linear(h, Tv, Dv, m.w(p + "self_attn.v_proj.weight"), Dv, &bv);
    Mat a = linear(attention(q, k, v, Tv, c.vision_heads, Dv / c.vision_heads, false), Tv, Dv,
                   m.w(p + "self_attn.out_proj.weight"), Dv, &bo);
    for (size_t i = 0; i < x.size(); i++) x[i] += a[i];
    h = layernorm(x, Tv, Dv, m.w(p + "layer_norm2.weight"), m.w(p + "layer_norm2.bias"), c.vision_layer_norm_eps);
    Mat b1 = m.w(p + "mlp.fc1.bias"), b2 = m.w(p + "mlp.fc2.bias");
    Mat f = linear(h, Tv, Dv, m.w(p + "mlp.fc1.weight"), Fv, &b1);
    for (double& y : f) y = gelu(y);
    f = linear(f, Tv, Fv, m.w(p + "mlp.fc2.weight"), Dv, &b2);
    for (size_t i = 0; i < x.size(); i++) x[i] += f[i];
  }
  Mat feat(x.begin() + Dv, x.end());
  Mat pb1 = m.w("multi_modal_projector.linear_1.bias"), pb2 = m.w("multi_modal_projector.linear_2.bias");
  Mat pr = linear(feat, P, Dv, m.w("multi_modal_projector.linear_1.weight"), D, &pb1);
  for (double& y : pr) y = gelu(y);
  pr = linear(pr, P, D, m.w("multi_modal_projector.linear_2.weight"), D, &pb2);
  // decoder, one row at a time
  Mat emb = m.w("language_model.model.embed_tokens.weight"), lm = m.w("language_model.lm_head.weight");
  double worst = 0;
  for (int64_t b = 0; b < B; b++) {
    Mat h(S * D);
    int64_t img_i = 0;
    for (int64_t s = 0; s < S; s++) {
      const int32_t tok = kIds[b * S + s];
      for (int64_t j = 0; j < D; j++)
        h[s * D + j] = tok == c.image_token_id ? pr[img_i * D + j] : emb[tok * D + j];
      img_i += tok == c.image_token_id;
    }
    for (int l = 0; l < c.layers; l++) {
      const std::string p = "language_model.model.layers." + std::to_string(l) + ".";
      Mat n1 = rmsnorm(h, S, D, m.w(p + "input_layernorm.weight"), c.rms_norm_eps);
      Mat q = linear(n1, S, D, m.w(p + "self_attn.q_proj.weight"), D, nullptr);
      Mat k = linear(n1, S, D, m.w(p + "self_attn.k_proj.weight"), D, nullptr);
      Mat v = linear(n1, S, D, m.w(p + "self_attn.v_proj.weight"), D, nullptr);
      rope(q, S, c.heads, D / c.heads, c.rope_theta);
      rope(k, S, c.heads, D / c.heads, c.rope_theta);
      Mat a = linear(attention(q, k, v, S, c.heads, D / c.heads, true), S, D, m.w(p + "self_attn.o_proj.weight"), D,
                     nullptr);
      for (size_t i = 0; i < h.size(); i++) h[i] += a[i];
      Mat n2 = rmsnorm(h, S, D, m.w(p + "post_attention_layernorm.weight"), c.rms_norm_eps);
      Mat g = linear(n2, S, D, m.w(p + "mlp.gate_proj.weight"), F, nullptr);
      Mat u = linear(n2, S, D, m.w(p + "mlp.up_proj.weight"), F, nullptr);
      for (size_t i = 0; i < g.size(); i++) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      Mat dn = linear(g, S, F, m.w(p + "mlp.down_proj.weight"), D, nullptr);
      for (size_t i = 0; i < h.size(); i++) h[i] += dn[i];
    }
    h = rmsnorm(h, S, D, m.w("language_model.model.norm.weight"), c.rms_norm_eps);
    Mat lg = linear(h, S, D, lm, V, nullptr);
    for (int64_t i = 0; i < S * V; i++) worst = std::fmax(worst, std::fabs(lg[i] - logits[b * S * V + i]));
  }
  std::printf("reference forward (double): max |logit diff| %.3g (tolerance 2e-4)\n", worst);
  CHECK(worst <= 2e-4, "logits differ from the double reference by %g", worst);
}

void expect_fail(frl_status got, frl_status want, const char* part, const char* what) {
  const std::string msg = got == FRL_OK ? "" : frl_last_error();
  CHECK(got == want && msg.find(part) != std::string::npos, "%s: status %d (want %d), message '%s' (want '%s')", what,
        static_cast<int>(got), static_cast<int>(want), msg.c_str(), part);
}

void test_bad_inputs() {
  Rig r;
  frl_model_inputs in{r.ids, r.images, r.targets};
  frl_model_outputs out{r.logits, r.hidden, r.logp};
  // backward with no training forward
  expect_fail(frl_model_backward(r.model, r.wt, r.u, nullptr, 0, nullptr, FRL_GRAD_OVERWRITE), FRL_ERR_ARGUMENT,
              "training forward", "backward before any forward");
  ok(r.forward(nullptr, 1), "train forward");
  ok(r.forward(nullptr, 0), "inference forward");
  expect_fail(frl_model_backward(r.model, r.wt, r.u, nullptr, 0, nullptr, FRL_GRAD_OVERWRITE), FRL_ERR_ARGUMENT,
              "training forward", "backward after an inference forward");
  // unknown adapter
  expect_fail(frl_model_forward(r.model, "nope", &in, &out, 0), FRL_ERR_ARGUMENT, "'nope'", "unknown adapter");
  frl_blob* blob = nullptr;
  expect_fail(frl_model_adapter(r.model, "nope", &blob), FRL_ERR_ARGUMENT, "'nope'", "unknown adapter blob");
  // a row with 3 image tokens
  const int32_t three[S] = {22, 22, 22, 4, 5, 6, 7};
  ok(frl_tensor_write_i32(r.ids, S, three, S), "write");
  expect_fail(frl_model_forward(r.model, nullptr, &in, &out, 0), FRL_ERR_ARGUMENT, "row 1 holds 3 image tokens",
              "wrong image-token count");
  ok(frl_tensor_write_i32(r.ids, 0, kIds, B * S), "write");
  // image count mismatch
  frl_tensor* two = tensor(r.ctx, FRL_F32, {2, 3, 8, 8});
  frl_model_inputs in2{r.ids, two, r.targets};
  expect_fail(frl_model_forward(r.model, nullptr, &in2, &out, 0), FRL_ERR_SHAPE, "inputs->images",
              "images count mismatch");
  frl_model_inputs in0{r.ids, nullptr, r.targets};
  expect_fail(frl_model_forward(r.model, nullptr, &in0, &out, 0), FRL_ERR_SHAPE, "inputs->images", "images missing");
  frl_tensor_destroy(two);
  // targets out of range
  const int32_t badt = 23;
  ok(frl_tensor_write_i32(r.targets, 9, &badt, 1), "write");
  expect_fail(frl_model_forward(r.model, nullptr, &in, &out, 0), FRL_ERR_ARGUMENT, "inputs->targets",
              "targets out of range");
  const int32_t goodt = 3;
  ok(frl_tensor_write_i32(r.targets, 9, &goodt, 1), "write");
  // a batch bigger than the plan
  frl_tensor* big = tensor(r.ctx, FRL_I32, {3, S});
  frl_tensor* big_logits = tensor(r.ctx, FRL_F32, {3, S, V});
  frl_model_inputs inb{big, nullptr, nullptr};
  frl_model_outputs outb{big_logits, nullptr, nullptr};
  expect_fail(frl_model_forward(r.model, nullptr, &inb, &outb, 0), FRL_ERR_SHAPE, "plan", "batch beyond the plan");
  frl_tensor_destroy(big);
  frl_tensor_destroy(big_logits);
  // logp without targets
  frl_model_inputs int_{r.ids, r.images, nullptr};
  expect_fail(frl_model_forward(r.model, nullptr, &int_, &out, 0), FRL_ERR_ARGUMENT, "outputs->logp",
              "logp without targets");
  // wrong output shape
  frl_model_outputs outw{r.hidden, nullptr, nullptr};
  expect_fail(frl_model_forward(r.model, nullptr, &in, &outw, 0), FRL_ERR_SHAPE, "outputs->logits",
              "logits of the wrong shape");
  // adapter grads without an adapter in the forward
  ok(frl_model_add_adapter(r.model, "a", 2, 2.f, FRL_LORA_Q, 1), "add");
  frl_blob* ga = nullptr;
  ok(frl_blob_create_like(r.adapter_blob("a"), &ga), "create_like");
  ok(r.forward(nullptr, 1), "train forward");
  expect_fail(frl_model_backward(r.model, r.wt, r.u, nullptr, 0, ga, FRL_GRAD_OVERWRITE), FRL_ERR_ARGUMENT,
              "adapter_grads", "adapter grads without an adapter");
  // base grads of the wrong layout
  expect_fail(frl_model_backward(r.model, r.wt, r.u, ga, FRL_GROUP_ALL, nullptr, FRL_GRAD_OVERWRITE), FRL_ERR_SHAPE,
              "base_grads", "base grads of another layout");
  frl_blob_destroy(ga);
  // duplicate adapter, bad rank, bad targets
  expect_fail(frl_model_add_adapter(r.model, "a", 2, 2.f, FRL_LORA_Q, 1), FRL_ERR_ARGUMENT, "already exists",
              "duplicate adapter");
  expect_fail(frl_model_add_adapter(r.model, "b", 0, 2.f, FRL_LORA_Q, 1), FRL_ERR_ARGUMENT, "'rank'", "rank 0");
  expect_fail(frl_model_add_adapter(r.model, "b", 2, 2.f, 0, 1), FRL_ERR_ARGUMENT, "'targets'", "no targets");
  // plan errors
  expect_fail(frl_model_plan(r.model, 1, 17, 0, 0), FRL_ERR_ARGUMENT, "max_seq", "max_seq beyond max_positions");
  ok(frl_model_plan(r.model, B, S, 1, 0), "inference plan");
  expect_fail(r.forward(nullptr, 1), FRL_ERR_ARGUMENT, "'train'", "training forward on an inference plan");
  // config
  frl_model_config c = micro_config();
  c.heads = 3;
  frl_model* m = nullptr;
  expect_fail(frl_model_create(r.ctx, &c, &m), FRL_ERR_ARGUMENT, "'heads'", "heads not dividing hidden");
  c = micro_config();
  c.vision_feature_layer = -4;
  expect_fail(frl_model_create(r.ctx, &c, &m), FRL_ERR_ARGUMENT, "'vision_feature_layer'", "feature layer");
  c = micro_config();
  c.image_token_id = 23;
  expect_fail(frl_model_create(r.ctx, &c, &m), FRL_ERR_ARGUMENT, "'image_token_id'", "image token id");
  // a model with live views of its blob refuses to be destroyed
  frl_tensor* view = nullptr;
  frl_blob_flat(r.params(), FRL_F32, &view);
  expect_fail(frl_model_destroy(r.model), FRL_ERR_ARGUMENT, "live views", "destroy with a live view");
  frl_tensor_destroy(view);
}

void test_memory_plan() {
  frl_ctx* ctx = nullptr;
  ok(frl_ctx_create(FRL_BACKEND_CPU, 0, &ctx), "ctx");
  int64_t before = 0, after = 0;
  frl_ctx_bytes_in_use(ctx, &before);
  frl_model_config c = micro_config();
  frl_model* m = nullptr;
  ok(frl_model_create(ctx, &c, &m), "create");
  frl_model_memory mem{};
  for (int step = 0; step < 4; step++) {
    if (step == 1) ok(frl_model_add_adapter(m, "a", 4, 8.f, FRL_LORA_ALL_DECODER | FRL_LORA_PROJECTOR, 1), "add");
    if (step == 2) ok(frl_model_plan(m, 3, 11, 2, 1), "plan");
    if (step == 3) ok(frl_model_plan(m, 2, 5, 0, 0), "replan");
    ok(frl_model_memory_plan(m, &mem), "memory_plan");
    frl_ctx_bytes_in_use(ctx, &after);
    CHECK(after - before == mem.total && mem.total == mem.base + mem.adapters + mem.arena + mem.workspace,
          "step %d: bytes_in_use grew by %lld, plan says %lld", step, static_cast<long long>(after - before),
          static_cast<long long>(mem.total));
    std::printf("memory step %d: base %lld adapters %lld arena %lld total %lld (bytes_in_use +%lld)\n", step,
                static_cast<long long>(mem.base), static_cast<long long>(mem.adapters),
                static_cast<long long>(mem.arena), static_cast<long long>(mem.total),
                static_cast<long long>(after - before));
  }
  ok(frl_model_remove_adapter(m, "a"), "remove");
  ok(frl_model_destroy(m), "destroy");
  frl_ctx_bytes_in_use(ctx, &after);
  CHECK(after == before, "bytes_in_use %lld after destroy, %lld before", static_cast<long long>(after),
        static_cast<long long>(before));
  ok(frl_ctx_destroy(ctx), "ctx_destroy");
}

// Outputs and every gradient of one training step with an adapter, at a thread count.
std::vector<float> step_at_threads(int threads) {
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
  Rig r;
  ok(frl_model_add_adapter(r.model, "pol", 2, 4.f, FRL_LORA_ALL_DECODER | FRL_LORA_PROJECTOR, 5), "add");
  randomize_b(r.adapter_blob("pol"));
  frl_blob *gb, *ga;
  frl_blob_create_like(r.params(), &gb);
  frl_blob_create_like(r.adapter_blob("pol"), &ga);
  ok(r.forward("pol", 1), "forward");
  backward(r, gb, FRL_GROUP_ALL, ga, FRL_GRAD_OVERWRITE);
  std::vector<float> all = read(r.logits);
  for (auto v : {read(r.hidden), read(r.logp), read_blob(gb), read_blob(ga)}) all.insert(all.end(), v.begin(), v.end());
  frl_blob_destroy(gb);
  frl_blob_destroy(ga);
  return all;
}

void test_threads() {
  const std::vector<float> one = step_at_threads(1), two = step_at_threads(2);
  CHECK(same_bits(one, two), "1 and 2 threads differ");
  std::printf("threads: %zu output and gradient values bitwise equal with 1 and 2 threads\n", one.size());
#ifdef _OPENMP
  omp_set_num_threads(omp_get_num_procs());
#endif
}

void test_cuda_unavailable() {
  int devices = 0;
  if (!frl_built_with_cuda() || frl_cuda_device_count(&devices) != FRL_OK || devices == 0) {
    std::printf("cuda: no device, CUDA model check skipped\n");
    return;
  }
  frl_ctx* ctx = nullptr;
  ok(frl_ctx_create(FRL_BACKEND_CUDA, 0, &ctx), "cuda ctx");
  frl_model_config c = micro_config();
  frl_model* m = nullptr;
  ok(frl_model_create(ctx, &c, &m), "model on a CUDA context");
  frl_kv_cache* kc = nullptr;
  expect_fail(frl_kv_cache_create(m, 2, 8, &kc), FRL_ERR_UNAVAILABLE, "generation", "KV cache on a CUDA context");
  ok(frl_model_destroy(m), "model_destroy");
  ok(frl_ctx_destroy(ctx), "ctx_destroy");
}

}  // namespace

int main() {
  test_cuda_unavailable();
  test_reference_forward();
  test_gradients();
  test_linear_projector();
  test_identity_adapter_and_rows();
  test_two_images();
  test_bad_inputs();
  test_memory_plan();
  test_threads();
  if (failures) {
    std::printf("%d FAILURES\n", failures);
    return 1;
  }
  std::printf("model_test: all passed\n");
  return 0;
}
