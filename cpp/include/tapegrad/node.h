// A tape entry: where each input's gradient goes, what the backward saved,
// and the backward rule; plus the tensor-side hooks and tangents.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/tensor.h"

namespace tapegrad {

using Grads = SmallVector<Tensor, 4>;  // one per input (or output); null = none / zero

// Where the gradient of one input goes: to output `input_nr` of the node that
// produced it, or, for a leaf that requires grad, into that leaf's .grad.
struct Edge {
  std::shared_ptr<Node> fn;
  Tensor leaf;
  uint32_t input_nr = 0;
  bool active() const { return fn || leaf; }
};

// A tensor a backward rule keeps, with the version it had when saved: using it
// after an in-place change raises PyTorch's "modified by an inplace operation".
class Saved {
 public:
  Saved() = default;
  Saved(const Tensor& t) : t_(t), version_(t ? t->version() : 0) {}  // NOLINT: implicit by design
  const Tensor& get() const;
  explicit operator bool() const { return bool(t_); }

 private:
  Tensor t_;
  uint32_t version_ = 0;
};
[[noreturn]] void throw_modified_inplace(const TensorImpl& t, uint32_t expected);

// A hook on the gradient of a tensor; it may return a replacement (or null
// to keep the gradient as it is).
using TensorHook = std::function<Tensor(const Tensor&)>;
// A hook run after a leaf's .grad was accumulated.
using PostAccumulateHook = std::function<void(const Tensor&)>;

template <class H>
struct HookList {
  std::vector<std::pair<int, H>> entries;
  bool empty() const { return entries.empty(); }
  void remove(int id) {
    for (size_t i = 0; i < entries.size(); ++i)
      if (entries[i].first == id) {
        entries.erase(entries.begin() + i);
        return;
      }
  }
};
int next_hook_id();

// What only some tensors need: forward-mode tangents (one per dual level) and
// hooks on a leaf's gradient.
struct TensorExtras {
  std::vector<std::pair<uint64_t, Tensor>> tangents;  // (dual level id, tangent)
  HookList<TensorHook> grad_hooks;                    // leaves; non-leaves hook their node
  HookList<PostAccumulateHook> post_accumulate_hooks;
};

struct NodeExtras;

struct Node : std::enable_shared_from_this<Node> {
  using Rule = std::function<Grads(Node&, const Grads& grad_outputs)>;

  const char* name;
  std::string custom_name;  // for nodes of Python Functions
  std::vector<Edge> edges;  // one per input of the op
  Rule rule;                // captures what the backward needs (Saved tensors)
  uint32_t num_outputs = 1;
  bool released = false;

  // Outputs' data without their grad_fn (by output_nr; null where not
  // saved), kept only for rules that need them (exp, tanh, sigmoid): holding
  // an output itself would be a cycle.
  std::vector<Tensor> saved_outputs;
  std::vector<uint32_t> saved_output_versions;

  std::unique_ptr<NodeExtras> extras;  // hooks on the gradients of the outputs

  explicit Node(const char* name) : name(name) {}
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  std::string display_name() const { return custom_name.empty() ? name : custom_name; }
  bool needs_grad(size_t input) const { return input < edges.size() && edges[input].active(); }
  // An output as seen from the rule: same data, this node as grad_fn, so a
  // rule that uses it is differentiable again under create_graph.
  Tensor output(uint32_t nr = 0);
  bool has_saved_output(uint32_t nr = 0) const {
    return nr < saved_outputs.size() && saved_outputs[nr];
  }
  // Frees everything saved for the backward (the graph keeps its edges).
  void release();
  NodeExtras& ensure_extras();
};

// Hooks on the gradient arriving for an output (a non-leaf's register_hook),
// and the tensors that retain their gradient (retain_grad).
struct NodeExtras {
  std::vector<std::pair<uint32_t, HookList<TensorHook>>> pre_hooks;  // by output_nr
  std::vector<std::pair<uint32_t, std::weak_ptr<TensorImpl>>> retained;
  HookList<TensorHook>& hooks_for(uint32_t output_nr);
};

}  // namespace tapegrad
