// The recorder: grad mode, nodes and edges, saved tensors, dual levels,
// views and the autograd side of in-place writes.
#include "tapegrad/recorder.h"

#include <algorithm>
#include <atomic>

#include "tapegrad/ops.h"

namespace tapegrad {

namespace {
thread_local bool grad_mode = true;
// the active dual levels, outermost first, and how many of them ops see now
thread_local std::vector<uint64_t> level_ids;
thread_local size_t level_limit = SIZE_MAX;
std::atomic<uint64_t> next_level_id{1};
std::atomic<int> hook_ids{1};
}  // namespace

bool grad_enabled() { return grad_mode; }
void set_grad_enabled(bool enabled) { grad_mode = enabled; }

int next_hook_id() { return hook_ids.fetch_add(1); }

// ---- saved tensors and nodes ------------------------------------------------------

void throw_modified_inplace(const TensorImpl& t, uint32_t expected) {
  std::string producer =
      t.grad_fn ? "output " + std::to_string(t.output_nr) + " of " + t.grad_fn->display_name()
                : std::string("a leaf");
  throw RuntimeError(
      "one of the variables needed for gradient computation has been modified by an inplace "
      "operation: [tapegrad." +
      std::string(dtype_name(t.dtype)) + " " + shape_str(t.shape) + "], which is " + producer +
      ", is at version " + std::to_string(t.version()) + "; expected version " +
      std::to_string(expected) + " instead.");
}

const Tensor& Saved::get() const {
  if (t_ && t_->version() != version_) throw_modified_inplace(*t_, version_);
  return t_;
}

HookList<TensorHook>& NodeExtras::hooks_for(uint32_t output_nr) {
  for (auto& entry : pre_hooks)
    if (entry.first == output_nr) return entry.second;
  pre_hooks.emplace_back(output_nr, HookList<TensorHook>{});
  return pre_hooks.back().second;
}

NodeExtras& Node::ensure_extras() {
  if (!extras) extras = std::make_unique<NodeExtras>();
  return *extras;
}

namespace {
// Nodes reach earlier nodes through their edges and through the tensors
// their rules saved. Destroying a long chain recursively would exhaust the
// stack, so past a depth a dying node hands what it owns to this list, and
// the outermost destructor frees the list in a loop.
constexpr int kMaxDestroyDepth = 256;
struct Graveyard {
  std::vector<std::shared_ptr<Node>> nodes;
  std::vector<Node::Rule> rules;
  std::vector<Tensor> tensors;
  int depth = 0;
};
thread_local Graveyard graveyard;
}  // namespace

Node::~Node() {
  Graveyard& g = graveyard;
  if (g.depth >= kMaxDestroyDepth) {
    for (Edge& e : edges) {
      if (e.fn) g.nodes.push_back(std::move(e.fn));
      if (e.leaf) g.tensors.push_back(std::move(e.leaf));
    }
    if (rule) g.rules.push_back(std::move(rule));
    for (Tensor& t : saved_outputs)
      if (t) g.tensors.push_back(std::move(t));
    return;
  }
  ++g.depth;
  edges.clear();
  rule = nullptr;
  saved_outputs.clear();
  extras.reset();
  if (g.depth == 1) {
    while (!g.nodes.empty() || !g.rules.empty() || !g.tensors.empty()) {
      if (!g.nodes.empty()) {
        std::shared_ptr<Node> n = std::move(g.nodes.back());
        g.nodes.pop_back();
      } else if (!g.rules.empty()) {
        Rule r = std::move(g.rules.back());
        g.rules.pop_back();
      } else {
        Tensor t = std::move(g.tensors.back());
        g.tensors.pop_back();
      }
    }
  }
  --g.depth;
}

Tensor Node::output(uint32_t nr) {
  if (!has_saved_output(nr))
    throw RuntimeError(display_name() +
                       ": trying to backward through the graph a second time (or directly "
                       "access saved tensors after they have already been freed). Saved "
                       "intermediate values of the graph are freed when you call .backward() "
                       "or autograd.grad(). Specify retain_graph=True if you need to backward "
                       "through the graph a second time.");
  const Tensor& saved = saved_outputs[nr];
  if (saved->version() != saved_output_versions[nr])
    throw_modified_inplace(*saved, saved_output_versions[nr]);
  Tensor out = alias(saved);
  if (saved->extras) out->ensure_extras().tangents = saved->extras->tangents;
  out->requires_grad = true;
  out->grad_fn = shared_from_this();
  out->output_nr = nr;
  return out;
}

void Node::release() {
  rule = nullptr;
  saved_outputs.clear();
  released = true;
}

// ---- recording ----------------------------------------------------------------------

bool any_requires_grad(Inputs inputs) {
  for (const Tensor* t : inputs)
    if (*t && (*t)->requires_grad) return true;
  return false;
}

namespace {
// The geometry of the base and of the view in the base's storage.
struct ViewGeometry {
  Shape base_shape;
  Strides base_strides;
  int64_t base_offset;
  Shape shape;
  Strides strides;
  int64_t offset;
};
ViewGeometry geometry_of(const Tensor& view) {
  const Tensor& b = view->view_base;
  return {b->shape, b->strides, b->offset, view->shape, view->strides, view->offset};
}

// The grad_fn of a view after its storage was written through another view:
// the view read back out of its base's (new) history.
void rebuild_view_fn(const Tensor& t) {
  ViewGeometry geo = geometry_of(t);
  Tensor base = t->view_base;
  auto node = make_node("AsStridedBackward", {&base});
  node->rule = [geo](Node&, const Grads& g) -> Grads {
    return {as_strided_scatter(g[0], geo.base_shape, geo.base_strides, geo.base_offset, geo.shape,
                               geo.strides, geo.offset)};
  };
  t->grad_fn = node;
  t->output_nr = 0;
  t->view_version = t->version();
}
}  // namespace

std::shared_ptr<Node> autograd_fn(const Tensor& t) {
  if (t->view_base && t->grad_fn && t->version() != t->view_version) rebuild_view_fn(t);
  return t->grad_fn;
}

Edge autograd_edge(const Tensor& t) {
  Edge e;
  if (!t || !t->requires_grad) return e;
  if (auto fn = autograd_fn(t)) {
    e.fn = std::move(fn);
    e.input_nr = t->output_nr;
  } else {
    e.leaf = t;
  }
  return e;
}

std::shared_ptr<Node> make_node(const char* name, Inputs inputs) {
  auto node = std::make_shared<Node>(name);
  node->edges.reserve(inputs.size());
  for (const Tensor* in : inputs) node->edges.push_back(autograd_edge(*in));
  return node;
}

void attach(const Tensor& out, const std::shared_ptr<Node>& node, bool save_output,
            uint32_t output_nr) {
  if (save_output) {
    if (node->saved_outputs.size() <= output_nr) {
      node->saved_outputs.resize(output_nr + 1);
      node->saved_output_versions.resize(output_nr + 1);
    }
    Tensor saved = alias(out);
    if (out->extras) saved->ensure_extras().tangents = out->extras->tangents;
    node->saved_outputs[output_nr] = saved;
    node->saved_output_versions[output_nr] = out->version();
  }
  out->requires_grad = true;
  out->grad_fn = node;
  out->output_nr = output_nr;
}

std::vector<Tensor> record_function(const std::string& name, const std::vector<Tensor>& inputs,
                                    std::vector<Tensor> outputs, Node::Rule rule,
                                    const std::vector<bool>& differentiable,
                                    const std::vector<bool>& dirty, const std::vector<bool>& save) {
  std::vector<const Tensor*> ins;
  for (const Tensor& t : inputs) ins.push_back(&t);
  const bool recording = grad_enabled() && any_requires_grad(ins);
  auto node = make_node("FunctionBackward", ins);
  node->custom_name = name;
  node->num_outputs = uint32_t(outputs.size());
  node->rule = std::move(rule);
  for (size_t i = 0; i < outputs.size(); ++i) {
    Tensor& out = outputs[i];
    check_defined(out, name.c_str());
    const bool is_input =
        std::any_of(inputs.begin(), inputs.end(), [&](const Tensor& t) { return t == out; });
    if (dirty[i]) {
      check_inplace(out, name.c_str());
      out->bump_version();
    } else if (is_input) {
      GradModeGuard no_grad(false);
      out = view(out, out->shape);
    }
    if (recording && differentiable[i] && is_floating(out->dtype))
      attach(out, node, save[i], uint32_t(i));
  }
  return outputs;
}

Tensor delayed_error(const Tensor& t, const std::vector<Tensor>& inputs,
                     const std::string& message) {
  check_defined(t, "once_differentiable");
  Tensor out = alias(t);
  std::vector<const Tensor*> ins;
  for (const Tensor& in : inputs) ins.push_back(&in);
  return record("DelayedError", ins, out, [&] {
    return [message](Node&, const Tensor&) -> Grads { throw RuntimeError(message); };
  });
}

// ---- forward mode ---------------------------------------------------------------------

size_t forward_levels() { return std::min(level_ids.size(), level_limit); }

uint64_t enter_dual_level() {
  uint64_t id = next_level_id.fetch_add(1);
  level_ids.push_back(id);
  return id;
}

void exit_dual_level(uint64_t level) {
  if (level_ids.empty() || level_ids.back() != level)
    throw RuntimeError(
        "exit_dual_level: trying to exit a forward AD level that was not the last one entered");
  level_ids.pop_back();
}

size_t level_index(uint64_t level) {
  for (size_t k = 0; k < level_ids.size(); ++k)
    if (level_ids[k] == level) return k;
  throw RuntimeError("forward AD: level " + std::to_string(level) +
                     " is not active (enter it with dual_level())");
}

LevelLimitGuard::LevelLimitGuard(size_t limit) : previous(level_limit) { level_limit = limit; }
LevelLimitGuard::~LevelLimitGuard() { level_limit = previous; }

Tensor tangent_at(const Tensor& t, size_t k) {
  if (!t->extras || k >= level_ids.size()) return nullptr;
  const uint64_t id = level_ids[k];
  for (auto& [level, tangent] : t->extras->tangents)
    if (level == id) return tangent;
  return nullptr;
}

void set_tangent(const Tensor& t, size_t k, const Tensor& tangent) {
  auto& list = t->ensure_extras().tangents;
  // drop tangents of levels that have been exited
  list.erase(std::remove_if(list.begin(), list.end(),
                            [](const auto& e) {
                              return std::find(level_ids.begin(), level_ids.end(), e.first) ==
                                     level_ids.end();
                            }),
             list.end());
  const uint64_t id = level_ids.at(k);
  for (auto& e : list)
    if (e.first == id) {
      e.second = tangent;
      return;
    }
  if (tangent) list.emplace_back(id, tangent);
}

void clear_tangent(const Tensor& t, size_t k) {
  if (!t->extras || k >= level_ids.size()) return;
  auto& list = t->extras->tangents;
  const uint64_t id = level_ids[k];
  list.erase(
      std::remove_if(list.begin(), list.end(), [id](const auto& e) { return e.first == id; }),
      list.end());
}

bool has_tangents(const Tensor& t) {
  check_defined(t, "has_tangents");
  for (size_t k = 0; k < forward_levels(); ++k)
    if (tangent_at(t, k)) return true;
  return false;
}

Tensor make_dual(const Tensor& x, const Tensor& tangent, size_t k) {
  check_defined(x, "make_dual");
  check_defined(tangent, "make_dual");
  if (!is_floating(x->dtype))
    throw RuntimeError(std::string("make_dual: expected a floating point primal, got ") +
                       dtype_name(x->dtype));
  if (tangent->shape != x->shape)
    throw RuntimeError(
        "make_dual: trying to set a forward gradient that has a different size "
        "than that of the original Tensor, this is not supported. Tensor is of "
        "size " +
        shape_str(x->shape) +
        " while the given forward gradient is of "
        "size " +
        shape_str(tangent->shape) + ".");
  Tensor dual = view(x, x->shape);
  set_tangent(dual, k, to_dtype(tangent, x->dtype));
  return dual;
}

std::pair<Tensor, Tensor> unpack_dual(const Tensor& t, size_t k) {
  check_defined(t, "unpack_dual");
  Tensor tangent = tangent_at(t, k);
  Tensor primal = view(t, t->shape);
  clear_tangent(primal, k);
  return {primal, tangent};
}

Tensor sum_terms(const Tensor& a, const Tensor& b) {
  if (!a) return b;
  if (!b) return a;
  return add(a, b);
}

// ---- in-place ---------------------------------------------------------------------------

void check_inplace(const Tensor& self, const char* op) {
  check_defined(self, op);
  if (grad_enabled()) {
    if (!self->view_base && self->requires_grad && self->is_leaf())
      throw RuntimeError(std::string(op) +
                         ": a leaf Variable that requires grad is being used in an in-place "
                         "operation.");
    if (self->view_base && self->view_base->requires_grad && self->view_base->is_leaf())
      throw RuntimeError(std::string(op) +
                         ": a view of a leaf Variable that requires grad is being used in an "
                         "in-place operation.");
  }
  for (int64_t d = 0; d < self->ndim(); ++d)
    if (self->strides[d] == 0 && self->shape[d] > 1)
      throw RuntimeError(std::string(op) +
                         ": unsupported operation: more than one element of the written-to "
                         "tensor refers to a single memory location. Please clone() the tensor "
                         "before performing the operation.");
}

Tensor inplace_input(const Tensor& self, bool recording) {
  if (!recording && !has_tangents(self)) return self;
  Tensor snapshot = copy_data(self);
  snapshot->requires_grad = self->requires_grad;
  if (self->requires_grad) {
    snapshot->grad_fn = autograd_fn(self);
    snapshot->output_nr = self->output_nr;
  }
  if (self->extras) snapshot->ensure_extras().tangents = self->extras->tangents;
  return snapshot;
}

namespace {
bool can_cast(DType from, DType to) {
  if (is_floating(from) && !is_floating(to)) return false;
  if (from != DType::bool_ && to == DType::bool_) return false;
  return true;
}
}  // namespace

Tensor commit_inplace(const Tensor& self, const Tensor& result, const char* op, bool copy) {
  check_defined(self, op);
  check_defined(result, op);
  if (!copy && !can_cast(result->dtype, self->dtype))
    throw RuntimeError(std::string(op) + ": result type " + dtype_name(result->dtype) +
                       " can't be cast to the desired output type " + dtype_name(self->dtype));
  Shape shape = broadcast_shapes(result->shape, self->shape, op);
  if (shape != self->shape)
    throw RuntimeError(std::string(op) + ": output with shape " + shape_str(self->shape) +
                       " doesn't match the broadcast shape " + shape_str(shape));
  const Tensor base = self->view_base;
  const bool history = self->requires_grad || (base && base->requires_grad);
  const bool graph = grad_enabled() && (result->requires_grad || history);
  Tensor value = result;
  if (graph || has_tangents(result))
    value = to_dtype(broadcast_to(result, self->shape), self->dtype);
  // the old history, before self changes
  Edge old = graph && !base ? autograd_edge(self) : Edge();
  if (value->storage != self->storage || value->offset != self->offset ||
      value->strides != self->strides)
    copy_into(self, value->storage == self->storage ? copy_data(value) : value);
  self->bump_version();
  if (graph && base) {
    // The base's new history: outside the view, the old base; inside, the
    // result (PyTorch's CopySlices). The view reads it back lazily.
    ViewGeometry geo = geometry_of(self);
    auto node = make_node("CopySlices", {&base, &value});
    node->rule = [geo](Node&, const Grads& g) -> Grads {
      auto region = [&](const Tensor& t) {
        return as_strided_gather(t, geo.base_shape, geo.base_strides, geo.base_offset, geo.shape,
                                 geo.strides, geo.offset);
      };
      Tensor inside = region(g[0]);
      Tensor outside =
          sub(g[0], as_strided_scatter(inside, geo.base_shape, geo.base_strides, geo.base_offset,
                                       geo.shape, geo.strides, geo.offset));
      return {outside, inside};
    };
    attach(base, node, false);
    self->requires_grad = true;
    rebuild_view_fn(self);
  } else if (graph && value->requires_grad && !copy) {
    self->grad_fn = autograd_fn(value);
    self->output_nr = value->output_nr;
    self->requires_grad = true;
  } else if (graph) {
    // a copy: the old values get no gradient (zeros, as PyTorch), the new
    // ones pass it on to where they came from
    auto node = std::make_shared<Node>("CopyBackwards");
    node->edges = {old, autograd_edge(value)};
    node->rule = [](Node& n, const Grads& g) -> Grads {
      return {n.needs_grad(0) ? zeros(g[0]->shape, g[0]->dtype) : nullptr, g[0]};
    };
    attach(self, node, false);
  }
  for (size_t k = 0; k < forward_levels(); ++k)
    if (Tensor t = tangent_at(value, k)) set_tangent(self, k, t);
  return self;
}

}  // namespace tapegrad
