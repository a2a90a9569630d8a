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
  if (a_in->ndim() != 2 || b_in->ndim() != 2)
    throw ValueError("mm: expected 2-D tensors, got shapes " + shape_str(a_in->shape) + " and " +
                     shape_str(b_in->shape));
  int64_t m = a_in->shape[ta ? 1 : 0], k = a_in->shape[ta ? 0 : 1];
  int64_t kb = b_in->shape[tb ? 1 : 0], n = b_in->shape[tb ? 0 : 1];
  if (k != kb) {
    Shape sa{m, k}, sb{kb, n};
    throw ValueError("matmul: shapes " + shape_str(sa) + " and " + shape_str(sb) +
                     " do not align (" + std::to_string(k) + " != " + std::to_string(kb) + ")");
  }
  DType dt = promote(a_in->dtype, b_in->dtype);
  Tensor a = to_dtype(a_in, dt), b = to_dtype(b_in, dt);
  Tensor out = empty({m, n}, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    gemm<T>(ta, tb, m, n, k, a->data<T>(), b->data<T>(), out->data<T>());
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

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined(a, "matmul");
  check_defined(b, "matmul");
  const int64_t da = a->ndim(), db = b->ndim();
  if (da == 0 || db == 0 || da > 2 || db > 2)
    throw ValueError("matmul: expected 1-D or 2-D operands, got shapes " + shape_str(a->shape) +
                     " and " + shape_str(b->shape));
  auto check = [&](int64_t ka, int64_t kb) {
    if (ka != kb)
      throw ValueError("matmul: shapes " + shape_str(a->shape) + " and " + shape_str(b->shape) +
                       " do not align (" + std::to_string(ka) + " != " + std::to_string(kb) + ")");
  };
  if (da == 2 && db == 2) {
    check(a->shape[1], b->shape[0]);
    return mm(a, b, false, false);
  }
  if (da == 1 && db == 1) {
    check(a->shape[0], b->shape[0]);
    return reshape(mm(reshape(a, {1, a->shape[0]}), reshape(b, {b->shape[0], 1}), false, false), {});
  }
  if (da == 1) {
    check(a->shape[0], b->shape[0]);
    return reshape(mm(reshape(a, {1, a->shape[0]}), b, false, false), {b->shape[1]});
  }
  check(a->shape[1], b->shape[0]);
  return reshape(mm(a, reshape(b, {b->shape[0], 1}), false, false), {a->shape[0]});
}

}  // namespace tapegrad
