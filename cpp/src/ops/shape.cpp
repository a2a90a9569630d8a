// Shape ops, dtype casts and copies. View ops (view, reshape where possible,
// transpose, permute, expand, squeeze, unsqueeze, select, slice, narrow,
// diagonal, unfold, split, as_strided) return tensors that share their input's
// storage in O(1), as PyTorch's; each states the backward of its geometry.
#include <cstring>
#include <numeric>

#include "elementwise.h"
#include "tapegrad/registry.h"

namespace tapegrad {

Tensor to_dtype(const Tensor& x, DType dt) {
  check_defined(x, "to");
  if (x->dtype == dt) return x;
  Tensor out = empty(x->shape, dt);
  copy_into(out, x);
  if (!is_floating(dt) || !is_floating(x->dtype)) return out;  // no gradient through integers
  forward_ad(out, {&x}, [&](const Grads& t) { return to_dtype(t[0], dt); });
  return record("ToCopyBackward", {&x}, out, [&] {
    return [from = x->dtype](Node&, const Tensor& g) -> Grads { return {to_dtype(g, from)}; };
  });
}

Tensor clone(const Tensor& x) {
  check_defined(x, "clone");
  Tensor out = copy_data(x);
  forward_ad(out, {&x}, [&](const Grads& t) { return t[0]; });
  return record("CloneBackward", {&x}, out,
                [] { return [](Node&, const Tensor& g) -> Grads { return {g}; }; });
}

Tensor contiguous(const Tensor& x) {
  check_defined(x, "contiguous");
  return x->contiguous ? x : clone(x);
}

Tensor detach(const Tensor& x) {
  check_defined(x, "detach");
  return alias(x);
}

Tensor copy_(const Tensor& self, const Tensor& src) {
  check_inplace(self, "copy_");
  check_defined(src, "copy_");
  return commit_inplace(self, src, "copy_", /*copy=*/true);
}

// ---- view geometry ------------------------------------------------------------------

// The strides that let `shape` view memory laid out as (old_shape,
// old_strides), or none when a copy is needed (PyTorch's computeStride).
static std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides,
                                           const Shape& shape) {
  Strides strides(shape.size());
  if (old_shape.empty() || numel_of(old_shape, "view") == 0) return contiguous_strides(shape);
  int64_t view_d = int64_t(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    if (d == 0 ||
        (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

// The shape with its one -1 inferred, checked against numel.
static Shape infer_shape(const Shape& shape_in, const Shape& input_shape, const char* op) {
  const int64_t numel = numel_of(input_shape, op);
  Shape shape = shape_in;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw RuntimeError(std::string(op) + ": only one dimension can be inferred");
      infer = int64_t(i);
    } else if (shape[i] < 0) {
      throw RuntimeError(std::string(op) + ": invalid shape dimension " + std::to_string(shape[i]) +
                         " in " + shape_str(shape_in));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw RuntimeError(std::string(op) + ": shape " + shape_str(shape_in) +
                         " is invalid for input of size " + std::to_string(numel) +
                         " (input shape " + shape_str(input_shape) + ")");
    shape[infer] = numel / known;
  }
  if (numel_of(shape, op) != numel)
    throw RuntimeError(std::string(op) + ": shape " + shape_str(shape_in) +
                       " is invalid for input of size " + std::to_string(numel) + " (input shape " +
                       shape_str(input_shape) + ")");
  return shape;
}

static Tensor view_with(const char* name, const Tensor& x, const Shape& shape,
                        const Strides& strides) {
  return make_view(
      name, x, shape, strides, x->offset,
      [from = x->shape](const Tensor& g) { return reshape(g, from); },
      [shape](const Tensor& t) { return reshape(t, shape); });
}

Tensor view(const Tensor& x, const Shape& shape_in) {
  check_defined(x, "view");
  Shape shape = infer_shape(shape_in, x->shape, "view");
  auto strides = view_strides(x->shape, x->strides, shape);
  if (!strides)
    throw RuntimeError(
        "view: view size is not compatible with input tensor's size and stride (at least one "
        "dimension spans across two contiguous subspaces): input shape " +
        shape_str(x->shape) + ", requested " + shape_str(shape_in) +
        ". Use .reshape(...) instead.");
  return view_with("ViewBackward", x, shape, *strides);
}

Tensor reshape(const Tensor& x, const Shape& shape_in) {
  check_defined(x, "reshape");
  Shape shape = infer_shape(shape_in, x->shape, "reshape");
  if (auto strides = view_strides(x->shape, x->strides, shape))
    return view_with("ViewBackward", x, shape, *strides);
  Tensor c = clone(x);
  return view_with("ViewBackward", c, shape, contiguous_strides(shape));
}

Tensor as_strided(const Tensor& x, const Shape& shape, const Strides& strides,
                  std::optional<int64_t> storage_offset) {
  check_defined(x, "as_strided");
  if (shape.size() != strides.size())
    throw RuntimeError("as_strided: mismatch in length of strides and shape (" +
                       std::to_string(shape.size()) + " and " + std::to_string(strides.size()) +
                       ")");
  const int64_t offset = storage_offset ? *storage_offset : x->offset;
  if (offset < 0)
    throw RuntimeError("as_strided: negative storage offset " + std::to_string(offset));
  int64_t reach = offset;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (strides[d] < 0)
      throw RuntimeError("as_strided: negative strides are not supported, got " +
                         std::to_string(strides[d]));
    if (shape[d] == 0) reach = -1;
    if (reach >= 0) reach += (shape[d] - 1) * strides[d];
  }
  numel_of(shape, "as_strided");
  if (reach >= 0 && size_t(reach + 1) * dtype_size(x->dtype) > x->storage->nbytes)
    throw RuntimeError("as_strided: setStorage: sizes " + shape_str(shape) + ", strides " +
                       shape_str(strides) + " and storage offset " + std::to_string(offset) +
                       " are out of bounds for a storage of " +
                       std::to_string(x->storage->nbytes / dtype_size(x->dtype)) + " elements");
  return make_view(
      "AsStridedBackward", x, shape, strides, offset,
      [bs = x->shape, bst = x->strides, bo = x->offset, shape, strides, offset](const Tensor& g) {
        return as_strided_scatter(g, bs, bst, bo, shape, strides, offset);
      },
      [bs = x->shape, bst = x->strides, bo = x->offset, shape, strides, offset](const Tensor& t) {
        return as_strided_gather(t, bs, bst, bo, shape, strides, offset);
      });
}

namespace {
// Elements of a storage spanned by both geometries.
int64_t extent(const Shape& s1, const Strides& st1, int64_t o1, const Shape& s2, const Strides& st2,
               int64_t o2) {
  auto reach = [](const Shape& s, const Strides& st, int64_t o) {
    int64_t r = o;
    for (size_t d = 0; d < s.size(); ++d) {
      if (s[d] == 0) return int64_t(0);
      r += (s[d] - 1) * st[d];
    }
    return r + 1;
  };
  return std::max(reach(s1, st1, o1), reach(s2, st2, o2));
}

// dst (through its geometry in a scratch storage) += src, element by element
// in order, so that overlapping destinations add up.
void add_through(const Tensor& dst, const Tensor& src) {
  dispatch_all(dst->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, bool>) {
      StridedWalk<2> walk(dst->shape, {dst->strides, broadcast_strides(*src, dst->shape)});
      T* pd = dst->ptr<T>();
      const T* ps = src->ptr<T>();
      walk.run([&](const auto& off, int64_t n, const auto& step) {
        for (int64_t j = 0; j < n; ++j) pd[off[0] + j * step[0]] += ps[off[1] + j * step[1]];
      });
    }
  });
}
}  // namespace

Tensor as_strided_gather(const Tensor& x, const Shape& base_shape, const Strides& base_strides,
                         int64_t base_offset, const Shape& shape, const Strides& strides,
                         int64_t offset) {
  // place x as the base in a scratch storage, read the view region out
  Tensor scratch =
      zeros({extent(base_shape, base_strides, base_offset, shape, strides, offset)}, x->dtype);
  copy_into(alias_with(scratch, base_shape, base_strides, base_offset), x);
  Tensor out = copy_data(alias_with(scratch, shape, strides, offset));
  forward_ad(out, {&x}, [&](const Grads& t) {
    return as_strided_gather(t[0], base_shape, base_strides, base_offset, shape, strides, offset);
  });
  return record("AsStridedGatherBackward", {&x}, out, [&] {
    return [=](Node&, const Tensor& g) -> Grads {
      return {as_strided_scatter(g, base_shape, base_strides, base_offset, shape, strides, offset)};
    };
  });
}

Tensor as_strided_scatter(const Tensor& g, const Shape& base_shape, const Strides& base_strides,
                          int64_t base_offset, const Shape& shape, const Strides& strides,
                          int64_t offset) {
  Tensor scratch =
      zeros({extent(base_shape, base_strides, base_offset, shape, strides, offset)}, g->dtype);
  add_through(alias_with(scratch, shape, strides, offset), g);
  Tensor out = copy_data(alias_with(scratch, base_shape, base_strides, base_offset));
  forward_ad(out, {&g}, [&](const Grads& t) {
    return as_strided_scatter(t[0], base_shape, base_strides, base_offset, shape, strides, offset);
  });
  return record("AsStridedScatterBackward", {&g}, out, [&] {
    return [=](Node&, const Tensor& gg) -> Grads {
      return {as_strided_gather(gg, base_shape, base_strides, base_offset, shape, strides, offset)};
    };
  });
}

Tensor permute(const Tensor& x, const Dims& dims) {
  check_defined(x, "permute");
  if (int64_t(dims.size()) != x->ndim())
    throw RuntimeError(
        "permute: number of dimensions in the tensor input does not match the "
        "length of the desired ordering of dimensions i.e. input.dim() = " +
        std::to_string(x->ndim()) + " is not equal to len(dims) = " + std::to_string(dims.size()) +
        " (shape " + shape_str(x->shape) + ")");
  Dims perm(dims.size()), inverse(dims.size(), -1);
  Shape shape(dims.size());
  Strides strides(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    perm[i] = wrap_dim(dims[i], x->ndim(), "permute");
    if (inverse[perm[i]] >= 0)
      throw RuntimeError("permute: repeated dim " + std::to_string(perm[i]) +
                         " in the permutation");
    inverse[perm[i]] = int64_t(i);
    shape[i] = x->shape[perm[i]];
    strides[i] = x->strides[perm[i]];
  }
  return make_view(
      "PermuteBackward", x, shape, strides, x->offset,
      [inverse](const Tensor& g) { return permute(g, inverse); },
      [perm](const Tensor& t) { return permute(t, perm); });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  check_defined(x, "transpose");
  int64_t d0 = wrap_dim(dim0, x->ndim(), "transpose"), d1 = wrap_dim(dim1, x->ndim(), "transpose");
  Dims perm(x->ndim());
  std::iota(perm.begin(), perm.end(), 0);
  if (x->ndim() > 0) std::swap(perm[d0], perm[d1]);
  return permute(x, perm);
}

Tensor numpy_T(const Tensor& x) {
  check_defined(x, "T");
  Dims perm(x->ndim());
  for (int64_t i = 0; i < x->ndim(); ++i) perm[i] = x->ndim() - 1 - i;
  return permute(x, perm);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "expand");
  if (x->shape == shape) return x;
  if (shape.size() < x->shape.size())
    throw RuntimeError("expand: the number of sizes provided (" + std::to_string(shape.size()) +
                       ") must be greater or equal to the number of dimensions in the tensor (" +
                       std::to_string(x->ndim()) + ")");
  const size_t lead = shape.size() - x->shape.size();
  for (size_t k = 0; k < x->shape.size(); ++k)
    if (x->shape[k] != 1 && x->shape[k] != shape[lead + k])
      throw RuntimeError("expand: the expanded size of the tensor (" +
                         std::to_string(shape[lead + k]) + ") must match the existing size (" +
                         std::to_string(x->shape[k]) + ") at non-singleton dimension " +
                         std::to_string(lead + k) + ".  Target sizes: " + shape_str(shape) +
                         ".  Tensor sizes: " + shape_str(x->shape));
  numel_of(shape, "expand");
  return make_view(
      "ExpandBackward", x, shape, broadcast_strides(*x, shape), x->offset,
      [from = x->shape](const Tensor& g) { return sum_to(g, from); },
      [shape](const Tensor& t) { return broadcast_to(t, shape); });
}

Tensor expand(const Tensor& x, const Shape& sizes) {
  check_defined(x, "expand");
  if (sizes.size() < x->shape.size())
    throw RuntimeError("expand: the number of sizes provided (" + std::to_string(sizes.size()) +
                       ") must be greater or equal to the number of dimensions in the tensor (" +
                       std::to_string(x->ndim()) + ")");
  Shape shape = sizes;
  const size_t lead = sizes.size() - x->shape.size();
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) {
      if (i < lead)
        throw RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension " +
                           std::to_string(i));
      shape[i] = x->shape[i - lead];
    } else if (sizes[i] < 0) {
      throw RuntimeError("expand: invalid size " + std::to_string(sizes[i]));
    }
  }
  // expanding to the same shape is a new view, never x itself
  return shape == x->shape ? view(x, shape) : broadcast_to(x, shape);
}

Tensor squeeze(const Tensor& x, const OptDims& dims) {
  check_defined(x, "squeeze");
  std::vector<bool> drop(x->ndim(), false);
  if (dims) {
    for (int64_t d : *dims) {
      int64_t w = wrap_dim(d, x->ndim(), "squeeze");
      if (x->ndim() > 0 && x->shape[w] == 1) drop[w] = true;
    }
  } else {
    for (int64_t d = 0; d < x->ndim(); ++d) drop[d] = x->shape[d] == 1;
  }
  Shape shape;
  Strides strides;
  for (int64_t d = 0; d < x->ndim(); ++d)
    if (!drop[d]) {
      shape.push_back(x->shape[d]);
      strides.push_back(x->strides[d]);
    }
  return view_with("SqueezeBackward", x, shape, strides);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  check_defined(x, "unsqueeze");
  int64_t d = wrap_dim(dim, x->ndim() + 1, "unsqueeze");
  Shape shape = x->shape;
  Strides strides = x->strides;
  int64_t s = d < x->ndim() ? x->shape[d] * x->strides[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, s);
  return view_with("UnsqueezeBackward", x, shape, strides);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  check_defined(x, "flatten");
  if (x->ndim() == 0) {
    wrap_dim(start_dim, 0, "flatten");  // only -1 and 0 name the one dim of a scalar
    wrap_dim(end_dim, 0, "flatten");
    return reshape(x, {1});
  }
  int64_t s = wrap_dim(start_dim, x->ndim(), "flatten"),
          e = wrap_dim(end_dim, x->ndim(), "flatten");
  if (s > e) throw RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim");
  Shape shape(x->shape.begin(), x->shape.begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= x->shape[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x->shape.begin() + e + 1, x->shape.end());
  return reshape(x, shape);
}

Tensor slice(const Tensor& x, int64_t dim_in, int64_t start, int64_t stop, int64_t step) {
  check_defined(x, "slice");
  int64_t dim = wrap_dim(dim_in, x->ndim(), "slice", false);
  if (step <= 0)
    throw ValueError("slice: step must be greater than zero, got " + std::to_string(step));
  const int64_t size = x->shape[dim];
  // clamp as Python slices do
  auto clampi = [size](int64_t v) {
    if (v < 0) v += size;
    return std::min(std::max<int64_t>(v, 0), size);
  };
  start = clampi(start);
  stop = std::max(clampi(stop), start);
  const int64_t n =
      stop == start ? 0 : (stop - start - 1) / step + 1;  // no overflow for huge steps
  Shape shape = x->shape;
  Strides strides = x->strides;
  shape[dim] = n;
  if (n > 1) strides[dim] *= step;  // (a step past the end would overflow)
  return make_view(
      "SliceBackward", x, shape, strides, x->offset + start * x->strides[dim],
      [from = x->shape, dim, start, stop, step](const Tensor& g) {
        return slice_scatter(g, from, dim, start, stop, step);
      },
      [dim, start, stop, step](const Tensor& t) { return slice(t, dim, start, stop, step); });
}

Tensor narrow(const Tensor& x, int64_t dim_in, int64_t start, int64_t length) {
  check_defined(x, "narrow");
  int64_t dim = wrap_dim(dim_in, x->ndim(), "narrow", false);
  const int64_t size = x->shape[dim];
  if (start < -size || start > size)
    throw IndexError("narrow: start (" + std::to_string(start) +
                     ") is out of range for dimension " + std::to_string(dim) + " of size " +
                     std::to_string(size));
  if (start < 0) start += size;
  if (length < 0 || start + length > size)
    throw RuntimeError("narrow: start (" + std::to_string(start) + ") + length (" +
                       std::to_string(length) + ") exceeds dimension size (" +
                       std::to_string(size) + ").");
  return slice(x, dim, start, start + length, 1);
}

Tensor select(const Tensor& x, int64_t dim_in, int64_t index) {
  check_defined(x, "select");
  if (x->ndim() == 0)
    throw IndexError(
        "invalid index of a 0-dim tensor (select). Use `tensor.item()` to convert a 0-dim tensor "
        "to a number");
  int64_t dim = wrap_dim(dim_in, x->ndim(), "select");
  const int64_t size = x->shape[dim];
  if (index < -size || index >= size)
    throw IndexError("index " + std::to_string(index) + " is out of bounds for dimension " +
                     std::to_string(dim) + " with size " + std::to_string(size));
  if (index < 0) index += size;
  Shape shape = x->shape;
  Strides strides = x->strides;
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return make_view(
      "SelectBackward", x, shape, strides, x->offset + index * x->strides[dim],
      [from = x->shape, dim, index](const Tensor& g) {
        return slice_scatter(unsqueeze(g, dim), from, dim, index, index + 1, 1);
      },
      [dim, index](const Tensor& t) { return select(t, dim, index); });
}

Tensor diagonal(const Tensor& x, int64_t offset, int64_t dim1_in, int64_t dim2_in) {
  check_defined(x, "diagonal");
  int64_t d1 = wrap_dim(dim1_in, x->ndim(), "diagonal", false),
          d2 = wrap_dim(dim2_in, x->ndim(), "diagonal", false);
  if (d1 == d2)
    throw RuntimeError("diagonal dimensions cannot be identical " + std::to_string(dim1_in) + ", " +
                       std::to_string(dim2_in));
  // the diagonal of a dense layout of x's shape, and the same of x itself
  auto geometry = [&](const Strides& st, int64_t base, Shape& shape, Strides& strides,
                      int64_t& at) {
    int64_t len;
    at = base;
    if (offset >= 0) {
      len = std::max<int64_t>(0, std::min(x->shape[d1], x->shape[d2] - offset));
      if (len > 0) at += offset * st[d2];
    } else {
      len = std::max<int64_t>(0, std::min(x->shape[d1] + offset, x->shape[d2]));
      if (len > 0) at -= offset * st[d1];
    }
    shape.clear();
    strides.clear();
    for (int64_t d = 0; d < x->ndim(); ++d)
      if (d != d1 && d != d2) {
        shape.push_back(x->shape[d]);
        strides.push_back(st[d]);
      }
    shape.push_back(len);
    strides.push_back(st[d1] + st[d2]);
  };
  Shape shape, dense_shape;
  Strides strides, dense_strides;
  int64_t at, dense_at;
  geometry(x->strides, x->offset, shape, strides, at);
  const Strides dense = contiguous_strides(x->shape);
  geometry(dense, 0, dense_shape, dense_strides, dense_at);
  return make_view(
      "DiagonalBackward", x, shape, strides, at,
      [from = x->shape, dense, dense_shape, dense_strides, dense_at](const Tensor& g) {
        return as_strided_scatter(g, from, dense, 0, dense_shape, dense_strides, dense_at);
      },
      [offset, d1, d2](const Tensor& t) { return diagonal(t, offset, d1, d2); });
}

static Tensor unfold(const Tensor& x, int64_t dim_in, int64_t size, int64_t step) {
  check_defined(x, "unfold");
  int64_t dim = wrap_dim(dim_in, x->ndim(), "unfold");
  const int64_t len = x->ndim() ? x->shape[dim] : 1;
  if (size < 0 || size > len)
    throw RuntimeError("unfold: maximum size for tensor at dimension " + std::to_string(dim) +
                       " is " + std::to_string(len) + " but size is " + std::to_string(size));
  if (step <= 0) throw RuntimeError("unfold: step is " + std::to_string(step) + " but must be > 0");
  Shape shape = x->shape;
  Strides strides = x->strides;
  const int64_t stride = x->ndim() ? x->strides[dim] : 1;
  if (x->ndim()) {
    shape[dim] = (len - size) / step + 1;
    strides[dim] = step * stride;
  }
  shape.push_back(size);
  strides.push_back(stride);
  Shape dense_shape = shape;
  Strides dense = contiguous_strides(x->shape), dense_strides = dense;
  const int64_t dense_stride = x->ndim() ? dense[dim] : 1;
  if (x->ndim()) dense_strides[dim] = step * dense_stride;
  dense_strides.push_back(dense_stride);
  return make_view(
      "UnfoldBackward", x, shape, strides, x->offset,
      [from = x->shape, dense, dense_shape, dense_strides](const Tensor& g) {
        return as_strided_scatter(g, from, dense, 0, dense_shape, dense_strides, 0);
      },
      [dim, size, step](const Tensor& t) { return unfold(t, dim, size, step); });
}

// ---- joins and splits ------------------------------------------------------------------

Tensor cat(const std::vector<Tensor>& xs_in, int64_t dim_in) {
  if (xs_in.empty()) throw ValueError("cat: expected a non-empty list of Tensors");
  for (const Tensor& t : xs_in) check_defined(t, "cat");
  // 1-D empty tensors are skipped, as PyTorch's legacy rule
  std::vector<Tensor> kept;
  for (const Tensor& t : xs_in)
    if (!(t->ndim() == 1 && t->numel == 0)) kept.push_back(t);
  if (kept.empty()) kept.push_back(xs_in[0]);
  const Tensor& first = kept[0];
  if (first->ndim() == 0)
    throw RuntimeError("cat: zero-dimensional tensor (at position 0) cannot be concatenated");
  int64_t dim = wrap_dim(dim_in, first->ndim(), "cat");
  DType dt = first->dtype;
  for (const Tensor& t : kept) dt = promote(dt, t->dtype);
  std::vector<Tensor> xs;
  Shape shape = first->shape;
  shape[dim] = 0;
  for (size_t i = 0; i < kept.size(); ++i) {
    const Tensor& t = kept[i];
    bool ok = t->ndim() == first->ndim();
    for (int64_t d = 0; ok && d < t->ndim(); ++d) ok = d == dim || t->shape[d] == first->shape[d];
    if (!ok)
      throw RuntimeError("cat: sizes of tensors must match except in dimension " +
                         std::to_string(dim) + ": tensor 0 has shape " + shape_str(first->shape) +
                         " and tensor " + std::to_string(i) + " has shape " + shape_str(t->shape));
    if (__builtin_add_overflow(shape[dim], t->shape[dim], &shape[dim]))
      throw RuntimeError("cat: the joined size along dimension " + std::to_string(dim) +
                         " is too large");
    xs.push_back(to_dtype(t, dt));
  }
  Tensor out = empty(shape, dt);
  std::vector<int64_t> bounds{0};
  for (const Tensor& t : xs) {
    const int64_t at = bounds.back();
    bounds.push_back(at + t->shape[dim]);
    Shape part = out->shape;
    part[dim] = t->shape[dim];
    copy_into(alias_with(out, part, out->strides, at * out->strides[dim]), t);
  }
  // One node with an edge per input; each input gets its slice of g.
  std::vector<const Tensor*> inputs;
  for (const Tensor& t : xs) inputs.push_back(&t);
  forward_ad(out, inputs, [&](const Grads& t) {
    std::vector<Tensor> ts;
    for (size_t i = 0; i < xs.size(); ++i) ts.push_back(t[i] ? t[i] : zeros(xs[i]->shape, dt));
    return cat(ts, dim);
  });
  return record("CatBackward", inputs, out, [&] {
    return [bounds, dim](Node& n, const Tensor& g) -> Grads {
      Grads grads;
      for (size_t i = 0; i + 1 < bounds.size(); ++i)
        grads.push_back(n.needs_grad(i) ? slice(g, dim, bounds[i], bounds[i + 1], 1) : nullptr);
      return grads;
    };
  });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) throw RuntimeError("stack: expected a non-empty list of Tensors");
  for (size_t i = 0; i < xs.size(); ++i) {
    check_defined(xs[i], "stack");
    if (xs[i]->shape != xs[0]->shape)
      throw RuntimeError("stack: expects each tensor to be equal size, but got " +
                         shape_str(xs[0]->shape) + " at entry 0 and " + shape_str(xs[i]->shape) +
                         " at entry " + std::to_string(i));
  }
  int64_t d = wrap_dim(dim, xs[0]->ndim() + 1, "stack");
  std::vector<Tensor> parts;
  for (const Tensor& t : xs) parts.push_back(unsqueeze(t, d));
  return cat(parts, d);
}

std::vector<Tensor> split(const Tensor& x, const Shape& sizes, int64_t dim_in) {
  check_defined(x, "split");
  int64_t dim = wrap_dim(dim_in, x->ndim(), "split", false);
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      throw RuntimeError("split: split sizes must be non-negative, got " + std::to_string(s));
    total += s;
  }
  if (total != x->shape[dim])
    throw RuntimeError("split_with_sizes expects split_sizes to sum exactly to " +
                       std::to_string(x->shape[dim]) + " (input tensor's size at dimension " +
                       std::to_string(dim) + "), but got split_sizes=" + shape_str(sizes));
  std::vector<Tensor> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(slice(x, dim, at, at + s, 1));
    at += s;
  }
  return out;
}

// ---- the table ------------------------------------------------------------------------------

namespace {
Shape even_split(int64_t len, int64_t size, const char* op) {
  if (size <= 0 && len > 0)
    throw RuntimeError(std::string(op) + ": split_size must be positive, got " +
                       std::to_string(size));
  Shape sizes;
  for (int64_t at = 0; at < len; at += size) sizes.push_back(std::min(size, len - at));
  if (sizes.empty()) sizes.push_back(0);
  return sizes;
}
std::vector<Tensor> split_size(const Tensor& x, int64_t size, int64_t dim) {
  check_defined(x, "split");
  int64_t d = wrap_dim(dim, x->ndim(), "split", false);
  return split(x, even_split(x->shape[d], size, "split"), d);
}
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  check_defined(x, "chunk");
  if (chunks <= 0)
    throw RuntimeError("chunk expects `chunks` to be greater than 0, got: " +
                       std::to_string(chunks));
  int64_t d = wrap_dim(dim, x->ndim(), "chunk", false);
  const int64_t len = x->shape[d];
  return split(x, even_split(len, (len + chunks - 1) / chunks, "chunk"), d);
}
std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  check_defined(x, "unbind");
  int64_t d = wrap_dim(dim, x->ndim(), "unbind", false);
  std::vector<Tensor> out;
  for (int64_t i = 0; i < x->shape[d]; ++i) out.push_back(select(x, d, i));
  return out;
}
Tensor movedim(const Tensor& x, const Dims& source, const Dims& destination) {
  check_defined(x, "movedim");
  if (source.size() != destination.size())
    throw RuntimeError("movedim: Invalid source or destination dims: source (" + shape_str(source) +
                       " dims) should contain the same number of dims as "
                       "destination (" +
                       shape_str(destination) + " dims)");
  const int64_t n = x->ndim();
  Dims perm(n, -1);
  std::vector<bool> used(n, false), placed(n, false);
  for (size_t i = 0; i < source.size(); ++i) {
    int64_t s = wrap_dim(source[i], n, "movedim"), d = wrap_dim(destination[i], n, "movedim");
    if (used[s] || placed[d]) throw RuntimeError("movedim: repeated dim in source or destination");
    perm[d] = s;
    used[s] = placed[d] = true;
  }
  int64_t next = 0;
  for (int64_t d = 0; d < n; ++d) {
    if (perm[d] >= 0) continue;
    while (used[next]) ++next;
    perm[d] = next++;
  }
  return permute(x, perm);
}
Tensor t_op(const Tensor& x) {
  check_defined(x, "t");
  if (x->ndim() > 2)
    throw RuntimeError("t() expects a tensor with <= 2 dimensions, but self is " +
                       std::to_string(x->ndim()) + "D");
  return x->ndim() < 2 ? view(x, x->shape) : transpose(x, 0, 1);
}
Tensor flatten_op(const Tensor& x, int64_t s, int64_t e) { return flatten(x, s, e); }
Tensor unflatten(const Tensor& x, int64_t dim, const Shape& sizes) {
  check_defined(x, "unflatten");
  int64_t d = wrap_dim(dim, x->ndim(), "unflatten", false);
  Shape part = infer_shape(sizes, {x->shape[d]}, "unflatten");
  Shape shape(x->shape.begin(), x->shape.begin() + d);
  shape.insert(shape.end(), part.begin(), part.end());
  shape.insert(shape.end(), x->shape.begin() + d + 1, x->shape.end());
  return view(x, shape);
}
}  // namespace

TG_OP("view(Tensor input, int... size) -> Tensor", "method", view,
      R"(A view with another shape over the same data (one size may be -1); raises where
the strides do not allow it (use reshape).

>>> tg.arange(6).view(2, 3).shape
(2, 3))");
TG_OP("reshape(Tensor input, int... shape) -> Tensor", "function method", reshape,
      R"(input with another shape: a view where the strides allow it, else a copy.

>>> tg.reshape(tg.arange(6), (3, -1)).shape
(3, 2))");
TG_OP(
    "view_as(Tensor input, Tensor other) -> Tensor", "method",
    [](const Tensor& x, const Tensor& o) { return view(x, o->shape); },
    R"(x.view(other.shape).

>>> tg.arange(4).view_as(tg.zeros(2, 2)).shape
(2, 2))");
TG_OP(
    "reshape_as(Tensor input, Tensor other) -> Tensor", "method",
    [](const Tensor& x, const Tensor& o) { return reshape(x, o->shape); },
    R"(x.reshape(other.shape).

>>> tg.arange(4).reshape_as(tg.zeros(2, 2)).shape
(2, 2))");
TG_OP("as_strided(Tensor input, int[] size, int[] stride, int? storage_offset=None) -> Tensor",
      "function method", as_strided,
      R"(A view of input's storage with the given sizes, strides and offset (in elements).

>>> tg.as_strided(tg.arange(6.0), (2, 2), (1, 2)).tolist()
[[0.0, 2.0], [1.0, 3.0]])");
TG_OP("transpose(Tensor input, int dim0, int dim1) -> Tensor",
      "function method also:swapaxes also:swapdims", transpose,
      R"(A view with dims dim0 and dim1 swapped.

>>> tg.transpose(tg.zeros(2, 3), 0, 1).shape
(3, 2))");
TG_OP("t(Tensor input) -> Tensor", "function method", t_op,
      R"(The transpose of a matrix (a view); 0-d and 1-d tensors are returned as views.

>>> tg.zeros(2, 3).t().shape
(3, 2))");
TG_OP("permute(Tensor input, int... dims) -> Tensor", "function method", permute,
      R"(A view with the dims reordered.

>>> tg.zeros(2, 3, 4).permute(2, 0, 1).shape
(4, 2, 3))");
TG_OP("movedim(Tensor input, int[] source, int[] destination) -> Tensor",
      "function method also:moveaxis", movedim,
      R"(A view with the dims in source moved to destination, the others in order.

>>> tg.movedim(tg.zeros(2, 3, 4), 0, -1).shape
(3, 4, 2))");
TG_OP("expand(Tensor input, int... size) -> Tensor", "method", expand,
      R"(A view broadcast to size (stride 0 on the new dims; -1 keeps a dim).

>>> tg.tensor([[1.0], [2.0]]).expand(2, 3).tolist()
[[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])");
TG_OP(
    "expand_as(Tensor input, Tensor other) -> Tensor", "method",
    [](const Tensor& x, const Tensor& o) { return expand(x, o->shape); },
    R"(x.expand(other.shape).

>>> tg.tensor([1.0]).expand_as(tg.zeros(3)).shape
(3,))");
TG_OP("broadcast_to(Tensor input, int[] size) -> Tensor", "function method", broadcast_to,
      R"(A view of input broadcast to size.

>>> tg.broadcast_to(tg.tensor([1.0, 2.0]), (2, 2)).shape
(2, 2))");
TG_OP("squeeze(Tensor input, int[]? dim=None) -> Tensor", "function method", squeeze,
      R"(A view without size-1 dims (only those in dim, when given).

>>> tg.zeros(1, 3, 1).squeeze().shape
(3,))");
TG_OP("unsqueeze(Tensor input, int dim) -> Tensor", "function method", unsqueeze,
      R"(A view with a size-1 dim inserted at dim.

>>> tg.zeros(3).unsqueeze(0).shape
(1, 3))");
TG_OP("flatten(Tensor input, int start_dim=0, int end_dim=-1) -> Tensor", "function method",
      flatten_op, R"(input with dims start_dim..end_dim merged (a view where possible).

>>> tg.zeros(2, 3, 4).flatten(1).shape
(2, 12))");
TG_OP("unflatten(Tensor input, int dim, int[] sizes) -> Tensor", "function method", unflatten,
      R"(A view with dim split into sizes (one may be -1).

>>> tg.zeros(2, 12).unflatten(1, (3, 4)).shape
(2, 3, 4))");
TG_OP("select(Tensor input, int dim, int index) -> Tensor", "function method", select,
      R"(The slice at index along dim, without that dim (a view).

>>> tg.arange(6).view(2, 3).select(1, 2).tolist()
[2, 5])");
TG_OP("narrow(Tensor input, int dim, int start, int length) -> Tensor", "function method", narrow,
      R"(length elements from start along dim (a view).

>>> tg.narrow(tg.arange(5), 0, 1, 3).tolist()
[1, 2, 3])");
TG_OP("diagonal(Tensor input, int offset=0, int dim1=0, int dim2=1) -> Tensor", "function method",
      diagonal, R"(The diagonal of dims dim1 and dim2, as a view (last dim of the result).

>>> tg.diagonal(tg.arange(9).view(3, 3)).tolist()
[0, 4, 8])");
TG_OP("unfold(Tensor input, int dimension, int size, int step) -> Tensor", "method", unfold,
      R"(A view of every window of length size, step apart, along dimension (a new last dim).

>>> tg.arange(5).unfold(0, 2, 2).tolist()
[[0, 1], [2, 3]])");
TG_OP("cat(Tensor[] tensors, int dim=0) -> Tensor", "function also:concat also:concatenate", cat,
      R"(The tensors joined along dim.

>>> tg.cat([tg.zeros(2), tg.ones(1)]).tolist()
[0.0, 0.0, 1.0])");
TG_OP("stack(Tensor[] tensors, int dim=0) -> Tensor", "function", stack,
      R"(The tensors (of one shape) joined along a new dim.

>>> tg.stack([tg.zeros(2), tg.ones(2)]).shape
(2, 2))");
TG_OP("split(Tensor input, int split_size_or_sections, int dim=0) -> Tensor[]", "function method",
      split_size, R"(Views of split_size elements along dim (the last may be
shorter).

>>> [t.tolist() for t in tg.split(tg.arange(5), 2)]
[[0, 1], [2, 3], [4]])");
TG_OP("split(Tensor input, int[] split_size_or_sections, int dim=0) -> Tensor[]",
      "function method also:split_with_sizes", split,
      R"(Views of the given sizes along dim.

>>> [t.shape for t in tg.split(tg.arange(5), [2, 3])]
[(2,), (3,)])");
TG_OP("chunk(Tensor input, int chunks, int dim=0) -> Tensor[]", "function method", chunk,
      R"(At most chunks views of equal size along dim (the last may be smaller).

>>> [t.tolist() for t in tg.chunk(tg.arange(5), 2)]
[[0, 1, 2], [3, 4]])");
TG_OP("unbind(Tensor input, int dim=0) -> Tensor[]", "function method", unbind,
      R"(Every slice along dim, as views without that dim.

>>> [t.tolist() for t in tg.unbind(tg.arange(4).view(2, 2))]
[[0, 1], [2, 3]])");
TG_OP("contiguous(Tensor input) -> Tensor", "method", contiguous,
      R"(input itself when it is contiguous in memory, else a contiguous copy.

>>> tg.zeros(2, 3).t().contiguous().is_contiguous()
True)");
TG_OP("clone(Tensor input) -> Tensor", "function method", clone,
      R"(A copy with its own memory, differentiable.

>>> x = tg.ones(2); y = x.clone(); y.add_(1); x.tolist()
[1.0, 1.0])");
TG_OP("detach(Tensor input) -> Tensor", "function method", detach,
      R"(The same data outside the graph (shares memory).

>>> tg.ones(2, requires_grad=True).detach().requires_grad
False)");
TG_OP("copy_(Tensor input, Operand src) -> Tensor", "method", copy_,
      R"(Writes src (broadcast, cast) into this tensor in place; recorded on the graph.

>>> x = tg.zeros(3); x.copy_(tg.tensor([1.0, 2.0, 3.0])).tolist()
[1.0, 2.0, 3.0])");
TG_OP(
    "fill_(Tensor input, Operand value) -> Tensor", "method",
    [](const Tensor& self, const Tensor& value) {
      check_inplace(self, "fill_");
      if (value->ndim() != 0)
        throw RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with " +
                           std::to_string(value->ndim()) + " dimensions.");
      return commit_inplace(self, value, "fill_", /*copy=*/true);
    },
    R"(Sets every element to value, in place.

>>> tg.zeros(3).fill_(2.5).tolist()
[2.5, 2.5, 2.5])");
TG_OP(
    "zero_(Tensor input) -> Tensor", "method",
    [](const Tensor& self) {
      check_inplace(self, "zero_");
      return commit_inplace(self, scalar_tensor(0.0, self->dtype), "zero_", /*copy=*/true);
    },
    R"(Sets every element to zero, in place.

>>> tg.ones(2).zero_().tolist()
[0.0, 0.0])");
TG_OP(
    "type_as(Tensor input, Tensor other) -> Tensor", "method",
    [](const Tensor& x, const Tensor& o) { return to_dtype(x, o->dtype); },
    R"(input cast to other's dtype.

>>> tg.tensor([1, 2]).type_as(tg.zeros(1)).dtype
tapegrad.float32)");

TG_OP(
    "float(Tensor input) -> Tensor", "method",
    [](const Tensor& x) { return to_dtype(x, DType::float32); },
    R"(input as float32 (itself when it already is).

>>> tg.tensor([1, 2]).float().dtype
tapegrad.float32)");
TG_OP(
    "double(Tensor input) -> Tensor", "method",
    [](const Tensor& x) { return to_dtype(x, DType::float64); },
    R"(input as float64 (itself when it already is).

>>> tg.tensor([1, 2]).double().dtype
tapegrad.float64)");
TG_OP(
    "long(Tensor input) -> Tensor", "method",
    [](const Tensor& x) { return to_dtype(x, DType::int64); },
    R"(input as int64, truncated toward zero.

>>> tg.tensor([1.7, -1.7]).long().tolist()
[1, -1])");
TG_OP(
    "int(Tensor input) -> Tensor", "method",
    [](const Tensor& x) { return to_dtype(x, DType::int32); },
    R"(input as int32, truncated toward zero.

>>> tg.tensor([1.7]).int().dtype
tapegrad.int32)");
TG_OP(
    "bool(Tensor input) -> Tensor", "method",
    [](const Tensor& x) { return to_dtype(x, DType::bool_); },
    R"(input as bool (nonzero is True).

>>> tg.tensor([0.0, 2.0]).bool().tolist()
[False, True])");

}  // namespace tapegrad
