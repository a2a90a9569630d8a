// Unary elementwise ops. Transcendentals use Eigen's vectorized kernels.
// Each op states its derivative f'(x) once, in ops; backward is g·f'(x) and
// jvp is t·f'(x).
#include <Eigen/Core>
#include <cmath>

#include "kernels.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"
#include "vec_math.h"

namespace tapegrad {

template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// out = f(x) as an Eigen array expression, chunked over threads. f is only
// instantiated for the dtypes the op accepts.
template <bool FloatingOnly, class F>
static Tensor unary_forward(const Tensor& x, F f) {
  Tensor out = empty(x->shape, x->dtype);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x->data<T>();
    T* po = out->data<T>();
    parallel_for(x->numel, [&](int64_t lo, int64_t hi) {
      ConstArrayMap<T> in(px + lo, hi - lo);
      ArrayMap<T> res(po + lo, hi - lo);
      f(in, res);
    });
  };
  if constexpr (FloatingOnly)
    dispatch_floating(x->dtype, "unary", run);
  else
    dispatch_all(x->dtype, run);
  return out;
}

// Transcendental ops compute in floating point: int64 input is promoted to
// float32, as PyTorch does.
static Tensor as_floating(const Tensor& x, const char* op) {
  check_defined(x, op);
  return is_floating(x->dtype) ? x : to_dtype(x, DType::float32);
}

enum Saves { kInput = 1, kOutput = 2 };

// Records y = f(x) with derivative deriv(x, y) (either may be null when not
// in `saves`): a saved output is rebuilt through the node, never held.
template <class Deriv>
static Tensor elementwise_rule(const char* name, const Tensor& x, const Tensor& out, int saves,
                               Deriv deriv) {
  forward_ad(out, {&x}, [&](const Grads& t) { return mul(t[0], deriv(x, out)); });
  return record(
      name, {&x}, out,
      [&] {
        Tensor saved_x = (saves & kInput) ? x : nullptr;
        return [saved_x, deriv](Node& n, const Tensor& g) -> Grads {
          Tensor y = n.saved_output ? n.output() : nullptr;
          return {mul(g, deriv(saved_x, y))};
        };
      },
      (saves & kOutput) != 0);
}

// The same, for ops whose derivative is a function of the output y, with a
// one-pass kernel g·f'(y) for the usual backward. Under create_graph the
// rule is written with ops (deriv) so that it differentiates again.
template <class Deriv, class Fused>
static Tensor output_rule(const char* name, const Tensor& x, const Tensor& out, Deriv deriv,
                          Fused fused) {
  forward_ad(out, {&x}, [&](const Grads& t) { return mul(t[0], deriv(out)); });
  return record(
      name, {&x}, out,
      [&] {
        return [deriv, fused](Node& n, const Tensor& g) -> Grads {
          Tensor y = n.output();
          if (grad_enabled() || g->shape != y->shape || g->dtype != y->dtype)
            return {mul(g, deriv(y))};
          Tensor dx = empty(y->shape, y->dtype);
          dispatch_all(y->dtype, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *pg = g->data<T>(), *py = y->data<T>();
            T* pd = dx->data<T>();
            parallel_for(y->numel, [&](int64_t lo, int64_t hi) {
              for (int64_t i = lo; i < hi; ++i) pd[i] = fused(pg[i], py[i]);
            });
          });
          return {dx};
        };
      },
      /*save_output=*/true);
}

static Tensor one_like(const Tensor& t) { return scalar_tensor(1.0, t->dtype); }

Tensor neg(const Tensor& x) {
  check_defined(x, "neg");
  Tensor out = unary_forward<false>(x, [](const auto& in, auto& res) { res = -in; });
  forward_ad(out, {&x}, [&](const Grads& t) { return neg(t[0]); });
  return record("NegBackward", {&x}, out,
                [] { return [](Node&, const Tensor& g) -> Grads { return {neg(g)}; }; });
}

Tensor exp(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "exp");
  Tensor out = unary_forward<true>(x, [](const auto& in, auto& res) { exp_into(in, res); });
  return output_rule(
      "ExpBackward", x, out, [](const Tensor& y) { return y; },
      [](auto g, auto y) { return g * y; });
}

Tensor log(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "log");
  Tensor out = unary_forward<true>(x, [](const auto& in, auto& res) { log_into(in, res); });
  return elementwise_rule("LogBackward", x, out, kInput,
                          [](const Tensor& x, const Tensor&) { return div(one_like(x), x); });
}

Tensor sqrt(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "sqrt");
  Tensor out = unary_forward<true>(x, [](const auto& in, auto& res) { sqrt_into(in, res); });
  // 1/(2·sqrt(x)): inf at 0, as PyTorch
  return elementwise_rule("SqrtBackward", x, out, kOutput, [](const Tensor&, const Tensor& y) {
    return div(scalar_tensor(0.5, y->dtype), y);
  });
}

Tensor sin(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "sin");
  Tensor out = unary_forward<true>(x, [](const auto& in, auto& res) { res = in.sin(); });
  return elementwise_rule("SinBackward", x, out, kInput,
                          [](const Tensor& x, const Tensor&) { return cos(x); });
}

Tensor cos(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "cos");
  Tensor out = unary_forward<true>(x, [](const auto& in, auto& res) { res = in.cos(); });
  return elementwise_rule("CosBackward", x, out, kInput,
                          [](const Tensor& x, const Tensor&) { return neg(sin(x)); });
}

Tensor tanh(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "tanh");
  Tensor out = unary_forward<true>(x, [](const auto& in, auto& res) { tanh_into(in, res); });
  return output_rule(
      "TanhBackward", x, out, [](const Tensor& y) { return sub(one_like(y), mul(y, y)); },
      [](auto g, auto y) { return g * (decltype(y)(1) - y * y); });
}

Tensor sigmoid(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "sigmoid");
  Tensor out = unary_forward<true>(x, [](const auto& in, auto& res) { sigmoid_into(in, res); });
  return output_rule(
      "SigmoidBackward", x, out, [](const Tensor& s) { return mul(s, sub(one_like(s), s)); },
      [](auto g, auto s) { return g * (s * (decltype(s)(1) - s)); });
}

Tensor sign(const Tensor& x) {
  check_defined(x, "sign");
  // not differentiable (its derivative is 0 almost everywhere)
  return unary_forward<false>(x, [](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    res = (in > T(0)).template cast<T>() - (in < T(0)).template cast<T>();
  });
}

Tensor abs(const Tensor& x) {
  check_defined(x, "abs");
  Tensor out = unary_forward<false>(x, [](const auto& in, auto& res) { res = in.abs(); });
  // sign(x): the subgradient 0 is chosen at the kink, as PyTorch
  return elementwise_rule("AbsBackward", x, out, kInput,
                          [](const Tensor& x, const Tensor&) { return sign(x); });
}

Tensor relu(const Tensor& x) {
  check_defined(x, "relu");
  Tensor out = unary_forward<false>(x, [](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    res = in.max(T(0));
  });
  // mask = not (output <= 0): the subgradient 0 is chosen at the kink and a
  // NaN passes the gradient, as PyTorch's threshold_backward
  return output_rule(
      "ReluBackward", x, out,
      [](const Tensor& y) {
        return sub(one_like(y), compare(y, scalar_tensor(0.0, y->dtype), Compare::le));
      },
      [](auto g, auto y) { return y <= decltype(y)(0) ? decltype(g)(0) : g; });
}

Tensor softplus(const Tensor& x_in, double beta, double threshold) {
  Tensor x = as_floating(x_in, "softplus");
  if (!(beta > 0) && !(beta < 0))
    throw ValueError("softplus: beta must be nonzero, got " + std::to_string(beta));
  Tensor out = unary_forward<true>(x, [beta, threshold](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    const T b = T(beta), thr = T(threshold);
    // log(1 + exp(bx))/b, computed as max(bx, 0) + log1p(exp(-|bx|)) so that
    // it stays finite for large |x|; linear above the threshold, as PyTorch.
    Eigen::Array<T, Eigen::Dynamic, 1> bx = in * b, e(in.size());
    exp_into(-bx.abs(), e);
    res = (bx > thr).select(in, (bx.max(T(0)) + e.log1p()) / b);
  });
  // sigmoid(bx) below the threshold, 1 above
  return elementwise_rule(
      "SoftplusBackward", x, out, kInput, [beta, threshold](const Tensor& x, const Tensor&) {
        Tensor bx = mul(x, scalar_tensor(beta, x->dtype));
        return where(compare(bx, scalar_tensor(threshold, x->dtype), Compare::gt), one_like(x),
                     sigmoid(bx));
      });
}

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  check_defined(x, "clamp");
  if (!lo && !hi) throw ValueError("clamp: at least one of 'min' or 'max' must not be None");
  Tensor out = unary_forward<false>(x, [lo, hi](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    res = in;
    if (lo) res = res.max(T(*lo));
    if (hi) res = res.min(T(*hi));
    // NaN stays NaN, as PyTorch
    res = (in != in).select(in, res);
  });
  // gradient passes where min <= x <= max (boundaries included, as PyTorch)
  return elementwise_rule(
      "ClampBackward", x, out, kInput, [lo, hi](const Tensor& x, const Tensor&) {
        Tensor mask = one_like(x);
        if (lo) mask = mul(mask, compare(x, scalar_tensor(*lo, x->dtype), Compare::ge));
        if (hi) mask = mul(mask, compare(x, scalar_tensor(*hi, x->dtype), Compare::le));
        return mask;
      });
}

}  // namespace tapegrad
