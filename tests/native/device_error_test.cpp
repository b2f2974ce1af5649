// The device error flag's encoding and messages (kernels/device_error.h), on the CPU: a record as
// kernels leave it (inv_key = max over reports of ~key) must decode to the smallest row and its
// value, and each op's message must name the function, the argument, the row and the value.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "device_error.h"

namespace {

int failures = 0;

void expect_contains(const std::string& msg, const std::string& part) {
  if (msg.find(part) == std::string::npos) {
    std::printf("FAIL: '%s' not in: %s\n", part.c_str(), msg.c_str());
    failures++;
  }
}

// What report_device_error leaves after these reports of one op (atomicMax of ~key, any order).
frl::DeviceErrorRecord record_of(frl::DeviceOp op, const std::vector<std::pair<int64_t, int32_t>>& reports,
                                 long long bound) {
  frl::DeviceErrorRecord r{};
  r.op = op;
  for (const auto& rep : reports) r.inv_key = std::max(r.inv_key, ~frl::device_error_key(rep.first, rep.second));
  r.bound = bound;
  return r;
}

}  // namespace

int main() {
  using namespace frl;
  // Reports in any order: the smallest row wins, with its own value (negative values too).
  DeviceErrorRecord r = record_of(kOpTokenLogprobs, {{9, 70}, {3, 77}, {5, -4}, {1 << 30, 2}}, 50);
  if (device_error_row(r) != 3 || device_error_value(r) != 77) {
    std::printf("FAIL: decoded row %lld value %d, want 3, 77\n", static_cast<long long>(device_error_row(r)),
                device_error_value(r));
    failures++;
  }
  r = record_of(kOpRewardHeadForward, {{2, -2}, {7, 9}}, 8);
  if (device_error_row(r) != 2 || device_error_value(r) != -2) {
    std::printf("FAIL: negative value did not survive the key\n");
    failures++;
  }
  std::string m = describe_device_error(record_of(kOpTokenLogprobs, {{3, 77}}, 50));
  expect_contains(m, "frl_token_logprobs: argument 'actions': row 3 has token 77 outside [0, 50)");
  m = describe_device_error(record_of(kOpTokenLogprobsBackward, {{1, -1}}, 40));
  expect_contains(m, "frl_token_logprobs_backward: argument 'actions': row 1 has token -1 outside [0, 40)");
  m = describe_device_error(record_of(kOpGae, {{2, 150}, {2, 151}}, 300));
  expect_contains(m, "frl_gae: argument 'mask': row 2 is not a prefix mask");
  expect_contains(m, "position 150");
  m = describe_device_error(record_of(kOpRewardHeadForward, {{1, 3}}, 3));
  expect_contains(m, "frl_reward_head_forward: argument 'end_index': end_index[1] = 3 is outside [-1, 3)");
  m = describe_device_error(record_of(kOpRewardHeadBackward, {{0, -2}}, 4));
  expect_contains(m, "frl_reward_head_backward: argument 'end_index': end_index[0] = -2 is outside [-1, 4)");
  m = describe_device_error(record_of(kOpGatherRows, {{5, 12}, {1, 9}}, 4));
  expect_contains(m, "frl_gather_rows: argument 'idx': idx[1] = 9 is outside [0, 4)");
  m = describe_device_error(record_of(kOpScatterRows, {{0, -1}}, 4));
  expect_contains(m, "frl_scatter_rows: argument 'idx': idx[0] = -1 is outside [0, 4)");
  m = describe_device_error(record_of(kOpEmbeddingForward, {{6, 50}, {4, -3}}, 32));
  expect_contains(m, "frl_embedding_forward: argument 'ids': ids[4] (flat index) = -3 is outside the vocabulary [0, 32)");
  m = describe_device_error(record_of(kOpEmbeddingBackward, {{0, 32}}, 32));
  expect_contains(m, "frl_embedding_backward: argument 'ids': ids[0] (flat index) = 32 is outside the vocabulary");
  m = describe_device_error(record_of(kOpRope, {{13, -1}, {17, -5}}, 5));  // S = 5: token 13 is [2][3]
  expect_contains(m, "frl_rope: argument 'positions': positions[2][3] = -1 is negative");
  if (failures) {
    std::printf("device_error_test: %d failures\n", failures);
    return 1;
  }
  std::printf("device_error_test: all passed\n");
  return 0;
}
