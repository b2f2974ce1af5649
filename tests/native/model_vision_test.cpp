// The vision-only calls of the model (frl_model_vision_forward / frl_model_vision_backward,
// factrl/model.h) on a micro config (image 8x8, C 3, patch 4: P = 4, Dv 8, 2 vision blocks):
//
//  1. The features equal, bitwise, what frl_model_forward hands the projector (the arena's feat
//     buffer, read through the model's internals) — for feature layer -2 and -1, 1 and 2 images.
//  2. Finite differences of L = Σ u·features (central at h = 1e-2 and 5e-3, Richardson-combined,
//     summed in double) against frl_model_vision_backward for a sample of elements of EVERY vision
//     entry; pass |fd − an| <= 1e-3 + 1e-2 |an|. Entries outside the vision group stay untouched
//     (a sentinel survives), and the block after the feature layer gets exactly 0.
//  3. ACCUMULATE after OVERWRITE doubles the vision entries (a second backward after one forward).
//  4. Order rules and bad inputs: status and a message naming the argument.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "factrl.h"
#include "model/model_internal.h"

namespace {

int failures = 0;

#define CHECK(cond, ...)                               \
  do {                                                 \
    if (!(cond)) {                                     \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      std::printf(__VA_ARGS__);                        \
      std::printf("\n");                               \
      failures++;                                      \
    }                                                  \
  } while (0)

void ok(frl_status s, const char* what) {
  if (s != FRL_OK) {
    std::printf("FATAL: %s failed: %s\n", what, frl_last_error());
    std::exit(1);
  }
}

frl_model_config micro_config(int feature_layer) {
  frl_model_config c{};
  c.image_size = 8;
  c.image_channels = 3;
  c.patch_size = 4;
  c.vision_hidden = 8;
  c.vision_layers = 2;
  c.vision_heads = 2;
  c.vision_intermediate = 12;
  c.vision_feature_layer = feature_layer;
  c.vision_layer_norm_eps = 1e-5f;
  c.projector = FRL_PROJECTOR_LINEAR;
  c.vocab_size = 23;
  c.hidden = 16;
  c.layers = 1;
  c.heads = 2;
  c.intermediate = 24;
  c.max_positions = 16;
  c.rope_theta = 10000.f;
  c.rms_norm_eps = 1e-6f;
  c.image_token_id = 22;
  return c;
}

constexpr int64_t P = 4, Dv = 8, S = 6;

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

float get(frl_tensor* t, int64_t i) {
  float x;
  ok(frl_tensor_read_f32(t, i, &x, 1), "get");
  return x;
}
void set(frl_tensor* t, int64_t i, float x) { ok(frl_tensor_write_f32(t, i, &x, 1), "set"); }

struct Rig {
  frl_ctx* ctx = nullptr;
  frl_model* model = nullptr;
  frl_tensor *images, *features, *u;
  std::vector<float> u_host;
  int64_t Bi;

  Rig(int feature_layer, int64_t bi) : Bi(bi) {
    ok(frl_ctx_create(FRL_BACKEND_CPU, 0, &ctx), "ctx_create");
    frl_model_config c = micro_config(feature_layer);
    ok(frl_model_create(ctx, &c, &model), "model_create");
    ok(frl_model_init_weights(model, 4321, 0.3f), "init_weights");
    ok(frl_model_plan(model, 2, S, 2, 1), "plan");
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> U(-1.f, 1.f);
    images = tensor(ctx, FRL_F32, {Bi, 3, 8, 8});
    std::vector<float> img(static_cast<size_t>(Bi * 3 * 64));
    for (float& x : img) x = U(rng);
    ok(frl_tensor_write_f32(images, 0, img.data(), static_cast<int64_t>(img.size())), "write images");
    features = tensor(ctx, FRL_F32, {Bi, P, Dv});
    u = tensor(ctx, FRL_F32, {Bi, P, Dv});
    u_host.resize(static_cast<size_t>(Bi * P * Dv));
    for (float& x : u_host) x = U(rng);
    ok(frl_tensor_write_f32(u, 0, u_host.data(), Bi * P * Dv), "write u");
  }
  ~Rig() {
    for (frl_tensor* t : {images, features, u}) frl_tensor_destroy(t);
    ok(frl_model_destroy(model), "model_destroy");
    ok(frl_ctx_destroy(ctx), "ctx_destroy");
  }
  frl_blob* params() {
    frl_blob* b = nullptr;
    ok(frl_model_params(model, &b), "params");
    return b;
  }
  double loss() {
    ok(frl_model_vision_forward(model, images, features, 0), "vision_forward");
    std::vector<float> f = read(features);
    double L = 0;
    for (size_t i = 0; i < f.size(); i++) L += static_cast<double>(u_host[i]) * f[i];
    return L;
  }
};

// 1. Features bitwise equal to the full forward's projector input.
void test_features_match_full_forward(int feature_layer, int64_t Bi) {
  Rig r(feature_layer, Bi);
  // Every image row holds P image tokens (id 22); S = 6.
  std::vector<int32_t> ids;
  for (int64_t b = 0; b < Bi; b++) {
    const int32_t row[S] = {1, 22, 22, 22, 22, 5};
    ids.insert(ids.end(), row, row + S);
  }
  frl_tensor* id = tensor(r.ctx, FRL_I32, {Bi, S});
  ok(frl_tensor_write_i32(id, 0, ids.data(), Bi * S), "write ids");
  frl_model_inputs in{id, r.images, nullptr};
  ok(frl_model_forward(r.model, nullptr, &in, nullptr, 0), "forward");
  const float* feat = r.model->acts.feat;
  std::vector<float> full(feat, feat + Bi * P * Dv);
  for (int train = 0; train <= 1; train++) {
    ok(frl_model_vision_forward(r.model, r.images, r.features, train), "vision_forward");
    std::vector<float> got = read(r.features);
    CHECK(got.size() == full.size() && std::memcmp(got.data(), full.data(), full.size() * sizeof(float)) == 0,
          "feature layer %d, %lld images, train %d: vision features differ from the full forward's", feature_layer,
          static_cast<long long>(Bi), train);
  }
  double mag = 0;
  for (float x : full) mag += std::fabs(x);
  CHECK(mag > 1.0, "features are (near) zero: the comparison proves nothing (sum |f| = %g)", mag);
  frl_tensor_destroy(id);
}

// 2. Finite differences on every vision entry; other groups untouched; held block zero.
void test_gradients(int feature_layer) {
  Rig r(feature_layer, 2);
  frl_blob* params = r.params();
  frl_blob* g = nullptr;
  ok(frl_blob_create_like(params, &g), "create_like");
  int64_t n = 0;
  frl_blob_count(params, &n);
  // Sentinel in every entry of g: the vision ones must be overwritten, the others kept.
  for (int64_t e = 0; e < n; e++) {
    frl_tensor* t;
    frl_blob_tensor_at(g, e, &t);
    int64_t numel;
    frl_tensor_numel(t, &numel);
    std::vector<float> v(static_cast<size_t>(numel), 7.5f);
    frl_tensor_write_f32(t, 0, v.data(), numel);
  }
  ok(frl_model_vision_forward(r.model, r.images, r.features, 1), "vision_forward train");
  ok(frl_model_vision_backward(r.model, r.u, g, FRL_GRAD_OVERWRITE), "vision_backward");
  std::vector<std::vector<float>> first(static_cast<size_t>(n));
  double worst = 0;
  int checked = 0;
  for (int64_t e = 0; e < n; e++) {
    const char* name = nullptr;
    frl_blob_name(params, e, &name);
    frl_tensor *w = nullptr, *gt = nullptr;
    frl_blob_tensor_at(params, e, &w);
    frl_blob_tensor_at(g, e, &gt);
    first[e] = read(gt);
    const bool vision = std::strncmp(name, "vision_tower.", 13) == 0;
    if (!vision) {
      bool kept = true;
      for (float x : first[e]) kept = kept && x == 7.5f;
      CHECK(kept, "entry %s (not vision) was written", name);
      continue;
    }
    // Blocks at or after the feature layer's hidden_states index never ran: exactly zero.
    const int fb = feature_layer < 0 ? 2 + 1 + feature_layer : feature_layer;
    bool held = false;
    for (int l = fb; l < 2; l++)
      held = held || std::strstr(name, ("encoder.layers." + std::to_string(l) + ".").c_str()) != nullptr;
    if (held) {
      bool zero = true;
      for (float x : first[e]) zero = zero && x == 0.f;
      CHECK(zero, "held block entry %s got a non-zero gradient", name);
      continue;
    }
    int64_t numel = 0;
    frl_tensor_numel(w, &numel);
    for (int k = 0; k < 3 && k < numel; k++) {
      const int64_t i = (k * 7919 + e * 31) % numel;
      const float w0 = get(w, i);
      auto central = [&](float h) {
        set(w, i, w0 + h);
        const double lp = r.loss();
        set(w, i, w0 - h);
        const double lm = r.loss();
        set(w, i, w0);
        return (lp - lm) / (static_cast<double>(w0 + h) - static_cast<double>(w0 - h));
      };
      const double fd = (4.0 * central(5e-3f) - central(1e-2f)) / 3.0;
      const double an = first[e][i];
      const double err = std::fabs(fd - an), tol = 1e-3 + 1e-2 * std::fabs(an);
      worst = std::fmax(worst, err / tol);
      checked++;
      CHECK(err <= tol, "feature layer %d: %s[%lld] fd %.6g analytic %.6g", feature_layer, name,
            static_cast<long long>(i), fd, an);
    }
  }
  std::printf("fd vision (feature layer %d): %d elements, worst err/tol %.3f\n", feature_layer, checked, worst);
  CHECK(checked > 20, "too few elements checked: %d", checked);
  // ACCUMULATE after OVERWRITE (a fresh training forward) doubles the vision entries.
  ok(frl_model_vision_forward(r.model, r.images, r.features, 1), "vision_forward train");
  ok(frl_model_vision_backward(r.model, r.u, g, FRL_GRAD_OVERWRITE), "vision_backward");
  ok(frl_model_vision_backward(r.model, r.u, g, FRL_GRAD_ACCUMULATE), "vision_backward accumulate");
  for (int64_t e = 0; e < n; e++) {
    const char* name = nullptr;
    frl_blob_name(params, e, &name);
    if (std::strncmp(name, "vision_tower.", 13) != 0) continue;
    frl_tensor* gt;
    frl_blob_tensor_at(g, e, &gt);
    std::vector<float> now = read(gt);
    for (size_t i = 0; i < now.size(); i++)
      CHECK(std::fabs(now[i] - 2 * first[e][i]) <= 1e-5f + 1e-5f * std::fabs(2 * first[e][i]),
            "ACCUMULATE: %s[%zu] %g, want 2 x %g", name, i, now[i], first[e][i]);
  }
  frl_blob_destroy(g);
}

void expect_fail(frl_status got, frl_status want, const char* part, const char* what) {
  const char* msg = frl_last_error();
  CHECK(got == want, "%s: status %d, want %d (%s)", what, got, want, msg);
  CHECK(std::strstr(msg, part) != nullptr, "%s: message '%s' does not name '%s'", what, msg, part);
}

// 4. Order rules and bad inputs.
void test_bad_inputs() {
  Rig r(-1, 2);
  frl_blob* g = nullptr;
  ok(frl_blob_create_like(r.params(), &g), "create_like");
  expect_fail(frl_model_vision_backward(r.model, r.u, g, FRL_GRAD_OVERWRITE), FRL_ERR_ARGUMENT,
              "training frl_model_vision_forward", "backward before any forward");
  ok(frl_model_vision_forward(r.model, r.images, r.features, 0), "vision_forward");
  expect_fail(frl_model_vision_backward(r.model, r.u, g, FRL_GRAD_OVERWRITE), FRL_ERR_ARGUMENT,
              "training frl_model_vision_forward", "backward after an inference forward");
  frl_tensor* small = tensor(r.ctx, FRL_F32, {2, P, Dv - 1});
  expect_fail(frl_model_vision_forward(r.model, r.images, small, 1), FRL_ERR_SHAPE, "features", "wrong features");
  frl_tensor* img3 = tensor(r.ctx, FRL_F32, {3, 3, 8, 8});
  frl_tensor* f3 = tensor(r.ctx, FRL_F32, {3, P, Dv});
  expect_fail(frl_model_vision_forward(r.model, img3, f3, 1), FRL_ERR_SHAPE, "max_images", "beyond the plan");
  frl_tensor* badimg = tensor(r.ctx, FRL_F32, {2, 3, 4, 4});
  expect_fail(frl_model_vision_forward(r.model, badimg, r.features, 1), FRL_ERR_SHAPE, "images", "wrong image size");
  ok(frl_model_vision_forward(r.model, r.images, r.features, 1), "vision_forward train");
  expect_fail(frl_model_vision_backward(r.model, small, g, FRL_GRAD_OVERWRITE), FRL_ERR_SHAPE, "d_features",
              "wrong d_features");
  expect_fail(frl_model_vision_backward(r.model, r.u, g, 5), FRL_ERR_ARGUMENT, "mode", "bad mode");
  expect_fail(frl_model_vision_backward(r.model, r.u, r.params(), FRL_GRAD_OVERWRITE), FRL_ERR_ARGUMENT,
              "base_grads", "params as grads");
  // The full backward may not follow a vision forward; a full forward ends the vision backward.
  expect_fail(frl_model_backward(r.model, nullptr, r.u, g, FRL_GROUP_VISION, nullptr, FRL_GRAD_OVERWRITE),
              FRL_ERR_ARGUMENT, "training forward", "full backward after vision forward");
  frl_tensor* id = tensor(r.ctx, FRL_I32, {1, S});
  const int32_t row[S] = {1, 2, 3, 4, 5, 6};
  ok(frl_tensor_write_i32(id, 0, row, S), "ids");
  frl_model_inputs in{id, nullptr, nullptr};
  ok(frl_model_forward(r.model, nullptr, &in, nullptr, 1), "forward");
  expect_fail(frl_model_vision_backward(r.model, r.u, g, FRL_GRAD_OVERWRITE), FRL_ERR_ARGUMENT,
              "training frl_model_vision_forward", "vision backward after a full forward");
  ok(frl_model_plan(r.model, 2, S, 2, 0), "inference plan");
  expect_fail(frl_model_vision_forward(r.model, r.images, r.features, 1), FRL_ERR_ARGUMENT, "train",
              "train on an inference plan");
  for (frl_tensor* t : {small, img3, f3, badimg, id}) frl_tensor_destroy(t);
  frl_blob_destroy(g);
}

}  // namespace

int main() {
  test_features_match_full_forward(-2, 1);
  test_features_match_full_forward(-1, 2);
  test_features_match_full_forward(1, 2);
  test_gradients(-1);
  test_gradients(-2);
  test_bad_inputs();
  if (failures) {
    std::printf("%d failure(s)\n", failures);
    return 1;
  }
  std::printf("model_vision_test: all passed\n");
  return 0;
}
