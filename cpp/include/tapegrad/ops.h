// Differentiable ops. Each is defined, forward beside backward, in one file of
// cpp/src/ops. Backward rules are written with these same ops, so a backward
// run under create_graph is itself recorded.
#pragma once

#include <vector>

#include "tapegrad/tensor.h"

namespace tapegrad {

// dtype
Tensor to_dtype(const Tensor& x, DType dt);  // returns x itself when dt matches
Tensor clone(const Tensor& x);
Tensor detach(const Tensor& x);  // shares storage, no graph
// In-place: writes src (broadcast and cast to self's shape and dtype) into
// self's storage. Not recorded; refused on a tensor that requires grad while
// grad mode is on (as PyTorch refuses in-place ops on such leaves).
Tensor assign_(const Tensor& self, const Tensor& src, const char* op);

// binary.cpp: NumPy broadcasting
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
enum class Compare { lt, le, gt, ge, eq, ne };
Tensor compare(const Tensor& a, const Tensor& b, Compare op);  // 0/1, not differentiable
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// unary.cpp
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);

// reduce.cpp: dims may be negative; empty dims = all dims
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
Tensor sum_to(const Tensor& x, const Shape& shape);  // undoes broadcasting

// shape.cpp
Tensor reshape(const Tensor& x, const Shape& shape);  // one -1 allowed
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor broadcast_to(const Tensor& x, const Shape& shape);

// matmul.cpp
// op(a) · op(b), op = transpose when the flag is set: backward rules use the
// flags instead of materializing transposed copies.
Tensor mm(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace tapegrad
