// Python's subscripts on tensors: t[key] and t[key] = value, with PyTorch's
// rules. Basic entries (ints, slices, None, ..., bools) make views; integer
// and bool tensors index (advanced indexing) and copy.
#pragma once

#include <vector>

#include "tapegrad/tensor.h"

namespace tapegrad {

struct TensorIndex {
  enum class Kind : uint8_t { None, Ellipsis, Bool, Int, Slice, Tensor };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  bool has_start = false, has_stop = false;
  int64_t start = 0, stop = 0, step = 1;
  Tensor tensor;
};

Tensor getitem(const Tensor& x, const std::vector<TensorIndex>& key);
// Writes value (broadcast, cast) into x[key]; recorded like any in-place op.
void setitem(const Tensor& x, const std::vector<TensorIndex>& key, const Tensor& value);

}  // namespace tapegrad
