// Elementwise recurrences on the CPU, forward and backward:
//
// - h_t = phi(a_t * h_{t-1} + b_t): torch.ops.recurra_scan.elementwise_recurrence_forward
//   (forward_: y written into b's memory) and elementwise_recurrence_backward;
// - the minimal RNNs (MinGRU, MinLSTM) with their gates computed in the loop from the input
//   projection: minimal_recurrence_forward / _backward.
//
// The Python side (recurra/cells/scan.py) wraps them in torch.autograd.Functions and documents the
// maths.
//
// Layout: b and y are (B, T, H), contiguous; a is (H,) (shared by every step) or (B, T, H);
// h0, h_last and grad_h0 are (B, H); lengths is (B,) int64 with 1 <= lengths[i] <= T.
// Work items are (batch row, block of units); each walks over time with a contiguous inner
// loop over its units, so items never write the same memory and the results do not depend on
// the number of threads.

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include "fast_math.h"
#include "large_buffers.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

constexpr int64_t kBlock = 256;  // units per work item (and the size of the on-stack state)

enum Activation : int64_t { kLinear = 0, kTanh = 1, kRelu = 2 };

using namespace recurra_fast_math;

template <typename scalar_t, int64_t act>
inline scalar_t phi(scalar_t v) {
  if constexpr (act == kTanh) {
    return tanh_approx(v);
  } else if constexpr (act == kRelu) {
    return v > scalar_t(0) ? v : scalar_t(0);
  } else {
    return v;
  }
}

// phi'(pre-activation), written with the output h = phi(pre-activation).
template <typename scalar_t, int64_t act>
inline scalar_t dphi_from_output(scalar_t h) {
  if constexpr (act == kTanh) {
    return scalar_t(1) - h * h;
  } else if constexpr (act == kRelu) {
    return static_cast<scalar_t>(h > scalar_t(0));  // no branch: the loop stays vectorised
  } else {
    return scalar_t(1);
  }
}

// Large buffers (large_buffers.h): outputs and gradients of 4 MiB and more are kept for the next call of
// the same size and faulted in as huge pages where new. Touching a fresh buffer of 4 KiB pages costs one
// page fault per page, which for the sizes of a training batch (tens of MB) takes longer than the whole
// recurrence loop, and faults taken by several threads at once contend for the process's memory map
// (measured: the backward loop 6x slower on 2 threads). The contents are undefined, as at::empty's: every
// caller writes every element.
at::Tensor empty_large(at::IntArrayRef sizes, const at::TensorOptions& options) {
  return recurra_buffers::empty_large(sizes, options, size_t(4) << 20);
}

int64_t release_buffers() { return recurra_buffers::buffer_cache().release(); }

struct Sizes {
  int64_t B, T, H, blocks;
};

Sizes check_inputs(const at::Tensor& b, const at::Tensor& a, const at::Tensor& h0, const at::Tensor& lengths) {
  TORCH_CHECK(b.dim() == 3 && b.is_contiguous(), "b: expected a contiguous (B, T, H) tensor");
  const int64_t B = b.size(0), T = b.size(1), H = b.size(2);
  TORCH_CHECK(a.is_contiguous() && a.scalar_type() == b.scalar_type(), "a: expected a contiguous tensor of b's dtype");
  TORCH_CHECK((a.dim() == 1 && a.size(0) == H) || (a.dim() == 3 && a.sizes() == b.sizes()), "a: expected shape (H,) or (B, T, H)");
  TORCH_CHECK(h0.dim() == 2 && h0.size(0) == B && h0.size(1) == H && h0.is_contiguous() && h0.scalar_type() == b.scalar_type(),
              "h0: expected a contiguous (B, H) tensor of b's dtype");
  TORCH_CHECK(lengths.dim() == 1 && lengths.size(0) == B && lengths.scalar_type() == at::kLong && lengths.is_contiguous(),
              "lengths: expected a contiguous (B,) int64 tensor");
  TORCH_CHECK(b.device().is_cpu() && a.device().is_cpu() && h0.device().is_cpu() && lengths.device().is_cpu(),
              "the compiled elementwise recurrence runs on CPU tensors only");
  const int64_t* len = lengths.data_ptr<int64_t>();
  for (int64_t i = 0; i < B; ++i) {
    TORCH_CHECK(len[i] >= 1 && len[i] <= T, "lengths: expected values in [1, T]");
  }
  return {B, T, H, (H + kBlock - 1) / kBlock};
}

// Enough work items per thread chunk to amortise starting the threads on tiny inputs.
int64_t grain(const Sizes& s) {
  const int64_t per_item = std::max<int64_t>(1, s.T * std::min(s.H, kBlock));
  return std::max<int64_t>(1, 16384 / per_item);
}

// One time step for n units: h = y_t = phi(a_t * h + b_t). With b_t == y_t (y written into b's memory)
// each element is read before it is written, at the same index.
template <typename scalar_t, int64_t act>
inline void forward_step(const scalar_t* __restrict__ a_t, const scalar_t* __restrict__ b_t, scalar_t* __restrict__ y_t,
                         scalar_t* __restrict__ h, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t v = phi<scalar_t, act>(a_t[j] * h[j] + b_t[j]);
    h[j] = v;
    y_t[j] = v;
  }
}

template <typename scalar_t, int64_t act>
inline void forward_step_inplace(const scalar_t* __restrict__ a_t, scalar_t* __restrict__ y_t, scalar_t* __restrict__ h,
                                 int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const scalar_t v = phi<scalar_t, act>(a_t[j] * h[j] + y_t[j]);
    h[j] = v;
    y_t[j] = v;
  }
}

template <typename scalar_t, int64_t act, bool per_step_a>
void forward_impl(const Sizes& s, const scalar_t* b, const scalar_t* a, const scalar_t* h0, const int64_t* len,
                  scalar_t* y, scalar_t* h_last) {
  const int64_t T = s.T, H = s.H;
  const bool inplace = b == y;
  at::parallel_for(0, s.B * s.blocks, grain(s), [&](int64_t begin, int64_t end) {
    scalar_t h[kBlock];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / s.blocks, j0 = (item % s.blocks) * kBlock;
      const int64_t n = std::min(kBlock, H - j0);
      const int64_t L = len[i];
      std::memcpy(h, h0 + i * H + j0, n * sizeof(scalar_t));
      for (int64_t t = 0; t < L; ++t) {
        const int64_t off = (i * T + t) * H + j0;
        const scalar_t* a_t = per_step_a ? a + off : a + j0;
        if (inplace) {
          forward_step_inplace<scalar_t, act>(a_t, y + off, h, n);
        } else {
          forward_step<scalar_t, act>(a_t, b + off, y + off, h, n);
        }
      }
      for (int64_t t = L; t < T; ++t) {
        std::memset(y + (i * T + t) * H + j0, 0, n * sizeof(scalar_t));
      }
      std::memcpy(h_last + i * H + j0, h, n * sizeof(scalar_t));
    }
  });
}

// One reverse step for n units: d = (g_t + carry) * phi'(h_t); grad_b_t = d; grad_a_t = d * h_{t-1}
// (stored per step, or added into a per-row sum for a shared a); carry = d * a_t.
template <typename scalar_t, int64_t act, bool per_step_a, bool has_gy, bool need_ga>
inline void backward_step(const scalar_t* __restrict__ g_t, const scalar_t* __restrict__ y_t,
                          const scalar_t* __restrict__ h_prev, const scalar_t* __restrict__ a_t,
                          scalar_t* __restrict__ gb_t, scalar_t* __restrict__ ga_t, scalar_t* __restrict__ carry, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    scalar_t g = carry[j];
    if constexpr (has_gy) g += g_t[j];
    const scalar_t d = g * dphi_from_output<scalar_t, act>(y_t[j]);
    gb_t[j] = d;
    if constexpr (need_ga && per_step_a) ga_t[j] = d * h_prev[j];
    if constexpr (need_ga && !per_step_a) ga_t[j] += d * h_prev[j];
    carry[j] = d * a_t[j];
  }
}

// The reverse-time loop of the module docstring (scan.py), per (batch row, block of units):
// the carry starts as the gradient of h_last; steps past the length get no gradient; grad_h0 is
// the final carry. For a shared a (H,), grad_a is summed per batch row into ga (B, H), and the
// caller sums the rows. gb is always written (it is delta); ga only when asked for.
template <typename scalar_t, int64_t act, bool per_step_a, bool has_gy, bool need_ga>
void backward_impl(const Sizes& s, const scalar_t* gy, const scalar_t* gh_last, const scalar_t* y, const scalar_t* a,
                   const scalar_t* h0, const int64_t* len, scalar_t* gb, scalar_t* ga, scalar_t* gh0) {
  const int64_t T = s.T, H = s.H;
  at::parallel_for(0, s.B * s.blocks, grain(s), [&](int64_t begin, int64_t end) {
    scalar_t carry[kBlock];
    scalar_t ga_acc[kBlock];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / s.blocks, j0 = (item % s.blocks) * kBlock;
      const int64_t n = std::min(kBlock, H - j0);
      const int64_t L = len[i];
      if (gh_last != nullptr) {
        std::memcpy(carry, gh_last + i * H + j0, n * sizeof(scalar_t));
      } else {
        std::fill(carry, carry + n, scalar_t(0));
      }
      std::fill(ga_acc, ga_acc + n, scalar_t(0));
      for (int64_t t = T - 1; t >= L; --t) {  // steps past the length: no gradient flows
        const int64_t off = (i * T + t) * H + j0;
        std::memset(gb + off, 0, n * sizeof(scalar_t));
        if (need_ga && per_step_a) std::memset(ga + off, 0, n * sizeof(scalar_t));
      }
      for (int64_t t = L - 1; t >= 0; --t) {
        const int64_t off = (i * T + t) * H + j0;
        backward_step<scalar_t, act, per_step_a, has_gy, need_ga>(
            has_gy ? gy + off : nullptr, y + off, t > 0 ? y + off - H : h0 + i * H + j0, per_step_a ? a + off : a + j0,
            gb + off, per_step_a ? (need_ga ? ga + off : nullptr) : ga_acc, carry, n);
      }
      std::memcpy(gh0 + i * H + j0, carry, n * sizeof(scalar_t));
      if (need_ga && !per_step_a) std::memcpy(ga + i * H + j0, ga_acc, n * sizeof(scalar_t));
    }
  });
}

template <typename F>
void dispatch_bool(bool value, F&& f) {
  if (value) {
    f(std::true_type{});
  } else {
    f(std::false_type{});
  }
}

template <typename F>
void dispatch_activation(int64_t activation, F&& f) {
  switch (activation) {
    case kLinear:
      f(std::integral_constant<int64_t, kLinear>{});
      break;
    case kTanh:
      f(std::integral_constant<int64_t, kTanh>{});
      break;
    case kRelu:
      f(std::integral_constant<int64_t, kRelu>{});
      break;
    default:
      TORCH_CHECK(false, "activation: expected 0 (linear), 1 (tanh) or 2 (relu), got ", activation);
  }
}

// y is a new tensor, or b itself when overwrite_b (b's memory is reused: no fresh (B, T, H) buffer).
std::tuple<at::Tensor, at::Tensor> recurrence_forward(const at::Tensor& b, const at::Tensor& a, const at::Tensor& h0,
                                                      const at::Tensor& lengths, int64_t activation, bool overwrite_b) {
  const Sizes s = check_inputs(b, a, h0, lengths);
  at::Tensor y = overwrite_b ? b : empty_large(b.sizes(), b.options());
  at::Tensor h_last = at::empty(h0.sizes(), h0.options());
  const bool per_step_a = a.dim() == 3;
  AT_DISPATCH_FLOATING_TYPES(b.scalar_type(), "elementwise_recurrence_forward", [&] {
    dispatch_activation(activation, [&](auto act) {
      dispatch_bool(per_step_a, [&](auto per_step) {
        forward_impl<scalar_t, decltype(act)::value, decltype(per_step)::value>(
            s, b.data_ptr<scalar_t>(), a.data_ptr<scalar_t>(), h0.data_ptr<scalar_t>(), lengths.data_ptr<int64_t>(),
            y.data_ptr<scalar_t>(), h_last.data_ptr<scalar_t>());
      });
    });
  });
  return {y, h_last};
}

std::tuple<at::Tensor, at::Tensor> elementwise_recurrence_forward(const at::Tensor& b, const at::Tensor& a,
                                                                  const at::Tensor& h0, const at::Tensor& lengths,
                                                                  int64_t activation) {
  return recurrence_forward(b, a, h0, lengths, activation, false);
}

std::tuple<at::Tensor, at::Tensor> elementwise_recurrence_forward_(at::Tensor& b, const at::Tensor& a, const at::Tensor& h0,
                                                                   const at::Tensor& lengths, int64_t activation) {
  auto [y, h_last] = recurrence_forward(b, a, h0, lengths, activation, true);
  return {b, h_last};
}

// Returns (grad_b, grad_a, grad_h0); grad_b / grad_a are undefined when not asked for. For a shared
// a (H,), grad_a is (B, H): one partial sum per batch row (the caller sums over B).
std::tuple<at::Tensor, at::Tensor, at::Tensor> elementwise_recurrence_backward(
    const std::optional<at::Tensor>& grad_y, const std::optional<at::Tensor>& grad_h_last, const at::Tensor& y,
    const at::Tensor& a, const at::Tensor& h0, const at::Tensor& lengths, int64_t activation, bool need_grad_b,
    bool need_grad_a) {
  const Sizes s = check_inputs(y, a, h0, lengths);
  const bool has_gy = grad_y.has_value() && grad_y->defined();
  const bool has_gh = grad_h_last.has_value() && grad_h_last->defined();
  if (has_gy) {
    TORCH_CHECK(grad_y->sizes() == y.sizes() && grad_y->is_contiguous() && grad_y->scalar_type() == y.scalar_type(),
                "grad_y: expected a contiguous tensor shaped like y");
  }
  if (has_gh) {
    TORCH_CHECK(grad_h_last->sizes() == h0.sizes() && grad_h_last->is_contiguous() &&
                    grad_h_last->scalar_type() == y.scalar_type(),
                "grad_h_last: expected a contiguous tensor shaped like h0");
  }
  const bool per_step_a = a.dim() == 3;
  at::Tensor gb = empty_large(y.sizes(), y.options());  // delta: computed whether or not it is returned
  at::Tensor ga = !need_grad_a ? at::Tensor() : per_step_a ? empty_large(y.sizes(), y.options()) : at::empty(h0.sizes(), y.options());
  at::Tensor gh0 = at::empty(h0.sizes(), h0.options());
  AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "elementwise_recurrence_backward", [&] {
    dispatch_activation(activation, [&](auto act) {
      dispatch_bool(per_step_a, [&](auto per_step) {
        dispatch_bool(has_gy, [&](auto with_gy) {
          dispatch_bool(need_grad_a, [&](auto with_ga) {
            backward_impl<scalar_t, decltype(act)::value, decltype(per_step)::value, decltype(with_gy)::value,
                          decltype(with_ga)::value>(
                s, has_gy ? grad_y->data_ptr<scalar_t>() : nullptr, has_gh ? grad_h_last->data_ptr<scalar_t>() : nullptr,
                y.data_ptr<scalar_t>(), a.data_ptr<scalar_t>(), h0.data_ptr<scalar_t>(), lengths.data_ptr<int64_t>(),
                gb.data_ptr<scalar_t>(), need_grad_a ? ga.data_ptr<scalar_t>() : nullptr, gh0.data_ptr<scalar_t>());
          });
        });
      });
    });
  });
  if (!need_grad_b) gb = at::Tensor();
  return {gb, ga, gh0};
}

// -- the minimal RNNs (Feng et al., 2024) with their gates in the loop ---------------------------------
//
// k is the input projection of all steps, (B, T, nb * H), blocks side by side in the last axis:
// MinGRU [k_z | k_h] (nb = 2), MinLSTM [k_f | k_i | k_h] (nb = 3). With c the candidate activation:
//   MinGRU:  z = sigmoid(k_z), h~ = c(k_h), h = (1 - z) * h_prev + z * h~
//   MinLSTM: f' = f / (f + i), i' = i / (f + i) with f = sigmoid(k_f), i = sigmoid(k_i),
//            h~ = c(k_h), h = f' * h_prev + i' * h~
// f' and i' are computed without forming f + i (which underflows when both gates are tiny): with
// u = -k_f, v = -k_i and M = max(u, v, 0), f' = (e^-M + e^(v-M)) / (2 e^-M + e^(u-M) + e^(v-M)) and
// i' = (e^-M + e^(u-M)) / (same). The backward recomputes the gates from k instead of storing them.

enum MinimalKind : int64_t { kMinGRU = 0, kMinLSTM = 1 };
enum Candidate : int64_t { kCandLinear = 0, kCandTanh = 1, kCandRelu = 2, kCandG = 3 };

// The candidate c(v) and its derivative c'(v).
template <typename scalar_t, int64_t cand>
inline scalar_t candidate(scalar_t v, scalar_t* derivative) {
  if constexpr (cand == kCandG) {  // v + 1/2 for v >= 0, sigmoid(v) below (both computed: no branch)
    const scalar_t s = sigmoid(v);
    const bool positive = v >= scalar_t(0);
    *derivative = positive ? scalar_t(1) : s * (scalar_t(1) - s);
    return positive ? v + scalar_t(0.5) : s;
  } else if constexpr (cand == kCandTanh) {
    const scalar_t t = tanh_approx(v);
    *derivative = scalar_t(1) - t * t;
    return t;
  } else if constexpr (cand == kCandRelu) {
    *derivative = static_cast<scalar_t>(v > scalar_t(0));
    return v > scalar_t(0) ? v : scalar_t(0);
  } else {
    *derivative = scalar_t(1);
    return v;
  }
}

// The gates of one unit: h = keep * h_prev + put * h~ (keep + put = 1, each computed on its own so
// that a tiny one keeps its digits). For the backward also d(keep)/dk of each gate block
// (MinGRU: dkeep_dk0 for k_z; MinLSTM: for k_f and k_i); d(put) = -d(keep).
template <typename scalar_t, int64_t kind>
inline void gates(const scalar_t* k, int64_t H, scalar_t* keep, scalar_t* put, scalar_t* dkeep_dk0, scalar_t* dkeep_dk1) {
  if constexpr (kind == kMinGRU) {
    const scalar_t z = sigmoid(k[0]);
    *keep = scalar_t(1) - z;
    *put = z;
    *dkeep_dk0 = -z * (scalar_t(1) - z);
    *dkeep_dk1 = scalar_t(0);
  } else {
    const scalar_t u = -k[0], v = -k[H];
    const scalar_t M = std::max(std::max(u, v), scalar_t(0));
    const scalar_t p = exp_approx(-M), eu = exp_approx(u - M), ev = exp_approx(v - M);
    const scalar_t den = scalar_t(2) * p + eu + ev;
    const scalar_t f = (p + ev) / den, i = (p + eu) / den;  // f', i'
    // f' = sigmoid(d), d = log f - log i; dd/dk_f = sigmoid(-k_f), dd/dk_i = -sigmoid(-k_i)
    const scalar_t dd = f * i;
    *keep = f;
    *put = i;
    *dkeep_dk0 = dd * (eu / (p + eu));
    *dkeep_dk1 = -dd * (ev / (p + ev));
  }
}

template <typename scalar_t, int64_t kind, int64_t cand>
void minimal_forward_impl(const Sizes& s, const scalar_t* k, const scalar_t* h0, const int64_t* len, scalar_t* y,
                          scalar_t* h_last) {
  const int64_t T = s.T, H = s.H, nb = kind == kMinGRU ? 2 : 3;
  at::parallel_for(0, s.B * s.blocks, grain(s), [&](int64_t begin, int64_t end) {
    scalar_t h[kBlock];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / s.blocks, j0 = (item % s.blocks) * kBlock;
      const int64_t n = std::min(kBlock, H - j0);
      const int64_t L = len[i];
      std::memcpy(h, h0 + i * H + j0, n * sizeof(scalar_t));
      for (int64_t t = 0; t < L; ++t) {
        const scalar_t* k_t = k + (i * T + t) * nb * H + j0;
        scalar_t* y_t = y + (i * T + t) * H + j0;
        for (int64_t j = 0; j < n; ++j) {
          scalar_t keep, put, unused0, unused1, dc;
          gates<scalar_t, kind>(k_t + j, H, &keep, &put, &unused0, &unused1);
          const scalar_t h_tilde = candidate<scalar_t, cand>(k_t[(nb - 1) * H + j], &dc);
          const scalar_t v = keep * h[j] + put * h_tilde;
          h[j] = v;
          y_t[j] = v;
        }
      }
      for (int64_t t = L; t < T; ++t) {
        std::memset(y + (i * T + t) * H + j0, 0, n * sizeof(scalar_t));
      }
      std::memcpy(h_last + i * H + j0, h, n * sizeof(scalar_t));
    }
  });
}

// One reverse step for n units: dh = g_t + carry; h = keep * h_prev + put * h~ with put = 1 - keep
// gives d keep = dh * (h_prev - h~), d h~ = dh * put; carry = dh * keep.
template <typename scalar_t, int64_t kind, int64_t cand, bool has_gy>
inline void minimal_backward_unit(const scalar_t* k, scalar_t g, scalar_t h_prev, int64_t H, scalar_t* carry,
                                  scalar_t* gk0, scalar_t* gk1, scalar_t* gkh) {
  scalar_t keep, put, dkeep0, dkeep1, dc;
  gates<scalar_t, kind>(k, H, &keep, &put, &dkeep0, &dkeep1);
  const scalar_t h_tilde = candidate<scalar_t, cand>(k[(kind == kMinGRU ? 1 : 2) * H], &dc);
  scalar_t dh = *carry;
  if constexpr (has_gy) dh += g;
  const scalar_t dkeep = dh * (h_prev - h_tilde);
  *gk0 = dkeep * dkeep0;
  *gk1 = dkeep * dkeep1;
  *gkh = dh * put * dc;
  *carry = dh * keep;
}

template <typename scalar_t, int64_t kind, int64_t cand, bool has_gy>
inline void minimal_backward_step(const scalar_t* __restrict__ k_t, const scalar_t* __restrict__ g_t,
                                  const scalar_t* __restrict__ h_prev, scalar_t* __restrict__ gk_t,
                                  scalar_t* __restrict__ carry, int64_t H, int64_t n) {
  constexpr int64_t nb = kind == kMinGRU ? 2 : 3;
  for (int64_t j = 0; j < n; ++j) {
    scalar_t g0, g1, gh;
    minimal_backward_unit<scalar_t, kind, cand, has_gy>(k_t + j, has_gy ? g_t[j] : scalar_t(0), h_prev[j], H, carry + j,
                                                        &g0, &g1, &gh);
    gk_t[j] = g0;
    if constexpr (kind == kMinLSTM) gk_t[H + j] = g1;
    gk_t[(nb - 1) * H + j] = gh;
  }
}

template <typename scalar_t, int64_t kind, int64_t cand>
void minimal_backward_impl(const Sizes& s, const scalar_t* gy, const scalar_t* gh_last, const scalar_t* y,
                           const scalar_t* k, const scalar_t* h0, const int64_t* len, scalar_t* gk, scalar_t* gh0) {
  const int64_t T = s.T, H = s.H, nb = kind == kMinGRU ? 2 : 3;
  at::parallel_for(0, s.B * s.blocks, grain(s), [&](int64_t begin, int64_t end) {
    scalar_t carry[kBlock];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / s.blocks, j0 = (item % s.blocks) * kBlock;
      const int64_t n = std::min(kBlock, H - j0);
      const int64_t L = len[i];
      if (gh_last != nullptr) {
        std::memcpy(carry, gh_last + i * H + j0, n * sizeof(scalar_t));
      } else {
        std::fill(carry, carry + n, scalar_t(0));
      }
      for (int64_t t = T - 1; t >= L; --t) {
        for (int64_t b = 0; b < nb; ++b) {
          std::memset(gk + (i * T + t) * nb * H + b * H + j0, 0, n * sizeof(scalar_t));
        }
      }
      for (int64_t t = L - 1; t >= 0; --t) {
        const int64_t off = (i * T + t) * H + j0;
        const int64_t koff = (i * T + t) * nb * H + j0;
        const scalar_t* h_prev = t > 0 ? y + off - H : h0 + i * H + j0;
        if (gy != nullptr) {
          minimal_backward_step<scalar_t, kind, cand, true>(k + koff, gy + off, h_prev, gk + koff, carry, H, n);
        } else {
          minimal_backward_step<scalar_t, kind, cand, false>(k + koff, nullptr, h_prev, gk + koff, carry, H, n);
        }
      }
      std::memcpy(gh0 + i * H + j0, carry, n * sizeof(scalar_t));
    }
  });
}

template <typename F>
void dispatch_minimal(int64_t kind, int64_t cand, F&& f) {
  TORCH_CHECK(kind == kMinGRU || kind == kMinLSTM, "kind: expected 0 (MinGRU) or 1 (MinLSTM), got ", kind);
  TORCH_CHECK(cand >= kCandLinear && cand <= kCandG, "candidate: expected 0 (linear), 1 (tanh), 2 (relu) or 3 (g), got ", cand);
  auto with_kind = [&](auto kind_c) {
    switch (cand) {
      case kCandLinear:
        f(kind_c, std::integral_constant<int64_t, kCandLinear>{});
        break;
      case kCandTanh:
        f(kind_c, std::integral_constant<int64_t, kCandTanh>{});
        break;
      case kCandRelu:
        f(kind_c, std::integral_constant<int64_t, kCandRelu>{});
        break;
      default:
        f(kind_c, std::integral_constant<int64_t, kCandG>{});
    }
  };
  if (kind == kMinGRU) {
    with_kind(std::integral_constant<int64_t, kMinGRU>{});
  } else {
    with_kind(std::integral_constant<int64_t, kMinLSTM>{});
  }
}

Sizes check_minimal(const at::Tensor& k, const at::Tensor& h0, const at::Tensor& lengths, int64_t kind) {
  TORCH_CHECK(k.dim() == 3 && k.is_contiguous(), "k: expected a contiguous (B, T, nb * H) tensor");
  const int64_t nb = kind == kMinGRU ? 2 : 3;
  TORCH_CHECK(h0.dim() == 2 && h0.size(0) == k.size(0) && h0.size(1) * nb == k.size(2) && h0.is_contiguous() &&
                  h0.scalar_type() == k.scalar_type(),
              "h0: expected a contiguous (B, H) tensor of k's dtype, with k of shape (B, T, nb * H)");
  const int64_t B = k.size(0), T = k.size(1), H = h0.size(1);
  TORCH_CHECK(k.device().is_cpu() && h0.device().is_cpu() && lengths.device().is_cpu(),
              "the compiled minimal recurrence runs on CPU tensors only");
  TORCH_CHECK(lengths.dim() == 1 && lengths.size(0) == B && lengths.scalar_type() == at::kLong && lengths.is_contiguous(),
              "lengths: expected a contiguous (B,) int64 tensor");
  const int64_t* len = lengths.data_ptr<int64_t>();
  for (int64_t i = 0; i < B; ++i) {
    TORCH_CHECK(len[i] >= 1 && len[i] <= T, "lengths: expected values in [1, T]");
  }
  return {B, T, H, (H + kBlock - 1) / kBlock};
}

std::tuple<at::Tensor, at::Tensor> minimal_recurrence_forward(const at::Tensor& k, const at::Tensor& h0,
                                                              const at::Tensor& lengths, int64_t kind, int64_t cand) {
  const Sizes s = check_minimal(k, h0, lengths, kind);
  at::Tensor y = empty_large({s.B, s.T, s.H}, k.options());
  at::Tensor h_last = at::empty(h0.sizes(), h0.options());
  AT_DISPATCH_FLOATING_TYPES(k.scalar_type(), "minimal_recurrence_forward", [&] {
    dispatch_minimal(kind, cand, [&](auto kind_c, auto cand_c) {
      minimal_forward_impl<scalar_t, decltype(kind_c)::value, decltype(cand_c)::value>(
          s, k.data_ptr<scalar_t>(), h0.data_ptr<scalar_t>(), lengths.data_ptr<int64_t>(), y.data_ptr<scalar_t>(),
          h_last.data_ptr<scalar_t>());
    });
  });
  return {y, h_last};
}

// Returns (grad_k, grad_h0).
std::tuple<at::Tensor, at::Tensor> minimal_recurrence_backward(const std::optional<at::Tensor>& grad_y,
                                                               const std::optional<at::Tensor>& grad_h_last,
                                                               const at::Tensor& y, const at::Tensor& k,
                                                               const at::Tensor& h0, const at::Tensor& lengths,
                                                               int64_t kind, int64_t cand) {
  const Sizes s = check_minimal(k, h0, lengths, kind);
  const bool has_gy = grad_y.has_value() && grad_y->defined();
  const bool has_gh = grad_h_last.has_value() && grad_h_last->defined();
  TORCH_CHECK(y.is_contiguous() && y.dim() == 3 && y.size(2) == s.H && y.size(1) == s.T, "y: expected the forward's output");
  if (has_gy) {
    TORCH_CHECK(grad_y->sizes() == y.sizes() && grad_y->is_contiguous() && grad_y->scalar_type() == y.scalar_type(),
                "grad_y: expected a contiguous tensor shaped like y");
  }
  if (has_gh) {
    TORCH_CHECK(grad_h_last->sizes() == h0.sizes() && grad_h_last->is_contiguous(),
                "grad_h_last: expected a contiguous tensor shaped like h0");
  }
  at::Tensor gk = empty_large(k.sizes(), k.options());
  at::Tensor gh0 = at::empty(h0.sizes(), h0.options());
  AT_DISPATCH_FLOATING_TYPES(k.scalar_type(), "minimal_recurrence_backward", [&] {
    dispatch_minimal(kind, cand, [&](auto kind_c, auto cand_c) {
      minimal_backward_impl<scalar_t, decltype(kind_c)::value, decltype(cand_c)::value>(
          s, has_gy ? grad_y->data_ptr<scalar_t>() : nullptr, has_gh ? grad_h_last->data_ptr<scalar_t>() : nullptr,
          y.data_ptr<scalar_t>(), k.data_ptr<scalar_t>(), h0.data_ptr<scalar_t>(), lengths.data_ptr<int64_t>(),
          gk.data_ptr<scalar_t>(), gh0.data_ptr<scalar_t>());
    });
  });
  return {gk, gh0};
}

}  // namespace

TORCH_LIBRARY(recurra_scan, m) {
  m.def("elementwise_recurrence_forward(Tensor b, Tensor a, Tensor h0, Tensor lengths, int activation) -> (Tensor, Tensor)");
  m.def(
      "elementwise_recurrence_forward_(Tensor(a!) b, Tensor a, Tensor h0, Tensor lengths, int activation) -> "
      "(Tensor(a!), Tensor)");
  m.def(
      "elementwise_recurrence_backward(Tensor? grad_y, Tensor? grad_h_last, Tensor y, Tensor a, Tensor h0, Tensor lengths, "
      "int activation, bool need_grad_b, bool need_grad_a) -> (Tensor, Tensor, Tensor)");
  m.def("minimal_recurrence_forward(Tensor k, Tensor h0, Tensor lengths, int kind, int candidate) -> (Tensor, Tensor)");
  m.def(
      "minimal_recurrence_backward(Tensor? grad_y, Tensor? grad_h_last, Tensor y, Tensor k, Tensor h0, Tensor lengths, "
      "int kind, int candidate) -> (Tensor, Tensor)");
  m.def("release_buffers() -> int", &release_buffers);
}

TORCH_LIBRARY_IMPL(recurra_scan, CPU, m) {
  m.impl("elementwise_recurrence_forward", &elementwise_recurrence_forward);
  m.impl("elementwise_recurrence_forward_", &elementwise_recurrence_forward_);
  m.impl("elementwise_recurrence_backward", &elementwise_recurrence_backward);
  m.impl("minimal_recurrence_forward", &minimal_recurrence_forward);
  m.impl("minimal_recurrence_backward", &minimal_recurrence_backward);
}
