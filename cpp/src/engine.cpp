#include "tapegrad/engine.h"

#include <unordered_map>

#include "tapegrad/ops.h"
#include "tapegrad/recorder.h"

namespace tapegrad {

namespace {

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
  walk.order.reserve(seen_nodes.size());
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

void check_grad_shape(const Tensor& g, const Tensor& out, const char* what, size_t i) {
  if (g->shape != out->shape)
    throw RuntimeError("Mismatch in shape: " + std::string(what) + "[" + std::to_string(i) +
                       "] has a shape of " + shape_str(g->shape) + " and output[" +
                       std::to_string(i) + "] has a shape of " + shape_str(out->shape) + ".");
}

Tensor run_hooks(const HookList<TensorHook>& hooks, Tensor g) {
  for (const auto& [id, hook] : hooks.entries)
    if (Tensor replaced = hook(g)) {
      if (replaced->shape != g->shape)
        throw RuntimeError("hook: the hook returned a gradient of shape " +
                           shape_str(replaced->shape) + " for a gradient of shape " +
                           shape_str(g->shape));
      g = replaced;
    }
  return g;
}

// A fresh .grad: its own contiguous buffer, since a rule may pass one tensor
// on to several leaves and kernels return views.
Tensor own_grad(const Tensor& g, bool create_graph) {
  if (create_graph) return g;
  return (g.use_count() > 1 || !g->contiguous || g->view_base) ? copy_data(g) : g;
}

// Targets of tg.autograd.grad: leaves by their impl, non-leaves by (node, output).
struct Capture {
  std::unordered_map<TensorImpl*, size_t> leaves;
  std::unordered_map<Node*, std::vector<std::pair<uint32_t, size_t>>> nodes;
  std::vector<Tensor> results;
};

void run(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
         bool retain_graph, bool create_graph, Capture* capture) {
  if (outputs.size() != grad_outputs.size())
    throw RuntimeError("grad_outputs should have the same length as outputs: got " +
                       std::to_string(grad_outputs.size()) + " and " +
                       std::to_string(outputs.size()));
  GradModeGuard mode(create_graph);

  auto deliver_leaf = [&](const Tensor& leaf, Tensor g) {
    if (leaf->extras && !leaf->extras->grad_hooks.empty())
      g = run_hooks(leaf->extras->grad_hooks, g);
    if (capture) {
      auto it = capture->leaves.find(leaf.get());
      if (it != capture->leaves.end())
        capture->results[it->second] = accumulate(capture->results[it->second], g);
      return;
    }
    if (g->dtype != leaf->dtype) g = to_dtype(g, leaf->dtype);
    leaf->grad = leaf->grad ? add(leaf->grad, g) : own_grad(g, create_graph);
    if (leaf->extras)
      for (const auto& [id, hook] : leaf->extras->post_accumulate_hooks.entries) hook(leaf);
  };

  std::vector<std::pair<Edge, Tensor>> roots;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    check_defined(out, "backward");
    if (!out->requires_grad)
      throw RuntimeError("element " + std::to_string(i) +
                         " of tensors does not require grad and does not have a grad_fn");
    Tensor g = grad_outputs[i];
    if (!g) {
      if (out->numel != 1)
        throw RuntimeError("grad can be implicitly created only for scalar outputs (output " +
                           std::to_string(i) + " has shape " + shape_str(out->shape) + ")");
      g = full(out->shape, Scalar(1.0), out->dtype);
    } else {
      check_grad_shape(g, out, "grad_output", i);
      g = to_dtype(g, out->dtype);
    }
    roots.emplace_back(autograd_edge(out), g);
  }

  std::vector<Node*> root_nodes;
  for (auto& [edge, g] : roots)
    if (edge.fn) root_nodes.push_back(edge.fn.get());
  Walk walk = topological_order(root_nodes);
  const std::vector<Node*>& order = walk.order;

  // With capture, only nodes on a path to a captured input run.
  // needed: the node's gradient is captured or leads to a captured input;
  // run_rule: only the latter.
  std::vector<char> needed(order.size(), 1), run_rule(order.size(), 1);
  if (capture) {
    for (size_t k = order.size(); k-- > 0;) {
      Node* n = order[k];
      bool leads = false;
      for (const Edge& e : n->edges) {
        if (leads) break;
        if (e.fn)
          leads = needed[walk.position[e.fn.get()]];
        else if (e.leaf)
          leads = capture->leaves.count(e.leaf.get()) > 0;
      }
      run_rule[k] = leads;
      needed[k] = leads || capture->nodes.count(n) > 0;
    }
  }

  // the gradients arriving at each output of each node, by position in the order
  std::vector<Grads> pending(order.size());
  auto add_pending = [&](Node* n, uint32_t nr, const Tensor& g) {
    Grads& slots = pending[walk.position[n]];
    if (slots.size() < n->num_outputs) slots.resize(n->num_outputs);
    slots[nr] = accumulate(slots[nr], g);
  };
  for (auto& [edge, g] : roots) {
    if (edge.fn)
      add_pending(edge.fn.get(), edge.input_nr, g);
    else if (edge.leaf)
      deliver_leaf(edge.leaf, g);
  }
  // Keep nodes alive while walking even if a rule drops the last reference.
  std::vector<std::shared_ptr<Node>> keep;
  keep.reserve(order.size());
  for (Node* n : order) keep.push_back(n->shared_from_this());

  for (size_t k = 0; k < order.size(); ++k) {
    Node* n = order[k];
    Grads gs = std::move(pending[k]);
    bool any = false;
    for (const Tensor& g : gs) any = any || g;
    if (!any || !needed[k]) {
      if (!retain_graph && !capture) n->release();
      continue;
    }
    if (n->extras) {
      for (auto& [nr, hooks] : n->extras->pre_hooks)
        if (nr < gs.size() && gs[nr]) gs[nr] = run_hooks(hooks, gs[nr]);
      for (auto& [nr, weak] : n->extras->retained)
        if (Tensor t = weak.lock(); t && nr < gs.size() && gs[nr])
          t->grad = t->grad ? add(t->grad, gs[nr]) : own_grad(gs[nr], create_graph);
    }
    if (capture) {
      auto it = capture->nodes.find(n);
      if (it != capture->nodes.end())
        for (auto [nr, slot] : it->second)
          if (nr < gs.size() && gs[nr])
            capture->results[slot] = accumulate(capture->results[slot], gs[nr]);
    }
    if (!run_rule[k]) continue;
    if (n->released || !n->rule)
      throw RuntimeError(n->display_name() +
                         ": trying to backward through the graph a second time (or directly "
                         "access saved tensors after they have already been freed). Saved "
                         "intermediate values of the graph are freed when you call "
                         ".backward() or autograd.grad(). Specify retain_graph=True if you "
                         "need to backward through the graph a second time.");
    gs.resize(n->num_outputs);
    Grads grads = n->rule(*n, gs);
    gs.clear();
    for (size_t i = 0; i < n->edges.size() && i < grads.size(); ++i) {
      Edge& e = n->edges[i];
      if (!e.active() || !grads[i]) continue;
      if (e.fn)
        add_pending(e.fn.get(), e.input_nr, grads[i]);
      else
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
      throw RuntimeError("One of the differentiated Tensors (input " + std::to_string(i) +
                         ", shape " + shape_str(t->shape) + ") does not require grad");
    Edge e = autograd_edge(t);
    if (e.fn)
      capture.nodes[e.fn.get()].emplace_back(e.input_nr, i);
    else
      capture.leaves[t.get()] = i;
  }
  run(outputs, grad_outputs, retain_graph, create_graph, &capture);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!capture.results[i] && !allow_unused)
      throw RuntimeError("One of the differentiated Tensors (input " + std::to_string(i) +
                         ") appears to not have been used in the graph. Set allow_unused=True if "
                         "this is the desired behavior.");
  return capture.results;
}

}  // namespace tapegrad
