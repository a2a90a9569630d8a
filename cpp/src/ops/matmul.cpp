// Matrix products. mm is the primitive (with transpose flags so that backward
// needs no transposed copies); matmul adapts 1-D operands to it.
#include <Eigen/Core>
#include <climits>

#include "../blas.h"
#include "kernels.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

namespace tapegrad {

// Below this many multiply-adds Eigen's inlined product beats the BLAS call
// overhead (bench/bench_matmul.py).
constexpr int64_t kBlasMinFlops = 32 * 32 * 32;

template <class T>
static void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* c) {
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  if (m * n * k >= kBlasMinFlops && m < INT_MAX && n < INT_MAX && k < INT_MAX &&
      blas_gemm<T>(ta, tb, m, n, k, a, lda, b, ldb, c))
    return;
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const Mat> A(a, ta ? k : m, ta ? m : k), B(b, tb ? n : k, tb ? k : n);
  Eigen::Map<Mat> C(c, m, n);
  if (k == 0) {
    C.setZero();
    return;
  }
  if (!ta && !tb)
    C.noalias() = A * B;
  else if (ta && !tb)
    C.noalias() = A.transpose() * B;
  else if (!ta && tb)
    C.noalias() = A * B.transpose();
  else
    C.noalias() = A.transpose() * B.transpose();
}

Tensor mm(const Tensor& a_in, const Tensor& b_in, bool ta, bool tb) {
  check_defined(a_in, "matmul");
  check_defined(b_in, "matmul");
  const int64_t nd = a_in->ndim();
  if (nd < 2 || nd > 3 || b_in->ndim() != nd || (nd == 3 && a_in->shape[0] != b_in->shape[0]))
    throw ValueError(
        "mm: expected two 2-D tensors or two 3-D tensors with the same batch, got "
        "shapes " +
        shape_str(a_in->shape) + " and " + shape_str(b_in->shape));
  const int64_t batch = nd == 3 ? a_in->shape[0] : 1, r = nd - 2;
  int64_t m = a_in->shape[r + (ta ? 1 : 0)], k = a_in->shape[r + (ta ? 0 : 1)];
  int64_t kb = b_in->shape[r + (tb ? 1 : 0)], n = b_in->shape[r + (tb ? 0 : 1)];
  if (k != kb) {
    Shape sa{m, k}, sb{kb, n};
    throw ValueError("matmul: shapes " + shape_str(sa) + " and " + shape_str(sb) +
                     " do not align (" + std::to_string(k) + " != " + std::to_string(kb) + ")");
  }
  DType dt = result_type(*a_in, *b_in);
  Tensor a = to_dtype(a_in, dt), b = to_dtype(b_in, dt);
  Shape shape = nd == 3 ? Shape{batch, m, n} : Shape{m, n};
  Tensor out = empty(shape, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < batch; ++i)
      gemm<T>(ta, tb, m, n, k, a->data<T>() + i * m * k, b->data<T>() + i * k * n,
              out->data<T>() + i * m * n);
  });
  forward_ad(out, {&a, &b}, [&](const Grads& t) {
    return sum_terms(t[0] ? mm(t[0], b, ta, tb) : nullptr, t[1] ? mm(a, t[1], ta, tb) : nullptr);
  });
  return record("MmBackward", {&a, &b}, out, [&] {
    // C = op(A)·op(B): d op(A) = G·op(B)ᵀ and d op(B) = op(A)ᵀ·G, written
    // back through the flags so no transposed copy is made.
    return [a, b, ta, tb](Node& n, const Tensor& g) -> Grads {
      Tensor ga, gb;
      if (n.needs_grad(0)) ga = ta ? mm(b, g, tb, true) : mm(g, b, false, !tb);
      if (n.needs_grad(1)) gb = tb ? mm(g, a, true, ta) : mm(a, g, !ta, false);
      return {ga, gb};
    };
  });
}

// PyTorch's matmul: 1-D operands gain a dim that is removed again; batch
// dims broadcast; (..., m, k) @ (k, n) folds the batch into m.
Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined(a, "matmul");
  check_defined(b, "matmul");
  const int64_t da = a->ndim(), db = b->ndim();
  if (da == 0 || db == 0)
    throw ValueError("matmul: both arguments need at least 1 dimension, got shapes " +
                     shape_str(a->shape) + " and " + shape_str(b->shape));
  const int64_t ka = a->shape[da - 1], kb = b->shape[db == 1 ? 0 : db - 2];
  if (ka != kb)
    throw ValueError("matmul: shapes " + shape_str(a->shape) + " and " + shape_str(b->shape) +
                     " do not align (" + std::to_string(ka) + " != " + std::to_string(kb) + ")");
  if (da == 1 && db == 1)
    return reshape(mm(reshape(a, {1, ka}), reshape(b, {kb, 1}), false, false), {});
  if (da <= 2 && db <= 2) {
    Tensor a2 = da == 1 ? reshape(a, {1, ka}) : a, b2 = db == 1 ? reshape(b, {kb, 1}) : b;
    Tensor c = mm(a2, b2, false, false);
    if (da == 1) return reshape(c, {c->shape[1]});
    if (db == 1) return reshape(c, {c->shape[0]});
    return c;
  }
  if (db <= 2) {
    // (..., m, k) @ (k, n): one product of (batch·m, k) by (k, n). The rows
    // are counted, not inferred with -1, which is ambiguous when k is 0.
    Tensor b2 = db == 1 ? reshape(b, {kb, 1}) : b;
    const int64_t rows = numel_of(Shape(a->shape.begin(), a->shape.end() - 1), "matmul");
    Tensor c = mm(reshape(a, {rows, ka}), b2, false, false);
    Shape shape(a->shape.begin(), a->shape.end() - 1);
    if (db == 2) shape.push_back(b->shape[1]);
    return reshape(c, shape);
  }
  Tensor a3 = da == 1 ? reshape(a, {1, ka}) : a;
  Shape ba(a3->shape.begin(), a3->shape.end() - 2), bb(b->shape.begin(), b->shape.end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul");
  int64_t count = numel_of(batch, "matmul");
  auto batched = [&](const Tensor& t) {
    Shape full = batch;
    full.push_back(t->shape[t->ndim() - 2]);
    full.push_back(t->shape[t->ndim() - 1]);
    return reshape(broadcast_to(t, full), {count, full[full.size() - 2], full.back()});
  };
  Tensor c = mm(batched(a3), batched(b), false, false);
  Shape shape = batch;
  if (da > 1) shape.push_back(a->shape[da - 2]);
  shape.push_back(b->shape[db - 1]);
  return reshape(c, shape);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  check_defined(a, "outer");
  check_defined(b, "outer");
  if (a->ndim() != 1 || b->ndim() != 1)
    throw ValueError("outer: expected 1-D tensors, got shapes " + shape_str(a->shape) + " and " +
                     shape_str(b->shape));
  return mul(reshape(a, {a->numel, 1}), reshape(b, {1, b->numel}));
}

Tensor dot(const Tensor& a, const Tensor& b) {
  check_defined(a, "dot");
  check_defined(b, "dot");
  if (a->ndim() != 1 || b->ndim() != 1 || a->numel != b->numel)
    throw ValueError("dot: expected two 1-D tensors of the same size, got shapes " +
                     shape_str(a->shape) + " and " + shape_str(b->shape));
  return matmul(a, b);
}

}  // namespace tapegrad
