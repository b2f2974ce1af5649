// CPU emulation of the CUDA KL kernel's block reduction (kernels/kl.cu), using the kernel's own merge
// (kernels/kl_merge.cuh, __host__ __device__), against a direct double-precision computation.
//
// The kernel gives each of `threads` threads the logits i = t, t + threads, ... of a row, merges
// the 32 lanes of each warp with a butterfly (lane ^ 16, 8, 4, 2, 1), writes lane 0 of every warp
// to shared memory and merges those with a second butterfly. This program does exactly that on
// arrays of states. Rows with whole -inf shares are the regression: merging two shares whose
// reference maxima are both -inf used to compute (-inf) - (-inf) = NaN, so kl_full was NaN instead
// of +inf.
//
// Tolerance: |ours - want| <= 1e-4 + 1e-4 |want| (fp32 sums of <= 4096 terms of O(1)); infinities
// must match exactly.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "factrl.h"
#include "kl_merge.cuh"

using frl::kl::RowState;

namespace {

int failures = 0;

template <bool HAS_REF>
RowState block_reduce(const std::vector<float>& zp, const std::vector<float>& zr, int threads) {
  std::vector<RowState> lane(threads, frl::kl::state_empty());
  for (int t = 0; t < threads; t++)
    for (size_t i = t; i < zp.size(); i += threads) frl::kl::add_one<HAS_REF>(lane[t], zp[i], HAS_REF ? zr[i] : 0.f);
  auto butterfly = [](std::vector<RowState>& s, int base) {
    for (int o = 16; o > 0; o >>= 1) {
      std::vector<RowState> next(s.begin() + base, s.begin() + base + 32);
      for (int l = 0; l < 32; l++) frl::kl::merge<HAS_REF>(next[l], s[base + (l ^ o)]);
      std::copy(next.begin(), next.end(), s.begin() + base);
    }
  };
  const int warps = threads / 32;
  for (int w = 0; w < warps; w++) butterfly(lane, 32 * w);
  if (warps == 1) return lane[0];
  std::vector<RowState> second(32, frl::kl::state_empty());
  for (int w = 0; w < warps; w++) second[w] = lane[32 * w];
  butterfly(second, 0);
  return second[0];
}

// Direct: KL(pp || pr) and entropy of pp in double; +inf where pr = 0 < pp.
void reference(const std::vector<float>& zp, const std::vector<float>& zr, double& kl, double& entropy) {
  double mp = -INFINITY, mr = -INFINITY;
  for (size_t i = 0; i < zp.size(); i++) {
    mp = std::fmax(mp, zp[i]);
    mr = std::fmax(mr, zr[i]);
  }
  double sp = 0, sr = 0;
  for (size_t i = 0; i < zp.size(); i++) {
    sp += std::exp(zp[i] - mp);
    sr += std::exp(zr[i] - mr);
  }
  kl = 0;
  entropy = 0;
  for (size_t i = 0; i < zp.size(); i++) {
    if (zp[i] == -INFINITY) continue;
    const double lp = (zp[i] - mp) - std::log(sp), p = std::exp(lp);
    entropy -= p * lp;
    if (zr[i] == -INFINITY) {
      kl = INFINITY;
      continue;
    }
    kl += p * (lp - ((zr[i] - mr) - std::log(sr)));
  }
}

void expect(const char* what, const char* row, int threads, double got, double want) {
  bool ok;
  if (std::isinf(want) || std::isnan(got)) ok = got == want;
  else ok = std::fabs(got - want) <= 1e-4 + 1e-4 * std::fabs(want);
  if (!ok) {
    std::printf("FAIL %s, row '%s', %d threads: got %.9g, want %.9g\n", what, row, threads, got, want);
    failures++;
  }
}

void check_row(const char* name, const std::vector<float>& zp, const std::vector<float>& zr) {
  double kl, entropy;
  reference(zp, zr, kl, entropy);
  for (int threads : {32, 64, 128, 256}) {
    const RowState s = block_reduce<true>(zp, zr, threads);
    expect("kl_full", name, threads, frl::kl::kl_full_of(s), kl);
    expect("entropy", name, threads, frl::kl::entropy_of(s), entropy);
    const RowState p = block_reduce<false>(zp, zr, threads);  // the policy-only reduction
    expect("entropy (no reference)", name, threads, frl::kl::entropy_of(p), entropy);
  }
}

// The CPU reference (through the C API) has the same pattern in its chunked rescale: a first chunk
// (512 logits) whose reference is all -inf under policy mass gives c = +inf; a policy maximum 200
// higher in the next chunk rescales c by exp(-200) = 0 in float, and 0 * inf was NaN.
void check_cpu_rescale() {
  const int V = 1024;
  std::vector<float> zp(V, 0.f), zr(V, 0.f);
  for (int i = 0; i < 512; i++) zr[i] = -INFINITY;
  zp[700] = 200.f;
  frl_ctx* ctx = nullptr;
  frl_tensor *p = nullptr, *r = nullptr, *a = nullptr, *kl = nullptr;
  const int64_t pv[2] = {1, V}, one[1] = {1};
  const int32_t action = 700;
  float got = 0.f;
  bool ok = frl_ctx_create(FRL_BACKEND_CPU, 0, &ctx) == FRL_OK &&
            frl_tensor_create(ctx, FRL_F32, 2, pv, &p) == FRL_OK && frl_tensor_create(ctx, FRL_F32, 2, pv, &r) == FRL_OK &&
            frl_tensor_create(ctx, FRL_I32, 1, one, &a) == FRL_OK && frl_tensor_create(ctx, FRL_F32, 1, one, &kl) == FRL_OK &&
            frl_tensor_write_f32(p, 0, zp.data(), V) == FRL_OK && frl_tensor_write_f32(r, 0, zr.data(), V) == FRL_OK &&
            frl_tensor_write_i32(a, 0, &action, 1) == FRL_OK &&
            frl_token_logprobs(ctx, p, r, a, nullptr, nullptr, nullptr, nullptr, nullptr, kl, nullptr, nullptr) == FRL_OK &&
            frl_tensor_read_f32(kl, 0, &got, 1) == FRL_OK;
  if (!ok) {
    std::printf("FAIL cpu rescale: %s\n", frl_last_error());
    failures++;
  } else {
    expect("kl_full (CPU reference, chunked rescale)", "reference -inf chunk, then a far policy max", 1, got,
           INFINITY);
  }
  for (frl_tensor* t : {p, r, a, kl})
    if (t) frl_tensor_destroy(t);
  if (ctx) frl_ctx_destroy(ctx);
}

}  // namespace

int main() {
  check_cpu_rescale();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-4.f, 4.f);
  const int V = 1024;
  auto random_row = [&] {
    std::vector<float> z(V);
    for (float& v : z) v = u(rng);
    return z;
  };
  const float NINF = -INFINITY;

  // 1. Plain rows: finite KL and entropy.
  check_row("random", random_row(), random_row());

  // 2. The reference bans a strided set that covers whole thread shares (i % 256 < 40: for up to 256
  //    threads, threads 0..39 see only -inf reference logits) while the policy gives them mass:
  //    kl_full = +inf. This was NaN.
  {
    std::vector<float> zp = random_row(), zr = random_row();
    for (int i = 0; i < V; i++)
      if (i % 256 < 40) zr[i] = NINF;
    check_row("reference -inf on whole shares", zp, zr);
  }
  // 3. Both ban the same whole shares: those shares are empty, the KL is finite.
  {
    std::vector<float> zp = random_row(), zr = random_row();
    for (int i = 0; i < V; i++)
      if (i % 256 < 40) zp[i] = zr[i] = NINF;
    check_row("policy and reference -inf on whole shares", zp, zr);
  }
  // 4. The policy bans whole shares, the reference does not: finite.
  {
    std::vector<float> zp = random_row(), zr = random_row();
    for (int i = 0; i < V; i++)
      if (i % 256 >= 200) zp[i] = NINF;
    check_row("policy -inf on whole shares", zp, zr);
  }
  // 5. One banned reference logit where the policy has mass: +inf from a single share.
  {
    std::vector<float> zp = random_row(), zr = random_row();
    zr[517] = NINF;
    check_row("one reference -inf", zp, zr);
  }
  // 6. A reference -inf share whose policy mass is tiny next to the row maximum (its rescaling factor
  //    underflows to 0): still +inf, not 0 * inf = NaN.
  {
    std::vector<float> zp = random_row(), zr = random_row();
    for (int i = 0; i < V; i++)
      if (i % 32 == 3) {
        zr[i] = NINF;
        zp[i] = -200.f;
      }
    zp[0] = 100.f;
    check_row("reference -inf under a far policy maximum", zp, zr);
  }
  // 7. Every logit banned but one.
  {
    std::vector<float> zp(V, NINF), zr(V, NINF);
    zp[300] = 1.f;
    zr[300] = -2.f;
    zr[301] = 0.f;
    check_row("single finite policy logit", zp, zr);
  }
  if (failures) {
    std::printf("kl_merge_test: %d failures\n", failures);
    return 1;
  }
  std::printf("kl_merge_test: all rows passed (emulated block sizes 32, 64, 128, 256)\n");
  return 0;
}
