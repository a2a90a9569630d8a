#include "tapegrad/engine.h"

#include <unordered_map>

#include "tapegrad/ops.h"
#include "tapegrad/recorder.h"

namespace tapegrad {

namespace {

// Node* → slot, by open addressing: the walk's bookkeeping without a heap
// allocation per node.
class NodeSlots {
 public:
  // The slot of n, and whether it was added now (as `next`).
  std::pair<uint32_t, bool> insert(Node* n, uint32_t next) {
    if ((count_ + 1) * 2 > keys_.size()) grow();
    size_t i = locate(n);
    if (keys_[i] == n) return {slots_[i], false};
    keys_[i] = n;
    slots_[i] = next;
    ++count_;
    return {next, true};
  }
  uint32_t at(Node* n) const { return slots_[locate(n)]; }
  bool contains(Node* n) const { return !keys_.empty() && keys_[locate(n)] == n; }

 private:
  size_t locate(Node* n) const {
    const size_t mask = keys_.size() - 1;
    size_t i = (reinterpret_cast<uintptr_t>(n) >> 4) * 0x9E3779B97F4A7C15ull >> 20 & mask;
    while (keys_[i] && keys_[i] != n) i = (i + 1) & mask;
    return i;
  }
  void grow() {
    std::vector<Node*> keys = std::move(keys_);
    std::vector<uint32_t> slots = std::move(slots_);
    keys_.assign(std::max<size_t>(16, keys.size() * 2), nullptr);
    slots_.assign(keys_.size(), 0);
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i]) {
        size_t j = locate(keys[i]);
        keys_[j] = keys[i];
        slots_[j] = slots[i];
      }
  }
  std::vector<Node*> keys_;
  std::vector<uint32_t> slots_;
  size_t count_ = 0;
};

// Every node reachable from the roots (by slot), and an order of the slots
// where a node comes before all the nodes it feeds gradients to (Kahn's
// algorithm on the reversed tape). The counts live here, not in the nodes, so
// that threads may walk one retained graph at the same time. Iterative: deep
// graphs must not exhaust the C++ stack.
struct Walk {
  NodeSlots slots;
  std::vector<Node*> nodes;     // by slot
  std::vector<uint32_t> order;  // slots
};

Walk topological_order(const std::vector<Node*>& roots) {
  Walk walk;
  std::vector<uint32_t> stack;
  auto visit = [&](Node* n) {
    auto [slot, added] = walk.slots.insert(n, uint32_t(walk.nodes.size()));
    if (added) {
      walk.nodes.push_back(n);
      stack.push_back(slot);
    }
  };
  for (Node* r : roots) visit(r);
  while (!stack.empty()) {
    Node* n = walk.nodes[stack.back()];
    stack.pop_back();
    for (Edge& e : n->edges)
      if (e.fn) visit(e.fn.get());
  }
  std::vector<int> dependencies(walk.nodes.size(), 0);
  for (Node* n : walk.nodes)
    for (Edge& e : n->edges)
      if (e.fn) dependencies[walk.slots.at(e.fn.get())]++;
  walk.order.reserve(walk.nodes.size());
  std::vector<uint32_t> ready;
  for (uint32_t s = 0; s < walk.nodes.size(); ++s)
    if (dependencies[s] == 0) ready.push_back(s);
  while (!ready.empty()) {
    uint32_t s = ready.back();
    ready.pop_back();
    walk.order.push_back(s);
    for (Edge& e : walk.nodes[s]->edges)
      if (e.fn) {
        uint32_t t = walk.slots.at(e.fn.get());
        if (--dependencies[t] == 0) ready.push_back(t);
      }
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
  std::unordered_map<TensorImpl*, std::vector<size_t>> leaves;  // an input may repeat
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
        for (size_t slot : it->second)
          capture->results[slot] = accumulate(capture->results[slot], g);
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
  const size_t count = walk.nodes.size();

  // needed: the node's gradient is captured or leads to a captured input;
  // run_rule: only the latter (by slot).
  std::vector<char> needed(count, 1), run_rule(count, 1);
  if (capture) {
    for (size_t k = walk.order.size(); k-- > 0;) {
      const uint32_t s = walk.order[k];
      Node* n = walk.nodes[s];
      bool leads = false;
      for (const Edge& e : n->edges) {
        if (leads) break;
        if (e.fn)
          leads = needed[walk.slots.at(e.fn.get())];
        else if (e.leaf)
          leads = capture->leaves.count(e.leaf.get()) > 0;
      }
      run_rule[s] = leads;
      needed[s] = leads || capture->nodes.count(n) > 0;
    }
  }

  // the gradients arriving at each output of each node: node s's outputs
  // are at first[s] ...
  std::vector<size_t> first(count + 1, 0);
  for (size_t s = 0; s < count; ++s) first[s + 1] = first[s] + walk.nodes[s]->num_outputs;
  std::vector<Tensor> pending(first[count]);
  auto add_pending = [&](Node* n, uint32_t nr, const Tensor& g) {
    Tensor& slot = pending[first[walk.slots.at(n)] + nr];
    slot = accumulate(slot, g);
  };
  for (auto& [edge, g] : roots) {
    if (edge.fn)
      add_pending(edge.fn.get(), edge.input_nr, g);
    else if (edge.leaf)
      deliver_leaf(edge.leaf, g);
  }
  // Keep nodes alive while walking even if a rule drops the last reference.
  std::vector<std::shared_ptr<Node>> keep;
  keep.reserve(count);
  for (Node* n : walk.nodes) keep.push_back(n->shared_from_this());

  Grads gs;
  for (uint32_t s : walk.order) {
    Node* n = walk.nodes[s];
    gs.clear();
    bool any = false;
    for (size_t i = first[s]; i < first[s + 1]; ++i) {
      any = any || pending[i];
      gs.push_back(std::move(pending[i]));
    }
    if (!any || !needed[s]) {
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
    if (!run_rule[s]) continue;
    if (n->released || !n->rule)
      throw RuntimeError(n->display_name() +
                         ": trying to backward through the graph a second time (or directly "
                         "access saved tensors after they have already been freed). Saved "
                         "intermediate values of the graph are freed when you call "
                         ".backward() or autograd.grad(). Specify retain_graph=True if you "
                         "need to backward through the graph a second time.");
    Grads grads = n->rule(*n, gs);
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
      capture.leaves[t.get()].push_back(i);
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
