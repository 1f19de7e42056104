// One step of the LSTM and of the GRU, for inference (generation, streaming): no graph, no saved tensors.
//
// The gate pre-activations of a row are z = W_ih x + b_ih + U h (+ b_hh): for a few rows (B <= 4, the
// batch of one of generation) by dot products over the weights' contiguous rows, written here (a BLAS
// call's setup costs more than the arithmetic of one row); for more rows by two ATen matrix products.
// Then the gates in one vectorised pass, with the same fast exp / sigmoid / tanh as the compiled loops:
//
//   LSTM (torch's gate order i, f, g, o):  c' = σ(z_f) ⊙ c + σ(z_i) ⊙ tanh(z_g)    h' = σ(z_o) ⊙ tanh(c')
//   GRU (reset after, order r, z, n):      r = σ(gi_r + gh_r)   u = σ(gi_z + gh_z)
//                                          n = tanh(gi_n + r ⊙ gh_n)    h' = (1 - u) ⊙ n + u ⊙ h
//
// All contiguous, one dtype (float32 or float64): x (B, F), h and c (B, H), w_ih (G H, F), w_hh (G H, H),
// biases (G H) or empty tensors for none. Returns new tensors (the states given are not written).
// Registered as torch.ops.recurra_step.lstm_step / gru_step.

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <cstdint>
#include <tuple>

#include "fast_math.h"

namespace {

using namespace recurra_fast_math;
using at::Tensor;

constexpr int64_t kFewRows = 4;  // up to this many rows, hand-written dot products

template <typename scalar_t>
inline scalar_t dot(const scalar_t* a, const scalar_t* b, int64_t n) {
  scalar_t s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t k = 0; k < n; ++k) s += a[k] * b[k];
  return s;
}

// out[0..8) = w[0..8) · v over K: eight rows at once, so the eight sums are independent chains (one sum alone
// waits on each multiply-add before the next) and v is read once for the eight
template <typename scalar_t>
inline void dot8(const scalar_t* v, const scalar_t* w, int64_t K, scalar_t* out) {
  const scalar_t *w0 = w, *w1 = w + K, *w2 = w + 2 * K, *w3 = w + 3 * K, *w4 = w + 4 * K, *w5 = w + 5 * K, *w6 = w + 6 * K,
                 *w7 = w + 7 * K;
  scalar_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7)
  for (int64_t k = 0; k < K; ++k) {
    const scalar_t x = v[k];
    s0 += w0[k] * x;
    s1 += w1[k] * x;
    s2 += w2[k] * x;
    s3 += w3[k] * x;
    s4 += w4[k] * x;
    s5 += w5[k] * x;
    s6 += w6[k] * x;
    s7 += w7[k] * x;
  }
  out[0] += s0;
  out[1] += s1;
  out[2] += s2;
  out[3] += s3;
  out[4] += s4;
  out[5] += s5;
  out[6] += s6;
  out[7] += s7;
}

// out (B, G) += v (B, K) wᵀ (w (G, K)), for a few rows
template <typename scalar_t>
void few_rows_product(const scalar_t* v, const scalar_t* w, scalar_t* out, int64_t B, int64_t G, int64_t K) {
  for (int64_t r = 0; r < B; ++r) {
    scalar_t* o = out + r * G;
    int64_t j = 0;
    for (; j + 8 <= G; j += 8) dot8(v + r * K, w + j * K, K, o + j);
    for (; j < G; ++j) o[j] += dot(v + r * K, w + j * K, K);
  }
}

// out (B, G) += v wᵀ: by hand for a few rows, else by ATen
void add_product(Tensor& out, const Tensor& v, const Tensor& w) {
  const int64_t B = v.size(0), G = w.size(0), K = w.size(1);
  if (B > kFewRows) {
    out.addmm_(v, w.t());
    return;
  }
  AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "recurra_step_product", [&] {
    few_rows_product<scalar_t>(v.const_data_ptr<scalar_t>(), w.const_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>(), B, G, K);
  });
}

// v wᵀ + b (B, G), b possibly empty (none)
Tensor affine(const Tensor& v, const Tensor& w, const Tensor& b) {
  Tensor out = b.numel() ? b.expand({v.size(0), w.size(0)}).clone() : at::zeros({v.size(0), w.size(0)}, v.options());
  add_product(out, v, w);
  return out;
}

void check(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh, int64_t gates, const char* what) {
  TORCH_CHECK(x.device().is_cpu(), what, ": expected CPU tensors");
  TORCH_CHECK(x.dim() == 2 && h.dim() == 2 && x.size(0) == h.size(0), what, ": expected x (B, F) and h (B, H)");
  const int64_t H = h.size(1);
  TORCH_CHECK(w_ih.sizes() == at::IntArrayRef({gates * H, x.size(1)}) && w_hh.sizes() == at::IntArrayRef({gates * H, H}),
              what, ": weights of the wrong shape");
  for (const Tensor* t : {&x, &h, &w_ih, &w_hh})
    TORCH_CHECK(t->is_contiguous() && t->scalar_type() == x.scalar_type(), what, ": expected contiguous tensors of one dtype");
}

template <typename scalar_t>
[[gnu::flatten]] void lstm_gates(const scalar_t* z, const scalar_t* c, scalar_t* h_out, scalar_t* c_out, int64_t H) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t i = sigmoid(z[j]), f = sigmoid(z[H + j]), g = tanh_approx(z[2 * H + j]), o = sigmoid(z[3 * H + j]);
    const scalar_t cn = f * c[j] + i * g;
    c_out[j] = cn;
    h_out[j] = o * tanh_approx(cn);
  }
}

std::tuple<Tensor, Tensor> lstm_step(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih, const Tensor& w_hh,
                                     const Tensor& b_ih, const Tensor& b_hh) {
  check(x, h, w_ih, w_hh, 4, "lstm_step");
  TORCH_CHECK(c.sizes() == h.sizes() && c.is_contiguous() && c.scalar_type() == x.scalar_type(), "lstm_step: expected c like h");
  const int64_t B = h.size(0), H = h.size(1);
  Tensor z = affine(x, w_ih, b_ih);  // (B, 4H): W_ih x + b_ih + U h + b_hh
  if (b_hh.numel()) z.add_(b_hh);
  add_product(z, h, w_hh);
  Tensor h_out = at::empty_like(h), c_out = at::empty_like(c);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "recurra_lstm_step", [&] {
    for (int64_t r = 0; r < B; ++r)
      lstm_gates<scalar_t>(z.const_data_ptr<scalar_t>() + r * 4 * H, c.const_data_ptr<scalar_t>() + r * H,
                           h_out.mutable_data_ptr<scalar_t>() + r * H, c_out.mutable_data_ptr<scalar_t>() + r * H, H);
  });
  return {h_out, c_out};
}

template <typename scalar_t>
[[gnu::flatten]] void gru_gates(const scalar_t* gi, const scalar_t* gh, const scalar_t* h, scalar_t* h_out, int64_t H) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const scalar_t r = sigmoid(gi[j] + gh[j]), u = sigmoid(gi[H + j] + gh[H + j]);
    const scalar_t n = tanh_approx(gi[2 * H + j] + r * gh[2 * H + j]);
    h_out[j] = (scalar_t(1) - u) * n + u * h[j];
  }
}

Tensor gru_step(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh) {
  check(x, h, w_ih, w_hh, 3, "gru_step");
  const int64_t B = h.size(0), H = h.size(1);
  Tensor gi = affine(x, w_ih, b_ih), gh = affine(h, w_hh, b_hh);  // (B, 3H) each
  Tensor h_out = at::empty_like(h);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "recurra_gru_step", [&] {
    for (int64_t r = 0; r < B; ++r)
      gru_gates<scalar_t>(gi.const_data_ptr<scalar_t>() + r * 3 * H, gh.const_data_ptr<scalar_t>() + r * 3 * H,
                          h.const_data_ptr<scalar_t>() + r * H, h_out.mutable_data_ptr<scalar_t>() + r * H, H);
  });
  return h_out;
}

}  // namespace

TORCH_LIBRARY(recurra_step, m) {
  m.def("lstm_step(Tensor x, Tensor h, Tensor c, Tensor w_ih, Tensor w_hh, Tensor b_ih, Tensor b_hh) -> (Tensor, Tensor)");
  m.def("gru_step(Tensor x, Tensor h, Tensor w_ih, Tensor w_hh, Tensor b_ih, Tensor b_hh) -> Tensor");
}

TORCH_LIBRARY_IMPL(recurra_step, CPU, m) {
  m.impl("lstm_step", &lstm_step);
  m.impl("gru_step", &gru_step);
}
