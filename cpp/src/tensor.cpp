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
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "ops/kernels.h"
#include "tapegrad/node.h"

namespace tapegrad {

const char* dtype_name(DType dt) {
  switch (dt) {
    case DType::float32:
      return "float32";
    case DType::float64:
      return "float64";
    default:
      return "int64";
  }
}

size_t dtype_size(DType dt) { return dt == DType::float32 ? 4 : 8; }

DType promote(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::float64 || b == DType::float64) return DType::float64;
  return DType::float32;  // float32 with int64
}

DType result_type(const TensorImpl& a, const TensorImpl& b) {
  const bool a0 = a.shape.empty(), b0 = b.shape.empty();
  if (a0 != b0) {
    const TensorImpl& dimensioned = a0 ? b : a;
    const TensorImpl& scalar = a0 ? a : b;
    if (is_floating(dimensioned.dtype) || !is_floating(scalar.dtype)) return dimensioned.dtype;
  }
  return promote(a.dtype, b.dtype);
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  if (s.size() == 1) os << ",";
  os << ")";
  return os.str();
}

int64_t numel_of(const Shape& s, const char* op) {
  int64_t n = 1, nonzero = 1;
  for (int64_t d : s) {
    if (d < 0) throw ValueError(std::string(op) + ": negative dimension in shape " + shape_str(s));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / 8 / d)
      throw ValueError(std::string(op) + ": shape " + shape_str(s) + " is too large");
    // The product of the other dims must fit too, even when one is 0: the
    // kernels multiply dims together (outer and inner sizes).
    if (d != 0 && __builtin_mul_overflow(nonzero, d, &nonzero))
      throw ValueError(std::string(op) + ": shape " + shape_str(s) + " is too large");
    n *= d;
  }
  return n;
}

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
  // Round up so every buffer is a whole number of 64-byte lines; a zero-size
  // tensor still gets a valid pointer.
  size_t rounded = ((n + 63) / 64) * 64;
  if (rounded == 0) rounded = 64;
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
  else
    std::free(data);
}

Tensor empty(const Shape& shape, DType dt) {
  auto t = std::make_shared<TensorImpl>();
  t->numel = numel_of(shape, "empty");
  t->shape = shape;
  t->dtype = dt;
  t->storage = std::make_shared<Storage>(static_cast<size_t>(t->numel) * dtype_size(dt));
  return t;
}

Tensor zeros(const Shape& shape, DType dt) {
  Tensor t = empty(shape, dt);
  std::memset(t->raw(), 0, t->storage->nbytes);
  return t;
}

// A double as int64, as PyTorch refuses it when out of range: the cast
// itself would be undefined behaviour.
static void check_int64_value(double value, const char* op) {
  if (!(value >= -9223372036854775808.0 && value < 9223372036854775808.0))
    throw std::runtime_error(
        std::string(op) +
        ": value cannot be converted to type int64_t without overflow: " + std::to_string(value));
}

Tensor full(const Shape& shape, double value, DType dt) {
  if (dt == DType::int64) check_int64_value(value, "full");
  Tensor t = empty(shape, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T v = static_cast<T>(value);
    T* p = t->data<T>();
    for (int64_t i = 0; i < t->numel; ++i) p[i] = v;
  });
  return t;
}

Tensor scalar_tensor(double value, DType dt) { return full({}, value, dt); }

Tensor arange(double start, double end, double step, DType dt) {
  if (step == 0) throw ValueError("arange: step must be nonzero");
  if (!std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw ValueError("arange: start, end and step must be finite");
  if ((step > 0 && end < start) || (step < 0 && end > start))
    throw ValueError("arange: upper bound and larger bound inconsistent with step sign (start " +
                     std::to_string(start) + ", end " + std::to_string(end) + ", step " +
                     std::to_string(step) + ")");
  if (dt == DType::int64) {
    check_int64_value(start, "arange");
    check_int64_value(end, "arange");
  }
  double count = std::ceil((end - start) / step);
  if (count > 1e15) throw ValueError("arange: too many elements");
  int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  Tensor t = empty({n}, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + i * step);
  });
  return t;
}

Tensor eye(int64_t n, int64_t m, DType dt) {
  if (n < 0 || m < 0)
    throw ValueError("eye: n and m must be non-negative, got " + std::to_string(n) + " and " +
                     std::to_string(m));
  Tensor t = zeros({n, m}, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = T(1);
  });
  return t;
}

Tensor alias(const Tensor& t, const Shape& shape) {
  auto a = std::make_shared<TensorImpl>();
  a->storage = t->storage;
  a->shape = shape;
  a->numel = t->numel;
  a->dtype = t->dtype;
  return a;
}

Tensor copy_data(const Tensor& t) {
  Tensor c = empty(t->shape, t->dtype);
  std::memcpy(c->raw(), t->raw(), static_cast<size_t>(t->numel) * dtype_size(t->dtype));
  return c;
}

double item(const Tensor& t) {
  check_defined(t, "item");
  if (t->numel != 1)
    throw ValueError("item: a Tensor with " + std::to_string(t->numel) +
                     " elements cannot be converted to a scalar");
  return dispatch_all(t->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return static_cast<double>(t->data<T>()[0]);
  });
}

void check_defined(const Tensor& t, const char* op) {
  if (!t) throw TypeError(std::string(op) + ": expected a Tensor, got None");
}

void check_floating(const Tensor& t, const char* op) {
  if (!is_floating(t->dtype))
    throw TypeError(std::string(op) + ": expected a floating point tensor, got int64");
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  if (dim < lo || dim > hi)
    throw IndexError(std::string(op) + ": dimension out of range (expected to be in range of [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "], but got " +
                     std::to_string(dim) + ")");
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

int64_t size_at(const Tensor& t, int64_t dim) {
  check_defined(t, "size");
  // wrap_dim maps -1 and 0 of a 0-d tensor to 0, and shape[0] does not exist
  if (t->ndim() == 0)
    throw IndexError("size: dimension specified as " + std::to_string(dim) +
                     " but tensor has no dimensions");
  return t->shape[wrap_dim(dim, t->ndim(), "size")];
}

namespace {
int num_threads = std::max(1u, std::thread::hardware_concurrency());
}

void set_blas_threads(int n);  // blas.cpp

void set_num_threads(int n) {
  if (n < 1)
    throw ValueError("set_num_threads: expected a positive number, got " + std::to_string(n));
  num_threads = n;
  set_blas_threads(n);
}

int get_num_threads() { return num_threads; }

}  // namespace tapegrad
