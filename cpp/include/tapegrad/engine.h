// Reverse mode: topological order once, reverse walk, += accumulation.
#pragma once

#include <vector>

#include "tapegrad/node.h"

namespace tapegrad {

// outputs.backward(grad_outputs): accumulates into the .grad of leaves (and
// of tensors that retain their gradient), running the gradient hooks. A null
// grad_output means "ones" and is only allowed for one-element outputs.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              bool retain_graph, bool create_graph);

// d(outputs)/d(inputs) without touching any .grad; only the part of the graph
// that leads to the inputs is run. A null entry in the result is an input
// that the outputs do not depend on (allow_unused).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph, bool allow_unused);

}  // namespace tapegrad
