// Creation functions: new tensors from shapes and values. Floating results
// take the default dtype unless dtype= says otherwise.
#include <cmath>

#include "kernels.h"
#include "tapegrad/ops.h"
#include "tapegrad/registry.h"

namespace tapegrad {

namespace {

Tensor finish(Tensor t, bool requires_grad) {
  if (requires_grad) {
    if (!is_floating(t->dtype))
      throw RuntimeError(std::string("Only Tensors of floating point dtype can require "
                                     "gradients (got ") +
                         dtype_name(t->dtype) + ")");
    t->requires_grad = true;
  }
  return t;
}

DType or_default(std::optional<DType> dt) { return dt ? *dt : default_dtype(); }

// A fill value's dtype: bool, int64 or the default floating dtype.
DType dtype_of(Scalar v) {
  return v.is_floating() ? default_dtype() : v.is_bool() ? DType::bool_ : DType::int64;
}

// The size checked in the name of the op the user called.
const Shape& sized(const Shape& size, const char* op) {
  numel_of(size, op);
  return size;
}

Tensor zeros_op(const Shape& size, std::optional<DType> dt, bool rg) {
  return finish(zeros(sized(size, "zeros"), or_default(dt)), rg);
}
Tensor ones_op(const Shape& size, std::optional<DType> dt, bool rg) {
  return finish(full(sized(size, "ones"), Scalar(int64_t(1)), or_default(dt)), rg);
}
Tensor empty_op(const Shape& size, std::optional<DType> dt, bool rg) {
  return finish(empty(sized(size, "empty"), or_default(dt)), rg);
}
Tensor full_op(const Shape& size, Scalar value, std::optional<DType> dt, bool rg) {
  return finish(full(sized(size, "full"), value, dt ? *dt : dtype_of(value)), rg);
}
Tensor like(const Tensor& x, std::optional<DType> dt, const char* op) {
  check_defined(x, op);
  return empty(x->shape, dt ? *dt : x->dtype);
}
Tensor arange_op(Scalar start, Scalar end, Scalar step, std::optional<DType> dt, bool rg) {
  const bool ints = !start.is_floating() && !end.is_floating() && !step.is_floating();
  const DType out = dt ? *dt : (ints ? DType::int64 : default_dtype());
  if (ints && is_integral(out)) {
    // counted in integers: a double holds every int64 only up to 2^53
    const int64_t a = start.i, b = end.i, s = step.i;
    if (s == 0) throw RuntimeError("arange: step must be nonzero");
    if ((s > 0 && b < a) || (s < 0 && b > a))
      throw RuntimeError("arange: upper bound and larger bound inconsistent with step sign");
    const __int128 span = __int128(b) - a;
    const int64_t n = int64_t(span == 0 ? 0 : (span - (s > 0 ? 1 : -1)) / s + 1);
    Tensor t = empty({n}, out);
    dispatch_all(out, [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* p = t->data<T>();
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(a + i * s);
    });
    return finish(t, rg);
  }
  return finish(arange(start.to_double(), end.to_double(), step.to_double(), out), rg);
}

}  // namespace

TG_OP("zeros(int... size, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor",
      "function", zeros_op, R"(A tensor of zeros: tg.zeros(2, 3) or tg.zeros((2, 3)).

>>> tg.zeros(2, 3).shape
(2, 3))");
TG_OP("ones(int... size, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor",
      "function", ones_op, R"(A tensor of ones: tg.ones(2, 3) or tg.ones((2, 3)).

>>> tg.ones(2).tolist()
[1.0, 1.0])");
TG_OP("empty(int... size, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor",
      "function", empty_op, R"(An uninitialized tensor of the given shape.

>>> tg.empty(2, 3).shape
(2, 3))");
TG_OP(
    "full(int[] size, Scalar fill_value, *, ScalarType? dtype=None, bool requires_grad=False) "
    "-> Tensor",
    "function", full_op, R"(A tensor filled with fill_value (its dtype follows the value).

>>> tg.full((2,), 7).tolist()
[7, 7])");
TG_OP(
    "zeros_like(Tensor input, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor",
    "function",
    [](const Tensor& x, std::optional<DType> dt, bool rg) {
      return finish(zeros(like(x, dt, "zeros_like")->shape, dt ? *dt : x->dtype), rg);
    },
    R"(Zeros with the shape (and dtype, unless given) of input.

>>> tg.zeros_like(tg.ones(2, dtype=tg.float64)).dtype
tapegrad.float64)");
TG_OP(
    "ones_like(Tensor input, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor",
    "function",
    [](const Tensor& x, std::optional<DType> dt, bool rg) {
      return finish(full(like(x, dt, "ones_like")->shape, Scalar(int64_t(1)), dt ? *dt : x->dtype),
                    rg);
    },
    R"(Ones with the shape (and dtype, unless given) of input.

>>> tg.ones_like(tg.zeros(2)).tolist()
[1.0, 1.0])");
TG_OP(
    "empty_like(Tensor input, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor",
    "function",
    [](const Tensor& x, std::optional<DType> dt, bool rg) {
      return finish(like(x, dt, "empty_like"), rg);
    },
    R"(An uninitialized tensor with the shape (and dtype, unless given) of input.

>>> tg.empty_like(tg.zeros(2, 2)).shape
(2, 2))");
TG_OP(
    "full_like(Tensor input, Scalar fill_value, *, ScalarType? dtype=None, bool "
    "requires_grad=False) -> Tensor",
    "function",
    [](const Tensor& x, Scalar v, std::optional<DType> dt, bool rg) {
      return finish(full(like(x, dt, "full_like")->shape, v, dt ? *dt : x->dtype), rg);
    },
    R"(fill_value with the shape (and dtype, unless given) of input.

>>> tg.full_like(tg.zeros(2), 3.0).tolist()
[3.0, 3.0])");
TG_OP(
    "arange(Scalar end, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor", "function",
    [](Scalar end, std::optional<DType> dt, bool rg) {
      return arange_op(Scalar(int64_t(0)), end, Scalar(int64_t(1)), dt, rg);
    },
    R"(0, 1, ..., up to end (exclusive); int64 for integer arguments.

>>> tg.arange(4).tolist()
[0, 1, 2, 3])");
TG_OP(
    "arange(Scalar start, Scalar end, Scalar step=1, *, ScalarType? dtype=None, bool "
    "requires_grad=False) -> Tensor",
    "function", arange_op, R"(start, start + step, ..., up to end (exclusive).

>>> tg.arange(0, 1, 0.25).tolist()
[0.0, 0.25, 0.5, 0.75])");
TG_OP(
    "eye(int n, int? m=None, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor",
    "function",
    [](int64_t n, std::optional<int64_t> m, std::optional<DType> dt, bool rg) {
      return finish(eye(n, m ? *m : n, or_default(dt)), rg);
    },
    R"(The n × m identity matrix.

>>> tg.eye(2).tolist()
[[1.0, 0.0], [0.0, 1.0]])");
TG_OP(
    "rand(int... size, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor", "function",
    [](const Shape& s, std::optional<DType> dt, bool rg) {
      return finish(rand(sized(s, "rand"), or_default(dt)), rg);
    },
    R"(Uniform samples on [0, 1) from tapegrad's generator (see tg.manual_seed).

>>> tg.rand(3).shape
(3,))");
TG_OP(
    "randn(int... size, *, ScalarType? dtype=None, bool requires_grad=False) -> Tensor", "function",
    [](const Shape& s, std::optional<DType> dt, bool rg) {
      return finish(randn(sized(s, "randn"), or_default(dt)), rg);
    },
    R"(Standard normal samples from tapegrad's generator (see tg.manual_seed).

>>> tg.randn(2, 2).shape
(2, 2))");

}  // namespace tapegrad
