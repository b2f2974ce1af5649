// The device-side error flag of a CUDA context: its record, the key that orders reports, and the
// message a sync point raises. Plain C++ (no CUDA types), so the native test
// tests/native/device_error_test.cpp checks the encoding and the messages on any machine.
//
// Kernels that find bad data (an index out of range, a malformed mask) do not stop the host: they
// record the op and the offending row in the context's DeviceErrorRecord (report_device_error in
// cuda_common.cuh), clamp or skip so nothing outside a tensor is touched, and carry on. The record
// is read at the explicit sync points (frl_ctx_synchronize and every host read), which then fail
// with FRL_ERR_ARGUMENT and describe_device_error's message naming the op and the argument; the
// record is cleared when it is reported.
#pragma once

#include <cstdint>
#include <string>

#include "engine.h"

#if defined(__CUDACC__)
#define FRL_DEVERR_HD __host__ __device__ __forceinline__
#else
#define FRL_DEVERR_HD inline
#endif

namespace frl {

enum DeviceOp : unsigned {
  kOpNone = 0,
  kOpTokenLogprobs = 1,          // 'actions': token id outside [0, V)
  kOpTokenLogprobsBackward = 2,  // 'actions': token id outside [0, V)
  kOpGae = 3,                    // 'mask': row not a prefix mask (value: first bad position)
  kOpRewardHeadForward = 4,      // 'end_index': outside [-1, S)
  kOpRewardHeadBackward = 5,     // 'end_index': outside [-1, S)
  kOpGatherRows = 6,             // 'idx': row index outside [0, R)
  kOpScatterRows = 7,            // 'idx': row index outside [0, R)
  kOpEmbeddingForward = 8,       // 'ids': token id outside [0, V) (row: flat index into ids)
  kOpEmbeddingBackward = 9,      // 'ids': token id outside [0, V) (row: flat index into ids)
  kOpRope = 10,                  // 'positions': negative position (row: flat token b·S + s; bound: S)
};

// All zero = no error. The first op to flag owns the record; among its reports the smallest key
// wins (inv_key = ~key, kept by atomicMax), so the message is the same whatever the thread order.
struct DeviceErrorRecord {
  unsigned int op;
  unsigned int unused;
  unsigned long long inv_key;
  long long bound;  // the limit the value broke (V, S, T)
};

// key = row << 32 | value as uint32: ordered by row first (rows < 2^31), then by value's bits.
FRL_DEVERR_HD unsigned long long device_error_key(int64_t row, int32_t value) {
  return (static_cast<unsigned long long>(row) << 32) | static_cast<unsigned long long>(static_cast<uint32_t>(value));
}
FRL_DEVERR_HD int64_t device_error_row(const DeviceErrorRecord& r) { return static_cast<int64_t>((~r.inv_key) >> 32); }
FRL_DEVERR_HD int32_t device_error_value(const DeviceErrorRecord& r) {
  return static_cast<int32_t>(static_cast<uint32_t>((~r.inv_key) & 0xffffffffull));
}

// The message of a flagged record (op != kOpNone).
inline std::string describe_device_error(const DeviceErrorRecord& rec) {
  const long long row = static_cast<long long>(device_error_row(rec));
  const int value = device_error_value(rec);
  const long long bound = rec.bound;
  switch (rec.op) {
    case kOpTokenLogprobs:
    case kOpTokenLogprobsBackward:
      return format("%s: argument 'actions': row %lld has token %d outside [0, %lld) (flagged on the device, "
                    "reported at this sync; that call's outputs are undefined)",
                    rec.op == kOpTokenLogprobs ? "frl_token_logprobs" : "frl_token_logprobs_backward", row, value,
                    bound);
    case kOpGae:
      return format("frl_gae: argument 'mask': row %lld is not a prefix mask (ones, then zeros): first violation at "
                    "position %d (flagged on the device, reported at this sync; that call's outputs are undefined)",
                    row, value);
    case kOpRewardHeadForward:
    case kOpRewardHeadBackward:
      return format("%s: argument 'end_index': end_index[%lld] = %d is outside [-1, %lld) (flagged on the device, "
                    "reported at this sync; that row was treated as empty)",
                    rec.op == kOpRewardHeadForward ? "frl_reward_head_forward" : "frl_reward_head_backward", row,
                    value, bound);
    case kOpGatherRows:
    case kOpScatterRows:
      return format("%s: argument 'idx': idx[%lld] = %d is outside [0, %lld) (flagged on the device, reported at "
                    "this sync; that row was skipped and the call's outputs are undefined)",
                    rec.op == kOpGatherRows ? "frl_gather_rows" : "frl_scatter_rows", row, value, bound);
    case kOpEmbeddingForward:
    case kOpEmbeddingBackward:
      return format("%s: argument 'ids': ids[%lld] (flat index) = %d is outside the vocabulary [0, %lld) (flagged on "
                    "the device, reported at this sync; that row was skipped and the call's outputs are undefined)",
                    rec.op == kOpEmbeddingForward ? "frl_embedding_forward" : "frl_embedding_backward", row, value,
                    bound);
    case kOpRope:
      return format("frl_rope: argument 'positions': positions[%lld][%lld] = %d is negative (flagged on the device, "
                    "reported at this sync; that token was skipped and the call's outputs are undefined)",
                    bound > 0 ? row / bound : row, bound > 0 ? row % bound : 0LL, value);
    default:
      return format("unknown device error (op %u, row %lld, value %d)", rec.op, row, value);
  }
}

}  // namespace frl
