// Generation with the LLaVA model (factrl/generate.h) on the micro config of model_test (image 8x8,
// P = 4, d 16, 2 decoder layers of 2 heads, V 23), with a LoRA adapter on every decoder target and
// the projector (B made non-zero), prompts: row 0 an image row of 7 tokens, row 1 a text row of 5
// (right-padded to 7).
//
//  1. Cached = uncached: the prefill's last logits and every decode step's logits equal
//     frl_model_forward's logits over the whole sequence at the same position, |Δ| <= 1e-5
//     (measured max printed: 0, the kernels compute each row alike however many rows run); greedy frl_model_generate's tokens
//     equal a naive loop that reruns the full forward each step, exactly.
//  2. The log-probs frl_model_generate returns (sampled: T 0.8, top-p 0.9) equal the forward's logp
//     of the same tokens, |Δ| <= 1e-5 (measured: 0) (PPO's old / ref log-prob consistency).
//  3. Same seed → bitwise the same tokens and log-probs; another seed gives other tokens; each row
//     generated alone gives its tokens in the batch; 1 vs 2 OpenMP threads bitwise identical.
//  4. Sampler: temperature 0 = argmax with the lowest id among ties; top-p keeps the smallest set
//     reaching p (only nucleus tokens drawn, in their renormalised proportions); a histogram of 200000
//     draws matches softmax(l / T) (chi-square with 5 dof < 25, fixed seed).
//  5. EOS stops a row (pad / logp 0 after it, its length counts the EOS); the max_len overflow
//     errors name the row; bad config fields and arguments are named; cache bytes are counted.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "factrl.h"
#include "model/sampling.h"

namespace {

int failures = 0;

#define CHECK(cond, ...)                                \
  do {                                                  \
    if (!(cond)) {                                      \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__);  \
      std::printf(__VA_ARGS__);                         \
      std::printf("\n");                                \
      failures++;                                       \
    }                                                   \
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

constexpr int64_t B = 2, S = 7, V = 23, T = 6, kMaxLen = 16;
const int32_t kIds[B * S] = {1, 22, 22, 22, 22, 5, 6,   // image row, 7 tokens
                             3, 4, 7, 8, 9, 0, 0};      // text row, 5 tokens + padding
const int32_t kLens[B] = {7, 5};
const char* kAdapter = "policy";

frl_tensor* tensor(frl_ctx* ctx, frl_dtype dt, std::vector<int64_t> shape) {
  frl_tensor* t = nullptr;
  ok(frl_tensor_create(ctx, dt, static_cast<int>(shape.size()), shape.data(), &t), "tensor_create");
  return t;
}
frl_tensor* i32(frl_ctx* ctx, std::vector<int64_t> shape, const std::vector<int32_t>& v) {
  frl_tensor* t = tensor(ctx, FRL_I32, shape);
  ok(frl_tensor_write_i32(t, 0, v.data(), static_cast<int64_t>(v.size())), "write i32");
  return t;
}
std::vector<float> readf(const frl_tensor* t) {
  int64_t n = 0;
  frl_tensor_numel(t, &n);
  std::vector<float> v(static_cast<size_t>(n));
  ok(frl_tensor_read_f32(t, 0, v.data(), n), "read f32");
  return v;
}
std::vector<int32_t> readi(const frl_tensor* t) {
  int64_t n = 0;
  frl_tensor_numel(t, &n);
  std::vector<int32_t> v(static_cast<size_t>(n));
  ok(frl_tensor_read_i32(t, 0, v.data(), n), "read i32");
  return v;
}
bool contains(const char* msg, const char* part) { return std::strstr(msg, part) != nullptr; }

// A micro model with a non-trivial adapter, a plan for the full sequences, one image.
struct Rig {
  frl_ctx* ctx = nullptr;
  frl_model* model = nullptr;
  frl_tensor* image = nullptr;

  Rig() {
    frl_model_config c = micro_config();
    ok(frl_ctx_create(FRL_BACKEND_CPU, 0, &ctx), "ctx_create");
    ok(frl_model_create(ctx, &c, &model), "model_create");
    ok(frl_model_init_weights(model, 99, 0.3f), "init_weights");
    ok(frl_model_add_adapter(model, kAdapter, 4, 8.f, FRL_LORA_ALL_DECODER | FRL_LORA_PROJECTOR, 5), "add_adapter");
    frl_blob* ab = nullptr;
    ok(frl_model_adapter(model, kAdapter, &ab), "adapter");
    frl_tensor* flat = nullptr;
    ok(frl_blob_flat(ab, FRL_F32, &flat), "blob_flat");
    std::vector<float> w = readf(flat);
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> U(-0.2f, 0.2f);
    for (float& x : w) x = U(rng);  // B != 0: the adapter changes the outputs
    ok(frl_tensor_write_f32(flat, 0, w.data(), static_cast<int64_t>(w.size())), "write adapter");
    frl_tensor_destroy(flat);
    ok(frl_model_plan(model, 3, kMaxLen, 2, 0), "plan");
    image = tensor(ctx, FRL_F32, {1, 3, 8, 8});
    std::vector<float> img(3 * 64);
    std::uniform_real_distribution<float> U1(-1.f, 1.f);
    for (float& x : img) x = U1(rng);
    ok(frl_tensor_write_f32(image, 0, img.data(), 3 * 64), "write image");
  }
  ~Rig() {
    frl_tensor_destroy(image);
    ok(frl_model_destroy(model), "model_destroy");
    ok(frl_ctx_destroy(ctx), "ctx_destroy");
  }

  // Full forward over rows `seqs` (right-padded with 0) → logits [rows, Smax, V]; with targets, logp.
  std::vector<float> forward(const std::vector<std::vector<int32_t>>& seqs, bool with_image,
                             const std::vector<std::vector<int32_t>>* targets = nullptr,
                             std::vector<float>* logp = nullptr) {
    size_t smax = 0;
    for (const auto& s : seqs) smax = std::max(smax, s.size());
    const int64_t n = static_cast<int64_t>(seqs.size()), sm = static_cast<int64_t>(smax);
    std::vector<int32_t> ids(static_cast<size_t>(n * sm), 0), tg(static_cast<size_t>(n * sm), 0);
    for (int64_t b = 0; b < n; b++)
      for (size_t s = 0; s < seqs[b].size(); s++) {
        ids[b * sm + s] = seqs[b][s];
        if (targets) tg[b * sm + s] = (*targets)[b][s];
      }
    frl_tensor* tid = i32(ctx, {n, sm}, ids);
    frl_tensor* ttg = targets ? i32(ctx, {n, sm}, tg) : nullptr;
    frl_tensor* lg = tensor(ctx, FRL_F32, {n, sm, V});
    frl_tensor* lp = targets ? tensor(ctx, FRL_F32, {n, sm}) : nullptr;
    frl_model_inputs in{tid, with_image ? image : nullptr, ttg};
    frl_model_outputs out{lg, nullptr, lp};
    ok(frl_model_forward(model, kAdapter, &in, &out, 0), "forward");
    std::vector<float> r = readf(lg);
    if (logp) *logp = readf(lp);
    frl_tensor_destroy(tid);
    frl_tensor_destroy(lg);
    if (ttg) frl_tensor_destroy(ttg);
    if (lp) frl_tensor_destroy(lp);
    return r;
  }
};

struct Gen {
  std::vector<int32_t> tokens, lengths;
  std::vector<float> logp;
};

// frl_model_generate over the prompt rows `rows` of kIds (the image goes with row 0).
Gen generate(Rig& r, const std::vector<int>& rows, const frl_generate_config& g) {
  const int64_t n = static_cast<int64_t>(rows.size());
  std::vector<int32_t> ids, lens;
  bool image = false;
  for (int row : rows) {
    ids.insert(ids.end(), kIds + row * S, kIds + (row + 1) * S);
    lens.push_back(kLens[row]);
    image |= row == 0;
  }
  frl_tensor* tid = i32(r.ctx, {n, S}, ids);
  frl_tensor* tlen = i32(r.ctx, {n}, lens);
  frl_tensor* tok = tensor(r.ctx, FRL_I32, {n, g.max_new_tokens});
  frl_tensor* lp = tensor(r.ctx, FRL_F32, {n, g.max_new_tokens});
  frl_tensor* len = tensor(r.ctx, FRL_I32, {n});
  frl_kv_cache* cache = nullptr;
  ok(frl_kv_cache_create(r.model, 3, kMaxLen, &cache), "kv_cache_create");
  frl_model_inputs in{tid, image ? r.image : nullptr, nullptr};
  ok(frl_model_generate(r.model, kAdapter, cache, &in, tlen, &g, tok, lp, len), "generate");
  Gen out{readi(tok), readi(len), readf(lp)};
  ok(frl_kv_cache_destroy(cache), "kv_cache_destroy");
  for (frl_tensor* t : {tid, tlen, tok, lp, len}) frl_tensor_destroy(t);
  return out;
}

frl_generate_config greedy_config() {
  frl_generate_config g{};
  g.max_new_tokens = T;
  g.temperature = 0.f;
  g.top_p = 1.f;
  g.eos_token_id = -1;
  g.pad_token_id = 0;
  g.seed = 1;
  return g;
}

frl_generate_config sampled_config(uint64_t seed) {
  frl_generate_config g = greedy_config();
  g.temperature = 0.8f;
  g.top_p = 0.9f;
  g.seed = seed;
  return g;
}

std::vector<std::vector<int32_t>> prompts() {
  return {std::vector<int32_t>(kIds, kIds + kLens[0]), std::vector<int32_t>(kIds + S, kIds + S + kLens[1])};
}

// 1. Decode-step logits vs the full forward; greedy generate vs a naive full-forward loop.
void test_cached_equals_uncached() {
  Rig r;
  frl_kv_cache* cache = nullptr;
  ok(frl_kv_cache_create(r.model, 3, kMaxLen, &cache), "kv_cache_create");
  frl_tensor* tid = i32(r.ctx, {B, S}, std::vector<int32_t>(kIds, kIds + B * S));
  frl_tensor* tlen = i32(r.ctx, {B}, std::vector<int32_t>(kLens, kLens + B));
  frl_tensor* logits = tensor(r.ctx, FRL_F32, {B, V});
  frl_model_inputs in{tid, r.image, nullptr};
  ok(frl_model_prefill(r.model, kAdapter, cache, &in, tlen, logits), "prefill");
  std::vector<std::vector<int32_t>> seqs = prompts();
  double worst = 0;
  frl_tensor* tok = tensor(r.ctx, FRL_I32, {B});
  for (int step = 0; step <= T; step++) {
    const std::vector<float> got = readf(logits);
    const std::vector<float> full = r.forward(seqs, true);
    const int64_t sm = static_cast<int64_t>(std::max(seqs[0].size(), seqs[1].size()));
    std::vector<int32_t> next(B);
    for (int64_t b = 0; b < B; b++) {
      const int64_t pos = static_cast<int64_t>(seqs[b].size()) - 1;
      for (int64_t v = 0; v < V; v++) {
        const double diff = std::fabs(got[b * V + v] - full[(b * sm + pos) * V + v]);
        worst = std::max(worst, diff);
        CHECK(diff <= 1e-5, "step %d row %lld logit %lld: cached %g, full forward %g", step,
              static_cast<long long>(b), static_cast<long long>(v), got[b * V + v], full[(b * sm + pos) * V + v]);
      }
      next[b] = frl::model::argmax_token(got.data() + b * V, V);
    }
    if (step == T) break;
    ok(frl_tensor_write_i32(tok, 0, next.data(), B), "write tok");
    ok(frl_model_decode_step(r.model, cache, tok, nullptr, logits), "decode_step");
    for (int64_t b = 0; b < B; b++) seqs[b].push_back(next[b]);
  }
  std::vector<int32_t> lens(B);
  ok(frl_kv_cache_lengths(cache, lens.data(), B), "kv_cache_lengths");
  CHECK(lens[0] == kLens[0] + T && lens[1] == kLens[1] + T, "cache lengths %d %d", lens[0], lens[1]);
  std::printf("cached vs full forward: max |logit diff| %.3g over %lld steps\n", worst, static_cast<long long>(T + 1));

  // Greedy generate vs a naive loop that reruns the whole forward for every token.
  const Gen g = generate(r, {0, 1}, greedy_config());
  std::vector<std::vector<int32_t>> naive = prompts();
  for (int64_t t = 0; t < T; t++) {
    const std::vector<float> full = r.forward(naive, true);
    const int64_t sm = static_cast<int64_t>(std::max(naive[0].size(), naive[1].size()));
    std::vector<int32_t> next(B);
    for (int64_t b = 0; b < B; b++)
      next[b] = frl::model::argmax_token(full.data() + (b * sm + static_cast<int64_t>(naive[b].size()) - 1) * V, V);
    for (int64_t b = 0; b < B; b++) naive[b].push_back(next[b]);
  }
  bool distinct = false;
  for (int64_t b = 0; b < B; b++) {
    CHECK(g.lengths[b] == T, "greedy row %lld length %d", static_cast<long long>(b), g.lengths[b]);
    for (int64_t t = 0; t < T; t++) {
      CHECK(g.tokens[b * T + t] == naive[b][kLens[b] + t], "greedy row %lld token %lld: generate %d, naive %d",
            static_cast<long long>(b), static_cast<long long>(t), g.tokens[b * T + t], naive[b][kLens[b] + t]);
      distinct |= g.tokens[b * T + t] != g.tokens[b * T];
    }
  }
  CHECK(distinct, "greedy output is one repeated token: the comparison would be weak");
  for (frl_tensor* t : {tid, tlen, logits, tok}) frl_tensor_destroy(t);
  ok(frl_kv_cache_destroy(cache), "kv_cache_destroy");
}

// 2. Returned log-probs = the forward's logp of the generated tokens.
void test_logp_consistency() {
  Rig r;
  const Gen g = generate(r, {0, 1}, sampled_config(42));
  std::vector<std::vector<int32_t>> seqs = prompts(), targets;
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t < g.lengths[b]; t++) seqs[b].push_back(g.tokens[b * T + t]);
  for (int64_t b = 0; b < B; b++) {  // targets: the sequence shifted left by one
    std::vector<int32_t> tg(seqs[b].begin() + 1, seqs[b].end());
    tg.push_back(0);
    targets.push_back(tg);
  }
  std::vector<float> logp;
  r.forward(seqs, true, &targets, &logp);
  const int64_t sm = static_cast<int64_t>(std::max(seqs[0].size(), seqs[1].size()));
  double worst = 0;
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t < g.lengths[b]; t++) {
      const float want = logp[b * sm + kLens[b] - 1 + t], got = g.logp[b * T + t];
      worst = std::max(worst, static_cast<double>(std::fabs(want - got)));
      CHECK(std::fabs(want - got) <= 1e-5, "row %lld token %lld: generate logp %g, forward logp %g",
            static_cast<long long>(b), static_cast<long long>(t), got, want);
      CHECK(got <= 0.f && std::isfinite(got), "logp %g", got);
    }
  std::printf("generate logp vs forward logp: max |diff| %.3g\n", worst);
}

// 3. Seeds, row independence, thread count.
void test_reproducibility() {
  Rig r;
  const Gen a = generate(r, {0, 1}, sampled_config(7));
  const Gen b = generate(r, {0, 1}, sampled_config(7));
  CHECK(a.tokens == b.tokens && a.lengths == b.lengths, "same seed, other tokens");
  CHECK(std::memcmp(a.logp.data(), b.logp.data(), a.logp.size() * sizeof(float)) == 0, "same seed, other logp");
  bool differs = false;
  for (uint64_t s = 8; s < 12 && !differs; s++) differs = generate(r, {0, 1}, sampled_config(s)).tokens != a.tokens;
  CHECK(differs, "four other seeds all gave the same tokens: the seed is not used");
  // Row independence: row b always draws from stream (seed, b), so row 0 alone gives its batch tokens,
  // and row 1 gives its tokens beside another row 0 (here a copy of the text row).
  const Gen alone0 = generate(r, {0}, sampled_config(7));
  for (int64_t t = 0; t < T; t++)
    CHECK(alone0.tokens[t] == a.tokens[t], "row 0 alone token %lld: %d, in the batch %d", static_cast<long long>(t),
          alone0.tokens[t], a.tokens[t]);
  CHECK(alone0.lengths[0] == a.lengths[0], "row 0 alone length %d vs %d", alone0.lengths[0], a.lengths[0]);
  const Gen pair11 = generate(r, {1, 1}, sampled_config(7));
  for (int64_t t = 0; t < T; t++)
    CHECK(pair11.tokens[T + t] == a.tokens[T + t], "row 1 beside another row, token %lld: %d vs %d",
          static_cast<long long>(t), pair11.tokens[T + t], a.tokens[T + t]);
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const Gen one = generate(r, {0, 1}, sampled_config(3));
  omp_set_num_threads(2);
  const Gen two = generate(r, {0, 1}, sampled_config(3));
  omp_set_num_threads(saved);
  CHECK(one.tokens == two.tokens && one.lengths == two.lengths, "1 vs 2 threads: other tokens");
  CHECK(std::memcmp(one.logp.data(), two.logp.data(), one.logp.size() * sizeof(float)) == 0,
        "1 vs 2 threads: other logp");
#endif
}

// 4. The sampler alone.
void test_sampler() {
  namespace fm = frl::model;
  const float ties[5] = {1.f, 3.f, 2.f, 3.f, -1.f};
  CHECK(fm::argmax_token(ties, 5) == 1, "argmax ties: %d", fm::argmax_token(ties, 5));
  fm::RowRng rng(5, 0);
  fm::SamplerScratch s;
  CHECK(fm::sample_token(ties, 5, 0.f, 0.5f, rng, s) == 1, "temperature 0 is not argmax");
  CHECK(fm::RowRng(5, 0).next() == fm::RowRng(5, 0).next(), "RowRng not deterministic");
  CHECK(fm::RowRng(5, 0).next() != fm::RowRng(5, 1).next(), "rows share a stream");
  CHECK(fm::RowRng(5, 0).next() != fm::RowRng(6, 0).next(), "seeds share a stream");

  // Nucleus: probabilities 0.15, 0.5, 0.05, 0.3 (shuffled ids).
  const double p[4] = {0.15, 0.5, 0.05, 0.3};
  float l[4];
  for (int i = 0; i < 4; i++) l[i] = static_cast<float>(std::log(p[i]));
  struct Case {
    float top_p;
    std::vector<int> kept;
  };
  const Case cases[] = {{0.45f, {1}}, {0.75f, {1, 3}}, {0.85f, {1, 3, 0}}, {0.97f, {1, 3, 0, 2}}, {1.f, {1, 3, 0, 2}}};
  const int draws = 40000;
  for (const Case& c : cases) {
    int count[4] = {0, 0, 0, 0};
    fm::RowRng rr(123, 4);
    for (int n = 0; n < draws; n++) count[fm::sample_token(l, 4, 1.f, c.top_p, rr, s)]++;
    double mass = 0;
    for (int i : c.kept) mass += p[i];
    for (int i = 0; i < 4; i++) {
      bool in = false;
      for (int k : c.kept) in |= k == i;
      if (!in) {
        CHECK(count[i] == 0, "top_p %g: token %d outside the nucleus drawn %d times", c.top_p, i, count[i]);
        continue;
      }
      const double want = p[i] / mass, got = static_cast<double>(count[i]) / draws;
      const double sd = std::sqrt(want * (1 - want) / draws);
      CHECK(std::fabs(got - want) <= 5 * sd, "top_p %g token %d: frequency %.4f, want %.4f", c.top_p, i, got, want);
    }
  }

  // Histogram vs softmax(l / T), chi-square over 6 bins (5 dof; 25 is p ~ 1e-4).
  const float lg[6] = {0.3f, -1.2f, 2.0f, 0.9f, -0.4f, 1.4f};
  const float temp = 0.7f;
  double q[6], z = 0;
  for (int i = 0; i < 6; i++) z += q[i] = std::exp(lg[i] / temp);
  const int n = 200000;
  int hist[6] = {0, 0, 0, 0, 0, 0};
  fm::RowRng rh(2024, 0);
  for (int k = 0; k < n; k++) hist[fm::sample_token(lg, 6, temp, 1.f, rh, s)]++;
  double chi2 = 0;
  for (int i = 0; i < 6; i++) {
    const double e = n * q[i] / z;
    chi2 += (hist[i] - e) * (hist[i] - e) / e;
  }
  CHECK(chi2 < 25.0, "chi-square %g of the histogram vs softmax(l / T)", chi2);
  std::printf("sampler histogram chi-square (5 dof): %.3g\n", chi2);
}

// 5. EOS, overflow, bad arguments, memory.
void test_eos_and_errors() {
  Rig r;
  const Gen greedy = generate(r, {0, 1}, greedy_config());
  frl_generate_config g = greedy_config();
  g.eos_token_id = greedy.tokens[2];  // row 0 emits it at step 2 at the latest
  g.pad_token_id = 21;
  const Gen e = generate(r, {0, 1}, g);
  for (int64_t b = 0; b < B; b++) {
    int64_t first = T;
    for (int64_t t = 0; t < T; t++)
      if (greedy.tokens[b * T + t] == g.eos_token_id) {
        first = t;
        break;
      }
    const int64_t want = first < T ? first + 1 : T;
    CHECK(e.lengths[b] == want, "eos: row %lld length %d, want %lld", static_cast<long long>(b), e.lengths[b],
          static_cast<long long>(want));
    for (int64_t t = 0; t < T; t++) {
      if (t < want) {
        CHECK(e.tokens[b * T + t] == greedy.tokens[b * T + t], "eos: row %lld token %lld changed",
              static_cast<long long>(b), static_cast<long long>(t));
        CHECK(e.logp[b * T + t] == greedy.logp[b * T + t], "eos: row %lld logp %lld changed", static_cast<long long>(b),
              static_cast<long long>(t));
      } else {
        CHECK(e.tokens[b * T + t] == 21 && e.logp[b * T + t] == 0.f, "eos: row %lld slot %lld holds %d / %g",
              static_cast<long long>(b), static_cast<long long>(t), e.tokens[b * T + t], e.logp[b * T + t]);
      }
    }
  }
  CHECK(e.lengths[0] <= 3, "eos never stopped row 0 (length %d)", e.lengths[0]);

  // Errors.
  frl_tensor* tid = i32(r.ctx, {B, S}, std::vector<int32_t>(kIds, kIds + B * S));
  frl_tensor* tlen = i32(r.ctx, {B}, std::vector<int32_t>(kLens, kLens + B));
  frl_tensor* tok = tensor(r.ctx, FRL_I32, {B, T});
  frl_tensor* lp = tensor(r.ctx, FRL_F32, {B, T});
  frl_tensor* len = tensor(r.ctx, FRL_I32, {B});
  frl_tensor* step_tok = i32(r.ctx, {B}, {1, 2});
  frl_model_inputs in{tid, r.image, nullptr};
  frl_kv_cache* small = nullptr;
  ok(frl_kv_cache_create(r.model, 2, 8, &small), "kv_cache_create small");
  // Generate: 7 + 6 - 1 > 8 for row 0; with the rows swapped it is row 1 that overflows.
  frl_status st = frl_model_generate(r.model, kAdapter, small, &in, tlen, &g, tok, lp, len);
  CHECK(st == FRL_ERR_SHAPE && contains(frl_last_error(), "row 0") && contains(frl_last_error(), "max_len"),
        "overflow: %d %s", st, frl_last_error());
  // Decode: prefill (7, 5) into max_len 8, one step fills row 0, the next names it.
  ok(frl_model_prefill(r.model, kAdapter, small, &in, tlen, nullptr), "prefill small");
  ok(frl_model_decode_step(r.model, small, step_tok, nullptr, nullptr), "decode 1");
  st = frl_model_decode_step(r.model, small, step_tok, nullptr, nullptr);
  CHECK(st == FRL_ERR_SHAPE && contains(frl_last_error(), "row 0 is full"), "decode overflow: %d %s", st,
        frl_last_error());
  // Row 0 inactive: row 1 still has room.
  frl_tensor* act = i32(r.ctx, {B}, {0, 1});
  ok(frl_model_decode_step(r.model, small, step_tok, act, nullptr), "decode with row 0 inactive");
  std::vector<int32_t> lens(B);
  ok(frl_kv_cache_lengths(small, lens.data(), B), "lengths");
  CHECK(lens[0] == 8 && lens[1] == 7, "lengths after the steps: %d %d", lens[0], lens[1]);
  CHECK(frl_kv_cache_lengths(small, lens.data(), 3) == FRL_ERR_ARGUMENT && contains(frl_last_error(), "count"),
        "lengths count: %s", frl_last_error());
  // Bad tokens in the step.
  frl_tensor* bad_tok = i32(r.ctx, {B}, {1, 99});
  frl_tensor* only1 = i32(r.ctx, {B}, {0, 1});
  st = frl_model_decode_step(r.model, small, bad_tok, only1, nullptr);
  CHECK(st == FRL_ERR_ARGUMENT && contains(frl_last_error(), "'tokens': row 1"), "bad token: %s", frl_last_error());
  ok(frl_kv_cache_destroy(small), "destroy small");

  // Config fields, each named.
  frl_kv_cache* cache = nullptr;
  ok(frl_kv_cache_create(r.model, 2, kMaxLen, &cache), "kv_cache_create");
  struct Bad {
    const char* field;
    void (*set)(frl_generate_config&);
  };
  const Bad bads[] = {
      {"config->max_new_tokens", [](frl_generate_config& c) { c.max_new_tokens = 0; }},
      {"config->temperature", [](frl_generate_config& c) { c.temperature = -0.5f; }},
      {"config->temperature", [](frl_generate_config& c) { c.temperature = NAN; }},
      {"config->top_p", [](frl_generate_config& c) { c.top_p = 0.f; }},
      {"config->top_p", [](frl_generate_config& c) { c.top_p = 1.5f; }},
      {"config->eos_token_id", [](frl_generate_config& c) { c.eos_token_id = 23; }},
      {"config->pad_token_id", [](frl_generate_config& c) { c.pad_token_id = -1; }},
  };
  for (const Bad& b : bads) {
    frl_generate_config c = greedy_config();
    b.set(c);
    st = frl_model_generate(r.model, kAdapter, cache, &in, tlen, &c, tok, lp, len);
    CHECK(st == FRL_ERR_ARGUMENT && contains(frl_last_error(), b.field), "%s: %d %s", b.field, st, frl_last_error());
  }
  frl_generate_config c = greedy_config();
  frl_tensor* wrong = tensor(r.ctx, FRL_I32, {B, T + 1});
  st = frl_model_generate(r.model, kAdapter, cache, &in, tlen, &c, wrong, lp, len);
  CHECK(st == FRL_ERR_SHAPE && contains(frl_last_error(), "out_tokens"), "out_tokens shape: %s", frl_last_error());
  frl_tensor* zero_len = i32(r.ctx, {B}, {7, 0});
  st = frl_model_prefill(r.model, kAdapter, cache, &in, zero_len, nullptr);
  CHECK(st == FRL_ERR_ARGUMENT && contains(frl_last_error(), "'prompt_lengths': row 1"), "zero length: %s",
        frl_last_error());
  st = frl_model_generate(r.model, "nope", cache, &in, tlen, &c, tok, lp, len);
  CHECK(st == FRL_ERR_ARGUMENT && contains(frl_last_error(), "nope"), "unknown adapter: %s", frl_last_error());
  // The failed prefill left the cache unusable, never half-filled.
  st = frl_model_decode_step(r.model, cache, step_tok, nullptr, nullptr);
  CHECK(st == FRL_ERR_ARGUMENT && contains(frl_last_error(), "frl_model_prefill"), "decode without prefill: %s",
        frl_last_error());
  st = frl_kv_cache_create(r.model, 2, 17, &small);
  CHECK(st == FRL_ERR_ARGUMENT && contains(frl_last_error(), "max_len"), "max_len > max_positions: %s",
        frl_last_error());
  st = frl_kv_cache_create(r.model, 0, 4, &small);
  CHECK(st == FRL_ERR_ARGUMENT && contains(frl_last_error(), "max_batch"), "max_batch 0: %s", frl_last_error());

  // Memory: the cache's bytes are what the context grows by.
  int64_t before = 0, after = 0, bytes = 0;
  ok(frl_ctx_bytes_in_use(r.ctx, &before), "bytes_in_use");
  frl_kv_cache* big = nullptr;
  ok(frl_kv_cache_create(r.model, 3, kMaxLen, &big), "kv_cache_create big");
  ok(frl_ctx_bytes_in_use(r.ctx, &after), "bytes_in_use");
  ok(frl_kv_cache_bytes(big, &bytes), "kv_cache_bytes");
  CHECK(after - before == bytes && bytes >= 4 * 2 * 2 * 3 * kMaxLen * 16, "cache bytes %lld, context grew %lld",
        static_cast<long long>(bytes), static_cast<long long>(after - before));
  ok(frl_kv_cache_destroy(big), "destroy big");
  ok(frl_kv_cache_destroy(cache), "destroy cache");
  for (frl_tensor* t : {tid, tlen, tok, lp, len, step_tok, act, bad_tok, only1, wrong, zero_len}) frl_tensor_destroy(t);
}

}  // namespace

int main() {
  test_sampler();
  test_cached_equals_uncached();
  test_logp_consistency();
  test_reproducibility();
  test_eos_and_errors();
  if (failures) {
    std::printf("%d FAILURES\n", failures);
    return 1;
  }
  std::printf("generate_test: all passed\n");
  return 0;
}
