// Fused optimizer steps. Every rule reads each element of the parameter, its
// gradient and its state once and writes them once; the arithmetic follows
// PyTorch's single-tensor implementations step by step (in the parameter's
// dtype, with hyperparameters folded in double), so trajectories match.
#include <cmath>
#include <string>
#include <type_traits>

#include "kernels.h"
#include "tapegrad/optim.h"

namespace tapegrad {

namespace {

// Checks that state tensor `t` (if required) matches parameter `p`.
void check_like(const Tensor& p, const Tensor& t, const char* op, const char* what, size_t i) {
  if (!t)
    throw ValueError(std::string(op) + ": missing " + what + " for parameter " + std::to_string(i));
  if (t->shape != p->shape || t->dtype != p->dtype)
    throw ValueError(std::string(op) + ": " + what + " of parameter " + std::to_string(i) +
                     " has shape " + shape_str(t->shape) + " and dtype " + dtype_name(t->dtype) +
                     ", expected " + shape_str(p->shape) + " and " + dtype_name(p->dtype));
}

void check_lists(const TensorList& params, const TensorList& grads, const char* op) {
  if (grads.size() != params.size())
    throw ValueError(std::string(op) + ": got " + std::to_string(grads.size()) + " gradients for " +
                     std::to_string(params.size()) + " parameters");
  for (size_t i = 0; i < params.size(); ++i) {
    check_defined(params[i], op);
    check_floating(params[i], op);
    check_like(params[i], grads[i], op, "gradient", i);
  }
}

// One state tensor (or flag, or step count) per parameter: the lists come
// straight from Python, so their lengths are checked before any is indexed.
template <class List>
void check_count(const TensorList& params, const List& list, const char* op, const char* what) {
  if (list.size() != params.size())
    throw ValueError(std::string(op) + ": got " + std::to_string(list.size()) + " " + what +
                     " for " + std::to_string(params.size()) + " parameters");
}

template <class T>
T* data(const Tensor& t) {
  return t ? t->data<T>() : nullptr;
}

// Runs body(begin, end) over each parameter's elements with T its C++ type.
template <class Body>
void for_each_param(const TensorList& params, const char* op, Body body) {
  for (size_t i = 0; i < params.size(); ++i)
    dispatch_floating(params[i]->dtype, op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      parallel_for(params[i]->numel, [&](int64_t lo, int64_t hi) { body(T{}, i, lo, hi); });
    });
}

// Calls f(std::bool_constant<b>...) so that loop bodies test their options
// with `if constexpr`: a branch left inside an element loop stops the
// compiler from vectorizing it (measured: RMSprop 2x slower).
template <class F>
void with_flags(F&& f) {
  f();
}
template <class F, class... Rest>
void with_flags(F&& f, bool first, Rest... rest) {
  if (first)
    with_flags([&](auto... flags) { f(std::true_type{}, flags...); }, rest...);
  else
    with_flags([&](auto... flags) { f(std::false_type{}, flags...); }, rest...);
}

}  // namespace

void sgd_step(const TensorList& params, const TensorList& grads, const TensorList& bufs,
              const std::vector<bool>& fresh, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool maximize) {
  check_lists(params, grads, "sgd");
  if (momentum != 0) {
    check_count(params, bufs, "sgd", "momentum buffers");
    check_count(params, fresh, "sgd", "buffer flags");
  }
  if (momentum != 0)
    for (size_t i = 0; i < params.size(); ++i)
      check_like(params[i], bufs[i], "sgd", "momentum_buffer", i);
  for_each_param(params, "sgd", [&](auto zero, size_t i, int64_t lo, int64_t hi) {
    using T = decltype(zero);
    T* __restrict p = data<T>(params[i]);
    const T* __restrict g = data<T>(grads[i]);
    T* __restrict b = momentum != 0 ? data<T>(bufs[i]) : nullptr;
    const T wd = T(weight_decay), mom = T(momentum), damp = T(1 - dampening), step = T(-lr);
    with_flags(
        [&](auto MAX, auto WD, auto MOM, auto NEST, auto FIRST) {
          for (int64_t k = lo; k < hi; ++k) {
            T d = MAX ? -g[k] : g[k];
            if constexpr (WD) d = d + wd * p[k];
            if constexpr (MOM) {
              // the first step sets the buffer to the gradient, as PyTorch
              const T bk = FIRST ? d : b[k] * mom + damp * d;
              b[k] = bk;
              d = NEST ? d + mom * bk : bk;
            }
            p[k] = p[k] + step * d;
          }
        },
        maximize, weight_decay != 0, momentum != 0, nesterov, momentum != 0 && fresh[i]);
  });
}

void adam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
               const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs,
               const std::vector<double>& steps, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool decoupled, bool maximize) {
  const char* op = decoupled ? "adamw" : "adam";
  check_lists(params, grads, op);
  check_count(params, steps, op, "step counts");
  check_count(params, exp_avgs, op, "exp_avg tensors");
  check_count(params, exp_avg_sqs, op, "exp_avg_sq tensors");
  if (amsgrad) check_count(params, max_exp_avg_sqs, op, "max_exp_avg_sq tensors");
  for (size_t i = 0; i < params.size(); ++i) {
    check_like(params[i], exp_avgs[i], op, "exp_avg", i);
    check_like(params[i], exp_avg_sqs[i], op, "exp_avg_sq", i);
    if (amsgrad) check_like(params[i], max_exp_avg_sqs[i], op, "max_exp_avg_sq", i);
  }
  for_each_param(params, op, [&](auto zero, size_t i, int64_t lo, int64_t hi) {
    using T = decltype(zero);
    T* __restrict p = data<T>(params[i]);
    const T* __restrict g = data<T>(grads[i]);
    T* __restrict m = data<T>(exp_avgs[i]);
    T* __restrict v = data<T>(exp_avg_sqs[i]);
    T* __restrict vmax = amsgrad ? data<T>(max_exp_avg_sqs[i]) : nullptr;
    const double bias1 = 1 - std::pow(beta1, steps[i]), bias2 = 1 - std::pow(beta2, steps[i]);
    const T step_size = T(lr / bias1), bias2_sqrt = T(std::sqrt(bias2));
    const T w1 = T(1 - beta1), b2 = T(beta2), w2 = T(1 - beta2), wd = T(weight_decay),
            decay = T(1 - lr * weight_decay), e = T(eps);
    with_flags(
        [&](auto MAX, auto WD, auto DECOUPLED, auto AMS) {
          for (int64_t k = lo; k < hi; ++k) {
            T d = MAX ? -g[k] : g[k];
            T w = p[k];
            if constexpr (WD) {
              if constexpr (DECOUPLED)
                w = w * decay;  // AdamW: decay the weight itself
              else
                d = d + wd * w;  // Adam: L2 penalty through the gradient
            }
            const T mk = m[k] + w1 * (d - m[k]);  // lerp towards d, as torch
            const T vk = v[k] * b2 + w2 * d * d;
            m[k] = mk;
            v[k] = vk;
            T second = vk;
            if constexpr (AMS) {
              second = vmax[k] > vk ? vmax[k] : vk;
              vmax[k] = second;
            }
            const T denom = std::sqrt(second) / bias2_sqrt + e;
            p[k] = w - step_size * (mk / denom);
          }
        },
        maximize, weight_decay != 0, decoupled, amsgrad);
  });
}

void adagrad_step(const TensorList& params, const TensorList& grads, const TensorList& sums,
                  const std::vector<double>& steps, double lr, double lr_decay, double weight_decay,
                  double eps, bool maximize) {
  check_lists(params, grads, "adagrad");
  check_count(params, sums, "adagrad", "sum tensors");
  check_count(params, steps, "adagrad", "step counts");
  for (size_t i = 0; i < params.size(); ++i) check_like(params[i], sums[i], "adagrad", "sum", i);
  for_each_param(params, "adagrad", [&](auto zero, size_t i, int64_t lo, int64_t hi) {
    using T = decltype(zero);
    T* __restrict p = data<T>(params[i]);
    const T* __restrict g = data<T>(grads[i]);
    T* __restrict s = data<T>(sums[i]);
    const T clr = T(lr / (1 + (steps[i] - 1) * lr_decay)), wd = T(weight_decay), e = T(eps);
    with_flags(
        [&](auto MAX, auto WD) {
          for (int64_t k = lo; k < hi; ++k) {
            T d = MAX ? -g[k] : g[k];
            if constexpr (WD) d = d + wd * p[k];
            const T sk = s[k] + d * d;
            s[k] = sk;
            p[k] = p[k] - clr * (d / (std::sqrt(sk) + e));
          }
        },
        maximize, weight_decay != 0);
  });
}

void rmsprop_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                  const TensorList& grad_avgs, const TensorList& bufs, double lr, double alpha,
                  double eps, double weight_decay, double momentum, bool centered, bool maximize) {
  check_lists(params, grads, "rmsprop");
  check_count(params, square_avgs, "rmsprop", "square_avg tensors");
  if (centered) check_count(params, grad_avgs, "rmsprop", "grad_avg tensors");
  if (momentum > 0) check_count(params, bufs, "rmsprop", "momentum buffers");
  for (size_t i = 0; i < params.size(); ++i) {
    check_like(params[i], square_avgs[i], "rmsprop", "square_avg", i);
    if (centered) check_like(params[i], grad_avgs[i], "rmsprop", "grad_avg", i);
    if (momentum > 0) check_like(params[i], bufs[i], "rmsprop", "momentum_buffer", i);
  }
  for_each_param(params, "rmsprop", [&](auto zero, size_t i, int64_t lo, int64_t hi) {
    using T = decltype(zero);
    T* __restrict p = data<T>(params[i]);
    const T* __restrict g = data<T>(grads[i]);
    T* __restrict sq = data<T>(square_avgs[i]);
    T* __restrict ga = centered ? data<T>(grad_avgs[i]) : nullptr;
    T* __restrict b = momentum > 0 ? data<T>(bufs[i]) : nullptr;
    const T a = T(alpha), w = T(1 - alpha), wd = T(weight_decay), e = T(eps), mom = T(momentum),
            step = T(lr);
    with_flags(
        [&](auto MAX, auto WD, auto CENTERED, auto MOM) {
          for (int64_t k = lo; k < hi; ++k) {
            T d = MAX ? -g[k] : g[k];
            if constexpr (WD) d = d + wd * p[k];
            const T sk = sq[k] * a + w * d * d;
            sq[k] = sk;
            T avg;
            if constexpr (CENTERED) {
              const T gk = ga[k] + w * (d - ga[k]);
              ga[k] = gk;
              avg = std::sqrt(sk - gk * gk) + e;
            } else {
              avg = std::sqrt(sk) + e;
            }
            if constexpr (MOM) {
              const T bk = b[k] * mom + d / avg;
              b[k] = bk;
              p[k] = p[k] - step * bk;
            } else {
              p[k] = p[k] - step * (d / avg);
            }
          }
        },
        maximize, weight_decay != 0, centered, momentum > 0);
  });
}

void adadelta_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                   const TensorList& acc_deltas, double lr, double rho, double eps,
                   double weight_decay, bool maximize) {
  check_lists(params, grads, "adadelta");
  check_count(params, square_avgs, "adadelta", "square_avg tensors");
  check_count(params, acc_deltas, "adadelta", "acc_delta tensors");
  for (size_t i = 0; i < params.size(); ++i) {
    check_like(params[i], square_avgs[i], "adadelta", "square_avg", i);
    check_like(params[i], acc_deltas[i], "adadelta", "acc_delta", i);
  }
  for_each_param(params, "adadelta", [&](auto zero, size_t i, int64_t lo, int64_t hi) {
    using T = decltype(zero);
    T* __restrict p = data<T>(params[i]);
    const T* __restrict g = data<T>(grads[i]);
    T* __restrict sq = data<T>(square_avgs[i]);
    T* __restrict acc = data<T>(acc_deltas[i]);
    const T r = T(rho), w = T(1 - rho), wd = T(weight_decay), e = T(eps), step = T(lr);
    with_flags(
        [&](auto MAX, auto WD) {
          for (int64_t k = lo; k < hi; ++k) {
            T d = MAX ? -g[k] : g[k];
            if constexpr (WD) d = d + wd * p[k];
            const T sk = sq[k] * r + w * d * d;
            sq[k] = sk;
            const T delta = std::sqrt(acc[k] + e) / std::sqrt(sk + e) * d;
            acc[k] = acc[k] * r + w * delta * delta;
            p[k] = p[k] - step * delta;
          }
        },
        maximize, weight_decay != 0);
  });
}

}  // namespace tapegrad
