// Shared by the binding files: conversion between Python objects and the
// core's values. No math and no semantics live here.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "tapegrad/registry.h"
#include "tapegrad/tensor.h"

namespace tapegrad {
namespace py = pybind11;

void bind_tensor(py::module_& m);
void bind_autograd(py::module_& m);
void bind_registry(py::module_& m);
void bind_optim(py::module_& m);

// The Python type of tensors (set by bind_tensor).
extern PyTypeObject* tensor_type;
inline bool is_tensor(PyObject* obj) {
  return Py_TYPE(obj) == tensor_type || PyType_IsSubtype(Py_TYPE(obj), tensor_type);
}
// The tensor a Python Tensor holds (obj must be one): read from the pybind11
// instance's holder directly, the hot path of every op call.
inline const Tensor& as_tensor(PyObject* obj) {
  auto* inst = reinterpret_cast<py::detail::instance*>(obj);
  return inst->get_value_and_holder().template holder<Tensor>();
}

// A Python number (bool, int, float or NumPy scalar) as a Scalar; false when
// obj is not one. Ints beyond int64 raise RuntimeError, as PyTorch.
bool to_scalar(PyObject* obj, Scalar& out);
// A NumPy array (or anything np.asarray takes) as a new tensor.
Tensor tensor_from_array(py::handle obj);
// A Python int (or an object with __index__, not a bool); false otherwise.
bool to_int(PyObject* obj, int64_t& out);

py::tuple shape_tuple(const Shape& s);

// A Python callable kept by the core (hooks, Function backwards): its
// reference is dropped with the GIL held, whichever thread frees it.
struct PyCallable {
  std::shared_ptr<PyObject> fn;
  explicit PyCallable(py::handle f)
      : fn(f.inc_ref().ptr(), [](PyObject* p) {
          py::gil_scoped_acquire gil;
          Py_DECREF(p);
        }) {}
  py::handle get() const { return fn.get(); }
};

// Runs f with the GIL released when the work is big enough to be worth the
// release/acquire round trip.
template <class F>
auto maybe_release(int64_t work, F&& f) {
  if (work >= (1 << 15)) {
    py::gil_scoped_release release;
    return f();
  }
  return f();
}

}  // namespace tapegrad
