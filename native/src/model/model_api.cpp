// C API of the LLaVA model (factrl/model.h): argument checks (FRL_REQUIRE naming the argument or
// config field), the parameter and adapter blobs, the activation plan, and the one-call forward /
// backward that run the passes of vision_*.cpp, projector.cpp and decoder_*.cpp on the context's
// backend (model_ops.h: CPU kernels or CUDA launchers). On CUDA every tensor lives in device memory:
// the values the checks read (token ids, targets) are copied to the host first (a sync point), and
// the host-built inputs of the passes (positions, image-token rows) are copied into the arena.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cpu/kl_cpu.h"
#include "engine.h"
#include "factrl/model.h"
#include "model/model_internal.h"
#include "model/model_ops.h"
#include "storage.h"

using frl::Error;
using frl::format;
using frl::guard;
namespace fm = frl::model;

using fm::AdapterSet;

namespace {

// A C API call's failure as an exception (its message already says which call and argument).
void check_ok(frl_status s) {
  if (s != FRL_OK) throw Error(s, frl_last_error());
}

void check_model(const frl_model* model) { frl::check_not_null(model, "model"); }

// The blob's entry data pointers, in layout order.
fm::Ptrs blob_ptrs(const frl_blob* blob) {
  int64_t n = 0;
  check_ok(frl_blob_count(blob, &n));
  fm::Ptrs p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) {
    frl_tensor* t = nullptr;
    check_ok(frl_blob_tensor_at(blob, i, &t));
    p[i] = static_cast<float*>(t->data);
  }
  return p;
}

frl_blob* make_blob(frl_ctx* ctx, const std::vector<std::string>& names, const std::vector<std::vector<int64_t>>& shapes) {
  const size_t n = names.size();
  std::vector<const char*> cnames(n);
  std::vector<frl_dtype> dtypes(n, FRL_F32);
  std::vector<int> ndims(n);
  std::vector<int64_t> flat(n * FRL_MAX_DIMS, 0);
  for (size_t i = 0; i < n; i++) {
    cnames[i] = names[i].c_str();
    ndims[i] = static_cast<int>(shapes[i].size());
    for (size_t k = 0; k < shapes[i].size(); k++) flat[i * FRL_MAX_DIMS + k] = shapes[i][k];
  }
  frl_blob* blob = nullptr;
  check_ok(frl_blob_create(ctx, static_cast<int64_t>(n), cnames.data(), dtypes.data(), ndims.data(), flat.data(),
                           &blob));
  return blob;
}

int64_t live_views(const frl_blob* blob) {
  frl_tensor* t = nullptr;
  check_ok(frl_blob_tensor_at(blob, 0, &t));
  return t->storage->views.load();
}

int64_t blob_bytes(const frl_blob* blob) {
  int64_t b = 0;
  check_ok(frl_blob_bytes(blob, &b));
  return b;
}

// A gradient blob `grads` (argument `arg`) laid out like `like`: same context, entry count, shapes.
fm::Ptrs check_grads_like(const frl_blob* grads, const frl_blob* like, const char* arg, const char* what) {
  FRL_REQUIRE(grads != like, FRL_ERR_ARGUMENT, "argument '%s' is %s itself; pass a blob made with "
              "frl_blob_create_like", arg, what);
  int64_t n = 0, m = 0;
  check_ok(frl_blob_count(grads, &n));
  check_ok(frl_blob_count(like, &m));
  FRL_REQUIRE(n == m, FRL_ERR_SHAPE, "argument '%s' has %lld entries, %s has %lld (make it with frl_blob_create_like)",
              arg, static_cast<long long>(n), what, static_cast<long long>(m));
  fm::Ptrs p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) {
    frl_tensor *g = nullptr, *t = nullptr;
    check_ok(frl_blob_tensor_at(grads, i, &g));
    check_ok(frl_blob_tensor_at(like, i, &t));
    bool same = g->ctx == t->ctx && g->dtype == t->dtype && g->ndim == t->ndim;
    for (int k = 0; same && k < t->ndim; k++) same = g->shape[k] == t->shape[k];
    FRL_REQUIRE(same, FRL_ERR_SHAPE, "argument '%s': entry %lld has shape %s, %s's has %s (or another context)",
                arg, static_cast<long long>(i), frl::shape_string(g).c_str(), what, frl::shape_string(t).c_str());
    p[i] = static_cast<float*>(g->data);
  }
  return p;
}

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// (Within an ExecScope: ops::zero is the backend's.)
void zero_entries(const fm::Ptrs& p, const std::vector<std::vector<int64_t>>& shapes, int begin, int end) {
  for (int e = begin; e < end; e++) fm::ops::zero(p[e], sizeof(float) * static_cast<size_t>(numel_of(shapes[e])));
}

// Runs a host initialiser over the blob's entries: directly on the CPU; on CUDA into host buffers
// that are then copied to the device (the same values on both backends for the same seed).
template <typename Init>
void init_entries(frl_ctx* ctx, const fm::Ptrs& w, const std::vector<std::vector<int64_t>>& shapes, Init&& init) {
  if (ctx->backend->kind() == FRL_BACKEND_CPU) {
    init(w);
    return;
  }
  std::vector<std::vector<float>> host(w.size());
  fm::Ptrs hp(w.size());
  for (size_t e = 0; e < w.size(); e++) {
    host[e].resize(static_cast<size_t>(numel_of(shapes[e])));
    hp[e] = host[e].data();
  }
  init(hp);
  for (size_t e = 0; e < w.size(); e++)
    ctx->backend->copy_to_device(w[e], host[e].data(), sizeof(float) * host[e].size());
}

// A tensor's int32 values on the host (the tensor itself on the CPU; a copy on CUDA).
const int32_t* host_i32(frl_ctx* ctx, const frl_tensor* t, std::vector<int32_t>& buf) {
  if (ctx->backend->kind() == FRL_BACKEND_CPU) return static_cast<const int32_t*>(t->data);
  buf.resize(static_cast<size_t>(t->numel));
  ctx->backend->copy_to_host(buf.data(), t->data, sizeof(int32_t) * buf.size());
  return buf.data();
}

void check_tensor(frl_ctx* ctx, const frl_tensor* t, const char* name, frl_dtype dtype) {
  frl::check_context(ctx, t, name);
  frl::check_dtype(t, name, {dtype});
}

void release_arena(frl_model* model) {
  if (model->arena == nullptr) return;
  frl::release_storage(model->arena, "model arena");
  model->arena = nullptr;
  model->acts = fm::Acts{};
  model->plan_batch = model->plan_seq = model->plan_images = 0;
  model->plan_train = false;
  model->trained = false;
}

}  // namespace

namespace frl {
namespace model {

AdapterSet* find_adapter(const frl_model* model, const char* name, const char* arg) {
  check_not_null(name, arg);
  for (const auto& a : model->adapters)
    if (a->name == name) return a.get();
  throw Error(FRL_ERR_ARGUMENT, format("argument '%s': no adapter set named '%s'", arg, name));
}

AdapterView adapter_view(const AdapterSet* set, const Ptrs* grads) {
  AdapterView ad;
  if (set == nullptr) return ad;
  ad.layer = &set->layout.layer;
  ad.proj1 = set->layout.proj1;
  ad.proj2 = set->layout.proj2;
  ad.w = &set->w;
  ad.g = grads;
  ad.scale = set->alpha / static_cast<float>(set->rank);
  ad.r = set->rank;
  return ad;
}

}  // namespace model
}  // namespace frl

extern "C" {

frl_status frl_model_create(frl_ctx* ctx, const frl_model_config* config, frl_model** out_model) {
  return guard("frl_model_create", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_not_null(config, "config");
    frl::check_not_null(out_model, "out_model");
    *out_model = nullptr;
    fm::validate_config(*config);
    auto model = std::make_unique<frl_model>();
    model->ctx = ctx;
    model->config = *config;
    model->dims = fm::dims_of(*config);
    model->layout = fm::base_layout(*config);
    model->params = make_blob(ctx, model->layout.names, model->layout.shapes);
    model->w = blob_ptrs(model->params);
    ctx->live_containers++;
    *out_model = model.release();
  });
}

frl_status frl_model_destroy(frl_model* model) {
  return guard("frl_model_destroy", [&] {
    check_model(model);
    // Check every blob first so a refusal changes nothing.
    FRL_REQUIRE(live_views(model->params) == 0, FRL_ERR_ARGUMENT,
                "the parameter blob has %lld live views; close them first",
                static_cast<long long>(live_views(model->params)));
    for (const auto& a : model->adapters)
      FRL_REQUIRE(live_views(a->blob) == 0, FRL_ERR_ARGUMENT, "adapter set '%s' has %lld live views; close them first",
                  a->name.c_str(), static_cast<long long>(live_views(a->blob)));
    for (const auto& a : model->adapters) check_ok(frl_blob_destroy(a->blob));
    model->adapters.clear();
    check_ok(frl_blob_destroy(model->params));
    release_arena(model);
    model->ctx->live_containers--;
    delete model;
  });
}

frl_status frl_model_get_config(const frl_model* model, frl_model_config* out_config) {
  return guard("frl_model_get_config", [&] {
    check_model(model);
    frl::check_not_null(out_config, "out_config");
    *out_config = model->config;
  });
}

frl_status frl_model_params(const frl_model* model, frl_blob** out_blob) {
  return guard("frl_model_params", [&] {
    check_model(model);
    frl::check_not_null(out_blob, "out_blob");
    *out_blob = model->params;
  });
}

frl_status frl_model_init_weights(frl_model* model, uint64_t seed, float init_std) {
  return guard("frl_model_init_weights", [&] {
    check_model(model);
    FRL_REQUIRE(std::isfinite(init_std) && init_std >= 0.f, FRL_ERR_ARGUMENT,
                "argument 'init_std' must be finite and >= 0, got %g", static_cast<double>(init_std));
    init_entries(model->ctx, model->w, model->layout.shapes,
                 [&](const fm::Ptrs& w) { fm::init_base(model->layout, w, seed, init_std); });
  });
}

frl_status frl_model_add_adapter(frl_model* model, const char* name, int32_t rank, float alpha, uint32_t targets,
                                 uint64_t seed) {
  return guard("frl_model_add_adapter", [&] {
    check_model(model);
    frl::check_not_null(name, "name");
    FRL_REQUIRE(name[0] != '\0', FRL_ERR_ARGUMENT, "argument 'name' is empty");
    for (const auto& a : model->adapters)
      FRL_REQUIRE(a->name != name, FRL_ERR_ARGUMENT, "argument 'name': an adapter set named '%s' already exists",
                  name);
    FRL_REQUIRE(rank > 0, FRL_ERR_ARGUMENT, "argument 'rank' must be > 0, got %d", rank);
    FRL_REQUIRE(std::isfinite(alpha), FRL_ERR_ARGUMENT, "argument 'alpha' must be finite, got %g",
                static_cast<double>(alpha));
    FRL_REQUIRE(targets != 0 && (targets & ~0xFFu) == 0, FRL_ERR_ARGUMENT,
                "argument 'targets' must be a non-empty set of FRL_LORA_* bits (1..255), got %u", targets);
    auto set = std::make_unique<AdapterSet>();
    set->name = name;
    set->rank = rank;
    set->alpha = alpha;
    set->targets = targets;
    set->layout = fm::adapter_layout(model->config, rank, targets);
    FRL_REQUIRE(!set->layout.names.empty(), FRL_ERR_ARGUMENT,
                "argument 'targets' (%u) selects no projection of this model (it has %d decoder layers)", targets,
                model->config.layers);
    set->blob = make_blob(model->ctx, set->layout.names, set->layout.shapes);
    set->w = blob_ptrs(set->blob);
    init_entries(model->ctx, set->w, set->layout.shapes,
                 [&](const fm::Ptrs& w) { fm::init_adapter(set->layout, w, seed); });
    model->adapters.push_back(std::move(set));
  });
}

frl_status frl_model_remove_adapter(frl_model* model, const char* name) {
  return guard("frl_model_remove_adapter", [&] {
    check_model(model);
    AdapterSet* set = fm::find_adapter(model, name, "name");
    check_ok(frl_blob_destroy(set->blob));  // refuses while views are live
    if (model->fwd_adapter == set) {
      model->trained = false;
      model->fwd_adapter = nullptr;
    }
    for (size_t i = 0; i < model->adapters.size(); i++)
      if (model->adapters[i].get() == set) {
        model->adapters.erase(model->adapters.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
  });
}

frl_status frl_model_adapter(const frl_model* model, const char* name, frl_blob** out_blob) {
  return guard("frl_model_adapter", [&] {
    check_model(model);
    frl::check_not_null(out_blob, "out_blob");
    *out_blob = fm::find_adapter(model, name, "name")->blob;
  });
}

frl_status frl_model_adapter_info(const frl_model* model, const char* name, int32_t* out_rank, float* out_alpha,
                                  uint32_t* out_targets) {
  return guard("frl_model_adapter_info", [&] {
    check_model(model);
    const AdapterSet* set = fm::find_adapter(model, name, "name");
    if (out_rank) *out_rank = set->rank;
    if (out_alpha) *out_alpha = set->alpha;
    if (out_targets) *out_targets = set->targets;
  });
}

frl_status frl_model_plan(frl_model* model, int64_t max_batch, int64_t max_seq, int64_t max_images, int train) {
  return guard("frl_model_plan", [&] {
    check_model(model);
    FRL_REQUIRE(max_batch > 0, FRL_ERR_ARGUMENT, "argument 'max_batch' must be > 0, got %lld",
                static_cast<long long>(max_batch));
    FRL_REQUIRE(max_seq > 0 && max_seq <= model->config.max_positions, FRL_ERR_ARGUMENT,
                "argument 'max_seq' must be in [1, max_positions = %d], got %lld", model->config.max_positions,
                static_cast<long long>(max_seq));
    FRL_REQUIRE(max_images >= 0 && max_images <= max_batch, FRL_ERR_ARGUMENT,
                "argument 'max_images' must be in [0, max_batch = %lld] (one image per row), got %lld",
                static_cast<long long>(max_batch), static_cast<long long>(max_images));
    FRL_REQUIRE(train == 0 || train == 1, FRL_ERR_ARGUMENT, "argument 'train' must be 0 or 1, got %d", train);
    // A coarse bound in doubles first, so the exact count below cannot overflow int64.
    const fm::Dims& D = model->dims;
    const double N = static_cast<double>(max_batch) * static_cast<double>(max_seq);
    const double Nv = static_cast<double>(max_images) * static_cast<double>(D.Tv);
    const double bound = 4.0 * (N * (2.0 * D.V + (D.L + 2.0) * (16.0 * D.d + 6.0 * D.F + 2.0 * D.H_heads) + 64.0) +
                                Nv * ((D.feature_blocks + 2.0) * (16.0 * D.Dv + 4.0 * D.Fv + D.Hv) + 2.0 * D.Pf +
                                      8.0 * D.d + 64.0)) +
                         64.0 * (40.0 + 20.0 * (D.L + D.feature_blocks));
    FRL_REQUIRE(bound < 1.0e15, FRL_ERR_MEMORY, "the plan (max_batch %lld, max_seq %lld, max_images %lld) needs about "
                "%.3g bytes of activations", static_cast<long long>(max_batch), static_cast<long long>(max_seq),
                static_cast<long long>(max_images), bound);
    const int64_t bytes = fm::carve_acts(model->config, max_batch, max_seq, max_images, train != 0, nullptr, nullptr);
    release_arena(model);
    model->arena = frl::create_storage(model->ctx, static_cast<size_t>(bytes), FRL_STORAGE_ARENA);
    fm::carve_acts(model->config, max_batch, max_seq, max_images, train != 0, static_cast<char*>(model->arena->base),
                   &model->acts);
    model->plan_batch = max_batch;
    model->plan_seq = max_seq;
    model->plan_images = max_images;
    model->plan_train = train != 0;
  });
}

frl_status frl_model_memory_plan(const frl_model* model, frl_model_memory* out_memory) {
  return guard("frl_model_memory_plan", [&] {
    check_model(model);
    frl::check_not_null(out_memory, "out_memory");
    frl_model_memory m{};
    m.base = blob_bytes(model->params);
    for (const auto& a : model->adapters) m.adapters += blob_bytes(a->blob);
    m.arena = model->arena ? static_cast<int64_t>(model->arena->bytes) : 0;
    m.workspace = 0;  // only the kernels' per-thread rank-r LoRA scratch (N·r floats), as lora_cpu keeps
    m.total = m.base + m.adapters + m.arena + m.workspace;
    *out_memory = m;
  });
}

frl_status frl_model_forward(frl_model* model, const char* adapter, const frl_model_inputs* inputs,
                             const frl_model_outputs* outputs, int train) {
  return guard("frl_model_forward", [&] {
    check_model(model);
    frl::check_not_null(inputs, "inputs");
    FRL_REQUIRE(train == 0 || train == 1, FRL_ERR_ARGUMENT, "argument 'train' must be 0 or 1, got %d", train);
    const AdapterSet* set = adapter ? fm::find_adapter(model, adapter, "adapter") : nullptr;
    frl_ctx* ctx = model->ctx;
    const frl_model_config& c = model->config;
    const fm::Dims& D = model->dims;
    FRL_REQUIRE(model->arena != nullptr, FRL_ERR_ARGUMENT, "the model has no plan: call frl_model_plan first");
    FRL_REQUIRE(!train || model->plan_train, FRL_ERR_ARGUMENT,
                "argument 'train' is 1 but the plan was made for inference (frl_model_plan with train = 0)");
    // input_ids
    const frl_tensor* ids = inputs->input_ids;
    frl::check_not_null(ids, "inputs->input_ids");
    check_tensor(ctx, ids, "inputs->input_ids", FRL_I32);
    frl::check_shape(ids, "inputs->input_ids", {-1, -1});
    const int64_t B = ids->shape[0], S = ids->shape[1];
    FRL_REQUIRE(B >= 1 && S >= 1, FRL_ERR_SHAPE, "argument 'inputs->input_ids' has shape %s: B and S must be >= 1",
                frl::shape_string(ids).c_str());
    FRL_REQUIRE(S <= c.max_positions, FRL_ERR_SHAPE,
                "argument 'inputs->input_ids' has shape %s: S exceeds the config's max_positions %d",
                frl::shape_string(ids).c_str(), c.max_positions);
    FRL_REQUIRE(B <= model->plan_batch && S <= model->plan_seq, FRL_ERR_SHAPE,
                "argument 'inputs->input_ids' has shape %s, larger than the plan (max_batch %lld, max_seq %lld): "
                "call frl_model_plan with larger sizes", frl::shape_string(ids).c_str(),
                static_cast<long long>(model->plan_batch), static_cast<long long>(model->plan_seq));
    fm::ExecScope scope(ctx);
    std::vector<int32_t> id_buf, target_buf;
    const int32_t* id = host_i32(ctx, ids, id_buf);
    int64_t image_rows = 0;
    for (int64_t b = 0; b < B; b++) {
      int64_t count = 0;
      for (int64_t s = 0; s < S; s++) {
        const int32_t t = id[b * S + s];
        FRL_REQUIRE(t >= 0 && t < c.vocab_size, FRL_ERR_ARGUMENT,
                    "argument 'inputs->input_ids': row %lld position %lld holds %d, outside [0, vocab_size = %d)",
                    static_cast<long long>(b), static_cast<long long>(s), t, c.vocab_size);
        count += t == c.image_token_id;
      }
      FRL_REQUIRE(count == 0 || count == D.P, FRL_ERR_ARGUMENT,
                  "argument 'inputs->input_ids': row %lld holds %lld image tokens (id %d); a row holds 0 or exactly "
                  "P = %lld (one per patch)", static_cast<long long>(b), static_cast<long long>(count),
                  c.image_token_id, static_cast<long long>(D.P));
      image_rows += count > 0;
    }
    // images
    const frl_tensor* images = inputs->images;
    int64_t Bi = 0;
    if (images != nullptr) {
      check_tensor(ctx, images, "inputs->images", FRL_F32);
      frl::check_shape(images, "inputs->images", {-1, D.C, D.H, D.H});
      Bi = images->shape[0];
    }
    FRL_REQUIRE(Bi == image_rows, FRL_ERR_SHAPE,
                "argument 'inputs->images' holds %lld images but inputs->input_ids has %lld rows with image tokens",
                static_cast<long long>(Bi), static_cast<long long>(image_rows));
    FRL_REQUIRE(Bi <= model->plan_images, FRL_ERR_SHAPE,
                "argument 'inputs->images' holds %lld images, more than the plan's max_images %lld",
                static_cast<long long>(Bi), static_cast<long long>(model->plan_images));
    // targets
    const frl_tensor* targets = inputs->targets;
    if (targets != nullptr) {
      check_tensor(ctx, targets, "inputs->targets", FRL_I32);
      frl::check_shape(targets, "inputs->targets", {B, S});
      const int32_t* tv = host_i32(ctx, targets, target_buf);
      const int64_t bad = frl::cpu::kl_first_bad_action(tv, nullptr, B * S, c.vocab_size);
      FRL_REQUIRE(bad < 0, FRL_ERR_ARGUMENT,
                  "argument 'inputs->targets': row %lld position %lld holds %d, outside [0, vocab_size = %d)",
                  static_cast<long long>(bad < 0 ? 0 : bad / S), static_cast<long long>(bad < 0 ? 0 : bad % S),
                  bad < 0 ? 0 : tv[bad], c.vocab_size);
    }
    // outputs
    frl_tensor* logits = outputs ? outputs->logits : nullptr;
    frl_tensor* hidden = outputs ? outputs->hidden : nullptr;
    frl_tensor* logp = outputs ? outputs->logp : nullptr;
    if (logits) {
      check_tensor(ctx, logits, "outputs->logits", FRL_F32);
      frl::check_shape(logits, "outputs->logits", {B, S, D.V});
    }
    if (hidden) {
      check_tensor(ctx, hidden, "outputs->hidden", FRL_F32);
      frl::check_shape(hidden, "outputs->hidden", {B, S, D.d});
    }
    if (logp) {
      FRL_REQUIRE(targets != nullptr, FRL_ERR_ARGUMENT, "argument 'outputs->logp' needs inputs->targets");
      check_tensor(ctx, logp, "outputs->logp", FRL_F32);
      frl::check_shape(logp, "outputs->logp", {B, S});
    }
    frl::check_no_alias({{logits, "outputs->logits"}, {hidden, "outputs->hidden"}, {logp, "outputs->logp"}},
                        {{ids, "inputs->input_ids"}, {images, "inputs->images"}, {targets, "inputs->targets"}});

    // ---- run ----
    model->trained = false;
    model->vision_trained = false;
    fm::Acts& a = model->acts;
    const int64_t N = B * S;
    // Positions and image-token rows are built on the host, then copied into the arena (a memcpy on
    // the CPU); the backward keeps the host copy of the image rows (a.img_pos_host).
    std::vector<int32_t> positions(static_cast<size_t>(N));
    a.img_pos_host.clear();
    for (int64_t n = 0; n < N; n++) {
      positions[n] = static_cast<int32_t>(n % S);
      if (id[n] == c.image_token_id) a.img_pos_host.push_back(static_cast<int32_t>(n));
    }
    const int64_t n_img = static_cast<int64_t>(a.img_pos_host.size());
    const size_t id_bytes = sizeof(int32_t) * static_cast<size_t>(N);
    fm::ops::copy(a.ids, ids->data, id_bytes);
    fm::ops::to_device(a.positions, positions.data(), id_bytes);
    fm::ops::to_device(a.img_pos, a.img_pos_host.data(), sizeof(int32_t) * static_cast<size_t>(n_img));
    if (targets) fm::ops::copy(a.targets, targets->data, id_bytes);
    const fm::AdapterView ad = fm::adapter_view(set, nullptr);
    if (Bi > 0) {
      fm::vision_forward(D, model->layout, model->w, c.vision_layer_norm_eps, static_cast<const float*>(images->data),
                         Bi, a, train != 0);
      fm::projector_forward(D, model->layout, model->w, c.projector, ad, Bi, a);
    }
    const bool want_logits =
        model->gen_force_logits || logits != nullptr || logp != nullptr || (train && targets != nullptr);
    fm::decoder_forward(D, model->layout, model->w, c, ad, B, S, n_img, want_logits, a, train != 0,
                        model->gen_kv_hook);
    if (targets != nullptr && want_logits)
      fm::ops::token_logprobs_forward(a.logits, a.targets, N, D.V, a.logp, a.lse_logits);
    if (logits) fm::ops::copy(logits->data, a.logits, sizeof(float) * static_cast<size_t>(N * D.V));
    if (hidden) fm::ops::copy(hidden->data, a.hidden, sizeof(float) * static_cast<size_t>(N * D.d));
    if (logp) fm::ops::copy(logp->data, a.logp, sizeof(float) * static_cast<size_t>(N));
    if (train) {
      model->trained = true;
      model->fwd_adapter = set;
      model->fwd_B = B;
      model->fwd_S = S;
      model->fwd_Bi = Bi;
      model->fwd_nimg = n_img;
      model->fwd_targets = targets != nullptr;
    }
  });
}

frl_status frl_model_backward(frl_model* model, const frl_tensor* d_logp, const frl_tensor* d_hidden,
                              frl_blob* base_grads, uint32_t base_groups, frl_blob* adapter_grads, int mode) {
  return guard("frl_model_backward", [&] {
    check_model(model);
    FRL_REQUIRE(model->trained, FRL_ERR_ARGUMENT,
                "frl_model_backward must follow a training forward (frl_model_forward with train = 1) with no "
                "other forward in between");
    FRL_REQUIRE(mode == FRL_GRAD_OVERWRITE || mode == FRL_GRAD_ACCUMULATE, FRL_ERR_ARGUMENT,
                "argument 'mode' must be FRL_GRAD_OVERWRITE (0) or FRL_GRAD_ACCUMULATE (1), got %d", mode);
    FRL_REQUIRE((base_groups & ~static_cast<uint32_t>(FRL_GROUP_ALL)) == 0, FRL_ERR_ARGUMENT,
                "argument 'base_groups' must be a set of FRL_GROUP_* bits (0..7), got %u", base_groups);
    FRL_REQUIRE(d_logp != nullptr || d_hidden != nullptr, FRL_ERR_ARGUMENT,
                "arguments 'd_logp' and 'd_hidden' are both null: nothing to differentiate");
    frl_ctx* ctx = model->ctx;
    const fm::Dims& D = model->dims;
    const int64_t B = model->fwd_B, S = model->fwd_S, Bi = model->fwd_Bi;
    if (d_logp) {
      FRL_REQUIRE(model->fwd_targets, FRL_ERR_ARGUMENT,
                  "argument 'd_logp' needs a training forward with inputs->targets");
      check_tensor(ctx, d_logp, "d_logp", FRL_F32);
      frl::check_shape(d_logp, "d_logp", {B, S});
    }
    if (d_hidden) {
      check_tensor(ctx, d_hidden, "d_hidden", FRL_F32);
      frl::check_shape(d_hidden, "d_hidden", {B, S, D.d});
    }
    const AdapterSet* set = model->fwd_adapter;
    fm::Ptrs gw, ag;
    const bool base = base_grads != nullptr && base_groups != 0;
    if (base_grads) gw = check_grads_like(base_grads, model->params, "base_grads", "the model's parameter blob");
    if (adapter_grads) {
      FRL_REQUIRE(set != nullptr, FRL_ERR_ARGUMENT,
                  "argument 'adapter_grads' is given but the training forward ran without an adapter set");
      ag = check_grads_like(adapter_grads, set->blob, "adapter_grads", "the active adapter set's blob");
    }
    if (!base && adapter_grads == nullptr) return;  // nothing trainable requested
    fm::ExecScope scope(ctx);
    // Every parameter gradient below is added into: OVERWRITE zeroes the requested ones first.
    const fm::BaseLayout& L = model->layout;
    if (mode == FRL_GRAD_OVERWRITE) {
      for (int grp = 0; grp < 3; grp++)
        if (base && (base_groups & (1u << grp))) zero_entries(gw, L.shapes, L.group_begin[grp], L.group_end[grp]);
      if (adapter_grads) zero_entries(ag, set->layout.shapes, 0, static_cast<int>(set->layout.names.size()));
    }
    const fm::AdapterView ad = fm::adapter_view(set, adapter_grads ? &ag : nullptr);
    const bool g_vision = base && (base_groups & FRL_GROUP_VISION);
    const bool g_proj = base && (base_groups & FRL_GROUP_PROJECTOR);
    const bool g_dec = base && (base_groups & FRL_GROUP_DECODER);
    const bool lora_proj = adapter_grads != nullptr && set->layout.proj1.a >= 0;
    const bool run_vision = Bi > 0 && g_vision;
    const bool run_proj = Bi > 0 && (run_vision || g_proj || lora_proj);
    const bool lora_dec = adapter_grads != nullptr && (set->targets & FRL_LORA_ALL_DECODER) != 0 && D.L > 0;
    fm::Acts& a = model->acts;
    if (g_dec || lora_dec || run_proj)
      fm::decoder_backward(D, L, model->w, g_dec ? &gw : nullptr, model->config, ad, B, S, model->fwd_nimg,
                           d_logp ? static_cast<const float*>(d_logp->data) : nullptr,
                           d_hidden ? static_cast<const float*>(d_hidden->data) : nullptr, run_proj, a);
    if (run_proj)
      fm::projector_backward(D, L, model->w, g_proj ? &gw : nullptr, model->config.projector, ad, Bi, run_vision, a);
    if (run_vision) fm::vision_backward(D, L, model->w, gw, model->config.vision_layer_norm_eps, Bi, a);
  });
}


frl_status frl_model_vision_forward(frl_model* model, const frl_tensor* images, frl_tensor* features, int train) {
  return guard("frl_model_vision_forward", [&] {
    check_model(model);
    FRL_REQUIRE(train == 0 || train == 1, FRL_ERR_ARGUMENT, "argument 'train' must be 0 or 1, got %d", train);
    FRL_REQUIRE(model->arena != nullptr, FRL_ERR_ARGUMENT, "the model has no plan: call frl_model_plan first");
    FRL_REQUIRE(!train || model->plan_train, FRL_ERR_ARGUMENT,
                "argument 'train' is 1 but the plan was made for inference (frl_model_plan with train = 0)");
    frl_ctx* ctx = model->ctx;
    const fm::Dims& D = model->dims;
    frl::check_not_null(images, "images");
    check_tensor(ctx, images, "images", FRL_F32);
    frl::check_shape(images, "images", {-1, D.C, D.H, D.H});
    const int64_t Bi = images->shape[0];
    FRL_REQUIRE(Bi >= 1, FRL_ERR_SHAPE, "argument 'images' has shape %s: Bi must be >= 1",
                frl::shape_string(images).c_str());
    FRL_REQUIRE(Bi <= model->plan_images, FRL_ERR_SHAPE,
                "argument 'images' holds %lld images, more than the plan's max_images %lld",
                static_cast<long long>(Bi), static_cast<long long>(model->plan_images));
    frl::check_not_null(features, "features");
    check_tensor(ctx, features, "features", FRL_F32);
    frl::check_shape(features, "features", {Bi, D.P, D.Dv});
    frl::check_no_alias({{features, "features"}}, {{images, "images"}});
    // The arena's vision buffers are shared with frl_model_forward: neither backward may follow now.
    model->trained = false;
    model->vision_trained = false;
    fm::Acts& a = model->acts;
    fm::ExecScope scope(ctx);
    fm::vision_forward(D, model->layout, model->w, model->config.vision_layer_norm_eps,
                       static_cast<const float*>(images->data), Bi, a, train != 0);
    fm::ops::copy(features->data, a.feat, sizeof(float) * static_cast<size_t>(Bi * D.P * D.Dv));
    if (train) {
      model->vision_trained = true;
      model->vision_fwd_Bi = Bi;
    }
  });
}

frl_status frl_model_vision_backward(frl_model* model, const frl_tensor* d_features, frl_blob* base_grads, int mode) {
  return guard("frl_model_vision_backward", [&] {
    check_model(model);
    FRL_REQUIRE(model->vision_trained, FRL_ERR_ARGUMENT,
                "frl_model_vision_backward must follow a training frl_model_vision_forward (train = 1) with no "
                "other forward in between");
    FRL_REQUIRE(mode == FRL_GRAD_OVERWRITE || mode == FRL_GRAD_ACCUMULATE, FRL_ERR_ARGUMENT,
                "argument 'mode' must be FRL_GRAD_OVERWRITE (0) or FRL_GRAD_ACCUMULATE (1), got %d", mode);
    const fm::Dims& D = model->dims;
    const int64_t Bi = model->vision_fwd_Bi;
    frl::check_not_null(d_features, "d_features");
    check_tensor(model->ctx, d_features, "d_features", FRL_F32);
    frl::check_shape(d_features, "d_features", {Bi, D.P, D.Dv});
    frl::check_not_null(base_grads, "base_grads");
    fm::Ptrs gw = check_grads_like(base_grads, model->params, "base_grads", "the model's parameter blob");
    const fm::BaseLayout& L = model->layout;
    const int grp = 0;  // FRL_GROUP_VISION
    fm::ExecScope scope(model->ctx);
    if (mode == FRL_GRAD_OVERWRITE) zero_entries(gw, L.shapes, L.group_begin[grp], L.group_end[grp]);
    fm::Acts& a = model->acts;
    fm::ops::copy(a.dfeat, d_features->data, sizeof(float) * static_cast<size_t>(Bi * D.P * D.Dv));
    fm::vision_backward(D, L, model->w, gw, model->config.vision_layer_norm_eps, Bi, a);
  });
}

}  // extern "C"
