// Vectorized math with IEEE edge cases kept.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <limits>

namespace tapegrad {

// exp over an Eigen array. Eigen's vectorized exp clamps its argument, so it
// returns a tiny normal number instead of a subnormal or 0 far below the
// range and DBL_MAX instead of inf above it; those (rare) entries are
// recomputed with std::exp.
template <class In, class Out>
void exp_into(const In& in, Out& out) {
  using T = typename In::Scalar;
  out = in.exp();
  // below lo the result is subnormal (or 0); above hi it overflows
  const T lo = std::log(std::numeric_limits<T>::min()), hi = std::log(std::numeric_limits<T>::max());
  const Eigen::Index n = in.size();
  for (Eigen::Index i = 0; i < n; ++i) {
    T v = in[i];
    if (!(v >= lo && v <= hi)) out[i] = std::exp(v);
  }
}

}  // namespace tapegrad
