// Tensor, dtype, NumPy conversion, creation and the autograd entry points.
#include <cstring>
#include <limits>
#include <optional>

#include "common.h"
#include "tapegrad/engine.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

namespace tapegrad {

namespace {

std::optional<DType> numpy_target(const py::dtype& dt) {
  char kind = dt.kind();
  if (kind == 'f') return dt.itemsize() == 8 ? DType::float64 : DType::float32;
  if (kind == 'i' || kind == 'u') return DType::int64;
  if (kind == 'b') return DType::float32;
  return std::nullopt;
}

py::dtype numpy_dtype(DType dt) {
  switch (dt) {
    case DType::float32:
      return py::dtype::of<float>();
    case DType::float64:
      return py::dtype::of<double>();
    default:
      return py::dtype::of<int64_t>();
  }
}

// NumPy in. Shares the array's memory when it already has the layout and
// dtype of a tensor and `copy` is false (tg.from_numpy); copies otherwise.
Tensor from_numpy(py::array arr, std::optional<DType> want, bool copy) {
  auto target = numpy_target(arr.dtype());
  if (!target)
    throw TypeError("tensor: can't convert a NumPy array of dtype " +
                    std::string(py::str(arr.dtype())) +
                    "; supported are floating, integer and bool arrays");
  DType dt = want ? *want : *target;
  // uint64 values beyond int64 would wrap around to negative numbers
  if (arr.dtype().kind() == 'u' && arr.dtype().itemsize() == 8 && dt == DType::int64 &&
      arr.size() > 0) {
    py::object big = arr.attr("max")();
    if (py::int_(big) > py::int_(std::numeric_limits<int64_t>::max()))
      throw ValueError("tensor: Overflow when unpacking long long: the uint64 value " +
                       std::string(py::str(big)) + " does not fit in int64");
  }
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  numel_of(shape, "tensor");
  const bool same_type = numpy_target(arr.dtype()) == dt &&
                         arr.dtype().itemsize() == int64_t(dtype_size(dt)) &&
                         (arr.dtype().kind() == 'f' || arr.dtype().kind() == 'i');
  const bool contiguous = arr.flags() & py::array::c_style;
  if (!copy && same_type && contiguous && arr.writeable()) {
    auto t = std::make_shared<TensorImpl>();
    t->shape = shape;
    t->numel = numel_of(shape, "from_numpy");
    t->dtype = dt;
    PyObject* owner = arr.ptr();
    Py_INCREF(owner);
    t->storage =
        std::make_shared<Storage>(arr.mutable_data(), size_t(arr.nbytes()), [owner](void*) {
          py::gil_scoped_acquire gil;
          Py_DECREF(owner);
        });
    return t;
  }
  // np.ascontiguousarray(arr, dtype) then one memcpy
  py::array conv = py::module_::import("numpy").attr("ascontiguousarray")(arr, numpy_dtype(dt));
  Tensor t = empty(shape, dt);
  std::memcpy(t->raw(), conv.data(), size_t(t->numel) * dtype_size(dt));
  return t;
}

// NumPy out without a copy: the array keeps the storage alive.
py::array to_numpy(const Tensor& t) {
  auto* keep = new std::shared_ptr<Storage>(t->storage);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  std::vector<py::ssize_t> shape(t->shape.begin(), t->shape.end()), strides(shape.size());
  py::ssize_t s = py::ssize_t(dtype_size(t->dtype));
  for (size_t k = shape.size(); k-- > 0;) {
    strides[k] = s;
    s *= shape[k];
  }
  return py::array(numpy_dtype(t->dtype), shape, strides, t->raw(), base);
}

py::tuple shape_tuple(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i) t[i] = py::int_(s[i]);
  return t;
}

void set_requires_grad(const Tensor& t, bool flag) {
  if (!t->is_leaf())
    throw AutogradError(
        "you can only change requires_grad flags of leaf variables. If you want to use a computed "
        "variable in a subgraph that doesn't require differentiation use var_no_grad = "
        "var.detach().");
  if (flag && !is_floating(t->dtype))
    throw AutogradError("only Tensors of floating point dtype can require gradients (got int64)");
  t->requires_grad = flag;
}

std::vector<Tensor> to_tensor_list(py::handle seq, const char* what) {
  std::vector<Tensor> out;
  if (py::isinstance<TensorImpl>(seq)) {
    out.push_back(seq.cast<Tensor>());
    return out;
  }
  for (py::handle h : seq) {
    if (h.is_none()) {
      out.push_back(nullptr);
      continue;
    }
    if (!py::isinstance<TensorImpl>(h))
      throw TypeError(std::string(what) + ": expected Tensors, got " +
                      std::string(py::str(py::type::of(h).attr("__name__"))));
    out.push_back(h.cast<Tensor>());
  }
  return out;
}

}  // namespace

Shape to_shape(const py::args& args, const char* op) {
  py::sequence seq = args;
  if (args.size() == 1 && !py::isinstance<py::int_>(args[0]))
    seq = py::reinterpret_borrow<py::sequence>(args[0]);
  Shape s;
  for (py::handle h : seq) {
    if (!py::isinstance<py::int_>(h) && !py::hasattr(h, "__index__"))
      throw TypeError(std::string(op) + ": shape entries must be integers, got " +
                      std::string(py::str(py::type::of(h).attr("__name__"))));
    // a size beyond int64: TypeError, as PyTorch's "failed to unpack" error
    try {
      s.push_back(to_int64(py::int_(py::reinterpret_borrow<py::object>(h)), op, "size"));
    } catch (const ValueError& e) {
      throw TypeError(e.what());
    }
  }
  return s;
}

void bind_tensor(py::module_& m) {
  py::enum_<DType>(m, "dtype")
      .value("float32", DType::float32)
      .value("float64", DType::float64)
      .value("int64", DType::int64)
      .def_property_readonly("is_floating_point", [](DType d) { return is_floating(d); })
      .def_property_readonly("itemsize", [](DType d) { return dtype_size(d); })
      .def("__repr__", [](DType d) { return std::string("tapegrad.") + dtype_name(d); })
      .def("__str__", [](DType d) { return std::string("tapegrad.") + dtype_name(d); });

  // py::pos_only() on every method and property without py::arg: it gives the
  // method an argument record for self that refuses None. Without one,
  // pybind11 converts None to a null holder (Tensor.numel(None) dereferenced
  // it); methods with py::arg annotations get the same record already.
  py::class_<Node, std::shared_ptr<Node>>(m, "Node", "A recorded op: where backward goes next.")
      .def(
          "name", [](const Node& n) { return std::string(n.name); }, py::pos_only())
      .def_property_readonly(
          "next_functions",
          [](const Node& n) {
            py::list out;
            for (const Edge& e : n.edges)
              out.append(py::make_tuple(e.fn ? py::cast(e.fn) : py::none(), 0));
            return py::tuple(out);
          },
          py::pos_only())
      .def(
          "__repr__", [](const Node& n) { return "<" + std::string(n.name) + ">"; },
          py::pos_only());

  py::class_<TensorImpl, std::shared_ptr<TensorImpl>> cls(m, "Tensor");
  // Tensor(t) shares t's data (as nn.Parameter(t) does); Python subclasses
  // of Tensor construct through it.
  cls.def(py::init([](const Tensor& t) {
            check_defined(t, "Tensor");
            return alias(t, t->shape);
          }),
          py::arg("data"))
      .def_property(
          "data", [](const Tensor& t) { return detach(t); },
          [](const Tensor& t, const Tensor& value) {
            // t.data = value: t takes value's storage, shape and dtype and keeps
            // its identity (what Module.double() relies on)
            check_defined(value, "data");
            if (t->requires_grad && !is_floating(value->dtype))
              throw TypeError("data: a tensor that requires grad cannot hold int64 data");
            t->storage = value->storage;
            t->shape = value->shape;
            t->numel = value->numel;
            t->dtype = value->dtype;
            if (t->grad && (t->grad->shape != t->shape || t->grad->dtype != t->dtype))
              t->grad.reset();
          },
          py::pos_only());
  cls.def_property_readonly(
         "shape", [](const Tensor& t) { return shape_tuple(t->shape); }, py::pos_only())
      .def_property_readonly(
          "ndim", [](const Tensor& t) { return t->ndim(); }, py::pos_only())
      .def_property_readonly(
          "dtype", [](const Tensor& t) { return t->dtype; }, py::pos_only())
      .def(
          "dim", [](const Tensor& t) { return t->ndim(); }, py::pos_only())
      .def(
          "numel", [](const Tensor& t) { return t->numel; }, py::pos_only())
      .def(
          "size",
          [](const Tensor& t, py::object dim) -> py::object {
            if (dim.is_none()) return shape_tuple(t->shape);
            return py::int_(size_at(t, to_int64(dim, "size", "dim")));
          },
          py::arg("dim") = py::none())
      .def_property(
          "requires_grad", [](const Tensor& t) { return t->requires_grad; }, &set_requires_grad,
          py::pos_only())
      .def(
          "requires_grad_",
          [](const Tensor& t, bool flag) {
            set_requires_grad(t, flag);
            return t;
          },
          py::arg("requires_grad") = true)
      .def_property(
          "grad", [](const Tensor& t) { return t->grad; },
          [](const Tensor& t, const Tensor& g) {
            if (g && (g->shape != t->shape))
              throw ValueError("grad: assigned grad has shape " + shape_str(g->shape) +
                               " but the tensor has shape " + shape_str(t->shape));
            if (g && g->dtype != t->dtype)
              throw TypeError(std::string("grad: assigned grad has dtype ") + dtype_name(g->dtype) +
                              " but the tensor has dtype " + dtype_name(t->dtype));
            t->grad = g;
          },
          py::pos_only())
      .def_property_readonly(
          "is_leaf", [](const Tensor& t) { return t->is_leaf(); }, py::pos_only())
      .def_property_readonly(
          "grad_fn", [](const Tensor& t) { return t->grad_fn; }, py::pos_only())
      .def(
          "_backward",
          [](const Tensor& t, const Tensor& gradient, bool retain_graph, bool create_graph) {
            py::gil_scoped_release release;
            backward({t}, {gradient}, retain_graph, create_graph);
          },
          py::pos_only())
      .def("detach", &detach, py::pos_only())
      .def("clone", &clone, py::pos_only())
      .def(
          "item",
          [](const Tensor& t) -> py::object {
            double v = item(t);  // checks for one element
            // int64 read as is: a double holds integers exactly only up to 2^53
            if (t->dtype == DType::int64) return py::int_(t->data<int64_t>()[0]);
            return py::float_(v);
          },
          py::pos_only())
      .def(
          "numpy",
          [](const Tensor& t) {
            if (t->requires_grad)
              throw AutogradError(
                  "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                  "instead.");
            return to_numpy(t);
          },
          py::pos_only())
      .def("_numpy_data", &to_numpy, py::pos_only())
      .def(
          "to", [](const Tensor& t, DType dt) { return to_dtype(t, dt); }, py::arg("dtype"))
      .def(
          "float", [](const Tensor& t) { return to_dtype(t, DType::float32); }, py::pos_only())
      .def(
          "double", [](const Tensor& t) { return to_dtype(t, DType::float64); }, py::pos_only())
      .def(
          "long", [](const Tensor& t) { return to_dtype(t, DType::int64); }, py::pos_only())
      .def(
          "__len__",
          [](const Tensor& t) {
            if (t->ndim() == 0) throw TypeError("len() of a 0-d tensor");
            return t->shape[0];
          },
          py::pos_only())
      .def(
          "__hash__",
          [](py::handle self) {
            return py::hash(py::int_(reinterpret_cast<intptr_t>(self.ptr())));
          },
          py::pos_only());

  m.def("_from_numpy", &from_numpy, py::arg("array"), py::arg("dtype") = py::none(),
        py::arg("copy") = true);
  m.def("_empty", [](const Shape& s, DType dt) { return empty(s, dt); });
  m.def("_zeros", [](const Shape& s, DType dt) { return zeros(s, dt); });
  m.def("_full", [](const Shape& s, double v, DType dt) { return full(s, v, dt); });
  m.def("_arange", &arange);
  m.def("_eye", &eye);
  m.def("_rand", [](const Shape& s, DType dt) { return rand(s, dt); });
  m.def("_randn", [](const Shape& s, DType dt) { return randn(s, dt); });
  m.def("manual_seed", &manual_seed, py::arg("seed"), "Seed tapegrad's random generator.");
  m.def("get_rng_state", &get_rng_state,
        "The random generator's state (a string), for set_rng_state.");
  m.def("set_rng_state", &set_rng_state, py::arg("state"),
        "Restores a state returned by get_rng_state.");
  m.def("_release_cached_blocks", &release_cached_blocks,
        "Returns the large blocks kept for reuse to the system.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &get_num_threads);

  m.def("is_grad_enabled", &grad_enabled);
  m.def("_set_grad_enabled", &set_grad_enabled);
  m.def("_grad", [](py::object outputs, py::object inputs, py::object grad_outputs,
                    bool retain_graph, bool create_graph, bool allow_unused) {
    auto outs = to_tensor_list(outputs, "grad");
    auto ins = to_tensor_list(inputs, "grad");
    std::vector<Tensor> gos = grad_outputs.is_none() ? std::vector<Tensor>(outs.size())
                                                     : to_tensor_list(grad_outputs, "grad");
    for (const Tensor& o : outs) check_defined(o, "grad");
    py::gil_scoped_release release;
    return grad(outs, ins, gos, retain_graph, create_graph, allow_unused);
  });
  m.def("_backward_many",
        [](py::object outputs, py::object grads, bool retain_graph, bool create_graph) {
          auto outs = to_tensor_list(outputs, "backward");
          auto gos = grads.is_none() ? std::vector<Tensor>(outs.size())
                                     : to_tensor_list(grads, "backward");
          for (const Tensor& o : outs) check_defined(o, "backward");
          py::gil_scoped_release release;
          backward(outs, gos, retain_graph, create_graph);
        });
}

}  // namespace tapegrad
