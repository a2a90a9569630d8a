// matrix_exp. The backward is the adjoint Fréchet derivative L(Aᵀ, G), read
// off the top-right block of exp([[Aᵀ, G], [0, Aᵀ]]); the jvp is L(A, T) from
// exp([[A, T], [0, A]]). Both are written with ops, so they differentiate again.
#include <Eigen/Core>
#include <unsupported/Eigen/MatrixFunctions>

#include "kernels.h"
#include "tapegrad/node.h"
#include "tapegrad/ops.h"

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
    throw ValueError("matrix_exp: expected a square 2-D matrix, got shape " + shape_str(a->shape));
  const int64_t n = a->shape[0];
  Tensor out = empty(a->shape, a->dtype);
  dispatch_floating(a->dtype, "matrix_exp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<const Mat> A(a->data<T>(), n, n);
    Eigen::Map<Mat> E(out->data<T>(), n, n);
    if (n > 0) E = A.exp();  // scaling and squaring with Padé approximants
  });
  forward_ad(out, {&a}, [&](const Grads& t) { return frechet_exp(a, t[0]); });
  return record("MatrixExpBackward", {&a}, out, [&] {
    return [a](Node&, const Tensor& g) -> Grads { return {frechet_exp(transpose(a, 0, 1), g)}; };
  });
}

}  // namespace tapegrad
