// Binary elementwise ops with NumPy broadcasting and PyTorch's type promotion.
// Each states its partial derivatives once, through binary_rule.
#include <cmath>
#include <limits>

#include "elementwise.h"
#include "tapegrad/registry.h"

namespace tapegrad {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw RuntimeError(std::string(op) + ": the size of tensor a (" + std::to_string(da) +
                         ") must match the size of tensor b (" + std::to_string(db) +
                         ") at non-singleton dimension " + std::to_string(i) + " (shapes " +
                         shape_str(a) + " and " + shape_str(b) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Promoted promote_operands(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(a, op);
  check_defined(b, op);
  Promoted p;
  p.dt = result_type(*a, *b);
  p.shape = broadcast_shapes(a->shape, b->shape, op);
  p.a = to_dtype(a, p.dt);
  p.b = to_dtype(b, p.dt);
  return p;
}

namespace {

// out = f(a, b) in the promoted dtype (floating ops promote integers to the
// default float dtype), dispatched over `dispatch`'s dtypes.
template <class F>
Tensor arithmetic(const char* op, Promoted& p, F f, bool floating = false) {
  if (p.dt == DType::bool_ && !floating)
    throw RuntimeError(std::string(op) + ": not supported for two bool tensors");
  if (floating && !is_floating(p.dt)) {
    p.dt = default_dtype();
    p.a = to_dtype(p.a, p.dt);
    p.b = to_dtype(p.b, p.dt);
  }
  Tensor out = empty(p.shape, p.dt);
  dispatch_numeric(p.dt, op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_kernel<T, T>(p.a, p.b, out, [&](T x, T y) { return static_cast<T>(f(x, y)); });
  });
  return out;
}

[[noreturn]] void integer_division_by_zero(const char* op) {
  throw RuntimeError(std::string(op) + ": ZeroDivisionError (integer division by zero)");
}

// Integer powers by squaring, wrapping on overflow as PyTorch's; a negative
// exponent gives 1 for a base of 1, ±1 for -1 and 0 otherwise (ATen's rule).
template <class T>
T int_pow(T base, T exp) {
  if (exp < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exp % 2 == 0) ? 1 : -1;
    return 0;
  }
  using U = std::make_unsigned_t<T>;
  U result = 1, b = U(base);
  for (auto e = exp; e > 0; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return T(result);
}

}  // namespace

Tensor add(const Tensor& a_in, const Tensor& b_in) {
  Promoted p = promote_operands("add", a_in, b_in);
  Tensor out;
  if (p.dt == DType::bool_) {  // bool + bool is logical or, as PyTorch
    out = empty(p.shape, DType::bool_);
    binary_kernel<bool, bool>(p.a, p.b, out, [](bool x, bool y) { return x || y; });
    return out;
  }
  out = arithmetic("add", p, [](auto x, auto y) { return x + y; });
  auto pass = [](const Tensor& v, const Tensor&, const Tensor&, const Tensor&) { return v; };
  return binary_rule("AddBackward", p.a, p.b, out, kNone, pass, pass);
}

Tensor sub(const Tensor& a_in, const Tensor& b_in) {
  Promoted p = promote_operands("sub", a_in, b_in);
  if (p.dt == DType::bool_)
    throw RuntimeError(
        "sub: subtraction, the `-` operator, with two bool tensors is not supported. Use the "
        "`^` or `logical_xor()` operator instead.");
  Tensor out = arithmetic("sub", p, [](auto x, auto y) { return x - y; });
  return binary_rule(
      "SubBackward", p.a, p.b, out, kNone,
      [](const Tensor& v, const Tensor&, const Tensor&, const Tensor&) { return v; },
      [](const Tensor& v, const Tensor&, const Tensor&, const Tensor&) { return neg(v); });
}

Tensor mul(const Tensor& a_in, const Tensor& b_in) {
  Promoted p = promote_operands("mul", a_in, b_in);
  Tensor out;
  if (p.dt == DType::bool_) {
    out = empty(p.shape, DType::bool_);
    binary_kernel<bool, bool>(p.a, p.b, out, [](bool x, bool y) { return x && y; });
    return out;
  }
  out = arithmetic("mul", p, [](auto x, auto y) { return x * y; });
  // saves both operands: each one's partial is the other
  return binary_rule(
      "MulBackward", p.a, p.b, out, kInput | kOther,
      [](const Tensor& v, const Tensor&, const Tensor& b, const Tensor&) { return mul(v, b); },
      [](const Tensor& v, const Tensor& a, const Tensor&, const Tensor&) { return mul(v, a); });
}

Tensor div(const Tensor& a_in, const Tensor& b_in) {
  Promoted p = promote_operands("div", a_in, b_in);
  Tensor out = arithmetic("div", p, [](auto x, auto y) { return x / y; }, /*floating=*/true);
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b²
  return binary_rule(
      "DivBackward", p.a, p.b, out, kInput | kOther,
      [](const Tensor& v, const Tensor&, const Tensor& b, const Tensor&) { return div(v, b); },
      [](const Tensor& v, const Tensor& a, const Tensor& b, const Tensor&) {
        return neg(div(mul(v, a), mul(b, b)));
      });
}

// d(a^b)/da = b·a^(b-1), taken as 0 where b == 0 (as PyTorch: x**0 is flat
// even at x = 0); the exponent b-1 is replaced there too, so that no inf or
// NaN reaches higher derivatives through the masked branch.
static Tensor pow_da(const Tensor& a, const Tensor& b) {
  Tensor zero = zero_like(a);
  Tensor b_is_zero = compare(b, zero, Compare::eq);
  Tensor exponent = where(b_is_zero, one_like(a), sub(b, one_like(a)));
  return where(b_is_zero, zero, mul(b, pow(a, exponent)));
}

// d(a^b)/db = a^b·log(a), taken as 0 where a == 0 and b >= 0 (the limit from
// the right; log(0) would give nan).
static Tensor pow_db(const Tensor& a, const Tensor& b, const Tensor& out) {
  Tensor zero = zero_like(a);
  Tensor at_zero =
      logical(compare(a, zero, Compare::eq), compare(b, zero, Compare::ge), Logical::and_);
  Tensor safe_a = where(at_zero, one_like(a), a);
  return where(at_zero, zero, mul(out, log(safe_a)));
}

Tensor pow(const Tensor& a_in, const Tensor& b_in) {
  Promoted p = promote_operands("pow", a_in, b_in);
  if (p.dt == DType::bool_) {
    p.dt = DType::int64;
    p.a = to_dtype(p.a, p.dt);
    p.b = to_dtype(p.b, p.dt);
  }
  if (!is_floating(p.dt) && b_in->wrapped_number && item(b_in) < 0)
    throw RuntimeError("pow: integers to negative integer powers are not allowed.");
  Tensor out = empty(p.shape, p.dt);
  dispatch_numeric(p.dt, "pow", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>)
      binary_kernel<T, T>(p.a, p.b, out, [](T x, T y) { return T(std::pow(x, y)); });
    else
      binary_kernel<T, T>(p.a, p.b, out, [](T x, T y) { return int_pow(x, y); });
  });
  return binary_rule(
      "PowBackward", p.a, p.b, out, kInput | kOther | kOutput,
      [](const Tensor& v, const Tensor& a, const Tensor& b, const Tensor&) {
        return mul(v, pow_da(a, b));
      },
      [](const Tensor& v, const Tensor& a, const Tensor& b, const Tensor& y) {
        return mul(v, pow_db(a, b, y));
      });
}

Tensor remainder(const Tensor& a_in, const Tensor& b_in) {
  Promoted p = promote_operands("remainder", a_in, b_in);
  Tensor out = empty(p.shape, p.dt);
  dispatch_numeric(p.dt, "remainder", [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_kernel<T, T>(p.a, p.b, out, [](T x, T y) -> T {
      // Python's modulo: the result takes the divisor's sign
      if constexpr (std::is_floating_point_v<T>) {
        T r = std::fmod(x, y);
        return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
      } else {
        if (y == 0) integer_division_by_zero("remainder");
        T r = x % y;
        return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
      }
    });
  });
  // d/da = 1, d/db = -floor(a/b), as PyTorch
  return binary_rule(
      "RemainderBackward", p.a, p.b, out, kInput | kOther,
      [](const Tensor& v, const Tensor&, const Tensor&, const Tensor&) { return v; },
      [](const Tensor& v, const Tensor& a, const Tensor& b, const Tensor&) {
        return neg(mul(v, floor_divide(a, b)));
      });
}

Tensor floor_divide(const Tensor& a_in, const Tensor& b_in) {
  Promoted p = promote_operands("floor_divide", a_in, b_in);
  Tensor out = empty(p.shape, p.dt);
  dispatch_numeric(p.dt, "floor_divide", [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_kernel<T, T>(p.a, p.b, out, [](T x, T y) -> T {
      if constexpr (std::is_floating_point_v<T>) {
        if (y == 0) return x / y;
        // Python's floor division: floor of the exact quotient, with the
        // remainder's correction (as PyTorch's div_floor)
        T mod = std::fmod(x, y);
        T q = (x - mod) / y;
        if (mod != 0 && ((y < 0) != (mod < 0))) q -= T(1);
        if (q == 0) return std::copysign(T(0), x / y);
        T fq = std::floor(q);
        return (q - fq > T(0.5)) ? fq + T(1) : fq;
      } else {
        if (y == 0) integer_division_by_zero("floor_divide");
        T q = x / y;
        return ((x % y != 0) && ((x < 0) != (y < 0))) ? q - 1 : q;
      }
    });
  });
  return out;  // piecewise constant: no gradient, as PyTorch
}

Tensor compare(const Tensor& a_in, const Tensor& b_in, Compare op) {
  static const char* names[] = {"lt", "le", "gt", "ge", "eq", "ne"};
  Promoted p = promote_operands(names[int(op)], a_in, b_in);
  Tensor out = empty(p.shape, DType::bool_);
  dispatch_all(p.dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (op) {
      case Compare::lt:
        return binary_kernel<T, bool>(p.a, p.b, out, [](T x, T y) { return x < y; });
      case Compare::le:
        return binary_kernel<T, bool>(p.a, p.b, out, [](T x, T y) { return x <= y; });
      case Compare::gt:
        return binary_kernel<T, bool>(p.a, p.b, out, [](T x, T y) { return x > y; });
      case Compare::ge:
        return binary_kernel<T, bool>(p.a, p.b, out, [](T x, T y) { return x >= y; });
      case Compare::eq:
        return binary_kernel<T, bool>(p.a, p.b, out, [](T x, T y) { return x == y; });
      default:
        return binary_kernel<T, bool>(p.a, p.b, out, [](T x, T y) { return x != y; });
    }
  });
  return out;
}

Tensor logical(const Tensor& a, const Tensor& b, Logical op) {
  check_defined(a, "logical");
  check_defined(b, "logical");
  Tensor ab = to_dtype(detach(a), DType::bool_), bb = to_dtype(detach(b), DType::bool_);
  Tensor out = empty(broadcast_shapes(a->shape, b->shape, "logical"), DType::bool_);
  switch (op) {
    case Logical::and_:
      binary_kernel<bool, bool>(ab, bb, out, [](bool x, bool y) { return x && y; });
      break;
    case Logical::or_:
      binary_kernel<bool, bool>(ab, bb, out, [](bool x, bool y) { return x || y; });
      break;
    default:
      binary_kernel<bool, bool>(ab, bb, out, [](bool x, bool y) { return x != y; });
  }
  return out;
}

Tensor logical_not(const Tensor& x) {
  check_defined(x, "logical_not");
  Tensor b = to_dtype(detach(x), DType::bool_);
  Tensor out = empty(b->shape, DType::bool_);
  binary_kernel<bool, bool>(b, b, out, [](bool v, bool) { return !v; });
  return out;
}

Tensor bitwise(const Tensor& a, const Tensor& b, Logical op) {
  static const char* names[] = {"bitwise_and", "bitwise_or", "bitwise_xor"};
  const char* name = names[int(op)];
  Promoted p = promote_operands(name, a, b);
  if (is_floating(p.dt))
    throw TypeError(std::string(name) + ": not implemented for floating point tensors (got " +
                    dtype_name(p.dt) + ")");
  Tensor out = empty(p.shape, p.dt);
  dispatch_all(p.dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_floating_point_v<T>) {
      switch (op) {
        case Logical::and_:
          return binary_kernel<T, T>(p.a, p.b, out, [](T x, T y) { return T(x & y); });
        case Logical::or_:
          return binary_kernel<T, T>(p.a, p.b, out, [](T x, T y) { return T(x | y); });
        default:
          return binary_kernel<T, T>(p.a, p.b, out, [](T x, T y) { return T(x ^ y); });
      }
    }
  });
  return out;
}

Tensor bitwise_not(const Tensor& x) {
  check_defined(x, "bitwise_not");
  if (is_floating(x->dtype))
    throw TypeError(std::string("bitwise_not: not implemented for floating point tensors (got ") +
                    dtype_name(x->dtype) + ")");
  if (x->dtype == DType::bool_) return logical_not(x);
  return unary_map(x, all_dtypes, [](const auto& in, auto& res) {
    using T = typename std::decay_t<decltype(in)>::Scalar;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
      res = in.unaryExpr([](T v) { return T(~v); });
  });
}

Tensor where(const Tensor& cond, const Tensor& a_in, const Tensor& b_in) {
  check_defined(cond, "where");
  if (cond->dtype != DType::bool_)
    throw RuntimeError(std::string("where: expected condition to be a boolean tensor, but got a "
                                   "tensor with dtype ") +
                       dtype_name(cond->dtype));
  Promoted p = promote_operands("where", a_in, b_in);
  Shape shape = broadcast_shapes(cond->shape, p.shape, "where");
  Tensor out = empty(shape, p.dt);
  Tensor c = broadcast_to(detach(cond), shape);
  Tensor a = broadcast_to(detach(p.a), shape), b = broadcast_to(detach(p.b), shape);
  dispatch_all(p.dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    StridedWalk<4> walk(shape, {out->strides, c->strides, a->strides, b->strides});
    T* po = out->ptr<T>();
    const bool* pc = c->ptr<bool>();
    const T *pa = a->ptr<T>(), *pb = b->ptr<T>();
    walk.run_parallel([&](const auto& off, int64_t n, const auto& st) {
      for (int64_t j = 0; j < n; ++j)
        po[off[0] + j * st[0]] =
            pc[off[1] + j * st[1]] ? pa[off[2] + j * st[2]] : pb[off[3] + j * st[3]];
    });
  });
  // the condition is saved; each side gets g where it was chosen
  auto pick = [cond](bool first) {
    return [cond, first](const Tensor& v, const Tensor&, const Tensor&, const Tensor&) {
      Tensor zero = zero_like(v);
      return first ? where(cond, v, zero) : where(cond, zero, v);
    };
  };
  return binary_rule("WhereBackward", p.a, p.b, out, kNone, pick(true), pick(false));
}

// maximum/minimum: a tie sends half the gradient to each side, as PyTorch;
// a NaN on either side passes its gradient to both.
static Tensor extremum(const Tensor& a_in, const Tensor& b_in, bool is_max) {
  const char* op = is_max ? "maximum" : "minimum";
  Promoted p = promote_operands(op, a_in, b_in);
  Tensor out = empty(p.shape, p.dt);
  dispatch_all(p.dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_kernel<T, T>(p.a, p.b, out, [is_max](T x, T y) -> T {
      if (x != x) return x;  // NaN propagates from either side
      if (y != y) return y;
      return is_max ? (x > y ? x : y) : (x < y ? x : y);
    });
  });
  // weight of a's side: 1 − [b wins] − ½[tie]
  auto side = [is_max](bool first) {
    return [is_max, first](const Tensor& v, const Tensor& a, const Tensor& b, const Tensor&) {
      const Tensor& self = first ? a : b;
      const Tensor& other = first ? b : a;
      Tensor loses = compare(self, other, is_max ? Compare::lt : Compare::gt);
      Tensor ties = compare(self, other, Compare::eq);
      Tensor w = sub(sub(one_like(v), to_dtype(loses, v->dtype)),
                     mul(to_dtype(ties, v->dtype), scalar_tensor(0.5, v->dtype)));
      return mul(v, w);
    };
  };
  if (!is_floating(p.dt)) return out;
  return binary_rule(is_max ? "MaximumBackward" : "MinimumBackward", p.a, p.b, out, kInput | kOther,
                     side(true), side(false));
}

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(a, b, false); }

// ---- the table ---------------------------------------------------------------------------

namespace {
Tensor scaled(const Tensor& b, Scalar alpha) {
  if (!alpha.is_floating() && alpha.i == 1) return b;
  return mul(b, wrapped_scalar(alpha));
}
Tensor add_op(const Tensor& a, const Tensor& b, Scalar alpha) { return add(a, scaled(b, alpha)); }
Tensor sub_op(const Tensor& a, const Tensor& b, Scalar alpha) { return sub(a, scaled(b, alpha)); }
Tensor div_op(const Tensor& a, const Tensor& b, std::optional<std::string> mode) {
  if (!mode) return div(a, b);
  if (*mode == "floor") return floor_divide(a, b);
  if (*mode == "trunc") {
    Promoted p = promote_operands("div", a, b);
    Tensor out = empty(p.shape, p.dt);
    dispatch_numeric(p.dt, "div", [&](auto tag) {
      using T = typename decltype(tag)::type;
      binary_kernel<T, T>(p.a, p.b, out, [](T x, T y) -> T {
        if constexpr (std::is_floating_point_v<T>) {
          return std::trunc(x / y);
        } else {
          if (y == 0) integer_division_by_zero("div");
          return x / y;  // C++ integer division truncates
        }
      });
    });
    return out;
  }
  throw RuntimeError(
      "div: expected rounding_mode to be one of None, 'trunc', or 'floor' but "
      "found '" +
      *mode + "'");
}
template <Compare C>
Tensor compare_op(const Tensor& a, const Tensor& b) {
  return compare(a, b, C);
}
template <Logical L>
Tensor logical_op(const Tensor& a, const Tensor& b) {
  return logical(a, b, L);
}
template <Logical L>
Tensor bitwise_op(const Tensor& a, const Tensor& b) {
  return bitwise(a, b, L);
}
}  // namespace

TG_OP("add(Tensor input, Operand other, *, Scalar alpha=1) -> Tensor",
      "function method inplace __add__ r:__radd__ i:__iadd__", add_op,
      R"(input + alpha·other, with broadcasting and type promotion.

>>> tg.add(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0]), alpha=2)
tensor([7., 10.]))");
TG_OP("sub(Tensor input, Operand other, *, Scalar alpha=1) -> Tensor",
      "function method inplace __sub__ r:__rsub__ i:__isub__ also:subtract", sub_op,
      R"(input - alpha·other.

>>> tg.sub(tg.tensor([5.0]), 2).item()
3.0)");
TG_OP("mul(Tensor input, Operand other) -> Tensor",
      "function method inplace __mul__ r:__rmul__ i:__imul__ also:multiply", mul,
      R"(input · other, elementwise.

>>> (tg.tensor([1.0, 2.0]) * 3).tolist()
[3.0, 6.0])");
TG_OP("div(Tensor input, Operand other, *, str? rounding_mode=None) -> Tensor",
      "function method inplace __truediv__ r:__rtruediv__ i:__itruediv__ also:divide", div_op,
      R"(input / other; integers divide to floating point unless rounding_mode is
"trunc" or "floor".

>>> tg.div(tg.tensor([7, -7]), 2, rounding_mode="floor").tolist()
[3, -4])");
TG_OP("true_divide(Tensor input, Operand other) -> Tensor", "function method inplace", div,
      R"(input / other as floating point (div without rounding).

>>> tg.true_divide(tg.tensor([1, 2]), 2).tolist()
[0.5, 1.0])");
TG_OP("pow(Tensor input, Operand exponent) -> Tensor", "function method inplace __pow__ i:__ipow__",
      pow,
      R"(input ** exponent; integer powers are exact.

>>> tg.pow(tg.tensor([2.0, 3.0]), 2).tolist()
[4.0, 9.0])");
TG_OP("pow(Operand input, Tensor exponent) -> Tensor", "function r:__rpow__", pow,
      R"(input ** exponent with a number as the base.

>>> tg.pow(2, tg.tensor([1.0, 3.0])).tolist()
[2.0, 8.0])");
TG_OP("remainder(Tensor input, Operand other) -> Tensor",
      "function method inplace __mod__ r:__rmod__ i:__imod__", remainder,
      R"(Python's modulo: the result has the sign of the divisor.

>>> tg.remainder(tg.tensor([-3.0, 3.0]), 2).tolist()
[1.0, 1.0])");
TG_OP("floor_divide(Tensor input, Operand other) -> Tensor",
      "function method inplace __floordiv__ r:__rfloordiv__ i:__ifloordiv__", floor_divide,
      R"(floor(input / other), as Python's //.

>>> (tg.tensor([7, -7]) // 2).tolist()
[3, -4])");
TG_OP("eq(Tensor input, Operand other) -> Tensor", "function method inplace __eq__",
      compare_op<Compare::eq>, R"(input == other, as a bool tensor.

>>> tg.eq(tg.tensor([1, 2]), 2).tolist()
[False, True])");
TG_OP("ne(Tensor input, Operand other) -> Tensor", "function method inplace __ne__ also:not_equal",
      compare_op<Compare::ne>, R"(input != other, as a bool tensor.

>>> tg.ne(tg.tensor([1, 2]), 2).tolist()
[True, False])");
TG_OP("lt(Tensor input, Operand other) -> Tensor", "function method inplace __lt__ also:less",
      compare_op<Compare::lt>, R"(input < other, as a bool tensor.

>>> tg.lt(tg.tensor([1, 2]), 2).tolist()
[True, False])");
TG_OP("le(Tensor input, Operand other) -> Tensor", "function method inplace __le__ also:less_equal",
      compare_op<Compare::le>,
      R"(input <= other, as a bool tensor.

>>> tg.le(tg.tensor([1, 3]), 2).tolist()
[True, False])");
TG_OP("gt(Tensor input, Operand other) -> Tensor", "function method inplace __gt__ also:greater",
      compare_op<Compare::gt>, R"(input > other, as a bool tensor.

>>> tg.gt(tg.tensor([1, 3]), 2).tolist()
[False, True])");
TG_OP("ge(Tensor input, Operand other) -> Tensor",
      "function method inplace __ge__ also:greater_equal", compare_op<Compare::ge>,
      R"(input >= other, as a bool tensor.

>>> tg.ge(tg.tensor([1, 2]), 2).tolist()
[False, True])");
TG_OP("where(Tensor condition, Operand input, Operand other) -> Tensor", "function", where,
      R"(input where condition (a bool tensor) holds, other elsewhere; differentiable in
input and other.

>>> tg.where(tg.tensor([True, False]), tg.tensor([1.0, 2.0]), 0.0).tolist()
[1.0, 0.0])");
TG_OP(
    "where(Tensor input, Tensor condition, Operand other) -> Tensor", "method",
    [](const Tensor& self, const Tensor& cond, const Tensor& other) {
      return where(cond, self, other);
    },
    R"(self where condition holds, other elsewhere.

>>> tg.tensor([1.0, 2.0]).where(tg.tensor([True, False]), 0.0).tolist()
[1.0, 0.0])");
TG_OP("maximum(Tensor input, Operand other) -> Tensor", "function method", maximum,
      R"(The elementwise maximum (NaN propagates; a tie splits the gradient).

>>> tg.maximum(tg.tensor([1.0, 5.0]), tg.tensor([3.0, 2.0])).tolist()
[3.0, 5.0])");
TG_OP("minimum(Tensor input, Operand other) -> Tensor", "function method", minimum,
      R"(The elementwise minimum (NaN propagates; a tie splits the gradient).

>>> tg.minimum(tg.tensor([1.0, 5.0]), tg.tensor([3.0, 2.0])).tolist()
[1.0, 2.0])");
TG_OP("logical_and(Tensor input, Operand other) -> Tensor", "function method inplace",
      logical_op<Logical::and_>, R"(Elementwise logical and (nonzero is true), as bool.

>>> tg.logical_and(tg.tensor([1, 0]), tg.tensor([1, 1])).tolist()
[True, False])");
TG_OP("logical_or(Tensor input, Operand other) -> Tensor", "function method inplace",
      logical_op<Logical::or_>, R"(Elementwise logical or (nonzero is true), as bool.

>>> tg.logical_or(tg.tensor([1, 0]), tg.tensor([0, 0])).tolist()
[True, False])");
TG_OP("logical_xor(Tensor input, Operand other) -> Tensor", "function method inplace",
      logical_op<Logical::xor_>, R"(Elementwise logical xor (nonzero is true), as bool.

>>> tg.logical_xor(tg.tensor([1, 0]), tg.tensor([1, 1])).tolist()
[False, True])");
TG_OP("logical_not(Tensor input) -> Tensor", "function method inplace", logical_not,
      R"(Elementwise logical not (nonzero is true), as bool.

>>> tg.logical_not(tg.tensor([1, 0])).tolist()
[False, True])");
TG_OP("bitwise_and(Tensor input, Operand other) -> Tensor",
      "function method inplace __and__ r:__rand__ i:__iand__", bitwise_op<Logical::and_>,
      R"(Bitwise and of integer or bool tensors (&).

>>> (tg.tensor([True, False]) & tg.tensor([True, True])).tolist()
[True, False])");
TG_OP("bitwise_or(Tensor input, Operand other) -> Tensor",
      "function method inplace __or__ r:__ror__ i:__ior__", bitwise_op<Logical::or_>,
      R"(Bitwise or of integer or bool tensors (|).

>>> (tg.tensor([4, 1]) | 2).tolist()
[6, 3])");
TG_OP("bitwise_xor(Tensor input, Operand other) -> Tensor",
      "function method inplace __xor__ r:__rxor__ i:__ixor__", bitwise_op<Logical::xor_>,
      R"(Bitwise xor of integer or bool tensors (^).

>>> (tg.tensor([True, False]) ^ True).tolist()
[False, True])");
TG_OP("bitwise_not(Tensor input) -> Tensor", "function method inplace __invert__", bitwise_not,
      R"(Bitwise not of an integer or bool tensor (~).

>>> (~tg.tensor([True, False])).tolist()
[False, True])");

}  // namespace tapegrad
