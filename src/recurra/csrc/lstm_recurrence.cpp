// The LSTM recurrence (torch's gate order i, f, g, o) on the CPU, forward and backward.
//
// Per step (recurra/cells/lstm_kernel.py documents the equations) the pre-activations z_t = x_t W_ihᵀ + h_{t-1} Uᵀ
// and the gates in one vectorised pass:
//
//     i_t = σ(z_i)    f_t = σ(z_f)    g_t = tanh(z_g)    o_t = σ(z_o)
//     c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t         h_t = o_t ⊙ tanh(c_t)
//
// The pass overwrites z_t's rows with the activated gates, which the backward reads. The backward runs the
// steps in reverse: the gates' pass backward, then ∂h_{t-1} = ∂z_t U; the gradients of W_ih, U, b and x follow.
// Where the CPU has AVX2 or AVX-512, the per-step products run on register tiles (register_tiles.h) and each
// thread takes its own batch rows through the whole sequence (see "The steps with register tiles" below);
// elsewhere the input's product of every step is one BLAS call, each step's U product one more, and the
// weights' gradients are products over all steps at the end.
//
// Layout: time-major rows as in torch's PackedSequence (step t holds the first batch_sizes[t] rows,
// sorted by decreasing length; a dense batch is batch_sizes = [B] * T). One dtype, float32 or float64:
// x (N, F) contiguous, or for a dense batch (T, B, F) with unit strides along F; h0 and c0 (B, H), w_ih
// (4H, F), w_hh (4H, H), b (4H) or an empty tensor for none. Forward returns y (N, H), h_last and c_last
// (B, H) (each row's states after its own last step) and, when saving for the backward, gates (N, 4H) =
// [i, f, g, o] and cells (N, 2H) = [c, tanh c] per row (empty tensors otherwise). Registered as
// torch.ops.recurra_lstm.*.

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/LegacyTypeDispatch.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>
#include <vector>

#include "fast_math.h"
#include "large_buffers.h"
#include "packed_steps.h"
#include "register_tiles.h"

namespace {

using namespace recurra_fast_math;
using recurra_packed::previous_states;
using recurra_packed::step_offsets;
using recurra_buffers::empty_large;

constexpr int64_t kGrain = 1 << 12;  // elements per thread before the gates' loop is split

// rows of the batch per work item: the gates of one row are one vectorised loop over its units
inline int64_t row_grain(int64_t H) {
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(H, 1));
}

// One batch row of one step: z + b are the pre-activations [z_i, z_f, z_g, z_o] (b the bias (4H), added
// here rather than in the input projection, which saves a pass over z); z holds the gates [i, f, g, o] on exit;
// c holds c_{t-1} on entry and c_t on exit; h gets h_t; s, with save, [c_t, tanh c_t]. (Outside the dtype dispatch: a pragma cannot sit in a macro argument.) flatten: with
// five exps in the loop, the inliner would otherwise leave some as calls, and the loop scalar.
template <typename scalar_t, bool save>
[[gnu::flatten]] void forward_row(scalar_t* z, const scalar_t* b, scalar_t* c, scalar_t* h, scalar_t* s, int64_t H) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t i = sigmoid(z[j] + b[j]);
    const scalar_t f = sigmoid(z[H + j] + b[H + j]);
    const scalar_t g = tanh_approx(z[2 * H + j] + b[2 * H + j]);
    const scalar_t o = sigmoid(z[3 * H + j] + b[3 * H + j]);
    const scalar_t cn = f * c[j] + i * g;
    const scalar_t tc = tanh_approx(cn);
    c[j] = cn;
    h[j] = o * tc;
    z[j] = i;
    z[H + j] = f;
    z[2 * H + j] = g;
    z[3 * H + j] = o;
    if constexpr (save) {
      s[j] = cn;
      s[H + j] = tc;
    }
  }
}

// One batch row of one step backward. a: the gates [i, f, g, o]; s: [c_t, tanh c_t]; cp: c_{t-1};
// dh: dL/dh_t from step t + 1 (gy adds the output's own gradient); dc: dL/dc_t from step t + 1 on
// entry, dL/dc_{t-1} on exit; dz gets dL/dz_t, the gradient of the pre-activations, which db (this
// batch row's share of the bias gradient) adds up.
template <typename scalar_t, bool has_gy>
void backward_row(const scalar_t* a, const scalar_t* s, const scalar_t* cp, const scalar_t* gy, const scalar_t* dh,
                  scalar_t* dc, scalar_t* dz, scalar_t* db, int64_t H) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j], tc = s[H + j];
    scalar_t d = dh[j];
    if constexpr (has_gy) d += gy[j];
    const scalar_t dcv = dc[j] + d * o * (scalar_t(1) - tc * tc);  // dL/dc_t, both paths
    const scalar_t dzi = dcv * g * i * (scalar_t(1) - i);
    const scalar_t dzf = dcv * cp[j] * f * (scalar_t(1) - f);
    const scalar_t dzg = dcv * i * (scalar_t(1) - g * g);
    const scalar_t dzo = d * tc * o * (scalar_t(1) - o);
    dz[j] = dzi;
    dz[H + j] = dzf;
    dz[2 * H + j] = dzg;
    dz[3 * H + j] = dzo;
    db[j] += dzi;
    db[H + j] += dzf;
    db[2 * H + j] += dzg;
    db[3 * H + j] += dzo;
    dc[j] = dcv * f;
  }
}

// Ask for n elements from p to come into the cache (L2) ahead of use: the backward walks the saved rows in
// reverse, against the hardware prefetchers, and asks for the next step's while its product runs.
template <typename scalar_t>
inline void prefetch(const scalar_t* p, int64_t n) {
  const char* bytes = reinterpret_cast<const char*>(p);
  for (int64_t i = 0; i < n * static_cast<int64_t>(sizeof(scalar_t)); i += 64) __builtin_prefetch(bytes + i, 0, 2);
}

// The same for rows about to be written (the backward's ∂z, written in reverse).
template <typename scalar_t>
inline void prefetch_for_write(scalar_t* p, int64_t n) {
  char* bytes = reinterpret_cast<char*>(p);
  for (int64_t i = 0; i < n * static_cast<int64_t>(sizeof(scalar_t)); i += 64) __builtin_prefetch(bytes + i, 1, 2);
}

// x: (N, F) contiguous rows, or for a dense batch (T, B, F) with any strides but unit ones along F (the transpose
// of a batch-first input, read where it lies). Row bb of step t at base[t] + bb·row.
struct InputRows {
  std::vector<int64_t> base;
  int64_t row;
  InputRows(const at::Tensor& x, const std::vector<int64_t>& off) : base(off.size() - 1) {
    const bool steps = x.dim() == 3;
    for (size_t t = 0; t + 1 < off.size(); ++t) base[t] = steps ? static_cast<int64_t>(t) * x.stride(0) : off[t] * x.size(1);
    row = steps ? x.stride(1) : x.size(1);
  }
};

// x as (N, F) contiguous rows (a copy of a (T, B, F) one), for the large products
inline at::Tensor input_matrix(const at::Tensor& x) { return x.dim() == 3 ? x.reshape({-1, x.size(2)}).contiguous() : x; }

#ifdef RECURRA_TILES
// The steps with register tiles (register_tiles.h) in place of a BLAS call per step. A batch row's steps
// depend on its own earlier steps only, so each thread takes one run of rows through the whole sequence, with no
// synchronisation between steps. Per step, the forward computes those rows' pre-activations x_t W_ihᵀ + h_{t-1} Uᵀ
// block of W units by block of W units (the four gates of a block at once, the weights packed so that row k of
// a block is its four gates' W weights side by side, zeros past H; a block's weights stay in the cache while R
// rows at a time go through them), then runs the gates' pass over them; the backward runs the gates' pass
// backward over its rows, then ∂z_t U of those rows, four vectors of columns by four.
using recurra_tiles::Lanes;
using recurra_tiles::Partial;

// batch rows per thread at least: a whole tile of R rows, or one row where a row's work through every step
// (T·4H·K multiply-adds) is large enough to give a thread on its own
template <typename scalar_t>
int64_t row_grain_tiles(int64_t T, int64_t K, int64_t H) {
  return T * 4 * H * K >= (int64_t(1) << 20) ? 1 : Lanes<scalar_t>::R;
}

// w (4H, K) packed for the tiles: [block of W units][k][gate][lane] = w[gate·H + unit, k], zeros past H
template <typename scalar_t>
at::Tensor packed_gates(const at::Tensor& w, int64_t H) {
  constexpr int W = Lanes<scalar_t>::W;
  const int64_t blocks = (H + W - 1) / W, K = w.size(1);
  at::Tensor packed = at::zeros({blocks * K * 4 * W}, w.options());
  scalar_t* p = packed.data_ptr<scalar_t>();
  const scalar_t* u = w.data_ptr<scalar_t>();
  for (int64_t jb = 0; jb < blocks; ++jb)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t g = 0; g < 4; ++g)
        for (int64_t l = 0; l < W && jb * W + l < H; ++l) p[((jb * K + k) * 4 + g) * W + l] = u[(g * H + jb * W + l) * K + k];
  return packed;
}

// The forward's steps: z_t = x_t W_ihᵀ + h_{t-1} Uᵀ (the input's product too, step by step, so that z is
// written once, as the gates), then the gates.
template <typename scalar_t>
void forward_tiled(const scalar_t* x_p, const InputRows& xr, scalar_t* z_p, scalar_t* y_p, scalar_t* c_p, scalar_t* s_p,
                   const scalar_t* b_p, const scalar_t* h0_p, const at::Tensor& w_ih, const at::Tensor& w_hh,
                   const std::vector<int64_t>& off, int64_t H) {
  constexpr int W = Lanes<scalar_t>::W, R = Lanes<scalar_t>::R;
  const int64_t blocks = (H + W - 1) / W, T = static_cast<int64_t>(off.size()) - 1, F = w_ih.size(1);
  const int tail = static_cast<int>(H - (blocks - 1) * W);
  const at::Tensor packed_u = packed_gates<scalar_t>(w_hh, H), packed_w = packed_gates<scalar_t>(w_ih, H);
  const scalar_t* up = packed_u.data_ptr<scalar_t>();
  const scalar_t* wp = packed_w.data_ptr<scalar_t>();
  // rows never meet: each thread runs its own rows through every step, with no step-to-step synchronisation
  at::parallel_for(0, off[1] - off[0], row_grain_tiles<scalar_t>(T, F + H, H), [&](int64_t first, int64_t last) {
    for (int64_t t = 0; t < T; ++t) {
      const int64_t begin = first, end = std::min(last, off[t + 1] - off[t]);  // this thread's rows still active
      if (end <= begin) break;
      const scalar_t* hp = t == 0 ? h0_p : y_p + off[t - 1] * H;  // (n, H): h_{t-1} of the step's rows
      const scalar_t* xt = x_p + xr.base[t];
      scalar_t* zt = z_p + off[t] * 4 * H;
      scalar_t* yt = y_p + off[t] * H;
      scalar_t* st = s_p != nullptr ? s_p + off[t] * 2 * H : nullptr;
      for (int64_t jb = 0; jb < blocks; ++jb) {  // z[rows, gate·H + jb·W + lane] = x_t W_ihᵀ + h_{t-1} Uᵀ, R rows at a time
        const Partial partial = jb == blocks - 1 && tail < W ? Partial::all : Partial::none;
        for (int64_t q = begin; q < end; q += R) {
          const int rows = static_cast<int>(std::min<int64_t>(R, end - q));
          scalar_t* zq = zt + q * 4 * H + jb * W;
          recurra_tiles::tile_rows<scalar_t, 4>(rows, xt + q * xr.row, xr.row, 1, wp + jb * F * 4 * W, 4 * W, F, zq, 4 * H,
                                               H, false, partial, tail);
          recurra_tiles::tile_rows<scalar_t, 4>(rows, hp + q * H, H, 1, up + jb * H * 4 * W, 4 * W, H, zq, 4 * H, H, true,
                                               partial, tail);
        }
      }
      for (int64_t r = begin; r < end; ++r) {
        if (st != nullptr) {
          forward_row<scalar_t, true>(zt + r * 4 * H, b_p, c_p + r * H, yt + r * H, st + r * 2 * H, H);
        } else {
          forward_row<scalar_t, false>(zt + r * 4 * H, b_p, c_p + r * H, yt + r * H, nullptr, H);
        }
      }
    }
  });
}

// w (rows, cols) with its rows padded with zeros to whole vectors, or w itself when W divides cols; ldb its row
// stride
template <typename scalar_t>
at::Tensor padded_rows(const at::Tensor& w, int64_t* ldb) {
  constexpr int W = Lanes<scalar_t>::W;
  const int64_t cols = w.size(1), padded_cols = (cols + W - 1) / W * W;
  *ldb = padded_cols;
  if (padded_cols == cols) return w;
  at::Tensor padded = at::zeros({w.size(0), padded_cols}, w.options());
  padded.narrow(1, 0, cols).copy_(w);
  return padded;
}

// Rows per run of the backward: the batch split over the threads, at least `grain` rows a run
inline int64_t rows_per_thread(int64_t B, int64_t grain) {
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), (B + grain - 1) / grain));
  return (B + threads - 1) / threads;
}

// Whether the backward adds up the weights' gradients step by step, from the rows of ∂z_t still in the first-level
// cache (∂W_ihᵀ += x_tᵀ ∂z_t, ∂Uᵀ += h_{t-1}ᵀ ∂z_t on each thread's own copy, summed at the end), rather than as
// large products over every step at the end: where a thread has rows enough for the products to run well and
// its copy of the gradients, (F + H)·4H values, stays in the second-level cache. Then ∂z is never written out,
// and ∂x comes step by step too.
inline bool weight_grads_per_step(int64_t F, int64_t H, int64_t rows, int64_t itemsize) {
  return rows >= 8 && (F + H) * 4 * H * itemsize <= (int64_t(1) << 19);
}
#endif


void check_forward(const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0, const at::Tensor& w_ih,
                   const at::Tensor& w_hh, const at::Tensor& b) {
  TORCH_CHECK(x.device().is_cpu() && ((x.dim() == 2 && x.is_contiguous()) || (x.dim() == 3 && x.stride(2) == 1 &&
                                                                               x.size(1) == h0.size(0))),
              "lstm_forward: expected a CPU x (N, F) contiguous, or (T, B, F) with unit strides along F");
  TORCH_CHECK(h0.dim() == 2 && h0.is_contiguous() && c0.sizes() == h0.sizes() && c0.is_contiguous(),
              "lstm_forward: expected h0 and c0 (B, H), contiguous");
  const int64_t H = h0.size(1);
  TORCH_CHECK(w_ih.dim() == 2 && w_ih.size(0) == 4 * H && w_ih.size(1) == x.size(-1) && w_ih.is_contiguous(),
              "lstm_forward: expected w_ih (4H, F), contiguous");
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) == 4 * H && w_hh.size(1) == H && w_hh.is_contiguous(),
              "lstm_forward: expected w_hh (4H, H), contiguous");
  TORCH_CHECK(b.numel() == 0 || (b.dim() == 1 && b.size(0) == 4 * H), "lstm_forward: expected b (4H) or empty");
  for (const at::Tensor* t : {&h0, &c0, &w_ih, &w_hh}) {
    TORCH_CHECK(t->scalar_type() == x.scalar_type(), "lstm_forward: expected one dtype");
  }
  TORCH_CHECK(b.numel() == 0 || b.scalar_type() == x.scalar_type(), "lstm_forward: expected one dtype");
}

// each row's last state: rows [n_{t+1}, n_t) have their last step at t
at::Tensor last_states(const at::Tensor& y, const std::vector<int64_t>& off, int64_t B) {
  const int64_t T = static_cast<int64_t>(off.size()) - 1, H = y.size(1);
  at::Tensor h_last = at::empty({B, H}, y.options());
  for (int64_t t = 0; t < T; ++t) {
    const int64_t n = off[t + 1] - off[t], n_next = t + 1 < T ? off[t + 2] - off[t + 1] : 0;
    if (n_next < n) h_last.narrow(0, n_next, n - n_next).copy_(y.narrow(0, off[t] + n_next, n - n_next));
  }
  return h_last;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> lstm_forward(
    const at::Tensor& x, const at::Tensor& batch_sizes, const at::Tensor& h0, const at::Tensor& c0, const at::Tensor& w_ih,
    const at::Tensor& w_hh, const at::Tensor& b, bool save) {
  check_forward(x, h0, c0, w_ih, w_hh, b);
  at::AutoDispatchBelowADInplaceOrView below_autograd;  // called directly on tensors that require grad: no graph here
  const int64_t N = x.dim() == 3 ? x.size(0) * x.size(1) : x.size(0), H = h0.size(1), T = batch_sizes.size(0), B = h0.size(0);
  const std::vector<int64_t> off = step_offsets(batch_sizes, B, N, "lstm_forward");
  TORCH_CHECK(x.dim() == 2 || x.size(0) == T, "lstm_forward: expected x (T, B, F) with T = batch_sizes' length");
  at::Tensor z = empty_large({N, 4 * H}, x.options());  // (N, 4H): x_t W_ihᵀ of every step at once
#ifndef RECURRA_TILES
  at::mm_out(z, input_matrix(x), w_ih.t());  // (the bias comes in the gates' pass; with tiles, the steps compute it)
#endif
  const at::Tensor bias = b.numel() > 0 ? b.contiguous() : at::zeros({4 * H}, x.options());
  at::Tensor y = empty_large({N, H}, x.options());
  at::Tensor cells = save ? empty_large({N, 2 * H}, x.options()) : at::empty({0}, x.options());
  at::Tensor c = c0.clone();  // (B, H): c_t of each row, in place; each row's last one at the end
  const at::Tensor ut = w_hh.t();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_forward", [&] {
    scalar_t* z_p = z.data_ptr<scalar_t>();
    scalar_t* y_p = y.data_ptr<scalar_t>();
    scalar_t* c_p = c.data_ptr<scalar_t>();
    scalar_t* s_p = save ? cells.data_ptr<scalar_t>() : nullptr;
    const scalar_t* b_p = bias.data_ptr<scalar_t>();
#ifdef RECURRA_TILES
    forward_tiled<scalar_t>(x.data_ptr<scalar_t>(), InputRows(x, off), z_p, y_p, c_p, s_p, b_p, h0.data_ptr<scalar_t>(), w_ih,
                            w_hh, off, H);
    return;
#endif
    for (int64_t t = 0; t < T; ++t) {
      const int64_t n = off[t + 1] - off[t];
      z.narrow(0, off[t], n).addmm_(previous_states(y, h0, off, t, n), ut);  // z_t += h_{t-1} Uᵀ
      at::parallel_for(0, n, row_grain(H), [&](int64_t begin, int64_t end) {
        for (int64_t bb = begin; bb < end; ++bb) {
          const int64_t row = off[t] + bb;
          if (s_p != nullptr) {
            forward_row<scalar_t, true>(z_p + row * 4 * H, b_p, c_p + bb * H, y_p + row * H, s_p + row * 2 * H, H);
          } else {
            forward_row<scalar_t, false>(z_p + row * 4 * H, b_p, c_p + bb * H, y_p + row * H, nullptr, H);
          }
        }
      });
    }
  });
  return {y, last_states(y, off, B), c, save ? z : at::empty({0}, x.options()), cells};
}

// dU = Σ_t dz_tᵀ h_{t-1}: two products for a dense batch, else one over the gathered previous states. Each
// weight gradient is computed as its transpose, (inputsᵀ dz)ᵀ: BLAS runs the long sum over rows faster
// that way round when the inputs are narrow (measured: 0.8 against 1.1 ms for ∂W_ih at F = 16, N = 6400).
at::Tensor recurrent_weight_grad(const at::Tensor& dz, const at::Tensor& y, const at::Tensor& h0,
                                 const std::vector<int64_t>& off) {
  const int64_t T = static_cast<int64_t>(off.size()) - 1, B = h0.size(0), N = y.size(0);
  if (off[T] == T * B) {
    at::Tensor du_t = at::mm(h0.t(), dz.narrow(0, 0, B));  // (H, 4H)
    if (N > B) du_t.addmm_(y.narrow(0, 0, N - B).t(), dz.narrow(0, B, N - B));
    return du_t.t().contiguous();
  }
  std::vector<at::Tensor> prev;  // h_{t-1} of every row, in row order
  prev.reserve(T);
  for (int64_t t = 0; t < T; ++t) prev.push_back(previous_states(y, h0, off, t, off[t + 1] - off[t]));
  return at::mm(at::cat(prev, 0).t(), dz).t().contiguous();
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> lstm_backward(
    const at::Tensor& grad_y, const at::Tensor& grad_h, const at::Tensor& grad_c, const at::Tensor& x, const at::Tensor& y,
    const at::Tensor& gates, const at::Tensor& cells, const at::Tensor& batch_sizes, const at::Tensor& h0,
    const at::Tensor& c0, const at::Tensor& w_ih, const at::Tensor& w_hh, bool bias, bool input_grad) {
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  const int64_t N = y.size(0), H = y.size(1), T = batch_sizes.size(0), B = h0.size(0);
  TORCH_CHECK(gates.dim() == 2 && gates.size(0) == N && gates.size(1) == 4 * H && cells.dim() == 2 && cells.size(0) == N &&
                  cells.size(1) == 2 * H,
              "lstm_backward: expected gates (N, 4H) and cells (N, 2H)");
  const std::vector<int64_t> off = step_offsets(batch_sizes, B, N, "lstm_backward");
  // grad_y: (N, H) contiguous, or for a dense batch (T, B, H) with any strides but unit ones along H (the
  // transpose of a batch-first gradient, read where it lies); row bb of step t at gy_base[t] + bb·gy_row
  const bool gy_steps = grad_y.dim() == 3;
  TORCH_CHECK(grad_y.numel() == 0 || (grad_y.sizes() == y.sizes() && grad_y.is_contiguous()) ||
                  (gy_steps && grad_y.size(0) == T && grad_y.size(1) == B && grad_y.size(2) == H && grad_y.stride(2) == 1 &&
                   off[T] == T * B),
              "lstm_backward: expected grad_y (N, H) contiguous, or (T, B, H) with unit strides along H for a dense batch");
  std::vector<int64_t> gy_base(T);
  for (int64_t t = 0; t < T; ++t) gy_base[t] = gy_steps ? t * grad_y.stride(0) : off[t] * H;
  const int64_t gy_row = gy_steps ? grad_y.stride(1) : H;
  TORCH_CHECK(grad_h.numel() == 0 || (grad_h.sizes() == h0.sizes() && grad_h.is_contiguous()), "lstm_backward: grad_h");
  TORCH_CHECK(grad_c.numel() == 0 || (grad_c.sizes() == c0.sizes() && grad_c.is_contiguous()), "lstm_backward: grad_c");
  at::Tensor dh = grad_h.numel() > 0 ? grad_h.clone() : at::zeros({B, H}, y.options());
  at::Tensor dc = grad_c.numel() > 0 ? grad_c.clone() : at::zeros({B, H}, y.options());
  const int64_t F = x.size(-1);
  TORCH_CHECK(x.dim() == 2 || (x.dim() == 3 && x.size(0) == T && x.size(1) == B && x.stride(2) == 1 && off[T] == T * B),
              "lstm_backward: expected x (N, F), or (T, B, F) for a dense batch");
  const InputRows xr(x, off);
#ifdef RECURRA_TILES
  const int64_t grain = y.scalar_type() == at::kDouble ? row_grain_tiles<double>(T, H, H) : row_grain_tiles<float>(T, H, H);
  const int64_t chunk = rows_per_thread(B, grain);
  const bool per_step = weight_grads_per_step(F, H, chunk, y.element_size());
#else
  const int64_t chunk = B;
  const bool per_step = false;
#endif
  // ∂z of every row, for the products at the end; or, step by step, each thread's rows of one step (rows
  // padded to whole vectors, zeros past 4H) and its copy of [∂W_ihᵀ; ∂Uᵀ] ((F + H, 4H))
  at::Tensor dz = per_step ? at::Tensor() : empty_large({N, 4 * H}, y.options());
  const int64_t chunks = (B + chunk - 1) / chunk, ldz = (4 * H + 15) / 16 * 16;  // 16: the widest vector
  at::Tensor dz_rows = per_step ? at::zeros({chunks, chunk, ldz}, y.options()) : at::Tensor();
  at::Tensor weight_grads = per_step ? at::zeros({chunks, F + H, 4 * H}, y.options()) : at::Tensor();
  at::Tensor dx = input_grad ? empty_large({N, F}, y.options()) : at::empty({0}, y.options());
  at::Tensor db_rows = at::zeros({B, 4 * H}, y.options());  // each batch row's share of ∂b, summed at the end
  const bool has_gy = grad_y.numel() > 0;
  AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "lstm_backward", [&] {
    const scalar_t* a_p = gates.data_ptr<scalar_t>();
    const scalar_t* s_p = cells.data_ptr<scalar_t>();
    const scalar_t* c0_p = c0.data_ptr<scalar_t>();
    const scalar_t* gy_p = has_gy ? grad_y.data_ptr<scalar_t>() : nullptr;
    const scalar_t* dh_p = dh.data_ptr<scalar_t>();
    scalar_t* dc_p = dc.data_ptr<scalar_t>();
    scalar_t* dz_p = per_step ? nullptr : dz.data_ptr<scalar_t>();
    scalar_t* db_p = db_rows.data_ptr<scalar_t>();
    // the gates' pass backward for batch row bb of step t, its ∂z_t into dz
    auto row_backward = [&](int64_t t, int64_t bb, scalar_t* dz) {
      const int64_t row = off[t] + bb;
      const scalar_t* cp = t == 0 ? c0_p + bb * H : s_p + (off[t - 1] + bb) * 2 * H;  // c_{t-1}
      if (gy_p != nullptr) {
        backward_row<scalar_t, true>(a_p + row * 4 * H, s_p + row * 2 * H, cp, gy_p + gy_base[t] + bb * gy_row, dh_p + bb * H,
                                     dc_p + bb * H, dz, db_p + bb * 4 * H, H);
      } else {
        backward_row<scalar_t, false>(a_p + row * 4 * H, s_p + row * 2 * H, cp, nullptr, dh_p + bb * H, dc_p + bb * H, dz,
                                      db_p + bb * 4 * H, H);
      }
    };
    // ask for what step t - 1 reads of rows [begin, begin + m): its gates, output gradients and c_{t-2}
    auto prefetch_step = [&](int64_t t, int64_t begin, int64_t m) {
      prefetch(a_p + (off[t - 1] + begin) * 4 * H, m * 4 * H);
      if (gy_p != nullptr && gy_row == H) prefetch(gy_p + gy_base[t - 1] + begin * H, m * H);
      if (gy_p != nullptr && gy_row != H) {
        for (int64_t bb = begin; bb < begin + m; ++bb) prefetch(gy_p + gy_base[t - 1] + bb * gy_row, H);
      }
      if (t > 1) prefetch(s_p + (off[t - 2] + begin) * 2 * H, m * 2 * H);
      if (t == 1) prefetch(c0_p + begin * H, m * H);
      if (dz_p != nullptr) prefetch_for_write(dz_p + (off[t - 1] + begin) * 4 * H, m * 4 * H);
    };
#ifdef RECURRA_TILES
    // per step, on each thread's rows: the gates' backward, then ∂L/∂h_{t-1} = ∂z_t U of those rows (register_tiles.h)
    int64_t ldb = H;
    const at::Tensor u_rows = padded_rows<scalar_t>(w_hh, &ldb);
    const scalar_t* u_p = u_rows.data_ptr<scalar_t>();
    scalar_t* dhw_p = dh.data_ptr<scalar_t>();
    int64_t ldf = F;
    const at::Tensor w_rows = per_step && input_grad ? padded_rows<scalar_t>(w_ih, &ldf) : w_ih;
    const scalar_t* w_p = w_rows.data_ptr<scalar_t>();
    const scalar_t* x_p = x.data_ptr<scalar_t>();
    const scalar_t* y_p = y.data_ptr<scalar_t>();
    const scalar_t* h0_p = h0.data_ptr<scalar_t>();
    scalar_t* dx_p = input_grad ? dx.data_ptr<scalar_t>() : nullptr;
    // the batch in `chunks` runs of `chunk` rows, each with its own scratch rows and copy of the gradients
    at::parallel_for(0, chunks, 1, [&](int64_t chunk_begin, int64_t chunk_end) {
      for (int64_t ci = chunk_begin; ci < chunk_end; ++ci) {
        const int64_t first = ci * chunk, last = std::min(B, first + chunk);
        scalar_t* dz_own = per_step ? dz_rows.data_ptr<scalar_t>() + ci * chunk * ldz : nullptr;
        scalar_t* grads = per_step ? weight_grads.data_ptr<scalar_t>() + ci * (F + H) * 4 * H : nullptr;
        for (int64_t t = T - 1; t >= 0; --t) {  // these rows, every step backward (rows never meet)
          const int64_t begin = first, end = std::min(last, off[t + 1] - off[t]);
          if (end <= begin) continue;  // its rows start at a later step (shorter sequences end early)
          // per step: ∂z of these rows in their own scratch rows, or in ∂z's rows for the products at the end
          scalar_t* dzt = per_step ? dz_own - begin * ldz : dz_p + off[t] * 4 * H;  // row bb at dzt + bb·ldzt
          const int64_t ldzt = per_step ? ldz : 4 * H;
          for (int64_t bb = begin; bb < end; ++bb) row_backward(t, bb, dzt + bb * ldzt);
          const int64_t rows = end - begin;
          const scalar_t* dzb = dzt + begin * ldzt;
          recurra_tiles::tile_matmul<scalar_t>(rows, dzb, ldzt, 1, u_p, ldb, 4 * H, dhw_p + begin * H, H, H, false);
          if (per_step) {
            if (dx_p != nullptr) {  // ∂x_t = ∂z_t W_ih
              recurra_tiles::tile_matmul<scalar_t>(rows, dzb, ldz, 1, w_p, ldf, 4 * H, dx_p + (off[t] + begin) * F, F, F,
                                                   false);
            }
            const scalar_t* hp = (t == 0 ? h0_p : y_p + off[t - 1] * H) + begin * H;  // h_{t-1} of these rows
            // [∂W_ihᵀ; ∂Uᵀ] += [x_t, h_{t-1}]ᵀ ∂z_t: rows of A are the inputs' columns, its k the batch rows
            recurra_tiles::tile_matmul<scalar_t>(F, x_p + xr.base[t] + begin * xr.row, 1, xr.row, dzb, ldz, rows, grads,
                                                 4 * H, 4 * H, true);
            recurra_tiles::tile_matmul<scalar_t>(H, hp, 1, H, dzb, ldz, rows, grads + F * 4 * H, 4 * H, 4 * H, true);
          }
          if (t > 0) prefetch_step(t, begin, std::min(last, off[t] - off[t - 1]) - begin);
        }
      }
    });
    return;
#endif
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t n = off[t + 1] - off[t];
      at::parallel_for(0, n, row_grain(H), [&](int64_t begin, int64_t end) {
        for (int64_t bb = begin; bb < end; ++bb) row_backward(t, bb, dz_p + (off[t] + bb) * 4 * H);
      });
      if (t > 0) prefetch_step(t, 0, off[t] - off[t - 1]);
      at::Tensor dh_t = dh.narrow(0, 0, n);
      at::mm_out(dh_t, dz.narrow(0, off[t], n), w_hh);  // dL/dh_{t-1} = dz_t U (h_{t-1} reaches h_t only through z_t)
    }
  });
  at::Tensor db = bias ? db_rows.sum(0) : at::empty({0}, y.options());
  if (input_grad) dx = dx.view(x.sizes());  // x's shape: (N, F) or (T, B, F)
  if (per_step) {  // the threads' [∂W_ihᵀ; ∂Uᵀ] added up
    const at::Tensor grads = weight_grads.sum(0);  // (F + H, 4H)
    return {dx, dh, dc, grads.narrow(0, 0, F).t().contiguous(), grads.narrow(0, F, H).t().contiguous(), db};
  }
  if (input_grad) {
    at::Tensor dx_rows = dx.view({N, F});
    at::mm_out(dx_rows, dz, w_ih);
  }
  at::Tensor dw_ih = at::mm(input_matrix(x).t(), dz).t().contiguous();  // as its transpose: recurrent_weight_grad says why
  at::Tensor dw_hh = recurrent_weight_grad(dz, y, h0, off);
  return {dx, dh, dc, dw_ih, dw_hh, db};
}

// Frees the large buffers kept for the next call (large_buffers.h); returns the bytes freed.
int64_t release_buffers() { return recurra_buffers::buffer_cache().release(); }

}  // namespace

TORCH_LIBRARY(recurra_lstm, m) {
  m.def("release_buffers() -> int", &release_buffers);
  m.def(
      "lstm_forward(Tensor x, Tensor batch_sizes, Tensor h0, Tensor c0, Tensor w_ih, Tensor w_hh, Tensor b, bool save) -> "
      "(Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def(
      "lstm_backward(Tensor grad_y, Tensor grad_h, Tensor grad_c, Tensor x, Tensor y, Tensor gates, Tensor cells, "
      "Tensor batch_sizes, Tensor h0, Tensor c0, Tensor w_ih, Tensor w_hh, bool bias, bool input_grad) -> "
      "(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
}

// CPU kernels only: torch.compile and torch.export see the ops through their fake (shape-only) kernels,
// registered in Python (recurra/cells/lstm_kernel.py)
TORCH_LIBRARY_IMPL(recurra_lstm, CPU, m) {
  m.impl("lstm_forward", &lstm_forward);
  m.impl("lstm_backward", &lstm_backward);
}
