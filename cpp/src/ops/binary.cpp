// Binary elementwise ops with NumPy broadcasting. Backward rules undo the
// broadcast with sum_to, the one place that does so.
#include <cmath>

#include "kernels.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

namespace tapegrad {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ValueError(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                       " cannot be broadcast together (dimension " + std::to_string(i) + ": " +
                       std::to_string(da) + " vs " + std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Element strides of `in` seen through the broadcast to `out` (0 on
// broadcast dimensions).
static std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t s = 1;
  for (size_t k = 0; k < in.size(); ++k) {
    size_t i = in.size() - 1 - k, o = out.size() - 1 - k;
    strides[o] = in[i] == 1 ? 0 : s;
    s *= in[i];
  }
  return strides;
}

// out[i] = f(a[i], b[i]) over the broadcast shape; contiguous and scalar
// operands take flat loops that the compiler vectorizes.
template <class T, class R, class F>
static void binary_loop(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  const T* pa = a->data<T>();
  const T* pb = b->data<T>();
  R* po = out->data<R>();
  const int64_t n = out->numel;
  if (a->numel == n && b->numel == n) {
    parallel_for(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], pb[i]);
    });
  } else if (b->numel == 1 && a->numel == n) {
    const T vb = pb[0];
    parallel_for(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], vb);
    });
  } else if (a->numel == 1 && b->numel == n) {
    const T va = pa[0];
    parallel_for(n, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(va, pb[i]);
    });
  } else {
    if (n == 0) return;
    const Shape& shape = out->shape;
    const size_t nd = shape.size();
    auto sa = broadcast_strides(a->shape, shape), sb = broadcast_strides(b->shape, shape);
    const int64_t inner = shape[nd - 1], ia = sa[nd - 1], ib = sb[nd - 1];
    std::vector<int64_t> idx(nd, 0);
    int64_t oa = 0, ob = 0;
    for (int64_t o = 0; o < n; o += inner) {
      // the common stride patterns get loops the compiler can vectorize
      if (ia == 1 && ib == 1)
        for (int64_t j = 0; j < inner; ++j) po[o + j] = f(pa[oa + j], pb[ob + j]);
      else if (ia == 1 && ib == 0)
        for (int64_t j = 0, vb = 0; j < inner; ++j) po[o + j] = f(pa[oa + j], pb[ob + vb]);
      else if (ia == 0 && ib == 1)
        for (int64_t j = 0, va = 0; j < inner; ++j) po[o + j] = f(pa[oa + va], pb[ob + j]);
      else
        for (int64_t j = 0; j < inner; ++j) po[o + j] = f(pa[oa + j * ia], pb[ob + j * ib]);
      // advance the multi-index over the outer dimensions
      for (int64_t d = int64_t(nd) - 2; d >= 0; --d) {
        if (++idx[d] < shape[d]) {
          oa += sa[d];
          ob += sb[d];
          break;
        }
        oa -= sa[d] * (shape[d] - 1);
        ob -= sb[d] * (shape[d] - 1);
        idx[d] = 0;
      }
    }
  }
}

enum class ResultKind { same, floating };

// Promotes both operands (differentiably), broadcasts, and runs f.
template <class F>
static Tensor binary_forward(const char* op, Tensor& a, Tensor& b, ResultKind kind, F f) {
  check_defined(a, op);
  check_defined(b, op);
  DType dt = result_type(*a, *b);
  if (kind == ResultKind::floating && dt == DType::int64) dt = DType::float32;
  Shape shape = broadcast_shapes(a->shape, b->shape, op);
  a = to_dtype(a, dt);
  b = to_dtype(b, dt);
  Tensor out = empty(shape, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_loop<T, T>(a, b, out, [&](T x, T y) { return f(x, y); });
  });
  return out;
}

Tensor add(const Tensor& a_in, const Tensor& b_in) {
  Tensor a = a_in, b = b_in;
  Tensor out = binary_forward("add", a, b, ResultKind::same, [](auto x, auto y) { return x + y; });
  forward_ad(out, {&a, &b},
             [&](const Grads& t) { return broadcast_to(sum_terms(t[0], t[1]), out->shape); });
  return record("AddBackward", {&a, &b}, out, [&] {
    return [sa = a->shape, sb = b->shape](Node& n, const Tensor& g) -> Grads {
      return {n.needs_grad(0) ? sum_to(g, sa) : nullptr, n.needs_grad(1) ? sum_to(g, sb) : nullptr};
    };
  });
}

Tensor sub(const Tensor& a_in, const Tensor& b_in) {
  Tensor a = a_in, b = b_in;
  Tensor out = binary_forward("sub", a, b, ResultKind::same, [](auto x, auto y) { return x - y; });
  forward_ad(out, {&a, &b}, [&](const Grads& t) {
    return broadcast_to(sum_terms(t[0], t[1] ? neg(t[1]) : nullptr), out->shape);
  });
  return record("SubBackward", {&a, &b}, out, [&] {
    return [sa = a->shape, sb = b->shape](Node& n, const Tensor& g) -> Grads {
      return {n.needs_grad(0) ? sum_to(g, sa) : nullptr,
              n.needs_grad(1) ? sum_to(neg(g), sb) : nullptr};
    };
  });
}

Tensor mul(const Tensor& a_in, const Tensor& b_in) {
  Tensor a = a_in, b = b_in;
  Tensor out = binary_forward("mul", a, b, ResultKind::same, [](auto x, auto y) { return x * y; });
  forward_ad(out, {&a, &b}, [&](const Grads& t) {
    return broadcast_to(sum_terms(t[0] ? mul(t[0], b) : nullptr, t[1] ? mul(a, t[1]) : nullptr),
                        out->shape);
  });
  return record("MulBackward", {&a, &b}, out, [&] {
    // saves both operands: each one's gradient is the other times g
    return [a, b](Node& n, const Tensor& g) -> Grads {
      return {n.needs_grad(0) ? sum_to(mul(g, b), a->shape) : nullptr,
              n.needs_grad(1) ? sum_to(mul(g, a), b->shape) : nullptr};
    };
  });
}

Tensor div(const Tensor& a_in, const Tensor& b_in) {
  Tensor a = a_in, b = b_in;
  Tensor out =
      binary_forward("div", a, b, ResultKind::floating, [](auto x, auto y) { return x / y; });
  forward_ad(out, {&a, &b}, [&](const Grads& t) {
    Tensor ta = t[0] ? div(t[0], b) : nullptr;
    Tensor tb = t[1] ? neg(div(mul(t[1], out), b)) : nullptr;
    return broadcast_to(sum_terms(ta, tb), out->shape);
  });
  return record("DivBackward", {&a, &b}, out, [&] {
    // d(a/b)/da = 1/b, d(a/b)/db = -a/b²
    return [a, b](Node& n, const Tensor& g) -> Grads {
      return {n.needs_grad(0) ? sum_to(div(g, b), a->shape) : nullptr,
              n.needs_grad(1) ? sum_to(neg(div(mul(g, a), mul(b, b))), b->shape) : nullptr};
    };
  });
}

// d(a^b)/da = b·a^(b-1), taken as 0 where b == 0 (as PyTorch: x**0 is flat
// even at x = 0, where a^(b-1) is inf).
static Tensor pow_da(const Tensor& a, const Tensor& b) {
  Tensor zero = scalar_tensor(0.0, a->dtype);
  Tensor d = mul(b, pow(a, sub(b, scalar_tensor(1.0, a->dtype))));
  return where(compare(b, zero, Compare::eq), zero, d);
}

// d(a^b)/db = a^b·log(a), taken as 0 where a == 0 and b >= 0 (the limit from
// the right; log(0) would give nan).
static Tensor pow_db(const Tensor& a, const Tensor& b, const Tensor& out) {
  Tensor zero = scalar_tensor(0.0, a->dtype);
  Tensor at_zero = mul(compare(a, zero, Compare::eq), compare(b, zero, Compare::ge));
  return where(at_zero, zero, mul(out, log(a)));
}

// Integer power as PyTorch's (ATen's powi): exact, by squaring, wrapping on
// overflow as two's complement does; a negative exponent gives 1 for 1,
// ±1 for -1 and 0 otherwise. (Going through double lost the last digits of
// 5**23 and turned 0**-1 into INT64_MIN.) Unsigned arithmetic: signed
// overflow would be undefined.
static int64_t int_pow(int64_t base, int64_t exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return exponent % 2 ? -1 : 1;
    return 0;
  }
  uint64_t result = 1, b = static_cast<uint64_t>(base);
  for (uint64_t e = static_cast<uint64_t>(exponent); e; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return static_cast<int64_t>(result);
}

Tensor pow(const Tensor& a_in, const Tensor& b_in) {
  Tensor a = a_in, b = b_in;
  Tensor out = binary_forward("pow", a, b, ResultKind::same, [](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_integral_v<T>)
      return static_cast<T>(int_pow(x, y));
    else
      return static_cast<T>(std::pow(x, y));
  });
  forward_ad(out, {&a, &b}, [&](const Grads& t) {
    Tensor ta = t[0] ? mul(t[0], pow_da(a, b)) : nullptr;
    Tensor tb = t[1] ? mul(t[1], pow_db(a, b, out)) : nullptr;
    return broadcast_to(sum_terms(ta, tb), out->shape);
  });
  return record(
      "PowBackward", {&a, &b}, out,
      [&] {
        return [a, b](Node& n, const Tensor& g) -> Grads {
          return {n.needs_grad(0) ? sum_to(mul(g, pow_da(a, b)), a->shape) : nullptr,
                  n.needs_grad(1) ? sum_to(mul(g, pow_db(a, b, n.output())), b->shape) : nullptr};
        };
      },
      /*save_output=*/true);
}

Tensor pow_scalar(const Tensor& a, const Tensor& exponent) {
  check_defined(a, "pow");
  check_defined(exponent, "pow");
  if (!is_floating(a->dtype) && !is_floating(exponent->dtype) && item(exponent) < 0)
    throw std::runtime_error(
        "pow: integers to negative integer powers are not allowed (an int64 tensor to the "
        "power " +
        std::to_string(static_cast<int64_t>(item(exponent))) +
        "; use a float exponent or a tensor exponent)");
  return pow(a, exponent);
}

Tensor compare(const Tensor& a_in, const Tensor& b_in, Compare op) {
  Tensor a = a_in, b = b_in;
  static const char* names[] = {"lt", "le", "gt", "ge", "eq", "ne"};
  GradModeGuard no_grad(false);  // 0/1 results carry no gradient
  return binary_forward(names[int(op)], a, b, ResultKind::same, [op](auto x, auto y) {
    using T = decltype(x);
    bool r = false;
    switch (op) {
      case Compare::lt:
        r = x < y;
        break;
      case Compare::le:
        r = x <= y;
        break;
      case Compare::gt:
        r = x > y;
        break;
      case Compare::ge:
        r = x >= y;
        break;
      case Compare::eq:
        r = x == y;
        break;
      case Compare::ne:
        r = x != y;
        break;
    }
    return static_cast<T>(r);
  });
}

Tensor where(const Tensor& cond_in, const Tensor& a_in, const Tensor& b_in) {
  check_defined(cond_in, "where");
  check_defined(a_in, "where");
  check_defined(b_in, "where");
  DType dt = result_type(*a_in, *b_in);
  Shape shape = broadcast_shapes(broadcast_shapes(cond_in->shape, a_in->shape, "where"),
                                 b_in->shape, "where");
  Tensor a = to_dtype(a_in, dt), b = to_dtype(b_in, dt);
  Tensor cond, ab, bb;
  {
    GradModeGuard no_grad(false);
    cond = broadcast_to(cond_in, shape);
    ab = broadcast_to(a, shape);
    bb = broadcast_to(b, shape);
  }
  Tensor out = empty(shape, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_all(cond->dtype, [&](auto ctag) {
      using C = typename decltype(ctag)::type;
      const C* pc = cond->data<C>();
      const T *pa = ab->data<T>(), *pb = bb->data<T>();
      T* po = out->data<T>();
      for (int64_t i = 0; i < out->numel; ++i) po[i] = pc[i] != C(0) ? pa[i] : pb[i];
    });
  });
  forward_ad(out, {&a, &b}, [&](const Grads& t) {
    Tensor zero = scalar_tensor(0.0, dt);
    return where(cond, t[0] ? t[0] : zero, t[1] ? t[1] : zero);
  });
  return record("WhereBackward", {&a, &b}, out, [&] {
    // the condition is saved; each side gets g where it was chosen
    return [cond, sa = a->shape, sb = b->shape](Node& n, const Tensor& g) -> Grads {
      Tensor zero = scalar_tensor(0.0, g->dtype);
      return {n.needs_grad(0) ? sum_to(where(cond, g, zero), sa) : nullptr,
              n.needs_grad(1) ? sum_to(where(cond, zero, g), sb) : nullptr};
    };
  });
}

// maximum/minimum: a tie sends half the gradient to each side, as PyTorch.
static Tensor extremum(const Tensor& a_in, const Tensor& b_in, bool is_max) {
  Tensor a = a_in, b = b_in;
  const char* op = is_max ? "maximum" : "minimum";
  Tensor out = binary_forward(op, a, b, ResultKind::same, [is_max](auto x, auto y) {
    // NaN propagates from either side
    if (x != x) return x;
    if (y != y) return y;
    return is_max ? (x > y ? x : y) : (x < y ? x : y);
  });
  // weight of a's side: 1 − [b wins] − ½[tie], as PyTorch: 1 where a wins,
  // ½ on a tie, 0 where b wins, and 1 when either is NaN
  auto weight_a = [is_max](const Tensor& a, const Tensor& b) {
    Tensor loses = compare(a, b, is_max ? Compare::lt : Compare::gt);
    Tensor ties = compare(a, b, Compare::eq);
    return sub(sub(scalar_tensor(1.0, ties->dtype), loses),
               mul(ties, scalar_tensor(0.5, ties->dtype)));
  };
  forward_ad(out, {&a, &b}, [&](const Grads& t) {
    Tensor wa = weight_a(a, b), wb = weight_a(b, a);
    return broadcast_to(sum_terms(t[0] ? mul(t[0], wa) : nullptr, t[1] ? mul(t[1], wb) : nullptr),
                        out->shape);
  });
  return record(is_max ? "MaximumBackward" : "MinimumBackward", {&a, &b}, out, [&] {
    return [a, b, weight_a](Node& n, const Tensor& g) -> Grads {
      return {n.needs_grad(0) ? sum_to(mul(g, weight_a(a, b)), a->shape) : nullptr,
              n.needs_grad(1) ? sum_to(mul(g, weight_a(b, a)), b->shape) : nullptr};
    };
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(a, b, false); }

}  // namespace tapegrad
