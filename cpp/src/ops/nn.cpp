// Fused kernels for neural-network ops. Each computes its forward in one
// pass over rows and states its backward and jvp with ops, so it is
// differentiable again.
#include <Eigen/Core>
#include <cmath>

#include "kernels.h"
#include "vec_math.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

namespace tapegrad {

// (log_)softmax along dim, viewed as (outer, r, inner). Rows are shifted by
// their max, so large logits never overflow.
template <class T>
static void softmax_kernel(const T* x, T* y, int64_t outer, int64_t r, int64_t inner, bool log) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  if (inner == 1) {
    for (int64_t o = 0; o < outer; ++o) {
      Eigen::Map<const Arr> in(x + o * r, r);
      Eigen::Map<Arr> out(y + o * r, r);
      const T m = r ? in.template maxCoeff<Eigen::PropagateNaN>() : T(0);
      exp_into(in - m, out);
      const T s = out.sum();
      if (log)
        out = in - (m + std::log(s));
      else
        out *= T(1) / s;
    }
    return;
  }
  Arr m(inner), s(inner);
  for (int64_t o = 0; o < outer; ++o) {
    const T* xb = x + o * r * inner;
    T* yb = y + o * r * inner;
    m.setConstant(-std::numeric_limits<T>::infinity());
    for (int64_t k = 0; k < r; ++k) {
      Eigen::Map<const Arr> row(xb + k * inner, inner);
      m = (row != row || row > m).select(row, m);  // NaN propagates
    }
    s.setZero();
    for (int64_t k = 0; k < r; ++k) {
      Eigen::Map<const Arr> row(xb + k * inner, inner);
      Eigen::Map<Arr> out(yb + k * inner, inner);
      exp_into(row - m, out);
      s += out;
    }
    if (log) {
      Arr lse = m + s.log();
      for (int64_t k = 0; k < r; ++k)
        Eigen::Map<Arr>(yb + k * inner, inner) = Eigen::Map<const Arr>(xb + k * inner, inner) - lse;
    } else {
      Arr inv = s.inverse();
      for (int64_t k = 0; k < r; ++k) Eigen::Map<Arr>(yb + k * inner, inner) *= inv;
    }
  }
}

static Tensor softmax_forward(const Tensor& x, int64_t dim, bool log) {
  Tensor out = empty(x->shape, x->dtype);
  int64_t outer = 1, inner = 1, r = x->ndim() ? x->shape[dim] : 1;
  for (int64_t d = 0; d < dim; ++d) outer *= x->shape[d];
  for (int64_t d = dim + 1; d < x->ndim(); ++d) inner *= x->shape[d];
  dispatch_floating(x->dtype, log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    softmax_kernel<T>(x->data<T>(), out->data<T>(), outer, r, inner, log);
  });
  return out;
}

static Tensor prepare(const Tensor& x_in, int64_t dim_in, const char* op, int64_t& dim) {
  check_defined(x_in, op);
  dim = wrap_dim(dim_in, x_in->ndim(), op);
  return is_floating(x_in->dtype) ? x_in : to_dtype(x_in, DType::float32);
}

Tensor log_softmax(const Tensor& x_in, int64_t dim_in) {
  int64_t dim;
  Tensor x = prepare(x_in, dim_in, "log_softmax", dim);
  Tensor out = softmax_forward(x, dim, true);
  std::vector<int64_t> dims{dim};
  // y = x - logsumexp(x): jvp t - Σ softmax·t, backward g - softmax·Σg
  forward_ad(out, {&x},
             [&](const Grads& t) { return sub(t[0], sum(mul(exp(out), t[0]), dims, true)); });
  return record(
      "LogSoftmaxBackward", {&x}, out,
      [&] {
        return [dims](Node& n, const Tensor& g) -> Grads {
          return {sub(g, mul(exp(n.output()), sum(g, dims, true)))};
        };
      },
      /*save_output=*/true);
}

Tensor softmax(const Tensor& x_in, int64_t dim_in) {
  int64_t dim;
  Tensor x = prepare(x_in, dim_in, "softmax", dim);
  Tensor out = softmax_forward(x, dim, false);
  std::vector<int64_t> dims{dim};
  // jvp y·(t - Σ y·t), backward y·(g - Σ g·y)
  forward_ad(out, {&x},
             [&](const Grads& t) { return mul(out, sub(t[0], sum(mul(out, t[0]), dims, true))); });
  return record(
      "SoftmaxBackward", {&x}, out,
      [&] {
        return [dims](Node& n, const Tensor& g) -> Grads {
          Tensor y = n.output();
          return {mul(y, sub(g, sum(mul(g, y), dims, true)))};
        };
      },
      /*save_output=*/true);
}

}  // namespace tapegrad
