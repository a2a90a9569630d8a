// Internal helpers shared by the kernels: dtype dispatch, parallel loops and
// the strided walk that lets a kernel read views without copying them.
#pragma once

#include <algorithm>
#include <array>
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

// The C++ type of each dtype.
template <DType D>
struct CType;
template <>
struct CType<DType::float32> {
  using type = float;
};
template <>
struct CType<DType::float64> {
  using type = double;
};
template <>
struct CType<DType::int64> {
  using type = int64_t;
};
template <>
struct CType<DType::int32> {
  using type = int32_t;
};
template <>
struct CType<DType::bool_> {
  using type = bool;
};

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::float32;
  if constexpr (std::is_same_v<T, double>) return DType::float64;
  if constexpr (std::is_same_v<T, int64_t>) return DType::int64;
  if constexpr (std::is_same_v<T, int32_t>) return DType::int32;
  return DType::bool_;
}

[[noreturn]] void throw_dtype_unsupported(const char* op, DType dt, const char* expected);

// Calls f(TypeTag<T>{}) with T the C++ type of `dt`.
template <class F>
decltype(auto) dispatch_all(DType dt, F&& f) {
  switch (dt) {
    case DType::float32:
      return f(TypeTag<float>{});
    case DType::float64:
      return f(TypeTag<double>{});
    case DType::int64:
      return f(TypeTag<int64_t>{});
    case DType::int32:
      return f(TypeTag<int32_t>{});
    default:
      return f(TypeTag<bool>{});
  }
}

// The same without bool, for arithmetic kernels.
template <class F>
decltype(auto) dispatch_numeric(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::float32:
      return f(TypeTag<float>{});
    case DType::float64:
      return f(TypeTag<double>{});
    case DType::int64:
      return f(TypeTag<int64_t>{});
    case DType::int32:
      return f(TypeTag<int32_t>{});
    default:
      throw_dtype_unsupported(op, dt, "a numeric (non-bool)");
  }
}

// The same, for kernels that only exist for floating types.
template <class F>
decltype(auto) dispatch_floating(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::float32:
      return f(TypeTag<float>{});
    case DType::float64:
      return f(TypeTag<double>{});
    default:
      throw_dtype_unsupported(op, dt, "a floating point");
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

// Element strides of `t` seen through a broadcast to `out` (0 on the
// broadcast dims and on the leading dims `t` lacks).
Strides broadcast_strides(const TensorImpl& t, const Shape& out);

// A walk over `shape` for N operands given by their element strides. Dims of
// size 1 are dropped and neighbouring dims merged where every operand is
// contiguous across them, so a dense tensor is one run. run() calls
// row(offsets, n, steps): n elements, operand k starting at element offsets[k]
// and advancing by steps[k].
template <size_t N>
class StridedWalk {
 public:
  using Offsets = std::array<int64_t, N>;

  StridedWalk(const Shape& shape, const std::array<Strides, N>& strides) {
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 0) {
        empty_ = true;
        return;
      }
      if (shape[d] == 1) continue;
      bool merge = !sizes_.empty();
      for (size_t k = 0; merge && k < N; ++k)
        merge = strides_[k].back() == strides[k][d] * shape[d];
      if (merge) {
        sizes_.back() *= shape[d];
        for (size_t k = 0; k < N; ++k) strides_[k].back() = strides[k][d];
      } else {
        sizes_.push_back(shape[d]);
        for (size_t k = 0; k < N; ++k) strides_[k].push_back(strides[k][d]);
      }
    }
    if (sizes_.empty()) {  // a single element
      sizes_.push_back(1);
      for (size_t k = 0; k < N; ++k) strides_[k].push_back(0);
    }
  }

  int64_t inner() const { return empty_ ? 0 : sizes_.back(); }
  int64_t rows() const {
    if (empty_) return 0;
    int64_t r = 1;
    for (size_t d = 0; d + 1 < sizes_.size(); ++d) r *= sizes_[d];
    return r;
  }
  Offsets steps() const {
    Offsets s{};
    for (size_t k = 0; k < N; ++k) s[k] = strides_[k].back();
    return s;
  }
  // True when every operand is one dense run (steps of 1 over all elements).
  bool dense() const {
    if (empty_ || sizes_.size() != 1) return false;
    for (size_t k = 0; k < N; ++k)
      if (strides_[k][0] != 1) return false;
    return true;
  }

  // Rows [begin, end) of the walk.
  template <class Row>
  void run(Row&& row, int64_t begin, int64_t end) const {
    if (empty_ || begin >= end) return;
    const size_t outer = sizes_.size() - 1;
    std::array<int64_t, N> off{};
    Shape idx(outer, 0);
    // the multi-index of row `begin`
    int64_t rest = begin;
    for (size_t d = outer; d-- > 0;) {
      idx[d] = rest % sizes_[d];
      rest /= sizes_[d];
      for (size_t k = 0; k < N; ++k) off[k] += idx[d] * strides_[k][d];
    }
    const Offsets step = steps();
    const int64_t n = sizes_.back();
    for (int64_t r = begin; r < end; ++r) {
      row(off, n, step);
      for (size_t d = outer; d-- > 0;) {
        if (++idx[d] < sizes_[d]) {
          for (size_t k = 0; k < N; ++k) off[k] += strides_[k][d];
          break;
        }
        for (size_t k = 0; k < N; ++k) off[k] -= strides_[k][d] * (sizes_[d] - 1);
        idx[d] = 0;
      }
    }
  }
  template <class Row>
  void run(Row&& row) const {
    run(row, 0, rows());
  }
  // The rows split over threads when there are many elements.
  template <class Row>
  void run_parallel(Row&& row) const {
    const int64_t r = rows(), n = inner();
    if (r * n < kParallelGrain || r < 2) {
      run(row, 0, r);
      return;
    }
    parallel_for(r * n,
                 [&](int64_t lo, int64_t hi) { run(row, (lo + n - 1) / n, (hi + n - 1) / n); });
  }

 private:
  Shape sizes_;
  std::array<Strides, N> strides_;
  bool empty_ = false;
};

}  // namespace tapegrad
