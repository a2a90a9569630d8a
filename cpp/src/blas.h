#pragma once

#include <cstdint>
#include <string>

#include "tapegrad/tensor.h"

namespace tapegrad {

bool load_blas(const std::string& path);
bool blas_loaded();
void set_blas_threads(int n);

// C = op(A)·op(B), row-major, C contiguous (ldc = n). False when no BLAS is
// loaded or T has no BLAS routine; the caller then uses Eigen.
template <class T>
bool blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
               const T* b, int64_t ldb, T* c) {
  return false;
}
template <>
bool blas_gemm<float>(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                      int64_t, float*);
template <>
bool blas_gemm<double>(bool, bool, int64_t, int64_t, int64_t, const double*, int64_t, const double*,
                       int64_t, double*);

}  // namespace tapegrad
