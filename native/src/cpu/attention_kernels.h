// Blocked flash-style attention, written once over a vector type V and compiled once per ISA:
// attention_cpu_avx512.cpp, attention_cpu_avx2.cpp and attention_cpu_scalar.cpp each define V and
// include this file INSIDE AN ANONYMOUS NAMESPACE, so every function here has internal linkage and
// the linker can never swap one unit's AVX-512 copy into another unit. For the same reason nothing
// here calls a std:: template (only intrinsics through V and C library functions).
//
// V provides: type T, width W (dividing kAttentionPad), load/store (unaligned), set1, zero, add,
// sub, mul, fma(a, b, c) = a·b + c, max, min, round (to nearest), pow2n(n) = 2^n for integral n,
// zero_below(x, t, y) = (x < t ? 0 : y) per lane, hmax, hsum, and the register tile MR × NV.
//
// Math (factrl/attention.h): per (b, h), s_ij = scale · q_i · k_j over the keys j that query i sees,
// P_ij = exp(s_ij − lse_i), out_i = Σ_j P_ij v_j; backward dV = Pᵀ dO, dP = dO Vᵀ,
// dS = P ∘ (dP − rowsum(dO ∘ O)), dQ = scale · dS K, dK = scale · dSᵀ Q.
//
// Masks (AttentionArgs): query i of row b sits at position off_b + i and sees keys
// j < min(L_b, off_b + i + 1) when causal, j < L_b otherwise: always a prefix of the keys. So a
// query tile sees a prefix of the key blocks, a key block is seen by a suffix of the query tiles,
// and only the last block a row sees needs its scores masked. Keys at or past L_b are never read
// (a KV cache may hold anything there) and get zero gradient. A row with L_b = 0 sees no key: its
// tiles visit no block, give out = 0, lse = −inf and dq = 0. With L_b >= 1 every query sees key 0,
// so every row of a visited tile has a finite maximum from the first block on.
//
// Work split (all deterministic: each output element is summed by one thread in a fixed order):
//  - forward: one task per (b, h, query tile); online softmax over key blocks (running max m,
//    running sum l, the output tile rescaled when m grows).
//  - backward pass 1: one task per (b, h, query tile) owns dq of its rows.
//  - backward pass 2: one task per (b, h, key block) owns dk and dv of its rows, looping over the
//    query tiles that see it. P and dP are recomputed in both passes (7 GEMM tiles per block pair
//    instead of 5): the price of parallel, atomic-free, thread-count-independent dK/dV.
//  - backward, when there are >= 4 heads per thread (the dispatcher decides): one task per head
//    does both passes' work in one sweep (5 GEMM tiles per block pair), with the same GEMM calls in
//    the same order per output element: the same bits as the two passes.
//
// Packed once per pass (AttentionArgs::kt, vt): every key block transposed, [D][64] (kt times scale),
// the B operand of the score tiles. A forward with one query tile per head (Sq <= 64: a decode step
// over a KV cache) has kt = null instead: each tile packs its key blocks one at a time into its own
// scratch (rows2) right before use, the same values (so the same bits) without a buffer of every
// head's keys written and read back per call. Per-thread scratch (attention_scratch_floats): rows1..rows3
// [64][Dp] (row blocks packed when D is not a multiple of 16), acc1, acc2 [64][Dp] (output
// accumulators), s, dp [64][64] (score tiles), m, l [64] (softmax state).

constexpr int64_t kBlk = kAttentionBlock;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// ---- exp ------------------------------------------------------------------------------------------
// exp(x) = 2^n · exp(r), n = round(x / ln 2), r = x − n ln 2 in [−ln2/2, ln2/2] (ln 2 split in a
// high part exact in float and a low part), exp(r) by the Cephes polynomial
// 1 + r + r²·(c0 + c1 r + … + c5 r⁵): about 1 ulp. Inputs below ln(FLT_MIN) ≈ −87.34 give 0 (so −inf,
// a masked score, gives exactly 0); inputs are clamped at 88 (our inputs are ≤ 0 up to rounding).
template <class V>
inline typename V::T vexp(typename V::T x) {
  using T = typename V::T;
  const T xc = V::min(V::max(x, V::set1(-88.0f)), V::set1(88.0f));
  const T n = V::round(V::mul(xc, V::set1(1.44269504088896341f)));
  T r = V::fma(n, V::set1(-0.693359375f), xc);
  r = V::fma(n, V::set1(2.12194440e-4f), r);
  T p = V::set1(1.9875691500e-4f);
  p = V::fma(p, r, V::set1(1.3981999507e-3f));
  p = V::fma(p, r, V::set1(8.3334519073e-3f));
  p = V::fma(p, r, V::set1(4.1665795894e-2f));
  p = V::fma(p, r, V::set1(1.6666665459e-1f));
  p = V::fma(p, r, V::set1(5.0000001201e-1f));
  const T y = V::fma(p, V::mul(r, r), V::add(r, V::set1(1.0f)));
  return V::zero_below(x, -87.33654f, V::mul(y, V::pow2n(n)));
}

// exp of one float, through lane 0 of the vector routine (the same polynomial as the tiles).
template <class V>
inline float sexp(float x) {
  float lanes[V::W];
  V::store(lanes, vexp<V>(V::set1(x)));
  return lanes[0];
}

// ---- GEMM tiles -----------------------------------------------------------------------------------
// C[M, N] = (acc ? C : 0) + A · B, summed over k in ascending order per element (a fixed order, and
// the same order for a given (row, column) wherever the tile sits). A(r, k) = a[r·ars + k·aks] (any
// strides: row-major, transposed, or strided rows of a [B, S, H, D] tensor); B row-major with row
// stride ldb; C row-major with row stride ldc; N a multiple of V::W.
template <class V, int MR, int NV>
inline void gemm_tile(int64_t K, const float* a, int64_t ars, int64_t aks, const float* b, int64_t ldb, float* c,
                      int64_t ldc, bool acc) {
  using T = typename V::T;
  T r[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; j++) r[i][j] = acc ? V::load(c + i * ldc + j * V::W) : V::zero();
  }
  for (int64_t kk = 0; kk < K; kk++) {
    T bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; j++) bv[j] = V::load(b + kk * ldb + j * V::W);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const T av = V::set1(a[i * ars + kk * aks]);
#pragma GCC unroll 8
      for (int j = 0; j < NV; j++) r[i][j] = V::fma(av, bv[j], r[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 8
    for (int j = 0; j < NV; j++) V::store(c + i * ldc + j * V::W, r[i][j]);
  }
}

template <class V, int NV>
inline void gemm_columns(int64_t M, int64_t K, const float* a, int64_t ars, int64_t aks, const float* b,
                         int64_t ldb, float* c, int64_t ldc, bool acc) {
  int64_t i = 0;
  for (; i + V::MR <= M; i += V::MR) gemm_tile<V, V::MR, NV>(K, a + i * ars, ars, aks, b, ldb, c + i * ldc, ldc, acc);
  for (; i < M; i++) gemm_tile<V, 1, NV>(K, a + i * ars, ars, aks, b, ldb, c + i * ldc, ldc, acc);
}

template <class V>
inline void gemm(int64_t M, int64_t N, int64_t K, const float* a, int64_t ars, int64_t aks, const float* b,
                 int64_t ldb, float* c, int64_t ldc, bool acc) {
  constexpr int64_t wide = V::NV * V::W;
  int64_t j = 0;
  for (; j + wide <= N; j += wide) gemm_columns<V, V::NV>(M, K, a, ars, aks, b + j, ldb, c + j, ldc, acc);
  for (; j < N; j += V::W) gemm_columns<V, 1>(M, K, a, ars, aks, b + j, ldb, c + j, ldc, acc);
}

// ---- packing --------------------------------------------------------------------------------------
// dst[d][c] = factor · src[c·stride + d] for c < n, 0 for n <= c < kBlk (d < D): a block of n rows
// transposed into the B operand of a score tile.
// Rows are read contiguously and written as columns (a 64-column block stays in L1).
inline void pack_transposed(float* dst, const float* src, int64_t stride, int64_t n, int64_t D, float factor) {
  for (int64_t c = 0; c < n; c++) {
    const float* row = src + c * stride;
    for (int64_t d = 0; d < D; d++) dst[d * kBlk + c] = factor * row[d];
  }
  for (int64_t d = 0; d < D; d++) {
    for (int64_t c = n; c < kBlk; c++) dst[d * kBlk + c] = 0.0f;
  }
}

// ---- masks ----------------------------------------------------------------------------------------
// L_b: the keys [0, L_b) of row b that any query may see.
inline int64_t key_length(const AttentionArgs& a, int64_t b) { return a.key_len != nullptr ? a.key_len[b] : a.Sk; }

// off_b: the absolute position of row b's query 0.
inline int64_t query_offset(const AttentionArgs& a, int64_t b) { return a.q_off != nullptr ? a.q_off[b] : 0; }

// The number of key blocks some query of the tile [i0, i0 + nq) of row b sees (its last query sees
// the most): 0 when L_b = 0.
inline int64_t tile_key_blocks(const AttentionArgs& a, int64_t b, int64_t i0, int64_t nq) {
  const int64_t L = key_length(a, b);
  const int64_t limit = a.causal ? min64(L, query_offset(a, b) + i0 + nq) : L;
  return (limit + kBlk - 1) / kBlk;
}

// The first query tile that sees key block kb of row b (every later tile sees it too), or the
// number of tiles when none does (the block lies at or past L_b, or after every causal query).
inline int64_t first_query_tile(const AttentionArgs& a, int64_t b, int64_t kb) {
  const int64_t tiles = (a.Sq + kBlk - 1) / kBlk, j0 = kb * kBlk;
  if (j0 >= key_length(a, b)) return tiles;
  if (!a.causal) return 0;
  const int64_t first_query = j0 - query_offset(a, b);  // query i sees key j0 iff off_b + i >= j0
  if (first_query <= 0) return 0;
  return first_query < a.Sq ? first_query / kBlk : tiles;
}

// The packed [D][64] block kb of head (b, h) in a [B, H, blocks, D, 64] buffer.
inline float* packed_block(const AttentionArgs& a, float* all, int64_t b, int64_t h, int64_t kb) {
  const int64_t blocks = (a.Lmax + kBlk - 1) / kBlk;
  return all + ((b * a.H + h) * blocks + kb) * a.D * kBlk;
}

// Packs every key block of k (times scale) and, when vt_all is given, of v, transposed, once per
// pass: each block then serves every query tile without being packed again. Only the keys below
// L_b: the blocks past it stay unwritten (never read), the keys past it in the last block read 0.
inline void pack_all_blocks(const AttentionArgs& a, float* kt_all, float* vt_all) {
  const int64_t blocks = (a.Lmax + kBlk - 1) / kBlk, stride = a.H * a.D;
#pragma omp parallel for collapse(3) schedule(static) if (a.parallel)
  for (int64_t b = 0; b < a.B; b++) {
    for (int64_t h = 0; h < a.H; h++) {
      for (int64_t kb = 0; kb < blocks; kb++) {
        const int64_t j0 = kb * kBlk, nk = min64(kBlk, key_length(a, b) - j0);
        if (nk <= 0) continue;
        const int64_t row0 = ((b * a.Sk + j0) * a.H + h) * a.D;
        pack_transposed(packed_block(a, kt_all, b, h, kb), a.k + row0, stride, nk, a.D, a.scale);
        if (vt_all != nullptr) pack_transposed(packed_block(a, vt_all, b, h, kb), a.v + row0, stride, nk, a.D, 1.0f);
      }
    }
  }
}

// The n rows of D floats at src (stride apart) as a B operand: the rows themselves when D is a
// multiple of the padding (no copy), else copied into dst [n][Dp] with zeroed padding.
inline const float* rows_operand(float* dst, const float* src, int64_t stride, int64_t n, int64_t D, int64_t Dp,
                                 int64_t* ldb) {
  if (D == Dp) {
    *ldb = stride;
    return src;
  }
  for (int64_t r = 0; r < n; r++) {
    for (int64_t d = 0; d < D; d++) dst[r * Dp + d] = src[r * stride + d];
    for (int64_t d = D; d < Dp; d++) dst[r * Dp + d] = 0.0f;
  }
  *ldb = Dp;
  return dst;
}

// Sets the scores no query may use to −inf in an [nq][kBlk] tile of the key block starting at j0
// for the query tile whose first query sits at position p0: keys j > p0 + r when causal, and the
// columns n_keys <= c < cols (padding, or keys at or past L_b: n_keys counts the block's keys below L_b).
inline void mask_scores(float* s, int64_t nq, int64_t p0, int64_t j0, int64_t n_keys, int64_t cols, bool causal) {
  for (int64_t r = 0; r < nq; r++) {
    int64_t first_masked = n_keys;
    if (causal) first_masked = min64(first_masked, p0 + r - j0 + 1);
    if (first_masked < 0) first_masked = 0;
    for (int64_t c = first_masked; c < cols; c++) s[r * kBlk + c] = -INFINITY;
  }
}

// p[c] = exp(s[c] − shift) for c < cols (cols a multiple of W), in place; returns Σ_c p[c].
template <class V>
inline float exp_row(float* s, int64_t cols, float shift) {
  using T = typename V::T;
  const T sh = V::set1(shift);
  T sum = V::zero();
  for (int64_t c = 0; c < cols; c += V::W) {
    const T p = vexp<V>(V::sub(V::load(s + c), sh));
    V::store(s + c, p);
    sum = V::add(sum, p);
  }
  return V::hsum(sum);
}

template <class V>
inline float max_row(const float* s, int64_t cols) {
  typename V::T m = V::set1(-INFINITY);
  for (int64_t c = 0; c < cols; c += V::W) m = V::max(m, V::load(s + c));
  return V::hmax(m);
}

struct Scratch {
  float *rows1, *rows2, *rows3, *acc1, *acc2, *s, *dp, *m, *l;
  Scratch(float* base, int64_t D) {
    const int64_t Dp = attention_round_up(D, kAttentionPad);
    rows1 = base;
    rows2 = rows1 + kBlk * Dp;
    rows3 = rows2 + kBlk * Dp;
    acc1 = rows3 + kBlk * Dp;
    acc2 = acc1 + kBlk * Dp;
    s = acc2 + kBlk * Dp;
    dp = s + kBlk * kBlk;
    m = dp + kBlk * kBlk;
    l = m + kBlk;
  }
};

inline float* thread_scratch(const AttentionArgs& a) {
  return a.scratch + static_cast<int64_t>(omp_get_thread_num()) * a.scratch_stride;
}

// ---- forward ----------------------------------------------------------------------------------------
// One query tile [i0, i0 + nq) of head (b, h): online softmax over its visible key blocks.
//   per block: S = Q Ktᵀ·scale; m' = max(m, rowmax S); P = exp(S − m'); l = l·e^{m−m'} + rowsum P;
//              O = O·e^{m−m'} + P V
//   at the end: out = O / l, lse = m + log l
//   a row that sees no key (L_b = 0) visits no block: l = 0, out = 0, lse = −inf + log 0 = −inf.
template <class V>
void forward_tile(const AttentionArgs& a, int64_t b, int64_t h, int64_t qt, Scratch w) {
  const int64_t Sq = a.Sq, H = a.H, D = a.D, stride = H * D, Dp = attention_round_up(D, kAttentionPad);
  const int64_t i0 = qt * kBlk, nq = min64(kBlk, Sq - i0);
  const int64_t L = key_length(a, b), p0 = query_offset(a, b) + i0;
  const float* qi = a.q + ((b * Sq + i0) * H + h) * D;
  const float* vh = a.v + (b * a.Sk * H + h) * D;
  for (int64_t r = 0; r < nq; r++) {
    w.m[r] = -INFINITY;
    w.l[r] = 0.0f;
    for (int64_t d = 0; d < Dp; d++) w.acc1[r * Dp + d] = 0.0f;
  }
  const int64_t key_blocks = tile_key_blocks(a, b, i0, nq);
  for (int64_t kb = 0; kb < key_blocks; kb++) {
    const int64_t j0 = kb * kBlk, nk = min64(kBlk, L - j0), cols = attention_round_up(nk, kAttentionPad);
    const float* kt = a.kt != nullptr ? packed_block(a, a.kt, b, h, kb) : w.rows2;
    if (a.kt == nullptr) pack_transposed(w.rows2, a.k + ((b * a.Sk + j0) * H + h) * D, stride, nk, D, a.scale);
    gemm<V>(nq, cols, D, qi, stride, 1, kt, kBlk, w.s, kBlk, false);
    mask_scores(w.s, nq, p0, j0, nk, cols, a.causal);
    for (int64_t r = 0; r < nq; r++) {
      float* sr = w.s + r * kBlk;
      const float block_max = max_row<V>(sr, cols);
      const float m_new = w.m[r] > block_max ? w.m[r] : block_max;
      const float alpha = sexp<V>(w.m[r] - m_new);  // 0 on the first block (m = −inf)
      w.l[r] = w.l[r] * alpha + exp_row<V>(sr, cols, m_new);
      w.m[r] = m_new;
      if (alpha != 1.0f) {
        float* o = w.acc1 + r * Dp;
        for (int64_t d = 0; d < Dp; d += V::W) V::store(o + d, V::mul(V::load(o + d), V::set1(alpha)));
      }
    }
    int64_t ldv;
    const float* vb = rows_operand(w.rows1, vh + j0 * stride, stride, nk, D, Dp, &ldv);
    gemm<V>(nq, Dp, nk, w.s, kBlk, 1, vb, ldv, w.acc1, Dp, true);
  }
  for (int64_t r = 0; r < nq; r++) {
    float* o = a.o + ((b * Sq + i0 + r) * H + h) * D;
    const float inv_l = w.l[r] > 0.0f ? 1.0f / w.l[r] : 0.0f;  // l >= 1 for a row that sees a key
    for (int64_t d = 0; d < D; d++) o[d] = w.acc1[r * Dp + d] * inv_l;
    if (a.lse != nullptr) a.lse[(b * H + h) * Sq + i0 + r] = w.m[r] + logf(w.l[r]);
  }
}

template <class V>
void forward(const AttentionArgs& a) {
  const int64_t tiles = (a.Sq + kBlk - 1) / kBlk;
  if (a.kt != nullptr) pack_all_blocks(a, a.kt, nullptr);
#pragma omp parallel for collapse(3) schedule(dynamic, 1) if (a.parallel)
  for (int64_t b = 0; b < a.B; b++) {
    for (int64_t h = 0; h < a.H; h++) {
      for (int64_t t = 0; t < tiles; t++) {
        // The last tiles see the most keys under a causal mask: hand them out first.
        forward_tile<V>(a, b, h, tiles - 1 - t, Scratch(thread_scratch(a), a.D));
      }
    }
  }
}

// ---- backward ---------------------------------------------------------------------------------------
// The scores of query tile (i0, nq) against key block j0 (kt = scale·Kᵀ packed), masked, turned into
// P = exp(S − lse) in w.s; and, when dS is wanted, dS = scale·P ∘ (dO Vᵀ − delta) in w.dp.
// Only called for a block the tile sees (nk >= 1, every row's lse finite).
template <class V>
void probabilities(const AttentionArgs& a, int64_t b, int64_t h, int64_t i0, int64_t nq, int64_t kb, bool want_ds,
                   Scratch w) {
  const int64_t j0 = kb * kBlk, nk = min64(kBlk, key_length(a, b) - j0);
  const int64_t Sq = a.Sq, H = a.H, D = a.D, stride = H * D, cols = attention_round_up(nk, kAttentionPad);
  const int64_t row0 = ((b * Sq + i0) * H + h) * D;
  const float* lse = a.lse + (b * H + h) * Sq + i0;
  gemm<V>(nq, cols, D, a.q + row0, stride, 1, packed_block(a, a.kt, b, h, kb), kBlk, w.s, kBlk, false);
  mask_scores(w.s, nq, query_offset(a, b) + i0, j0, nk, cols, a.causal);
  for (int64_t r = 0; r < nq; r++) exp_row<V>(w.s + r * kBlk, cols, lse[r]);
  if (!want_ds) return;
  gemm<V>(nq, cols, D, a.dout + row0, stride, 1, packed_block(a, a.vt, b, h, kb), kBlk, w.dp, kBlk, false);
  const float* delta = a.delta + (b * H + h) * Sq + i0;
  const typename V::T scale = V::set1(a.scale);
  for (int64_t r = 0; r < nq; r++) {
    const typename V::T dr = V::set1(delta[r]);
    float* p = w.s + r * kBlk;
    float* ds = w.dp + r * kBlk;
    for (int64_t c = 0; c < cols; c += V::W) {
      V::store(ds + c, V::mul(scale, V::mul(V::load(p + c), V::sub(V::load(ds + c), dr))));
    }
  }
}

// rows [r0, r0 + n) of a [B, S, H, D] gradient (+)= acc [n][Dp] (S = Sq for dq, Sk for dk, dv).
inline void write_rows(const AttentionArgs& a, float* grad, int64_t S, int64_t b, int64_t h, int64_t r0, int64_t n,
                       const float* acc) {
  const int64_t Dp = attention_round_up(a.D, kAttentionPad);
  for (int64_t r = 0; r < n; r++) {
    float* g = grad + ((b * S + r0 + r) * a.H + h) * a.D;
    const float* src = acc + r * Dp;
    if (a.accumulate) {
      for (int64_t d = 0; d < a.D; d++) g[d] += src[d];
    } else {
      for (int64_t d = 0; d < a.D; d++) g[d] = src[d];
    }
  }
}

// acc rows [r0, n) = 0: the gradient rows no visible pair reaches.
inline void zero_rows(float* acc, int64_t r0, int64_t n, int64_t D) {
  const int64_t Dp = attention_round_up(D, kAttentionPad);
  for (int64_t r = r0; r < n; r++) {
    for (int64_t d = 0; d < Dp; d++) acc[r * Dp + d] = 0.0f;
  }
}

// The dk, dv rows of key block kb (n_rows keys of which the first n_keys lie below L_b; the queries
// reached them iff `seen`) from acc1, acc2: keys no query sees get 0 (overwrite) or keep what they
// hold (accumulate: adding 0 would only flip a −0).
inline void write_key_block(const AttentionArgs& a, int64_t b, int64_t h, int64_t kb, int64_t n_keys, int64_t n_rows,
                            bool seen, Scratch w) {
  const int64_t j0 = kb * kBlk, from = seen ? n_keys : 0;
  if (a.accumulate) {
    if (!seen) return;
    if (a.dk != nullptr) write_rows(a, a.dk, a.Sk, b, h, j0, from, w.acc1);
    if (a.dv != nullptr) write_rows(a, a.dv, a.Sk, b, h, j0, from, w.acc2);
    return;
  }
  if (a.dk != nullptr) {
    zero_rows(w.acc1, from, n_rows, a.D);
    write_rows(a, a.dk, a.Sk, b, h, j0, n_rows, w.acc1);
  }
  if (a.dv != nullptr) {
    zero_rows(w.acc2, from, n_rows, a.D);
    write_rows(a, a.dv, a.Sk, b, h, j0, n_rows, w.acc2);
  }
}

// Pass 1, one query tile: dQ_i = Σ_j dS_ij K_j over the visible key blocks, ascending.
// A tile that sees no key (L_b = 0) gets dq = 0.
template <class V>
void dq_tile(const AttentionArgs& a, int64_t b, int64_t h, int64_t qt, Scratch w) {
  const int64_t Sq = a.Sq, H = a.H, D = a.D, stride = H * D, Dp = attention_round_up(D, kAttentionPad);
  const int64_t i0 = qt * kBlk, nq = min64(kBlk, Sq - i0), L = key_length(a, b);
  const float* kh = a.k + (b * a.Sk * H + h) * D;
  const int64_t key_blocks = tile_key_blocks(a, b, i0, nq);
  if (key_blocks == 0) {
    if (a.accumulate) return;
    zero_rows(w.acc1, 0, nq, D);
  }
  for (int64_t kb = 0; kb < key_blocks; kb++) {
    const int64_t j0 = kb * kBlk, nk = min64(kBlk, L - j0);
    probabilities<V>(a, b, h, i0, nq, kb, true, w);
    int64_t ldk;
    const float* kr = rows_operand(w.rows1, kh + j0 * stride, stride, nk, D, Dp, &ldk);
    gemm<V>(nq, Dp, nk, w.dp, kBlk, 1, kr, ldk, w.acc1, Dp, kb > 0);
  }
  write_rows(a, a.dq, Sq, b, h, i0, nq, w.acc1);
}

// Pass 2, one key block: dV_j = Σ_i P_ijᵀ dO_i and dK_j = Σ_i dS_ijᵀ Q_i over the query tiles that
// see it, ascending.
template <class V>
void dkdv_block(const AttentionArgs& a, int64_t b, int64_t h, int64_t kb, Scratch w) {
  const int64_t Sq = a.Sq, H = a.H, D = a.D, stride = H * D, Dp = attention_round_up(D, kAttentionPad);
  const int64_t j0 = kb * kBlk, n_rows = min64(kBlk, a.Sk - j0), nk = min64(n_rows, key_length(a, b) - j0);
  const bool want_dk = a.dk != nullptr, want_dv = a.dv != nullptr;
  const int64_t tiles = (Sq + kBlk - 1) / kBlk, first_tile = first_query_tile(a, b, kb);
  bool first = true;
  for (int64_t qt = first_tile; qt < tiles; qt++) {
    const int64_t i0 = qt * kBlk, nq = min64(kBlk, Sq - i0);
    const int64_t row0 = ((b * Sq + i0) * H + h) * D;
    probabilities<V>(a, b, h, i0, nq, kb, want_dk, w);
    // Pᵀ and dSᵀ are read transposed in place: A(r = key, k = query) = tile[k·64 + r].
    if (want_dv) {
      int64_t ldo;
      const float* dor = rows_operand(w.rows1, a.dout + row0, stride, nq, D, Dp, &ldo);
      gemm<V>(nk, Dp, nq, w.s, 1, kBlk, dor, ldo, w.acc2, Dp, !first);
    }
    if (want_dk) {
      int64_t ldq;
      const float* qr = rows_operand(w.rows2, a.q + row0, stride, nq, D, Dp, &ldq);
      gemm<V>(nk, Dp, nq, w.dp, 1, kBlk, qr, ldq, w.acc1, Dp, !first);
    }
    first = false;
  }
  write_key_block(a, b, h, kb, nk, n_rows, first_tile < tiles, w);
}

// The whole backward of one head in one task (5 GEMM tiles per block pair instead of 7), for calls
// with enough heads to keep every thread busy. Key blocks outer, query tiles inner: dK_j and dV_j
// sum over i ascending, dQ_i (in the thread's [S][Dp] buffer dq_head) over j ascending, with the
// same GEMM calls as passes 1 and 2: the bits are those of the two-pass schedule.
// Every tile sees key block 0 when L_b >= 1, so `kb > 0` is each dq tile's first visit; with
// L_b = 0 no block is visited and dq is 0.
template <class V>
void head_backward(const AttentionArgs& a, int64_t b, int64_t h, float* dq_head, Scratch w) {
  const int64_t Sq = a.Sq, H = a.H, D = a.D, stride = H * D, Dp = attention_round_up(D, kAttentionPad);
  const int64_t tiles = (Sq + kBlk - 1) / kBlk, key_blocks = (a.Sk + kBlk - 1) / kBlk, L = key_length(a, b);
  const bool want_dk = a.dk != nullptr, want_dv = a.dv != nullptr;
  const float* kh = a.k + (b * a.Sk * H + h) * D;
  if (L == 0) zero_rows(dq_head, 0, Sq, D);
  for (int64_t kb = 0; kb < key_blocks; kb++) {
    const int64_t j0 = kb * kBlk, n_rows = min64(kBlk, a.Sk - j0), nk = min64(n_rows, L - j0);
    const int64_t first_tile = first_query_tile(a, b, kb);
    int64_t ldk = 0;
    const float* kr = first_tile < tiles ? rows_operand(w.rows3, kh + j0 * stride, stride, nk, D, Dp, &ldk) : nullptr;
    bool first = true;
    for (int64_t qt = first_tile; qt < tiles; qt++) {
      const int64_t i0 = qt * kBlk, nq = min64(kBlk, Sq - i0);
      const int64_t row0 = ((b * Sq + i0) * H + h) * D;
      probabilities<V>(a, b, h, i0, nq, kb, true, w);
      if (want_dv) {
        int64_t ldo;
        const float* dor = rows_operand(w.rows1, a.dout + row0, stride, nq, D, Dp, &ldo);
        gemm<V>(nk, Dp, nq, w.s, 1, kBlk, dor, ldo, w.acc2, Dp, !first);
      }
      if (want_dk) {
        int64_t ldq;
        const float* qr = rows_operand(w.rows2, a.q + row0, stride, nq, D, Dp, &ldq);
        gemm<V>(nk, Dp, nq, w.dp, 1, kBlk, qr, ldq, w.acc1, Dp, !first);
      }
      gemm<V>(nq, Dp, nk, w.dp, kBlk, 1, kr, ldk, dq_head + i0 * Dp, Dp, kb > 0);
      first = false;
    }
    write_key_block(a, b, h, kb, nk, n_rows, first_tile < tiles, w);
  }
  if (L > 0 || !a.accumulate) write_rows(a, a.dq, Sq, b, h, 0, Sq, dq_head);
}

template <class V>
void backward(const AttentionArgs& a) {
  const int64_t tiles = (a.Sq + kBlk - 1) / kBlk, key_blocks = (a.Sk + kBlk - 1) / kBlk;
  const int64_t D = a.D;
  const bool want_ds = a.dq != nullptr || a.dk != nullptr;
  pack_all_blocks(a, a.kt, want_ds ? a.vt : nullptr);
  if (want_ds) {
    // delta_i = dO_i · O_i, the row term of dS.
#pragma omp parallel for collapse(2) schedule(static) if (a.parallel)
    for (int64_t b = 0; b < a.B; b++) {
      for (int64_t h = 0; h < a.H; h++) {
        for (int64_t i = 0; i < a.Sq; i++) {
          const int64_t row = ((b * a.Sq + i) * a.H + h) * D;
          float acc = 0.0f;
          for (int64_t d = 0; d < D; d++) acc += a.dout[row + d] * a.out[row + d];
          a.delta[(b * a.H + h) * a.Sq + i] = acc;
        }
      }
    }
  }
  if (a.dq_heads != nullptr) {  // one task per head (the dispatcher saw enough heads and dq + dk/dv)
#pragma omp parallel for collapse(2) schedule(dynamic, 1) if (a.parallel)
    for (int64_t b = 0; b < a.B; b++) {
      for (int64_t h = 0; h < a.H; h++) {
        const int64_t t = omp_get_thread_num();
        head_backward<V>(a, b, h, a.dq_heads + t * attention_round_up(a.Sq, kBlk) * attention_round_up(D, kAttentionPad),
                         Scratch(thread_scratch(a), D));
      }
    }
    return;
  }
  if (a.dq != nullptr) {
#pragma omp parallel for collapse(3) schedule(dynamic, 1) if (a.parallel)
    for (int64_t b = 0; b < a.B; b++) {
      for (int64_t h = 0; h < a.H; h++) {
        for (int64_t t = 0; t < tiles; t++) dq_tile<V>(a, b, h, tiles - 1 - t, Scratch(thread_scratch(a), D));
      }
    }
  }
  if (a.dk != nullptr || a.dv != nullptr) {
#pragma omp parallel for collapse(3) schedule(dynamic, 1) if (a.parallel)
    for (int64_t b = 0; b < a.B; b++) {
      for (int64_t h = 0; h < a.H; h++) {
        // Under a causal mask the first key blocks are seen by the most query tiles: first out.
        for (int64_t kb = 0; kb < key_blocks; kb++) dkdv_block<V>(a, b, h, kb, Scratch(thread_scratch(a), D));
      }
    }
  }
}
