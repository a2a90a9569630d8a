// Recording ops on the tape (reverse mode) and pushing tangents (forward
// mode). Ops call record() and forward_ad() next to their forward kernel; the
// engine (engine.h) later walks what was recorded.
#pragma once

#include <initializer_list>
#include <memory>
#include <vector>

#include "tapegrad/node.h"

namespace tapegrad {

// ---- grad mode (thread-local, as PyTorch's) ------------------------------------

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

// The edge a gradient for `t` takes. For a view written in place through
// another view since its grad_fn was made, the grad_fn is first rebuilt
// from its base's (PyTorch's AsStridedBackward).
Edge autograd_edge(const Tensor& t);
// t's grad_fn, rebuilt first where autograd_edge would (what .grad_fn shows).
std::shared_ptr<Node> autograd_fn(const Tensor& t);

// A node for an op on `inputs`, with an edge per input.
std::shared_ptr<Node> make_node(const char* name, Inputs inputs);
// Makes `node` the grad_fn of `out` (its output `output_nr`).
void attach(const Tensor& out, const std::shared_ptr<Node>& node, bool save_output,
            uint32_t output_nr = 0);

// Attaches a node to `out` when grad mode is on and some input requires grad.
// `make_rule` is only called then, so an op pays nothing for saving tensors
// when no graph is recorded. The rule gets output 0's gradient.
template <class MakeRule>
Tensor record(const char* name, Inputs inputs, Tensor out, MakeRule make_rule,
              bool save_output = false) {
  if (!grad_enabled() || !any_requires_grad(inputs)) return out;
  auto node = make_node(name, inputs);
  node->rule = [rule = make_rule()](Node& n, const Grads& g) -> Grads { return rule(n, g[0]); };
  attach(out, node, save_output);
  return out;
}

// Records the outputs of a custom function (tg.autograd.Function): one node
// named `name` with an edge per input and outputs[i] as its output i. An
// output that is one of the inputs (returned unchanged) becomes a view of it;
// a dirty one (an input written in place) takes the node as its history;
// non-differentiable ones get none. `save[i]` keeps output i for the rule.
std::vector<Tensor> record_function(const std::string& name, const std::vector<Tensor>& inputs,
                                    std::vector<Tensor> outputs, Node::Rule rule,
                                    const std::vector<bool>& differentiable,
                                    const std::vector<bool>& dirty, const std::vector<bool>& save);
// t's data behind a node, fed by `inputs`, whose backward raises `message`
// (once_differentiable).
Tensor delayed_error(const Tensor& t, const std::vector<Tensor>& inputs,
                     const std::string& message);

// ---- forward mode (jvp) with nested dual levels ----------------------------------

// Each op pushes its inputs' tangents to its output with a jvp rule written
// next to its backward rule, once per active dual level. Levels nest like
// PyTorch's: the jvp rule of level k runs with only the levels below k
// active, so its own ops carry the outer levels' tangents (second directional
// derivatives) and none of level k's.
size_t forward_levels();  // levels active for ops right now
uint64_t enter_dual_level();
void exit_dual_level(uint64_t level);
// Position of an active level (its nesting depth); throws if not active.
size_t level_index(uint64_t level);
struct LevelLimitGuard {
  size_t previous;
  explicit LevelLimitGuard(size_t limit);
  ~LevelLimitGuard();
};
// The tangent of t at active level k (0 = outermost); null when none.
Tensor tangent_at(const Tensor& t, size_t k);
void set_tangent(const Tensor& t, size_t k, const Tensor& tangent);
void clear_tangent(const Tensor& t, size_t k);
bool has_tangents(const Tensor& t);
Tensor sum_terms(const Tensor& a, const Tensor& b);  // null counts as zero

// A view of x carrying `tangent` at active level k (forward_ad.make_dual);
// its other levels' tangents are x's.
Tensor make_dual(const Tensor& x, const Tensor& tangent, size_t k);
// (primal, tangent at level k), the primal a view of t without that tangent.
std::pair<Tensor, Tensor> unpack_dual(const Tensor& t, size_t k);

// out's tangent = jvp(tangents of the inputs) at every active level where some
// input carries one.
template <class Jvp>
void forward_ad(const Tensor& out, Inputs inputs, Jvp jvp) {
  const size_t levels = forward_levels();
  for (size_t k = 0; k < levels; ++k) {
    Grads tangents;
    bool any = false;
    for (const Tensor* in : inputs) {
      tangents.push_back(*in ? tangent_at(*in, k) : nullptr);  // optional inputs may be null
      any = any || tangents.back();
    }
    if (!any) continue;
    LevelLimitGuard limit(k);
    set_tangent(out, k, jvp(tangents));
  }
}

// ---- views and in-place ops ---------------------------------------------------------

// A tensor over x's storage with another geometry, recorded as a view of x:
// it shares x's version counter and knows x's base. `backward` maps the
// view's gradient to x's, `jvp` x's tangent to the view's.
template <class Backward, class Jvp>
Tensor make_view(const char* name, const Tensor& x, const Shape& shape, const Strides& strides,
                 int64_t offset, Backward backward, Jvp jvp) {
  Tensor out = alias_with(x, shape, strides, offset);
  out->view_base = x->view_base ? x->view_base : x;
  forward_ad(out, {&x}, [&](const Grads& t) { return jvp(t[0]); });
  out = record(name, {&x}, out, [&] {
    return [backward](Node&, const Tensor& g) -> Grads { return {backward(g)}; };
  });
  out->view_version = out->version();
  return out;
}

// Refuses an in-place write to `self` where PyTorch does: a leaf that requires
// grad (or a view of one) in grad mode, and a tensor whose elements overlap.
void check_inplace(const Tensor& self, const char* op);
// The value of `self` an in-place op computes from: `self` itself, or, when
// the op will be recorded, a copy with self's autograd identity, so that what
// the backward saves is not overwritten by the write.
Tensor inplace_input(const Tensor& self, bool recording);
// Writes `result` (broadcast and cast to self's shape and dtype) into self,
// bumps its version and rebases its autograd history on result's: a view's
// base gets a CopySlices node, as in PyTorch. Returns self. Arithmetic
// refuses a result that self's dtype cannot hold; a copy (copy_, fill_,
// setitem) casts, and its old values get a zero gradient.
Tensor commit_inplace(const Tensor& self, const Tensor& result, const char* op, bool copy = false);

}  // namespace tapegrad
