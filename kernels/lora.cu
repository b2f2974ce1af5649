// Fused LoRA matmul on CUDA: one K-augmented GEMM kernel family, two flavours.
//
//   C[M x N] = out_scale * (S0 + seg1_scale * S1),   S_s = sum_{k < k_s} A_s(m, k) B_s(k, n)
//
// Segment 1 (the rank-r LoRA term, k_1 = r) and segment 0 (the base product, k_0 = K) are two k
// ranges of ONE accumulation: the k loop first walks segment 1's tiles, multiplies the fp32
// accumulators by seg1_scale (= s, exact), then walks segment 0's. So
//   forward  y  = [x | s u] . [W | B]^T     (A = x then u, B^T = W^T then B^T)   after u = x A^T
//   backward dx = [g | s v] . [W ; A]                                            after v = g B
// cost one pass over the output plus 2r/K extra MMA work; nothing is packed or concatenated.
// The small products (u, v, dA = s v^T x, dB = s g^T u) have few output tiles and long
// reductions, so they split the k range over blockIdx.z (fp32 partials, then a reduce kernel).
//
// Operand layouts (all row-major tensors read in place):
//   A operand (m, k): kRow -> a[m * lda + k]     kCol -> a[k * lda + m]
//   B operand (k, n): kRow -> b[k * ldb + n]     kCol -> b[n * ldb + k]
//
// Flavours: BF16 storage -> tensor cores (WMMA bf16 m16n16k16, fp32 accumulate), 128x128x32 block
// tile, 8 warps of 64x32, 3-stage cp.async pipeline (16-byte copies where aligned and in bounds,
// predicated scalar loads with zero fill at ragged edges: odd K, M, r = 1 all work).
// F32 storage -> SIMT 64x64x16 tile, 4x4 outputs per thread, fp32 FMA (the exact check path).
//
// Where cuBLASLt is built in (FACTRL_WITH_CUBLAS), the bf16 products go through it instead (bf16 in,
// fp32 accumulate; the rank-r term as a second, accumulating call) and these kernels are the
// fallback; FACTRL_GEMM=own forces them. Mixed precision: an f32 adapter (A, B) over a bf16 base is
// cast to bf16 compute copies per call; dA / dB may be written in f32 (the master weights' dtype).
#include <mma.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "cuda_common.cuh"
#include "gemm.cuh"
#include "lora.cuh"
#ifdef FACTRL_WITH_CUBLAS
#include "cublas_gemm.cuh"
#endif

namespace frl {
namespace cuda {
namespace {

using bf16 = __nv_bfloat16;
enum Layout { kRow = 0, kCol = 1 };

struct GemmArgs {
  int M = 0, N = 0;                 // output rows, columns
  const void* a[2] = {nullptr, nullptr};
  const void* b[2] = {nullptr, nullptr};
  int64_t lda[2] = {0, 0}, ldb[2] = {0, 0};
  int k[2] = {0, 0};                // reduction length of segment 0 (base) and 1 (adapter, first)
  bool avec[2] = {false, false};    // 16-byte cp.async allowed for this operand
  bool bvec[2] = {false, false};
  float seg1_scale = 1.0f, out_scale = 1.0f;
  void* c = nullptr;                // output, type TO, leading dimension ldc
  int64_t ldc = 0;
  int accumulate = 0;               // 1: C += result
  float* partial = nullptr;         // split-K: [splits][M][N] fp32 partial sums
  int splits = 1, tiles_per_split = 0;
};

template <typename TO>
__device__ __forceinline__ void write_out(TO* c, int64_t i, float v, int accumulate) {
  if (accumulate) v += to_f32(c[i]);
  c[i] = from_f32<TO>(v);
}

// ---- tensor-core flavour (bf16) ---------------------------------------------------------------
constexpr int TBM = 128, TBN = 128, TBK = 32, TSTAGES = 3, TTHREADS = 256, TPAD = 8;

template <int AL, int BL>
struct TcSmem {
  static constexpr int A_LD = AL == kRow ? TBK + TPAD : TBM + TPAD;
  static constexpr int A_ELEMS = AL == kRow ? TBM * (TBK + TPAD) : TBK * (TBM + TPAD);
  static constexpr int B_LD = BL == kCol ? TBK + TPAD : TBN + TPAD;
  static constexpr int B_ELEMS = BL == kCol ? TBN * (TBK + TPAD) : TBK * (TBN + TPAD);
  static constexpr int STAGE_ELEMS = A_ELEMS + B_ELEMS;
  static constexpr int PIPE_BYTES = TSTAGES * STAGE_ELEMS * 2;
  static constexpr int EPI_BYTES = (TTHREADS / 32) * 256 * 4;
  static constexpr int BYTES = PIPE_BYTES > EPI_BYTES ? PIPE_BYTES : EPI_BYTES;
  static_assert((A_ELEMS * 2) % 128 == 0 && (STAGE_ELEMS * 2) % 128 == 0, "stage alignment");
};

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
  unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// A ROWS x COLS tile whose COLS run contiguously in global memory (element (i, j) at
// src[(row0 + i) * ld + col0 + j], valid while row < row_lim and col < col_lim) into shared memory
// with leading dimension LDS; out-of-range elements become 0.
template <int ROWS, int COLS, int LDS>
__device__ __forceinline__ void load_tile(bf16* dst, const bf16* src, int64_t ld, int row0, int col0,
                                          int row_lim, int col_lim, bool vec) {
  constexpr int CPR = COLS / 8;  // 8-element (16-byte) chunks per row
  for (int c = threadIdx.x; c < ROWS * CPR; c += TTHREADS) {
    const int i = c / CPR, j = (c % CPR) * 8;
    const int gr = row0 + i, gc = col0 + j;
    bf16* d = dst + i * LDS + j;
    if (vec && gr < row_lim && gc + 8 <= col_lim) {
      cp_async16(d, src + static_cast<int64_t>(gr) * ld + gc);
    } else {
#pragma unroll
      for (int t = 0; t < 8; t++)
        d[t] = (gr < row_lim && gc + t < col_lim) ? src[static_cast<int64_t>(gr) * ld + gc + t]
                                                   : __float2bfloat16(0.0f);
    }
  }
}

// C = out_scale * (S0 + seg1_scale * S1) on tensor cores; see the file comment.
template <int AL, int BL, typename TO>
__global__ void __launch_bounds__(TTHREADS, 2) gemm_tc(GemmArgs p) {
  using namespace nvcuda;
  using S = TcSmem<AL, BL>;
  using ALay = typename std::conditional<AL == kRow, wmma::row_major, wmma::col_major>::type;
  using BLay = typename std::conditional<BL == kRow, wmma::row_major, wmma::col_major>::type;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  bf16* smem = reinterpret_cast<bf16*>(smem_raw);

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / 4, wn = warp % 4;  // 2 x 4 warps, each 64 x 32
  const int m0 = blockIdx.y * TBM, n0 = blockIdx.x * TBN;
  const int T1 = (p.k[1] + TBK - 1) / TBK, T0 = (p.k[0] + TBK - 1) / TBK, T = T1 + T0;
  int t_begin = 0, t_end = T;
  if (p.splits > 1) {
    t_begin = blockIdx.z * p.tiles_per_split;
    t_end = min(T, t_begin + p.tiles_per_split);
  }
  const int nt = max(0, t_end - t_begin);

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4][2];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

  auto load_stage = [&](int t, int stage) {
    const int s = t < T1 ? 1 : 0;
    const int k0 = (t < T1 ? t : t - T1) * TBK, ks = p.k[s];
    const bf16* a = static_cast<const bf16*>(p.a[s]);
    const bf16* b = static_cast<const bf16*>(p.b[s]);
    bf16* As = smem + stage * S::STAGE_ELEMS;
    bf16* Bs = As + S::A_ELEMS;
    if (AL == kRow) load_tile<TBM, TBK, S::A_LD>(As, a, p.lda[s], m0, k0, p.M, ks, p.avec[s]);
    else load_tile<TBK, TBM, S::A_LD>(As, a, p.lda[s], k0, m0, ks, p.M, p.avec[s]);
    if (BL == kCol) load_tile<TBN, TBK, S::B_LD>(Bs, b, p.ldb[s], n0, k0, p.N, ks, p.bvec[s]);
    else load_tile<TBK, TBN, S::B_LD>(Bs, b, p.ldb[s], k0, n0, ks, p.N, p.bvec[s]);
  };

#pragma unroll
  for (int s = 0; s < TSTAGES - 1; s++) {
    if (s < nt) load_stage(t_begin + s, s);
    cp_async_commit();
  }
  for (int i = 0; i < nt; i++) {
    const int t = t_begin + i;
    cp_async_wait<TSTAGES - 2>();
    __syncthreads();  // tile i landed for everyone; stage (i-1) % TSTAGES is free again
    if (i + TSTAGES - 1 < nt) load_stage(t + TSTAGES - 1, (i + TSTAGES - 1) % TSTAGES);
    cp_async_commit();
    const bf16* As = smem + (i % TSTAGES) * S::STAGE_ELEMS;
    const bf16* Bs = As + S::A_ELEMS;
#pragma unroll
    for (int kk = 0; kk < TBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, ALay> af[4];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, BLay> bfr[2];
#pragma unroll
      for (int fi = 0; fi < 4; fi++) {
        const int m = wm * 64 + fi * 16;
        const bf16* ptr = AL == kRow ? As + m * S::A_LD + kk : As + kk * S::A_LD + m;
        wmma::load_matrix_sync(af[fi], ptr, S::A_LD);
      }
#pragma unroll
      for (int fj = 0; fj < 2; fj++) {
        const int n = wn * 32 + fj * 16;
        const bf16* ptr = BL == kRow ? Bs + kk * S::B_LD + n : Bs + n * S::B_LD + kk;
        wmma::load_matrix_sync(bfr[fj], ptr, S::B_LD);
      }
#pragma unroll
      for (int fi = 0; fi < 4; fi++)
#pragma unroll
        for (int fj = 0; fj < 2; fj++) wmma::mma_sync(acc[fi][fj], af[fi], bfr[fj], acc[fi][fj]);
    }
    if (t == T1 - 1) {  // end of the adapter segment: S1 -> seg1_scale * S1, then S0 adds on
#pragma unroll
      for (int fi = 0; fi < 4; fi++)
#pragma unroll
        for (int fj = 0; fj < 2; fj++)
#pragma unroll
          for (int e = 0; e < acc[fi][fj].num_elements; e++) acc[fi][fj].x[e] *= p.seg1_scale;
    }
  }
  cp_async_wait<0>();
  __syncthreads();

  // Epilogue: each warp stages one 16x16 fragment at a time in shared memory, then writes it with
  // bounds checks (and the split-K partial, or scale / accumulate / convert).
  float* stage = reinterpret_cast<float*>(smem_raw) + warp * 256;
  const int row = lane / 2, col = (lane % 2) * 8;
#pragma unroll
  for (int fi = 0; fi < 4; fi++) {
#pragma unroll
    for (int fj = 0; fj < 2; fj++) {
      wmma::store_matrix_sync(stage, acc[fi][fj], 16, wmma::mem_row_major);
      __syncwarp();
      const int gm = m0 + wm * 64 + fi * 16 + row;
      const int gn0 = n0 + wn * 32 + fj * 16 + col;
      if (gm < p.M) {
#pragma unroll
        for (int t = 0; t < 8; t++) {
          const int gn = gn0 + t;
          if (gn < p.N) {
            const float v = stage[row * 16 + col + t];
            if (p.splits > 1)
              p.partial[(static_cast<int64_t>(blockIdx.z) * p.M + gm) * p.N + gn] = v;
            else
              write_out(static_cast<TO*>(p.c), static_cast<int64_t>(gm) * p.ldc + gn, v * p.out_scale,
                        p.accumulate);
          }
        }
      }
      __syncwarp();
    }
  }
}

// ---- SIMT flavour (fp32) ----------------------------------------------------------------------
constexpr int SBM = 64, SBN = 64, SBK = 16, STHREADS = 256;

// Same contract as gemm_tc, fp32 storage and FMA: each thread owns a 4x4 block of C.
template <int AL, int BL, typename TO>
__global__ void __launch_bounds__(STHREADS) gemm_simt(GemmArgs p) {
  __shared__ float As[SBK][SBM + 4];
  __shared__ float Bs[SBK][SBN + 4];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int m0 = blockIdx.y * SBM, n0 = blockIdx.x * SBN;
  const int T1 = (p.k[1] + SBK - 1) / SBK, T0 = (p.k[0] + SBK - 1) / SBK, T = T1 + T0;
  int t_begin = 0, t_end = T;
  if (p.splits > 1) {
    t_begin = blockIdx.z * p.tiles_per_split;
    t_end = min(T, t_begin + p.tiles_per_split);
  }
  float acc[4][4] = {};
  for (int t = t_begin; t < t_end; t++) {
    const int s = t < T1 ? 1 : 0;
    const int k0 = (t < T1 ? t : t - T1) * SBK, ks = p.k[s];
    const float* a = static_cast<const float*>(p.a[s]);
    const float* b = static_cast<const float*>(p.b[s]);
#pragma unroll
    for (int q = 0; q < (SBM * SBK) / STHREADS; q++) {
      const int idx = threadIdx.x + q * STHREADS;
      int m, k;
      if (AL == kRow) { m = idx / SBK; k = idx % SBK; } else { m = idx % SBM; k = idx / SBM; }
      const int gm = m0 + m, gk = k0 + k;
      As[k][m] = (gm < p.M && gk < ks)
                     ? a[AL == kRow ? static_cast<int64_t>(gm) * p.lda[s] + gk : static_cast<int64_t>(gk) * p.lda[s] + gm]
                     : 0.0f;
      int n;
      if (BL == kCol) { k = idx % SBK; n = idx / SBK; } else { n = idx % SBN; k = idx / SBN; }
      const int gn = n0 + n;
      const int gk2 = k0 + k;
      Bs[k][n] = (gn < p.N && gk2 < ks)
                     ? b[BL == kRow ? static_cast<int64_t>(gk2) * p.ldb[s] + gn : static_cast<int64_t>(gn) * p.ldb[s] + gk2]
                     : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < SBK; k++) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; i++) av[i] = As[k][ty * 4 + i];
#pragma unroll
      for (int j = 0; j < 4; j++) bv[j] = Bs[k][tx * 4 + j];
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
    if (t == T1 - 1) {
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] *= p.seg1_scale;
    }
  }
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int gm = m0 + ty * 4 + i;
    if (gm >= p.M) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int gn = n0 + tx * 4 + j;
      if (gn >= p.N) continue;
      if (p.splits > 1)
        p.partial[(static_cast<int64_t>(blockIdx.z) * p.M + gm) * p.N + gn] = acc[i][j];
      else
        write_out(static_cast<TO*>(p.c), static_cast<int64_t>(gm) * p.ldc + gn, acc[i][j] * p.out_scale,
                  p.accumulate);
    }
  }
}

// C (+)= out_scale * sum_z partial[z] (fixed order: deterministic).
template <typename TO>
__global__ void splitk_reduce(GemmArgs p) {
  const int64_t mn = static_cast<int64_t>(p.M) * p.N;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < mn;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float s = 0.0f;
    for (int z = 0; z < p.splits; z++) s += p.partial[z * mn + i];
    const int64_t m = i / p.N, n = i % p.N;
    write_out(static_cast<TO*>(p.c), m * p.ldc + n, s * p.out_scale, p.accumulate);
  }
}

GemmArgs one_segment(int rows, int cols, const void* a, int64_t lda, const void* b, int64_t ldb, int k,
                     void* c, int64_t ldc) {
  GemmArgs p;
  p.M = rows;
  p.N = cols;
  p.a[0] = a;
  p.lda[0] = lda;
  p.b[0] = b;
  p.ldb[0] = ldb;
  p.k[0] = k;
  p.c = c;
  p.ldc = ldc;
  return p;
}

void add_segment(GemmArgs& p, const void* a, int64_t lda, const void* b, int64_t ldb, int k, float scale) {
  p.a[1] = a;
  p.lda[1] = lda;
  p.b[1] = b;
  p.ldb[1] = ldb;
  p.k[1] = k;
  p.seg1_scale = scale;
}

#ifdef FACTRL_WITH_CUBLAS
// Segment s of p alone (same output, scale 1, overwrite): the caller sets out_scale / accumulate.
GemmArgs one_segment_of(const GemmArgs& p, int s) {
  return one_segment(p.M, p.N, p.a[s], p.lda[s], p.b[s], p.ldb[s], p.k[s], p.c, p.ldc);
}
#endif
// fp32 master weights -> bf16 compute copies (LoRA A/B in f32 over a bf16 base): dst[i] = bf16(src[i]).
__global__ void cast_to_bf16(const float* __restrict__ src, bf16* __restrict__ dst, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = __float2bfloat16(src[i]);
}

// ---- host side ----------------------------------------------------------------------------------

int sm_count() {
  static int cached[64] = {};
  int dev = 0;
  FRL_CUDA_CHECK(cudaGetDevice(&dev));
  if (dev >= 0 && dev < 64 && cached[dev] > 0) return cached[dev];
  int n = 0;
  FRL_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
  if (dev >= 0 && dev < 64) cached[dev] = n;
  return n;
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Our own kernels: C = out_scale * (S0 + seg1_scale * S1) with storage type T and output type TO;
// picks split-K for single-segment products whose output has too few tiles to fill the GPU.
template <typename T, int AL, int BL, typename TO>
void run_own_gemm(const frl_ctx* ctx, GemmArgs p) {
  if (p.M <= 0 || p.N <= 0) return;
  cudaStream_t stream = cuda_stream(ctx);
  constexpr bool tc = std::is_same<T, bf16>::value;
  constexpr int BM = tc ? TBM : SBM, BN = tc ? TBN : SBN, BK = tc ? TBK : SBK;
  for (int s = 0; s < 2; s++) {
    p.avec[s] = tc && aligned16(p.a[s]) && p.lda[s] % 8 == 0;
    p.bvec[s] = tc && aligned16(p.b[s]) && p.ldb[s] % 8 == 0;
  }
  const int tiles = (p.k[0] + BK - 1) / BK + (p.k[1] + BK - 1) / BK;
  dim3 grid(ceil_div(p.N, BN), ceil_div(p.M, BM), 1);
  // gridDim.y is limited to 65535: say so instead of failing the launch with "invalid configuration".
  FRL_REQUIRE(grid.y <= 65535, FRL_ERR_SHAPE,
          "lora: %d output rows exceed the CUDA grid limit (%d rows per launch)", p.M, 65535 * BM);
  const int blocks = static_cast<int>(grid.x * grid.y);
  const int target = 2 * sm_count();
  p.splits = 1;
  if (p.k[1] == 0 && blocks < target && tiles >= 8) {
    int splits = std::min((target + blocks - 1) / blocks, tiles / 4);
    p.tiles_per_split = (tiles + splits - 1) / splits;
    p.splits = (tiles + p.tiles_per_split - 1) / p.tiles_per_split;
  }
  Scratch partial(ctx, p.splits > 1 ? static_cast<size_t>(p.splits) * p.M * p.N * sizeof(float) : 0);
  if (p.splits > 1) {
    p.partial = partial.as<float>();
    grid.z = p.splits;
  }
  if constexpr (tc) {
    constexpr int bytes = TcSmem<AL, BL>::BYTES;
    // Function attributes are per device: remember them per instantiation AND per device (a second
    // GPU would otherwise launch without the > 48 KiB opt-in and fail).
    static bool attr_set[64] = {};
    int dev = 0;
    FRL_CUDA_CHECK(cudaGetDevice(&dev));
    if (dev < 0 || dev >= 64 || !attr_set[dev]) {
      FRL_CUDA_CHECK(cudaFuncSetAttribute(gemm_tc<AL, BL, TO>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
      if (dev >= 0 && dev < 64) attr_set[dev] = true;
    }
    gemm_tc<AL, BL, TO><<<grid, TTHREADS, bytes, stream>>>(p);
  } else {
    gemm_simt<AL, BL, TO><<<grid, STHREADS, 0, stream>>>(p);
  }
  FRL_CUDA_CHECK_LAUNCH();
  if (p.splits > 1) {
    const int64_t mn = static_cast<int64_t>(p.M) * p.N;
    const int rblocks = static_cast<int>(std::min<int64_t>((mn + 255) / 256, 4 * 1024));
    splitk_reduce<TO><<<rblocks, 256, 0, stream>>>(p);
    FRL_CUDA_CHECK_LAUNCH();
  }
}

#ifdef FACTRL_WITH_CUBLAS
// FACTRL_GEMM=own (read at every call, so a benchmark can compare both paths in one process) keeps
// the bf16 GEMMs on our WMMA kernel even where cuBLASLt is built in.
bool cublas_allowed() {
  const char* v = std::getenv("FACTRL_GEMM");
  return v == nullptr || std::strcmp(v, "own") != 0;
}

// Segment s of p as one cuBLASLt call: C = alpha * A_s B_s + beta * C.
template <int AL, int BL, typename TO>
bool lt_segment(const frl_ctx* ctx, const GemmArgs& p, int s, float alpha, float beta) {
  return cublaslt_gemm(ctx, p.M, p.N, p.k[s], LtOperand{p.a[s], p.lda[s], AL == kCol},
                       LtOperand{p.b[s], p.ldb[s], BL == kCol},
                       std::is_same<TO, float>::value ? CUDA_R_32F : CUDA_R_16BF, p.c, p.ldc, alpha, beta);
}
#endif

// C = out_scale * (S0 + seg1_scale * S1) (+ C when accumulating). bf16 storage with cuBLASLt built in:
// S0 as one cuBLASLt call (beta = accumulate), then the rank-r term S1 as a second, accumulating
// call (beta = 1) — a bf16 C is then rounded twice (after S0, after S1), within bf16 tolerance.
// Anything cuBLASLt declines runs on our kernels.
template <typename T, int AL, int BL, typename TO>
void run_gemm(const frl_ctx* ctx, GemmArgs p) {
#ifdef FACTRL_WITH_CUBLAS
  if constexpr (std::is_same<T, bf16>::value) {
    if (p.M > 0 && p.N > 0 && p.k[0] > 0 && cublas_allowed()) {
      if (lt_segment<AL, BL, TO>(ctx, p, 0, p.out_scale, p.accumulate ? 1.0f : 0.0f)) {
        if (p.k[1] == 0) return;
        if (lt_segment<AL, BL, TO>(ctx, p, 1, p.out_scale * p.seg1_scale, 1.0f)) return;
        // S0 is in C already: add the adapter term with our kernel.
        GemmArgs q = one_segment_of(p, 1);
        q.out_scale = p.out_scale * p.seg1_scale;
        q.accumulate = 1;
        run_own_gemm<T, AL, BL, TO>(ctx, q);
        return;
      }
    }
  }
#endif
  run_own_gemm<T, AL, BL, TO>(ctx, p);
}

template <typename T>
void forward_impl(const frl_ctx* ctx, const T* x, const T* W, const T* A, const T* B, float scale, bool adapter,
                  int N, int K, int M, int r, T* y, T* u) {
  // y = x W^T: A operand x (row, lda K), B operand W^T (B(k, m) = W[m*K + k]: kCol, ldb K).
  GemmArgs py = one_segment(N, M, x, K, W, K, K, y, M);
  if (!adapter) {
    run_gemm<T, kRow, kCol, T>(ctx, py);
    return;
  }
  Scratch ws(ctx, u ? 0 : static_cast<size_t>(N) * r * sizeof(T));
  T* ud = u ? u : ws.as<T>();
  // u = x A^T: B(k, i) = A[i*K + k].
  run_gemm<T, kRow, kCol, T>(ctx, one_segment(N, r, x, K, A, K, K, ud, r));
  // + s u B^T: B(i, m) = B[m*r + i].
  add_segment(py, ud, r, B, r, r, scale);
  run_gemm<T, kRow, kCol, T>(ctx, py);
}

// dA / dB may be F32 or the activation type: dispatch on the tensor's dtype.
template <typename T, int AL, int BL>
void run_grad_gemm(const frl_ctx* ctx, const GemmArgs& p, frl_dtype out) {
  if (out == FRL_F32) run_gemm<T, AL, BL, float>(ctx, p);
  else run_gemm<T, AL, BL, T>(ctx, p);
}

template <typename T>
void backward_impl(const frl_ctx* ctx, const T* x, const T* W, const T* A, const T* B, float scale, bool adapter,
                   const T* g, const T* u, int N, int K, int M, int r, T* dx, frl_tensor* dA, frl_tensor* dB,
                   bool accumulate) {
  // dx (+)= g W: A operand g (row, lda M), B operand W (B(m, k) = W[m*K + k]: kRow, ldb K).
  GemmArgs pdx = one_segment(N, K, g, M, W, K, M, dx, K);
  pdx.accumulate = accumulate;
  if (!adapter) {
    if (dx) run_gemm<T, kRow, kRow, T>(ctx, pdx);
    return;
  }
  Scratch ws(ctx, static_cast<size_t>(N) * r * sizeof(T));
  T* v = ws.as<T>();
  // v = g B: B operand B (B(m, i) = B[m*r + i]: kRow, ldb r).
  run_gemm<T, kRow, kRow, T>(ctx, one_segment(N, r, g, M, B, r, M, v, r));
  if (dx) {
    add_segment(pdx, v, r, A, K, r, scale);  // + s v A: B(i, k) = A[i*K + k]
    run_gemm<T, kRow, kRow, T>(ctx, pdx);
  }
  if (dA) {
    // dA = s v^T x: A operand v^T (A(i, n) = v[n*r + i]: kCol, lda r), B operand x (kRow, ldb K).
    GemmArgs p = one_segment(r, K, v, r, x, K, N, dA->data, K);
    p.out_scale = scale;
    p.accumulate = accumulate;
    run_grad_gemm<T, kCol, kRow>(ctx, p, dA->dtype);
  }
  if (dB) {
    // dB = s g^T u: A operand g^T (A(m, n) = g[n*M + m]: kCol, lda M), B operand u (kRow, ldb r).
    GemmArgs p = one_segment(M, r, g, M, u, r, N, dB->data, r);
    p.out_scale = scale;
    p.accumulate = accumulate;
    run_grad_gemm<T, kCol, kRow>(ctx, p, dB->dtype);
  }
}

template <typename T>
const T* ptr(const frl_tensor* t) { return t ? static_cast<const T*>(t->data) : nullptr; }
template <typename T>
T* mut(frl_tensor* t) { return t ? static_cast<T*>(t->data) : nullptr; }

void check_dims(int64_t N, int64_t K, int64_t M, int64_t r) {
  const int64_t lim = (int64_t{1} << 31) - 1;
  FRL_REQUIRE(N <= lim && K <= lim && M <= lim && r <= lim, FRL_ERR_SHAPE,
          "lora: every dimension must be below 2^31 on CUDA");
}

// The bf16 compute copies of an adapter over a bf16 base: A and B themselves when they are bf16,
// else (f32 master weights) bf16(A) and bf16(B) cast into one scratch block — r(K + M) elements, small
// beside the GEMMs. The products then run exactly as for a bf16 adapter (autocast semantics).
class Bf16Adapter {
 public:
  Bf16Adapter(const frl_ctx* ctx, const frl_tensor* A, const frl_tensor* B)
      : scratch_(ctx, A && A->dtype == FRL_F32 ? static_cast<size_t>(A->numel + B->numel) * sizeof(bf16) : 0) {
    if (A == nullptr) return;
    if (A->dtype != FRL_F32) {
      a_ = ptr<bf16>(A);
      b_ = ptr<bf16>(B);
      return;
    }
    bf16* a = scratch_.as<bf16>();
    bf16* b = a + A->numel;
    cast(ctx, ptr<float>(A), a, A->numel);
    cast(ctx, ptr<float>(B), b, B->numel);
    a_ = a;
    b_ = b;
  }
  const bf16* a() const { return a_; }
  const bf16* b() const { return b_; }

 private:
  static void cast(const frl_ctx* ctx, const float* src, bf16* dst, int64_t n) {
    if (n == 0) return;
    const int blocks = static_cast<int>(std::min<int64_t>((n + 255) / 256, 1024));
    cast_to_bf16<<<blocks, 256, 0, cuda_stream(ctx)>>>(src, dst, n);
    FRL_CUDA_CHECK_LAUNCH();
  }
  Scratch scratch_;
  const bf16* a_ = nullptr;
  const bf16* b_ = nullptr;
};

}  // namespace

void lora_forward(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* A,
                  const frl_tensor* B, float scale, bool use_adapter, int64_t N, int64_t K, int64_t M,
                  int64_t r, frl_tensor* y, frl_tensor* u) {
  check_dims(N, K, M, r);
  if (x->dtype == FRL_BF16) {
    Bf16Adapter ad(ctx, use_adapter ? A : nullptr, use_adapter ? B : nullptr);
    forward_impl<bf16>(ctx, ptr<bf16>(x), ptr<bf16>(W), ad.a(), ad.b(), scale, use_adapter, static_cast<int>(N),
                       static_cast<int>(K), static_cast<int>(M), static_cast<int>(r), mut<bf16>(y), mut<bf16>(u));
  } else {
    forward_impl<float>(ctx, ptr<float>(x), ptr<float>(W), ptr<float>(A), ptr<float>(B), scale, use_adapter,
                        static_cast<int>(N), static_cast<int>(K), static_cast<int>(M), static_cast<int>(r),
                        mut<float>(y), mut<float>(u));
  }
}

void lora_backward(const frl_ctx* ctx, const frl_tensor* x, const frl_tensor* W, const frl_tensor* A,
                   const frl_tensor* B, float scale, bool use_adapter, const frl_tensor* dy,
                   const frl_tensor* u, int64_t N, int64_t K, int64_t M, int64_t r, frl_tensor* dx,
                   frl_tensor* dA, frl_tensor* dB, bool accumulate) {
  check_dims(N, K, M, r);
  if (x->dtype == FRL_BF16) {
    Bf16Adapter ad(ctx, use_adapter ? A : nullptr, use_adapter ? B : nullptr);
    backward_impl<bf16>(ctx, ptr<bf16>(x), ptr<bf16>(W), ad.a(), ad.b(), scale, use_adapter, ptr<bf16>(dy),
                        ptr<bf16>(u), static_cast<int>(N), static_cast<int>(K), static_cast<int>(M),
                        static_cast<int>(r), mut<bf16>(dx), dA, dB, accumulate);
  } else {
    backward_impl<float>(ctx, ptr<float>(x), ptr<float>(W), ptr<float>(A), ptr<float>(B), scale, use_adapter,
                         ptr<float>(dy), ptr<float>(u), static_cast<int>(N), static_cast<int>(K),
                         static_cast<int>(M), static_cast<int>(r), mut<float>(dx), dA, dB, accumulate);
  }
}

void gemm(const frl_ctx* ctx, frl_dtype dtype, int64_t M, int64_t N, int64_t K, GemmOperand a, GemmOperand b,
          void* c, int64_t ldc, bool accumulate) {
  const int64_t lim = (int64_t{1} << 31) - 1;
  FRL_REQUIRE(M <= lim && N <= lim && K <= lim, FRL_ERR_SHAPE, "gemm: every dimension must be below 2^31 on CUDA");
  if (M == 0 || N == 0) return;
  GemmArgs p = one_segment(static_cast<int>(M), static_cast<int>(N), a.p, a.ld, b.p, b.ld, static_cast<int>(K), c, ldc);
  p.accumulate = accumulate ? 1 : 0;
  auto run = [&](auto zero) {
    using T = decltype(zero);
    if (!a.col && b.col)
      run_gemm<T, kRow, kCol, T>(ctx, p);
    else if (!a.col && !b.col)
      run_gemm<T, kRow, kRow, T>(ctx, p);
    else if (a.col && !b.col)
      run_gemm<T, kCol, kRow, T>(ctx, p);
    else
      throw Error(FRL_ERR_UNAVAILABLE, "gemm: the layout (A col, B col) has no kernel instantiated");
  };
  if (dtype == FRL_BF16)
    run(bf16{});
  else
    run(float{});
}

}  // namespace cuda
}  // namespace frl
