/* FactRL C API: generalised advantage estimation (GAE) over variable-length masked sequences, and
 * masked whitening (DESIGN.md §3).
 *
 * Layout: B sequences padded to length T, every tensor [B, T] row-major. mask is I32 and holds only
 * 0 and 1; the valid tokens of row b are a PREFIX of length L_b (ones, then zeros). A row whose
 * mask is not of that form (a 1 after a 0, or a value other than 0/1) is rejected by frl_gae with
 * FRL_ERR_ARGUMENT naming 'mask' and the row. An all-zero row (L_b = 0) is allowed.
 */
#ifndef FACTRL_GAE_H
#define FACTRL_GAE_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

/* GAE. For valid t < L_b (V_{L_b} = 0 and A_{L_b} = 0: nothing follows the last valid token):
 *     delta_t = r_t + gamma * V_{t+1} - V_t
 *     A_t     = delta_t + gamma * lambda * A_{t+1}
 *     R_t     = A_t + V_t
 * Padded positions (t >= L_b) get A = R = 0; r and V at padded positions are never read for the
 * result (any finite or non-finite value there is ignored).
 *
 * rewards, values: [B, T], F32 (the CUDA backend also accepts BF16; all four float tensors must then
 *   share the dtype; the math runs in fp32). mask: [B, T] I32.
 * advantages, returns: [B, T], overwritten entirely (contents unspecified when the call fails). They must be two different tensors and must not
 *   be rewards or values (no in-place form).
 * gamma, lambda: finite, in [0, 1].
 * CPU: a reverse loop per sequence (double accumulator), OpenMP across sequences.
 * CUDA: an associative reverse scan along time, one block per sequence; no host synchronisation.
 *   A mask row that is not a prefix mask is flagged on the device and reported at the next sync
 *   point (frl_ctx_synchronize or a host read): that call fails with FRL_ERR_ARGUMENT
 *   "frl_gae: argument 'mask': row b is not a prefix mask ..." (the CPU fails this call instead). */
frl_status frl_gae(frl_ctx* ctx, const frl_tensor* rewards, const frl_tensor* values, const frl_tensor* mask,
                   float gamma, float lambda, frl_tensor* advantages, frl_tensor* returns);

/* Masked whitening over ALL valid positions of x (any shape; mask the same shape, I32, nonzero = valid;
 * here the mask need not be a prefix). With n valid values:
 *     mean = sum(x) / n
 *     var  = sum((x - mean)^2) / (n - 1)     (unbiased, Bessel-corrected, as torch.var / TRL);
 *                                             var := 0 when n <= 1
 *     out  = (x - mean) / sqrt(var + eps) + (shift_mean ? 0 : mean)   at valid positions
 *     out  = 0                                                         at padded positions
 * shift_mean = 0 keeps the mean (TRL's masked_whiten(shift_mean=False)): only the scale changes.
 * Edge cases, never NaN/Inf from the statistics: n = 0 -> out is all zeros, mean = std = 0;
 * n = 1 -> var = 0, so out = 0 (shift_mean) or the token itself (no shift). If var + eps == 0
 * (eps = 0 and all valid values equal) the scale is taken as 0, so out = 0 or mean.
 * Statistics accumulate in double. out may alias x (same tensor). eps: finite, >= 0 (typ. 1e-8).
 * x, out: F32 (CUDA: F32 or BF16, same dtype). out_mean / out_std (may be NULL): the mean and
 * sqrt(var) (without eps) of x over the valid positions; asking for them synchronises on CUDA. */
frl_status frl_masked_whiten(frl_ctx* ctx, const frl_tensor* x, const frl_tensor* mask, int shift_mean, float eps,
                             frl_tensor* out, float* out_mean, float* out_std);

#ifdef __cplusplus
}
#endif
#endif
