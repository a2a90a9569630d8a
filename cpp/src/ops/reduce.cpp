// Reductions over dims. sum is the primitive; mean and sum_to are built on it.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
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

// A sum that stays accurate for long float32 inputs: vectorized sums of
// blocks, accumulated in double (a plain running float sum of 10⁷ values of
// 0.1 is off in the third digit).
template <class T>
static T accurate_sum(const T* p, int64_t n) {
  constexpr int64_t kBlock = 2048;
  if (std::is_integral_v<T> || n <= kBlock)
    return Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(p, n).sum();
  double total = 0;
  for (int64_t i = 0; i < n; i += kBlock)
    total += double(
        Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(p + i, std::min(kBlock, n - i)).sum());
  return static_cast<T>(total);
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
    for (int64_t o = 0; o < outer; ++o) po[o] = accurate_sum(px + o * r, r);
  } else if (!std::is_same_v<T, float> || r <= 64) {
    for (int64_t o = 0; o < outer; ++o) {
      T* dst = po + o * inner;
      for (int64_t k = 0; k < r; ++k) {
        const T* src = px + (o * r + k) * inner;
        for (int64_t j = 0; j < inner; ++j) dst[j] += src[j];
      }
    }
  } else {
    // long float32 columns: accumulate in double
    std::vector<double> acc(inner);
    for (int64_t o = 0; o < outer; ++o) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t k = 0; k < r; ++k) {
        const T* src = px + (o * r + k) * inner;
        for (int64_t j = 0; j < inner; ++j) acc[j] += src[j];
      }
      for (int64_t j = 0; j < inner; ++j) po[o * inner + j] = T(acc[j]);
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
      out->data<T>()[0] = accurate_sum(x->data<T>(), x->numel);
    } else {
      out = x;
      for (auto it = dims.rbegin(); it != dims.rend(); ++it) out = sum_one_dim<T>(out, *it);
    }
  });
  out = alias(out, keepdim ? kept : dropped);
  forward_ad(out, {&x}, [&](const Grads& t) { return sum(t[0], dims, keepdim); });
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
    throw TypeError(
        "mean: could not infer output dtype. Input dtype must be floating point, got int64");
  std::vector<int64_t> dims = normalize_dims(dims_in, x->ndim(), "mean");
  int64_t count = 1;
  for (int64_t d : dims) count *= x->shape[d];
  // 0/0 = nan for an empty reduction, as NumPy and PyTorch give
  double scale = count == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 / double(count);
  return mul(sum(x, dims, keepdim), scalar_tensor(scale, x->dtype));
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "sum_to");
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

// ---- max / min -------------------------------------------------------------

// The extremum of all elements; NaN wins, as in PyTorch.
template <class T>
static T extremum_of(const T* p, int64_t n, bool is_max) {
  T best = p[0];
  for (int64_t i = 1; i < n; ++i) {
    T v = p[i];
    if (v != v) return v;
    if (is_max ? v > best : v < best) best = v;
  }
  return best;
}

static Tensor extremum_all(const Tensor& x, bool is_max) {
  const char* op = is_max ? "max" : "min";
  check_defined(x, op);
  if (x->numel == 0)
    throw ValueError(std::string(op) +
                     "(): expected a non-empty tensor (reduction over an empty tensor has no "
                     "identity), got shape " +
                     shape_str(x->shape));
  Tensor out = empty({}, x->dtype);
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    out->data<T>()[0] = extremum_of(x->data<T>(), x->numel, is_max);
  });
  if (!is_floating(x->dtype)) return out;
  // Ties share the gradient evenly: d out/dx = mask/count, mask = (x == out),
  // where a NaN result selects the NaN entries (as PyTorch).
  auto share = [](const Tensor& x, const Tensor& out) {
    Tensor mask = add(compare(x, out, Compare::eq),
                      mul(compare(x, x, Compare::ne), compare(out, out, Compare::ne)));
    return div(mask, sum(mask, {}, false));
  };
  forward_ad(out, {&x}, [&](const Grads& t) { return sum(mul(t[0], share(x, out)), {}, false); });
  return record(
      is_max ? "MaxBackward" : "MinBackward", {&x}, out,
      [&] {
        return [x, share](Node& n, const Tensor& g) -> Grads {
          return {mul(g, share(x, detach(n.output())))};
        };
      },
      /*save_output=*/true);
}

Tensor max_all(const Tensor& x) { return extremum_all(x, true); }
Tensor min_all(const Tensor& x) { return extremum_all(x, false); }

// Indices of the first extremum along dim (a NaN counts as the extremum).
static Tensor arg_extremum(const Tensor& x, int64_t dim, bool is_max) {
  int64_t outer = 1, inner = 1, r = x->shape[dim];
  for (int64_t d = 0; d < dim; ++d) outer *= x->shape[d];
  for (int64_t d = dim + 1; d < x->ndim(); ++d) inner *= x->shape[d];
  Shape shape = x->shape;
  shape[dim] = 1;
  Tensor idx = zeros(shape, DType::int64);
  int64_t* pi = idx->data<int64_t>();
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x->data<T>();
    if (inner == 1) {
      // rows: a vectorized extremum, then the first position that holds it
      for (int64_t o = 0; o < outer; ++o) {
        const T* row = px + o * r;
        Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> a(row, r);
        T best = is_max ? a.template maxCoeff<Eigen::PropagateNaN>()
                        : a.template minCoeff<Eigen::PropagateNaN>();
        int64_t k = 0;
        if (best != best)
          while (row[k] == row[k]) ++k;
        else
          while (row[k] != best) ++k;
        pi[o] = k;
      }
      return;
    }
    std::vector<T> best(inner);
    std::vector<char> is_nan(inner);
    for (int64_t o = 0; o < outer; ++o) {
      int64_t* dst = pi + o * inner;
      const T* base = px + o * r * inner;
      for (int64_t j = 0; j < inner; ++j) {
        best[j] = base[j];
        is_nan[j] = base[j] != base[j];
      }
      for (int64_t k = 1; k < r; ++k) {
        const T* row = base + k * inner;
        for (int64_t j = 0; j < inner; ++j) {
          T v = row[j];
          if (is_nan[j]) continue;
          if (v != v || (is_max ? v > best[j] : v < best[j])) {
            best[j] = v;
            dst[j] = k;
            is_nan[j] = v != v;
          }
        }
      }
    }
  });
  return idx;
}

static std::pair<Tensor, Tensor> extremum_dim(const Tensor& x, int64_t dim_in, bool keepdim,
                                              bool is_max) {
  const char* op = is_max ? "max" : "min";
  check_defined(x, op);
  int64_t dim = wrap_dim(dim_in, x->ndim(), op);
  if (x->ndim() == 0) return {x, zeros({}, DType::int64)};
  if (x->shape[dim] == 0)
    throw IndexError(std::string(op) + "(): expected reduction dim " + std::to_string(dim) +
                     " to have non-zero size, got shape " + shape_str(x->shape));
  Tensor idx = arg_extremum(x, dim, is_max);
  Tensor values = gather(x, dim, idx);  // the gradient flows to the chosen index
  if (!keepdim) {
    values = squeeze(values, dim);
    idx = squeeze(idx, dim);
  }
  return {values, idx};
}

std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim(x, dim, keepdim, true);
}
std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim(x, dim, keepdim, false);
}

// ---- composites ---------------------------------------------------------------

static int64_t count_over(const Tensor& x, const std::vector<int64_t>& dims) {
  int64_t count = 1;
  for (int64_t d : dims) count *= x->shape[d];
  return count;
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims_in, double correction, bool keepdim) {
  check_defined(x, "var");
  check_floating(x, "var");
  std::vector<int64_t> dims = normalize_dims(dims_in, x->ndim(), "var");
  const double denom = std::max(0.0, double(count_over(x, dims)) - correction);
  Tensor out;
  {
    GradModeGuard no_grad(false);
    ForwardADGuard no_fw(false);
    Tensor centered = sub(x, mean(x, dims, true));
    out = div(sum(mul(centered, centered), dims, keepdim), scalar_tensor(denom, x->dtype));
  }
  out = detach(out);
  Shape kept = x->shape;
  for (int64_t d : dims) kept[d] = 1;
  // d var/dx = 2(x − mean)/(N − correction), as PyTorch's var_backward (an
  // infinite entry gives −inf and NaN where a composite would give NaN only)
  auto slope = [dims, denom](const Tensor& x) {
    return mul(sub(x, mean(x, dims, true)), scalar_tensor(2.0 / denom, x->dtype));
  };
  forward_ad(out, {&x}, [&](const Grads& t) { return sum(mul(t[0], slope(x)), dims, keepdim); });
  return record("VarBackward", {&x}, out, [&] {
    return [x, kept, slope](Node&, const Tensor& g) -> Grads {
      return {mul(reshape(g, kept), slope(x))};
    };
  });
}

Tensor logsumexp(const Tensor& x_in, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined(x_in, "logsumexp");
  Tensor x = is_floating(x_in->dtype) ? x_in : to_dtype(x_in, DType::float32);
  std::vector<int64_t> dims = normalize_dims(dims_in, x->ndim(), "logsumexp");
  // Shift by the max, held constant (the result does not depend on it), so
  // that exp never overflows; an infinite max shifts by 0 instead.
  Shape kept = x->shape;
  for (int64_t d : dims) kept[d] = 1;
  Tensor m = zeros(kept, x->dtype);  // an empty reduction gives log(0) = -inf
  if (x->numel > 0) {
    m = detach(x);
    for (int64_t d : dims) m = max_dim(m, d, true).first;
  }
  {
    GradModeGuard no_grad(false);
    Tensor finite = compare(abs(m), scalar_tensor(INFINITY, x->dtype), Compare::lt);
    m = where(finite, m, scalar_tensor(0.0, x->dtype));
  }
  Tensor out = add(log(sum(exp(sub(x, m)), dims, true)), m);
  if (keepdim) return out;
  Shape dropped;
  for (int64_t d = 0; d < x->ndim(); ++d)
    if (std::find(dims.begin(), dims.end(), d) == dims.end()) dropped.push_back(x->shape[d]);
  return reshape(out, dropped);
}

// The p-norm (finite p > 1) as one node: at x = 0 the subgradient 0 is chosen
// (as PyTorch), where the composite (Σ|x|^p)^(1/p) would give 0·inf = NaN.
static Tensor norm_p(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor out;
  {
    GradModeGuard no_grad(false);
    ForwardADGuard no_fw(false);
    out = p == 2 ? sqrt(sum(mul(x, x), dims, keepdim))
                 : pow(sum(pow(abs(x), scalar_tensor(p, x->dtype)), dims, keepdim),
                       scalar_tensor(1.0 / p, x->dtype));
  }
  out = detach(out);
  Shape kept = x->shape;
  for (int64_t d : dims) kept[d] = 1;
  // d‖x‖/dx = sign(x)·|x|^(p−1) / ‖x‖^(p−1) (x/‖x‖ for p = 2), 0 where ‖x‖ = 0
  auto unit = [kept, p](const Tensor& x, const Tensor& out) {
    Tensor n = reshape(out, kept);
    Tensor zero = scalar_tensor(0.0, x->dtype);
    Tensor at_zero = compare(n, zero, Compare::eq);
    Tensor safe = where(at_zero, scalar_tensor(1.0, x->dtype), n);
    Tensor u = p == 2 ? div(x, safe)
                      : mul(sign(x), pow(div(abs(x), safe), scalar_tensor(p - 1, x->dtype)));
    return where(at_zero, zero, u);
  };
  forward_ad(out, {&x},
             [&](const Grads& t) { return sum(mul(t[0], unit(x, out)), dims, keepdim); });
  return record(
      "NormBackward", {&x}, out,
      [&] {
        return [x, kept, unit](Node& n, const Tensor& g) -> Grads {
          return {mul(reshape(g, kept), unit(x, n.output()))};
        };
      },
      /*save_output=*/true);
}

Tensor norm(const Tensor& x_in, double p, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined(x_in, "norm");
  Tensor x = is_floating(x_in->dtype) ? x_in : to_dtype(x_in, DType::float32);
  std::vector<int64_t> dims = normalize_dims(dims_in, x->ndim(), "norm");
  if (p == 1) return sum(abs(x), dims, keepdim);
  if (std::isinf(p)) {
    Tensor a = abs(x);
    if (int64_t(dims.size()) == x->ndim()) {
      Tensor m = p > 0 ? max_all(a) : min_all(a);
      return keepdim ? reshape(m, Shape(x->ndim(), 1)) : m;
    }
    Tensor m = a;
    for (int64_t d : dims) m = p > 0 ? max_dim(m, d, true).first : min_dim(m, d, true).first;
    if (keepdim) return m;
    Shape dropped;
    for (int64_t d = 0; d < x->ndim(); ++d)
      if (std::find(dims.begin(), dims.end(), d) == dims.end()) dropped.push_back(x->shape[d]);
    return reshape(m, dropped);
  }
  if (p == 0) return sum(compare(x, scalar_tensor(0.0, x->dtype), Compare::ne), dims, keepdim);
  if (p > 1) return norm_p(x, p, dims, keepdim);
  Tensor pt = scalar_tensor(p, x->dtype);  // 0 < p < 1 and p < 0: the plain composite
  return pow(sum(pow(abs(x), pt), dims, keepdim), scalar_tensor(1.0 / p, x->dtype));
}

}  // namespace tapegrad
