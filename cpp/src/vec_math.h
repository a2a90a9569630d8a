// Vectorized math with IEEE edge cases kept. Every function here is held to a
// bound in ulps against the correctly rounded result (tests/test_ulp.py).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

namespace tapegrad {

namespace vec_detail {

// exp of float packets as y·2^m with y = exp(r), x = m·ln2 + r, |r| <= ln2/2
// (Cephes' polynomial for y). ln2 is split in two (Cody–Waite, exact with
// FMA): Eigen's AVX-512 float exp reduces with ln2 rounded to one float,
// which costs up to 4.5 ulp near |x| = 88.
template <class P>
P exp_float_mantissa(const P& x, P& m) {
  using namespace Eigen::internal;
  m = pfloor(pmadd(x, pset1<P>(1.44269504088896341f), pset1<P>(0.5f)));
  P r = pmadd(m, pset1<P>(-0.693147182464599609375f), x);  // ln2 = hi + lo
  r = pmadd(m, pset1<P>(1.9046542121259336e-09f), r);
  const P r2 = pmul(r, r);
  P y = pmadd(pset1<P>(1.9875691500E-4f), r, pset1<P>(1.3981999507E-3f));
  P y1 = pmadd(pset1<P>(4.1665795894E-2f), r, pset1<P>(1.6666665459E-1f));
  y = pmadd(y, r, pset1<P>(8.3334519073E-3f));
  y1 = pmadd(y1, r, pset1<P>(5.0000001201E-1f));
  y = pmadd(y, pmul(r2, r), y1);
  return pmadd(y, r2, padd(r, pset1<P>(1.0f)));
}

// 2^k for integral k in [-126, 127], as a float packet
template <class P>
P exp2_int(const P& k) {
  using namespace Eigen::internal;
  using PI = typename unpacket_traits<P>::integer_packet;
  return preinterpret<P>(plogical_shift_left<23>(padd(pcast<P, PI>(k), pset1<PI>(127))));
}

// exp of float packets for x in [log(FLT_MIN), log(FLT_MAX)], within 1.3 ulp.
// 2^m is applied as two factors: Eigen's one factor is inf for m = 128, so
// its exp gave inf for x in [88.38, 88.72].
template <class P>
P exp_float_packet(const P& x) {
  using namespace Eigen::internal;
  P m;
  const P y = exp_float_mantissa(x, m);
  const P half = pfloor(pmul(m, pset1<P>(0.5f)));
  return pmul(pmul(y, exp2_int(half)), exp2_int(psub(m, half)));
}

constexpr float kExpLoF = -87.33654f;  // log(FLT_MIN), rounded up
constexpr float kExpHiF = 88.72283f;   // log(FLT_MAX), rounded down

struct ExpFloatOp {
  float operator()(float x) const { return std::exp(x); }
  template <class P>
  P packetOp(const P& x) const {
    using namespace Eigen::internal;
    // clamped: the caller recomputes entries outside the range with std::exp
    return exp_float_packet(pmax(pmin(x, pset1<P>(kExpHiF)), pset1<P>(kExpLoF)));
  }
};

// tanh of float packets, within 1.5 ulp. Eigen's float tanh is a rational
// approximation off by up to 4.7 ulp. For |x| < atanh(1/2), x + x·u·P(u)
// with u = x² (P a near-minimax fit of (tanh(x)/x − 1)/u, relative error
// 4e-8); above, 1 − 2/(exp(2|x|) + 1), whose subtraction loses nothing
// because the result is at least 1/2.
struct TanhFloatOp {
  float operator()(float x) const { return std::tanh(x); }
  template <class P>
  P packetOp(const P& x) const {
    using namespace Eigen::internal;
    // tanh(|x|), then x's sign: tanh is odd, and tanh(-0) is -0
    const P ax = pabs(x);
    const P u = pmul(ax, ax);
    P p = pset1<P>(-0.006610354408621788f);
    p = pmadd(p, u, pset1<P>(0.021309465169906616f));
    p = pmadd(p, u, pset1<P>(-0.05390944331884384f));
    p = pmadd(p, u, pset1<P>(0.13333113491535187f));
    p = pmadd(p, u, pset1<P>(-0.3333333134651184f));
    const P small = pmadd(pmul(ax, u), p, ax);
    // exp(2|x|), clamped where 1 − 2/(exp(2|x|) + 1) rounds to 1 anyway
    P m;
    const P y = exp_float_mantissa(pmin(padd(ax, ax), pset1<P>(18.5f)), m);
    const P e = pmul(y, exp2_int(m));
    const P large = psub(pset1<P>(1.0f), pdiv(pset1<P>(2.0f), padd(e, pset1<P>(1.0f))));
    const P r = pselect(pcmp_lt(ax, pset1<P>(0.5493061443340549f)), small, large);
    const P signed_r = por(r, pand(x, pset1<P>(-0.0f)));
    return pselect(pcmp_eq(x, x), signed_r, x);  // NaN stays NaN
  }
};

// log with subnormal inputs kept: Eigen's vectorized log raises them to the
// smallest normal number (log(1e-45f) came out as -87.3 instead of -103.3).
// Inputs below the smallest normal are scaled by 2^s into the normal range
// and s·ln2 (in two parts, exact with FMA) is subtracted again; zero,
// negatives and NaN are unaffected by the scaling.
template <class T>
struct LogOp {
  T operator()(T x) const { return std::log(x); }
  template <class P>
  P packetOp(const P& x) const {
    using namespace Eigen::internal;
    constexpr bool f32 = std::is_same_v<T, float>;
    const T scale = f32 ? T(16777216.0) : T(18014398509481984.0);  // 2^24, 2^54
    const T shift = f32 ? T(-24) : T(-54);
    const P low = pcmp_lt(x, pset1<P>(std::numeric_limits<T>::min()));
    const P y = plog(pselect(low, pmul(x, pset1<P>(scale)), x));
    const P k = pand(low, pset1<P>(shift));  // shift where scaled, else 0
    const T ln2_hi = f32 ? T(0.693145751953125) : T(0.693147180369123816490);
    const T ln2_lo = f32 ? T(1.4286068203094173e-06) : T(1.90821492927058770002e-10);
    return pmadd(k, pset1<P>(ln2_lo), pmadd(k, pset1<P>(ln2_hi), y));
  }
};

// sigmoid from x and e = exp(-|x|): 1/(1+e) for x >= 0 and e/(1+e) below, so
// that a result far below 1 keeps its precision down to the subnormals
// (1/(1+exp(-x)) gave 0 for sigmoid(-100.0f), which is 3.8e-44).
struct SigmoidOp {
  template <class T>
  T operator()(T x, T e) const {
    return (x >= T(0) ? T(1) : e) / (T(1) + e);
  }
  template <class P>
  P packetOp(const P& x, const P& e) const {
    using namespace Eigen::internal;
    const P one = pset1<P>(typename unpacket_traits<P>::type(1));
    // x < 0 is false for NaN, which then gives 1/(1 + NaN) = NaN
    return pdiv(pselect(pcmp_lt(x, pzero(x)), e, one), padd(one, e));
  }
};

}  // namespace vec_detail

}  // namespace tapegrad

namespace Eigen::internal {
template <class T>
struct functor_traits<tapegrad::vec_detail::LogOp<T>> {
  enum { Cost = 25, PacketAccess = packet_traits<T>::HasLog };
};
template <>
struct functor_traits<tapegrad::vec_detail::SigmoidOp> {
  enum { Cost = 10, PacketAccess = true };
};
template <>
struct functor_traits<tapegrad::vec_detail::ExpFloatOp> {
  enum { Cost = 20, PacketAccess = true };
};
template <>
struct functor_traits<tapegrad::vec_detail::TanhFloatOp> {
  enum { Cost = 30, PacketAccess = true };
};
}  // namespace Eigen::internal

namespace tapegrad {

// exp over an Eigen array. The vectorized exp clamps its argument, so it
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
    if constexpr (std::is_same_v<T, float>)
      dst = src.unaryExpr(vec_detail::ExpFloatOp());
    else
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

// log over an Eigen array (see LogOp).
template <class In, class Out>
void log_into(const In& in, Out& out) {
  out = in.unaryExpr(vec_detail::LogOp<typename In::Scalar>());
}

// sigmoid over an Eigen array (see SigmoidOp).
template <class In, class Out>
void sigmoid_into(const In& in, Out& out) {
  exp_into(-in.abs(), out);
  out = in.binaryExpr(out, vec_detail::SigmoidOp());
}

// sqrt with the IEEE instruction (correctly rounded). Eigen's AVX-512 sqrt
// is an rsqrt estimate plus Newton steps: up to 3 ulp off, NaN for inf, 0
// for subnormals. The plain loop vectorizes to vsqrtps/vsqrtpd
// (-fno-math-errno).
template <class In, class Out>
void sqrt_into(const In& in, Out& out) {
  const Eigen::Index n = in.size();
  for (Eigen::Index i = 0; i < n; ++i) out[i] = std::sqrt(in[i]);
}

// tanh over an Eigen array: TanhFloatOp for float; Eigen's double tanh is
// std::tanh element by element.
template <class In, class Out>
void tanh_into(const In& in, Out& out) {
  using T = typename In::Scalar;
  if constexpr (std::is_same_v<T, float>)
    out = in.unaryExpr(vec_detail::TanhFloatOp());
  else
    out = in.tanh();
}

}  // namespace tapegrad
