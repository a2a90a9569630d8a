#include "tapegrad/tensor.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <sstream>
#include <thread>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "kernels.h"
#include "tapegrad/node.h"

namespace tapegrad {

// ---- dtypes -------------------------------------------------------------------

const char* dtype_name(DType dt) {
  switch (dt) {
    case DType::float32:
      return "float32";
    case DType::float64:
      return "float64";
    case DType::int64:
      return "int64";
    case DType::int32:
      return "int32";
    default:
      return "bool";
  }
}

size_t dtype_size(DType dt) {
  switch (dt) {
    case DType::float32:
    case DType::int32:
      return 4;
    case DType::bool_:
      return 1;
    default:
      return 8;
  }
}

void throw_dtype_unsupported(const char* op, DType dt, const char* expected) {
  throw TypeError(std::string(op) + ": expected " + expected + " tensor, got " + dtype_name(dt));
}

namespace {
// Rank in the promotion lattice (a chain for these five dtypes).
int rank(DType dt) {
  switch (dt) {
    case DType::bool_:
      return 0;
    case DType::int32:
      return 1;
    case DType::int64:
      return 2;
    case DType::float32:
      return 3;
    default:
      return 4;
  }
}
// bool < integer < floating
int category(DType dt) { return dt == DType::bool_ ? 0 : is_floating(dt) ? 2 : 1; }

DType default_dtype_value = DType::float32;
}  // namespace

DType promote(DType a, DType b) { return rank(a) >= rank(b) ? a : b; }

DType default_dtype() { return default_dtype_value; }
void set_default_dtype(DType dt) {
  if (!is_floating(dt))
    throw TypeError(std::string("set_default_dtype: only floating-point types are supported as the "
                                "default type, got ") +
                    dtype_name(dt));
  default_dtype_value = dt;
}

DType result_type(std::initializer_list<const TensorImpl*> operands) {
  // PyTorch's three priority groups; -1 = no operand in the group
  int dims = -1, zero_dim = -1, wrapped = -1;
  auto join = [](int acc, DType dt) { return acc < 0 ? int(dt) : int(promote(DType(acc), dt)); };
  for (const TensorImpl* t : operands) {
    if (!t) continue;
    if (t->wrapped_number)
      wrapped = join(wrapped, is_floating(t->dtype) ? default_dtype() : t->dtype);
    else if (t->shape.empty())
      zero_dim = join(zero_dim, t->dtype);
    else
      dims = join(dims, t->dtype);
  }
  // a lower group decides only when of a higher category
  auto combine = [](int higher, int lower) {
    if (higher < 0) return lower;
    if (lower < 0) return higher;
    if (category(DType(lower)) > category(DType(higher)))
      return int(promote(DType(higher), DType(lower)));
    return higher;
  };
  int r = combine(dims, combine(zero_dim, wrapped));
  return r < 0 ? default_dtype() : DType(r);
}

// ---- shapes -------------------------------------------------------------------

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  if (s.size() == 1) os << ",";
  os << ")";
  return os.str();
}

int64_t numel_of(const Shape& s, const char* op) {
  // The product of the non-zero dims must fit too, even when another dim is 0:
  // kernels multiply dims together (outer and inner sizes).
  int64_t nonzero = 1;
  bool zero = false;
  for (int64_t d : s) {
    if (d < 0)
      throw RuntimeError(std::string(op) + ": negative dimension " + std::to_string(d) +
                         " in shape " + shape_str(s));
    if (d == 0) {
      zero = true;
      continue;
    }
    if (nonzero > (int64_t(1) << 60) / d)
      throw RuntimeError(std::string(op) + ": shape " + shape_str(s) + " is too large");
    nonzero *= d;
  }
  return zero ? 0 : nonzero;
}

Strides contiguous_strides(const Shape& shape) {
  Strides st(shape.size());
  int64_t s = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    st[k] = s;
    s *= std::max<int64_t>(shape[k], 1);
  }
  return st;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op, bool scalar_ok) {
  const int64_t n = (ndim == 0 && scalar_ok) ? 1 : ndim;
  if (n == 0)
    throw IndexError(std::string(op) + ": dimension specified as " + std::to_string(dim) +
                     " but tensor has no dimensions");
  if (dim < -n || dim >= n)
    throw IndexError(std::string(op) + ": dimension out of range (expected to be in range of [" +
                     std::to_string(-n) + ", " + std::to_string(n - 1) + "], but got " +
                     std::to_string(dim) + ")");
  return dim < 0 ? dim + n : dim;
}

// ---- storage and tensors --------------------------------------------------------

// ---- the cache of large blocks ---------------------------------------------
//
// glibc serves a large malloc with a fresh mmap (always above 32 MiB, below it
// until its adaptive threshold has grown, and again after it trims the heap)
// and returns it to the system at free: the next buffer of the same size then
// takes a page fault per 4 KiB page, which cost more than the kernel itself
// (tanh forward + backward on 10^7 float32 elements: 120-180 ms instead of
// about 5). Freed blocks of at least kLargeBlock bytes are kept here instead,
// by size class, and handed out again for a request of the same class.
// Bounded: at most kCacheShare of physical memory (and 1 GiB) is kept; a block
// unused for kMaxIdle is returned to the system at the next large allocation
// or free, and release_cached_blocks() returns them all. The environment
// variable TAPEGRAD_NO_BLOCK_CACHE=1 turns the cache off.
namespace {

constexpr size_t kLargeBlock = size_t(1) << 20;
constexpr auto kMaxIdle = std::chrono::seconds(10);
constexpr size_t kCacheShare = 8;  // 1/8 of physical memory

// 8 classes per power of two: a block is at most 12.5% larger than asked.
size_t size_class(size_t n) {
  const int shift = 63 - __builtin_clzll(n) - 3;
  const size_t step = size_t(1) << shift;
  return (n + step - 1) & ~(step - 1);
}

struct BlockCache {
  struct Block {
    void* ptr;
    size_t size;
    std::chrono::steady_clock::time_point freed;
  };
  std::mutex mutex;
  std::vector<Block> blocks;  // in the order they were freed
  size_t bytes = 0;
  size_t limit = 0;

  BlockCache() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const size_t physical = pages > 0 && page > 0 ? size_t(pages) * size_t(page) : 0;
    limit = std::min(size_t(1) << 30, physical / kCacheShare);
    // TAPEGRAD_NO_BLOCK_CACHE=1: every block goes back at free (for memory
    // debuggers, and to measure what the cache saves)
    const char* off = std::getenv("TAPEGRAD_NO_BLOCK_CACHE");
    if (off && *off && std::string(off) != "0") limit = 0;
  }

  // Moves the blocks idle for too long (and, to fit `limit`, the oldest) to
  // `out`, to be freed outside the lock. Call with the mutex held.
  void expire(std::chrono::steady_clock::time_point now, std::vector<void*>& out) {
    size_t keep_from = 0;
    while (keep_from < blocks.size() &&
           (now - blocks[keep_from].freed > kMaxIdle || bytes > limit)) {
      out.push_back(blocks[keep_from].ptr);
      bytes -= blocks[keep_from].size;
      ++keep_from;
    }
    blocks.erase(blocks.begin(), blocks.begin() + long(keep_from));
  }
};

// Never destroyed: storages may still be freed while statics are destroyed.
BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();
  return *cache;
}

void free_blocks(const std::vector<void*>& ptrs) {
  for (void* p : ptrs) std::free(p);
}

void* take_cached(size_t size) {
  BlockCache& c = block_cache();
  std::vector<void*> expired;
  void* found = nullptr;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.expire(std::chrono::steady_clock::now(), expired);
    for (size_t i = c.blocks.size(); i-- > 0;)  // the most recently freed first
      if (c.blocks[i].size == size) {
        found = c.blocks[i].ptr;
        c.bytes -= size;
        c.blocks.erase(c.blocks.begin() + long(i));
        break;
      }
  }
  free_blocks(expired);
#if defined(__SANITIZE_ADDRESS__)
  if (found) ASAN_UNPOISON_MEMORY_REGION(found, size);
#endif
  return found;
}

void put_cached(void* ptr, size_t size) {
  BlockCache& c = block_cache();
  std::vector<void*> expired;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (size <= c.limit) {
#if defined(__SANITIZE_ADDRESS__)
      // a use after free of a cached block is still reported
      ASAN_POISON_MEMORY_REGION(ptr, size);
#endif
      try {
        c.blocks.push_back({ptr, size, std::chrono::steady_clock::now()});
        c.bytes += size;
        ptr = nullptr;
      } catch (...) {  // no memory for the list: free the block instead
      }
    }
    c.expire(std::chrono::steady_clock::now(), expired);
  }
  if (ptr) std::free(ptr);
  free_blocks(expired);
}

}  // namespace

void release_cached_blocks() {
  BlockCache& c = block_cache();
  std::vector<void*> all;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    for (const auto& b : c.blocks) all.push_back(b.ptr);
    c.blocks.clear();
    c.bytes = 0;
  }
  free_blocks(all);
}

Storage::Storage(size_t n) : nbytes(n) {
  if (n <= sizeof(small)) {
    data = small;
    return;
  }
  // Round up so every buffer is a whole number of 64-byte lines.
  const size_t rounded = ((n + 63) / 64) * 64;
  if (rounded >= kLargeBlock) {
    capacity = size_class(rounded);
    data = take_cached(capacity);
    if (!data) data = std::aligned_alloc(64, capacity);
    if (!data) {  // what the cache holds may be what is missing
      release_cached_blocks();
      data = std::aligned_alloc(64, capacity);
    }
  } else {
    data = std::aligned_alloc(64, rounded);
  }
  if (!data) throw std::bad_alloc();
}

Storage::Storage(void* d, size_t n, std::function<void(void*)> r)
    : data(d), nbytes(n), release(std::move(r)) {}

Storage::~Storage() {
  if (release)
    release(data);
  else if (capacity)
    put_cached(data, capacity);
  else if (data != small)
    std::free(data);
}

void throw_not_contiguous(const TensorImpl& t) {
  throw RuntimeError("internal error: a kernel read a non-contiguous tensor of shape " +
                     shape_str(t.shape) + " as contiguous");
}

TensorImpl::TensorImpl() = default;
TensorImpl::~TensorImpl() = default;

TensorExtras& TensorImpl::ensure_extras() {
  if (!extras) extras = std::make_unique<TensorExtras>();
  return *extras;
}

void TensorImpl::refresh_contiguous() {
  int64_t expected = 1;
  contiguous = true;
  for (size_t k = shape.size(); k-- > 0;) {
    if (shape[k] == 1) continue;
    if (strides[k] != expected) {
      contiguous = numel == 0;
      return;
    }
    expected *= shape[k];
  }
}

Tensor empty(const Shape& shape, DType dt) {
  auto t = std::make_shared<TensorImpl>();
  t->numel = numel_of(shape, "empty");
  t->shape = shape;
  t->strides = contiguous_strides(shape);
  t->dtype = dt;
  t->storage = std::make_shared<Storage>(static_cast<size_t>(t->numel) * dtype_size(dt));
  return t;
}

Tensor zeros(const Shape& shape, DType dt) {
  Tensor t = empty(shape, dt);
  std::memset(t->raw(), 0, t->storage->nbytes);
  return t;
}

// A floating value stored in an integer dtype, as PyTorch refuses it when out
// of range: the cast itself would be undefined behaviour.
static void check_integral_value(double value, DType dt, const char* op) {
  const double bound = dt == DType::int32 ? 2147483648.0 : 9223372036854775808.0;
  if (!(value >= -bound && value < bound))
    throw RuntimeError(std::string(op) + ": value cannot be converted to type " + dtype_name(dt) +
                       " without overflow: " + std::to_string(value));
}

Tensor full(const Shape& shape, Scalar value, DType dt) {
  if (value.is_floating() && is_integral(dt)) check_integral_value(value.d, dt, "full");
  Tensor t = empty(shape, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = value.is_floating() ? static_cast<T>(value.d) : static_cast<T>(value.i);
    std::fill(t->data<T>(), t->data<T>() + t->numel, v);
  });
  return t;
}

Tensor scalar_tensor(double value, DType dt) { return full({}, Scalar(value), dt); }

Tensor wrapped_scalar(Scalar value) {
  Tensor t = full({}, value, value.dtype());
  t->wrapped_number = true;
  return t;
}

Tensor arange(double start, double end, double step, DType dt) {
  if (step == 0) throw RuntimeError("arange: step must be nonzero");
  if (!std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw RuntimeError("arange: unsupported range: " + std::to_string(start) + " -> " +
                       std::to_string(end));
  if ((step > 0 && end < start) || (step < 0 && end > start))
    throw RuntimeError("arange: upper bound and larger bound inconsistent with step sign (start " +
                       std::to_string(start) + ", end " + std::to_string(end) + ", step " +
                       std::to_string(step) + ")");
  if (is_integral(dt)) {
    check_integral_value(start, dt, "arange");
    check_integral_value(end, dt, "arange");
  }
  double count = std::ceil((end - start) / step);
  if (count > 1e15) throw RuntimeError("arange: too many elements");
  int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  Tensor t = empty({n}, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + double(i) * step);
  });
  return t;
}

Tensor eye(int64_t n, int64_t m, DType dt) {
  if (n < 0 || m < 0)
    throw RuntimeError("eye: n and m must be non-negative, got " + std::to_string(n) + " and " +
                       std::to_string(m));
  Tensor t = zeros({n, m}, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = T(1);
  });
  return t;
}

Tensor alias_with(const Tensor& t, const Shape& shape, const Strides& strides, int64_t offset) {
  auto a = std::make_shared<TensorImpl>();
  a->storage = t->storage;
  a->shape = shape;
  a->strides = strides;
  a->offset = offset;
  a->numel = numel_of(shape, "view");
  a->dtype = t->dtype;
  a->refresh_contiguous();
  return a;
}

Tensor alias(const Tensor& t) { return alias_with(t, t->shape, t->strides, t->offset); }

Strides broadcast_strides(const TensorImpl& t, const Shape& out) {
  Strides s(out.size(), 0);
  const size_t lead = out.size() - t.shape.size();
  for (size_t k = 0; k < t.shape.size(); ++k)
    s[lead + k] = (t.shape[k] == 1 && out[lead + k] != 1) ? 0 : t.strides[k];
  return s;
}

void copy_into(const Tensor& dst, const Tensor& src) {
  if (dst->numel == 0) return;
  StridedWalk<2> walk(dst->shape, {dst->strides, broadcast_strides(*src, dst->shape)});
  dispatch_all(dst->dtype, [&](auto dtag) {
    using D = typename decltype(dtag)::type;
    dispatch_all(src->dtype, [&](auto stag) {
      using S = typename decltype(stag)::type;
      D* pd = dst->ptr<D>();
      const S* ps = src->ptr<S>();
      walk.run_parallel([&](const auto& off, int64_t n, const auto& step) {
        D* d = pd + off[0];
        const S* s = ps + off[1];
        if (step[0] == 1 && step[1] == 1) {
          if constexpr (std::is_same_v<D, S>)
            std::memmove(d, s, sizeof(D) * n);
          else
            for (int64_t i = 0; i < n; ++i) d[i] = static_cast<D>(s[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) d[i * step[0]] = static_cast<D>(s[i * step[1]]);
        }
      });
    });
  });
}

Tensor copy_data(const Tensor& t) {
  Tensor c = empty(t->shape, t->dtype);
  copy_into(c, t);
  return c;
}

Tensor contiguous_data(const Tensor& t) { return t->contiguous ? t : copy_data(t); }

Scalar item_scalar(const Tensor& t) {
  check_defined(t, "item");
  if (t->numel != 1)
    throw RuntimeError("a Tensor with " + std::to_string(t->numel) +
                       " elements cannot be converted to Scalar");
  return dispatch_all(t->dtype, [&](auto tag) -> Scalar {
    using T = typename decltype(tag)::type;
    const T v = t->ptr<T>()[0];
    if constexpr (std::is_same_v<T, bool>)
      return Scalar(v);
    else if constexpr (std::is_floating_point_v<T>)
      return Scalar(double(v));
    else
      return Scalar(int64_t(v));
  });
}

double item(const Tensor& t) { return item_scalar(t).to_double(); }

Tensor data_of(const Tensor& t) {
  check_defined(t, "data");
  auto shared = std::make_shared<Storage>(t->storage->data, t->storage->nbytes,
                                          [keep = t->storage](void*) {});
  Tensor d = alias(t);
  d->storage = shared;
  return d;
}

void set_data(const Tensor& t, const Tensor& value) {
  check_defined(value, "data");
  if (t->requires_grad && !is_floating(value->dtype))
    throw RuntimeError(std::string("data: a tensor that requires grad cannot hold ") +
                       dtype_name(value->dtype) + " data");
  t->storage = value->storage;
  t->shape = value->shape;
  t->strides = value->strides;
  t->offset = value->offset;
  t->numel = value->numel;
  t->dtype = value->dtype;
  t->contiguous = value->contiguous;
  if (t->grad && (t->grad->shape != t->shape || t->grad->dtype != t->dtype)) t->grad.reset();
}

void set_grad(const Tensor& t, const Tensor& g) {
  if (g && g->shape != t->shape)
    throw RuntimeError("assigned grad has data of a different size: grad " + shape_str(g->shape) +
                       ", tensor " + shape_str(t->shape));
  if (g && g->dtype != t->dtype)
    throw RuntimeError(std::string("assigned grad has data of a different type: grad ") +
                       dtype_name(g->dtype) + ", tensor " + dtype_name(t->dtype));
  t->grad = g;
}

void check_defined(const Tensor& t, const char* op) {
  if (!t) throw TypeError(std::string(op) + ": expected a Tensor, got None");
}

void check_floating(const Tensor& t, const char* op) {
  if (!is_floating(t->dtype))
    throw TypeError(std::string(op) + ": expected a floating point tensor, got " +
                    dtype_name(t->dtype));
}

namespace {
int num_threads = std::max(1u, std::thread::hardware_concurrency());
}

void set_blas_threads(int n);  // blas.cpp

void set_num_threads(int n) {
  if (n < 1)
    throw RuntimeError("set_num_threads: expected a positive number of threads, got " +
                       std::to_string(n));
  num_threads = n;
  set_blas_threads(n);
}

int get_num_threads() { return num_threads; }

}  // namespace tapegrad
