// Internal helpers shared by the op files: dtype dispatch, parallel loops.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "tapegrad/tensor.h"

namespace tapegrad {

template <class T>
struct TypeTag {
  using type = T;
};

// Calls f(TypeTag<T>{}) with T the C++ type of `dt`.
template <class F>
decltype(auto) dispatch_all(DType dt, F&& f) {
  switch (dt) {
    case DType::float32:
      return f(TypeTag<float>{});
    case DType::float64:
      return f(TypeTag<double>{});
    default:
      return f(TypeTag<int64_t>{});
  }
}

// Same, for kernels that only exist for floating types.
template <class F>
decltype(auto) dispatch_floating(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::float32:
      return f(TypeTag<float>{});
    case DType::float64:
      return f(TypeTag<double>{});
    default:
      throw TypeError(std::string(op) + ": expected a floating point tensor, got int64");
  }
}

// Elements below which a loop stays on one thread. Measured here (bench/README.md):
// a second thread speeds up exp/tanh/add on 1M float32 elements by 1.2-1.8x,
// but a parallel region stalls for 6-8 ms whenever another process holds the
// other core, so only loops of at least 1M elements are split.
constexpr int64_t kParallelGrain = 1 << 20;

// for (i in [0, n)) body(begin, end) over chunks, threaded when n is large.
template <class Body>
void parallel_for(int64_t n, Body&& body) {
  int threads = get_num_threads();
  if (threads <= 1 || n < kParallelGrain) {
    body(int64_t(0), n);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    // Chunks start at multiples of 64 elements, so every element falls in a
    // vectorized loop body or in the one scalar tail exactly as it does on one
    // thread (the two can round a*b+c differently): results never depend on
    // the number of threads.
    int64_t chunk = ((n + nt - 1) / nt + 63) / 64 * 64;
    int64_t b = std::min<int64_t>(n, chunk * t), e = std::min<int64_t>(n, b + chunk);
    if (b < e) body(b, e);
  }
#else
  body(int64_t(0), n);
#endif
}

}  // namespace tapegrad
