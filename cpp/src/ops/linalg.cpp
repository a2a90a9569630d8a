// matrix_exp. The backward is the adjoint Fréchet derivative L(Aᵀ, G), read
// off the top-right block of exp([[Aᵀ, G], [0, Aᵀ]]); the jvp is L(A, T) from
// exp([[A, T], [0, A]]). Both are written with ops, so they differentiate again.
#include <Eigen/Core>
#include <unsupported/Eigen/MatrixFunctions>

#include "elementwise.h"
#include "tapegrad/registry.h"

namespace tapegrad {

// L(A, E): the derivative of exp at A in the direction E.
static Tensor frechet_exp(const Tensor& a, const Tensor& e) {
  const int64_t n = a->shape[0];
  Tensor top = cat({a, e}, 1);
  Tensor bottom = cat({zeros({n, n}, a->dtype), a}, 1);
  Tensor block = matrix_exp(cat({top, bottom}, 0));
  return slice(slice(block, 0, 0, n, 1), 1, n, 2 * n, 1);
}

Tensor matrix_exp(const Tensor& a) {
  check_defined(a, "matrix_exp");
  check_floating(a, "matrix_exp");
  if (a->ndim() != 2 || a->shape[0] != a->shape[1])
    throw RuntimeError("matrix_exp: expected a square 2-D matrix, got shape " +
                       shape_str(a->shape));
  const int64_t n = a->shape[0];
  Tensor out = empty(a->shape, a->dtype);
  dispatch_floating(a->dtype, "matrix_exp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Tensor ad = contiguous_data(a);
    Eigen::Map<const Mat> A(ad->data<T>(), n, n);
    Eigen::Map<Mat> E(out->data<T>(), n, n);
    if (n > 0) E = A.exp();  // scaling and squaring with Padé approximants
  });
  forward_ad(out, {&a}, [&](const Grads& t) { return frechet_exp(a, t[0]); });
  return record("MatrixExpBackward", {&a}, out, [&] {
    return [sa = Saved(a)](Node&, const Tensor& g) -> Grads {
      return {frechet_exp(transpose(sa.get(), 0, 1), g)};
    };
  });
}

TG_OP("matrix_exp(Tensor input) -> Tensor", "function method", matrix_exp,
      R"(The matrix exponential of a square matrix (scaling and squaring), differentiable to
any order.

>>> tg.matrix_exp(tg.zeros(2, 2)).tolist()
[[1.0, 0.0], [0.0, 1.0]])");

}  // namespace tapegrad
