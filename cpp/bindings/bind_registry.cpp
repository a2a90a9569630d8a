// The op table as Python callables: tg.name, Tensor.name, Tensor.name_ and
// the operators. One callable type parses arguments against the ops'
// schemas (overloads in order) and converts results; nothing else.
#include <Python.h>

#include <sstream>
#include <unordered_map>

#include "common.h"

namespace tapegrad {

namespace {

enum class Mode : uint8_t { plain, reflected, inplace };

struct OpObject {
  PyObject_HEAD vectorcallfunc vectorcall;
  std::vector<const OpDef*>* overloads;
  std::string* cname;
  Mode mode;
  bool is_operator;  // a dunder: unsupported operands give NotImplemented
  PyObject* name;
  PyObject* doc;
  PyObject* signature;
  std::vector<PyObject*>* result_types;  // per overload: a namedtuple class, or null
};

// NumPy-compatible keyword spellings, as PyTorch accepts them.
const char* alias_of(const std::string& kw) {
  if (kw == "axis") return "dim";
  if (kw == "keepdims") return "keepdim";
  return nullptr;
}

std::string type_name(PyObject* obj) { return Py_TYPE(obj)->tp_name; }

PyObject* new_ref(PyObject* o) {
  Py_INCREF(o);
  return o;
}

// Converts obj for one argument; false with `error` set on a type mismatch.
bool convert(PyObject* obj, const ArgSpec& a, Value& out, std::string& error) {
  if (obj == Py_None) {
    if (a.optional) {
      out = Value();
      return true;
    }
    if (a.type != ArgType::TensorList && a.type != ArgType::OptionalTensorList) {
      error = "argument '" + a.name + "' must be " + a.type_text + ", not None";
      return false;
    }
  }
  switch (a.type) {
    case ArgType::Tensor:
      if (is_tensor(obj)) {
        out = Value(as_tensor(obj));
        return true;
      }
      break;
    case ArgType::Operand: {
      if (is_tensor(obj)) {
        out = Value(as_tensor(obj));
        return true;
      }
      Scalar s;
      if (to_scalar(obj, s)) {
        out = Value(wrapped_scalar(s));
        return true;
      }
      if (PyObject_HasAttrString(obj, "__array_interface__")) {
        out = Value(tensor_from_array(obj));
        return true;
      }
      break;
    }
    case ArgType::Scalar: {
      Scalar s;
      if (to_scalar(obj, s)) {
        out = Value(s);
        return true;
      }
      if (is_tensor(obj) && as_tensor(obj)->numel == 1) {
        out = Value(item_scalar(as_tensor(obj)));
        return true;
      }
      break;
    }
    case ArgType::Int: {
      int64_t i;
      if (to_int(obj, i)) {
        out = Value(Scalar(i));
        return true;
      }
      break;
    }
    case ArgType::Float:
      if (PyFloat_Check(obj) || (PyLong_Check(obj) && !PyBool_Check(obj)) ||
          (PyNumber_Check(obj) && !PyBool_Check(obj) && !is_tensor(obj) &&
           PyObject_HasAttrString(obj, "__float__"))) {
        double d = PyFloat_AsDouble(obj);
        if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        out = Value(Scalar(d));
        return true;
      }
      break;
    case ArgType::Bool:
      if (Scalar s; PyBool_Check(obj) || (!PyLong_Check(obj) && to_scalar(obj, s) && s.is_bool())) {
        out = Value(Scalar(bool(PyObject_IsTrue(obj))));
        return true;
      }
      break;
    case ArgType::String:
      if (PyUnicode_Check(obj)) {
        out.kind = Value::Kind::String;
        out.str = PyUnicode_AsUTF8(obj);
        return true;
      }
      break;
    case ArgType::IntList:
    case ArgType::IntVarargs: {
      int64_t i;
      if (to_int(obj, i)) {
        out.kind = Value::Kind::IntList;
        out.ints = {i};
        return true;
      }
      if (PyTuple_Check(obj) || PyList_Check(obj)) {
        out.kind = Value::Kind::IntList;
        out.ints.clear();
        py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
        for (py::handle h : seq) {
          if (!to_int(h.ptr(), i)) {
            error = "argument '" + a.name +
                    "' must be a tuple of ints, but found element of "
                    "type " +
                    type_name(h.ptr());
            return false;
          }
          out.ints.push_back(i);
        }
        return true;
      }
      break;
    }
    case ArgType::TensorList:
    case ArgType::OptionalTensorList:
      if (PyTuple_Check(obj) || PyList_Check(obj)) {
        out.kind = Value::Kind::TensorList;
        out.tensors.clear();
        py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
        for (py::handle h : seq) {
          if (is_tensor(h.ptr())) {
            out.tensors.push_back(as_tensor(h.ptr()));
          } else if (h.is_none() && a.type == ArgType::OptionalTensorList) {
            out.tensors.push_back(nullptr);
          } else {
            error = "argument '" + a.name + "' must be " + a.type_text +
                    ", but found element "
                    "of type " +
                    type_name(h.ptr());
            return false;
          }
        }
        return true;
      }
      break;
    case ArgType::DType:
      if (py::isinstance<DType>(obj)) {
        out.kind = Value::Kind::DType;
        out.dtype = py::handle(obj).cast<DType>();
        return true;
      }
      break;
  }
  error = "argument '" + a.name + "' must be " + a.type_text + ", not " + type_name(obj);
  return false;
}

// Fills `out` from Python arguments per the schema; false with `error` set
// when they do not fit it.
bool parse(const Schema& s, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, Args& out,
           std::string& error) {
  const size_t n = s.args.size();
  out.assign(n, Value());
  std::vector<char> filled(n, 0);
  size_t p = 0;  // next positional parameter
  for (Py_ssize_t i = 0; i < nargs; ++i, ++p) {
    while (p < n && s.args[p].keyword_only) ++p;
    if (p >= n) {
      size_t positional = 0;
      for (const ArgSpec& a : s.args) positional += !a.keyword_only;
      error = "takes " + std::to_string(positional) + " positional argument" +
              (positional == 1 ? "" : "s") + " but " + std::to_string(nargs) + " were given";
      return false;
    }
    const ArgSpec& a = s.args[p];
    int64_t first;
    if (a.type == ArgType::IntVarargs && to_int(args[i], first)) {
      // f(2, 3) as f((2, 3)): the remaining positionals are the ints
      out[p].kind = Value::Kind::IntList;
      out[p].ints = {first};
      for (++i; i < nargs; ++i) {
        int64_t v;
        if (!to_int(args[i], v)) {
          error = "argument '" + a.name +
                  "' must be a sequence of ints, but found element of "
                  "type " +
                  type_name(args[i]);
          return false;
        }
        out[p].ints.push_back(v);
      }
      filled[p] = 1;
      break;
    }
    if (!convert(args[i], a, out[p], error)) return false;
    filled[p] = 1;
  }
  if (kwnames) {
    const Py_ssize_t nk = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nk; ++k) {
      std::string key = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k));
      size_t at = n;
      for (size_t j = 0; j < n && at == n; ++j)
        if (s.args[j].name == key) at = j;
      if (at == n)
        if (const char* alias = alias_of(key))
          for (size_t j = 0; j < n && at == n; ++j)
            if (s.args[j].name == alias) at = j;
      if (at == n) {
        error = "got an unexpected keyword argument '" + key + "'";
        return false;
      }
      if (filled[at]) {
        error = "got multiple values for argument '" + s.args[at].name + "'";
        return false;
      }
      if (!convert(args[nargs + k], s.args[at], out[at], error)) return false;
      filled[at] = 1;
    }
  }
  for (size_t j = 0; j < n; ++j) {
    if (filled[j]) continue;
    if (!s.args[j].has_default) {
      error = "missing required argument '" + s.args[j].name + "'";
      return false;
    }
    out[j] = s.args[j].default_value;
  }
  return true;
}

int64_t work_of(const Args& args) {
  int64_t w = 0;
  for (const Value& v : args) {
    if (v.tensor) w = std::max(w, v.tensor->numel);
    for (const Tensor& t : v.tensors)
      if (t) w = std::max(w, t->numel);
  }
  return w;
}

PyObject* to_python(Value&& v, PyObject* result_type) {
  switch (v.kind) {
    case Value::Kind::None:
      Py_RETURN_NONE;
    case Value::Kind::Tensor:
      return py::cast(std::move(v.tensor)).release().ptr();
    case Value::Kind::TensorList: {
      py::tuple t(v.tensors.size());
      for (size_t i = 0; i < v.tensors.size(); ++i) t[i] = py::cast(v.tensors[i]);
      if (result_type) return PyObject_CallObject(result_type, t.ptr());
      return t.release().ptr();
    }
    case Value::Kind::Scalar:
      if (v.scalar.is_bool()) return py::bool_(v.scalar.i != 0).release().ptr();
      if (v.scalar.is_floating()) return PyFloat_FromDouble(v.scalar.d);
      return PyLong_FromLongLong(v.scalar.i);
    default:
      throw std::logic_error("op table: unexpected result kind");
  }
}

std::string describe_call(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  std::string s = "(";
  for (Py_ssize_t i = 0; i < nargs; ++i) s += (i ? ", " : "") + type_name(args[i]);
  if (kwnames)
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kwnames); ++k)
      s += std::string(nargs + k ? ", " : "") + PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k)) +
           "=" + type_name(args[nargs + k]);
  return s + ")";
}

PyObject* op_call(PyObject* callable, PyObject* const* args_in, size_t nargsf, PyObject* kwnames) {
  auto* self = reinterpret_cast<OpObject*>(callable);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  try {
    // reflected operators: other (op) self, the number or array on the
    // left made a tensor like any operand
    PyObject* swapped[2];
    PyObject* const* args = args_in;
    py::object left;
    if (self->mode == Mode::reflected) {
      if (nargs != 2 || kwnames) return new_ref(Py_NotImplemented);
      if (is_tensor(args_in[1])) {
        left = py::reinterpret_borrow<py::object>(args_in[1]);
      } else {
        Scalar s;
        if (to_scalar(args_in[1], s))
          left = py::cast(wrapped_scalar(s));
        else if (PyObject_HasAttrString(args_in[1], "__array_interface__"))
          left = py::cast(tensor_from_array(args_in[1]));
        else
          return new_ref(Py_NotImplemented);
      }
      swapped[0] = left.ptr();
      swapped[1] = args_in[0];
      args = swapped;
    }
    const std::string& name = *self->cname;
    std::string first_error;
    Args values;
    for (const OpDef* const& op : *self->overloads) {
      std::string error;
      if (!parse(op->schema, args, nargs, kwnames, values, error)) {
        if (first_error.empty()) first_error = error;
        continue;
      }
      Value result = maybe_release(work_of(values), [&]() -> Value {
        return self->mode == Mode::inplace ? call_inplace(*op, values, name.c_str())
                                           : op->fn(values);
      });
      return to_python(std::move(result), (*self->result_types)[&op - self->overloads->data()]);
    }
    if (self->is_operator) return new_ref(Py_NotImplemented);
    if (self->overloads->size() == 1) {
      PyErr_SetString(PyExc_TypeError, (name + "(): " + first_error).c_str());
    } else {
      std::string msg = name + "() received an invalid combination of arguments - got " +
                        describe_call(args, nargs, kwnames) + ", but expected one of:";
      for (const OpDef* op : *self->overloads) msg += "\n * " + op->schema.text;
      PyErr_SetString(PyExc_TypeError, msg.c_str());
    }
    return nullptr;
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

PyObject* op_descr_get(PyObject* self, PyObject* obj, PyObject*) {
  if (!obj || obj == Py_None) return new_ref(self);
  return PyMethod_New(self, obj);
}

void op_dealloc(PyObject* self) {
  auto* o = reinterpret_cast<OpObject*>(self);
  Py_XDECREF(o->name);
  Py_XDECREF(o->doc);
  Py_XDECREF(o->signature);
  for (PyObject* t : *o->result_types) Py_XDECREF(t);
  delete o->result_types;
  delete o->overloads;
  delete o->cname;
  Py_TYPE(self)->tp_free(self);
}

PyObject* op_get_name(PyObject* self, void*) {
  return new_ref(reinterpret_cast<OpObject*>(self)->name);
}
PyObject* op_get_doc(PyObject* self, void*) {
  return new_ref(reinterpret_cast<OpObject*>(self)->doc);
}
PyObject* op_get_signature(PyObject* self, void*) {
  return new_ref(reinterpret_cast<OpObject*>(self)->signature);
}
PyObject* op_get_schemas(PyObject* self, void*) {
  auto* o = reinterpret_cast<OpObject*>(self);
  py::list out;
  for (const OpDef* op : *o->overloads) out.append(op->schema.text);
  return out.release().ptr();
}

PyGetSetDef op_getset[] = {{"__name__", op_get_name, nullptr, nullptr, nullptr},
                           {"__qualname__", op_get_name, nullptr, nullptr, nullptr},
                           {"__doc__", op_get_doc, nullptr, nullptr, nullptr},
                           {"__text_signature__", op_get_signature, nullptr, nullptr, nullptr},
                           {"_schemas", op_get_schemas, nullptr, nullptr, nullptr},
                           {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyTypeObject op_type = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "tapegrad._core.op";
  t.tp_basicsize = sizeof(OpObject);
  t.tp_dealloc = op_dealloc;
  t.tp_vectorcall_offset = offsetof(OpObject, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR;
  t.tp_descr_get = op_descr_get;
  t.tp_getset = op_getset;
  t.tp_doc = "A tapegrad op: parses its arguments against the op table's schemas.";
  return t;
}();

// "(input, other, *, alpha=1)" for inspect.signature; methods name self.
std::string text_signature(const Schema& s, bool method) {
  std::string out = "(";
  bool star = false;
  for (size_t i = 0; i < s.args.size(); ++i) {
    const ArgSpec& a = s.args[i];
    if (i) out += ", ";
    if (a.keyword_only && !star) {
      out += "*, ";
      star = true;
    }
    std::string name = (i == 0 && method) ? "$self" : a.name;
    if (a.type == ArgType::IntVarargs && !a.has_default) name = "*" + a.name;
    out += name;
    if (a.has_default) {
      std::string d = a.default_text;
      if (d.front() == '[') d = "(" + d.substr(1, d.size() - 2) + (d.size() > 2 ? ",)" : ")");
      out += "=" + d;
    }
  }
  return out + ")";
}

py::object make_op(const std::string& name, std::vector<const OpDef*> overloads, Mode mode,
                   bool is_operator, bool method) {
  auto* o = PyObject_New(OpObject, &op_type);
  o->vectorcall = op_call;
  o->overloads = new std::vector<const OpDef*>(std::move(overloads));
  o->cname = new std::string(name);
  o->mode = mode;
  o->is_operator = is_operator;
  o->name = PyUnicode_FromString(name.c_str());
  const OpDef& first = *o->overloads->front();
  std::string doc = first.doc;
  if (mode == Mode::inplace) doc = "In-place version of " + first.name + ":\n\n" + doc;
  o->doc = PyUnicode_FromString(doc.c_str());
  o->signature = PyUnicode_FromString(text_signature(first.schema, method).c_str());
  o->result_types = new std::vector<PyObject*>();
  for (const OpDef* op : *o->overloads) {
    PyObject* type = nullptr;
    if (op->schema.returns == ReturnKind::NamedTuple) {
      py::list fields;
      for (const std::string& f : op->schema.return_names) fields.append(f);
      type =
          py::module_::import("collections").attr("namedtuple")(op->name, fields).release().ptr();
    }
    o->result_types->push_back(type);
  }
  return py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(o));
}

}  // namespace

void bind_registry(py::module_& m) {
  if (PyType_Ready(&op_type) < 0) throw py::error_already_set();
  py::object cls = m.attr("Tensor");
  // ops by spelling, overloads in registration order
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<const OpDef*>> by_name;
  for (const OpDef& op : op_table()) {
    if (!by_name.count(op.name)) order.push_back(op.name);
    by_name[op.name].push_back(&op);
  }
  py::list functions, methods;
  for (const std::string& name : order) {
    const auto& ops = by_name[name];
    auto pick = [&](auto pred) {
      std::vector<const OpDef*> out;
      for (const OpDef* op : ops)
        if (pred(*op)) out.push_back(op);
      return out;
    };
    if (auto f = pick([](const OpDef& op) { return op.function; }); !f.empty()) {
      m.attr(name.c_str()) = make_op(name, f, Mode::plain, false, false);
      functions.append(name);
    }
    if (auto f = pick([](const OpDef& op) { return op.method; }); !f.empty()) {
      cls.attr(name.c_str()) = make_op(name, f, Mode::plain, false, true);
      methods.append(name);
    }
    if (auto f = pick([](const OpDef& op) { return op.inplace; }); !f.empty()) {
      cls.attr((name + "_").c_str()) = make_op(name + "_", f, Mode::inplace, false, true);
      methods.append(name + "_");
    }
    std::unordered_map<std::string, std::pair<Mode, std::vector<const OpDef*>>> dunders;
    for (const OpDef* op : ops) {
      auto add = [&](const std::string& d, Mode mode) {
        dunders[d].first = mode;
        dunders[d].second.push_back(op);
      };
      for (const std::string& d : op->dunders) add(d, Mode::plain);
      for (const std::string& d : op->reflected) add(d, Mode::reflected);
      for (const std::string& d : op->inplace_dunders) add(d, Mode::inplace);
    }
    for (auto& [d, entry] : dunders) {
      cls.attr(d.c_str()) = make_op(d, entry.second, entry.first, true, true);
      methods.append(d);
    }
  }
  m.attr("_op_functions") = functions;
  m.attr("_op_methods") = methods;
  m.def("_op_table", [] {
    py::list out;
    for (const OpDef& op : op_table()) {
      py::dict d;
      d["name"] = op.name;
      d["schema"] = op.schema.text;
      d["function"] = op.function;
      d["method"] = op.method;
      d["inplace"] = op.inplace;
      d["dunders"] = op.dunders;
      d["reflected"] = op.reflected;
      d["inplace_dunders"] = op.inplace_dunders;
      d["doc"] = op.doc;
      out.append(d);
    }
    return out;
  });
}

}  // namespace tapegrad
