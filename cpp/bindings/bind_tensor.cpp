// Tensor, dtype, NumPy conversion, subscripts and the tensor's attributes.
#include <cstring>
#include <limits>
#include <optional>

#include "common.h"
#include "tapegrad/index.h"
#include "tapegrad/ops.h"
#include "tapegrad/recorder.h"

namespace tapegrad {

PyTypeObject* tensor_type = nullptr;

namespace {

std::optional<DType> numpy_target(const py::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f') return size == 8 ? DType::float64 : DType::float32;
  if (kind == 'i') return size == 4 ? DType::int32 : DType::int64;
  if (kind == 'u') return DType::int64;
  if (kind == 'b') return DType::bool_;
  return std::nullopt;
}

py::dtype numpy_dtype(DType dt) {
  switch (dt) {
    case DType::float32:
      return py::dtype::of<float>();
    case DType::float64:
      return py::dtype::of<double>();
    case DType::int32:
      return py::dtype::of<int32_t>();
    case DType::bool_:
      return py::dtype::of<bool>();
    default:
      return py::dtype::of<int64_t>();
  }
}

// NumPy in. Shares the array's memory when it already has a tensor's dtype
// and non-negative strides and `copy` is false (tg.from_numpy); copies
// otherwise.
Tensor from_numpy(py::array arr, std::optional<DType> want, bool copy) {
  auto target = numpy_target(arr.dtype());
  if (!target)
    throw TypeError("tensor: can't convert a NumPy array of dtype " +
                    std::string(py::str(arr.dtype())) +
                    "; supported are floating, integer and bool arrays");
  const DType dt = want ? *want : *target;
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  const int64_t numel = numel_of(shape, "tensor");
  if (arr.dtype().kind() == 'u' && arr.dtype().itemsize() == 8 && numel > 0) {
    py::object biggest = py::module_::import("numpy").attr("max")(arr);
    if (biggest.cast<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      throw ValueError("tensor: Overflow when unpacking long long: the uint64 value " +
                       std::string(py::str(biggest)) + " does not fit in int64");
  }
  const ssize_t itemsize = arr.dtype().itemsize();
  const bool exact = numpy_target(arr.dtype()) == dt && itemsize == ssize_t(dtype_size(dt)) &&
                     arr.dtype().kind() != 'u';
  bool positive = true;
  Strides strides(arr.ndim());
  for (ssize_t d = 0; d < arr.ndim(); ++d) {
    positive = positive && arr.strides(d) >= 0 && arr.strides(d) % itemsize == 0;
    strides[d] = arr.strides(d) / itemsize;
  }
  if (!copy && exact && arr.writeable()) {
    if (!positive)
      throw ValueError(
          "from_numpy: at least one stride in the given numpy array is negative, and tensors "
          "with negative strides are not currently supported (use array.copy())");
    auto t = std::make_shared<TensorImpl>();
    t->shape = shape;
    t->strides = strides;
    t->numel = numel;
    t->dtype = dt;
    PyObject* owner = arr.ptr();
    Py_INCREF(owner);
    t->storage =
        std::make_shared<Storage>(arr.mutable_data(), size_t(arr.nbytes()), [owner](void*) {
          py::gil_scoped_acquire gil;
          Py_DECREF(owner);
        });
    t->refresh_contiguous();
    return t;
  }
  // np.ascontiguousarray(arr, dtype) then one memcpy
  py::array conv = py::module_::import("numpy").attr("ascontiguousarray")(arr, numpy_dtype(dt));
  Tensor t = empty(shape, dt);
  std::memcpy(t->raw(), conv.data(), size_t(numel) * dtype_size(dt));
  return t;
}

// NumPy out without a copy: the array keeps the storage alive and has the
// tensor's strides.
py::array to_numpy(const Tensor& t) {
  auto* keep = new std::shared_ptr<Storage>(t->storage);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  std::vector<py::ssize_t> shape(t->shape.begin(), t->shape.end()), strides(shape.size());
  const py::ssize_t item = py::ssize_t(dtype_size(t->dtype));
  for (size_t k = 0; k < shape.size(); ++k) strides[k] = t->strides[k] * item;
  return py::array(numpy_dtype(t->dtype), shape, strides, t->raw_ptr(), base);
}

void set_requires_grad(const Tensor& t, bool flag) {
  if (!t->is_leaf())
    throw RuntimeError(
        "you can only change requires_grad flags of leaf variables. If you want to use a computed "
        "variable in a subgraph that doesn't require differentiation use var_no_grad = "
        "var.detach().");
  if (flag && !is_floating(t->dtype))
    throw RuntimeError(std::string("only Tensors of floating point dtype can require gradients "
                                   "(got ") +
                       dtype_name(t->dtype) + ")");
  t->requires_grad = flag;
}

TensorIndex to_index(py::handle k) {
  TensorIndex ix;
  PyObject* o = k.ptr();
  int64_t i;
  if (o == Py_None) {
    ix.kind = TensorIndex::Kind::None;
  } else if (o == Py_Ellipsis) {
    ix.kind = TensorIndex::Kind::Ellipsis;
  } else if (PyBool_Check(o)) {
    ix.kind = TensorIndex::Kind::Bool;
    ix.boolean = o == Py_True;
  } else if (is_tensor(o)) {
    Tensor t = as_tensor(o);
    if (t->ndim() == 0 && is_integral(t->dtype)) {
      ix.kind = TensorIndex::Kind::Int;
      ix.integer = item_scalar(t).i;
    } else {
      ix.kind = TensorIndex::Kind::Tensor;
      ix.tensor = t;
    }
  } else if (to_int(o, i)) {
    ix.kind = TensorIndex::Kind::Int;
    ix.integer = i;
  } else if (PySlice_Check(o)) {
    ix.kind = TensorIndex::Kind::Slice;
    auto* sl = reinterpret_cast<PySliceObject*>(o);
    auto part = [](PyObject* v, bool& has, int64_t& out) {
      if (v == Py_None) return;
      if (!to_int(v, out))
        throw TypeError("slice indices must be integers or None or have an __index__ method");
      has = true;
    };
    bool has_step = false;
    part(sl->start, ix.has_start, ix.start);
    part(sl->stop, ix.has_stop, ix.stop);
    part(sl->step, has_step, ix.step);
    if (!has_step) ix.step = 1;
  } else if (PyList_Check(o) || PyTuple_Check(o) ||
             PyObject_HasAttrString(o, "__array_interface__")) {
    ix.kind = TensorIndex::Kind::Tensor;
    ix.tensor = tensor_from_array(o);
    if (ix.tensor->numel == 0 && is_floating(ix.tensor->dtype))
      ix.tensor = to_dtype(ix.tensor, DType::int64);  // x[[]] selects nothing
  } else {
    throw IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
        "valid indices (got " +
        std::string(Py_TYPE(o)->tp_name) + ")");
  }
  return ix;
}

// A subscript as PyTorch reads it: a tuple is one entry per dim; a list is
// an index array unless it holds slices, None, ... or sequences.
std::vector<TensorIndex> to_key(py::handle key) {
  std::vector<TensorIndex> out;
  bool as_tuple = PyTuple_Check(key.ptr());
  if (PyList_Check(key.ptr())) {
    for (py::handle h : key)
      if (PySlice_Check(h.ptr()) || h.is_none() || h.ptr() == Py_Ellipsis ||
          PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()) || is_tensor(h.ptr()))
        as_tuple = PyList_Size(key.ptr()) < 32;
  }
  if (as_tuple)
    for (py::handle h : key) out.push_back(to_index(h));
  else
    out.push_back(to_index(key));
  return out;
}

int64_t dim_arg(py::handle dim, const char* op) {
  int64_t d;
  if (!to_int(dim.ptr(), d))
    throw TypeError(std::string(op) + "(): argument 'dim' must be int, not " +
                    Py_TYPE(dim.ptr())->tp_name);
  return d;
}

Tensor to_value_tensor(py::handle v) {
  if (is_tensor(v.ptr())) return as_tensor(v.ptr());
  Scalar s;
  if (to_scalar(v.ptr(), s)) return wrapped_scalar(s);
  return tensor_from_array(v);
}

}  // namespace

bool to_scalar(PyObject* obj, Scalar& out) {
  if (PyBool_Check(obj)) {
    out = Scalar(obj == Py_True);
    return true;
  }
  if (PyLong_Check(obj)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow)
      throw RuntimeError("Overflow when unpacking long: " + std::string(py::str(obj)) +
                         " does not fit in int64");
    out = Scalar(int64_t(v));
    return true;
  }
  if (PyFloat_Check(obj)) {
    out = Scalar(PyFloat_AS_DOUBLE(obj));
    return true;
  }
  // NumPy scalars
  if (std::strncmp(Py_TYPE(obj)->tp_name, "numpy.", 6) != 0) return false;
  static PyObject* const np_bool =
      py::object(py::module_::import("numpy").attr("bool_")).release().ptr();
  static PyObject* const np_floating =
      py::object(py::module_::import("numpy").attr("floating")).release().ptr();
  static PyObject* const np_integer =
      py::object(py::module_::import("numpy").attr("integer")).release().ptr();
  if (PyObject_IsInstance(obj, np_bool) == 1) {
    out = Scalar(bool(PyObject_IsTrue(obj)));
    return true;
  }
  if (PyObject_IsInstance(obj, np_floating) == 1) {
    double d = PyFloat_AsDouble(obj);
    if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    out = Scalar(d);
    return true;
  }
  if (PyObject_IsInstance(obj, np_integer) == 1) {
    py::int_ v = py::reinterpret_steal<py::int_>(PyNumber_Index(obj));
    if (!v) throw py::error_already_set();
    return to_scalar(v.ptr(), out);
  }
  return false;
}

bool to_int(PyObject* obj, int64_t& out) {
  if (PyBool_Check(obj)) return false;
  if (PyLong_Check(obj)) {
    int overflow = 0;
    out = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow) throw RuntimeError("Overflow when unpacking long: " + std::string(py::str(obj)));
    return true;
  }
  if (is_tensor(obj)) {
    Tensor t = as_tensor(obj);
    if (t->numel != 1 || !is_integral(t->dtype)) return false;
    out = item_scalar(t).i;
    return true;
  }
  if (PyIndex_Check(obj) && !py::isinstance<py::array>(obj)) {
    py::int_ v = py::reinterpret_steal<py::int_>(PyNumber_Index(obj));
    if (!v) throw py::error_already_set();
    return to_int(v.ptr(), out);
  }
  return false;
}

Tensor tensor_from_array(py::handle obj) {
  py::object np = py::module_::import("numpy");
  py::array arr = np.attr("asarray")(obj);
  if (arr.dtype().kind() == 'O')
    throw TypeError("could not convert " + std::string(Py_TYPE(obj.ptr())->tp_name) +
                    " to a tensor (ragged or non-numeric entries)");
  if (arr.dtype().kind() == 'f' && arr.dtype().itemsize() == 8 && !py::isinstance<py::array>(obj))
    return from_numpy(arr, default_dtype(), true);  // Python floats: the default dtype
  return from_numpy(arr, std::nullopt, true);
}

py::tuple shape_tuple(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i) t[i] = py::int_(s[i]);
  return t;
}

void bind_tensor(py::module_& m) {
  py::enum_<DType>(m, "dtype")
      .value("float32", DType::float32)
      .value("float64", DType::float64)
      .value("int64", DType::int64)
      .value("int32", DType::int32)
      .value("bool", DType::bool_)
      .def_property_readonly(
          "is_floating_point", [](DType d) { return is_floating(d); }, py::pos_only())
      .def_property_readonly(
          "itemsize", [](DType d) { return dtype_size(d); }, py::pos_only())
      .def(
          "__repr__", [](DType d) { return std::string("tapegrad.") + dtype_name(d); },
          py::pos_only())
      .def(
          "__str__", [](DType d) { return std::string("tapegrad.") + dtype_name(d); },
          py::pos_only());

  py::class_<TensorImpl, std::shared_ptr<TensorImpl>> cls(m, "Tensor");
  tensor_type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  // Tensor(t) shares t's data (as nn.Parameter(t) does); Python subclasses
  // of Tensor construct through it.
  cls.def(py::init([](const Tensor& t) {
            check_defined(t, "Tensor");
            return alias(t);
          }),
          py::arg("data"))
      .def_property(
          "data", [](const Tensor& t) { return data_of(t); },
          [](const Tensor& t, const Tensor& value) { set_data(t, value); }, py::pos_only())
      .def_property_readonly(
          "shape", [](const Tensor& t) { return shape_tuple(t->shape); }, py::pos_only())
      .def_property_readonly(
          "ndim", [](const Tensor& t) { return t->ndim(); }, py::pos_only())
      .def_property_readonly(
          "dtype", [](const Tensor& t) { return t->dtype; }, py::pos_only())
      .def(
          "dim", [](const Tensor& t) { return t->ndim(); }, py::pos_only())
      .def(
          "ndimension", [](const Tensor& t) { return t->ndim(); }, py::pos_only())
      .def(
          "numel", [](const Tensor& t) { return t->numel; }, py::pos_only())
      .def(
          "nelement", [](const Tensor& t) { return t->numel; }, py::pos_only())
      .def(
          "element_size", [](const Tensor& t) { return dtype_size(t->dtype); }, py::pos_only())
      .def_property_readonly(
          "itemsize", [](const Tensor& t) { return dtype_size(t->dtype); }, py::pos_only())
      .def_property_readonly(
          "nbytes", [](const Tensor& t) { return t->numel * int64_t(dtype_size(t->dtype)); },
          py::pos_only())
      .def(
          "size",
          [](const Tensor& t, py::object dim) -> py::object {
            if (dim.is_none()) return shape_tuple(t->shape);
            return py::int_(t->shape[wrap_dim(dim_arg(dim, "size"), t->ndim(), "size", false)]);
          },
          py::arg("dim") = py::none())
      .def(
          "stride",
          [](const Tensor& t, py::object dim) -> py::object {
            if (dim.is_none()) return shape_tuple(t->strides);
            return py::int_(
                t->strides[wrap_dim(dim_arg(dim, "stride"), t->ndim(), "stride", false)]);
          },
          py::arg("dim") = py::none())
      .def(
          "storage_offset", [](const Tensor& t) { return t->offset; }, py::pos_only())
      .def(
          "is_contiguous", [](const Tensor& t) { return t->contiguous; }, py::pos_only())
      .def(
          "data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t->raw_ptr()); },
          py::pos_only())
      .def(
          "is_floating_point", [](const Tensor& t) { return is_floating(t->dtype); },
          py::pos_only())
      .def_property_readonly(
          "_version", [](const Tensor& t) { return t->version(); }, py::pos_only())
      .def_property_readonly(
          "_base", [](const Tensor& t) { return t->view_base; }, py::pos_only())
      .def(
          "_is_view", [](const Tensor& t) { return t->is_view(); }, py::pos_only())
      .def_property_readonly("T", &numpy_T, py::pos_only())
      .def_property_readonly(
          "mT", [](const Tensor& t) { return transpose(t, -2, -1); }, py::pos_only())
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
          [](const Tensor& t, const Tensor& g) { set_grad(t, g); }, py::pos_only())
      .def_property_readonly(
          "is_leaf", [](const Tensor& t) { return t->is_leaf(); }, py::pos_only())
      .def_property_readonly(
          "output_nr", [](const Tensor& t) { return t->output_nr; }, py::pos_only())
      .def(
          "item",
          [](const Tensor& t) -> py::object {
            Scalar s = item_scalar(t);
            if (s.is_bool()) return py::bool_(s.i != 0);
            if (s.is_floating()) return py::float_(s.d);
            return py::int_(s.i);
          },
          py::pos_only())
      .def(
          "numpy",
          [](const Tensor& t, bool force) {
            if (t->requires_grad && !force)
              throw RuntimeError(
                  "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                  "instead.");
            return to_numpy(t);
          },
          py::arg("force") = false)
      .def("_numpy_data", &to_numpy, py::pos_only())
      .def(
          "_to_dtype", [](const Tensor& t, DType dt) { return to_dtype(t, dt); }, py::pos_only())
      .def(
          "__len__",
          [](const Tensor& t) {
            if (t->ndim() == 0) throw TypeError("len() of a 0-d tensor");
            return t->shape[0];
          },
          py::pos_only())
      .def(
          "__getitem__",
          [](const Tensor& t, py::handle key) {
            if (PyLong_CheckExact(key.ptr())) {  // t[i], the common case
              int64_t i;
              to_int(key.ptr(), i);
              return select(t, 0, i);
            }
            return getitem(t, to_key(key));
          },
          py::pos_only())
      .def(
          "__setitem__",
          [](const Tensor& t, py::handle key, py::handle value) {
            setitem(t, to_key(key), to_value_tensor(value));
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
  m.def("manual_seed", &manual_seed, py::arg("seed"), "Seed tapegrad's random generator.");
  m.def("get_rng_state", &get_rng_state,
        "The random generator's state (a string), for set_rng_state.");
  m.def("set_rng_state", &set_rng_state, py::arg("state"),
        "Restores a state returned by get_rng_state.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "The number of threads the kernels (and the BLAS) may use.");
  m.def("get_num_threads", &get_num_threads, "The number of threads the kernels may use.");
  m.def("set_default_dtype", &set_default_dtype, py::arg("d"),
        "The dtype of Python floats and of floating creation functions (float32 by default).");
  m.def("get_default_dtype", &default_dtype, "The default floating dtype.");
  m.def("_release_cached_blocks", &release_cached_blocks,
        "Returns every cached large block of memory to the system.");
}

}  // namespace tapegrad
