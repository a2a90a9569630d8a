// Tensors: dtype, shape, refcounted aligned storage, and the autograd fields.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace tapegrad {

// Typed errors; the bindings map them to Python exceptions:
// ValueError (bad shapes or values), TypeError, IndexError, RuntimeError
// (autograd misuse), MemoryError (std::bad_alloc).
struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct IndexError : std::out_of_range {
  using std::out_of_range::out_of_range;
};
struct AutogradError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class DType : int8_t { float32 = 0, float64 = 1, int64 = 2 };

const char* dtype_name(DType dt);
size_t dtype_size(DType dt);
inline bool is_floating(DType dt) { return dt != DType::int64; }
// PyTorch's promotion between two tensor dtypes of this library.
DType promote(DType a, DType b);

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t numel_of(const Shape& s, const char* op);
struct TensorImpl;
// PyTorch's result type of an op on two tensors: a 0-d tensor (or a Python
// scalar, which arrives as one) only decides the dtype when it is of a
// higher kind (floating over int64) than the dimensioned tensor.
DType result_type(const TensorImpl& a, const TensorImpl& b);

// A flat buffer. Owned buffers are 64-byte aligned; a buffer borrowed from
// NumPy (tg.from_numpy) is released through `release` instead. Owned buffers
// of 1 MiB and more come from (and go back to) a cache of large blocks, so
// that a temporary of the same size as the last one does not fault its pages
// in again (see tensor.cpp).
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  size_t capacity = 0;                 // of the cached block behind `data`, or 0
  std::function<void(void*)> release;  // empty for owned buffers
  Storage(size_t nbytes);              // allocates, throws std::bad_alloc
  Storage(void* data, size_t nbytes, std::function<void(void*)> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct Node;
struct TensorImpl;
using Tensor = std::shared_ptr<TensorImpl>;
// Drops a node without recursing through the graph behind it (engine.cpp).
void release_node(std::shared_ptr<Node>& node) noexcept;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  int64_t numel = 0;
  DType dtype = DType::float32;

  // Autograd. A leaf has no grad_fn; a non-leaf's grad_fn is the node that
  // produced it. A node never holds its own output (see Node::output), so
  // there are no reference cycles.
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  // Forward mode: the tangent (dual part) carried alongside the value while
  // a forward-mode computation is active.
  Tensor tangent;

  // Releases grad_fn through release_node: a tensor saved by a node holds the
  // node before it, so tensors chain graphs as edges do. (Inline: most
  // tensors have no grad_fn, and this runs for every tensor.)
  ~TensorImpl() {
    if (grad_fn) release_node(grad_fn);
  }

  int64_t ndim() const { return static_cast<int64_t>(shape.size()); }
  template <class T>
  T* data() const {
    return static_cast<T*>(storage->data);
  }
  void* raw() const { return storage->data; }
  bool is_leaf() const { return grad_fn == nullptr; }
};

// Creation. All results are contiguous row-major.
Tensor empty(const Shape& shape, DType dt);
Tensor zeros(const Shape& shape, DType dt);
Tensor full(const Shape& shape, double value, DType dt);
Tensor scalar_tensor(double value, DType dt);
Tensor arange(double start, double end, double step, DType dt);
Tensor eye(int64_t n, int64_t m, DType dt);
Tensor rand(const Shape& shape, DType dt);
Tensor randn(const Shape& shape, DType dt);
void manual_seed(uint64_t seed);
// The generator's full state as text, to save in a checkpoint and restore.
std::string get_rng_state();
void set_rng_state(const std::string& state);
// A tensor that shares `t`'s storage under another shape (same numel).
Tensor alias(const Tensor& t, const Shape& shape);
// A copy with fresh storage, outside autograd.
Tensor copy_data(const Tensor& t);
double item(const Tensor& t);

// Returns every cached large block to the system (see Storage).
void release_cached_blocks();

// Threads the kernels (and the BLAS) may use.
void set_num_threads(int n);
int get_num_threads();

// Checks shared by ops.
void check_defined(const Tensor& t, const char* op);
void check_floating(const Tensor& t, const char* op);
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// t.size(dim), with dim checked: unlike other dim arguments, [-1, 0] is not
// accepted for a 0-d tensor (as PyTorch's size(), which does not wrap scalars).
int64_t size_at(const Tensor& t, int64_t dim);

}  // namespace tapegrad
