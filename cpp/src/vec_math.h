// Vectorized math with IEEE edge cases kept.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

namespace tapegrad {

// exp over an Eigen array. Eigen's vectorized exp clamps its argument, so it
// returns a tiny normal number instead of a subnormal or 0 far below the
// range and DBL_MAX instead of inf above it; those (rare) entries are
// recomputed with std::exp. Blocks keep the range check in cache.
template <class In, class Out>
void exp_into(const In& in, Out& out) {
  using T = typename In::Scalar;
  // below lo the result is subnormal (or 0); above hi it overflows
  const T lo = std::log(std::numeric_limits<T>::min()),
          hi = std::log(std::numeric_limits<T>::max());
  const T bound = std::min(-lo, hi);
  constexpr Eigen::Index kBlock = 2048;
  const Eigen::Index n = in.size();
  for (Eigen::Index start = 0; start < n; start += kBlock) {
    const Eigen::Index len = std::min(kBlock, n - start);
    auto src = in.segment(start, len);
    auto dst = out.segment(start, len);
    dst = src.exp();
    // one reduction: |x| within the range on both sides (a NaN propagates and
    // fails the test)
    if (src.abs().template maxCoeff<Eigen::PropagateNaN>() <= bound) continue;
    for (Eigen::Index i = 0; i < len; ++i) {
      const T v = src[i];
      if (!(v >= lo && v <= hi)) dst[i] = std::exp(v);
    }
  }
}

}  // namespace tapegrad
