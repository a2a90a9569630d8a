// Shape ops and dtype casts. Tensors are always contiguous: reshape shares
// storage, transpose and broadcast_to copy.
#include <cstring>

#include "kernels.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

namespace tapegrad {

Tensor to_dtype(const Tensor& x, DType dt) {
  check_defined(x, "to");
  if (x->dtype == dt) return x;
  Tensor out = empty(x->shape, dt);
  dispatch_all(x->dtype, [&](auto from) {
    using S = typename decltype(from)::type;
    dispatch_all(dt, [&](auto to) {
      using D = typename decltype(to)::type;
      const S* ps = x->data<S>();
      D* pd = out->data<D>();
      for (int64_t i = 0; i < x->numel; ++i) pd[i] = static_cast<D>(ps[i]);
    });
  });
  if (!is_floating(dt)) return out;  // int64 results carry no gradient
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

Tensor detach(const Tensor& x) {
  check_defined(x, "detach");
  return alias(x, x->shape);
}

Tensor assign_(const Tensor& self, const Tensor& src, const char* op) {
  check_defined(self, op);
  check_defined(src, op);
  if (self->requires_grad && grad_enabled())
    throw AutogradError(std::string(op) +
                        ": a leaf Variable that requires grad is being used in an in-place "
                        "operation (wrap the update in tg.no_grad())");
  Tensor value;
  {
    GradModeGuard no_grad(false);
    if (broadcast_shapes(src->shape, self->shape, op) != self->shape)
      throw ValueError(std::string(op) + ": output with shape " + shape_str(self->shape) +
                       " doesn't match the broadcast shape " +
                       shape_str(broadcast_shapes(src->shape, self->shape, op)));
    value = to_dtype(broadcast_to(src, self->shape), self->dtype);
  }
  if (value->raw() != self->raw())
    std::memmove(self->raw(), value->raw(), size_t(self->numel) * dtype_size(self->dtype));
  return self;
}

// A new tensor sharing x's storage and shape, connected to x by an identity
// node: what a no-op view (reshape to the same shape, an identity permute)
// returns, so that the result is never x itself, as in PyTorch.
static Tensor identity_view(const Tensor& x) {
  Tensor out = alias(x, x->shape);
  forward_ad(out, {&x}, [&](const Grads& t) { return t[0]; });
  return record("ViewBackward", {&x}, out,
                [] { return [](Node&, const Tensor& g) -> Grads { return {g}; }; });
}

Tensor reshape(const Tensor& x, const Shape& shape_in, const char* op) {
  check_defined(x, op);
  Shape shape = shape_in;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw ValueError(std::string(op) + ": only one dimension can be inferred");
      infer = int64_t(i);
    } else if (shape[i] < 0) {
      throw ValueError(std::string(op) + ": invalid shape dimension " + std::to_string(shape[i]) +
                       " in " + shape_str(shape_in));
    } else if (__builtin_mul_overflow(known, shape[i], &known)) {
      // no tensor has that many elements (and the product would be undefined)
      throw ValueError(std::string(op) + ": shape " + shape_str(shape_in) +
                       " is invalid for input of size " + std::to_string(x->numel));
    }
  }
  if (infer >= 0) {
    if (known == 0 || x->numel % known != 0)
      throw ValueError(std::string(op) + ": shape " + shape_str(shape_in) +
                       " is invalid for input of size " + std::to_string(x->numel));
    shape[infer] = x->numel / known;
  }
  if (numel_of(shape, op) != x->numel)
    throw ValueError(std::string(op) + ": shape " + shape_str(shape_in) +
                     " is invalid for input of size " + std::to_string(x->numel) +
                     " (input shape " + shape_str(x->shape) + ")");
  if (shape == x->shape) return identity_view(x);
  Tensor out = alias(x, shape);
  forward_ad(out, {&x}, [&](const Grads& t) { return reshape(t[0], shape); });
  return record("ReshapeBackward", {&x}, out, [&] {
    return [from = x->shape](Node&, const Tensor& g) -> Grads { return {reshape(g, from)}; };
  });
}

// out = x with its dims permuted (out dim i is x dim perm[i]), copied.
template <class T>
static void permute_copy(const Tensor& x, const std::vector<int64_t>& perm, const Tensor& out) {
  const size_t nd = perm.size();
  if (out->numel == 0) return;
  std::vector<int64_t> xstride(nd), stride(nd);
  int64_t s = 1;
  for (size_t k = nd; k-- > 0;) {
    xstride[k] = s;
    s *= x->shape[k];
  }
  for (size_t i = 0; i < nd; ++i) stride[i] = xstride[perm[i]];
  const T* px = x->data<T>();
  T* po = out->data<T>();
  const Shape& shape = out->shape;
  const int64_t inner = nd ? shape[nd - 1] : 1, is = nd ? stride[nd - 1] : 1;
  std::vector<int64_t> idx(nd, 0);
  int64_t off = 0;
  for (int64_t o = 0; o < out->numel; o += inner) {
    for (int64_t j = 0; j < inner; ++j) po[o + j] = px[off + j * is];
    for (int64_t d = int64_t(nd) - 2; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        off += stride[d];
        break;
      }
      off -= stride[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  check_defined(x, "permute");
  if (int64_t(dims.size()) != x->ndim())
    throw ValueError("permute: number of dims don't match: the tensor has shape " +
                     shape_str(x->shape) + " but " + std::to_string(dims.size()) +
                     " dims were given");
  std::vector<int64_t> perm(dims.size()), inverse(dims.size(), -1);
  Shape shape(dims.size());
  bool identity = true;
  for (size_t i = 0; i < dims.size(); ++i) {
    perm[i] = wrap_dim(dims[i], x->ndim(), "permute");
    if (inverse[perm[i]] >= 0)
      throw ValueError("permute: repeated dim " + std::to_string(perm[i]) + " in the permutation");
    inverse[perm[i]] = int64_t(i);
    shape[i] = x->shape[perm[i]];
    identity = identity && perm[i] == int64_t(i);
  }
  if (identity) return identity_view(x);
  Tensor out = empty(shape, x->dtype);
  dispatch_all(x->dtype,
               [&](auto tag) { permute_copy<typename decltype(tag)::type>(x, perm, out); });
  forward_ad(out, {&x}, [&](const Grads& t) { return permute(t[0], perm); });
  return record("PermuteBackward", {&x}, out, [&] {
    return [inverse](Node&, const Tensor& g) -> Grads { return {permute(g, inverse)}; };
  });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  check_defined(x, "transpose");
  int64_t d0 = wrap_dim(dim0, x->ndim(), "transpose"), d1 = wrap_dim(dim1, x->ndim(), "transpose");
  std::vector<int64_t> perm(x->ndim());
  for (int64_t i = 0; i < x->ndim(); ++i) perm[i] = i;
  if (x->ndim() > 0) std::swap(perm[d0], perm[d1]);
  return permute(x, perm);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "expand");
  if (x->shape == shape) return x;
  // a negative size would pass the broadcast check below against a size-1 dim
  const bool negative = std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; });
  if (negative || shape.size() < x->shape.size() ||
      broadcast_shapes(x->shape, shape, "expand") != shape)
    throw ValueError("expand: the shape " + shape_str(x->shape) +
                     " cannot be expanded to the shape " + shape_str(shape));
  Tensor out = empty(shape, x->dtype);
  const size_t nd = shape.size();
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x->data<T>();
    T* po = out->data<T>();
    if (out->numel == 0) return;
    if (x->numel == 1) {
      std::fill(po, po + out->numel, px[0]);
      return;
    }
    std::vector<int64_t> stride(nd, 0);
    int64_t s = 1;
    for (size_t k = 0; k < x->shape.size(); ++k) {
      size_t i = x->shape.size() - 1 - k, o = nd - 1 - k;
      stride[o] = x->shape[i] == 1 ? 0 : s;
      s *= x->shape[i];
    }
    const int64_t inner = shape[nd - 1], is = stride[nd - 1];
    std::vector<int64_t> idx(nd, 0);
    int64_t off = 0;
    for (int64_t o = 0; o < out->numel; o += inner) {
      if (is == 1)
        std::memcpy(po + o, px + off, sizeof(T) * inner);
      else
        std::fill(po + o, po + o + inner, px[off]);
      for (int64_t d = int64_t(nd) - 2; d >= 0; --d) {
        if (++idx[d] < shape[d]) {
          off += stride[d];
          break;
        }
        off -= stride[d] * (shape[d] - 1);
        idx[d] = 0;
      }
    }
  });
  forward_ad(out, {&x}, [&](const Grads& t) { return broadcast_to(t[0], shape); });
  return record("ExpandBackward", {&x}, out, [&] {
    return [from = x->shape](Node&, const Tensor& g) -> Grads { return {sum_to(g, from)}; };
  });
}

// ---- composites built on reshape, broadcast_to and slice ---------------------

Tensor expand(const Tensor& x, const Shape& sizes) {
  check_defined(x, "expand");
  if (sizes.size() < x->shape.size())
    throw ValueError("expand: the number of sizes provided (" + std::to_string(sizes.size()) +
                     ") must be greater or equal to the number of dimensions in the tensor (" +
                     std::to_string(x->ndim()) + ")");
  Shape shape = sizes;
  const size_t lead = sizes.size() - x->shape.size();
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) {
      if (i < lead)
        throw ValueError("expand: -1 is not allowed in a leading, non-existing dimension " +
                         std::to_string(i));
      shape[i] = x->shape[i - lead];
    } else if (sizes[i] < 0) {
      throw ValueError("expand: invalid size " + std::to_string(sizes[i]));
    }
  }
  // expanding to the same shape is a new view, never x itself
  return shape == x->shape ? reshape(x, shape) : broadcast_to(x, shape);
}

Tensor squeeze(const Tensor& x, std::optional<int64_t> dim) {
  check_defined(x, "squeeze");
  Shape shape;
  if (dim) {
    int64_t d = wrap_dim(*dim, x->ndim(), "squeeze");
    shape = x->shape;
    if (x->ndim() > 0 && shape[d] == 1) shape.erase(shape.begin() + d);
  } else {
    for (int64_t s : x->shape)
      if (s != 1) shape.push_back(s);
  }
  return reshape(x, shape);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  check_defined(x, "unsqueeze");
  int64_t d = wrap_dim(dim, x->ndim() + 1, "unsqueeze");
  Shape shape = x->shape;
  shape.insert(shape.begin() + d, 1);
  return reshape(x, shape);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  check_defined(x, "flatten");
  int64_t s = wrap_dim(start_dim, x->ndim(), "flatten"),
          e = wrap_dim(end_dim, x->ndim(), "flatten");
  // checked above even for a 0-d tensor, whose dims [-1, 0] both name the one element
  if (x->ndim() == 0) return reshape(x, {1});
  if (s > e) throw ValueError("flatten: start_dim cannot come after end_dim");
  Shape shape(x->shape.begin(), x->shape.begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= x->shape[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x->shape.begin() + e + 1, x->shape.end());
  return reshape(x, shape);
}

Tensor cat(const std::vector<Tensor>& xs_in, int64_t dim_in) {
  if (xs_in.empty()) throw ValueError("cat: expected a non-empty list of Tensors");
  for (const Tensor& t : xs_in) check_defined(t, "cat");
  const Tensor& first = xs_in[0];
  if (first->ndim() == 0)
    throw ValueError("cat: zero-dimensional tensor (at position 0) cannot be concatenated");
  int64_t dim = wrap_dim(dim_in, first->ndim(), "cat");
  DType dt = first->dtype;
  for (const Tensor& t : xs_in) dt = promote(dt, t->dtype);
  std::vector<Tensor> xs;
  Shape shape = first->shape;
  shape[dim] = 0;
  for (size_t i = 0; i < xs_in.size(); ++i) {
    const Tensor& t = xs_in[i];
    bool ok = t->ndim() == first->ndim();
    for (int64_t d = 0; ok && d < t->ndim(); ++d) ok = d == dim || t->shape[d] == first->shape[d];
    if (!ok)
      throw ValueError("cat: sizes of tensors must match except in dimension " +
                       std::to_string(dim) + ": tensor 0 has shape " + shape_str(first->shape) +
                       " and tensor " + std::to_string(i) + " has shape " + shape_str(t->shape));
    if (__builtin_add_overflow(shape[dim], t->shape[dim], &shape[dim]))
      throw ValueError("cat: the result would have more than 2^63 entries along dimension " +
                       std::to_string(dim));
    xs.push_back(to_dtype(t, dt));
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < int64_t(shape.size()); ++d) inner *= shape[d];
  Tensor out = empty(shape, dt);
  const size_t item = dtype_size(dt);
  char* po = static_cast<char*>(out->raw());
  const int64_t out_row = shape[dim] * inner;
  int64_t offset = 0;
  for (const Tensor& t : xs) {
    const int64_t row = t->shape[dim] * inner;
    const char* pt = static_cast<const char*>(t->raw());
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(po + (o * out_row + offset) * item, pt + o * row * item, size_t(row) * item);
    offset += row;
  }
  // One node with an edge per input; each input gets its slice of g.
  std::vector<const Tensor*> inputs;
  for (const Tensor& t : xs) inputs.push_back(&t);
  std::vector<int64_t> bounds{0};
  for (const Tensor& t : xs) bounds.push_back(bounds.back() + t->shape[dim]);
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
  if (xs.empty()) throw ValueError("stack: expected a non-empty list of Tensors");
  for (size_t i = 0; i < xs.size(); ++i) {
    check_defined(xs[i], "stack");
    if (xs[i]->shape != xs[0]->shape)
      throw ValueError("stack: expects each tensor to be equal size, but got " +
                       shape_str(xs[0]->shape) + " at entry 0 and " + shape_str(xs[i]->shape) +
                       " at entry " + std::to_string(i));
  }
  int64_t d = wrap_dim(dim, xs[0]->ndim() + 1, "stack");
  std::vector<Tensor> parts;
  for (const Tensor& t : xs) parts.push_back(unsqueeze(t, d));
  return cat(parts, d);
}

}  // namespace tapegrad
