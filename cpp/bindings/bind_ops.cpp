// Ops as tg.* functions and Tensor methods. Only conversion and GIL handling.
#include "common.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

namespace tapegrad {

bool to_operand(py::handle obj, const Tensor& like, Tensor& out) {
  if (py::isinstance<TensorImpl>(obj)) {
    out = obj.cast<Tensor>();
    return true;
  }
  // Python (and NumPy) scalars take the tensor's dtype, as in PyTorch: an int
  // keeps any dtype, a float turns an int64 tensor's result into float32.
  auto as_int = [&] {
    // exactly, not through a double (which holds integers only up to 2**53)
    const py::int_ value(py::reinterpret_borrow<py::object>(obj));
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (overflow) {
      // A float tensor takes any int as a number (an OverflowError beyond
      // the doubles, as PyTorch); an int64 tensor can't hold it, and
      // wrapping it around would be silent.
      if (!is_floating(like->dtype)) {
        PyErr_Format(PyExc_OverflowError, "int too big to convert: %S does not fit in int64",
                     value.ptr());
        throw py::error_already_set();
      }
      out = scalar_tensor(py::float_(value).cast<double>(), like->dtype);
    } else if (like->dtype == DType::int64) {
      out = empty({}, DType::int64);
      out->data<int64_t>()[0] = v;
    } else {
      out = scalar_tensor(double(v), like->dtype);
    }
  };
  auto as_float = [&] {
    out =
        scalar_tensor(obj.cast<double>(), is_floating(like->dtype) ? like->dtype : DType::float32);
  };
  if (PyBool_Check(obj.ptr()) || PyLong_Check(obj.ptr())) {
    as_int();
    return true;
  }
  if (PyFloat_Check(obj.ptr())) {
    as_float();
    return true;
  }
  py::module_ np = py::module_::import("numpy");
  if (py::isinstance(obj, np.attr("integer")) || py::isinstance(obj, np.attr("bool_"))) {
    as_int();
    return true;
  }
  if (py::isinstance(obj, np.attr("floating"))) {
    as_float();
    return true;
  }
  if (py::isinstance<py::array>(obj)) {
    out = py::module_::import("tapegrad").attr("tensor")(obj).cast<Tensor>();
    return true;
  }
  return false;
}

int64_t to_int64(py::handle obj, const char* op, const char* what) {
  if (!PyLong_Check(obj.ptr()) && !PyIndex_Check(obj.ptr()))
    throw TypeError(std::string(op) + ": " + what + " must be an integer, got " +
                    std::string(py::str(py::type::of(obj).attr("__name__"))));
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow)
    throw ValueError(std::string(op) + ": Overflow when unpacking long long: " + what + " " +
                     std::string(py::str(obj)) + " does not fit in int64");
  return v;
}

std::vector<int64_t> to_dims(py::handle dim, const char* op) {
  std::vector<int64_t> dims;
  if (dim.is_none()) return dims;
  if (py::isinstance<py::int_>(dim)) return {to_int64(dim, op, "dim")};
  if (py::isinstance<py::sequence>(dim)) {
    for (py::handle h : dim) {
      if (!py::isinstance<py::int_>(h))
        throw TypeError(std::string(op) + ": dim must be an int or a tuple of ints");
      dims.push_back(to_int64(h, op, "dim"));
    }
    if (dims.empty()) throw ValueError(std::string(op) + ": dim must not be an empty tuple");
    return dims;
  }
  throw TypeError(std::string(op) + ": dim must be None, an int or a tuple of ints, got " +
                  std::string(py::str(py::type::of(dim).attr("__name__"))));
}

namespace {

using Binary = Tensor (*)(const Tensor&, const Tensor&);

// a (op) other and other (op) a, NotImplemented for unsupported operands.
template <Binary F>
py::object forward_op(const Tensor& a, py::handle other) {
  Tensor b;
  if (!to_operand(other, a, b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  return py::cast(maybe_release(std::max(a->numel, b->numel), [&] { return F(a, b); }));
}
template <Binary F>
py::object reflected_op(const Tensor& a, py::handle other) {
  Tensor b;
  if (!to_operand(other, a, b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  return py::cast(maybe_release(std::max(a->numel, b->numel), [&] { return F(b, a); }));
}

// a ** other: a Python number as exponent goes through pow_scalar, which
// refuses what PyTorch refuses for a number (a tensor exponent does not).
py::object pow_forward(const Tensor& a, py::handle other) {
  Tensor b;
  if (!to_operand(other, a, b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  const bool number = !py::isinstance<TensorImpl>(other) && !py::isinstance<py::array>(other);
  return py::cast(maybe_release(std::max(a->numel, b->numel),
                                [&] { return number ? pow_scalar(a, b) : pow(a, b); }));
}

template <Compare C>
Tensor compare_op(const Tensor& a, const Tensor& b) {
  return compare(a, b, C);
}

using Unary = Tensor (*)(const Tensor&);
template <Unary F>
Tensor unary_op(const Tensor& x) {
  check_defined(x, "op");
  return maybe_release(x->numel, [&] { return F(x); });
}

Tensor as_tensor(py::handle obj, const char* op) {
  if (!py::isinstance<TensorImpl>(obj))
    throw TypeError(std::string(op) + ": expected a Tensor, got " +
                    std::string(py::str(py::type::of(obj).attr("__name__"))));
  return obj.cast<Tensor>();
}

template <Binary F>
Tensor binary_fn(py::handle a, py::handle b, const char* op) {
  if (py::isinstance<TensorImpl>(a)) {
    Tensor ta = a.cast<Tensor>(), tb;
    if (!to_operand(b, ta, tb))
      throw TypeError(std::string(op) + ": unsupported operand of type " +
                      std::string(py::str(py::type::of(b).attr("__name__"))));
    return F(ta, tb);
  }
  Tensor tb = as_tensor(b, op), ta;
  if (!to_operand(a, tb, ta))
    throw TypeError(std::string(op) + ": unsupported operand of type " +
                    std::string(py::str(py::type::of(a).attr("__name__"))));
  return F(ta, tb);
}

}  // namespace

void bind_ops(py::module_& m) {
  py::class_<TensorImpl, std::shared_ptr<TensorImpl>> cls =
      py::reinterpret_borrow<py::class_<TensorImpl, std::shared_ptr<TensorImpl>>>(m.attr("Tensor"));

  cls.def("__add__", &forward_op<add>, py::pos_only())
      .def("__radd__", &reflected_op<add>, py::pos_only())
      .def("__sub__", &forward_op<sub>, py::pos_only())
      .def("__rsub__", &reflected_op<sub>, py::pos_only())
      .def("__mul__", &forward_op<mul>, py::pos_only())
      .def("__rmul__", &reflected_op<mul>, py::pos_only())
      .def("__truediv__", &forward_op<div>, py::pos_only())
      .def("__rtruediv__", &reflected_op<div>, py::pos_only())
      .def("__pow__", &pow_forward, py::pos_only())
      .def("__rpow__", &reflected_op<pow>, py::pos_only())
      .def("__matmul__", &forward_op<matmul>, py::pos_only())
      .def("__rmatmul__", &reflected_op<matmul>, py::pos_only())
      .def("__lt__", &forward_op<compare_op<Compare::lt>>, py::pos_only())
      .def("__le__", &forward_op<compare_op<Compare::le>>, py::pos_only())
      .def("__gt__", &forward_op<compare_op<Compare::gt>>, py::pos_only())
      .def("__ge__", &forward_op<compare_op<Compare::ge>>, py::pos_only())
      .def("__eq__", &forward_op<compare_op<Compare::eq>>, py::pos_only())
      .def("__ne__", &forward_op<compare_op<Compare::ne>>, py::pos_only())
      .def("__neg__", &unary_op<neg>, py::pos_only())
      .def("exp", &unary_op<exp>, py::pos_only())
      .def("log", &unary_op<log>, py::pos_only())
      .def("tanh", &unary_op<tanh>, py::pos_only())
      .def("sigmoid", &unary_op<sigmoid>, py::pos_only())
      .def("relu", &unary_op<relu>, py::pos_only())
      .def("sqrt", &unary_op<sqrt>, py::pos_only())
      .def("sin", &unary_op<sin>, py::pos_only())
      .def("cos", &unary_op<cos>, py::pos_only())
      .def("abs", &unary_op<abs>, py::pos_only())
      .def("__abs__", &unary_op<abs>, py::pos_only())
      .def("softplus", &softplus, py::arg("beta") = 1.0, py::arg("threshold") = 20.0)
      .def("clamp", &clamp, py::arg("min") = py::none(), py::arg("max") = py::none())
      .def(
          "var",
          [](const Tensor& x, py::handle dim, bool unbiased, bool keepdim, py::object correction) {
            double c = correction.is_none() ? (unbiased ? 1.0 : 0.0) : correction.cast<double>();
            return var(x, to_dims(dim, "var"), c, keepdim);
          },
          py::arg("dim") = py::none(), py::arg("unbiased") = true, py::arg("keepdim") = false,
          py::kw_only(), py::arg("correction") = py::none())
      .def(
          "logsumexp",
          [](const Tensor& x, py::handle dim, bool keepdim) {
            return logsumexp(x, to_dims(dim, "logsumexp"), keepdim);
          },
          py::arg("dim"), py::arg("keepdim") = false)
      .def("softmax", &softmax, py::arg("dim"))
      .def("log_softmax", &log_softmax, py::arg("dim"))
      .def("view", [](const Tensor& x,
                      py::args shape) { return reshape(x, to_shape(shape, "view"), "view"); })
      .def("flatten", &flatten, py::arg("start_dim") = 0, py::arg("end_dim") = -1)
      .def("permute",
           [](const Tensor& x, py::args dims) { return permute(x, to_shape(dims, "permute")); })
      .def("squeeze", &squeeze, py::arg("dim") = py::none())
      .def("unsqueeze", &unsqueeze, py::arg("dim"))
      .def("expand",
           [](const Tensor& x, py::args sizes) { return expand(x, to_shape(sizes, "expand")); })
      .def("outer", &outer, py::pos_only())
      .def("dot", &dot, py::pos_only())
      .def("matmul", &matmul, py::pos_only())
      .def(
          "sum",
          [](const Tensor& x, py::handle dim, bool keepdim) {
            auto dims = to_dims(dim, "sum");
            return maybe_release(x->numel, [&] { return sum(x, dims, keepdim); });
          },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "mean",
          [](const Tensor& x, py::handle dim, bool keepdim) {
            auto dims = to_dims(dim, "mean");
            return maybe_release(x->numel, [&] { return mean(x, dims, keepdim); });
          },
          py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def(
          "_assign",
          // op as std::string: a const char* parameter would accept None as nullptr
          [](const Tensor& self, py::handle src, const std::string& op) {
            Tensor value;
            if (!to_operand(src, self, value))
              throw TypeError(op + ": unsupported operand of type " +
                              std::string(py::str(py::type::of(src).attr("__name__"))));
            return maybe_release(self->numel, [&] { return assign_(self, value, op.c_str()); });
          },
          py::pos_only())
      .def("reshape",
           [](const Tensor& x, py::args shape) { return reshape(x, to_shape(shape, "reshape")); })
      .def("transpose", &transpose, py::arg("dim0"), py::arg("dim1"))
      .def_property_readonly(
          "T",
          [](const Tensor& x) {
            if (x->ndim() > 2)
              throw ValueError("T: expected a tensor of at most 2 dimensions, got shape " +
                               shape_str(x->shape) + "; use permute or transpose");
            return x->ndim() < 2
                       ? permute(x, x->ndim() ? std::vector<int64_t>{0} : std::vector<int64_t>{})
                       : transpose(x, 0, 1);
          },
          py::pos_only());
  // The GIL check in the method table above: matmul of big operands is O(n³)
  // but goes through forward_op, which releases the GIL by operand size.

  m.def("add", [](py::handle a, py::handle b) { return binary_fn<add>(a, b, "add"); });
  m.def("sub", [](py::handle a, py::handle b) { return binary_fn<sub>(a, b, "sub"); });
  m.def("mul", [](py::handle a, py::handle b) { return binary_fn<mul>(a, b, "mul"); });
  m.def("div", [](py::handle a, py::handle b) { return binary_fn<div>(a, b, "div"); });
  m.def("pow", [](py::handle a, py::handle b) -> py::object {
    if (py::isinstance<TensorImpl>(a) && !py::isinstance<TensorImpl>(b)) {
      py::object r = pow_forward(a.cast<Tensor>(), b);
      if (r.is(py::handle(Py_NotImplemented)))
        throw TypeError("pow: unsupported operand of type " +
                        std::string(py::str(py::type::of(b).attr("__name__"))));
      return r;
    }
    return py::cast(binary_fn<pow>(a, b, "pow"));
  });
  m.def("matmul", [](const Tensor& a, const Tensor& b) {
    check_defined(a, "matmul");
    check_defined(b, "matmul");
    return maybe_release(std::max(a->numel, b->numel), [&] { return matmul(a, b); });
  });
  m.def("where", [](const Tensor& c, py::handle a, py::handle b) {
    check_defined(c, "where");
    Tensor ta, tb;
    Tensor like = py::isinstance<TensorImpl>(a)   ? a.cast<Tensor>()
                  : py::isinstance<TensorImpl>(b) ? b.cast<Tensor>()
                                                  : c;
    if (!to_operand(a, like, ta) || !to_operand(b, like, tb))
      throw TypeError("where: expected Tensors or numbers for both branches");
    return where(c, ta, tb);
  });
  m.def("neg", &unary_op<neg>);
  m.def("exp", &unary_op<exp>);
  m.def("log", &unary_op<log>);
  m.def("tanh", &unary_op<tanh>);
  m.def("sigmoid", &unary_op<sigmoid>);
  m.def("relu", &unary_op<relu>);
  m.def("transpose", &transpose);
  m.def("sqrt", &unary_op<sqrt>);
  m.def("sin", &unary_op<sin>);
  m.def("cos", &unary_op<cos>);
  m.def("abs", &unary_op<abs>);
  m.def("softplus", &softplus, py::arg("input"), py::arg("beta") = 1.0,
        py::arg("threshold") = 20.0);
  m.def("clamp", &clamp, py::arg("input"), py::arg("min") = py::none(),
        py::arg("max") = py::none());
  m.def("maximum", [](py::handle a, py::handle b) { return binary_fn<maximum>(a, b, "maximum"); });
  m.def("minimum", [](py::handle a, py::handle b) { return binary_fn<minimum>(a, b, "minimum"); });
  m.def("outer", &outer);
  m.def("dot", &dot);
  m.def("matrix_exp", [](const Tensor& a) {
    check_defined(a, "matrix_exp");
    return maybe_release(a->numel * 8, [&] { return matrix_exp(a); });
  });
  m.def("softmax", &softmax, py::arg("input"), py::arg("dim"));
  m.def("log_softmax", &log_softmax, py::arg("input"), py::arg("dim"));
  m.def("cat", &cat, py::arg("tensors"), py::arg("dim") = 0);
  m.def("stack", &stack, py::arg("tensors"), py::arg("dim") = 0);
  m.def("permute",
        [](const Tensor& x, const std::vector<int64_t>& dims) { return permute(x, dims); });
  m.def("norm", [](const Tensor& x, double p, py::handle dim, bool keepdim) {
    return norm(x, p, to_dims(dim, "norm"), keepdim);
  });
  m.def("_batch_norm_train",
        [](const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
           const Tensor& running_var, double momentum, double eps) {
          check_defined(x, "batch_norm");
          return maybe_release(x->numel, [&] {
            return batch_norm_train(x, gamma, beta, running_mean, running_var, momentum, eps);
          });
        });
  m.def("_cross_entropy", [](const Tensor& logits, const Tensor& target, int64_t ignore_index) {
    check_defined(logits, "cross_entropy");
    return maybe_release(logits->numel,
                         [&] { return cross_entropy_per_sample(logits, target, ignore_index); });
  });
  m.def("_dropout_mask",
        [](const Shape& shape, double p, DType dt) { return dropout_mask(shape, p, dt); });
  m.def("_max_all", &max_all);
  m.def("_min_all", &min_all);
  m.def("_max_dim", &max_dim);
  m.def("_min_dim", &min_dim);
  m.def("_slice", &slice);
  m.def("_index_select", &index_select);
  m.def("_gather", &gather);
  m.def("_sign", &sign);
  m.def("_set_forward_ad", [](bool on) {
    bool previous = forward_ad_enabled();
    set_forward_ad_enabled(on);
    return previous;
  });
  m.def("_make_dual", [](const Tensor& x, const Tensor& tangent) {
    check_defined(x, "jvp");
    check_defined(tangent, "jvp");
    if (tangent->shape != x->shape)
      throw ValueError("jvp: tangent of shape " + shape_str(tangent->shape) +
                       " does not match the input of shape " + shape_str(x->shape));
    // a view of x through an identity node, so that under create_graph the
    // tangents computed from it stay differentiable with respect to x
    Tensor dual = x->requires_grad ? reshape(x, x->shape) : alias(x, x->shape);
    dual->tangent = to_dtype(tangent, x->dtype);
    return dual;
  });
  m.def("_tangent", [](const Tensor& x) {
    check_defined(x, "jvp");
    return x->tangent;
  });
  m.def("_reshape", [](const Tensor& x, const Shape& s) { return reshape(x, s); });
  m.def("_sum_to", [](const Tensor& x, const Shape& s) { return sum_to(x, s); });
  m.def("_broadcast_to", [](const Tensor& x, const Shape& s) { return broadcast_to(x, s); });
  m.def("_mm", &mm);
}

}  // namespace tapegrad
