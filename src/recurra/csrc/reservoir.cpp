// The leaky reservoir recurrence of an Echo State Network on the CPU (forward only: nothing in a
// reservoir is trained).
//
//     x_t = (1 - alpha) x_{t-1} + alpha tanh(z_t + W x_{t-1})        t = 0 .. T-1,  x_{-1} = x0,   W = scale * G
//
// z_t = W_in [1; u_t] (+ W_fb y_{t-1}) is computed beforehand for every step at once (one matrix
// product on the Python side, recurra/cells/reservoir.py, which documents the equations). The kernel
// overwrites z with the states x: each step reads z_t[i] before it writes x_t[i], and x_{t-1} is the
// previous row of the same buffer.
//
// Registered as torch.ops.recurra_reservoir.run_sparse_, G in CSR form (int64 row pointers, int32
// column indices, values) and the scalar scale: a reservoir's W is sparse (10 % non-zero is usual).
// For a dense W the Python side runs a loop of BLAS matrix-vector products instead, which was
// measured faster than a plain loop compiled for the baseline x86-64 instruction set.
//
// Layout: z is (B, T, N) contiguous, x0 is (B, N) contiguous, float32 or float64. Batch rows are
// independent work items (at::parallel_for), so the results do not depend on the number of threads.
//
// tanh is declared "omp declare simd" so that, built with -fopenmp-simd, the compiler calls the
// vector tanh of the C library (glibc's libmvec) on whole rows; elsewhere it stays the scalar tanh.

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <cstdint>

extern "C" {
#pragma omp declare simd notinbranch
double tanh(double);
#pragma omp declare simd notinbranch
float tanhf(float);
}

namespace {

inline void tanh_row(double* v, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) v[i] = tanh(v[i]);
}

inline void tanh_row(float* v, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) v[i] = tanhf(v[i]);
}

// cur = (1 - alpha) * prev + alpha * tanh(cur), cur holding z_t + W x_{t-1}
template <typename scalar_t>
inline void leak_row(scalar_t* cur, const scalar_t* prev, int64_t n, scalar_t alpha) {
  tanh_row(cur, n);
  const scalar_t keep = scalar_t(1) - alpha;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) cur[i] = keep * prev[i] + alpha * cur[i];
}

// values_t is scalar_t, or float for a float64 reservoir whose W = scale * G has every G_ij on float32's
// grid: the loop is bound by its loads, and float32 values halve the bytes of W read at every step;
// the products and sums stay in scalar_t, so the result is that of the float64 W up to rounding.
template <typename scalar_t, typename value_t>
void sparse_sequence(scalar_t* z, int64_t T, int64_t N, const int64_t* crow, const int32_t* col, const value_t* values,
                     scalar_t scale, scalar_t alpha, const scalar_t* x0) {
  const scalar_t* prev = x0;
  for (int64_t t = 0; t < T; ++t) {
    scalar_t* cur = z + t * N;  // z_t on entry, x_t on exit
    for (int64_t i = 0; i < N; ++i) {
      scalar_t s = 0;
      const int64_t begin = crow[i], end = crow[i + 1];
#pragma omp simd reduction(+ : s)
      for (int64_t k = begin; k < end; ++k) s += scalar_t(values[k]) * prev[col[k]];
      cur[i] += scale * s;
    }
    leak_row(cur, prev, N, alpha);
    prev = cur;
  }
}

void check_common(const at::Tensor& z, const at::Tensor& x0) {
  TORCH_CHECK(z.device().is_cpu() && x0.device().is_cpu(), "recurra reservoir kernel: expected CPU tensors");
  TORCH_CHECK(z.dim() == 3 && z.is_contiguous(), "recurra reservoir kernel: expected a contiguous z of shape (B, T, N)");
  TORCH_CHECK(x0.dim() == 2 && x0.is_contiguous() && x0.size(0) == z.size(0) && x0.size(1) == z.size(2),
              "recurra reservoir kernel: expected a contiguous x0 of shape (B, N)");
  TORCH_CHECK(x0.scalar_type() == z.scalar_type(), "recurra reservoir kernel: z and x0 differ in dtype");
}

void run_sparse_(at::Tensor z, const at::Tensor& crow, const at::Tensor& col, const at::Tensor& values, double scale,
                 double alpha, const at::Tensor& x0) {
  check_common(z, x0);
  const int64_t B = z.size(0), T = z.size(1), N = z.size(2);
  TORCH_CHECK(crow.dim() == 1 && crow.size(0) == N + 1 && crow.scalar_type() == at::kLong && crow.is_contiguous(),
              "recurra reservoir kernel: expected int64 row pointers of length N + 1");
  TORCH_CHECK(col.dim() == 1 && col.scalar_type() == at::kInt && col.is_contiguous() && values.dim() == 1 &&
                  values.is_contiguous() && values.size(0) == col.size(0) &&
                  (values.scalar_type() == z.scalar_type() || values.scalar_type() == at::kFloat),
              "recurra reservoir kernel: expected int32 column indices and values of one length, values of z's dtype "
              "or float32");
  AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "recurra_reservoir_run_sparse", [&] {
    scalar_t* zp = z.data_ptr<scalar_t>();
    const scalar_t* x0p = x0.data_ptr<scalar_t>();
    const int64_t* crowp = crow.data_ptr<int64_t>();
    const int32_t* colp = col.data_ptr<int32_t>();
    auto run = [&](auto* vp) {
      at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b)
          sparse_sequence(zp + b * T * N, T, N, crowp, colp, vp, scalar_t(scale), scalar_t(alpha), x0p + b * N);
      });
    };
    if (values.scalar_type() == z.scalar_type())
      run(values.data_ptr<scalar_t>());
    else
      run(values.data_ptr<float>());
  });
}

}  // namespace

TORCH_LIBRARY(recurra_reservoir, m) {
  m.def("run_sparse_(Tensor(a!) z, Tensor crow, Tensor col, Tensor values, float scale, float alpha, Tensor x0) -> ()");
}

// CPU kernel only: torch.compile sees the op through its fake kernel (recurra/cells/reservoir.py)
TORCH_LIBRARY_IMPL(recurra_reservoir, CPU, m) { m.impl("run_sparse_", &run_sparse_); }
