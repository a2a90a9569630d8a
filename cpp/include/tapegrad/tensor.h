// Tensors: dtype, shape and strides over refcounted storage, and the autograd
// fields. A tensor is (storage, offset, shape, strides): views share storage
// and its version counter with their base, as in PyTorch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tapegrad/small_vector.h"

namespace tapegrad {

// Typed errors; the bindings map them to Python exceptions:
// ValueError (bad values), TypeError, IndexError, RuntimeError (shape
// mismatches where PyTorch raises it, and autograd misuse), MemoryError
// (std::bad_alloc), NotImplementedError.
struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct IndexError : std::out_of_range {
  using std::out_of_range::out_of_range;
};
struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
using AutogradError = RuntimeError;
struct NotImplementedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- dtypes -------------------------------------------------------------------

enum class DType : int8_t { float32 = 0, float64 = 1, int64 = 2, int32 = 3, bool_ = 4 };
constexpr int kNumDTypes = 5;

const char* dtype_name(DType dt);  // "float32", ..., "bool"
size_t dtype_size(DType dt);
inline bool is_floating(DType dt) { return dt == DType::float32 || dt == DType::float64; }
inline bool is_integral(DType dt) { return dt == DType::int64 || dt == DType::int32; }
// PyTorch's promotion of two dtypes: bool < int32 < int64 < float32 < float64.
DType promote(DType a, DType b);
// The dtype Python floats and floating creation functions default to
// (tg.set_default_dtype); float32 unless changed.
DType default_dtype();
void set_default_dtype(DType dt);

// ---- shapes -------------------------------------------------------------------

using Shape = SmallVector<int64_t, 6>;
using Strides = Shape;  // in elements
std::string shape_str(const Shape& s);
// The element count, checked: negative sizes are a ValueError and counts
// past 2^60 a RuntimeError, before anything is allocated.
int64_t numel_of(const Shape& s, const char* op);
Strides contiguous_strides(const Shape& shape);
// dim wrapped into [0, ndim); a 0-d tensor accepts -1 and 0 only where
// `scalar_ok` (reductions), as PyTorch. IndexError otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op, bool scalar_ok = true);

// ---- Python numbers -------------------------------------------------------------

// A Python number as it arrives in an op: its kind decides type promotion
// (an int keeps an integer tensor's dtype, a float makes it floating).
struct Scalar {
  enum class Kind : uint8_t { Bool, Int, Double };
  Kind kind = Kind::Double;
  int64_t i = 0;
  double d = 0;
  Scalar() = default;
  Scalar(double v) : kind(Kind::Double), d(v) {}
  Scalar(int64_t v) : kind(Kind::Int), i(v) {}
  Scalar(int v) : kind(Kind::Int), i(v) {}
  Scalar(bool v) : kind(Kind::Bool), i(v) {}
  double to_double() const { return kind == Kind::Double ? d : double(i); }
  int64_t to_int() const { return kind == Kind::Double ? int64_t(d) : i; }
  bool is_floating() const { return kind == Kind::Double; }
  bool is_bool() const { return kind == Kind::Bool; }
  // float64, int64 or bool: the dtype of its wrapped tensor
  DType dtype() const {
    return kind == Kind::Double ? DType::float64 : kind == Kind::Int ? DType::int64 : DType::bool_;
  }
};

// ---- storage ---------------------------------------------------------------------

// A flat buffer with the version counter of every tensor that shares it.
// Owned buffers are 64-byte aligned; a buffer borrowed from NumPy or another
// storage is released through `release` instead.
// Owned buffers of 1 MiB and more come from (and go back to) a cache of large
// blocks, so that a temporary of the same size as the last one does not fault
// its pages in again (see tensor.cpp).
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  size_t capacity = 0;                 // of the cached block behind `data`, or 0
  std::function<void(void*)> release;  // empty for owned buffers
  std::atomic<uint32_t> version{0};
  // Up to 64 bytes (a scalar, a short vector) live here, in the Storage's own
  // allocation: small tensors cost one allocation less. (16-byte alignment:
  // over-aligned types would make every Storage allocation an aligned one.)
  alignas(16) unsigned char small[64];
  explicit Storage(size_t nbytes);  // allocates, throws std::bad_alloc
  Storage(void* data, size_t nbytes, std::function<void(void*)> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct Node;
struct TensorImpl;
using Tensor = std::shared_ptr<TensorImpl>;
struct TensorExtras;  // hooks and forward-mode tangents, allocated on first use

[[noreturn]] void throw_not_contiguous(const TensorImpl& t);

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Strides strides;
  int64_t numel = 0;
  DType dtype = DType::float32;
  bool contiguous = true;  // row-major dense: cached from shape and strides
  // A Python number converted for an op: it only decides the result dtype
  // when it is of a higher category than the tensors (PyTorch's wrapped numbers).
  bool wrapped_number = false;

  // Autograd. A leaf has no grad_fn; a non-leaf's grad_fn is the node that
  // produced it, output_nr its output there. A node never holds its own output
  // (see Node::output), so there are no reference cycles.
  bool requires_grad = false;
  uint32_t output_nr = 0;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  // A view's base (the tensor owning the storage, never itself a view) and
  // the storage version its grad_fn was made at: after an in-place write
  // through another view, the grad_fn is rebuilt from the base's (see
  // autograd_fn in recorder.h).
  Tensor view_base;
  uint32_t view_version = 0;

  std::unique_ptr<TensorExtras> extras;

  TensorImpl();
  ~TensorImpl();

  int64_t ndim() const { return static_cast<int64_t>(shape.size()); }
  bool is_leaf() const { return grad_fn == nullptr; }
  bool is_view() const { return view_base != nullptr; }
  uint32_t version() const { return storage->version.load(std::memory_order_relaxed); }
  void bump_version() { storage->version.fetch_add(1, std::memory_order_relaxed); }
  TensorExtras& ensure_extras();

  // The first element, for kernels that walk strides themselves.
  template <class T>
  T* ptr() const {
    return static_cast<T*>(storage->data) + offset;
  }
  // The data of a contiguous tensor; kernels make strided inputs contiguous
  // first (or walk them with ptr() and strides).
  template <class T>
  T* data() const {
    if (!contiguous) throw_not_contiguous(*this);
    return ptr<T>();
  }
  void* raw() const {
    if (!contiguous) throw_not_contiguous(*this);
    return static_cast<char*>(storage->data) + offset * int64_t(dtype_size(dtype));
  }
  void* raw_ptr() const {
    return static_cast<char*>(storage->data) + offset * int64_t(dtype_size(dtype));
  }
  // Recomputes `contiguous` after shape or strides change.
  void refresh_contiguous();
};

// PyTorch's result type of an op on tensors: dimensioned tensors, then 0-d
// tensors, then wrapped numbers, each deciding only when of a higher
// category (bool < integer < floating) than the ones before.
DType result_type(std::initializer_list<const TensorImpl*> operands);
inline DType result_type(const TensorImpl& a, const TensorImpl& b) { return result_type({&a, &b}); }

// ---- creation (all results contiguous) ----------------------------------------

Tensor empty(const Shape& shape, DType dt);
Tensor zeros(const Shape& shape, DType dt);
Tensor full(const Shape& shape, Scalar value, DType dt);
Tensor scalar_tensor(double value, DType dt);
// A Python number as a 0-d tensor that type promotion treats as a number.
Tensor wrapped_scalar(Scalar value);
// Values are written through the dtype's C++ type (double -> T).
Tensor arange(double start, double end, double step, DType dt);
Tensor eye(int64_t n, int64_t m, DType dt);

// A tensor over `t`'s storage with another geometry (shape, strides, offset);
// outside autograd. Views use make_view (recorder.h), which also records.
Tensor alias_with(const Tensor& t, const Shape& shape, const Strides& strides, int64_t offset);
Tensor alias(const Tensor& t);  // same geometry
// A contiguous copy with fresh storage, outside autograd.
Tensor copy_data(const Tensor& t);
// x itself when contiguous, else a contiguous copy; outside autograd.
Tensor contiguous_data(const Tensor& t);
// Writes src (broadcast to dst's shape, cast to dst's dtype) into dst's
// elements, any layout on either side; outside autograd.
void copy_into(const Tensor& dst, const Tensor& src);
double item(const Tensor& t);
// t.data: the same memory outside autograd, with a version counter of its own
// (as PyTorch's .data, unlike detach()).
Tensor data_of(const Tensor& t);
// t.data = value: t takes value's memory, shape and dtype and keeps its
// identity (what Module.double() relies on).
void set_data(const Tensor& t, const Tensor& value);
// t.grad = g, checked against t's shape and dtype.
void set_grad(const Tensor& t, const Tensor& g);
Scalar item_scalar(const Tensor& t);

// Returns every cached large block to the system (see Storage).
void release_cached_blocks();

// Threads the kernels (and the BLAS) may use.
void set_num_threads(int n);
int get_num_threads();

// Checks shared by ops.
void check_defined(const Tensor& t, const char* op);
void check_floating(const Tensor& t, const char* op);

}  // namespace tapegrad
