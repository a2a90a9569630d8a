// Fused optimizer steps: convert the lists, release the GIL, call the kernel.
#include "common.h"
#include "tapegrad/optim.h"

namespace tapegrad {

namespace {
int64_t total_numel(const TensorList& ts) {
  int64_t n = 0;
  for (const Tensor& t : ts) n += t ? t->numel : 0;
  return n;
}
}  // namespace

void bind_optim(py::module_& m) {
  m.def(
      "_sgd_step",
      [](const TensorList& p, const TensorList& g, const TensorList& b,
         const std::vector<bool>& fresh, double lr, double momentum, double dampening, double wd,
         bool nesterov, bool maximize) {
        maybe_release(total_numel(p), [&] {
          sgd_step(p, g, b, fresh, lr, momentum, dampening, wd, nesterov, maximize);
          return 0;
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"), py::arg("fresh"),
      py::arg("lr"), py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"),
      py::arg("nesterov"), py::arg("maximize"));
  m.def(
      "_adam_step",
      [](const TensorList& p, const TensorList& g, const TensorList& m1, const TensorList& m2,
         const TensorList& vmax, const std::vector<double>& steps, double lr, double b1, double b2,
         double eps, double wd, bool amsgrad, bool decoupled, bool maximize) {
        maybe_release(total_numel(p), [&] {
          adam_step(p, g, m1, m2, vmax, steps, lr, b1, b2, eps, wd, amsgrad, decoupled, maximize);
          return 0;
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
      py::arg("max_exp_avg_sqs"), py::arg("steps"), py::arg("lr"), py::arg("beta1"),
      py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad"),
      py::arg("decoupled"), py::arg("maximize"));
  m.def(
      "_adagrad_step",
      [](const TensorList& p, const TensorList& g, const TensorList& sums,
         const std::vector<double>& steps, double lr, double lr_decay, double wd, double eps,
         bool maximize) {
        maybe_release(total_numel(p), [&] {
          adagrad_step(p, g, sums, steps, lr, lr_decay, wd, eps, maximize);
          return 0;
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("sums"), py::arg("steps"), py::arg("lr"),
      py::arg("lr_decay"), py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"));
  m.def(
      "_rmsprop_step",
      [](const TensorList& p, const TensorList& g, const TensorList& sq, const TensorList& ga,
         const TensorList& b, double lr, double alpha, double eps, double wd, double momentum,
         bool centered, bool maximize) {
        maybe_release(total_numel(p), [&] {
          rmsprop_step(p, g, sq, ga, b, lr, alpha, eps, wd, momentum, centered, maximize);
          return 0;
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("grad_avgs"),
      py::arg("momentum_buffers"), py::arg("lr"), py::arg("alpha"), py::arg("eps"),
      py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"), py::arg("maximize"));
  m.def(
      "_adadelta_step",
      [](const TensorList& p, const TensorList& g, const TensorList& sq, const TensorList& acc,
         double lr, double rho, double eps, double wd, bool maximize) {
        maybe_release(total_numel(p), [&] {
          adadelta_step(p, g, sq, acc, lr, rho, eps, wd, maximize);
          return 0;
        });
      },
      py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("acc_deltas"),
      py::arg("lr"), py::arg("rho"), py::arg("eps"), py::arg("weight_decay"), py::arg("maximize"));
}

}  // namespace tapegrad
