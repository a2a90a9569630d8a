// Indexing. Each gather (slice, index_select, gather, index) has a scatter
// partner that is its backward, and each is the other's backward, so indexing
// is differentiable to any order. Scatters accumulate, so repeated indices add
// up. Basic indexing (ints, slices, None, ...) makes views (shape.cpp);
// advanced indexing (integer and bool tensors) copies, with PyTorch's rules.
#include "tapegrad/index.h"

#include <cstring>
#include <limits>

#include "elementwise.h"
#include "tapegrad/registry.h"

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

// Checks integer indices against `size` and returns them with negatives wrapped.
std::vector<int64_t> checked_indices(const Tensor& index_in, int64_t size, int64_t dim,
                                     const char* op) {
  if (!is_integral(index_in->dtype))
    throw IndexError(std::string(op) +
                     ": tensors used as indices must be long or int tensors, "
                     "got " +
                     dtype_name(index_in->dtype));
  Tensor index = contiguous_data(to_dtype(index_in, DType::int64));
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
      if (accumulate) {
        if constexpr (std::is_same_v<T, bool>)
          for (int64_t i = 0; i < inner; ++i) d[i] = d[i] || s[i];
        else
          for (int64_t i = 0; i < inner; ++i) d[i] += s[i];
      } else {
        std::memcpy(d, s, sizeof(T) * inner);
      }
    }
}

}  // namespace

Tensor slice_scatter(const Tensor& g_in, const Shape& shape, int64_t dim, int64_t start,
                     int64_t stop, int64_t step) {
  Tensor out = zeros(shape, g_in->dtype);
  const int64_t n = g_in->shape[dim];
  Shape part = shape;
  part[dim] = n;
  Strides strides = out->strides;
  strides[dim] *= step;
  copy_into(alias_with(out, part, strides, start * out->strides[dim]), g_in);
  forward_ad(out, {&g_in},
             [&](const Grads& t) { return slice_scatter(t[0], shape, dim, start, stop, step); });
  return record("SliceScatterBackward", {&g_in}, out, [&] {
    return [dim, start, stop, step](Node&, const Tensor& gg) -> Grads {
      return {slice(gg, dim, start, stop, step)};
    };
  });
}

Tensor index_select(const Tensor& x_in, int64_t dim_in, const Tensor& index) {
  check_defined(x_in, "index_select");
  check_defined(index, "index_select");
  if (x_in->ndim() == 0)
    throw IndexError("index_select: a 0-d tensor cannot be indexed by a tensor");
  int64_t dim = wrap_dim(dim_in, x_in->ndim(), "index_select");
  Tensor x = contiguous_data(x_in);
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
  forward_ad(out, {&x_in}, [&](const Grads& t) { return index_select(t[0], dim, index); });
  return record("IndexSelectBackward", {&x_in}, out, [&] {
    // saves the index; the gradient is scattered back with accumulation
    return [shape = x_in->shape, dim, index](Node&, const Tensor& g) -> Grads {
      return {index_add_to(g, shape, dim, index)};
    };
  });
}

Tensor index_add_to(const Tensor& g_in, const Shape& shape, int64_t dim, const Tensor& index) {
  Tensor g = contiguous_data(g_in);
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
  forward_ad(out, {&g_in}, [&](const Grads& t) { return index_add_to(t[0], shape, dim, index); });
  return record("IndexAddBackward", {&g_in}, out, [&] {
    return
        [dim, index](Node&, const Tensor& gg) -> Grads { return {index_select(gg, dim, index)}; };
  });
}

static void check_gather_shapes(const Shape& x, const Tensor& index, int64_t dim, const char* op) {
  bool ok = index->ndim() == int64_t(x.size());
  for (int64_t d = 0; ok && d < index->ndim(); ++d) ok = d == dim || index->shape[d] <= x[d];
  if (!ok)
    throw RuntimeError(std::string(op) + ": index of shape " + shape_str(index->shape) +
                       " does not match the tensor of shape " + shape_str(x) +
                       " outside dimension " + std::to_string(dim));
}

Tensor gather(const Tensor& x_in, int64_t dim_in, const Tensor& index_in) {
  check_defined(x_in, "gather");
  check_defined(index_in, "gather");
  if (x_in->ndim() == 0) throw IndexError("gather: a 0-d tensor has no dimension to gather along");
  int64_t dim = wrap_dim(dim_in, x_in->ndim(), "gather");
  check_gather_shapes(x_in->shape, index_in, dim, "gather");
  Tensor x = contiguous_data(x_in);
  Tensor index = contiguous_data(index_in);
  const Shape& ishape = index->shape;
  std::vector<int64_t> idx = checked_indices(index, x->shape[dim], dim, "gather");
  Tensor out = empty(ishape, x->dtype);
  const Strides xs = x->strides, is = index->strides;
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x->data<T>();
    T* po = out->data<T>();
    // walk the index's elements; x is read at the same position but idx on dim
    std::vector<int64_t> pos(ishape.size(), 0);
    for (int64_t e = 0; e < index->numel; ++e) {
      int64_t off = 0;
      for (size_t d = 0; d < ishape.size(); ++d)
        off += (int64_t(d) == dim ? idx[e] : pos[d]) * xs[d];
      po[e] = px[off];
      for (size_t d = ishape.size(); d-- > 0;) {
        if (++pos[d] < ishape[d]) break;
        pos[d] = 0;
      }
    }
  });
  forward_ad(out, {&x_in}, [&](const Grads& t) { return gather(t[0], dim, index); });
  return record("GatherBackward", {&x_in}, out, [&] {
    return [shape = x_in->shape, dim, index](Node&, const Tensor& g) -> Grads {
      return {scatter_add_to(g, shape, dim, index)};
    };
  });
}

Tensor scatter_add_to(const Tensor& g_in, const Shape& shape, int64_t dim, const Tensor& index_in) {
  Tensor g = contiguous_data(g_in);
  Tensor index = contiguous_data(index_in);
  Tensor out = zeros(shape, g->dtype);
  std::vector<int64_t> idx = checked_indices(index, shape[dim], dim, "scatter_add");
  const Shape& ishape = index->shape;
  const Strides os = out->strides;
  dispatch_all(g->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, bool>) {
      const T* pg = g->data<T>();
      T* po = out->data<T>();
      std::vector<int64_t> pos(ishape.size(), 0);
      for (int64_t e = 0; e < index->numel; ++e) {
        int64_t off = 0;
        for (size_t d = 0; d < ishape.size(); ++d)
          off += (int64_t(d) == dim ? idx[e] : pos[d]) * os[d];
        po[off] += pg[e];
        for (size_t d = ishape.size(); d-- > 0;) {
          if (++pos[d] < ishape[d]) break;
          pos[d] = 0;
        }
      }
    }
  });
  forward_ad(out, {&g_in}, [&](const Grads& t) { return scatter_add_to(t[0], shape, dim, index); });
  return record("ScatterAddBackward", {&g_in}, out, [&] {
    return [dim, index](Node&, const Tensor& gg) -> Grads { return {gather(gg, dim, index)}; };
  });
}

// ---- advanced indexing --------------------------------------------------------------

namespace {

// The plan of x[indices]: which dims are indexed, the broadcast index shape,
// the linear row of each index position in x's indexed dims, and where the
// index dims go in the result (PyTorch: in place when the indexed dims are
// adjacent, else first).
struct IndexPlan {
  Dims dims;  // indexed dims of x, in order
  Shape index_shape;
  std::vector<int64_t> rows;  // per index position: the row of x's indexed dims
  int64_t rows_total = 1;     // product of the indexed dims' sizes
  bool adjacent = true;
  int64_t first = 0;
};

IndexPlan plan_index(const Tensor& x, const std::vector<Tensor>& indices, const char* op) {
  IndexPlan plan;
  std::vector<Tensor> idx;
  if (int64_t(indices.size()) > x->ndim())
    throw IndexError(std::string(op) + ": too many indices for tensor of dimension " +
                     std::to_string(x->ndim()) + " (got " + std::to_string(indices.size()) + ")");
  for (size_t d = 0; d < indices.size(); ++d) {
    if (!indices[d]) continue;
    if (!plan.dims.empty() && plan.dims.back() != int64_t(d) - 1) plan.adjacent = false;
    plan.dims.push_back(int64_t(d));
    idx.push_back(indices[d]);
  }
  if (plan.dims.empty()) throw std::logic_error("index: no index tensors");
  plan.first = plan.dims[0];
  Shape shape = idx[0]->shape;
  for (const Tensor& t : idx) {
    try {
      shape = broadcast_shapes(shape, t->shape, op);
    } catch (const RuntimeError&) {
      std::string shapes;
      for (const Tensor& u : idx) shapes += (shapes.empty() ? "" : ", ") + shape_str(u->shape);
      throw IndexError(std::string(op) +
                       ": shape mismatch: indexing tensors could not be broadcast together with "
                       "shapes " +
                       shapes);
    }
  }
  plan.index_shape = shape;
  const int64_t n = numel_of(shape, op);
  plan.rows.assign(n, 0);
  for (size_t k = 0; k < idx.size(); ++k) {
    const int64_t d = plan.dims[k], size = x->shape[d];
    std::vector<int64_t> vals = checked_indices(broadcast_to(idx[k], shape), size, d, op);
    for (int64_t e = 0; e < n; ++e) plan.rows[e] = plan.rows[e] * size + vals[e];
    plan.rows_total *= size;
  }
  return plan;
}

// x with its indexed dims moved first (in order) and merged into one.
Tensor merged_front(const Tensor& x, const IndexPlan& plan) {
  Dims perm = plan.dims;
  for (int64_t d = 0; d < x->ndim(); ++d)
    if (std::find(plan.dims.begin(), plan.dims.end(), d) == plan.dims.end()) perm.push_back(d);
  Tensor moved = permute(x, perm);
  Shape shape{plan.rows_total};
  shape.insert(shape.end(), moved->shape.begin() + plan.dims.size(), moved->shape.end());
  return reshape(moved, shape);
}

Tensor rows_tensor(const IndexPlan& plan) {
  Tensor t = empty(plan.index_shape, DType::int64);
  std::copy(plan.rows.begin(), plan.rows.end(), t->data<int64_t>());
  return t;
}

// Moves the index dims (at the front of r) to plan.first when adjacent.
Tensor place_index_dims(const Tensor& r, const IndexPlan& plan) {
  if (!plan.adjacent || plan.first == 0) return r;
  const int64_t k = int64_t(plan.index_shape.size());
  Dims perm;
  for (int64_t d = 0; d < plan.first; ++d) perm.push_back(k + d);
  for (int64_t d = 0; d < k; ++d) perm.push_back(d);
  for (int64_t d = k + plan.first; d < r->ndim(); ++d) perm.push_back(d);
  return permute(r, perm);
}

// Bool masks become the integer indices of their true entries.
std::vector<Tensor> expand_masks(const Tensor& x, const std::vector<Tensor>& indices,
                                 const char* op) {
  std::vector<Tensor> out;
  for (const Tensor& t : indices) {
    if (!t || t->dtype != DType::bool_) {
      out.push_back(t);
      continue;
    }
    const size_t at = out.size();
    for (int64_t k = 0; k < t->ndim(); ++k)
      if (at + k >= size_t(x->ndim()) || t->shape[k] != x->shape[at + k])
        throw IndexError(std::string(op) + ": the shape of the mask " + shape_str(t->shape) +
                         " at index " + std::to_string(k) +
                         " does not match the shape of the indexed tensor " + shape_str(x->shape) +
                         " at index " + std::to_string(at + k));
    Tensor nz = nonzero(t);
    for (int64_t k = 0; k < t->ndim(); ++k) out.push_back(select(nz, 1, k));
  }
  return out;
}

}  // namespace

Tensor index(const Tensor& x, const std::vector<Tensor>& indices_in) {
  check_defined(x, "index");
  std::vector<Tensor> indices = expand_masks(x, indices_in, "index");
  IndexPlan plan = plan_index(x, indices, "index");
  Tensor r = index_select(merged_front(x, plan), 0, rows_tensor(plan));
  return place_index_dims(r, plan);
}

Tensor index_put_to(const Tensor& values, const Shape& shape, const std::vector<Tensor>& indices) {
  Tensor like = alias_with(values, shape, contiguous_strides(shape), 0);  // geometry only
  IndexPlan plan = plan_index(like, indices, "index_put");
  // values laid out as index_select's result, then scattered into the merged layout
  Tensor v = values;
  if (plan.adjacent && plan.first > 0) {
    const int64_t k = int64_t(plan.index_shape.size());
    Dims perm;
    for (int64_t d = 0; d < k; ++d) perm.push_back(plan.first + d);
    for (int64_t d = 0; d < plan.first; ++d) perm.push_back(d);
    for (int64_t d = plan.first + k; d < v->ndim(); ++d) perm.push_back(d);
    v = permute(v, perm);
  }
  Dims perm = plan.dims;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d)
    if (std::find(plan.dims.begin(), plan.dims.end(), d) == plan.dims.end()) perm.push_back(d);
  Shape moved_shape, merged{plan.rows_total};
  for (int64_t d : perm) moved_shape.push_back(shape[d]);
  merged.insert(merged.end(), moved_shape.begin() + plan.dims.size(), moved_shape.end());
  Tensor flat = index_add_to(v, merged, 0, rows_tensor(plan));
  Dims inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = int64_t(i);
  return permute(reshape(flat, moved_shape), inverse);
}

// Writes values (or adds them) at indices of dst's memory, any layout.
static void put_into(const Tensor& dst, const std::vector<Tensor>& indices, const Tensor& values,
                     bool accumulate) {
  IndexPlan plan = plan_index(dst, indices, "index_put");
  // the result layout of dst[indices], and dst's own offsets for it
  Shape rest;
  Strides rest_strides;
  for (int64_t d = 0; d < dst->ndim(); ++d)
    if (std::find(plan.dims.begin(), plan.dims.end(), d) == plan.dims.end()) {
      rest.push_back(dst->shape[d]);
      rest_strides.push_back(dst->strides[d]);
    }
  std::vector<int64_t> row_offset(plan.rows.size());
  for (size_t e = 0; e < plan.rows.size(); ++e) {
    int64_t r = plan.rows[e], off = 0;
    for (size_t k = plan.dims.size(); k-- > 0;) {
      const int64_t d = plan.dims[k];
      off += (r % dst->shape[d]) * dst->strides[d];
      r /= dst->shape[d];
    }
    row_offset[e] = off;
  }
  // values broadcast to (index positions, rest...) in index_select's order
  Shape selected = plan.index_shape;
  selected.insert(selected.end(), rest.begin(), rest.end());
  Shape result_shape = selected;
  if (plan.adjacent && plan.first > 0) {
    result_shape.assign(rest.begin(), rest.begin() + plan.first);
    result_shape.insert(result_shape.end(), plan.index_shape.begin(), plan.index_shape.end());
    result_shape.insert(result_shape.end(), rest.begin() + plan.first, rest.end());
  }
  Tensor v = to_dtype(detach(values), dst->dtype);
  if (broadcast_shapes(v->shape, result_shape, "index_put") != result_shape)
    throw RuntimeError("index_put: shape mismatch: value tensor of shape " + shape_str(v->shape) +
                       " cannot be broadcast to indexing result of shape " +
                       shape_str(result_shape));
  v = broadcast_to(v, result_shape);
  if (plan.adjacent && plan.first > 0) {
    const int64_t k = int64_t(plan.index_shape.size());
    Dims perm;
    for (int64_t d = 0; d < k; ++d) perm.push_back(plan.first + d);
    for (int64_t d = 0; d < plan.first; ++d) perm.push_back(d);
    for (int64_t d = plan.first + k; d < v->ndim(); ++d) perm.push_back(d);
    v = permute(v, perm);
  }
  const int64_t inner = numel_of(rest, "index_put");
  Strides vstr = v->strides;
  dispatch_all(dst->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* pd = dst->ptr<T>();
    const T* pv = v->ptr<T>();
    const size_t k = plan.index_shape.size();
    std::vector<int64_t> ipos(k, 0), rpos(rest.size(), 0);
    for (size_t e = 0; e < plan.rows.size(); ++e) {
      int64_t voff = 0;
      for (size_t d = 0; d < k; ++d) voff += ipos[d] * vstr[d];
      std::fill(rpos.begin(), rpos.end(), 0);
      for (int64_t j = 0; j < inner; ++j) {
        int64_t doff = row_offset[e], vo = voff;
        for (size_t d = 0; d < rest.size(); ++d) {
          doff += rpos[d] * rest_strides[d];
          vo += rpos[d] * vstr[k + d];
        }
        if constexpr (std::is_same_v<T, bool>)
          pd[doff] = accumulate ? (pd[doff] || pv[vo]) : pv[vo];
        else
          pd[doff] = accumulate ? T(pd[doff] + pv[vo]) : pv[vo];
        for (size_t d = rest.size(); d-- > 0;) {
          if (++rpos[d] < rest[d]) break;
          rpos[d] = 0;
        }
      }
      for (size_t d = k; d-- > 0;) {
        if (++ipos[d] < plan.index_shape[d]) break;
        ipos[d] = 0;
      }
    }
  });
}

Tensor index_put(const Tensor& x, const std::vector<Tensor>& indices_in, const Tensor& values,
                 bool accumulate) {
  check_defined(x, "index_put");
  check_defined(values, "index_put");
  std::vector<Tensor> indices = expand_masks(x, indices_in, "index_put");
  Tensor out = copy_data(x);
  put_into(out, indices, values, accumulate);
  Tensor v = to_dtype(values, x->dtype);
  forward_ad(out, {&x, &v}, [&](const Grads& t) {
    Tensor tx = t[0] ? t[0] : zeros(x->shape, x->dtype);
    Tensor tv = t[1] ? t[1] : zeros(v->shape, v->dtype);
    return index_put(tx, indices, tv, accumulate);
  });
  // written positions take the gradient from the values (every duplicate
  // gets it, as PyTorch); unless accumulating, x's gradient is 0 there
  return record("IndexPutBackward", {&x, &v}, out, [&] {
    return [indices, accumulate, vshape = v->shape, xshape = x->shape](Node& n,
                                                                       const Tensor& g) -> Grads {
      Tensor gx, gv;
      if (n.needs_grad(0)) {
        if (accumulate) {
          gx = g;
        } else {
          Tensor hit = zeros(xshape, DType::bool_);
          put_into(hit, indices, wrapped_scalar(Scalar(true)), false);
          gx = where(hit, zero_like(g), g);
        }
      }
      if (n.needs_grad(1)) gv = sum_to(index(g, indices), vshape);
      return {gx, gv};
    };
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  check_defined(x, "masked_fill");
  check_defined(mask, "masked_fill");
  check_defined(value, "masked_fill");
  if (mask->dtype != DType::bool_)
    throw RuntimeError(std::string("masked_fill_ only supports boolean masks, but got mask with "
                                   "dtype ") +
                       dtype_name(mask->dtype));
  if (value->ndim() != 0)
    throw RuntimeError(
        "masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
        "with " +
        std::to_string(value->ndim()) + " dimension(s).");
  if (broadcast_shapes(mask->shape, x->shape, "masked_fill") != x->shape)
    throw RuntimeError("masked_fill: the mask of shape " + shape_str(mask->shape) +
                       " does not broadcast to the tensor of shape " + shape_str(x->shape));
  return where(mask, to_dtype(value, x->dtype), x);
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  check_defined(x, "masked_select");
  check_defined(mask, "masked_select");
  if (mask->dtype != DType::bool_)
    throw RuntimeError(std::string("masked_select: expected BoolTensor for mask, got ") +
                       dtype_name(mask->dtype));
  Shape shape = broadcast_shapes(x->shape, mask->shape, "masked_select");
  return index(broadcast_to(x, shape), {broadcast_to(mask, shape)});
}

Tensor nonzero(const Tensor& x_in) {
  check_defined(x_in, "nonzero");
  Tensor x = contiguous_data(x_in);
  std::vector<int64_t> hits;
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = x->data<T>();
    for (int64_t i = 0; i < x->numel; ++i)
      if (p[i] != T(0)) hits.push_back(i);
  });
  const int64_t nd = x->ndim(), n = int64_t(hits.size());
  Tensor out = empty({n, nd}, DType::int64);
  int64_t* po = out->data<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    int64_t rest = hits[r];
    for (int64_t d = nd; d-- > 0;) {
      po[r * nd + d] = rest % x->shape[d];
      rest /= x->shape[d];
    }
  }
  return out;
}

// ---- Python's subscripts ------------------------------------------------------------------

namespace {
// Applies the basic part of a subscript (views) and collects the index
// tensors of its advanced part, one slot per dim of the result.
Tensor apply_basic(const Tensor& x, const std::vector<TensorIndex>& key,
                   std::vector<Tensor>& advanced) {
  int64_t consumed = 0, ellipses = 0;
  for (const TensorIndex& k : key) {
    switch (k.kind) {
      case TensorIndex::Kind::Int:
      case TensorIndex::Kind::Slice:
        ++consumed;
        break;
      case TensorIndex::Kind::Tensor:
        consumed += k.tensor->dtype == DType::bool_ ? std::max<int64_t>(k.tensor->ndim(), 0) : 1;
        break;
      case TensorIndex::Kind::Ellipsis:
        ++ellipses;
        break;
      default:
        break;
    }
  }
  if (ellipses > 1) throw IndexError("an index can only have a single ellipsis ('...')");
  if (consumed > x->ndim())
    throw IndexError("too many indices for tensor of dimension " + std::to_string(x->ndim()) +
                     " (got " + std::to_string(consumed) + ")");
  Tensor out = x;
  int64_t dim = 0;
  advanced.clear();
  // advanced holds PyTorch's index tuple for `out`: null for a dim left
  // whole, a k-dim mask standing for k dims
  int64_t covered = 0;
  auto put = [&](const Tensor& t, int64_t dims) {
    for (; covered < dim; ++covered) advanced.push_back(nullptr);
    advanced.push_back(t);
    covered += dims;
  };
  for (const TensorIndex& k : key) {
    switch (k.kind) {
      case TensorIndex::Kind::None:
        out = unsqueeze(out, dim);
        ++dim;
        break;
      case TensorIndex::Kind::Ellipsis:
        dim += x->ndim() - consumed;
        break;
      case TensorIndex::Kind::Bool:
        out = unsqueeze(out, dim);
        if (!k.boolean) out = slice(out, dim, 0, 0, 1);
        ++dim;
        break;
      case TensorIndex::Kind::Int:
        out = select(out, dim, k.integer);
        break;
      case TensorIndex::Kind::Slice:
        if (k.step <= 0)
          throw ValueError("step must be greater than zero, got " + std::to_string(k.step));
        if (k.has_start || k.has_stop || k.step != 1)
          out = slice(out, dim, k.has_start ? k.start : 0,
                      k.has_stop ? k.stop : std::numeric_limits<int64_t>::max(), k.step);
        ++dim;
        break;
      case TensorIndex::Kind::Tensor: {
        const Tensor& t = k.tensor;
        if (t->dtype == DType::bool_ && t->ndim() == 0) {  // like a Python bool
          out = unsqueeze(out, dim);
          if (!item_scalar(t).i) out = slice(out, dim, 0, 0, 1);
          ++dim;
          break;
        }
        if (!is_integral(t->dtype) && t->dtype != DType::bool_)
          throw IndexError(std::string("tensors used as indices must be long, int or bool "
                                       "tensors, got ") +
                           dtype_name(t->dtype));
        const int64_t dims = t->dtype == DType::bool_ ? t->ndim() : 1;
        put(t, dims);
        dim += dims;
        break;
      }
    }
  }
  return out;
}

bool any_defined(const std::vector<Tensor>& ts) {
  for (const Tensor& t : ts)
    if (t) return true;
  return false;
}
}  // namespace

Tensor getitem(const Tensor& x, const std::vector<TensorIndex>& key) {
  check_defined(x, "index");
  std::vector<Tensor> advanced;
  Tensor out = apply_basic(x, key, advanced);
  if (!any_defined(advanced)) return out == x ? view(x, x->shape) : out;  // x[...] is a new view
  return index(out, advanced);
}

void setitem(const Tensor& x, const std::vector<TensorIndex>& key, const Tensor& value) {
  check_defined(x, "setitem");
  check_defined(value, "setitem");
  std::vector<Tensor> advanced;
  Tensor target = apply_basic(x, key, advanced);
  if (target == x) target = view(x, x->shape);
  if (!any_defined(advanced)) {
    check_inplace(target, "setitem");
    commit_inplace(target, value, "setitem", /*copy=*/true);
    return;
  }
  check_inplace(target, "setitem");
  std::vector<Tensor> indices = expand_masks(target, advanced, "index_put");
  const bool recording = grad_enabled() && (target->requires_grad || value->requires_grad);
  if (!recording && !has_tangents(target) && !has_tangents(value)) {
    put_into(target, indices, value, false);
    target->bump_version();
    return;
  }
  Tensor input = inplace_input(target, recording);
  commit_inplace(target, index_put(input, indices, value, false), "setitem", /*copy=*/true);
}

// ---- the table ----------------------------------------------------------------------------

namespace {
Tensor index_put_op(const Tensor& x, const std::vector<Tensor>& indices, const Tensor& values,
                    bool accumulate) {
  return index_put(x, indices, values, accumulate);
}
Tensor masked_fill_op(const Tensor& x, const Tensor& mask, const Tensor& value) {
  return masked_fill(x, mask, value);
}
Value nonzero_op(const Tensor& x, bool as_tuple) {
  Tensor nz = nonzero(x);
  if (!as_tuple) return Value(nz);
  Value v;
  v.kind = Value::Kind::TensorList;
  for (int64_t d = 0; d < std::max<int64_t>(x->ndim(), 1); ++d)
    v.tensors.push_back(x->ndim() ? contiguous(select(nz, 1, d))
                                  : zeros({nz->shape[0]}, DType::int64));
  return v;
}
}  // namespace

TG_OP("index_select(Tensor input, int dim, Tensor index) -> Tensor", "function method",
      index_select, R"(The entries of input at index along dim (index: 1-D integers).

>>> tg.index_select(tg.tensor([10.0, 20.0, 30.0]), 0, tg.tensor([2, 0])).tolist()
[30.0, 10.0])");
TG_OP("gather(Tensor input, int dim, Tensor index) -> Tensor", "function method", gather,
      R"(out[i][j] = input[index[i][j]][j] (for dim 0), index shaped like out.

>>> tg.gather(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), 1, tg.tensor([[1], [0]])).tolist()
[[2.0], [3.0]])");
TG_OP("index_put(Tensor input, Tensor?[] indices, Operand values, bool accumulate=False) -> Tensor",
      "function method inplace", index_put_op,
      R"(input with values written (or added) at indices (one index tensor per dim).

>>> tg.zeros(3).index_put([tg.tensor([0, 2])], tg.tensor(1.0)).tolist()
[1.0, 0.0, 1.0])");
TG_OP("masked_fill(Tensor input, Tensor mask, Operand value) -> Tensor", "function method inplace",
      masked_fill_op,
      R"(input with value where the bool mask (broadcast) is true.

>>> tg.tensor([1.0, 2.0]).masked_fill(tg.tensor([True, False]), 0.0).tolist()
[0.0, 2.0])");
TG_OP("masked_select(Tensor input, Tensor mask) -> Tensor", "function method", masked_select,
      R"(The entries of input where the bool mask (broadcast) is true, as a 1-D tensor.

>>> tg.masked_select(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([True, False, True])).tolist()
[1.0, 3.0])");
TG_OP("nonzero(Tensor input, *, bool as_tuple=False) -> Tensor", "function method", nonzero_op,
      R"(The indices of the nonzero entries: an (n, ndim) int64 tensor, or one 1-D tensor per
dim with as_tuple=True.

>>> tg.nonzero(tg.tensor([0, 3, 0, 4])).tolist()
[[1], [3]])");

}  // namespace tapegrad
