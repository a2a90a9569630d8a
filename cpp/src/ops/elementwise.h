// What the elementwise ops share: kernels over any layout, and the two rule
// builders (elementwise_rule for f(x), binary_rule for f(a, b)) that state an
// op's partial derivatives once for both its backward and its jvp.
#pragma once

#include <Eigen/Core>

#include "kernels.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"
#include "tapegrad/recorder.h"

namespace tapegrad {

template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// out = f(x) as an Eigen array expression over x's elements (x made
// contiguous first), chunked over threads. Out has dtype `out_dt` (x's by
// default); f gets arrays of the input and output C++ types.
template <class Dispatch, class F>
Tensor unary_map(const Tensor& x_in, Dispatch dispatch, F f) {
  Tensor x = contiguous_data(x_in);
  Tensor out = empty(x->shape, x->dtype);
  dispatch(x->dtype, [&](auto tag) {
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
inline auto all_dtypes = [](DType dt, auto&& f) { return dispatch_all(dt, f); };
inline auto numeric_dtypes = [](DType dt, auto&& f) { return dispatch_numeric(dt, "op", f); };
inline auto floating_dtypes = [](DType dt, auto&& f) { return dispatch_floating(dt, "op", f); };

// out[i] = f(a[i], b[i]) over out's shape, a and b broadcast to it and read
// through their strides as In, out written as Out.
template <class In, class Out, class F>
void binary_kernel(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const int64_t n = out->numel;
  if (n == 0) return;
  const In* pa = a->ptr<In>();
  const In* pb = b->ptr<In>();
  Out* po = out->ptr<Out>();
  if (a->contiguous && b->contiguous && out->contiguous && a->numel == n && b->numel == n) {
    parallel_for(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], pb[i]);
    });
    return;
  }
  StridedWalk<3> walk(out->shape, {out->strides, broadcast_strides(*a, out->shape),
                                   broadcast_strides(*b, out->shape)});
  walk.run_parallel([&](const auto& off, int64_t len, const auto& step) {
    Out* o = po + off[0];
    const In* x = pa + off[1];
    const In* y = pb + off[2];
    // the common step patterns get loops the compiler can vectorize
    if (step[0] == 1 && step[1] == 1 && step[2] == 1) {
      for (int64_t j = 0; j < len; ++j) o[j] = f(x[j], y[j]);
    } else if (step[0] == 1 && step[1] == 1 && step[2] == 0) {
      const In v = y[0];
      for (int64_t j = 0; j < len; ++j) o[j] = f(x[j], v);
    } else if (step[0] == 1 && step[1] == 0 && step[2] == 1) {
      const In v = x[0];
      for (int64_t j = 0; j < len; ++j) o[j] = f(v, y[j]);
    } else {
      for (int64_t j = 0; j < len; ++j) o[j * step[0]] = f(x[j * step[1]], y[j * step[2]]);
    }
  });
}

// The dtype an arithmetic op computes in (PyTorch's result type) and the
// operands converted to it, differentiably.
struct Promoted {
  Tensor a, b;
  DType dt;
  Shape shape;
};
Promoted promote_operands(const char* op, const Tensor& a, const Tensor& b);

enum Saves { kNone = 0, kInput = 1, kOutput = 2, kOther = 4 };

// Records y = f(x) with derivative deriv(x, y) (either may be null when not
// in `saves`): backward g·f'(x), jvp t·f'(x). A saved output is rebuilt
// through the node, never held.
template <class Deriv>
Tensor elementwise_rule(const char* name, const Tensor& x, const Tensor& out, int saves,
                        Deriv deriv) {
  forward_ad(out, {&x}, [&](const Grads& t) { return mul(t[0], deriv(x, out)); });
  return record(
      name, {&x}, out,
      [&] {
        Saved saved_x = (saves & kInput) ? Saved(x) : Saved();
        return [saved_x, deriv](Node& n, const Tensor& g) -> Grads {
          Tensor y = n.has_saved_output() ? n.output() : nullptr;
          return {mul(g, deriv(saved_x ? saved_x.get() : nullptr, y))};
        };
      },
      (saves & kOutput) != 0);
}

// Records y = f(a, b) with its partials as maps of an incoming gradient or
// tangent v: da(v, a, b, y) = v·∂f/∂a, db(v, a, b, y) = v·∂f/∂b (elementwise,
// so the same map serves backward and jvp). Broadcasting is undone here, in
// one place. Operands and output are saved as `saves` says (kInput: a,
// kOther: b, kOutput: y); what is not saved arrives as null.
template <class DA, class DB>
Tensor binary_rule(const char* name, const Tensor& a, const Tensor& b, const Tensor& out, int saves,
                   DA da, DB db) {
  forward_ad(out, {&a, &b}, [&](const Grads& t) {
    return broadcast_to(
        sum_terms(t[0] ? da(t[0], a, b, out) : nullptr, t[1] ? db(t[1], a, b, out) : nullptr),
        out->shape);
  });
  return record(
      name, {&a, &b}, out,
      [&] {
        Saved sa = (saves & kInput) ? Saved(a) : Saved();
        Saved sb = (saves & kOther) ? Saved(b) : Saved();
        // shapes are kept only for operands that were broadcast
        std::optional<Shape> shape_a, shape_b;
        if (a->shape != out->shape) shape_a = a->shape;
        if (b->shape != out->shape) shape_b = b->shape;
        return [sa, sb, shape_a, shape_b, da, db](Node& n, const Tensor& g) -> Grads {
          Tensor A = sa ? sa.get() : nullptr, B = sb ? sb.get() : nullptr;
          Tensor Y = n.has_saved_output() ? n.output() : nullptr;
          auto unbroadcast = [](const Tensor& t, const std::optional<Shape>& s) {
            return s ? sum_to(t, *s) : t;
          };
          return {n.needs_grad(0) ? unbroadcast(da(g, A, B, Y), shape_a) : nullptr,
                  n.needs_grad(1) ? unbroadcast(db(g, A, B, Y), shape_b) : nullptr};
        };
      },
      (saves & kOutput) != 0);
}

inline Tensor one_like(const Tensor& t) { return scalar_tensor(1.0, t->dtype); }
inline Tensor zero_like(const Tensor& t) { return scalar_tensor(0.0, t->dtype); }

}  // namespace tapegrad
