#include "tapegrad/engine.h"

#include <unordered_map>
#include <unordered_set>

#include "tapegrad/ops.h"

namespace tapegrad {

namespace {
thread_local bool grad_mode = true;
thread_local bool forward_mode = false;
}  // namespace

bool forward_ad_enabled() { return forward_mode; }
void set_forward_ad_enabled(bool enabled) { forward_mode = enabled; }
ForwardADGuard::ForwardADGuard(bool enabled) : previous(forward_mode) { forward_mode = enabled; }
ForwardADGuard::~ForwardADGuard() { forward_mode = previous; }

Tensor sum_terms(const Tensor& a, const Tensor& b) {
  if (!a) return b;
  if (!b) return a;
  return add(a, b);
}

bool grad_enabled() { return grad_mode; }
void set_grad_enabled(bool enabled) { grad_mode = enabled; }

bool any_requires_grad(Inputs inputs) {
  for (const Tensor* t : inputs)
    if (*t && (*t)->requires_grad) return true;
  return false;
}

std::shared_ptr<Node> make_node(const char* name, Inputs inputs) {
  auto node = std::make_shared<Node>(name);
  node->edges.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = *inputs.ptr[i];  // an optional input may be null
    if (!in || !in->requires_grad) continue;
    if (in->grad_fn)
      node->edges[i].fn = in->grad_fn;
    else
      node->edges[i].leaf = in;
  }
  return node;
}

void attach(const Tensor& out, std::shared_ptr<Node> node, bool save_output) {
  if (save_output) node->saved_output = alias(out, out->shape);
  out->requires_grad = true;
  out->grad_fn = std::move(node);
}

Tensor Node::output() {
  if (!saved_output)
    throw AutogradError(std::string(name) +
                        ": trying to backward through the graph a second time (or directly "
                        "access saved tensors after they have already been freed). Saved "
                        "intermediate values of the graph are freed when you call .backward() "
                        "or autograd.grad(). Specify retain_graph=True if you need to backward "
                        "through the graph a second time.");
  Tensor out = alias(saved_output, saved_output->shape);
  out->requires_grad = true;
  out->grad_fn = shared_from_this();
  return out;
}

namespace {
// The nodes waiting to be destroyed while a release_node loop runs. The first
// few live in the loop's own frame: most drops free a node or two, and a
// heap-allocated list for each would cost more than the drop itself.
struct PendingNodes {
  static constexpr size_t kInline = 16;
  std::shared_ptr<Node> inline_nodes[kInline];
  size_t inline_count = 0;
  std::vector<std::shared_ptr<Node>> more;

  void push(std::shared_ptr<Node>& node) {  // may throw (bad_alloc), node kept then
    if (inline_count < kInline)
      inline_nodes[inline_count++] = std::move(node);
    else
      more.push_back(std::move(node));
  }
  bool pop(std::shared_ptr<Node>& out) {
    if (!more.empty()) {
      out = std::move(more.back());
      more.pop_back();
      return true;
    }
    if (inline_count == 0) return false;
    out = std::move(inline_nodes[--inline_count]);
    return true;
  }
};

// The list of the release_node loop running on this thread, or null. A plain
// pointer to the loop's local list: a thread_local with a destructor could be
// gone when a tensor dies at thread exit.
thread_local PendingNodes* pending_release = nullptr;
}  // namespace

void release_node(std::shared_ptr<Node>& node) noexcept {
  if (!node) return;
  // Another owner keeps it alive (or, if it races us to the last reference,
  // destroys it with its own loop): nothing is destroyed here.
  if (node.use_count() > 1) {
    node.reset();
    return;
  }
  if (pending_release) {  // inside the loop below: queue it instead of recursing
    try {
      pending_release->push(node);
    } catch (...) {  // no memory for the list: plain (recursive) destruction
      node.reset();
    }
    return;
  }
  PendingNodes pending;
  pending.push(node);  // an inline slot: cannot throw
  pending_release = &pending;
  std::shared_ptr<Node> next;
  while (pending.pop(next)) next.reset();  // ~Node queues the nodes it held
  pending_release = nullptr;
}

Node::~Node() {
  for (Edge& e : edges) release_node(e.fn);
  // the rule's saved tensors and the leaves go with the members; each
  // ~TensorImpl releases its grad_fn through release_node too
}

void Node::release() {
  rule = nullptr;
  saved_output.reset();
  released = true;
}

namespace {

// Every node reachable from the roots, in an order where a node comes before
// all the nodes it feeds gradients to (Kahn's algorithm on the reversed tape).
// Iterative: deep graphs must not exhaust the C++ stack.
// Every node reachable from the roots, in an order where a node comes before
// all the nodes it feeds gradients to (Kahn's algorithm on the reversed tape),
// and each node's place in that order. The counts live here, not in the
// nodes, so that threads may walk one retained graph at the same time.
// Iterative: deep graphs must not exhaust the C++ stack.
struct Walk {
  std::vector<Node*> order;
  std::unordered_map<Node*, size_t> position;
};

Walk topological_order(const std::vector<Node*>& roots) {
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack, seen_nodes;
  for (Node* r : roots)
    if (dependencies.emplace(r, 0).second) stack.push_back(r);
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    seen_nodes.push_back(n);
    for (Edge& e : n->edges)
      if (e.fn && dependencies.emplace(e.fn.get(), 0).second) stack.push_back(e.fn.get());
  }
  for (Node* n : seen_nodes)
    for (Edge& e : n->edges)
      if (e.fn) dependencies[e.fn.get()]++;
  Walk walk;
  std::vector<Node*> ready;
  for (Node* n : seen_nodes)
    if (dependencies[n] == 0) ready.push_back(n);
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    walk.position[n] = walk.order.size();
    walk.order.push_back(n);
    for (Edge& e : n->edges)
      if (e.fn && --dependencies[e.fn.get()] == 0) ready.push_back(e.fn.get());
  }
  return walk;
}

Tensor accumulate(const Tensor& into, const Tensor& g) { return into ? add(into, g) : g; }

void check_grad_shape(const Tensor& g, const Shape& expected, const char* what, size_t i) {
  if (g->shape != expected)
    throw AutogradError("Mismatch in shape: " + std::string(what) + "[" + std::to_string(i) +
                        "] has a shape of " + shape_str(g->shape) + " and output[" +
                        std::to_string(i) + "] has a shape of " + shape_str(expected) + ".");
}

// The common walk. `capture` (may be null) maps tensors whose gradient is
// wanted to result slots: leaves by their impl, non-leaves by their grad_fn.
// Without capture, gradients of leaves accumulate into .grad.
struct Capture {
  std::unordered_map<TensorImpl*, size_t> leaves;
  std::unordered_map<Node*, size_t> nodes;
  std::vector<Tensor> results;
};

void run(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
         bool retain_graph, bool create_graph, Capture* capture) {
  if (outputs.size() != grad_outputs.size())
    throw AutogradError("grad_outputs should have the same length as outputs: got " +
                        std::to_string(grad_outputs.size()) + " and " +
                        std::to_string(outputs.size()));
  GradModeGuard mode(create_graph);

  auto deliver_leaf = [&](const Tensor& leaf, const Tensor& g) {
    if (capture) {
      auto it = capture->leaves.find(leaf.get());
      if (it != capture->leaves.end())
        capture->results[it->second] = accumulate(capture->results[it->second], g);
      return;
    }
    if (leaf->grad) {
      leaf->grad = add(leaf->grad, g);
    } else {
      // A rule may pass its incoming gradient straight through (add), so the
      // same tensor can reach several leaves: each .grad gets its own buffer.
      leaf->grad = g.use_count() > 1 ? clone(g) : g;
    }
  };

  std::vector<Node*> roots;
  std::vector<Tensor> root_grads;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    check_defined(out, "backward");
    if (!out->requires_grad)
      throw AutogradError("element " + std::to_string(i) +
                          " of tensors does not require grad and does not have a grad_fn");
    Tensor g = grad_outputs[i];
    if (!g) {
      if (out->numel != 1)
        throw AutogradError("grad can be implicitly created only for scalar outputs (output " +
                            std::to_string(i) + " has shape " + shape_str(out->shape) + ")");
      g = full(out->shape, 1.0, out->dtype);
    } else {
      check_grad_shape(g, out->shape, "grad_output", i);
      g = to_dtype(g, out->dtype);
    }
    if (out->grad_fn) {
      roots.push_back(out->grad_fn.get());
      root_grads.push_back(g);
    } else {
      deliver_leaf(out, g);
    }
  }

  Walk walk = topological_order(roots);
  const std::vector<Node*>& order = walk.order;
  // the gradient arriving at each node of this walk, by position in the order
  std::vector<Tensor> pending(order.size());
  for (size_t i = 0; i < roots.size(); ++i) {
    Tensor& slot = pending[walk.position[roots[i]]];
    slot = accumulate(slot, root_grads[i]);
  }
  // Keep nodes alive while walking even if a rule drops the last reference.
  std::vector<std::shared_ptr<Node>> keep;
  keep.reserve(order.size());
  for (Node* n : order) keep.push_back(n->shared_from_this());

  for (size_t k = 0; k < order.size(); ++k) {
    Node* n = order[k];
    Tensor g = std::move(pending[k]);
    pending[k].reset();
    if (capture) {
      auto it = capture->nodes.find(n);
      if (it != capture->nodes.end() && g)
        capture->results[it->second] = accumulate(capture->results[it->second], g);
    }
    if (!g) {
      if (!retain_graph) n->release();
      continue;
    }
    if (n->released || !n->rule)
      throw AutogradError(std::string(n->name) +
                          ": trying to backward through the graph a second time (or directly "
                          "access saved tensors after they have already been freed). Saved "
                          "intermediate values of the graph are freed when you call "
                          ".backward() or autograd.grad(). Specify retain_graph=True if you "
                          "need to backward through the graph a second time.");
    Grads grads = n->rule(*n, g);
    g.reset();
    for (size_t i = 0; i < n->edges.size() && i < grads.size(); ++i) {
      Edge& e = n->edges[i];
      if (!e.active() || !grads[i]) continue;
      if (e.fn) {
        Tensor& slot = pending[walk.position[e.fn.get()]];
        slot = accumulate(slot, grads[i]);
      } else
        deliver_leaf(e.leaf, grads[i]);
    }
    if (!retain_graph) n->release();
  }
}

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              bool retain_graph, bool create_graph) {
  run(outputs, grad_outputs, retain_graph, create_graph, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph, bool allow_unused) {
  Capture capture;
  capture.results.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    check_defined(t, "grad");
    if (!t->requires_grad)
      throw AutogradError("grad: input " + std::to_string(i) + " does not require grad (shape " +
                          shape_str(t->shape) + ")");
    if (t->grad_fn)
      capture.nodes[t->grad_fn.get()] = i;
    else
      capture.leaves[t.get()] = i;
  }
  // An output that is itself one of the inputs receives its own gradient.
  run(outputs, grad_outputs, retain_graph, create_graph, &capture);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!capture.results[i] && !allow_unused)
      throw AutogradError(
          "grad: one of the differentiated Tensors (input " + std::to_string(i) +
          ") appears to not have been used in the graph. Set allow_unused=True if this is the "
          "desired behavior.");
  return capture.results;
}

}  // namespace tapegrad
