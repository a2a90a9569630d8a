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
  return record("ToCopyBackward", {&x}, out, [&] {
    return [from = x->dtype](Node&, const Tensor& g) -> Grads { return {to_dtype(g, from)}; };
  });
}

Tensor clone(const Tensor& x) {
  check_defined(x, "clone");
  Tensor out = copy_data(x);
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

Tensor reshape(const Tensor& x, const Shape& shape_in) {
  check_defined(x, "reshape");
  Shape shape = shape_in;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw ValueError("reshape: only one dimension can be inferred");
      infer = int64_t(i);
    } else if (shape[i] < 0) {
      throw ValueError("reshape: invalid shape dimension " + std::to_string(shape[i]) +
                       " in " + shape_str(shape_in));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x->numel % known != 0)
      throw ValueError("reshape: shape " + shape_str(shape_in) + " is invalid for input of size " +
                       std::to_string(x->numel));
    shape[infer] = x->numel / known;
  }
  if (numel_of(shape, "reshape") != x->numel)
    throw ValueError("reshape: shape " + shape_str(shape_in) + " is invalid for input of size " +
                     std::to_string(x->numel) + " (input shape " + shape_str(x->shape) + ")");
  if (shape == x->shape) return x;
  Tensor out = alias(x, shape);
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

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  check_defined(x, "transpose");
  int64_t d0 = wrap_dim(dim0, x->ndim(), "transpose"), d1 = wrap_dim(dim1, x->ndim(), "transpose");
  if (d0 == d1 || x->ndim() < 2) return x;
  std::vector<int64_t> perm(x->ndim());
  for (int64_t i = 0; i < x->ndim(); ++i) perm[i] = i;
  std::swap(perm[d0], perm[d1]);
  Shape shape = x->shape;
  std::swap(shape[d0], shape[d1]);
  Tensor out = empty(shape, x->dtype);
  dispatch_all(x->dtype, [&](auto tag) { permute_copy<typename decltype(tag)::type>(x, perm, out); });
  return record("TransposeBackward", {&x}, out, [&] {
    return [d0, d1](Node&, const Tensor& g) -> Grads { return {transpose(g, d0, d1)}; };
  });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "expand");
  if (x->shape == shape) return x;
  if (shape.size() < x->shape.size() || broadcast_shapes(x->shape, shape, "expand") != shape)
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
  return record("ExpandBackward", {&x}, out, [&] {
    return [from = x->shape](Node&, const Tensor& g) -> Grads { return {sum_to(g, from)}; };
  });
}

}  // namespace tapegrad
