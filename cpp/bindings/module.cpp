#include "common.h"

namespace tapegrad {
bool load_blas(const std::string& path);
bool blas_loaded();
}  // namespace tapegrad

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  using namespace tapegrad;
  m.doc() = "tapegrad's C++ core: tensors, the tape and the kernels";
  // pybind11 maps std::invalid_argument to ValueError, std::out_of_range to
  // IndexError, std::runtime_error to RuntimeError and std::bad_alloc to
  // MemoryError; TypeError and NotImplementedError need their own.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const tapegrad::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const tapegrad::NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    }
  });
  bind_tensor(m);
  bind_autograd(m);
  bind_registry(m);
  bind_optim(m);
  m.def("_load_blas", &load_blas, py::arg("path"),
        "Load OpenBLAS from the given shared library; False if it cannot be used.");
  m.def("_blas_loaded", &blas_loaded);
}
