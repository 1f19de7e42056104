// Time-major packed rows, as torch's PackedSequence holds them, for the compiled GRU and LSTM loops: step t
// holds the first batch_sizes[t] rows (sorted by decreasing length); a dense batch is batch_sizes = [B] * T.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <vector>

namespace recurra_packed {

// The start of each step's rows: off[t] = batch_sizes[0] + ... + batch_sizes[t - 1], off[T] = N.
inline std::vector<int64_t> step_offsets(const at::Tensor& batch_sizes, int64_t B, int64_t N, const char* where) {
  TORCH_CHECK(batch_sizes.dim() == 1 && batch_sizes.size(0) >= 1 && batch_sizes.scalar_type() == at::kLong &&
                  batch_sizes.device().is_cpu(),
              where, ": expected int64 batch_sizes (T >= 1) on the CPU");
  const int64_t* bs = batch_sizes.data_ptr<int64_t>();
  const int64_t T = batch_sizes.size(0);
  TORCH_CHECK(bs[0] == B, where, ": expected batch_sizes[0] == B (every row has a first step)");
  std::vector<int64_t> off(T + 1, 0);
  for (int64_t t = 0; t < T; ++t) {
    TORCH_CHECK(bs[t] >= 1 && (t == 0 || bs[t] <= bs[t - 1]), where, ": expected non-increasing batch_sizes >= 1");
    off[t + 1] = off[t] + bs[t];
  }
  TORCH_CHECK(off[T] == N, where, ": batch_sizes do not add up to the data's rows");
  return off;
}

// h_{t-1} of the n rows of step t: h0's first rows at t = 0, then the previous step's outputs (the
// first n rows of step t - 1: rows keep their place while shorter ones drop off the end).
inline at::Tensor previous_states(const at::Tensor& y, const at::Tensor& h0, const std::vector<int64_t>& off, int64_t t,
                                  int64_t n) {
  return t == 0 ? h0.narrow(0, 0, n) : y.narrow(0, off[t - 1], n);
}

}  // namespace recurra_packed
