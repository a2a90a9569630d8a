// Reductions over dims. sum is the primitive; mean and sum_to are built on it.
#include <Eigen/Core>
#include <algorithm>
#include <limits>

#include "kernels.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

namespace tapegrad {

// Sorted, wrapped, de-duplicated dims; empty means all dims.
static std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim,
                                           const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, ndim, op);
    if (ndim == 0) continue;  // a 0-d tensor reduces over nothing
    if (std::find(out.begin(), out.end(), w) != out.end())
      throw ValueError(std::string(op) + ": dim " + std::to_string(w) +
                       " appears multiple times in the list of dims");
    out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Sums x over one dim, viewed as (outer, r, inner), keeping the dim as 1.
template <class T>
static Tensor sum_one_dim(const Tensor& x, int64_t dim) {
  int64_t outer = 1, inner = 1, r = x->shape[dim];
  for (int64_t d = 0; d < dim; ++d) outer *= x->shape[d];
  for (int64_t d = dim + 1; d < x->ndim(); ++d) inner *= x->shape[d];
  Shape shape = x->shape;
  shape[dim] = 1;
  Tensor out = zeros(shape, x->dtype);
  const T* px = x->data<T>();
  T* po = out->data<T>();
  if (inner == 1) {
    for (int64_t o = 0; o < outer; ++o)
      po[o] = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(px + o * r, r).sum();
  } else {
    for (int64_t o = 0; o < outer; ++o) {
      T* dst = po + o * inner;
      for (int64_t k = 0; k < r; ++k) {
        const T* src = px + (o * r + k) * inner;
        for (int64_t j = 0; j < inner; ++j) dst[j] += src[j];
      }
    }
  }
  return out;
}

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined(x, "sum");
  std::vector<int64_t> dims = normalize_dims(dims_in, x->ndim(), "sum");
  Shape kept = x->shape, dropped;
  for (int64_t d : dims) kept[d] = 1;
  for (int64_t d = 0; d < x->ndim(); ++d)
    if (std::find(dims.begin(), dims.end(), d) == dims.end()) dropped.push_back(x->shape[d]);
  Tensor out;
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (int64_t(dims.size()) == x->ndim()) {
      out = empty(kept, x->dtype);
      out->data<T>()[0] =
          Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(x->data<T>(), x->numel).sum();
    } else {
      out = x;
      for (auto it = dims.rbegin(); it != dims.rend(); ++it) out = sum_one_dim<T>(out, *it);
    }
  });
  out = alias(out, keepdim ? kept : dropped);
  return record("SumBackward", {&x}, out, [&] {
    // the gradient is g spread back over the summed dims
    return [shape = x->shape, kept](Node&, const Tensor& g) -> Grads {
      return {broadcast_to(reshape(g, kept), shape)};
    };
  });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined(x, "mean");
  if (!is_floating(x->dtype))
    throw TypeError("mean: could not infer output dtype. Input dtype must be floating point, got int64");
  std::vector<int64_t> dims = normalize_dims(dims_in, x->ndim(), "mean");
  int64_t count = 1;
  for (int64_t d : dims) count *= x->shape[d];
  // 0/0 = nan for an empty reduction, as NumPy and PyTorch give
  double scale = count == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 / double(count);
  return mul(sum(x, dims, keepdim), scalar_tensor(scale, x->dtype));
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x->shape == shape) return x;
  const int64_t lead = x->ndim() - int64_t(shape.size());
  if (lead < 0)
    throw ValueError("sum_to: cannot reduce shape " + shape_str(x->shape) + " to " +
                     shape_str(shape));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x->ndim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    int64_t want = shape[d - lead];
    if (want == 1 && x->shape[d] != 1)
      dims.push_back(d);
    else if (want != x->shape[d])
      throw ValueError("sum_to: cannot reduce shape " + shape_str(x->shape) + " to " +
                       shape_str(shape));
  }
  return reshape(sum(x, dims, /*keepdim=*/true), shape);
}

}  // namespace tapegrad
