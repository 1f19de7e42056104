// The GRU recurrence (reset_after form, torch's gate order r, z, n) on the CPU, forward and backward.
//
// The input projection gi_t = W_ih x_t + b_ih of every step is computed beforehand in one matrix
// product (recurra/cells/gru_kernel.py, which documents the equations); the loop here does, per step,
// one matrix product gh_t = U h_{t-1} + b_hh (BLAS through at::addmm) and the gates in one pass:
//
//     r_t = σ(gi_r + gh_r)    z_t = σ(gi_z + gh_z)    n_t = tanh(gi_n + r_t ⊙ gh_n)
//     h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}
//
// torch's own CPU GRU runs the same per-step product but a dozen separate tensor operations for the
// gates, each with its own dispatch and temporary: at the widths of a recurrent layer (tens to
// hundreds of units) those dominate. The backward runs the loop in reverse, with one product
// dh_{t-1} += dgh_t U per step; the weight gradients are two products over all steps at the end.
//
// Layout: time-major rows as in torch's PackedSequence (step t holds the first batch_sizes[t] rows,
// sorted by decreasing length; a dense batch is batch_sizes = [B] * T). All contiguous, one dtype,
// float32 or float64: gi (N, 3H), h0 (B, H), u (3H, H), b_hh (3H) or an empty tensor for none.
// Forward returns y (N, H), h_last (B, H) (each row's state after its own last step) and, when saving
// for the backward, saved (N, 4H) = [r, z, n, gh_n] per row. Registered as torch.ops.recurra_gru.*.

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <vector>

#include "fast_math.h"
#include "packed_steps.h"

namespace {

using namespace recurra_fast_math;
using recurra_packed::previous_states;
using recurra_packed::step_offsets;

constexpr int64_t kGrain = 1 << 12;  // elements per thread before the gates' loop is split

// rows of the batch per work item: the gates of one row are one vectorised loop over its units
inline int64_t row_grain(int64_t H) {
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(H, 1));
}

// One batch row of one step: the gates and h_t from gi_t (g), gh_t (q) and h_{t-1} (hp); with s,
// the saved [r, z, n, gh_n]. (Outside the dtype dispatch: a pragma cannot sit in a macro argument.)
template <typename scalar_t, bool save>
void forward_row(const scalar_t* g, const scalar_t* q, const scalar_t* hp, scalar_t* h, scalar_t* s, int64_t H) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t r = sigmoid(g[j] + q[j]);
    const scalar_t z = sigmoid(g[H + j] + q[H + j]);
    const scalar_t n = tanh_approx(g[2 * H + j] + r * q[2 * H + j]);
    h[j] = (scalar_t(1) - z) * n + z * hp[j];
    if constexpr (save) {
      s[j] = r;
      s[H + j] = z;
      s[2 * H + j] = n;
      s[3 * H + j] = q[2 * H + j];
    }
  }
}

// One batch row of one step backward: dh holds dL/dh_t from step t + 1 on entry (gy adds the
// output's own gradient) and d h_{t-1} through the direct path on exit.
template <typename scalar_t, bool has_gy>
void backward_row(const scalar_t* s, const scalar_t* hp, const scalar_t* gy, scalar_t* dh, scalar_t* dgi, scalar_t* dgh,
                  int64_t H) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t r = s[j], z = s[H + j], n = s[2 * H + j], ghn = s[3 * H + j];
    scalar_t d = dh[j];
    if constexpr (has_gy) d += gy[j];
    const scalar_t dan = d * (scalar_t(1) - z) * (scalar_t(1) - n * n);  // d (gi_n + r gh_n)
    const scalar_t dar = dan * ghn * r * (scalar_t(1) - r);              // d (gi_r + gh_r)
    const scalar_t daz = d * (hp[j] - n) * z * (scalar_t(1) - z);        // d (gi_z + gh_z)
    dgi[j] = dar;
    dgi[H + j] = daz;
    dgi[2 * H + j] = dan;
    dgh[j] = dar;
    dgh[H + j] = daz;
    dgh[2 * H + j] = dan * r;
    dh[j] = d * z;  // the direct path z ⊙ h_{t-1}; the product through U is added by the caller
  }
}


std::tuple<at::Tensor, at::Tensor, at::Tensor> gru_forward(const at::Tensor& gi, const at::Tensor& batch_sizes,
                                                           const at::Tensor& h0, const at::Tensor& u,
                                                           const at::Tensor& b_hh, bool save) {
  TORCH_CHECK(gi.dim() == 2 && gi.is_contiguous() && gi.device().is_cpu(), "gru_forward: expected a contiguous CPU gi (N, 3H)");
  const int64_t N = gi.size(0), H = gi.size(1) / 3, T = batch_sizes.size(0), B = h0.size(0);
  TORCH_CHECK(gi.size(1) == 3 * H, "gru_forward: expected gi (N, 3H)");
  TORCH_CHECK(h0.dim() == 2 && h0.size(1) == H && h0.is_contiguous() && u.is_contiguous() && u.size(0) == 3 * H &&
                  u.size(1) == H,
              "gru_forward: expected h0 (B, H) and u (3H, H), contiguous");
  TORCH_CHECK(h0.scalar_type() == gi.scalar_type() && u.scalar_type() == gi.scalar_type(), "gru_forward: one dtype");
  TORCH_CHECK(b_hh.numel() == 0 || (b_hh.dim() == 1 && b_hh.size(0) == 3 * H), "gru_forward: expected b_hh (3H) or empty");
  const std::vector<int64_t> off = step_offsets(batch_sizes, B, N, "gru_forward");
  at::Tensor y = at::empty({N, H}, gi.options());
  at::Tensor saved = save ? at::empty({N, 4 * H}, gi.options()) : at::empty({0}, gi.options());
  at::Tensor gh = at::empty({B, 3 * H}, gi.options());
  const at::Tensor ut = u.t();
  const bool bias = b_hh.numel() > 0;
  AT_DISPATCH_FLOATING_TYPES(gi.scalar_type(), "gru_forward", [&] {
    const scalar_t* gi_p = gi.data_ptr<scalar_t>();
    const scalar_t* h0_p = h0.data_ptr<scalar_t>();
    scalar_t* y_p = y.data_ptr<scalar_t>();
    scalar_t* s_p = save ? saved.data_ptr<scalar_t>() : nullptr;
    const scalar_t* gh_p = gh.data_ptr<scalar_t>();
    for (int64_t t = 0; t < T; ++t) {
      const int64_t n = off[t + 1] - off[t];
      at::Tensor gh_t = gh.narrow(0, 0, n);
      if (bias) {
        at::addmm_out(gh_t, b_hh, previous_states(y, h0, off, t, n), ut);
      } else {
        at::mm_out(gh_t, previous_states(y, h0, off, t, n), ut);
      }
      at::parallel_for(0, n, row_grain(H), [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
          const int64_t row = off[t] + b;
          const scalar_t* hp = t == 0 ? h0_p + b * H : y_p + (off[t - 1] + b) * H;
          if (s_p != nullptr) {
            forward_row<scalar_t, true>(gi_p + row * 3 * H, gh_p + b * 3 * H, hp, y_p + row * H, s_p + row * 4 * H, H);
          } else {
            forward_row<scalar_t, false>(gi_p + row * 3 * H, gh_p + b * 3 * H, hp, y_p + row * H, nullptr, H);
          }
        }
      });
    }
  });
  // each row's last state: rows [n_{t+1}, n_t) have their last step at t
  at::Tensor h_last = at::empty({B, H}, gi.options());
  for (int64_t t = 0; t < T; ++t) {
    const int64_t n = off[t + 1] - off[t], n_next = t + 1 < T ? off[t + 2] - off[t + 1] : 0;
    if (n_next < n) h_last.narrow(0, n_next, n - n_next).copy_(y.narrow(0, off[t] + n_next, n - n_next));
  }
  return {y, h_last, saved};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> gru_backward(
    const at::Tensor& grad_y, const at::Tensor& grad_h, const at::Tensor& y, const at::Tensor& saved,
    const at::Tensor& batch_sizes, const at::Tensor& h0, const at::Tensor& u, bool bias) {
  const int64_t N = y.size(0), H = y.size(1), T = batch_sizes.size(0), B = h0.size(0);
  TORCH_CHECK(saved.dim() == 2 && saved.size(0) == N && saved.size(1) == 4 * H, "gru_backward: expected saved (N, 4H)");
  TORCH_CHECK(grad_y.numel() == 0 || (grad_y.sizes() == y.sizes() && grad_y.is_contiguous()), "gru_backward: grad_y");
  TORCH_CHECK(grad_h.numel() == 0 || (grad_h.sizes() == h0.sizes() && grad_h.is_contiguous()), "gru_backward: grad_h");
  const std::vector<int64_t> off = step_offsets(batch_sizes, B, N, "gru_backward");
  at::Tensor dh = grad_h.numel() > 0 ? grad_h.clone() : at::zeros({B, H}, y.options());
  at::Tensor dgi = at::empty({N, 3 * H}, y.options());
  at::Tensor dgh = at::empty({N, 3 * H}, y.options());
  const bool has_gy = grad_y.numel() > 0;
  AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "gru_backward", [&] {
    const scalar_t* y_p = y.data_ptr<scalar_t>();
    const scalar_t* s_p = saved.data_ptr<scalar_t>();
    const scalar_t* h0_p = h0.data_ptr<scalar_t>();
    const scalar_t* gy_p = has_gy ? grad_y.data_ptr<scalar_t>() : nullptr;
    scalar_t* dh_p = dh.data_ptr<scalar_t>();
    scalar_t* dgi_p = dgi.data_ptr<scalar_t>();
    scalar_t* dgh_p = dgh.data_ptr<scalar_t>();
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t n = off[t + 1] - off[t];
      at::parallel_for(0, n, row_grain(H), [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
          const int64_t row = off[t] + b;
          const scalar_t* hp = t == 0 ? h0_p + b * H : y_p + (off[t - 1] + b) * H;
          if (gy_p != nullptr) {
            backward_row<scalar_t, true>(s_p + row * 4 * H, hp, gy_p + row * H, dh_p + b * H, dgi_p + row * 3 * H,
                                         dgh_p + row * 3 * H, H);
          } else {
            backward_row<scalar_t, false>(s_p + row * 4 * H, hp, nullptr, dh_p + b * H, dgi_p + row * 3 * H,
                                          dgh_p + row * 3 * H, H);
          }
        }
      });
      dh.narrow(0, 0, n).addmm_(dgh.narrow(0, off[t], n), u);
    }
  });
  std::vector<at::Tensor> prev;  // h_{t-1} of every row, in row order
  prev.reserve(T);
  for (int64_t t = 0; t < T; ++t) prev.push_back(previous_states(y, h0, off, t, off[t + 1] - off[t]));
  at::Tensor du = at::mm(dgh.t(), at::cat(prev, 0));
  at::Tensor db = bias ? dgh.sum(0) : at::empty({0}, y.options());
  return {dgi, dh, du, db};
}

}  // namespace

TORCH_LIBRARY(recurra_gru, m) {
  m.def("gru_forward(Tensor gi, Tensor batch_sizes, Tensor h0, Tensor u, Tensor b_hh, bool save) -> (Tensor, Tensor, Tensor)");
  m.def(
      "gru_backward(Tensor grad_y, Tensor grad_h, Tensor y, Tensor saved, Tensor batch_sizes, Tensor h0, Tensor u, "
      "bool bias) -> (Tensor, Tensor, Tensor, Tensor)");
}

// CPU kernels only: torch.compile and torch.export see the ops through their fake (shape-only) kernels,
// registered in Python (recurra/cells/gru_kernel.py)
TORCH_LIBRARY_IMPL(recurra_gru, CPU, m) {
  m.impl("gru_forward", &gru_forward);
  m.impl("gru_backward", &gru_backward);
}
