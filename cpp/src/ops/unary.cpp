// Unary elementwise ops. Transcendentals use Eigen's vectorized kernels.
#include <Eigen/Core>

#include "kernels.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

namespace tapegrad {

template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// out = f(x) as an Eigen array expression, chunked over threads.
template <class F>
static Tensor unary_forward(const Tensor& x, DType dt, const char* op, F f) {
  Tensor out = empty(x->shape, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x->data<T>();
    T* po = out->data<T>();
    parallel_for(x->numel, [&](int64_t lo, int64_t hi) {
      ConstArrayMap<T> in(px + lo, hi - lo);
      ArrayMap<T> res(po + lo, hi - lo);
      f(in, res);
    });
  });
  return out;
}

// Transcendental ops compute in floating point: int64 input is promoted to
// float32, as PyTorch does.
static Tensor as_floating(const Tensor& x, const char* op) {
  check_defined(x, op);
  return is_floating(x->dtype) ? x : to_dtype(x, DType::float32);
}

Tensor neg(const Tensor& x) {
  check_defined(x, "neg");
  Tensor out = unary_forward(x, x->dtype, "neg", [](const auto& in, auto& res) { res = -in; });
  return record("NegBackward", {&x}, out, [] {
    return [](Node&, const Tensor& g) -> Grads { return {neg(g)}; };
  });
}

Tensor exp(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "exp");
  Tensor out = unary_forward(x, x->dtype, "exp", [](const auto& in, auto& res) {
    if constexpr (std::is_integral_v<typename std::decay_t<decltype(in)>::Scalar>) return;
    else res = in.exp();
  });
  // saves the output: d exp(x) = exp(x)
  return record(
      "ExpBackward", {&x}, out,
      [] { return [](Node& n, const Tensor& g) -> Grads { return {mul(g, n.output())}; }; },
      /*save_output=*/true);
}

Tensor log(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "log");
  Tensor out = unary_forward(x, x->dtype, "log", [](const auto& in, auto& res) {
    if constexpr (std::is_integral_v<typename std::decay_t<decltype(in)>::Scalar>) return;
    else res = in.log();
  });
  // saves the input: d log(x) = 1/x
  return record("LogBackward", {&x}, out, [&] {
    return [x](Node&, const Tensor& g) -> Grads { return {div(g, x)}; };
  });
}

Tensor tanh(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "tanh");
  Tensor out = unary_forward(x, x->dtype, "tanh", [](const auto& in, auto& res) {
    if constexpr (std::is_integral_v<typename std::decay_t<decltype(in)>::Scalar>) return;
    else res = in.tanh();
  });
  // saves the output: d tanh(x) = 1 - tanh(x)²
  return record(
      "TanhBackward", {&x}, out,
      [] {
        return [](Node& n, const Tensor& g) -> Grads {
          Tensor y = n.output();
          return {mul(g, sub(scalar_tensor(1.0, y->dtype), mul(y, y)))};
        };
      },
      /*save_output=*/true);
}

Tensor sigmoid(const Tensor& x_in) {
  Tensor x = as_floating(x_in, "sigmoid");
  Tensor out = unary_forward(x, x->dtype, "sigmoid", [](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    if constexpr (std::is_integral_v<T>) return;
    // exp(-x) overflows to inf for x < -88 (float32) and 1/(1+inf) = 0: the
    // correct limit, with no NaN.
    else res = T(1) / (T(1) + (-in).exp());
  });
  // saves the output: d sigmoid(x) = s(1 - s)
  return record(
      "SigmoidBackward", {&x}, out,
      [] {
        return [](Node& n, const Tensor& g) -> Grads {
          Tensor s = n.output();
          return {mul(g, mul(s, sub(scalar_tensor(1.0, s->dtype), s)))};
        };
      },
      /*save_output=*/true);
}

Tensor relu(const Tensor& x) {
  check_defined(x, "relu");
  Tensor out = unary_forward(x, x->dtype, "relu", [](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    res = in.max(T(0));
  });
  // saves the output; at the kink x = 0 the subgradient 0 is chosen, as
  // PyTorch does (the mask is output > 0).
  return record(
      "ReluBackward", {&x}, out,
      [] {
        return [](Node& n, const Tensor& g) -> Grads {
          Tensor y = n.output();
          return {mul(g, compare(y, scalar_tensor(0.0, y->dtype), Compare::gt))};
        };
      },
      /*save_output=*/true);
}

}  // namespace tapegrad
