// Fused kernels for neural-network ops. Each computes its forward in one
// pass over rows and states its backward and jvp with ops, so it is
// differentiable again.
#include <Eigen/Core>
#include <cmath>

#include "elementwise.h"
#include "tapegrad/registry.h"
#include "vec_math.h"

namespace tapegrad {

// (log_)softmax along dim, viewed as (outer, r, inner). Rows are shifted by
// their max, so large logits never overflow.
template <class T>
static void softmax_kernel(const T* x, T* y, int64_t outer, int64_t r, int64_t inner, bool log) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  if (inner == 1) {
    for (int64_t o = 0; o < outer; ++o) {
      Eigen::Map<const Arr> in(x + o * r, r);
      Eigen::Map<Arr> out(y + o * r, r);
      const T m = r ? in.template maxCoeff<Eigen::PropagateNaN>() : T(0);
      exp_into(in - m, out);
      const T s = out.sum();
      // (x − m) − log s, not x − (m + log s): the shift is exact, and the
      // sum would round at the magnitude of x
      if (log)
        out = (in - m) - std::log(s);
      else
        out *= T(1) / s;
    }
    return;
  }
  Arr m(inner), s(inner);
  for (int64_t o = 0; o < outer; ++o) {
    const T* xb = x + o * r * inner;
    T* yb = y + o * r * inner;
    m.setConstant(-std::numeric_limits<T>::infinity());
    for (int64_t k = 0; k < r; ++k) {
      Eigen::Map<const Arr> row(xb + k * inner, inner);
      m = (row != row || row > m).select(row, m);  // NaN propagates
    }
    s.setZero();
    for (int64_t k = 0; k < r; ++k) {
      Eigen::Map<const Arr> row(xb + k * inner, inner);
      Eigen::Map<Arr> out(yb + k * inner, inner);
      exp_into(row - m, out);
      s += out;
    }
    if (log) {
      Arr log_s = s.log();
      for (int64_t k = 0; k < r; ++k)
        Eigen::Map<Arr>(yb + k * inner, inner) =
            (Eigen::Map<const Arr>(xb + k * inner, inner) - m) - log_s;
    } else {
      Arr inv = s.inverse();
      for (int64_t k = 0; k < r; ++k) Eigen::Map<Arr>(yb + k * inner, inner) *= inv;
    }
  }
}

static Tensor softmax_forward(const Tensor& x_in, int64_t dim, bool log) {
  Tensor x = contiguous_data(x_in);
  Tensor out = empty(x->shape, x->dtype);
  int64_t outer = 1, inner = 1, r = x->ndim() ? x->shape[dim] : 1;
  for (int64_t d = 0; d < dim; ++d) outer *= x->shape[d];
  for (int64_t d = dim + 1; d < x->ndim(); ++d) inner *= x->shape[d];
  dispatch_floating(x->dtype, log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    softmax_kernel<T>(x->data<T>(), out->data<T>(), outer, r, inner, log);
  });
  return out;
}

static Tensor prepare(const Tensor& x_in, int64_t dim_in, const char* op, int64_t& dim) {
  check_defined(x_in, op);
  dim = wrap_dim(dim_in, x_in->ndim(), op);
  return is_floating(x_in->dtype) ? x_in : to_dtype(x_in, default_dtype());
}

Tensor log_softmax(const Tensor& x_in, int64_t dim_in) {
  int64_t dim;
  Tensor x = prepare(x_in, dim_in, "log_softmax", dim);
  Tensor out = softmax_forward(x, dim, true);
  Dims dims{dim};
  // y = x - logsumexp(x): jvp t - Σ softmax·t, backward g - softmax·Σg
  forward_ad(out, {&x}, [&](const Grads& t) {
    return sub(t[0], sum(mul(exp(out), t[0]), dims, true, std::nullopt));
  });
  return record(
      "LogSoftmaxBackward", {&x}, out,
      [&] {
        return [dims](Node& n, const Tensor& g) -> Grads {
          return {sub(g, mul(exp(n.output()), sum(g, dims, true, std::nullopt)))};
        };
      },
      /*save_output=*/true);
}

Tensor softmax(const Tensor& x_in, int64_t dim_in) {
  int64_t dim;
  Tensor x = prepare(x_in, dim_in, "softmax", dim);
  Tensor out = softmax_forward(x, dim, false);
  Dims dims{dim};
  // jvp y·(t - Σ y·t), backward y·(g - Σ g·y)
  forward_ad(out, {&x}, [&](const Grads& t) {
    return mul(out, sub(t[0], sum(mul(out, t[0]), dims, true, std::nullopt)));
  });
  return record(
      "SoftmaxBackward", {&x}, out,
      [&] {
        return [dims](Node& n, const Tensor& g) -> Grads {
          Tensor y = n.output();
          return {mul(y, sub(g, sum(mul(g, y), dims, true, std::nullopt)))};
        };
      },
      /*save_output=*/true);
}

// ---- batch normalization ------------------------------------------------------

namespace {

// Per-channel mean and biased variance of x (N, C) in one pass. Rows are
// streamed so the channel loops vectorize; each channel is shifted by its
// first value (the shifted-data algorithm: no cancellation when the mean is
// large against the spread), blocks of rows are summed in T and blocks in double.
// Rows are streamed (the channel loops vectorize); partial sums of blocks of
// rows are kept in T and added up in double.
constexpr int64_t kRowBlock = 32;

template <class T>
void channel_stats(const T* x, int64_t n, int64_t c, std::vector<double>& mean,
                   std::vector<double>& var) {
  std::vector<T> shift(x, x + c), s1(c), s2(c);
  std::vector<double> t1(c, 0.0), t2(c, 0.0);
  for (int64_t i0 = 0; i0 < n; i0 += kRowBlock) {
    std::fill(s1.begin(), s1.end(), T(0));
    std::fill(s2.begin(), s2.end(), T(0));
    for (int64_t i = i0; i < std::min(n, i0 + kRowBlock); ++i) {
      const T* row = x + i * c;
      for (int64_t j = 0; j < c; ++j) {
        const T d = row[j] - shift[j];
        s1[j] += d;
        s2[j] += d * d;
      }
    }
    for (int64_t j = 0; j < c; ++j) {
      t1[j] += s1[j];
      t2[j] += s2[j];
    }
  }
  mean.resize(c);
  var.resize(c);
  for (int64_t j = 0; j < c; ++j) {
    const double m = t1[j] / double(n);
    mean[j] = double(shift[j]) + m;
    var[j] = std::max(0.0, t2[j] / double(n) - m * m);
  }
}

// The batch-norm gradient as ops (x: (N, C); gamma, g as given), used when
// the backward itself must be differentiable (create_graph): the same
// formula as the fused kernel, so double backward is autograd's work.
Grads batch_norm_backward_ops(const Tensor& x, const Tensor& gamma, const Tensor& g, double eps,
                              bool need_x, bool need_gamma, bool need_beta) {
  const double n = double(x->shape[0]);
  Tensor mu = mean(x, Dims{0}, true, std::nullopt);
  Tensor xc = sub(x, mu);
  Tensor var_ = mean(mul(xc, xc), Dims{0}, true, std::nullopt);
  Tensor invstd = pow(add(var_, scalar_tensor(eps, x->dtype)), scalar_tensor(-0.5, x->dtype));
  Tensor xhat = mul(xc, invstd);
  Tensor dbeta = sum(g, Dims{0}, false, std::nullopt);
  Tensor dgamma = sum(mul(g, xhat), Dims{0}, false, std::nullopt);
  Tensor dx;
  if (need_x) {
    Tensor scale = div(invstd, scalar_tensor(n, x->dtype));
    if (gamma) scale = mul(scale, gamma);
    Tensor inner = sub(sub(mul(g, scalar_tensor(n, x->dtype)), dbeta), mul(xhat, dgamma));
    dx = mul(scale, inner);
  }
  return {dx, need_gamma ? dgamma : nullptr, need_beta ? dbeta : nullptr};
}

}  // namespace

Tensor batch_norm_train(const Tensor& x_in, const Tensor& gamma, const Tensor& beta,
                        const Tensor& running_mean, const Tensor& running_var, double momentum,
                        double eps) {
  check_defined(x_in, "batch_norm");
  check_floating(x_in, "batch_norm");
  const Tensor x = contiguous(x_in);
  if (x->ndim() != 2)
    throw RuntimeError("batch_norm: expected a 2-D input (N, C), got shape " + shape_str(x->shape));
  const int64_t n = x->shape[0], c = x->shape[1];
  if (n <= 1)
    throw ValueError(
        "batch_norm: expected more than 1 value per channel when training, got input "
        "size " +
        shape_str(x->shape));
  for (const Tensor* t : {&gamma, &beta, &running_mean, &running_var})
    if (*t && ((*t)->ndim() != 1 || (*t)->shape[0] != c))
      throw ValueError("batch_norm: expected parameters and running statistics of shape (" +
                       std::to_string(c) + ",), got " + shape_str((*t)->shape) +
                       " for an input of shape " + shape_str(x->shape));
  Tensor g_ = gamma ? contiguous(to_dtype(gamma, x->dtype)) : nullptr;
  Tensor b_ = beta ? contiguous(to_dtype(beta, x->dtype)) : nullptr;
  Tensor out = empty(x->shape, x->dtype);
  // saved for the fused backward: the batch mean and inverse std (x̂ is
  // recomputed from x there instead of being stored, which saves a pass)
  Tensor mean_t = empty({c}, x->dtype), invstd = empty({c}, x->dtype);
  dispatch_floating(x->dtype, "batch_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<double> mean_, var_;
    channel_stats(x->data<T>(), n, c, mean_, var_);
    // y = x·a + b with a = γ·invstd and b = β − mean·a: one multiply-add
    std::vector<T> a(c), b(c);
    T *pm = mean_t->data<T>(), *pis = invstd->data<T>();
    for (int64_t j = 0; j < c; ++j) {
      pm[j] = T(mean_[j]);
      const double is = 1.0 / std::sqrt(var_[j] + eps);
      pis[j] = T(is);
      const double gj = g_ ? double(g_->data<T>()[j]) : 1.0;
      const double bj = b_ ? double(b_->data<T>()[j]) : 0.0;
      a[j] = T(gj * is);
      b[j] = T(bj - mean_[j] * gj * is);
    }
    const T* px = x->data<T>();
    T* py = out->data<T>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < c; ++j) py[i * c + j] = px[i * c + j] * a[j] + b[j];
    // running statistics, as PyTorch: the unbiased variance, blended by momentum
    auto blend = [&](const Tensor& buf, const std::vector<double>& batch, double factor) {
      if (!buf) return;
      dispatch_floating(buf->dtype, "batch_norm", [&](auto btag) {
        using B = typename decltype(btag)::type;
        B* p = buf->data<B>();
        for (int64_t j = 0; j < c; ++j)
          p[j] = B((1.0 - momentum) * double(p[j]) + momentum * batch[j] * factor);
      });
    };
    blend(running_mean, mean_, 1.0);
    blend(running_var, var_, double(n) / double(n - 1));
  });
  // jvp: dx̂ = invstd·(t − mean(t) − x̂·mean(t·x̂)); dy = γ·dx̂ + tγ·x̂ + tβ
  forward_ad(out, {&x, &g_, &b_}, [&](const Grads& t) {
    Tensor xhat = mul(sub(x, mean_t), invstd);
    Tensor dy;
    if (t[0]) {
      Tensor tx = t[0];
      Tensor dxhat = mul(invstd, sub(sub(tx, mean(tx, Dims{0}, true, std::nullopt)),
                                     mul(xhat, mean(mul(tx, xhat), Dims{0}, true, std::nullopt))));
      dy = g_ ? mul(g_, dxhat) : dxhat;
    }
    if (t[1]) dy = sum_terms(dy, mul(t[1], xhat));
    if (t[2]) dy = sum_terms(dy, broadcast_to(t[2], out->shape));
    return broadcast_to(dy, out->shape);
  });
  return record("BatchNormBackward", {&x, &g_, &b_}, out, [&] {
    return [sx = Saved(x), sg = Saved(g_), mean_t, invstd, eps](Node& node,
                                                                const Tensor& g_in) -> Grads {
      const Tensor &x = sx.get(), &g_ = sg.get();
      const bool nx = node.needs_grad(0), ng = node.needs_grad(1), nb = node.needs_grad(2);
      if (grad_enabled()) return batch_norm_backward_ops(x, g_, g_in, eps, nx, ng, nb);
      const Tensor g = contiguous_data(g_in);
      // The fused backward, two passes over (g, x):
      //   dβ = Σg and Σg·x, so dγ = (Σg·x − μΣg)·invstd;
      //   dx = γ·invstd/N·(N·g − dβ − x̂·dγ) = g·A + x·B + C per channel.
      const int64_t n = x->shape[0], c = x->shape[1];
      Tensor dx = nx ? empty(x->shape, x->dtype) : nullptr;
      Tensor dgamma = empty({c}, x->dtype), dbeta = empty({c}, x->dtype);
      dispatch_floating(x->dtype, "batch_norm", [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T *pg = g->data<T>(), *px = x->data<T>(), *pm = mean_t->data<T>(),
                *pis = invstd->data<T>();
        std::vector<T> sg(c), sgx(c);
        std::vector<double> tg(c, 0.0), tgx(c, 0.0);
        for (int64_t i0 = 0; i0 < n; i0 += kRowBlock) {
          std::fill(sg.begin(), sg.end(), T(0));
          std::fill(sgx.begin(), sgx.end(), T(0));
          for (int64_t i = i0; i < std::min(n, i0 + kRowBlock); ++i)
            for (int64_t j = 0; j < c; ++j) {
              const T gv = pg[i * c + j];
              sg[j] += gv;
              sgx[j] += gv * (px[i * c + j] - pm[j]);
            }
          for (int64_t j = 0; j < c; ++j) {
            tg[j] += sg[j];
            tgx[j] += sgx[j];
          }
        }
        T *pdg = dgamma->data<T>(), *pdb = dbeta->data<T>();
        std::vector<T> A(c), B(c), C(c);
        for (int64_t j = 0; j < c; ++j) {
          const double is = pis[j], db = tg[j], dgm = tgx[j] * is;
          pdb[j] = T(db);
          pdg[j] = T(dgm);
          const double gs = (g_ ? double(g_->data<T>()[j]) : 1.0) * is;
          A[j] = T(gs);
          B[j] = T(-gs * is * dgm / double(n));
          C[j] = T(-gs * db / double(n) + gs * is * dgm * double(pm[j]) / double(n));
        }
        if (!dx) return;
        T* pdx = dx->data<T>();
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < c; ++j)
            pdx[i * c + j] = pg[i * c + j] * A[j] + px[i * c + j] * B[j] + C[j];
      });
      return {dx, ng ? dgamma : nullptr, nb ? dbeta : nullptr};
    };
  });
}

// ---- cross entropy ------------------------------------------------------------

// Per-sample loss lse(x_i) − x_i[y_i] (0 where y_i == ignore_index), one
// pass per row; saves the row log-sum-exps for its fused backward
// softmax − one-hot.
Tensor cross_entropy_per_sample(const Tensor& logits_in, const Tensor& target_in,
                                int64_t ignore_index) {
  check_defined(logits_in, "cross_entropy");
  check_defined(target_in, "cross_entropy");
  check_floating(logits_in, "cross_entropy");
  const Tensor logits = contiguous(logits_in), target = contiguous_data(target_in);
  if (logits->ndim() != 2)
    throw ValueError("cross_entropy: expected logits of shape (N, C), got " +
                     shape_str(logits->shape));
  if (target->dtype != DType::int64)
    throw TypeError(std::string("cross_entropy: expected int64 class indices as target, got ") +
                    dtype_name(target->dtype));
  const int64_t n = logits->shape[0], c = logits->shape[1];
  if (target->ndim() != 1 || target->shape[0] != n)
    throw ValueError("cross_entropy: expected a target of shape (" + std::to_string(n) +
                     ",) for logits of shape " + shape_str(logits->shape) + ", got " +
                     shape_str(target->shape));
  const int64_t* pt = target->data<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    if (pt[i] != ignore_index && (pt[i] < 0 || pt[i] >= c))
      throw IndexError("cross_entropy: target " + std::to_string(pt[i]) + " at position " +
                       std::to_string(i) + " is out of bounds for " + std::to_string(c) +
                       " classes");
  Tensor out = empty({n}, logits->dtype);
  Tensor lse = empty({n}, logits->dtype);
  dispatch_floating(logits->dtype, "cross_entropy", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
    Arr e(c);
    const T* px = logits->data<T>();
    for (int64_t i = 0; i < n; ++i) {
      Eigen::Map<const Arr> row(px + i * c, c);
      const T m = c ? row.template maxCoeff<Eigen::PropagateNaN>() : T(0);
      exp_into(row - m, e);
      const T log_s = std::log(e.sum());
      lse->data<T>()[i] = m + log_s;
      // (m − x_y) + log s keeps the precision that m + log s − x_y loses
      out->data<T>()[i] = pt[i] == ignore_index ? T(0) : (m - row[pt[i]]) + log_s;
    }
  });
  forward_ad(out, {&logits}, [&](const Grads& t) {
    // d loss_i = Σ_c softmax_ic t_ic − t_i,y_i
    Tensor p = softmax(logits, 1);
    Tensor keep = compare(target, scalar_tensor(double(ignore_index), DType::int64), Compare::ne);
    Tensor safe = where(keep, target, scalar_tensor(0.0, DType::int64));
    Tensor picked = reshape(gather(t[0], 1, reshape(safe, {n, 1})), {n});
    return mul(sub(sum(mul(p, t[0]), Dims{1}, false, std::nullopt), picked),
               to_dtype(keep, logits->dtype));
  });
  return record("CrossEntropyBackward", {&logits}, out, [&] {
    return [sl = Saved(logits), target, lse, ignore_index](Node&, const Tensor& g_in) -> Grads {
      const Tensor& logits = sl.get();
      const Tensor g = contiguous_data(g_in);
      const int64_t n = logits->shape[0], c = logits->shape[1];
      const int64_t* pt = target->data<int64_t>();
      if (grad_enabled()) {
        // as ops, so that it differentiates again: g·(softmax − one-hot)
        Tensor onehot = zeros({n, c}, logits->dtype);
        Tensor keep = zeros({n, 1}, logits->dtype);
        dispatch_floating(logits->dtype, "cross_entropy", [&](auto tag) {
          using T = typename decltype(tag)::type;
          for (int64_t i = 0; i < n; ++i)
            if (pt[i] != ignore_index) {
              onehot->data<T>()[i * c + pt[i]] = T(1);
              keep->data<T>()[i] = T(1);
            }
        });
        Tensor d = mul(sub(softmax(logits, 1), onehot), keep);
        return {mul(d, reshape(g_in, {n, 1}))};
      }
      Tensor dx = empty({n, c}, logits->dtype);
      dispatch_floating(logits->dtype, "cross_entropy", [&](auto tag) {
        using T = typename decltype(tag)::type;
        using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
        const T *px = logits->data<T>(), *pl = lse->data<T>(), *pg = g->data<T>();
        T* pd = dx->data<T>();
        for (int64_t i = 0; i < n; ++i) {
          Eigen::Map<Arr> drow(pd + i * c, c);
          if (pt[i] == ignore_index) {
            drow.setZero();
            continue;
          }
          exp_into(Eigen::Map<const Arr>(px + i * c, c) - pl[i], drow);
          drow[pt[i]] -= T(1);
          drow *= pg[i];
        }
      });
      return {dx};
    };
  });
}

// ---- dropout ------------------------------------------------------------------

Tensor dropout_mask(const Shape& shape, double p, DType dt) {
  if (!(p >= 0.0 && p <= 1.0))
    throw ValueError("dropout: probability has to be between 0 and 1, but got " +
                     std::to_string(p));
  Tensor u = rand(shape, dt);
  if (p == 1.0) return zeros(shape, dt);
  // inverted dropout: kept units are scaled by 1/(1−p) so the expectation is x
  dispatch_floating(dt, "dropout", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* pu = u->data<T>();
    const T keep_scale = T(1.0 / (1.0 - p)), tp = T(p);
    for (int64_t i = 0; i < u->numel; ++i) pu[i] = pu[i] >= tp ? keep_scale : T(0);
  });
  return u;
}

// ---- the table ------------------------------------------------------------------------

namespace {
Tensor softmax_op(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return softmax(dtype ? to_dtype(x, *dtype) : x, dim);
}
Tensor log_softmax_op(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return log_softmax(dtype ? to_dtype(x, *dtype) : x, dim);
}
}  // namespace

TG_OP("softmax(Tensor input, int dim, ScalarType? dtype=None) -> Tensor", "function method",
      softmax_op, R"(exp(x) / sum(exp(x)) along dim, stable for large inputs.

>>> tg.softmax(tg.tensor([0.0, 0.0]), dim=0).tolist()
[0.5, 0.5])");
TG_OP("log_softmax(Tensor input, int dim, ScalarType? dtype=None) -> Tensor", "function method",
      log_softmax_op, R"(x - logsumexp(x) along dim, computed without cancellation.

>>> round(tg.log_softmax(tg.tensor([0.0, 0.0]), dim=0)[0].item(), 4)
-0.6931)");
TG_OP(
    "_batch_norm_train(Tensor input, Tensor? weight, Tensor? bias, Tensor? running_mean, Tensor? "
    "running_var, float momentum, float eps) -> Tensor",
    "function", batch_norm_train, R"(Training-mode batch norm of (N, C) input (F.batch_norm).)");
TG_OP("_cross_entropy(Tensor input, Tensor target, int ignore_index) -> Tensor", "function",
      cross_entropy_per_sample, R"(Per-sample cross-entropy of (N, C) logits (F.cross_entropy).)");
TG_OP("_dropout_mask(int[] shape, float p, ScalarType dtype) -> Tensor", "function", dropout_mask,
      R"(An inverted-dropout mask: 0 with probability p, else 1/(1-p) (F.dropout).)");

}  // namespace tapegrad
