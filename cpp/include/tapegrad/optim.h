// Fused optimizer steps: each updates every tensor of a parameter group in one
// call, one pass over memory per tensor, with PyTorch's update rules.
#pragma once

#include <vector>

#include "tapegrad/tensor.h"

namespace tapegrad {

using TensorList = std::vector<Tensor>;

// momentum_buffers[i] is updated in place; fresh[i] marks a buffer that is
// set to the (decayed) gradient on this first step, as PyTorch does.
void sgd_step(const TensorList& params, const TensorList& grads, const TensorList& momentum_buffers,
              const std::vector<bool>& fresh, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool maximize);

// steps[i] is the step count after this step (1 on the first).
void adam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
               const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs,
               const std::vector<double>& steps, double lr, double beta1, double beta2, double eps,
               double weight_decay, bool amsgrad, bool decoupled_weight_decay, bool maximize);

void adagrad_step(const TensorList& params, const TensorList& grads, const TensorList& sums,
                  const std::vector<double>& steps, double lr, double lr_decay, double weight_decay,
                  double eps, bool maximize);

// grad_avgs used when centered, momentum_buffers when momentum > 0
void rmsprop_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                  const TensorList& grad_avgs, const TensorList& momentum_buffers, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered,
                  bool maximize);

void adadelta_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                   const TensorList& acc_deltas, double lr, double rho, double eps,
                   double weight_decay, bool maximize);

}  // namespace tapegrad
