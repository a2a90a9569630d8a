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

  Node(const char* name) : name(name) {}
  // Hands the nodes of its edges to release_node instead of destroying them
  // recursively, so dropping a graph a million nodes deep does not overflow
  // the stack.
  ~Node();
  bool needs_grad(size_t input) const { return input < edges.size() && edges[input].active(); }
  // The op's output as seen from the rule: same data, this node as grad_fn,
  // so a rule that uses it is differentiable again under create_graph.
  Tensor output();
  // Frees everything saved for the backward (the graph keeps its edges).
  void release();
};

// Drops `node`. When this destroys it, the nodes it held are destroyed in a
// loop over a list kept for the thread, not by recursion through edges and
// saved tensors: ~Node and ~TensorImpl both release their nodes through here.
void release_node(std::shared_ptr<Node>& node) noexcept;

// Grad mode is thread-local, as PyTorch's.
bool grad_enabled();
void set_grad_enabled(bool enabled);
struct GradModeGuard {
  bool previous;
  explicit GradModeGuard(bool enabled) : previous(grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous); }
};

// The inputs of an op, from a braced list (no allocation on the hot path) or
// a vector (ops with a variable number of inputs, like cat).
struct Inputs {
  const Tensor* const* ptr;
  size_t n;
  Inputs(std::initializer_list<const Tensor*> list) : ptr(list.begin()), n(list.size()) {}
  Inputs(const std::vector<const Tensor*>& v) : ptr(v.data()), n(v.size()) {}
  const Tensor* const* begin() const { return ptr; }
  const Tensor* const* end() const { return ptr + n; }
  size_t size() const { return n; }
};

bool any_requires_grad(Inputs inputs);

// A node for an op on `inputs`, with an edge per input.
std::shared_ptr<Node> make_node(const char* name, Inputs inputs);
void attach(const Tensor& out, std::shared_ptr<Node> node, bool save_output);

// Attaches a node to `out` when grad mode is on and some input requires grad.
// `make_rule` is only called then, so an op pays nothing for saving tensors
// when no graph is recorded.
template <class MakeRule>
Tensor record(const char* name, Inputs inputs, Tensor out, MakeRule make_rule,
              bool save_output = false) {
  if (!grad_enabled() || !any_requires_grad(inputs)) return out;
  auto node = make_node(name, inputs);
  node->rule = make_rule();
  attach(out, std::move(node), save_output);
  return out;
}

// Forward mode (jvp). Each op pushes its inputs' tangents to its output with
// a jvp rule written next to its backward rule. Forward mode is switched on
// per thread only while a jvp runs, so ops pay one check when it is off.
bool forward_ad_enabled();
void set_forward_ad_enabled(bool enabled);
struct ForwardADGuard {
  bool previous;
  explicit ForwardADGuard(bool enabled);
  ~ForwardADGuard();
};
Tensor sum_terms(const Tensor& a, const Tensor& b);  // null counts as zero

// out->tangent = jvp(tangents of inputs) when some input carries a tangent.
// The rule runs with forward mode off, so its own ops push no tangents.
template <class Jvp>
void forward_ad(const Tensor& out, Inputs inputs, Jvp jvp) {
  if (!forward_ad_enabled()) return;
  Grads tangents;
  bool any = false;
  for (const Tensor* in : inputs) {
    tangents.push_back(*in ? (*in)->tangent : nullptr);  // optional inputs may be null
    any = any || tangents.back();
  }
  if (!any) return;
  ForwardADGuard off(false);
  out->tangent = jvp(tangents);
}

}  // namespace tapegrad
