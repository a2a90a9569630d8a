#include "tapegrad/registry.h"

#include <cctype>
#include <cmath>
#include <sstream>

#include "tapegrad/recorder.h"

namespace tapegrad {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_top(const std::string& s, char sep) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (c == sep && depth == 0) {
      parts.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) parts.push_back(trim(cur));
  return parts;
}

[[noreturn]] void bad_schema(const std::string& text, const std::string& why) {
  throw std::logic_error("op table: bad schema '" + text + "': " + why);
}

Value parse_default(const std::string& text, const ArgSpec& arg, const std::string& schema) {
  Value v;
  if (text == "None") return v;
  if (text == "True" || text == "False") {
    v.kind = Value::Kind::Scalar;
    v.scalar = Scalar(text == "True");
    return v;
  }
  if (arg.type == ArgType::String) {
    if (text.size() < 2 || text.front() != '"' || text.back() != '"')
      bad_schema(schema, "string defaults are written in double quotes");
    v.kind = Value::Kind::String;
    v.str = text.substr(1, text.size() - 2);
    return v;
  }
  if (arg.type == ArgType::IntList) {
    v.kind = Value::Kind::IntList;
    std::string inner = text;
    if (!inner.empty() && inner.front() == '[') inner = inner.substr(1, inner.size() - 2);
    for (const std::string& item : split_top(inner, ',')) v.ints.push_back(std::stoll(item));
    return v;
  }
  v.kind = Value::Kind::Scalar;
  const bool floating =
      text.find_first_of(".eEn") != std::string::npos && text.find("0x") == std::string::npos;
  if (text == "inf" || text == "-inf")
    v.scalar = Scalar(text == "inf" ? HUGE_VAL : -HUGE_VAL);
  else if (floating || arg.type == ArgType::Float)
    v.scalar = Scalar(std::stod(text));
  else
    v.scalar = Scalar(int64_t(std::stoll(text)));
  return v;
}

ArgType parse_type(std::string t, bool& optional, const std::string& schema) {
  optional = false;
  if (!t.empty() && t.back() == '?') {
    optional = true;
    t.pop_back();
  }
  if (t == "Tensor") return ArgType::Tensor;
  if (t == "Operand") return ArgType::Operand;
  if (t == "Tensor[]") return ArgType::TensorList;
  if (t == "Tensor?[]") return ArgType::OptionalTensorList;
  if (t == "Scalar") return ArgType::Scalar;
  if (t == "int") return ArgType::Int;
  if (t == "float") return ArgType::Float;
  if (t == "bool") return ArgType::Bool;
  if (t == "str") return ArgType::String;
  if (t == "int[]") return ArgType::IntList;
  if (t == "int...") return ArgType::IntVarargs;
  if (t == "ScalarType") return ArgType::DType;
  bad_schema(schema, "unknown type " + t);
}

std::vector<OpDef>& table() {
  static std::vector<OpDef> ops;
  return ops;
}

}  // namespace

Schema parse_schema(const std::string& text) {
  Schema s;
  s.text = text;
  size_t open = text.find('('), arrow = text.rfind("->");
  size_t close = text.rfind(')', arrow);
  if (open == std::string::npos || arrow == std::string::npos || close == std::string::npos)
    bad_schema(text, "expected name(args) -> result");
  s.name = trim(text.substr(0, open));
  bool kwonly = false;
  for (const std::string& part : split_top(text.substr(open + 1, close - open - 1), ',')) {
    if (part == "*") {
      kwonly = true;
      continue;
    }
    ArgSpec a;
    std::string decl = part;
    size_t eq = decl.find('=');
    if (eq != std::string::npos) {
      a.default_text = trim(decl.substr(eq + 1));
      decl = trim(decl.substr(0, eq));
      a.has_default = true;
    }
    size_t space = decl.rfind(' ');
    if (space == std::string::npos) bad_schema(text, "argument without a type: " + part);
    a.type_text = trim(decl.substr(0, space));
    a.name = trim(decl.substr(space + 1));
    a.type = parse_type(a.type_text, a.optional, text);
    a.keyword_only = kwonly;
    if (a.has_default) a.default_value = parse_default(a.default_text, a, text);
    s.args.push_back(std::move(a));
  }
  std::string ret = trim(text.substr(arrow + 2));
  if (ret == "Tensor")
    s.returns = ReturnKind::Tensor;
  else if (ret == "Tensor[]")
    s.returns = ReturnKind::TensorList;
  else if (ret == "Scalar")
    s.returns = ReturnKind::Scalar;
  else if (ret == "int")
    s.returns = ReturnKind::Int;
  else if (ret == "float")
    s.returns = ReturnKind::Float;
  else if (ret == "bool")
    s.returns = ReturnKind::Bool;
  else if (ret == "None")
    s.returns = ReturnKind::None;
  else if (ret.size() > 2 && ret.front() == '(') {
    s.returns = ReturnKind::NamedTuple;
    for (const std::string& field : split_top(ret.substr(1, ret.size() - 2), ',')) {
      size_t space = field.rfind(' ');
      if (space == std::string::npos) bad_schema(text, "named results need names");
      s.return_names.push_back(trim(field.substr(space + 1)));
    }
  } else {
    bad_schema(text, "unknown result " + ret);
  }
  return s;
}

const std::vector<OpDef>& op_table() { return table(); }

bool register_op(const std::string& schema_text, const std::string& variants,
                 const std::string& doc, std::function<Value(Args&)> fn, size_t arity) {
  OpDef op;
  op.schema = parse_schema(schema_text);
  if (op.schema.args.size() != arity)
    bad_schema(schema_text, "the C++ function takes " + std::to_string(arity) + " arguments");
  op.doc = doc;
  op.fn = std::move(fn);
  std::vector<std::string> names{op.schema.name};
  std::istringstream words(variants);
  std::string w;
  while (words >> w) {
    if (w == "function")
      op.function = true;
    else if (w == "method")
      op.method = true;
    else if (w == "inplace")
      op.inplace = true;
    else if (w.rfind("r:", 0) == 0)
      op.reflected.push_back(w.substr(2));
    else if (w.rfind("i:", 0) == 0)
      op.inplace_dunders.push_back(w.substr(2));
    else if (w.rfind("also:", 0) == 0)
      names.push_back(w.substr(5));
    else if (w.size() > 4 && w.rfind("__", 0) == 0)
      op.dunders.push_back(w);
    else
      bad_schema(schema_text, "unknown variant " + w);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    OpDef copy = op;
    copy.name = names[i];
    if (i > 0) copy.dunders.clear(), copy.reflected.clear(), copy.inplace_dunders.clear();
    table().push_back(std::move(copy));
  }
  return true;
}

Value call_inplace(const OpDef& op, Args& args, const char* name) {
  size_t self_at = 0;
  while (self_at < args.size() && args[self_at].kind != Value::Kind::Tensor) ++self_at;
  if (self_at == args.size()) throw TypeError(std::string(name) + ": expected a Tensor to update");
  Tensor self = args[self_at].tensor;
  check_inplace(self, name);
  bool recording = false;
  if (grad_enabled())
    for (const Value& v : args) {
      recording = recording || (v.tensor && v.tensor->requires_grad);
      for (const Tensor& t : v.tensors) recording = recording || (t && t->requires_grad);
    }
  args[self_at].tensor = inplace_input(self, recording);
  Value result = op.fn(args);
  if (result.kind != Value::Kind::Tensor)
    throw std::logic_error(std::string(name) + ": the op does not return a tensor");
  commit_inplace(self, result.tensor, name);
  return Value(self);
}

}  // namespace tapegrad
