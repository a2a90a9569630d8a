// The op table. Each op is registered once, next to its C++ function, with a
// schema (its Python spellings' arguments, types and defaults), the variants
// it is spelled as (tg.name, Tensor.name, Tensor.name_, operators) and its
// docstring. The Python bindings, the tapegrad namespace, the Tensor methods,
// the .pyi stub and the README's op list are all made from this table.
//
// Schema: "name(Tensor input, Operand other, *, Scalar alpha=1) -> Tensor".
// Argument types:
//   Tensor  Tensor?  Operand (a Tensor or a Python number/array)  Tensor[]  Tensor?[]
//   Scalar  Scalar?  int  int?  float  float?  bool  bool?  str  str?
//   int[]  int[]? (an int or a sequence)  int... (varargs ints or one sequence)
//   ScalarType? (a dtype)
// Returns: Tensor, Tensor[], (Tensor name, Tensor name) (a named tuple),
//   Scalar, int, float, bool, None.
// Variants (space separated): function, method, inplace (Tensor.name_),
//   a dunder (__add__: op(self, other)), r:__radd__ (op(other, self)),
//   i:__iadd__ (in place), also:other_name (one more name for every variant).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapegrad/tensor.h"

namespace tapegrad {

// One argument or result as it crosses the table.
struct Value {
  enum class Kind : uint8_t {
    None,
    Tensor,
    Scalar,
    Int,
    Double,
    Bool,
    String,
    IntList,
    TensorList,
    DType,
  };
  Kind kind = Kind::None;
  tapegrad::Tensor tensor;
  tapegrad::Scalar scalar;
  std::string str;
  Shape ints;
  std::vector<tapegrad::Tensor> tensors;
  tapegrad::DType dtype = tapegrad::DType::float32;

  Value() = default;
  Value(tapegrad::Tensor t) : kind(Kind::Tensor), tensor(std::move(t)) {}
  Value(tapegrad::Scalar s) : kind(Kind::Scalar), scalar(s) {}
  bool is_none() const { return kind == Kind::None; }
  int64_t to_int() const { return scalar.to_int(); }
  double to_double() const { return scalar.to_double(); }
  bool to_bool() const { return scalar.i != 0 || scalar.d != 0; }
};
using Args = SmallVector<Value, 6>;

enum class ArgType : uint8_t {
  Tensor,
  Operand,
  TensorList,
  OptionalTensorList,
  Scalar,
  Int,
  Float,
  Bool,
  String,
  IntList,
  IntVarargs,
  DType,
};

struct ArgSpec {
  std::string name;
  ArgType type;
  bool optional = false;  // '?': None is accepted
  bool keyword_only = false;
  bool has_default = false;
  Value default_value;
  std::string type_text;     // as written in the schema
  std::string default_text;  // as written in the schema
};

enum class ReturnKind : uint8_t { Tensor, TensorList, NamedTuple, Scalar, Int, Float, Bool, None };

struct Schema {
  std::string name;
  std::vector<ArgSpec> args;
  ReturnKind returns = ReturnKind::Tensor;
  std::vector<std::string> return_names;  // NamedTuple fields
  std::string text;
};
Schema parse_schema(const std::string& text);

struct OpDef {
  Schema schema;
  std::string name;  // the spelling (schema name or an also: name)
  bool function = false, method = false, inplace = false;
  std::vector<std::string> dunders, reflected, inplace_dunders;
  std::string doc;
  std::function<Value(Args&)> fn;
};

// Every registered op, in registration order (overloads share a name).
const std::vector<OpDef>& op_table();
bool register_op(const std::string& schema, const std::string& variants, const std::string& doc,
                 std::function<Value(Args&)> fn, size_t arity);

// Calls op with its first Tensor argument as the tensor written in place:
// checks, recording and the rebase of its history (recorder.h).
Value call_inplace(const OpDef& op, Args& args, const char* name);

// ---- typed C++ functions as table entries -------------------------------------------

namespace detail {
template <class T>
struct FromValue;
template <>
struct FromValue<Tensor> {
  static Tensor get(Value& v) { return std::move(v.tensor); }
};
template <>
struct FromValue<Scalar> {
  static Scalar get(Value& v) { return v.scalar; }
};
template <>
struct FromValue<std::optional<Scalar>> {
  static std::optional<Scalar> get(Value& v) {
    return v.is_none() ? std::nullopt : std::optional<Scalar>(v.scalar);
  }
};
template <>
struct FromValue<int64_t> {
  static int64_t get(Value& v) { return v.to_int(); }
};
template <>
struct FromValue<std::optional<int64_t>> {
  static std::optional<int64_t> get(Value& v) {
    return v.is_none() ? std::nullopt : std::optional<int64_t>(v.to_int());
  }
};
template <>
struct FromValue<double> {
  static double get(Value& v) { return v.to_double(); }
};
template <>
struct FromValue<std::optional<double>> {
  static std::optional<double> get(Value& v) {
    return v.is_none() ? std::nullopt : std::optional<double>(v.to_double());
  }
};
template <>
struct FromValue<bool> {
  static bool get(Value& v) { return v.to_bool(); }
};
template <>
struct FromValue<std::optional<bool>> {
  static std::optional<bool> get(Value& v) {
    return v.is_none() ? std::nullopt : std::optional<bool>(v.to_bool());
  }
};
template <>
struct FromValue<std::string> {
  static std::string get(Value& v) { return v.str; }
};
template <>
struct FromValue<std::optional<std::string>> {
  static std::optional<std::string> get(Value& v) {
    return v.is_none() ? std::nullopt : std::optional<std::string>(v.str);
  }
};
template <>
struct FromValue<Shape> {
  static Shape get(Value& v) { return std::move(v.ints); }
};
template <>
struct FromValue<std::optional<Shape>> {
  static std::optional<Shape> get(Value& v) {
    if (v.is_none()) return std::nullopt;
    return std::move(v.ints);
  }
};
template <>
struct FromValue<std::vector<Tensor>> {
  static std::vector<Tensor> get(Value& v) { return std::move(v.tensors); }
};
template <>
struct FromValue<DType> {
  static DType get(Value& v) { return v.dtype; }
};
template <>
struct FromValue<std::optional<DType>> {
  static std::optional<DType> get(Value& v) {
    return v.is_none() ? std::nullopt : std::optional<DType>(v.dtype);
  }
};

inline Value to_value(Value v) { return v; }
inline Value to_value(Tensor t) { return Value(std::move(t)); }
inline Value to_value(Scalar s) { return Value(s); }
inline Value to_value(double d) { return Value(Scalar(d)); }
inline Value to_value(int64_t i) { return Value(Scalar(i)); }
inline Value to_value(bool b) { return Value(Scalar(b)); }
inline Value to_value(std::vector<Tensor> ts) {
  Value v;
  v.kind = Value::Kind::TensorList;
  v.tensors = std::move(ts);
  return v;
}
template <class... Ts>
Value to_value(std::tuple<Ts...> t) {
  return to_value(std::apply([](auto&... x) { return std::vector<Tensor>{x...}; }, t));
}
inline Value to_value(std::pair<Tensor, Tensor> p) {
  return to_value(std::vector<Tensor>{p.first, p.second});
}

template <class Sig>
struct Traits;
template <class R, class... A>
struct Traits<R (*)(A...)> {
  using Return = R;
  using ArgsTuple = std::tuple<std::decay_t<A>...>;
  static constexpr size_t arity = sizeof...(A);
};
template <class C, class R, class... A>
struct Traits<R (C::*)(A...) const> : Traits<R (*)(A...)> {};
template <class F, class = void>
struct CallableTraits : Traits<decltype(&F::operator())> {};
template <class R, class... A>
struct CallableTraits<R (*)(A...)> : Traits<R (*)(A...)> {};

template <class F, size_t... I>
Value invoke(F& f, Args& args, std::index_sequence<I...>) {
  using Tr = CallableTraits<F>;
  using R = typename Tr::Return;
  if constexpr (std::is_void_v<R>) {
    f(FromValue<std::tuple_element_t<I, typename Tr::ArgsTuple>>::get(args[I])...);
    return Value();
  } else {
    return to_value(f(FromValue<std::tuple_element_t<I, typename Tr::ArgsTuple>>::get(args[I])...));
  }
}
}  // namespace detail

// register_op for a typed function or lambda: its parameters take the
// schema's arguments in order.
template <class F>
bool register_typed(const std::string& schema, const std::string& variants, const std::string& doc,
                    F f) {
  using Tr = detail::CallableTraits<F>;
  return register_op(
      schema, variants, doc,
      [f](Args& args) mutable {
        return detail::invoke(f, args, std::make_index_sequence<Tr::arity>{});
      },
      Tr::arity);
}

#define TG_CONCAT_INNER(a, b) a##b
#define TG_CONCAT(a, b) TG_CONCAT_INNER(a, b)
// TG_OP("exp(Tensor input) -> Tensor", "function method inplace", exp, R"(doc)");
#define TG_OP(schema, variants, fn, doc)                                   \
  [[maybe_unused]] static const bool TG_CONCAT(tg_registered_, __LINE__) = \
      ::tapegrad::register_typed(schema, variants, doc, fn)

}  // namespace tapegrad
