// Differentiable ops. Each is defined, forward beside backward, in one file of
// cpp/src/ops. Backward rules are written with these same ops, so a backward
// run under create_graph is itself recorded.
#pragma once

#include <optional>
#include <utility>
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
// a ** exponent where the exponent is a Python number (a 0-d tensor here):
// as PyTorch, a negative integer exponent on an integer tensor is an error.
Tensor pow_scalar(const Tensor& a, const Tensor& exponent);
enum class Compare { lt, le, gt, ge, eq, ne };
Tensor compare(const Tensor& a, const Tensor& b, Compare op);  // 0/1, not differentiable
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// unary.cpp
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);  // not differentiable
Tensor softplus(const Tensor& x, double beta, double threshold);
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);

// reduce.cpp: dims may be negative; empty dims = all dims
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
Tensor sum_to(const Tensor& x, const Shape& shape);  // undoes broadcasting
// max/min over all elements: a tie shares the gradient evenly, as PyTorch
Tensor max_all(const Tensor& x);
Tensor min_all(const Tensor& x);
// max/min over one dim: (values, int64 indices of the first extremum); the
// gradient goes to that index, as PyTorch's.
std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim);
std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim);
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim);
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// shape.cpp
Tensor reshape(const Tensor& x, const Shape& shape,
               const char* op = "reshape");  // one -1 allowed
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor expand(const Tensor& x, const Shape& sizes);  // -1 keeps a dim
Tensor squeeze(const Tensor& x, std::optional<int64_t> dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);

// index.cpp: each gather has a scatter partner that is its backward, and
// each is the other's backward, so indexing is differentiable to any order.
// x[..., start:stop:step, ...] along dim (start/stop already clamped).
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t stop, int64_t step);
Tensor slice_scatter(const Tensor& g, const Shape& shape, int64_t dim, int64_t start, int64_t stop,
                     int64_t step);
// x.index_select(dim, index) with an index of any shape: the result's dim is
// replaced by index.shape. Out-of-range entries are an IndexError.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// zeros(shape) with g added at index along dim (repeated indices add up).
Tensor index_add(const Tensor& g, const Shape& shape, int64_t dim, const Tensor& index);
// out[..i..] = x[..index[..i..]..] along dim, index shaped like the output.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& g, const Shape& shape, int64_t dim, const Tensor& index);

// matmul.cpp
// op(a) · op(b) for 2-D operands or 3-D operands with equal batch, op =
// transpose of the last two dims when the flag is set: backward rules use
// the flags instead of materializing transposed copies.
Tensor mm(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
Tensor matmul(const Tensor& a, const Tensor& b);  // 1-D, 2-D, batched 3-D
Tensor outer(const Tensor& a, const Tensor& b);
Tensor dot(const Tensor& a, const Tensor& b);

// nn.cpp: fused kernels whose backward is also written with ops
// Training-mode batch norm on (N, C): batch statistics, running statistics
// (when given) updated in place with momentum; gamma/beta may be null.
Tensor batch_norm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                        const Tensor& running_mean, const Tensor& running_var, double momentum,
                        double eps);
// Per-sample cross-entropy of (N, C) logits and int64 targets (0 where the
// target is ignore_index); reductions and class weights are composed on top.
Tensor cross_entropy_per_sample(const Tensor& logits, const Tensor& target, int64_t ignore_index);
// A dropout mask: 0 with probability p, else 1/(1−p); from the seeded generator.
Tensor dropout_mask(const Shape& shape, double p, DType dt);

// linalg.cpp
Tensor matrix_exp(const Tensor& a);

}  // namespace tapegrad
