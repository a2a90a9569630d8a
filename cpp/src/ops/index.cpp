// Indexing. Every tensor is viewed as (outer, size of dim, inner). Each gather
// (slice, index_select, gather) has a scatter partner that is its backward,
// and each is the other's backward, so indexing is differentiable to any
// order. Scatters accumulate, so repeated indices add up.
#include <cstring>

#include "kernels.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

namespace tapegrad {

namespace {

struct DimView {
  int64_t outer = 1, size = 1, inner = 1;
};

DimView view_at(const Shape& shape, int64_t dim) {
  DimView v;
  for (int64_t d = 0; d < dim; ++d) v.outer *= shape[d];
  v.size = shape[dim];
  for (size_t d = dim + 1; d < shape.size(); ++d) v.inner *= shape[d];
  return v;
}

// Checks int64 indices against `size` and returns them with negatives wrapped.
std::vector<int64_t> checked_indices(const Tensor& index, int64_t size, int64_t dim,
                                     const char* op) {
  if (index->dtype != DType::int64)
    throw TypeError(std::string(op) + ": expected an int64 index, got " + dtype_name(index->dtype));
  const int64_t* p = index->data<int64_t>();
  std::vector<int64_t> out(p, p + index->numel);
  for (int64_t& i : out) {
    if (i < -size || i >= size)
      throw IndexError(std::string(op) + ": index " + std::to_string(i) +
                       " is out of bounds for dimension " + std::to_string(dim) + " with size " +
                       std::to_string(size));
    if (i < 0) i += size;
  }
  return out;
}

// For each outer block o and each output row j: copy or add `inner` elements
// between src row src_row(o, j) and dst row dst_row(o, j).
template <class T, class SrcRow, class DstRow>
void move_rows(const T* src, T* dst, int64_t outer, int64_t rows, int64_t inner, SrcRow src_row,
               DstRow dst_row, bool accumulate) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < rows; ++j) {
      const T* s = src + src_row(o, j) * inner;
      T* d = dst + dst_row(o, j) * inner;
      if (accumulate)
        for (int64_t i = 0; i < inner; ++i) d[i] += s[i];
      else
        std::memcpy(d, s, sizeof(T) * inner);
    }
}

}  // namespace

Tensor slice(const Tensor& x, int64_t dim_in, int64_t start, int64_t stop, int64_t step) {
  check_defined(x, "slice");
  // The dim is checked here, not only by the indexing code that calls this:
  // _core._slice is reachable from Python with any arguments.
  if (x->ndim() == 0) throw IndexError("slice: a 0-d tensor has no dimension to slice");
  const int64_t dim = wrap_dim(dim_in, x->ndim(), "slice");
  if (step <= 0)
    throw ValueError("slice: step must be greater than zero, got " + std::to_string(step));
  DimView v = view_at(x->shape, dim);
  if (start < 0 || stop > v.size || start > stop)
    throw IndexError("slice: range [" + std::to_string(start) + ", " + std::to_string(stop) +
                     ") is out of bounds for dimension " + std::to_string(dim) + " with size " +
                     std::to_string(v.size));
  // ceil((stop - start) / step) without forming stop - start + step, which
  // overflows for a huge step
  const int64_t n = (stop - start) / step + ((stop - start) % step != 0);
  Shape shape = x->shape;
  shape[dim] = n;
  Tensor out = empty(shape, x->dtype);
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    move_rows<T>(
        x->data<T>(), out->data<T>(), v.outer, n, v.inner,
        [&](int64_t o, int64_t j) { return o * v.size + start + j * step; },
        [&](int64_t o, int64_t j) { return o * n + j; }, false);
  });
  forward_ad(out, {&x}, [&](const Grads& t) { return slice(t[0], dim, start, stop, step); });
  return record("SliceBackward", {&x}, out, [&] {
    return [shape = x->shape, dim, start, stop, step](Node&, const Tensor& g) -> Grads {
      return {slice_scatter(g, shape, dim, start, stop, step)};
    };
  });
}

Tensor slice_scatter(const Tensor& g, const Shape& shape, int64_t dim, int64_t start, int64_t stop,
                     int64_t step) {
  Tensor out = zeros(shape, g->dtype);
  DimView v = view_at(shape, dim);
  const int64_t n = g->shape[dim];
  dispatch_all(g->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    move_rows<T>(
        g->data<T>(), out->data<T>(), v.outer, n, v.inner,
        [&](int64_t o, int64_t j) { return o * n + j; },
        [&](int64_t o, int64_t j) { return o * v.size + start + j * step; }, false);
  });
  forward_ad(out, {&g},
             [&](const Grads& t) { return slice_scatter(t[0], shape, dim, start, stop, step); });
  return record("SliceScatterBackward", {&g}, out, [&] {
    return [dim, start, stop, step](Node&, const Tensor& gg) -> Grads {
      return {slice(gg, dim, start, stop, step)};
    };
  });
}

Tensor index_select(const Tensor& x, int64_t dim_in, const Tensor& index) {
  check_defined(x, "index");
  check_defined(index, "index");
  int64_t dim = wrap_dim(dim_in, x->ndim(), "index");
  if (x->ndim() == 0) throw IndexError("index: a 0-d tensor cannot be indexed by a tensor");
  DimView v = view_at(x->shape, dim);
  std::vector<int64_t> idx = checked_indices(index, v.size, dim, "index");
  Shape shape(x->shape.begin(), x->shape.begin() + dim);
  shape.insert(shape.end(), index->shape.begin(), index->shape.end());
  shape.insert(shape.end(), x->shape.begin() + dim + 1, x->shape.end());
  Tensor out = empty(shape, x->dtype);
  const int64_t n = int64_t(idx.size());
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    move_rows<T>(
        x->data<T>(), out->data<T>(), v.outer, n, v.inner,
        [&](int64_t o, int64_t j) { return o * v.size + idx[j]; },
        [&](int64_t o, int64_t j) { return o * n + j; }, false);
  });
  forward_ad(out, {&x}, [&](const Grads& t) { return index_select(t[0], dim, index); });
  return record("IndexBackward", {&x}, out, [&] {
    // saves the index; the gradient is scattered back with accumulation
    return [shape = x->shape, dim, index](Node&, const Tensor& g) -> Grads {
      return {index_add(g, shape, dim, index)};
    };
  });
}

Tensor index_add(const Tensor& g, const Shape& shape, int64_t dim, const Tensor& index) {
  Tensor out = zeros(shape, g->dtype);
  DimView v = view_at(shape, dim);
  std::vector<int64_t> idx = checked_indices(index, v.size, dim, "index_add");
  const int64_t n = int64_t(idx.size());
  dispatch_all(g->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    move_rows<T>(
        g->data<T>(), out->data<T>(), v.outer, n, v.inner,
        [&](int64_t o, int64_t j) { return o * n + j; },
        [&](int64_t o, int64_t j) { return o * v.size + idx[j]; }, true);
  });
  forward_ad(out, {&g}, [&](const Grads& t) { return index_add(t[0], shape, dim, index); });
  return record("IndexAddBackward", {&g}, out, [&] {
    return
        [dim, index](Node&, const Tensor& gg) -> Grads { return {index_select(gg, dim, index)}; };
  });
}

static void check_gather_shapes(const Shape& x, const Tensor& index, int64_t dim, const char* op) {
  bool ok = index->ndim() == int64_t(x.size());
  for (int64_t d = 0; ok && d < index->ndim(); ++d) ok = d == dim || index->shape[d] == x[d];
  if (!ok)
    throw ValueError(std::string(op) + ": index of shape " + shape_str(index->shape) +
                     " does not match the tensor of shape " + shape_str(x) + " outside dimension " +
                     std::to_string(dim));
}

Tensor gather(const Tensor& x, int64_t dim_in, const Tensor& index) {
  check_defined(x, "gather");
  check_defined(index, "gather");
  if (x->ndim() == 0) throw IndexError("gather: a 0-d tensor has no dimension to gather along");
  int64_t dim = wrap_dim(dim_in, x->ndim(), "gather");
  check_gather_shapes(x->shape, index, dim, "gather");
  DimView v = view_at(x->shape, dim);
  std::vector<int64_t> idx = checked_indices(index, v.size, dim, "gather");
  const int64_t n = index->ndim() ? index->shape[dim] : 1;
  Tensor out = empty(index->shape, x->dtype);
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x->data<T>();
    T* po = out->data<T>();
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < v.inner; ++i) {
          int64_t at = (o * n + j) * v.inner + i;
          po[at] = px[(o * v.size + idx[at]) * v.inner + i];
        }
  });
  forward_ad(out, {&x}, [&](const Grads& t) { return gather(t[0], dim, index); });
  return record("GatherBackward", {&x}, out, [&] {
    return [shape = x->shape, dim, index](Node&, const Tensor& g) -> Grads {
      return {scatter_add(g, shape, dim, index)};
    };
  });
}

Tensor scatter_add(const Tensor& g, const Shape& shape, int64_t dim, const Tensor& index) {
  Tensor out = zeros(shape, g->dtype);
  DimView v = view_at(shape, dim);
  std::vector<int64_t> idx = checked_indices(index, v.size, dim, "scatter_add");
  const int64_t n = index->ndim() ? index->shape[dim] : 1;
  dispatch_all(g->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pg = g->data<T>();
    T* po = out->data<T>();
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < v.inner; ++i) {
          int64_t at = (o * n + j) * v.inner + i;
          po[(o * v.size + idx[at]) * v.inner + i] += pg[at];
        }
  });
  forward_ad(out, {&g}, [&](const Grads& t) { return scatter_add(t[0], shape, dim, index); });
  return record("ScatterAddBackward", {&g}, out, [&] {
    return [dim, index](Node&, const Tensor& gg) -> Grads { return {gather(gg, dim, index)}; };
  });
}

}  // namespace tapegrad
