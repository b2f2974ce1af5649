// The per-ISA attention kernels (attention_cpu_{avx512,avx2,scalar}.cpp) and the plain argument
// block the dispatcher (attention_cpu.cpp) hands them. Declarations and a POD only: safe to include
// from units compiled with any ISA flags.
#pragma once

#include <cstdint>

namespace frl {
namespace cpu {

// Queries per tile and keys per block: a tile of kAttentionBlock queries meets a block of
// kAttentionBlock keys, so every K/V row loaded into cache serves 64 queries. Query tiles and key
// blocks are aligned, so the causal mask cuts only the diagonal block.
constexpr int64_t kAttentionBlock = 64;
// Packed rows are padded to a multiple of this many floats (one AVX-512 vector, two AVX2 ones).
constexpr int64_t kAttentionPad = 16;

// static: each unit keeps its own copy (no cross-ISA inline sharing, see isa.h).
static inline int64_t attention_round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Floats of scratch one thread needs (see the buffer layout in attention_kernels.h).
static inline int64_t attention_scratch_floats(int64_t D) {
  const int64_t Dp = attention_round_up(D, kAttentionPad);
  const int64_t B = kAttentionBlock;
  return attention_round_up(5 * B * Dp + 2 * B * B + 2 * B, kAttentionPad);
}

// Floats of one packed copy of k or v: [B, H, blocks, D, 64], the keys below Lmax (the longest
// key length of any row, AttentionArgs::Lmax) padded to whole blocks. Sized by Lmax, not Sk, so that
// a decode step on a long, mostly empty KV cache costs what its filled part costs.
static inline int64_t attention_packed_floats(int64_t B, int64_t Lmax, int64_t H, int64_t D) {
  return B * H * attention_round_up(Lmax, kAttentionBlock) * D;
}

// Queries [B, Sq, H, D] meet keys [B, Sk, H, D]. Query i of row b sits at absolute position
// off_b + i (off_b = q_off[b], or 0 when q_off is null); key j is visible to it iff j < L_b
// (L_b = key_len[b], or Sk when key_len is null) and, when causal, j <= off_b + i. Unmasked
// self-attention is Sq = Sk, both pointers null: the kernels then take exactly the steps (and give
// exactly the bits) they took before the masks existed.
struct AttentionArgs {
  const float* q;     // [B, Sq, H, D]
  const float* k;     // [B, Sk, H, D]
  const float* v;     // [B, Sk, H, D]
  const float* out;   // [B, Sq, H, D]: the forward's output (backward)
  const float* dout;  // [B, Sq, H, D] (backward)
  const int32_t* key_len;  // [B]: L_b in [0, Sk], or null (every row Sk)
  const int32_t* q_off;    // [B]: off_b >= 0, or null (every row 0)
  float* lse;         // [B, H, Sq]: written by the forward (may be null there), read by the backward
  float* o;           // [B, Sq, H, D]: the forward's output
  float* dq;          // [B, Sq, H, D] or null
  float* dk;          // [B, Sk, H, D] or null
  float* dv;          // [B, Sk, H, D] or null
  float* delta;       // [B, H, Sq]: rowsum(dout ∘ out), scratch of the backward
  float* kt;          // attention_packed_floats: scale · k, transposed per key block (forward: null = pack per tile)
  float* vt;          // attention_packed_floats: v, transposed per key block (backward)
  float* dq_heads;    // backward, one task per head: threads × [Sq rounded up to 64][Dp], else null
  float* scratch;     // threads × scratch_stride floats
  int64_t scratch_stride;
  int64_t B, Sq, Sk, H, D;
  int64_t Lmax;       // max over b of L_b (Sk when key_len is null): the packed blocks per head
  bool causal;
  float scale;
  bool accumulate;  // backward: dq, dk, dv += gradient (true) or = gradient (false)
  bool parallel;    // run the OpenMP loops on every thread (false: small problem, serial)
};

void attention_forward_scalar(const AttentionArgs& a);
void attention_backward_scalar(const AttentionArgs& a);
void attention_forward_avx2(const AttentionArgs& a);
void attention_backward_avx2(const AttentionArgs& a);
void attention_forward_avx512(const AttentionArgs& a);
void attention_backward_avx512(const AttentionArgs& a);

}  // namespace cpu
}  // namespace frl
