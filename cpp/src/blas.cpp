// Large matrix products go to OpenBLAS (the scipy-openblas32 wheel, loaded at
// import by its path); Eigen handles small ones and is the fallback when the
// library cannot be loaded.
#include "blas.h"

#include <dlfcn.h>

#include <mutex>

namespace tapegrad {

namespace {
using sgemm_t = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int,
                         float, float*, int);
using dgemm_t = void (*)(int, int, int, int, int, int, double, const double*, int, const double*,
                         int, double, double*, int);
using set_threads_t = void (*)(int);
sgemm_t sgemm_fn = nullptr;
dgemm_t dgemm_fn = nullptr;
set_threads_t set_threads_fn = nullptr;
}  // namespace

bool load_blas(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return false;
  auto s = reinterpret_cast<sgemm_t>(dlsym(handle, "scipy_cblas_sgemm"));
  auto d = reinterpret_cast<dgemm_t>(dlsym(handle, "scipy_cblas_dgemm"));
  auto t = reinterpret_cast<set_threads_t>(dlsym(handle, "scipy_openblas_set_num_threads"));
  if (!s || !d) return false;
  sgemm_fn = s;
  dgemm_fn = d;
  set_threads_fn = t;
  if (set_threads_fn) set_threads_fn(get_num_threads());
  return true;
}

bool blas_loaded() { return sgemm_fn != nullptr; }

void set_blas_threads(int n) {
  if (set_threads_fn) set_threads_fn(n);
}

// CBLAS constants: row-major 101, no-trans 111, trans 112.
template <>
bool blas_gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a,
                      int64_t lda, const float* b, int64_t ldb, float* c) {
  if (!sgemm_fn) return false;
  sgemm_fn(101, ta ? 112 : 111, tb ? 112 : 111, int(m), int(n), int(k), 1.0f, a, int(lda), b,
           int(ldb), 0.0f, c, int(n));
  return true;
}

template <>
bool blas_gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a,
                       int64_t lda, const double* b, int64_t ldb, double* c) {
  if (!dgemm_fn) return false;
  dgemm_fn(101, ta ? 112 : 111, tb ? 112 : 111, int(m), int(n), int(k), 1.0, a, int(lda), b,
           int(ldb), 0.0, c, int(n));
  return true;
}

}  // namespace tapegrad
