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
// Registered as torch.ops.recurra_step.lstm_step / gru_step, and generate: LanguageModel.generate's whole
// loop of steps and choices in one call (below).

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

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


// -- generation: LanguageModel.generate's loop in one call ------------------------------------------
//
// From the logits after the prime, repeat up to `length` times: pick a token (greedy: the first argmax of
// logits + ban; sampled: the first i with cdf_i > u_n cdf_V, cdf the cumulative softmax of
// (logits + ban) / temperature in double, u_n = uniforms[n]), stop at `end_id` when `stop_at_end`, else feed
// the token (and `start_id` after `end_id`) through the embedding, each layer's step (LSTM: 4H gate rows,
// GRU: 3H), an optional projection p = W_p h + b_p and the output layer logits = out_b + x out_wt. The same
// choices as the Python loop; the states and logits given are not written.

struct GenLayer {
  int64_t gates;  // 4: LSTM, 3: GRU
  Tensor w_ih, w_hh, b_ih, b_hh, h, c, z, zh;
};

template <typename scalar_t>
void fill_bias(scalar_t* z, const Tensor& b, int64_t n) {
  const scalar_t* bp = b.numel() ? b.const_data_ptr<scalar_t>() : nullptr;
  for (int64_t j = 0; j < n; ++j) z[j] = bp ? bp[j] : scalar_t(0);
}

template <typename scalar_t>
void layer_step(GenLayer& L, const scalar_t* x) {
  const int64_t H = L.h.size(1), G = L.gates * H, F = L.w_ih.size(1);
  scalar_t* z = L.z.mutable_data_ptr<scalar_t>();
  scalar_t* h = L.h.mutable_data_ptr<scalar_t>();
  fill_bias(z, L.b_ih, G);
  few_rows_product(x, L.w_ih.const_data_ptr<scalar_t>(), z, 1, G, F);
  if (L.gates == 4) {
    if (L.b_hh.numel()) {
      const scalar_t* b = L.b_hh.const_data_ptr<scalar_t>();
      for (int64_t j = 0; j < G; ++j) z[j] += b[j];
    }
    few_rows_product(h, L.w_hh.const_data_ptr<scalar_t>(), z, 1, G, H);
    scalar_t* c = L.c.mutable_data_ptr<scalar_t>();
    lstm_gates<scalar_t>(z, c, h, c, H);  // in place: each unit reads its own c and writes its own h and c
  } else {
    scalar_t* zh = L.zh.mutable_data_ptr<scalar_t>();
    fill_bias(zh, L.b_hh, G);
    few_rows_product(h, L.w_hh.const_data_ptr<scalar_t>(), zh, 1, G, H);
    gru_gates<scalar_t>(z, zh, h, h, H);
  }
}

template <typename scalar_t>
int64_t pick_token(const scalar_t* logits, const scalar_t* ban, int64_t V, const double* u, double temperature,
                   std::vector<double>& cdf) {
  if (u == nullptr) {
    int64_t best = 0;
    scalar_t top = logits[0] + ban[0];
    for (int64_t j = 1; j < V; ++j) {
      const scalar_t v = logits[j] + ban[j];
      if (v > top) top = v, best = j;
    }
    return best;
  }
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < V; ++j) {
    cdf[j] = static_cast<double>(static_cast<scalar_t>(logits[j] + ban[j])) / temperature;
    m = std::max(m, cdf[j]);
  }
  double total = 0;
  for (int64_t j = 0; j < V; ++j) total += cdf[j] = std::exp(cdf[j] - m);
  double run = 0;
  for (int64_t j = 0; j < V; ++j) cdf[j] = run += cdf[j] / total;
  const double at = *u * cdf[V - 1];
  const int64_t i = std::upper_bound(cdf.begin(), cdf.end(), at) - cdf.begin();
  if (i < V) return i;
  for (int64_t j = V - 1; j > 0; --j)  // u rounded up to the total: the last token of nonzero probability
    if (cdf[j] > cdf[j - 1]) return j;
  return 0;
}

Tensor generate(const Tensor& embedding, std::vector<Tensor> w_ih, std::vector<Tensor> w_hh, std::vector<Tensor> b_ih,
                std::vector<Tensor> b_hh, std::vector<Tensor> h, std::vector<Tensor> c, const Tensor& proj_w, const Tensor& proj_b,
                const Tensor& out_wt, const Tensor& out_b, const Tensor& logits0, const Tensor& ban, const Tensor& uniforms,
                double temperature, int64_t length, int64_t end_id, int64_t start_id, bool stop_at_end) {
  const int64_t n_layers = static_cast<int64_t>(w_ih.size());
  TORCH_CHECK(n_layers > 0 && w_hh.size() == w_ih.size() && b_ih.size() == w_ih.size() && b_hh.size() == w_ih.size() &&
                  h.size() == w_ih.size() && c.size() == w_ih.size(),
              "generate: expected the same number of weights, biases and states per layer");
  const auto dtype = embedding.scalar_type();
  const int64_t V = out_wt.size(1);
  TORCH_CHECK(logits0.numel() == V && ban.numel() == V && logits0.scalar_type() == dtype && ban.scalar_type() == dtype,
              "generate: expected logits and ban of the output's size and the embedding's dtype");
  TORCH_CHECK(uniforms.numel() == 0 || (uniforms.scalar_type() == at::kDouble && uniforms.numel() >= length),
              "generate: expected no uniforms (greedy) or one float64 per token");
  TORCH_CHECK(embedding.dim() == 2 && embedding.is_contiguous() && embedding.device().is_cpu(),
              "generate: expected a contiguous CPU embedding (V, E)");
  std::vector<GenLayer> layers;
  int64_t width = embedding.size(1);
  for (int64_t i = 0; i < n_layers; ++i) {
    const Tensor hi = h[i].contiguous().reshape({1, -1}).clone();
    check(at::empty({1, width}, embedding.options()), hi, w_ih[i], w_hh[i], w_ih[i].size(0) / hi.size(1), "generate");
    const int64_t gates = w_ih[i].size(0) / hi.size(1);
    TORCH_CHECK(gates == 4 || gates == 3, "generate: expected LSTM (4H) or GRU (3H) gate rows");
    for (const Tensor* b : {&b_ih[i], &b_hh[i]})
      TORCH_CHECK(b->numel() == 0 || (b->numel() == gates * hi.size(1) && b->scalar_type() == dtype), "generate: a bias of the wrong size");
    const Tensor ci = gates == 4 ? c[i].contiguous().reshape({1, -1}).clone() : Tensor();
    layers.push_back({gates, w_ih[i], w_hh[i], b_ih[i].contiguous(), b_hh[i].contiguous(), hi, ci,
                      at::empty({gates * hi.size(1)}, embedding.options()), at::empty({gates * hi.size(1)}, embedding.options())});
    width = hi.size(1);
  }
  const bool has_proj = proj_w.numel() > 0;
  TORCH_CHECK(!has_proj || (proj_w.dim() == 2 && proj_w.size(1) == width && proj_w.is_contiguous() && proj_w.scalar_type() == dtype),
              "generate: expected the projection (E, H) of the last layer's units");
  TORCH_CHECK(out_wt.dim() == 2 && out_wt.size(0) == (has_proj ? proj_w.size(0) : width) && out_wt.scalar_type() == dtype,
              "generate: expected the output matrix transposed, (H or E, V)");
  Tensor projected = has_proj ? at::empty({1, proj_w.size(0)}, embedding.options()) : Tensor();
  Tensor logits = logits0.contiguous().reshape({1, V}).clone();
  std::vector<int64_t> out;
  AT_DISPATCH_FLOATING_TYPES(dtype, "recurra_generate", [&] {
    std::vector<double> cdf(uniforms.numel() ? V : 0);
    const scalar_t* ban_p = ban.const_data_ptr<scalar_t>();
    const double* u = uniforms.numel() ? uniforms.const_data_ptr<double>() : nullptr;
    auto feed = [&](int64_t token) {
      const scalar_t* x = embedding.const_data_ptr<scalar_t>() + token * embedding.size(1);
      for (GenLayer& L : layers) {
        layer_step<scalar_t>(L, x);
        x = L.h.const_data_ptr<scalar_t>();
      }
      const Tensor* last = &layers.back().h;
      if (has_proj) {
        scalar_t* p = projected.mutable_data_ptr<scalar_t>();
        fill_bias(p, proj_b, proj_w.size(0));
        few_rows_product(x, proj_w.const_data_ptr<scalar_t>(), p, 1, proj_w.size(0), proj_w.size(1));
        last = &projected;
      }
      if (out_b.numel())
        at::addmm_out(logits, out_b, *last, out_wt);
      else
        at::mm_out(logits, *last, out_wt);
    };
    for (int64_t n = 0; n < length; ++n) {
      const int64_t token = pick_token<scalar_t>(logits.const_data_ptr<scalar_t>(), ban_p, V, u ? u + n : nullptr, temperature, cdf);
      if (token == end_id && stop_at_end) break;
      out.push_back(token);
      feed(token);
      if (token == end_id) feed(start_id);  // a line break: end the line, start the next
    }
  });
  return at::tensor(out, at::kLong);
}

}  // namespace

TORCH_LIBRARY(recurra_step, m) {
  m.def("lstm_step(Tensor x, Tensor h, Tensor c, Tensor w_ih, Tensor w_hh, Tensor b_ih, Tensor b_hh) -> (Tensor, Tensor)");
  m.def("gru_step(Tensor x, Tensor h, Tensor w_ih, Tensor w_hh, Tensor b_ih, Tensor b_hh) -> Tensor");
  m.def(
      "generate(Tensor embedding, Tensor[] w_ih, Tensor[] w_hh, Tensor[] b_ih, Tensor[] b_hh, Tensor[] h, Tensor[] c, "
      "Tensor proj_w, Tensor proj_b, Tensor out_wt, Tensor out_b, Tensor logits, Tensor ban, Tensor uniforms, "
      "float temperature, int length, int end_id, int start_id, bool stop_at_end) -> Tensor");
}

TORCH_LIBRARY_IMPL(recurra_step, CPU, m) {
  m.impl("lstm_step", &lstm_step);
  m.impl("gru_step", &gru_step);
  m.impl("generate", &generate);
}
