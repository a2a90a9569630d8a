// Unary elementwise ops. Transcendentals use Eigen's vectorized kernels.
// Each op states its derivative f'(x) once; backward is g·f'(x) and jvp is
// t·f'(x) (elementwise_rule).
#include <cmath>

#include "elementwise.h"
#include "tapegrad/registry.h"
#include "vec_math.h"

namespace tapegrad {

// Transcendental ops compute in floating point: integer and bool inputs are
// promoted to the default dtype, as PyTorch does.
static Tensor as_floating(const Tensor& x, const char* op) {
  check_defined(x, op);
  return is_floating(x->dtype) ? x : to_dtype(x, default_dtype());
}

// The same as elementwise_rule, for ops whose derivative is a function of the
// output y, with a one-pass kernel g·f'(y) for the usual backward. Under
// create_graph the rule is written with ops (deriv) so that it differentiates
// again.
template <class Deriv, class Fused>
static Tensor output_rule(const char* name, const Tensor& x, const Tensor& out, Deriv deriv,
                          Fused fused) {
  forward_ad(out, {&x}, [&](const Grads& t) { return mul(t[0], deriv(out)); });
  return record(
      name, {&x}, out,
      [&] {
        return [deriv, fused](Node& n, const Tensor& g) -> Grads {
          Tensor y = n.output();
          if (grad_enabled() || g->shape != y->shape || g->dtype != y->dtype || !g->contiguous)
            return {mul(g, deriv(y))};
          Tensor dx = empty(y->shape, y->dtype);
          dispatch_floating(y->dtype, n.name, [&](auto tag) {
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

Tensor neg(const Tensor& x) {
  check_defined(x, "neg");
  if (x->dtype == DType::bool_)
    throw RuntimeError(
        "neg: negation, the `-` operator, on a bool tensor is not supported. If you are trying "
        "to invert a mask, use the `~` or `logical_not()` operator instead.");
  Tensor out = unary_map(x, numeric_dtypes, [](const auto& in, auto& res) { res = -in; });
  forward_ad(out, {&x}, [&](const Grads& t) { return neg(t[0]); });
  return record("NegBackward", {&x}, out,
                [] { return [](Node&, const Tensor& g) -> Grads { return {neg(g)}; }; });
}

Tensor exp(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "exp");
  Tensor out = unary_map(x, floating_dtypes, [](const auto& in, auto& res) { exp_into(in, res); });
  return output_rule(
      "ExpBackward", x, out, [](const Tensor& y) { return y; },
      [](auto g, auto y) { return g * y; });
}

Tensor log(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "log");
  Tensor out = unary_map(x, floating_dtypes, [](const auto& in, auto& res) { log_into(in, res); });
  return elementwise_rule("LogBackward", x, out, kInput,
                          [](const Tensor& x, const Tensor&) { return div(one_like(x), x); });
}

Tensor sqrt(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "sqrt");
  Tensor out = unary_map(x, floating_dtypes, [](const auto& in, auto& res) { sqrt_into(in, res); });
  // 1/(2·sqrt(x)): inf at 0, as PyTorch
  return elementwise_rule("SqrtBackward", x, out, kOutput, [](const Tensor&, const Tensor& y) {
    return div(scalar_tensor(0.5, y->dtype), y);
  });
}

Tensor sin(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "sin");
  Tensor out = unary_map(x, floating_dtypes, [](const auto& in, auto& res) { res = in.sin(); });
  return elementwise_rule("SinBackward", x, out, kInput,
                          [](const Tensor& x, const Tensor&) { return cos(x); });
}

Tensor cos(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "cos");
  Tensor out = unary_map(x, floating_dtypes, [](const auto& in, auto& res) { res = in.cos(); });
  return elementwise_rule("CosBackward", x, out, kInput,
                          [](const Tensor& x, const Tensor&) { return neg(sin(x)); });
}

Tensor tanh(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "tanh");
  Tensor out = unary_map(x, floating_dtypes, [](const auto& in, auto& res) { tanh_into(in, res); });
  return output_rule(
      "TanhBackward", x, out, [](const Tensor& y) { return sub(one_like(y), mul(y, y)); },
      [](auto g, auto y) { return g * (decltype(y)(1) - y * y); });
}

Tensor sigmoid(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "sigmoid");
  Tensor out =
      unary_map(x, floating_dtypes, [](const auto& in, auto& res) { sigmoid_into(in, res); });
  return output_rule(
      "SigmoidBackward", x, out, [](const Tensor& s) { return mul(s, sub(one_like(s), s)); },
      [](auto g, auto s) { return g * (s * (decltype(s)(1) - s)); });
}

Tensor sign(const Tensor& x) {
  check_defined(x, "sign");
  // not differentiable (its derivative is 0 almost everywhere)
  if (x->dtype == DType::bool_) return clone(detach(x));
  return unary_map(x, numeric_dtypes, [](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    res = (in > T(0)).template cast<T>() - (in < T(0)).template cast<T>();
  });
}

Tensor abs(const Tensor& x) {
  check_defined(x, "abs");
  if (x->dtype == DType::bool_) return clone(detach(x));
  Tensor out = unary_map(x, numeric_dtypes, [](const auto& in, auto& res) { res = in.abs(); });
  // sign(x): the subgradient 0 is chosen at the kink, as PyTorch
  return elementwise_rule("AbsBackward", x, out, kInput,
                          [](const Tensor& x, const Tensor&) { return sign(x); });
}

Tensor relu(const Tensor& x) {
  check_defined(x, "relu");
  Tensor out = unary_map(x, numeric_dtypes, [](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    res = in.max(T(0));
  });
  // mask = not (output <= 0): the subgradient 0 is chosen at the kink and a
  // NaN passes the gradient, as PyTorch's threshold_backward
  return output_rule(
      "ReluBackward", x, out,
      [](const Tensor& y) {
        return to_dtype(logical_not(compare(y, zero_like(y), Compare::le)), y->dtype);
      },
      [](auto g, auto y) { return y <= decltype(y)(0) ? decltype(g)(0) : g; });
}

Tensor softplus(const Tensor& x_in, double beta, double threshold) {
  Tensor x = as_floating(x_in, "softplus");
  if (!(beta > 0) && !(beta < 0))
    throw RuntimeError("softplus: beta must be nonzero, got " + std::to_string(beta));
  Tensor out = unary_map(x, floating_dtypes, [beta, threshold](const auto& in, auto& res) {
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

Tensor clamp(const Tensor& x, std::optional<Scalar> lo, std::optional<Scalar> hi) {
  check_defined(x, "clamp");
  if (!lo && !hi) throw RuntimeError("clamp: at least one of 'min' or 'max' must not be None");
  // a floating bound makes an integer tensor floating, as PyTorch's promotion
  Tensor src = x;
  if (!is_floating(x->dtype) && ((lo && lo->is_floating()) || (hi && hi->is_floating())))
    src = to_dtype(x, default_dtype());
  Tensor out = unary_map(src, numeric_dtypes, [lo, hi](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    res = in;
    if (lo) res = res.max(lo->is_floating() ? T(lo->d) : T(lo->i));
    if (hi) res = res.min(hi->is_floating() ? T(hi->d) : T(hi->i));
    // NaN stays NaN, as PyTorch
    if constexpr (std::is_floating_point_v<T>) res = (in != in).select(in, res);
  });
  // gradient passes where min <= x <= max (boundaries included, as PyTorch)
  return elementwise_rule("ClampBackward", src, out, kInput,
                          [lo, hi](const Tensor& x, const Tensor&) {
                            Tensor mask = one_like(x);
                            if (lo) mask = mul(mask, compare(x, wrapped_scalar(*lo), Compare::ge));
                            if (hi) mask = mul(mask, compare(x, wrapped_scalar(*hi), Compare::le));
                            return mask;
                          });
}

namespace {
// clamp with tensor bounds: the composite of maximum and minimum
Tensor clamp_tensors(const Tensor& x, const Tensor& lo, const Tensor& hi) {
  if (!lo && !hi) throw RuntimeError("clamp: at least one of 'min' or 'max' must not be None");
  Tensor out = x;
  if (lo) out = maximum(out, lo);
  if (hi) out = minimum(out, hi);
  return out;
}
}  // namespace

TG_OP("neg(Tensor input) -> Tensor", "function method inplace __neg__ also:negative", neg,
      R"(-input.

>>> tg.neg(tg.tensor([1.5, -2.0])).tolist()
[-1.5, 2.0])");
TG_OP("exp(Tensor input) -> Tensor", "function method inplace", exp, R"(e ** input, elementwise.

>>> tg.exp(tg.tensor([0.0])).item()
1.0)");
TG_OP("log(Tensor input) -> Tensor", "function method inplace", log,
      R"(The natural logarithm, elementwise.

>>> tg.log(tg.tensor([1.0])).item()
0.0)");
TG_OP("sqrt(Tensor input) -> Tensor", "function method inplace", sqrt,
      R"(The square root, elementwise (correctly rounded).

>>> tg.sqrt(tg.tensor([4.0])).item()
2.0)");
TG_OP("sin(Tensor input) -> Tensor", "function method inplace", sin, R"(The sine, elementwise.

>>> tg.sin(tg.tensor([0.0])).item()
0.0)");
TG_OP("cos(Tensor input) -> Tensor", "function method inplace", cos, R"(The cosine, elementwise.

>>> tg.cos(tg.tensor([0.0])).item()
1.0)");
TG_OP("tanh(Tensor input) -> Tensor", "function method inplace", tanh,
      R"(The hyperbolic tangent, elementwise.

>>> tg.tanh(tg.tensor([0.0])).item()
0.0)");
TG_OP("sigmoid(Tensor input) -> Tensor", "function method inplace", sigmoid,
      R"(1 / (1 + e ** -input), elementwise.

>>> tg.sigmoid(tg.tensor([0.0])).item()
0.5)");
TG_OP("relu(Tensor input) -> Tensor", "function method inplace", relu,
      R"(max(input, 0), elementwise (the subgradient 0 at 0).

>>> tg.relu(tg.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0])");
TG_OP("abs(Tensor input) -> Tensor", "function method inplace __abs__ also:absolute", abs,
      R"(|input|, elementwise (the subgradient 0 at 0).

>>> tg.abs(tg.tensor([-1.5])).item()
1.5)");
TG_OP("sign(Tensor input) -> Tensor", "function method inplace", sign,
      R"(-1, 0 or 1 by the sign of each element (not differentiable).

>>> tg.sign(tg.tensor([-2.0, 0.0, 3.0])).tolist()
[-1.0, 0.0, 1.0])");
TG_OP("softplus(Tensor input, float beta=1, float threshold=20) -> Tensor", "function", softplus,
      R"(log(1 + exp(beta·x)) / beta, linear above the threshold (as F.softplus).

>>> round(tg.softplus(tg.tensor([0.0])).item(), 4)
0.6931)");
TG_OP("clamp(Tensor input, Tensor? min=None, Tensor? max=None) -> Tensor",
      "function method inplace also:clip", clamp_tensors,
      R"(input limited elementwise by tensor bounds (maximum then minimum).

>>> tg.clamp(tg.tensor([-2.0, 3.0]), min=tg.tensor([-1.0, 0.0])).tolist()
[-1.0, 3.0])");
TG_OP("clamp(Tensor input, Scalar? min=None, Scalar? max=None) -> Tensor",
      "function method inplace also:clip", clamp,
      R"(input limited to [min, max]; the gradient passes where min <= x <= max.

>>> tg.clamp(tg.tensor([-2.0, 0.5, 3.0]), min=-1, max=1).tolist()
[-1.0, 0.5, 1.0])");

}  // namespace tapegrad
