// Reductions over dims. sum is the primitive; mean and sum_to are built on it.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "elementwise.h"
#include "tapegrad/registry.h"

namespace tapegrad {

// Sorted, wrapped, de-duplicated dims; none (or an empty list, as PyTorch's
// sum(dim=())) means all dims.
static Dims normalize_dims(const OptDims& dims, int64_t ndim, const char* op) {
  Dims out;
  if (!dims || dims->empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : *dims) {
    int64_t w = wrap_dim(d, ndim, op);
    if (ndim == 0) continue;  // a 0-d tensor reduces over nothing
    if (std::find(out.begin(), out.end(), w) != out.end())
      throw RuntimeError(std::string(op) + ": dim " + std::to_string(w) +
                         " appears multiple times in the list of dims");
    out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The shape with the reduced dims kept as 1 and the shape without them.
static void reduced_shapes(const Shape& shape, const Dims& dims, Shape& kept, Shape& dropped) {
  kept = shape;
  dropped.clear();
  for (int64_t d : dims) kept[d] = 1;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d)
    if (std::find(dims.begin(), dims.end(), d) == dims.end()) dropped.push_back(shape[d]);
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

// Sums contiguous x over one dim, viewed as (outer, r, inner), keeping the dim as 1.
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

// Integer and bool sums accumulate in int64, as PyTorch's.
static DType sum_dtype(DType dt) { return is_floating(dt) ? dt : DType::int64; }

Tensor sum(const Tensor& x_in, const OptDims& dims_in, bool keepdim, std::optional<DType> dtype) {
  check_defined(x_in, "sum");
  Tensor x = to_dtype(x_in, dtype ? *dtype : sum_dtype(x_in->dtype));
  Dims dims = normalize_dims(dims_in, x->ndim(), "sum");
  Shape kept, dropped;
  reduced_shapes(x->shape, dims, kept, dropped);
  Tensor data = contiguous_data(x);
  Tensor out;
  dispatch_numeric(x->dtype, "sum", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (int64_t(dims.size()) == x->ndim()) {
      out = empty(kept, x->dtype);
      out->data<T>()[0] = accurate_sum(data->data<T>(), data->numel);
    } else {
      out = data;
      for (auto it = dims.rbegin(); it != dims.rend(); ++it) out = sum_one_dim<T>(out, *it);
    }
  });
  out = alias_with(out, keepdim ? kept : dropped, contiguous_strides(keepdim ? kept : dropped), 0);
  if (!is_floating(out->dtype)) return out;
  forward_ad(out, {&x}, [&](const Grads& t) { return sum(t[0], dims, keepdim, std::nullopt); });
  return record("SumBackward", {&x}, out, [&] {
    // the gradient is g spread back over the summed dims
    return [shape = x->shape, kept](Node&, const Tensor& g) -> Grads {
      return {broadcast_to(reshape(g, kept), shape)};
    };
  });
}

Tensor mean(const Tensor& x_in, const OptDims& dims_in, bool keepdim, std::optional<DType> dtype) {
  check_defined(x_in, "mean");
  Tensor x = dtype ? to_dtype(x_in, *dtype) : x_in;
  if (!is_floating(x->dtype))
    throw RuntimeError(std::string("mean(): could not infer output dtype. Input dtype must be "
                                   "either a floating point or complex dtype. Got: ") +
                       dtype_name(x->dtype));
  Dims dims = normalize_dims(dims_in, x->ndim(), "mean");
  int64_t count = 1;
  for (int64_t d : dims) count *= x->shape[d];
  // 0/0 = nan for an empty reduction, as NumPy and PyTorch give
  double scale = count == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 / double(count);
  return mul(sum(x, dims, keepdim, std::nullopt), scalar_tensor(scale, x->dtype));
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "sum_to");
  if (x->shape == shape) return x;
  const int64_t lead = x->ndim() - int64_t(shape.size());
  if (lead < 0)
    throw RuntimeError("sum_to: cannot reduce shape " + shape_str(x->shape) + " to " +
                       shape_str(shape));
  Dims dims;
  for (int64_t d = 0; d < x->ndim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    int64_t want = shape[d - lead];
    if (want == 1 && x->shape[d] != 1)
      dims.push_back(d);
    else if (want != x->shape[d])
      throw RuntimeError("sum_to: cannot reduce shape " + shape_str(x->shape) + " to " +
                         shape_str(shape));
  }
  if (dims.empty()) return reshape(x, shape);
  return reshape(sum(x, dims, /*keepdim=*/true, std::nullopt), shape);
}

// ---- prod ------------------------------------------------------------------------

// For each element, the product of the others along `dim` (prefix and suffix
// products: exact with zeros, unlike out / x).
static Tensor product_of_others(const Tensor& x_in, int64_t dim) {
  Tensor x = contiguous_data(x_in);
  int64_t outer = 1, inner = 1, r = x->shape[dim];
  for (int64_t d = 0; d < dim; ++d) outer *= x->shape[d];
  for (int64_t d = dim + 1; d < x->ndim(); ++d) inner *= x->shape[d];
  Tensor out = empty(x->shape, x->dtype);
  dispatch_floating(x->dtype, "prod", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x->data<T>();
    T* po = out->data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t base = o * r * inner + j;
        T acc = T(1);
        for (int64_t k = 0; k < r; ++k) {
          po[base + k * inner] = acc;
          acc *= px[base + k * inner];
        }
        acc = T(1);
        for (int64_t k = r; k-- > 0;) {
          po[base + k * inner] *= acc;
          acc *= px[base + k * inner];
        }
      }
  });
  return out;
}

static Tensor prod_forward(const Tensor& x, int64_t dim) {
  Tensor data = contiguous_data(x);
  Shape kept = x->shape;
  kept[dim] = 1;
  int64_t outer = 1, inner = 1, r = x->shape[dim];
  for (int64_t d = 0; d < dim; ++d) outer *= x->shape[d];
  for (int64_t d = dim + 1; d < x->ndim(); ++d) inner *= x->shape[d];
  Tensor out = empty(kept, x->dtype);
  dispatch_numeric(x->dtype, "prod", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = data->data<T>();
    T* po = out->data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        T acc = T(1);
        for (int64_t k = 0; k < r; ++k) acc *= px[(o * r + k) * inner + j];
        po[o * inner + j] = acc;
      }
  });
  return out;
}

Tensor prod(const Tensor& x_in, std::optional<int64_t> dim_in, bool keepdim,
            std::optional<DType> dtype) {
  check_defined(x_in, "prod");
  Tensor x = to_dtype(x_in, dtype ? *dtype : sum_dtype(x_in->dtype));
  if (!dim_in) {
    Tensor flat = reshape(x, {x->numel});
    Tensor p = prod(flat, 0, false, std::nullopt);
    return keepdim ? reshape(p, Shape(x->ndim(), 1)) : p;
  }
  int64_t dim = wrap_dim(*dim_in, x->ndim(), "prod");
  if (x->ndim() == 0) return clone(x);
  Tensor out = prod_forward(x, dim);  // shape with dim kept as 1
  if (is_floating(x->dtype)) {
    // d prod / dx_i = the product of the others; with no zero in a slice that is
    // prod / x_i, and the rule uses the exact prefix-suffix product otherwise
    auto others = [dim](const Tensor& x, const Tensor& out) -> Tensor {
      if (!grad_enabled()) return product_of_others(x, dim);
      Tensor has_zero = any(compare(x, zero_like(x), Compare::eq), Dims{dim}, true);
      if (!any(has_zero, std::nullopt, false)->ptr<bool>()[0]) return div(out, x);
      // under create_graph with zeros: products over x with its i-th entry set to 1
      const int64_t n = x->shape[dim];
      Tensor moved = unsqueeze(transpose(x, dim, x->ndim() - 1), -2);  // (..., 1, n)
      Shape expanded = moved->shape;
      expanded[expanded.size() - 2] = n;
      Tensor eye_mask = to_dtype(eye(n, n, DType::int64), DType::bool_);
      Tensor rows = where(eye_mask, one_like(x), broadcast_to(moved, expanded));
      Tensor p = prod(rows, -1, false, std::nullopt);  // (..., n)
      return transpose(p, dim, x->ndim() - 1);
    };
    forward_ad(out, {&x}, [&](const Grads& t) {
      return sum(mul(t[0], others(x, out)), Dims{dim}, true, std::nullopt);
    });
    out = record(
        "ProdBackward", {&x}, out,
        [&] {
          return [sx = Saved(x), others](Node& n, const Tensor& g) -> Grads {
            const Tensor& x = sx.get();
            return {mul(g, others(x, n.output()))};
          };
        },
        /*save_output=*/true);
  }
  return keepdim ? out : squeeze(out, Dims{dim});
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

static Tensor extremum_all(const Tensor& x_in, bool is_max) {
  const char* op = is_max ? "max" : "min";
  check_defined(x_in, op);
  if (x_in->numel == 0)
    throw RuntimeError(std::string(op) +
                       "(): Expected reduction dim to be specified for input.numel() == 0. "
                       "Specify the reduction dim with the 'dim' argument (got shape " +
                       shape_str(x_in->shape) + ")");
  Tensor x = contiguous_data(x_in);
  Tensor out = empty({}, x->dtype);
  dispatch_all(x->dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    out->data<T>()[0] = extremum_of(x->data<T>(), x->numel, is_max);
  });
  if (!is_floating(x->dtype)) return out;
  // Ties share the gradient evenly: d out/dx = mask/count, mask = (x == out),
  // where a NaN result selects the NaN entries (as PyTorch).
  auto share = [](const Tensor& x, const Tensor& out) {
    Tensor mask = to_dtype(
        logical(compare(x, out, Compare::eq),
                logical(compare(x, x, Compare::ne), compare(out, out, Compare::ne), Logical::and_),
                Logical::or_),
        x->dtype);
    return div(mask, sum(mask, std::nullopt, false, std::nullopt));
  };
  forward_ad(out, {&x_in}, [&](const Grads& t) {
    return sum(mul(t[0], share(x_in, out)), std::nullopt, false, std::nullopt);
  });
  return record(
      is_max ? "MaxBackward" : "MinBackward", {&x_in}, out,
      [&] {
        return [sx = Saved(x_in), share](Node& n, const Tensor& g) -> Grads {
          return {mul(g, share(sx.get(), detach(n.output())))};
        };
      },
      /*save_output=*/true);
}

Tensor max_all(const Tensor& x) { return extremum_all(x, true); }
Tensor min_all(const Tensor& x) { return extremum_all(x, false); }

// Indices of the first extremum along dim (a NaN counts as the extremum).
static Tensor arg_extremum(const Tensor& x_in, int64_t dim, bool is_max) {
  Tensor x = contiguous_data(x_in);
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
    if constexpr (std::is_floating_point_v<T>) {
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
  if (x->ndim() == 0) return {clone(x), zeros({}, DType::int64)};
  if (x->shape[dim] == 0)
    throw IndexError(std::string(op) + "(): Expected reduction dim " + std::to_string(dim) +
                     " to have non-zero size (got shape " + shape_str(x->shape) + ")");
  Tensor idx = arg_extremum(x, dim, is_max);
  Tensor values = gather(x, dim, idx);  // the gradient flows to the chosen index
  if (!keepdim) {
    values = squeeze(values, Dims{dim});
    idx = squeeze(idx, Dims{dim});
  }
  return {values, idx};
}

std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim(x, dim, keepdim, true);
}
std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim(x, dim, keepdim, false);
}

static Tensor argext(const Tensor& x, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  const char* op = is_max ? "argmax" : "argmin";
  check_defined(x, op);
  if (!dim) {
    if (x->numel == 0)
      throw RuntimeError(std::string(op) +
                         "(): Expected reduction dim to be specified for "
                         "input.numel() == 0.");
    Tensor i = arg_extremum(reshape(x, {x->numel}), 0, is_max);
    return keepdim ? reshape(i, Shape(x->ndim(), 1)) : reshape(i, {});
  }
  return extremum_dim(detach(x), *dim, keepdim, is_max).second;
}

// ---- composites ---------------------------------------------------------------

Tensor var(const Tensor& x, const OptDims& dims_in, double correction, bool keepdim) {
  check_defined(x, "var");
  if (!is_floating(x->dtype))
    throw RuntimeError(std::string("var: only floating point types are supported, got ") +
                       dtype_name(x->dtype));
  Dims dims = normalize_dims(dims_in, x->ndim(), "var");
  int64_t count = 1;
  for (int64_t d : dims) count *= x->shape[d];
  const double denom = std::max(0.0, double(count) - correction);
  Tensor out;
  {
    GradModeGuard no_grad(false);
    LevelLimitGuard no_fw(0);
    Tensor centered = sub(x, mean(x, dims, true, std::nullopt));
    out = div(sum(mul(centered, centered), dims, keepdim, std::nullopt),
              scalar_tensor(denom, x->dtype));
  }
  Shape kept, dropped;
  reduced_shapes(x->shape, dims, kept, dropped);
  // d var/dx = 2(x − mean)/(N − correction), as PyTorch's var_backward (an
  // infinite entry gives −inf and NaN where a composite would give NaN only)
  auto slope = [dims, denom](const Tensor& x) {
    return mul(sub(x, mean(x, dims, true, std::nullopt)), scalar_tensor(2.0 / denom, x->dtype));
  };
  forward_ad(out, {&x},
             [&](const Grads& t) { return sum(mul(t[0], slope(x)), dims, keepdim, std::nullopt); });
  return record("VarBackward", {&x}, out, [&] {
    return [sx = Saved(x), kept, slope](Node&, const Tensor& g) -> Grads {
      return {mul(reshape(g, kept), slope(sx.get()))};
    };
  });
}

Tensor logsumexp(const Tensor& x_in, const Dims& dims_in, bool keepdim) {
  check_defined(x_in, "logsumexp");
  Tensor x = is_floating(x_in->dtype) ? x_in : to_dtype(x_in, default_dtype());
  Dims dims = normalize_dims(dims_in, x->ndim(), "logsumexp");
  // Shift by the max, held constant (the result does not depend on it), so
  // that exp never overflows; an infinite max shifts by 0 instead.
  Shape kept, dropped;
  reduced_shapes(x->shape, dims, kept, dropped);
  Tensor m = zeros(kept, x->dtype);  // an empty reduction gives log(0) = -inf
  if (x->numel > 0) {
    m = detach(x);
    for (int64_t d : dims) m = max_dim(m, d, true).first;
  }
  {
    GradModeGuard no_grad(false);
    Tensor finite = compare(abs(m), scalar_tensor(INFINITY, x->dtype), Compare::lt);
    m = where(finite, m, zero_like(m));
  }
  Tensor out = add(log(sum(exp(sub(x, m)), dims, true, std::nullopt)), m);
  return keepdim ? out : reshape(out, dropped);
}

// The p-norm (finite p > 1) as one node: at x = 0 the subgradient 0 is chosen
// (as PyTorch), where the composite (Σ|x|^p)^(1/p) would give 0·inf = NaN.
static Tensor norm_p(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  Tensor out;
  {
    GradModeGuard no_grad(false);
    LevelLimitGuard no_fw(0);
    out = p == 2 ? sqrt(sum(mul(x, x), dims, keepdim, std::nullopt))
                 : pow(sum(pow(abs(x), scalar_tensor(p, x->dtype)), dims, keepdim, std::nullopt),
                       scalar_tensor(1.0 / p, x->dtype));
  }
  Shape kept, dropped;
  reduced_shapes(x->shape, dims, kept, dropped);
  // d‖x‖/dx = sign(x)·|x|^(p−1) / ‖x‖^(p−1) (x/‖x‖ for p = 2), 0 where ‖x‖ = 0
  auto unit = [kept, p](const Tensor& x, const Tensor& out) {
    Tensor n = reshape(out, kept);
    Tensor zero = zero_like(x);
    Tensor at_zero = compare(n, zero, Compare::eq);
    Tensor safe = where(at_zero, one_like(x), n);
    Tensor u = p == 2 ? div(x, safe)
                      : mul(sign(x), pow(div(abs(x), safe), scalar_tensor(p - 1, x->dtype)));
    return where(at_zero, zero, u);
  };
  forward_ad(out, {&x}, [&](const Grads& t) {
    return sum(mul(t[0], unit(x, out)), dims, keepdim, std::nullopt);
  });
  return record(
      "NormBackward", {&x}, out,
      [&] {
        return [sx = Saved(x), kept, unit](Node& n, const Tensor& g) -> Grads {
          return {mul(reshape(g, kept), unit(sx.get(), n.output()))};
        };
      },
      /*save_output=*/true);
}

Tensor norm(const Tensor& x_in, double p, const OptDims& dims_in, bool keepdim) {
  check_defined(x_in, "norm");
  Tensor x = is_floating(x_in->dtype) ? x_in : to_dtype(x_in, default_dtype());
  Dims dims = normalize_dims(dims_in, x->ndim(), "norm");
  if (p == 1) return sum(abs(x), dims, keepdim, std::nullopt);
  Shape kept, dropped;
  reduced_shapes(x->shape, dims, kept, dropped);
  if (std::isinf(p)) {
    Tensor a = abs(x);
    if (int64_t(dims.size()) == x->ndim()) {
      Tensor m = p > 0 ? max_all(a) : min_all(a);
      return keepdim ? reshape(m, Shape(x->ndim(), 1)) : m;
    }
    Tensor m = a;
    for (int64_t d : dims) m = p > 0 ? max_dim(m, d, true).first : min_dim(m, d, true).first;
    return keepdim ? m : reshape(m, dropped);
  }
  if (p == 0)
    return sum(to_dtype(compare(x, zero_like(x), Compare::ne), x->dtype), dims, keepdim,
               std::nullopt);
  if (p > 1) return norm_p(x, p, dims, keepdim);
  Tensor pt = scalar_tensor(p, x->dtype);  // 0 < p < 1 and p < 0: the plain composite
  return pow(sum(pow(abs(x), pt), dims, keepdim, std::nullopt), scalar_tensor(1.0 / p, x->dtype));
}

// ---- logical reductions -----------------------------------------------------------

static Tensor bool_reduce(const Tensor& x, const OptDims& dims_in, bool keepdim, bool is_all) {
  const char* op = is_all ? "all" : "any";
  check_defined(x, op);
  Tensor b = to_dtype(detach(x), DType::bool_);
  Dims dims = normalize_dims(dims_in, x->ndim(), op);
  // all: no element is false; any: some element is true (counted in int64)
  Tensor hits = sum(is_all ? logical_not(b) : b, dims, keepdim, DType::int64);
  return is_all ? logical_not(hits) : to_dtype(hits, DType::bool_);
}

Tensor all(const Tensor& x, const OptDims& dims, bool keepdim) {
  return bool_reduce(x, dims, keepdim, true);
}
Tensor any(const Tensor& x, const OptDims& dims, bool keepdim) {
  return bool_reduce(x, dims, keepdim, false);
}

Tensor count_nonzero(const Tensor& x, const OptDims& dims) {
  check_defined(x, "count_nonzero");
  return sum(to_dtype(detach(x), DType::bool_), dims, false, DType::int64);
}

// ---- the table ----------------------------------------------------------------------

namespace {
Tensor var_op(const Tensor& x, const OptDims& dim, bool unbiased, bool keepdim,
              std::optional<Scalar> correction) {
  return var(x, dim, correction ? correction->to_double() : (unbiased ? 1.0 : 0.0), keepdim);
}
Tensor norm_op(const Tensor& x, std::optional<Scalar> p, const OptDims& dim, bool keepdim,
               std::optional<DType> dtype) {
  Tensor in = dtype ? to_dtype(x, *dtype) : x;
  return norm(in, p ? p->to_double() : 2.0, dim, keepdim);
}
Tensor norm_str(const Tensor& x, const std::string& p, const OptDims& dim, bool keepdim,
                std::optional<DType> dtype) {
  if (p != "fro")
    throw RuntimeError("norm: unsupported norm type '" + p + "' (use 'fro' or a number)");
  return norm_op(x, Scalar(2.0), dim, keepdim, dtype);
}
}  // namespace

TG_OP("sum(Tensor input, int[]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
      "function method", sum,
      R"(The sum over dim (None or (): every dim); integer and bool inputs sum to int64.

>>> tg.sum(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1).tolist()
[3.0, 7.0])");
TG_OP(
    "mean(Tensor input, int[]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
    "function method", mean, R"(The mean over dim (None: every dim) of a floating tensor.

>>> tg.mean(tg.tensor([1.0, 2.0, 3.0])).item()
2.0)");
TG_OP("prod(Tensor input, int? dim=None, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor",
      "function method", prod,
      R"(The product over dim (None: every element); exact gradients at zeros.

>>> tg.prod(tg.tensor([2.0, 3.0, 4.0])).item()
24.0)");
TG_OP("max(Tensor input) -> Tensor", "function method", max_all,
      R"(The largest element; ties share the gradient evenly.

>>> tg.max(tg.tensor([1.0, 5.0, 2.0])).item()
5.0)");
TG_OP("max(Tensor input, Tensor other) -> Tensor", "function method", maximum,
      R"(The elementwise maximum of two tensors (tg.maximum).

>>> tg.max(tg.tensor([1.0, 5.0]), tg.tensor([3.0, 2.0])).tolist()
[3.0, 5.0])");
TG_OP("max(Tensor input, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)",
      "function method", max_dim,
      R"(The largest values along dim and their first indices; the gradient goes to the index.

>>> tg.max(tg.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).indices.tolist()
[1, 0])");
TG_OP("min(Tensor input) -> Tensor", "function method", min_all,
      R"(The smallest element; ties share the gradient evenly.

>>> tg.min(tg.tensor([1.0, 5.0, 2.0])).item()
1.0)");
TG_OP("min(Tensor input, Tensor other) -> Tensor", "function method", minimum,
      R"(The elementwise minimum of two tensors (tg.minimum).

>>> tg.min(tg.tensor([1.0, 5.0]), tg.tensor([3.0, 2.0])).tolist()
[1.0, 2.0])");
TG_OP("min(Tensor input, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)",
      "function method", min_dim,
      R"(The smallest values along dim and their first indices.

>>> tg.min(tg.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).values.tolist()
[1.0, 2.0])");
TG_OP(
    "argmax(Tensor input, int? dim=None, bool keepdim=False) -> Tensor", "function method",
    [](const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
      return argext(x, dim, keepdim, true);
    },
    R"(The index of the first largest element (of the flattened input when dim is None).

>>> tg.argmax(tg.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).tolist()
[1, 0])");
TG_OP(
    "argmin(Tensor input, int? dim=None, bool keepdim=False) -> Tensor", "function method",
    [](const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
      return argext(x, dim, keepdim, false);
    },
    R"(The index of the first smallest element (of the flattened input when dim is None).

>>> tg.argmin(tg.tensor([3.0, 1.0, 2.0])).item()
1)");
TG_OP(
    "var(Tensor input, int[]? dim=None, bool unbiased=True, bool keepdim=False, *, Scalar? "
    "correction=None) -> Tensor",
    "function method", var_op,
    R"(The variance over dim, with Bessel's correction unless unbiased=False or
correction says otherwise.

>>> tg.var(tg.tensor([1.0, 2.0, 3.0, 4.0])).item()
1.6666666269302368)");
TG_OP("logsumexp(Tensor input, int[] dim, bool keepdim=False) -> Tensor", "function method",
      logsumexp, R"(log(sum(exp(input))) over dim, stable for large inputs.

>>> round(tg.logsumexp(tg.tensor([0.0, 0.0]), dim=0).item(), 4)
0.6931)");
TG_OP(
    "norm(Tensor input, str p, int[]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) "
    "-> Tensor",
    "function method", norm_str, R"(The Frobenius norm ('fro': the 2-norm of the elements).

>>> tg.norm(tg.tensor([3.0, 4.0]), "fro").item()
5.0)");
TG_OP(
    "norm(Tensor input, Scalar? p=2, int[]? dim=None, bool keepdim=False, *, ScalarType? "
    "dtype=None) -> Tensor",
    "function method", norm_op, R"(The p-norm over dim (every element by default).

>>> tg.norm(tg.tensor([3.0, 4.0])).item()
5.0)");
TG_OP("all(Tensor input, int[]? dim=None, bool keepdim=False) -> Tensor", "function method", all,
      R"(Whether every element (along dim) is nonzero, as bool.

>>> tg.all(tg.tensor([True, False])).item()
False)");
TG_OP("any(Tensor input, int[]? dim=None, bool keepdim=False) -> Tensor", "function method", any,
      R"(Whether some element (along dim) is nonzero, as bool.

>>> tg.any(tg.tensor([True, False])).item()
True)");
TG_OP("count_nonzero(Tensor input, int[]? dim=None) -> Tensor", "function method", count_nonzero,
      R"(The number of nonzero elements (along dim), as int64.

>>> tg.count_nonzero(tg.tensor([0, 1, 2])).item()
2)");

}  // namespace tapegrad
