// Differentiable ops. Each is defined, forward beside backward and jvp, and
// registered in the op table (registry.h), in one file of cpp/src/ops.
// Backward rules are written with these same ops, so a backward run under
// create_graph is itself recorded.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/tensor.h"

namespace tapegrad {

using Dims = Shape;
using OptDims = std::optional<Dims>;

// ---- dtype and copies (shape.cpp) ----------------------------------------------------
Tensor to_dtype(const Tensor& x, DType dt);  // returns x itself when dt matches
Tensor clone(const Tensor& x);
Tensor contiguous(const Tensor& x);  // x itself when contiguous
Tensor detach(const Tensor& x);      // shares storage, no graph
// self's elements := src (broadcast, cast); recorded like any in-place op.
Tensor copy_(const Tensor& self, const Tensor& src);

// ---- binary.cpp: NumPy broadcasting, PyTorch's type promotion --------------------------
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor floor_divide(const Tensor& a, const Tensor& b);
enum class Compare { lt, le, gt, ge, eq, ne };
Tensor compare(const Tensor& a, const Tensor& b, Compare op);  // bool, not differentiable
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
enum class Logical { and_, or_, xor_ };
Tensor logical(const Tensor& a, const Tensor& b, Logical op);  // bool
Tensor logical_not(const Tensor& x);
Tensor bitwise(const Tensor& a, const Tensor& b, Logical op);  // integer and bool
Tensor bitwise_not(const Tensor& x);

// ---- unary.cpp ---------------------------------------------------------------------------
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
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max);

// ---- reduce.cpp: dims may be negative; no dims = all dims ------------------------------
Tensor sum(const Tensor& x, const OptDims& dims, bool keepdim, std::optional<DType> dtype);
Tensor mean(const Tensor& x, const OptDims& dims, bool keepdim, std::optional<DType> dtype);
Tensor prod(const Tensor& x, std::optional<int64_t> dim, bool keepdim, std::optional<DType> dtype);
Tensor sum_to(const Tensor& x, const Shape& shape);  // undoes broadcasting
// max/min over all elements: a tie shares the gradient evenly, as PyTorch
Tensor max_all(const Tensor& x);
Tensor min_all(const Tensor& x);
// max/min over one dim: (values, int64 indices of the first extremum); the
// gradient goes to that index, as PyTorch's.
std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim);
std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim);
Tensor var(const Tensor& x, const OptDims& dims, double correction, bool keepdim);
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim);
Tensor norm(const Tensor& x, double p, const OptDims& dims, bool keepdim);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
Tensor all(const Tensor& x, const OptDims& dims, bool keepdim);
Tensor any(const Tensor& x, const OptDims& dims, bool keepdim);
Tensor count_nonzero(const Tensor& x, const OptDims& dims);

// ---- shape.cpp: views share storage with their input ---------------------------------
Tensor view(const Tensor& x, const Shape& shape);     // a view, or RuntimeError
Tensor reshape(const Tensor& x, const Shape& shape);  // a view where possible, else a copy
Tensor as_strided(const Tensor& x, const Shape& shape, const Strides& strides,
                  std::optional<int64_t> storage_offset);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const Dims& dims);
Tensor numpy_T(const Tensor& x);  // .T: the dims reversed
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor expand(const Tensor& x, const Shape& sizes);  // -1 keeps a dim
Tensor squeeze(const Tensor& x, const OptDims& dims);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// x[..., start:stop:step, ...] along dim (start/stop already clamped)
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t stop, int64_t step);
Tensor diagonal(const Tensor& x, int64_t offset, int64_t dim1, int64_t dim2);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
std::vector<Tensor> split(const Tensor& x, const Shape& sizes, int64_t dim);
// The adjoint pair behind views written in place: gather reads the view
// region (geometry in the base's storage) out of a tensor shaped like the
// base; scatter writes a view-shaped tensor into zeros shaped like the base.
Tensor as_strided_gather(const Tensor& x, const Shape& base_shape, const Strides& base_strides,
                         int64_t base_offset, const Shape& shape, const Strides& strides,
                         int64_t offset);
Tensor as_strided_scatter(const Tensor& g, const Shape& base_shape, const Strides& base_strides,
                          int64_t base_offset, const Shape& shape, const Strides& strides,
                          int64_t offset);

// ---- index.cpp ------------------------------------------------------------------------------
// zeros(shape) with g written into x[..., start:stop:step, ...]: slice's adjoint
Tensor slice_scatter(const Tensor& g, const Shape& shape, int64_t dim, int64_t start, int64_t stop,
                     int64_t step);
// x.index_select(dim, index) with an index of any shape: the result's dim is
// replaced by index.shape. Out-of-range entries are an IndexError.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// zeros(shape) with g added at index along dim (repeated indices add up).
Tensor index_add_to(const Tensor& g, const Shape& shape, int64_t dim, const Tensor& index);
// out[..i..] = x[..index[..i..]..] along dim, index shaped like the output.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add_to(const Tensor& g, const Shape& shape, int64_t dim, const Tensor& index);
// x[indices] with PyTorch's advanced indexing: one index tensor (int64, or
// bool as a mask) per leading dim, null for a full slice.
Tensor index(const Tensor& x, const std::vector<Tensor>& indices);
// zeros(shape) with values put (or added) at indices: index's adjoint.
Tensor index_put_to(const Tensor& values, const Shape& shape, const std::vector<Tensor>& indices);
// x with values written (accumulate: added) at indices, out of place.
Tensor index_put(const Tensor& x, const std::vector<Tensor>& indices, const Tensor& values,
                 bool accumulate);
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value);
Tensor masked_select(const Tensor& x, const Tensor& mask);
Tensor nonzero(const Tensor& x);  // (n, ndim) int64

// ---- matmul.cpp ---------------------------------------------------------------------------
// a·b for 2-D operands, or 3-D operands with equal batch; transposed views go to
// the BLAS as transpose flags, never copied.
Tensor mm(const Tensor& a, const Tensor& b);
Tensor matmul(const Tensor& a, const Tensor& b);  // 1-D, 2-D, batched with broadcasting
Tensor outer(const Tensor& a, const Tensor& b);
Tensor dot(const Tensor& a, const Tensor& b);

// ---- nn.cpp: fused kernels whose backward is also written with ops ------------------------
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

// ---- linalg.cpp -------------------------------------------------------------------------------
Tensor matrix_exp(const Tensor& a);

// ---- random.cpp ---------------------------------------------------------------------------------
Tensor rand(const Shape& shape, DType dt);
Tensor randn(const Shape& shape, DType dt);
void manual_seed(uint64_t seed);
// The generator's full state as text, to save in a checkpoint and restore.
std::string get_rng_state();
void set_rng_state(const std::string& state);

}  // namespace tapegrad
