// Matrix products. mm is the primitive; matmul adapts 1-D and batched
// operands to it. Transposed (and other row- or column-major strided) views go
// to the BLAS as transpose flags and leading dimensions, never copied, so
// backward's a.t() and b.t() cost nothing.
#include <Eigen/Core>
#include <climits>

#include "blas.h"
#include "elementwise.h"
#include "tapegrad/registry.h"

namespace tapegrad {

// Below this many multiply-adds Eigen's inlined product beats the BLAS call
// overhead (bench/bench_matmul.py).
constexpr int64_t kBlasMinFlops = 32 * 32 * 32;

namespace {

// How the BLAS reads a (rows, cols) matrix in memory: row-major with leading
// dimension ld, or transposed (a row-major (cols, rows) matrix).
struct Layout {
  bool trans = false;
  int64_t ld = 1;
};

// The layout of the last two dims of t, or none when they are neither row-
// nor column-major (then t is copied).
std::optional<Layout> blas_layout(const TensorImpl& t) {
  const int64_t nd = t.ndim();
  const int64_t rows = t.shape[nd - 2], cols = t.shape[nd - 1];
  const int64_t rs = t.strides[nd - 2], cs = t.strides[nd - 1];
  if ((cs == 1 || cols <= 1) && (rs >= std::max<int64_t>(cols, 1) || rows <= 1))
    return Layout{false, std::max<int64_t>(rows <= 1 ? cols : rs, 1)};
  if ((rs == 1 || rows <= 1) && (cs >= std::max<int64_t>(rows, 1) || cols <= 1))
    return Layout{true, std::max<int64_t>(cols <= 1 ? rows : cs, 1)};
  return std::nullopt;
}

template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, Layout la, const T* b, Layout lb, T* c) {
  if (m * n * k >= kBlasMinFlops && m < INT_MAX && n < INT_MAX && k < INT_MAX && la.ld < INT_MAX &&
      lb.ld < INT_MAX && blas_gemm<T>(la.trans, lb.trans, m, n, k, a, la.ld, b, lb.ld, c))
    return;
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Strided = Eigen::Map<const Mat, 0, Eigen::OuterStride<>>;
  Eigen::Map<Mat> C(c, m, n);
  if (k == 0 || m == 0 || n == 0) {
    C.setZero();
    return;
  }
  Strided A(a, la.trans ? k : m, la.trans ? m : k, Eigen::OuterStride<>(la.ld));
  Strided B(b, lb.trans ? n : k, lb.trans ? k : n, Eigen::OuterStride<>(lb.ld));
  if (!la.trans && !lb.trans)
    C.noalias() = A * B;
  else if (la.trans && !lb.trans)
    C.noalias() = A.transpose() * B;
  else if (!la.trans && lb.trans)
    C.noalias() = A * B.transpose();
  else
    C.noalias() = A.transpose() * B.transpose();
}

}  // namespace

Tensor mm(const Tensor& a_in, const Tensor& b_in) {
  check_defined(a_in, "mm");
  check_defined(b_in, "mm");
  const int64_t nd = a_in->ndim();
  if (nd < 2 || nd > 3 || b_in->ndim() != nd || (nd == 3 && a_in->shape[0] != b_in->shape[0]))
    throw RuntimeError(
        "mm: expected two 2-D tensors or two 3-D tensors with the same batch, got "
        "shapes " +
        shape_str(a_in->shape) + " and " + shape_str(b_in->shape));
  const int64_t batch = nd == 3 ? a_in->shape[0] : 1;
  const int64_t m = a_in->shape[nd - 2], k = a_in->shape[nd - 1];
  const int64_t kb = b_in->shape[nd - 2], n = b_in->shape[nd - 1];
  if (k != kb)
    throw RuntimeError("mm: mat1 and mat2 shapes cannot be multiplied (" + std::to_string(m) + "x" +
                       std::to_string(k) + " and " + std::to_string(kb) + "x" + std::to_string(n) +
                       ")");
  DType dt = result_type(*a_in, *b_in);
  if (dt == DType::bool_) throw RuntimeError("mm: not implemented for bool tensors");
  Tensor a = to_dtype(a_in, dt), b = to_dtype(b_in, dt);
  Tensor ad = blas_layout(*a) ? a : contiguous_data(a);
  Tensor bd = blas_layout(*b) ? b : contiguous_data(b);
  const Layout la = *blas_layout(*ad), lb = *blas_layout(*bd);
  Shape shape = nd == 3 ? Shape{batch, m, n} : Shape{m, n};
  Tensor out = empty(shape, dt);
  const int64_t sa = nd == 3 ? ad->strides[0] : 0, sb = nd == 3 ? bd->strides[0] : 0;
  dispatch_numeric(dt, "mm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < batch; ++i)
      gemm<T>(m, n, k, ad->ptr<T>() + i * sa, la, bd->ptr<T>() + i * sb, lb,
              out->data<T>() + i * m * n);
  });
  auto mT = [](const Tensor& t) { return transpose(t, -1, -2); };
  forward_ad(out, {&a, &b}, [&](const Grads& t) {
    return sum_terms(t[0] ? mm(t[0], b) : nullptr, t[1] ? mm(a, t[1]) : nullptr);
  });
  return record("MmBackward", {&a, &b}, out, [&] {
    // C = A·B: dA = G·Bᵀ and dB = Aᵀ·G, through transposed views
    return [sa_ = Saved(a), sb_ = Saved(b), mT](Node& node, const Tensor& g) -> Grads {
      Tensor ga, gb;
      if (node.needs_grad(0)) ga = mm(g, mT(sb_.get()));
      if (node.needs_grad(1)) gb = mm(mT(sa_.get()), g);
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
    throw RuntimeError("matmul: both arguments to matmul need to be at least 1D, but they are " +
                       std::to_string(da) + "D and " + std::to_string(db) + "D (shapes " +
                       shape_str(a->shape) + " and " + shape_str(b->shape) + ")");
  const int64_t ka = a->shape[da - 1], kb = b->shape[db == 1 ? 0 : db - 2];
  if (ka != kb)
    throw RuntimeError("matmul: shapes " + shape_str(a->shape) + " and " + shape_str(b->shape) +
                       " cannot be multiplied (" + std::to_string(ka) +
                       " != " + std::to_string(kb) + ")");
  if (da == 1 && db == 1) return reshape(mm(reshape(a, {1, ka}), reshape(b, {kb, 1})), {});
  if (da <= 2 && db <= 2) {
    Tensor a2 = da == 1 ? reshape(a, {1, ka}) : a, b2 = db == 1 ? reshape(b, {kb, 1}) : b;
    Tensor c = mm(a2, b2);
    if (da == 1) return reshape(c, {c->shape[1]});
    if (db == 1) return reshape(c, {c->shape[0]});
    return c;
  }
  if (db <= 2) {
    // (..., m, k) @ (k, n): one product of (batch·m, k) by (k, n)
    Tensor b2 = db == 1 ? reshape(b, {kb, 1}) : b;
    Shape lead(a->shape.begin(), a->shape.end() - 1);
    Tensor c = mm(reshape(a, {numel_of(lead, "matmul"), ka}), b2);
    Shape shape = lead;
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
  Tensor c = mm(batched(a3), batched(b));
  Shape shape = batch;
  if (da > 1) shape.push_back(a->shape[da - 2]);
  shape.push_back(b->shape[db - 1]);
  return reshape(c, shape);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  check_defined(a, "outer");
  check_defined(b, "outer");
  if (a->ndim() != 1 || b->ndim() != 1)
    throw RuntimeError("outer: expected 1-D tensors, got shapes " + shape_str(a->shape) + " and " +
                       shape_str(b->shape));
  return mul(reshape(a, {a->numel, 1}), reshape(b, {1, b->numel}));
}

Tensor dot(const Tensor& a, const Tensor& b) {
  check_defined(a, "dot");
  check_defined(b, "dot");
  if (a->ndim() != 1 || b->ndim() != 1)
    throw RuntimeError("dot: 1D tensors expected, but got " + std::to_string(a->ndim()) + "D and " +
                       std::to_string(b->ndim()) + "D tensors");
  if (a->numel != b->numel)
    throw RuntimeError("dot: inconsistent tensor size, expected tensor [" +
                       std::to_string(a->numel) + "] and src [" + std::to_string(b->numel) +
                       "] to have the same number of elements, but got " +
                       std::to_string(a->numel) + " and " + std::to_string(b->numel) +
                       " elements respectively");
  return matmul(a, b);
}

TG_OP("matmul(Tensor input, Tensor other) -> Tensor", "function method __matmul__ r:__rmatmul__",
      matmul,
      R"(The matrix product with PyTorch's rules: 1-D operands, batched and broadcast.

>>> (tg.ones(2, 3) @ tg.ones(3, 4)).shape
(2, 4))");
TG_OP(
    "mm(Tensor input, Tensor mat2) -> Tensor", "function method",
    [](const Tensor& a, const Tensor& b) {
      if (a->ndim() != 2 || b->ndim() != 2)
        throw RuntimeError("mm: expected 2-D tensors, got shapes " + shape_str(a->shape) + " and " +
                           shape_str(b->shape));
      return mm(a, b);
    },
    R"(The product of two matrices (transposed views need no copy).

>>> tg.mm(tg.ones(2, 3), tg.ones(3, 2)).tolist()
[[3.0, 3.0], [3.0, 3.0]])");
TG_OP("outer(Tensor input, Tensor vec2) -> Tensor", "function method also:ger", outer,
      R"(The outer product of two vectors.

>>> tg.outer(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])).tolist()
[[3.0, 4.0], [6.0, 8.0]])");
TG_OP("dot(Tensor input, Tensor tensor) -> Tensor", "function method", dot,
      R"(The inner product of two vectors of one length.

>>> tg.dot(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])).item()
11.0)");

}  // namespace tapegrad
