// Register-blocked products for the compiled loops' per-step matrix products on the CPU, so that a step's
// product and its gates run on rows still in the first-level cache, with no call into BLAS per step.
//
// tile_product<T, R, NV>: for R rows of A (R x K, A[r, k] at a + r·lda + k·ak) and NV vector-wide columns of B
// (row k's NV vectors at b + k·ldb, W lanes each),
//
//     C[r, v] (+)= Σ_k A[r, k] · B[k, v]       (R x NV vectors of accumulators, held in registers)
//
// with C's vector v of row r at c + r·ldc + v·cvs, so that the NV vectors need not be side by side (the
// LSTM's four gates of one block of units are H apart). The last `valid` lanes rule: vectors flagged as
// partial load and store their first `valid` lanes only (the tail of H when W does not divide it).
//
// Built with AVX-512 (W = 16 float / 8 double lanes, 32 registers: R = 6 rows x 4 vectors of accumulators)
// or AVX2 + FMA (W = 8 / 4, 16 registers: R = 2); elsewhere RECURRA_TILES is undefined and the callers keep
// their BLAS path.
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#define RECURRA_TILES 1

namespace recurra_tiles {

template <typename T>
struct Lanes;

#if defined(__AVX512F__)
template <>
struct Lanes<float> {
  using V = __m512;
  static constexpr int W = 16, R = 6;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V load_first(const float* p, int n) { return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p); }
  static void store_first(float* p, V v, int n) { _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v); }
  static V set1(float a) { return _mm512_set1_ps(a); }
  static V zero() { return _mm512_setzero_ps(); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
};
template <>
struct Lanes<double> {
  using V = __m512d;
  static constexpr int W = 8, R = 6;
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V load_first(const double* p, int n) { return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p); }
  static void store_first(double* p, V v, int n) { _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1), v); }
  static V set1(double a) { return _mm512_set1_pd(a); }
  static V zero() { return _mm512_setzero_pd(); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
};
#else
template <>
struct Lanes<float> {
  using V = __m256;
  static constexpr int W = 8, R = 2;
  static __m256i mask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V load_first(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store_first(float* p, V v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  static V set1(float a) { return _mm256_set1_ps(a); }
  static V zero() { return _mm256_setzero_ps(); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
};
template <>
struct Lanes<double> {
  using V = __m256d;
  static constexpr int W = 4, R = 2;
  static __m256i mask(int n) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V load_first(const double* p, int n) { return _mm256_maskload_pd(p, mask(n)); }
  static void store_first(double* p, V v, int n) { _mm256_maskstore_pd(p, mask(n), v); }
  static V set1(double a) { return _mm256_set1_pd(a); }
  static V zero() { return _mm256_setzero_pd(); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
};
#endif

// Where C's vectors are partial: none, only the last (a row's tail), or every one (each gate's tail).
enum class Partial { none, last, all };

template <typename T, int R, int NV>
[[gnu::always_inline]] inline void tile_product(const T* a, int64_t lda, int64_t ak, const T* b, int64_t ldb, int64_t K, T* c,
                                                int64_t ldc, int64_t cvs, bool accumulate, Partial partial, int valid) {
  using L = Lanes<T>;
  using V = typename L::V;
  V acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      T* p = c + r * ldc + v * cvs;
      const bool part = partial == Partial::all || (partial == Partial::last && v == NV - 1);
      acc[r][v] = !accumulate ? L::zero() : part ? L::load_first(p, valid) : L::load(p);
    }
  }
  for (int64_t k = 0; k < K; ++k) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = L::load(b + k * ldb + v * L::W);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const V av = L::set1(a[r * lda + k * ak]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = L::fma(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      T* p = c + r * ldc + v * cvs;
      const bool part = partial == Partial::all || (partial == Partial::last && v == NV - 1);
      if (part) {
        L::store_first(p, acc[r][v], valid);
      } else {
        L::store(p, acc[r][v]);
      }
    }
  }
}

// tile_product for any rows <= Lanes<T>::R, chosen at run time.
template <typename T, int NV, int R = Lanes<T>::R>
inline void tile_rows(int rows, const T* a, int64_t lda, int64_t ak, const T* b, int64_t ldb, int64_t K, T* c,
                      int64_t ldc, int64_t cvs, bool accumulate, Partial partial, int valid) {
  if constexpr (R >= 1) {
    if (rows == R) {
      tile_product<T, R, NV>(a, lda, ak, b, ldb, K, c, ldc, cvs, accumulate, partial, valid);
    } else {
      tile_rows<T, NV, R - 1>(rows, a, lda, ak, b, ldb, K, c, ldc, cvs, accumulate, partial, valid);
    }
  }
}

// C (rows x cols) (+)= A (rows x K, A[r, k] at a + r·lda + k·ak) · B (K x cols, row stride ldb, at least whole
// vectors wide: padded), over the columns in blocks of up to four vectors, and in each block over the rows R at
// a time (a block of B is read from the cache once per R rows).
template <typename T>
inline void tile_matmul(int64_t rows, const T* a, int64_t lda, int64_t ak, const T* b, int64_t ldb, int64_t K, T* c,
                        int64_t ldc, int64_t cols, bool accumulate) {
  constexpr int R = Lanes<T>::R;
  constexpr int W = Lanes<T>::W;
  const int64_t vectors = (cols + W - 1) / W;
  const int tail = static_cast<int>(cols - (vectors - 1) * W);
  for (int64_t v0 = 0; v0 < vectors; v0 += 4) {
    const int nv = static_cast<int>(std::min<int64_t>(4, vectors - v0));
    const Partial partial = v0 + nv == vectors && tail < W ? Partial::last : Partial::none;
    const T* bb = b + v0 * W;
    T* cc = c + v0 * W;
    for (int64_t q = 0; q < rows; q += R) {
      const int n = static_cast<int>(std::min<int64_t>(R, rows - q));
      const T* aq = a + q * lda;
      T* cq = cc + q * ldc;
      switch (nv) {
        case 4: tile_rows<T, 4>(n, aq, lda, ak, bb, ldb, K, cq, ldc, W, accumulate, partial, tail); break;
        case 3: tile_rows<T, 3>(n, aq, lda, ak, bb, ldb, K, cq, ldc, W, accumulate, partial, tail); break;
        case 2: tile_rows<T, 2>(n, aq, lda, ak, bb, ldb, K, cq, ldc, W, accumulate, partial, tail); break;
        default: tile_rows<T, 1>(n, aq, lda, ak, bb, ldb, K, cq, ldc, W, accumulate, partial, tail); break;
      }
    }
  }
}

}  // namespace recurra_tiles

#endif
