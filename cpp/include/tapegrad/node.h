// A tape entry: where each input's gradient goes, and the backward rule.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "tapegrad/tensor.h"

namespace tapegrad {

using Grads = std::vector<Tensor>;  // one per input; null = no gradient

// Where the gradient of one input goes: to the node that produced it, or,
// for a leaf that requires grad, into that leaf's .grad.
struct Edge {
  std::shared_ptr<Node> fn;
  Tensor leaf;
  bool active() const { return fn || leaf; }
};

struct Node : std::enable_shared_from_this<Node> {
  using Rule = std::function<Grads(Node&, const Tensor& grad_output)>;

  const char* name;
  std::vector<Edge> edges;  // one per input of the op
  Rule rule;                // captures what the backward needs (saved inputs)
  bool released = false;

  // The output's data without its grad_fn, kept only for rules that need the
  // output (exp, tanh, sigmoid): holding the output itself would be a cycle.
  Tensor saved_output;

  // Used by the engine during one backward pass.
  Tensor pending_grad;
  int dependencies = 0;

  Node(const char* name) : name(name) {}
  bool needs_grad(size_t input) const { return input < edges.size() && edges[input].active(); }
  // The op's output as seen from the rule: same data, this node as grad_fn,
  // so a rule that uses it is differentiable again under create_graph.
  Tensor output();
  // Frees everything saved for the backward (the graph keeps its edges).
  void release();
};

// Grad mode is thread-local, as PyTorch's.
bool grad_enabled();
void set_grad_enabled(bool enabled);
struct GradModeGuard {
  bool previous;
  explicit GradModeGuard(bool enabled) : previous(grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous); }
};

bool any_requires_grad(std::initializer_list<const Tensor*> inputs);

// Attaches a node to `out` when grad mode is on and some input requires grad.
// `make_rule` is only called then, so an op pays nothing for saving tensors
// when no graph is recorded.
template <class MakeRule>
Tensor record(const char* name, std::initializer_list<const Tensor*> inputs, Tensor out,
              MakeRule make_rule, bool save_output = false) {
  if (!grad_enabled() || !any_requires_grad(inputs)) return out;
  auto node = std::make_shared<Node>(name);
  node->edges.reserve(inputs.size());
  for (const Tensor* in : inputs) {
    Edge e;
    if ((*in)->requires_grad) {
      if ((*in)->grad_fn)
        e.fn = (*in)->grad_fn;
      else
        e.leaf = *in;
    }
    node->edges.push_back(std::move(e));
  }
  node->rule = make_rule();
  if (save_output) node->saved_output = alias(out, out->shape);
  out->requires_grad = true;
  out->grad_fn = std::move(node);
  return out;
}

}  // namespace tapegrad
