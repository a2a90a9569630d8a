// The autograd entry points: grad mode, backward and grad, graph nodes,
// hooks, custom Functions and forward-mode dual levels. Conversion only.
#include "common.h"
#include "tapegrad/engine.h"
#include "tapegrad/ops.h"
#include "tapegrad/recorder.h"

namespace tapegrad {

namespace {

std::vector<Tensor> to_tensor_list(py::handle seq, const char* what) {
  std::vector<Tensor> out;
  if (is_tensor(seq.ptr())) {
    out.push_back(as_tensor(seq.ptr()));
    return out;
  }
  for (py::handle h : seq) {
    if (h.is_none()) {
      out.push_back(nullptr);
      continue;
    }
    if (!is_tensor(h.ptr()))
      throw TypeError(std::string(what) + ": expected Tensors, got " + Py_TYPE(h.ptr())->tp_name);
    out.push_back(as_tensor(h.ptr()));
  }
  return out;
}

// A leaf's place in the graph, as PyTorch shows it in next_functions.
struct AccumulateGrad {
  Tensor variable;
};

py::object edge_fn(const Edge& e) {
  if (e.fn) return py::cast(e.fn);
  if (e.leaf) return py::cast(AccumulateGrad{e.leaf});
  return py::none();
}

// What register_hook returns: remove() takes the hook away again.
struct HookHandle {
  std::weak_ptr<TensorImpl> tensor;  // a leaf's hooks
  std::weak_ptr<Node> node;          // or a node's, for its output
  uint32_t output_nr = 0;
  int id = 0;
  bool post_accumulate = false;
  void remove() {
    if (auto t = tensor.lock()) {
      if (t->extras) {
        t->extras->grad_hooks.remove(id);
        t->extras->post_accumulate_hooks.remove(id);
      }
    } else if (auto n = node.lock()) {
      if (n->extras) n->extras->hooks_for(output_nr).remove(id);
    }
  }
};

TensorHook python_hook(py::handle fn) {
  PyCallable callable(fn);
  return [callable](const Tensor& g) -> Tensor {
    py::gil_scoped_acquire gil;
    py::object r = callable.get()(g);
    if (r.is_none()) return nullptr;
    if (!is_tensor(r.ptr()))
      throw TypeError(std::string("hook: a hook must return None or a Tensor, got ") +
                      Py_TYPE(r.ptr())->tp_name);
    return as_tensor(r.ptr());
  };
}

}  // namespace

void bind_autograd(py::module_& m) {
  m.def("is_grad_enabled", &grad_enabled, "Whether operations are recorded for backward.");
  m.def("_set_grad_enabled", &set_grad_enabled);

  py::class_<Node, std::shared_ptr<Node>>(m, "Node", "A recorded op: where backward goes next.")
      .def("name", &Node::display_name, py::pos_only())
      .def_property_readonly(
          "next_functions",
          [](const Node& n) {
            py::list out;
            for (const Edge& e : n.edges) out.append(py::make_tuple(edge_fn(e), e.input_nr));
            return py::tuple(out);
          },
          py::pos_only())
      .def("__repr__", [](const Node& n) { return "<" + n.display_name() + ">"; }, py::pos_only());
  py::class_<AccumulateGrad>(m, "AccumulateGrad",
                             "Where a leaf's gradient is accumulated into its .grad.")
      .def(
          "name", [](const AccumulateGrad&) { return std::string("AccumulateGrad"); },
          py::pos_only())
      .def_property_readonly(
          "variable", [](const AccumulateGrad& a) { return a.variable; }, py::pos_only())
      .def_property_readonly(
          "next_functions", [](const AccumulateGrad&) { return py::tuple(); }, py::pos_only())
      .def(
          "__repr__", [](const AccumulateGrad&) { return std::string("<AccumulateGrad>"); },
          py::pos_only());
  py::class_<HookHandle>(m, "RemovableHandle", "A registered hook; remove() unregisters it.")
      .def("remove", &HookHandle::remove, py::pos_only())
      .def_readonly("id", &HookHandle::id);

  py::object cls = m.attr("Tensor");
  auto tensor_cls =
      py::reinterpret_borrow<py::class_<TensorImpl, std::shared_ptr<TensorImpl>>>(cls);
  tensor_cls
      .def_property_readonly(
          "grad_fn", [](const Tensor& t) { return autograd_fn(t); }, py::pos_only())
      .def(
          "_backward",
          [](const Tensor& t, py::handle gradient, bool retain_graph, bool create_graph) {
            if (!gradient.is_none() && !is_tensor(gradient.ptr()))
              throw TypeError(std::string("backward: gradient must be a Tensor or None, got ") +
                              Py_TYPE(gradient.ptr())->tp_name);
            Tensor g = gradient.is_none() ? nullptr : as_tensor(gradient.ptr());
            py::gil_scoped_release release;
            backward({t}, {g}, retain_graph, create_graph);
          },
          py::pos_only())
      .def(
          "register_hook",
          [](const Tensor& t, py::function fn) {
            if (!t->requires_grad)
              throw RuntimeError(
                  "cannot register a hook on a tensor that doesn't require gradient");
            HookHandle h;
            h.id = next_hook_id();
            if (auto node = autograd_fn(t)) {
              node->ensure_extras()
                  .hooks_for(t->output_nr)
                  .entries.emplace_back(h.id, python_hook(fn));
              h.node = node;
              h.output_nr = t->output_nr;
            } else {
              t->ensure_extras().grad_hooks.entries.emplace_back(h.id, python_hook(fn));
              h.tensor = t;
            }
            return h;
          },
          py::pos_only())
      .def(
          "register_post_accumulate_grad_hook",
          [](const Tensor& t, py::function fn) {
            if (!t->is_leaf())
              throw RuntimeError(
                  "post accumulate grad hooks cannot be registered on non-leaf tensors");
            if (!t->requires_grad)
              throw RuntimeError(
                  "cannot register a hook on a tensor that doesn't require gradient");
            HookHandle h;
            h.id = next_hook_id();
            h.tensor = t;
            h.post_accumulate = true;
            PyCallable callable(fn);
            t->ensure_extras().post_accumulate_hooks.entries.emplace_back(
                h.id, [callable](const Tensor& leaf) {
                  py::gil_scoped_acquire gil;
                  callable.get()(leaf);
                });
            return h;
          },
          py::pos_only())
      .def(
          "retain_grad",
          [](const Tensor& t) {
            if (!t->requires_grad)
              throw RuntimeError("can't retain_grad on Tensor that has requires_grad=False");
            auto node = autograd_fn(t);
            if (!node) return;  // leaves keep their gradient anyway
            auto& retained = node->ensure_extras().retained;
            for (auto& [nr, weak] : retained)
              if (nr == t->output_nr && weak.lock() == t) return;
            retained.emplace_back(t->output_nr, t);
          },
          py::pos_only())
      .def_property_readonly(
          "retains_grad",
          [](const Tensor& t) {
            auto node = t->grad_fn;
            if (!node || !node->extras) return false;
            for (auto& [nr, weak] : node->extras->retained)
              if (weak.lock() == t) return true;
            return false;
          },
          py::pos_only());

  m.def("_grad", [](py::object outputs, py::object inputs, py::object grad_outputs,
                    bool retain_graph, bool create_graph, bool allow_unused) {
    auto outs = to_tensor_list(outputs, "grad");
    auto ins = to_tensor_list(inputs, "grad");
    std::vector<Tensor> gos = grad_outputs.is_none() ? std::vector<Tensor>(outs.size())
                                                     : to_tensor_list(grad_outputs, "grad");
    for (const Tensor& o : outs) check_defined(o, "grad");
    py::gil_scoped_release release;
    return grad(outs, ins, gos, retain_graph, create_graph, allow_unused);
  });
  m.def("_backward_many",
        [](py::object outputs, py::object grads, bool retain_graph, bool create_graph) {
          auto outs = to_tensor_list(outputs, "backward");
          auto gos = grads.is_none() ? std::vector<Tensor>(outs.size())
                                     : to_tensor_list(grads, "backward");
          for (const Tensor& o : outs) check_defined(o, "backward");
          py::gil_scoped_release release;
          backward(outs, gos, retain_graph, create_graph);
        });

  // ---- custom Functions -------------------------------------------------------------
  // backward(grads, saved_outputs) -> one gradient (or None) per tensor input
  m.def("_function_apply", [](const std::string& name, py::object inputs, py::object outputs,
                              py::function backward_fn, std::vector<bool> differentiable,
                              std::vector<bool> dirty, std::vector<bool> save,
                              bool materialize_grads) {
    auto ins = to_tensor_list(inputs, name.c_str());
    auto outs = to_tensor_list(outputs, name.c_str());
    if (differentiable.size() != outs.size() || dirty.size() != outs.size() ||
        save.size() != outs.size())
      throw ValueError(name + ": one flag per output expected");
    std::vector<std::pair<Shape, DType>> meta;
    for (const Tensor& o : outs) {
      check_defined(o, name.c_str());
      meta.emplace_back(o->shape, o->dtype);
    }
    const size_t n_inputs = ins.size();
    PyCallable callable(backward_fn);
    Node::Rule rule = [callable, meta, save, materialize_grads, n_inputs, name](
                          Node& node, const Grads& gs) -> Grads {
      py::gil_scoped_acquire gil;
      py::tuple grads(meta.size());
      for (size_t i = 0; i < meta.size(); ++i) {
        if (i < gs.size() && gs[i])
          grads[i] = py::cast(gs[i]);
        else if (materialize_grads)
          grads[i] = py::cast(zeros(meta[i].first, meta[i].second));
        else
          grads[i] = py::none();
      }
      py::list saved;
      for (size_t i = 0; i < save.size(); ++i)
        saved.append(save[i] ? py::cast(node.output(uint32_t(i))) : py::none());
      py::object result = callable.get()(grads, saved);
      auto list = to_tensor_list(result, name.c_str());
      Grads out(list.begin(), list.end());
      if (out.size() != n_inputs)
        throw RuntimeError("function " + name +
                           " returned an incorrect number of gradients "
                           "(expected " +
                           std::to_string(n_inputs) + ", got " + std::to_string(out.size()) + ")");
      return out;
    };
    return record_function(name, ins, outs, rule, differentiable, dirty, save);
  });
  // Pushes tangents through a Function's jvp at every active level.
  m.def("_function_jvp", [](py::object inputs, py::object outputs, py::function jvp_fn) {
    auto ins = to_tensor_list(inputs, "jvp");
    auto outs = to_tensor_list(outputs, "jvp");
    for (const Tensor& t : ins) check_defined(t, "jvp");
    for (const Tensor& t : outs) check_defined(t, "jvp");
    for (size_t k = 0; k < forward_levels(); ++k) {
      py::tuple tangents(ins.size());
      bool any = false;
      for (size_t i = 0; i < ins.size(); ++i) {
        Tensor t = ins[i] ? tangent_at(ins[i], k) : nullptr;
        any = any || t;
        tangents[i] = t ? py::cast(t) : py::cast(zeros(ins[i]->shape, ins[i]->dtype));
      }
      if (!any) continue;
      LevelLimitGuard limit(k);
      auto results = to_tensor_list(jvp_fn(tangents), "jvp");
      if (results.size() != outs.size())
        throw RuntimeError("jvp: expected " + std::to_string(outs.size()) +
                           " tangents, one per output, got " + std::to_string(results.size()));
      for (size_t i = 0; i < outs.size(); ++i)
        if (results[i]) set_tangent(outs[i], k, results[i]);
    }
  });
  m.def("_delayed_error", [](const Tensor& t, py::object inputs, const std::string& message) {
    return delayed_error(t, to_tensor_list(inputs, "once_differentiable"), message);
  });
  m.def("_has_tangents", [](const Tensor& t) { return has_tangents(t); });

  // ---- forward mode -------------------------------------------------------------------
  m.def("_enter_dual_level", &enter_dual_level);
  m.def("_exit_dual_level", &exit_dual_level);
  m.def("_forward_levels", &forward_levels);
  m.def("_make_dual", [](const Tensor& x, const Tensor& tangent, uint64_t level) {
    return make_dual(x, tangent, level_index(level));
  });
  m.def("_unpack_dual",
        [](const Tensor& t, uint64_t level) { return unpack_dual(t, level_index(level)); });
}

}  // namespace tapegrad
