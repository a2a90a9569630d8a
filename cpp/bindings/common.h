// Shared by the binding files: conversion helpers only, no math.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "tapegrad/tensor.h"

namespace tapegrad {
namespace py = pybind11;

void bind_tensor(py::module_& m);
void bind_ops(py::module_& m);
void bind_optim(py::module_& m);

// A Python operand (Tensor, bool, int, float or NumPy scalar) as a tensor
// shaped for an op with `like`; false when the type is not supported.
bool to_operand(py::handle obj, const Tensor& like, Tensor& out);
// A Python int as int64: ValueError (PyTorch's "Overflow when unpacking long
// long") when it does not fit.
int64_t to_int64(py::handle obj, const char* op, const char* what);
// dim=None | int | sequence of ints -> list of dims (empty = all).
std::vector<int64_t> to_dims(py::handle dim, const char* op);
// f(*shape) or f(shape) -> Shape.
Shape to_shape(const py::args& args, const char* op);

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
