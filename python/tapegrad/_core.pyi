"""
tapegrad's C++ core: tensors, the tape and the kernels
"""
from __future__ import annotations
import collections.abc
import numpy
import typing
from collections.abc import Sequence
__all__: list[str] = ['AccumulateGrad', 'Node', 'RemovableHandle', 'Tensor', 'abs', 'absolute', 'add', 'all', 'any', 'arange', 'argmax', 'argmin', 'as_strided', 'bitwise_and', 'bitwise_not', 'bitwise_or', 'bitwise_xor', 'broadcast_to', 'cat', 'chunk', 'clamp', 'clip', 'clone', 'concat', 'concatenate', 'cos', 'count_nonzero', 'detach', 'diagonal', 'div', 'divide', 'dot', 'dtype', 'empty', 'empty_like', 'eq', 'exp', 'eye', 'flatten', 'floor_divide', 'full', 'full_like', 'gather', 'ge', 'ger', 'get_default_dtype', 'get_num_threads', 'get_rng_state', 'greater', 'greater_equal', 'gt', 'index_put', 'index_select', 'is_grad_enabled', 'le', 'less', 'less_equal', 'log', 'log_softmax', 'logical_and', 'logical_not', 'logical_or', 'logical_xor', 'logsumexp', 'lt', 'manual_seed', 'masked_fill', 'masked_select', 'matmul', 'matrix_exp', 'max', 'maximum', 'mean', 'min', 'minimum', 'mm', 'moveaxis', 'movedim', 'mul', 'multiply', 'narrow', 'ne', 'neg', 'negative', 'nonzero', 'norm', 'not_equal', 'ones', 'ones_like', 'outer', 'permute', 'pow', 'prod', 'rand', 'randn', 'relu', 'remainder', 'reshape', 'select', 'set_default_dtype', 'set_num_threads', 'set_rng_state', 'sigmoid', 'sign', 'sin', 'softmax', 'softplus', 'split', 'split_with_sizes', 'sqrt', 'squeeze', 'stack', 'sub', 'subtract', 'sum', 'swapaxes', 'swapdims', 't', 'tanh', 'transpose', 'true_divide', 'unbind', 'unflatten', 'unsqueeze', 'var', 'where', 'zeros', 'zeros_like']
class dtype:
    """
    Members:
    
      float32
    
      float64
    
      int64
    
      int32
    
      bool
    """
    __members__: typing.ClassVar[dict[str, dtype]]
    bool: typing.ClassVar[dtype]
    float32: typing.ClassVar[dtype]
    float64: typing.ClassVar[dtype]
    int32: typing.ClassVar[dtype]
    int64: typing.ClassVar[dtype]
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self: numpy.dtype[typing.Any]) -> int:
        ...
    def __init__(self: numpy.dtype[typing.Any], value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self: numpy.dtype[typing.Any]) -> int:
        ...
    def __repr__(self):
        ...
    def __setstate__(self: numpy.dtype[typing.Any], state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self):
        ...
    @property
    def is_floating_point(self) -> bool:
        ...
    @property
    def itemsize(self) -> int:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Tensor:
    """
    An N-dimensional array of float32, float64, int64, int32 or bool on the
    C++ tape, with PyTorch's views, type promotion and autograd.
    
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x ** 2).sum(); y.backward(); x.grad
    tensor([2., 4.])
    """
    def add(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input + alpha·other, with broadcasting and type promotion."""
    def add_(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input + alpha·other, with broadcasting and type promotion."""
    def __add__(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input + alpha·other, with broadcasting and type promotion."""
    def __radd__(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input + alpha·other, with broadcasting and type promotion."""
    def __iadd__(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input + alpha·other, with broadcasting and type promotion."""
    def sub(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input - alpha·other."""
    def sub_(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input - alpha·other."""
    def __sub__(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input - alpha·other."""
    def __rsub__(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input - alpha·other."""
    def __isub__(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input - alpha·other."""
    def subtract(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input - alpha·other."""
    def subtract_(self, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
        """input - alpha·other."""
    def mul(self, other: Tensor | float | int | bool) -> Tensor:
        """input · other, elementwise."""
    def mul_(self, other: Tensor | float | int | bool) -> Tensor:
        """input · other, elementwise."""
    def __mul__(self, other: Tensor | float | int | bool) -> Tensor:
        """input · other, elementwise."""
    def __rmul__(self, other: Tensor | float | int | bool) -> Tensor:
        """input · other, elementwise."""
    def __imul__(self, other: Tensor | float | int | bool) -> Tensor:
        """input · other, elementwise."""
    def multiply(self, other: Tensor | float | int | bool) -> Tensor:
        """input · other, elementwise."""
    def multiply_(self, other: Tensor | float | int | bool) -> Tensor:
        """input · other, elementwise."""
    def div(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """input / other; integers divide to floating point unless rounding_mode is "trunc" or "floor"."""
    def div_(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """input / other; integers divide to floating point unless rounding_mode is "trunc" or "floor"."""
    def __truediv__(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """input / other; integers divide to floating point unless rounding_mode is "trunc" or "floor"."""
    def __rtruediv__(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """input / other; integers divide to floating point unless rounding_mode is "trunc" or "floor"."""
    def __itruediv__(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """input / other; integers divide to floating point unless rounding_mode is "trunc" or "floor"."""
    def divide(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """input / other; integers divide to floating point unless rounding_mode is "trunc" or "floor"."""
    def divide_(self, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
        """input / other; integers divide to floating point unless rounding_mode is "trunc" or "floor"."""
    def true_divide(self, other: Tensor | float | int | bool) -> Tensor:
        """input / other as floating point (div without rounding)."""
    def true_divide_(self, other: Tensor | float | int | bool) -> Tensor:
        """input / other as floating point (div without rounding)."""
    def pow(self, exponent: Tensor | float | int | bool) -> Tensor:
        """input ** exponent; integer powers are exact."""
    def pow_(self, exponent: Tensor | float | int | bool) -> Tensor:
        """input ** exponent; integer powers are exact."""
    def __pow__(self, exponent: Tensor | float | int | bool) -> Tensor:
        """input ** exponent; integer powers are exact."""
    def __ipow__(self, exponent: Tensor | float | int | bool) -> Tensor:
        """input ** exponent; integer powers are exact."""
    def __rpow__(self, exponent: Tensor) -> Tensor:
        """input ** exponent with a number as the base."""
    def remainder(self, other: Tensor | float | int | bool) -> Tensor:
        """Python's modulo: the result has the sign of the divisor."""
    def remainder_(self, other: Tensor | float | int | bool) -> Tensor:
        """Python's modulo: the result has the sign of the divisor."""
    def __mod__(self, other: Tensor | float | int | bool) -> Tensor:
        """Python's modulo: the result has the sign of the divisor."""
    def __rmod__(self, other: Tensor | float | int | bool) -> Tensor:
        """Python's modulo: the result has the sign of the divisor."""
    def __imod__(self, other: Tensor | float | int | bool) -> Tensor:
        """Python's modulo: the result has the sign of the divisor."""
    def floor_divide(self, other: Tensor | float | int | bool) -> Tensor:
        """floor(input / other), as Python's //."""
    def floor_divide_(self, other: Tensor | float | int | bool) -> Tensor:
        """floor(input / other), as Python's //."""
    def __floordiv__(self, other: Tensor | float | int | bool) -> Tensor:
        """floor(input / other), as Python's //."""
    def __rfloordiv__(self, other: Tensor | float | int | bool) -> Tensor:
        """floor(input / other), as Python's //."""
    def __ifloordiv__(self, other: Tensor | float | int | bool) -> Tensor:
        """floor(input / other), as Python's //."""
    def eq(self, other: Tensor | float | int | bool) -> Tensor:
        """input == other, as a bool tensor."""
    def eq_(self, other: Tensor | float | int | bool) -> Tensor:
        """input == other, as a bool tensor."""
    def __eq__(self, other: Tensor | float | int | bool) -> Tensor:
        """input == other, as a bool tensor."""
    def ne(self, other: Tensor | float | int | bool) -> Tensor:
        """input != other, as a bool tensor."""
    def ne_(self, other: Tensor | float | int | bool) -> Tensor:
        """input != other, as a bool tensor."""
    def __ne__(self, other: Tensor | float | int | bool) -> Tensor:
        """input != other, as a bool tensor."""
    def not_equal(self, other: Tensor | float | int | bool) -> Tensor:
        """input != other, as a bool tensor."""
    def not_equal_(self, other: Tensor | float | int | bool) -> Tensor:
        """input != other, as a bool tensor."""
    def lt(self, other: Tensor | float | int | bool) -> Tensor:
        """input < other, as a bool tensor."""
    def lt_(self, other: Tensor | float | int | bool) -> Tensor:
        """input < other, as a bool tensor."""
    def __lt__(self, other: Tensor | float | int | bool) -> Tensor:
        """input < other, as a bool tensor."""
    def less(self, other: Tensor | float | int | bool) -> Tensor:
        """input < other, as a bool tensor."""
    def less_(self, other: Tensor | float | int | bool) -> Tensor:
        """input < other, as a bool tensor."""
    def le(self, other: Tensor | float | int | bool) -> Tensor:
        """input <= other, as a bool tensor."""
    def le_(self, other: Tensor | float | int | bool) -> Tensor:
        """input <= other, as a bool tensor."""
    def __le__(self, other: Tensor | float | int | bool) -> Tensor:
        """input <= other, as a bool tensor."""
    def less_equal(self, other: Tensor | float | int | bool) -> Tensor:
        """input <= other, as a bool tensor."""
    def less_equal_(self, other: Tensor | float | int | bool) -> Tensor:
        """input <= other, as a bool tensor."""
    def gt(self, other: Tensor | float | int | bool) -> Tensor:
        """input > other, as a bool tensor."""
    def gt_(self, other: Tensor | float | int | bool) -> Tensor:
        """input > other, as a bool tensor."""
    def __gt__(self, other: Tensor | float | int | bool) -> Tensor:
        """input > other, as a bool tensor."""
    def greater(self, other: Tensor | float | int | bool) -> Tensor:
        """input > other, as a bool tensor."""
    def greater_(self, other: Tensor | float | int | bool) -> Tensor:
        """input > other, as a bool tensor."""
    def ge(self, other: Tensor | float | int | bool) -> Tensor:
        """input >= other, as a bool tensor."""
    def ge_(self, other: Tensor | float | int | bool) -> Tensor:
        """input >= other, as a bool tensor."""
    def __ge__(self, other: Tensor | float | int | bool) -> Tensor:
        """input >= other, as a bool tensor."""
    def greater_equal(self, other: Tensor | float | int | bool) -> Tensor:
        """input >= other, as a bool tensor."""
    def greater_equal_(self, other: Tensor | float | int | bool) -> Tensor:
        """input >= other, as a bool tensor."""
    def where(self, condition: Tensor, other: Tensor | float | int | bool) -> Tensor:
        """self where condition holds, other elsewhere."""
    def maximum(self, other: Tensor | float | int | bool) -> Tensor:
        """The elementwise maximum (NaN propagates; a tie splits the gradient)."""
    def minimum(self, other: Tensor | float | int | bool) -> Tensor:
        """The elementwise minimum (NaN propagates; a tie splits the gradient)."""
    def logical_and(self, other: Tensor | float | int | bool) -> Tensor:
        """Elementwise logical and (nonzero is true), as bool."""
    def logical_and_(self, other: Tensor | float | int | bool) -> Tensor:
        """Elementwise logical and (nonzero is true), as bool."""
    def logical_or(self, other: Tensor | float | int | bool) -> Tensor:
        """Elementwise logical or (nonzero is true), as bool."""
    def logical_or_(self, other: Tensor | float | int | bool) -> Tensor:
        """Elementwise logical or (nonzero is true), as bool."""
    def logical_xor(self, other: Tensor | float | int | bool) -> Tensor:
        """Elementwise logical xor (nonzero is true), as bool."""
    def logical_xor_(self, other: Tensor | float | int | bool) -> Tensor:
        """Elementwise logical xor (nonzero is true), as bool."""
    def logical_not(self) -> Tensor:
        """Elementwise logical not (nonzero is true), as bool."""
    def logical_not_(self) -> Tensor:
        """Elementwise logical not (nonzero is true), as bool."""
    def bitwise_and(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise and of integer or bool tensors (&)."""
    def bitwise_and_(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise and of integer or bool tensors (&)."""
    def __and__(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise and of integer or bool tensors (&)."""
    def __rand__(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise and of integer or bool tensors (&)."""
    def __iand__(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise and of integer or bool tensors (&)."""
    def bitwise_or(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise or of integer or bool tensors (|)."""
    def bitwise_or_(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise or of integer or bool tensors (|)."""
    def __or__(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise or of integer or bool tensors (|)."""
    def __ror__(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise or of integer or bool tensors (|)."""
    def __ior__(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise or of integer or bool tensors (|)."""
    def bitwise_xor(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise xor of integer or bool tensors (^)."""
    def bitwise_xor_(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise xor of integer or bool tensors (^)."""
    def __xor__(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise xor of integer or bool tensors (^)."""
    def __rxor__(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise xor of integer or bool tensors (^)."""
    def __ixor__(self, other: Tensor | float | int | bool) -> Tensor:
        """Bitwise xor of integer or bool tensors (^)."""
    def bitwise_not(self) -> Tensor:
        """Bitwise not of an integer or bool tensor (~)."""
    def bitwise_not_(self) -> Tensor:
        """Bitwise not of an integer or bool tensor (~)."""
    def __invert__(self) -> Tensor:
        """Bitwise not of an integer or bool tensor (~)."""
    def index_select(self, dim: int, index: Tensor) -> Tensor:
        """The entries of input at index along dim (index: 1-D integers)."""
    def gather(self, dim: int, index: Tensor) -> Tensor:
        """out[i][j] = input[index[i][j]][j] (for dim 0), index shaped like out."""
    def index_put(self, indices: Sequence[Tensor | None], values: Tensor | float | int | bool, accumulate: bool = False) -> Tensor:
        """input with values written (or added) at indices (one index tensor per dim)."""
    def index_put_(self, indices: Sequence[Tensor | None], values: Tensor | float | int | bool, accumulate: bool = False) -> Tensor:
        """input with values written (or added) at indices (one index tensor per dim)."""
    def masked_fill(self, mask: Tensor, value: Tensor | float | int | bool) -> Tensor:
        """input with value where the bool mask (broadcast) is true."""
    def masked_fill_(self, mask: Tensor, value: Tensor | float | int | bool) -> Tensor:
        """input with value where the bool mask (broadcast) is true."""
    def masked_select(self, mask: Tensor) -> Tensor:
        """The entries of input where the bool mask (broadcast) is true, as a 1-D tensor."""
    def nonzero(self, *, as_tuple: bool = False) -> Tensor:
        """The indices of the nonzero entries: an (n, ndim) int64 tensor, or one 1-D tensor per dim with as_tuple=True."""
    def matrix_exp(self) -> Tensor:
        """The matrix exponential of a square matrix (scaling and squaring), differentiable to any order."""
    def matmul(self, other: Tensor) -> Tensor:
        """The matrix product with PyTorch's rules: 1-D operands, batched and broadcast."""
    def __matmul__(self, other: Tensor) -> Tensor:
        """The matrix product with PyTorch's rules: 1-D operands, batched and broadcast."""
    def __rmatmul__(self, other: Tensor) -> Tensor:
        """The matrix product with PyTorch's rules: 1-D operands, batched and broadcast."""
    def mm(self, mat2: Tensor) -> Tensor:
        """The product of two matrices (transposed views need no copy)."""
    def outer(self, vec2: Tensor) -> Tensor:
        """The outer product of two vectors."""
    def ger(self, vec2: Tensor) -> Tensor:
        """The outer product of two vectors."""
    def dot(self, tensor: Tensor) -> Tensor:
        """The inner product of two vectors of one length."""
    def softmax(self, dim: int, dtype: dtype | None = None) -> Tensor:
        """exp(x) / sum(exp(x)) along dim, stable for large inputs."""
    def log_softmax(self, dim: int, dtype: dtype | None = None) -> Tensor:
        """x - logsumexp(x) along dim, computed without cancellation."""
    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
        """The sum over dim (None or (): every dim); integer and bool inputs sum to int64."""
    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
        """The mean over dim (None: every dim) of a floating tensor."""
    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
        """The product over dim (None: every element); exact gradients at zeros."""
    @typing.overload
    def max(self) -> Tensor:
        """The largest element; ties share the gradient evenly."""
    @typing.overload
    def max(self, other: Tensor) -> Tensor:
        """The elementwise maximum of two tensors (tg.maximum)."""
    @typing.overload
    def max(self, dim: int, keepdim: bool = False) -> tuple[Tensor, ...]:
        """The largest values along dim and their first indices; the gradient goes to the index."""
    @typing.overload
    def min(self) -> Tensor:
        """The smallest element; ties share the gradient evenly."""
    @typing.overload
    def min(self, other: Tensor) -> Tensor:
        """The elementwise minimum of two tensors (tg.minimum)."""
    @typing.overload
    def min(self, dim: int, keepdim: bool = False) -> tuple[Tensor, ...]:
        """The smallest values along dim and their first indices."""
    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the first largest element (of the flattened input when dim is None)."""
    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The index of the first smallest element (of the flattened input when dim is None)."""
    def var(self, dim: int | Sequence[int] | None = None, unbiased: bool = True, keepdim: bool = False, *, correction: float | int | bool | None = None) -> Tensor:
        """The variance over dim, with Bessel's correction unless unbiased=False or correction says otherwise."""
    def logsumexp(self, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
        """log(sum(exp(input))) over dim, stable for large inputs."""
    @typing.overload
    def norm(self, p: str, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
        """The Frobenius norm ('fro': the 2-norm of the elements)."""
    @typing.overload
    def norm(self, p: float | int | bool | None = 2, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
        """The p-norm over dim (every element by default)."""
    def all(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Whether every element (along dim) is nonzero, as bool."""
    def any(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Whether some element (along dim) is nonzero, as bool."""
    def count_nonzero(self, dim: int | Sequence[int] | None = None) -> Tensor:
        """The number of nonzero elements (along dim), as int64."""
    def view(self, *size: int | Sequence[int]) -> Tensor:
        """A view with another shape over the same data (one size may be -1); raises where the strides do not allow it (use reshape)."""
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """input with another shape: a view where the strides allow it, else a copy."""
    def view_as(self, other: Tensor) -> Tensor:
        """x.view(other.shape)."""
    def reshape_as(self, other: Tensor) -> Tensor:
        """x.reshape(other.shape)."""
    def as_strided(self, size: int | Sequence[int], stride: int | Sequence[int], storage_offset: int | None = None) -> Tensor:
        """A view of input's storage with the given sizes, strides and offset (in elements)."""
    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """A view with dims dim0 and dim1 swapped."""
    def swapaxes(self, dim0: int, dim1: int) -> Tensor:
        """A view with dims dim0 and dim1 swapped."""
    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        """A view with dims dim0 and dim1 swapped."""
    def t(self) -> Tensor:
        """The transpose of a matrix (a view); 0-d and 1-d tensors are returned as views."""
    def permute(self, *dims: int | Sequence[int]) -> Tensor:
        """A view with the dims reordered."""
    def movedim(self, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
        """A view with the dims in source moved to destination, the others in order."""
    def moveaxis(self, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
        """A view with the dims in source moved to destination, the others in order."""
    def expand(self, *size: int | Sequence[int]) -> Tensor:
        """A view broadcast to size (stride 0 on the new dims; -1 keeps a dim)."""
    def expand_as(self, other: Tensor) -> Tensor:
        """x.expand(other.shape)."""
    def broadcast_to(self, size: int | Sequence[int]) -> Tensor:
        """A view of input broadcast to size."""
    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        """A view without size-1 dims (only those in dim, when given)."""
    def unsqueeze(self, dim: int) -> Tensor:
        """A view with a size-1 dim inserted at dim."""
    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """input with dims start_dim..end_dim merged (a view where possible)."""
    def unflatten(self, dim: int, sizes: int | Sequence[int]) -> Tensor:
        """A view with dim split into sizes (one may be -1)."""
    def select(self, dim: int, index: int) -> Tensor:
        """The slice at index along dim, without that dim (a view)."""
    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """length elements from start along dim (a view)."""
    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal of dims dim1 and dim2, as a view (last dim of the result)."""
    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """A view of every window of length size, step apart, along dimension (a new last dim)."""
    @typing.overload
    def split(self, split_size_or_sections: int, dim: int = 0) -> tuple[Tensor, ...]:
        """Views of split_size elements along dim (the last may be shorter)."""
    @typing.overload
    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Views of the given sizes along dim."""
    def split_with_sizes(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Views of the given sizes along dim."""
    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """At most chunks views of equal size along dim (the last may be smaller)."""
    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """Every slice along dim, as views without that dim."""
    def contiguous(self) -> Tensor:
        """input itself when it is contiguous in memory, else a contiguous copy."""
    def clone(self) -> Tensor:
        """A copy with its own memory, differentiable."""
    def detach(self) -> Tensor:
        """The same data outside the graph (shares memory)."""
    def copy_(self, src: Tensor | float | int | bool) -> Tensor:
        """Writes src (broadcast, cast) into this tensor in place; recorded on the graph."""
    def fill_(self, value: Tensor | float | int | bool) -> Tensor:
        """Sets every element to value, in place."""
    def zero_(self) -> Tensor:
        """Sets every element to zero, in place."""
    def type_as(self, other: Tensor) -> Tensor:
        """input cast to other's dtype."""
    def float(self) -> Tensor:
        """input as float32 (itself when it already is)."""
    def double(self) -> Tensor:
        """input as float64 (itself when it already is)."""
    def long(self) -> Tensor:
        """input as int64, truncated toward zero."""
    def int(self) -> Tensor:
        """input as int32, truncated toward zero."""
    def bool(self) -> Tensor:
        """input as bool (nonzero is True)."""
    def neg(self) -> Tensor:
        """-input."""
    def neg_(self) -> Tensor:
        """-input."""
    def __neg__(self) -> Tensor:
        """-input."""
    def negative(self) -> Tensor:
        """-input."""
    def negative_(self) -> Tensor:
        """-input."""
    def exp(self) -> Tensor:
        """e ** input, elementwise."""
    def exp_(self) -> Tensor:
        """e ** input, elementwise."""
    def log(self) -> Tensor:
        """The natural logarithm, elementwise."""
    def log_(self) -> Tensor:
        """The natural logarithm, elementwise."""
    def sqrt(self) -> Tensor:
        """The square root, elementwise (correctly rounded)."""
    def sqrt_(self) -> Tensor:
        """The square root, elementwise (correctly rounded)."""
    def sin(self) -> Tensor:
        """The sine, elementwise."""
    def sin_(self) -> Tensor:
        """The sine, elementwise."""
    def cos(self) -> Tensor:
        """The cosine, elementwise."""
    def cos_(self) -> Tensor:
        """The cosine, elementwise."""
    def tanh(self) -> Tensor:
        """The hyperbolic tangent, elementwise."""
    def tanh_(self) -> Tensor:
        """The hyperbolic tangent, elementwise."""
    def sigmoid(self) -> Tensor:
        """1 / (1 + e ** -input), elementwise."""
    def sigmoid_(self) -> Tensor:
        """1 / (1 + e ** -input), elementwise."""
    def relu(self) -> Tensor:
        """max(input, 0), elementwise (the subgradient 0 at 0)."""
    def relu_(self) -> Tensor:
        """max(input, 0), elementwise (the subgradient 0 at 0)."""
    def abs(self) -> Tensor:
        """|input|, elementwise (the subgradient 0 at 0)."""
    def abs_(self) -> Tensor:
        """|input|, elementwise (the subgradient 0 at 0)."""
    def __abs__(self) -> Tensor:
        """|input|, elementwise (the subgradient 0 at 0)."""
    def absolute(self) -> Tensor:
        """|input|, elementwise (the subgradient 0 at 0)."""
    def absolute_(self) -> Tensor:
        """|input|, elementwise (the subgradient 0 at 0)."""
    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element (not differentiable)."""
    def sign_(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element (not differentiable)."""
    @typing.overload
    def clamp(self, min: Tensor | None = None, max: Tensor | None = None) -> Tensor:
        """input limited elementwise by tensor bounds (maximum then minimum)."""
    @typing.overload
    def clamp(self, min: float | int | bool | None = None, max: float | int | bool | None = None) -> Tensor:
        """input limited to [min, max]; the gradient passes where min <= x <= max."""
    @typing.overload
    def clamp_(self, min: Tensor | None = None, max: Tensor | None = None) -> Tensor:
        """input limited elementwise by tensor bounds (maximum then minimum)."""
    @typing.overload
    def clamp_(self, min: float | int | bool | None = None, max: float | int | bool | None = None) -> Tensor:
        """input limited to [min, max]; the gradient passes where min <= x <= max."""
    @typing.overload
    def clip(self, min: Tensor | None = None, max: Tensor | None = None) -> Tensor:
        """input limited elementwise by tensor bounds (maximum then minimum)."""
    @typing.overload
    def clip(self, min: float | int | bool | None = None, max: float | int | bool | None = None) -> Tensor:
        """input limited to [min, max]; the gradient passes where min <= x <= max."""
    @typing.overload
    def clip_(self, min: Tensor | None = None, max: Tensor | None = None) -> Tensor:
        """input limited elementwise by tensor bounds (maximum then minimum)."""
    @typing.overload
    def clip_(self, min: float | int | bool | None = None, max: float | int | bool | None = None) -> Tensor:
        """input limited to [min, max]; the gradient passes where min <= x <= max."""
    __array_ufunc__ = None
    data: Tensor
    grad: Tensor
    requires_grad: bool
    def __array__(self, dtype = None, copy = None):
        ...
    def __bool__(self):
        ...
    def __contains__(self, element):
        ...
    def __deepcopy__(self, memo):
        """
        A detached copy with its own memory (a Parameter stays a Parameter).
        """
    def __float__(self):
        ...
    def __format__(self, spec):
        ...
    def __getitem__(self, /, arg0: typing.Any) -> Tensor:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self):
        ...
    def __init__(self, data: Tensor) -> None:
        ...
    def __int__(self):
        ...
    def __iter__(self):
        ...
    def __len__(self) -> int:
        ...
    def __repr__(self):
        ...
    def __setitem__(self, /, arg0: typing.Any, arg1: typing.Any) -> None:
        ...
    def __str__(self):
        ...
    def _backward(self, /, arg0: typing.Any, arg1: bool, arg2: bool) -> None:
        ...
    def _is_view(self) -> bool:
        ...
    def _numpy_data(self) -> numpy.ndarray:
        ...
    def _to_dtype(self, /, arg0: numpy.dtype[typing.Any]) -> Tensor:
        ...
    def backward(self, gradient = None, retain_graph = None, create_graph = False, inputs = None):
        """
        Accumulates d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.
        
            >>> x = tg.tensor(3.0, requires_grad=True); (x * x).backward(); x.grad.item()
            6.0
            
        """
    def cpu(self):
        ...
    def data_ptr(self) -> int:
        ...
    def dim(self) -> int:
        ...
    def element_size(self) -> int:
        ...
    def is_contiguous(self) -> bool:
        ...
    def is_floating_point(self) -> bool:
        ...
    def item(self) -> typing.Any:
        ...
    def ndimension(self) -> int:
        ...
    def nelement(self) -> int:
        ...
    def numel(self) -> int:
        ...
    def numpy(self, force: bool = False) -> numpy.ndarray:
        ...
    def register_hook(self, /, arg0: collections.abc.Callable) -> RemovableHandle:
        ...
    def register_post_accumulate_grad_hook(self, /, arg0: collections.abc.Callable) -> RemovableHandle:
        ...
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        ...
    def retain_grad(self) -> None:
        ...
    def size(self, dim: typing.Any = None) -> typing.Any:
        ...
    def storage_offset(self) -> int:
        ...
    def stride(self, dim: typing.Any = None) -> typing.Any:
        ...
    def to(self, *args, **kwargs):
        """
        Tensor.to(dtype), .to(other), .to(device), .to(device, dtype): a tensor of the
            requested dtype (``self`` itself when nothing changes). Only the CPU exists.
        
            >>> tg.tensor([1, 2]).to(tg.float64).dtype
            tapegrad.float64
            
        """
    def tolist(self):
        ...
    def type(self, dtype = None):
        ...
    @property
    def T(self) -> Tensor:
        ...
    @property
    def _base(self) -> Tensor:
        ...
    @property
    def _version(self) -> int:
        ...
    @property
    def dtype(self) -> numpy.dtype[typing.Any]:
        ...
    @property
    def grad_fn(self) -> Node:
        ...
    @property
    def is_leaf(self) -> bool:
        ...
    @property
    def itemsize(self) -> int:
        ...
    @property
    def mT(self) -> Tensor:
        ...
    @property
    def nbytes(self) -> int:
        ...
    @property
    def ndim(self) -> int:
        ...
    @property
    def output_nr(self) -> int:
        ...
    @property
    def retains_grad(self) -> bool:
        ...
    @property
    def shape(self) -> tuple:
        ...
class Node:
    """
    A recorded op: where backward goes next.
    """
    def __repr__(self) -> str:
        ...
    def name(self) -> str:
        ...
    @property
    def next_functions(self) -> tuple:
        ...
class AccumulateGrad:
    """
    Where a leaf's gradient is accumulated into its .grad.
    """
    def __repr__(self) -> str:
        ...
    def name(self) -> str:
        ...
    @property
    def next_functions(self) -> tuple:
        ...
    @property
    def variable(self) -> Tensor:
        ...
class RemovableHandle:
    """
    A registered hook; remove() unregisters it.
    """
    def remove(self) -> None:
        ...
    @property
    def id(self) -> int:
        ...
def _adadelta_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], square_avgs: collections.abc.Sequence[Tensor], acc_deltas: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, maximize: bool) -> None:
    ...
def _adagrad_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], sums: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], lr: typing.SupportsFloat | typing.SupportsIndex, lr_decay: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, maximize: bool) -> None:
    ...
def _adam_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], exp_avgs: collections.abc.Sequence[Tensor], exp_avg_sqs: collections.abc.Sequence[Tensor], max_exp_avg_sqs: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, amsgrad: bool, decoupled: bool, maximize: bool) -> None:
    ...
def _backward_many(arg0: typing.Any, arg1: typing.Any, arg2: bool, arg3: bool) -> None:
    ...
def _blas_loaded() -> bool:
    ...
def _delayed_error(arg0: Tensor, arg1: typing.Any, arg2: str) -> Tensor:
    ...
def _enter_dual_level() -> int:
    ...
def _exit_dual_level(arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def _forward_levels() -> int:
    ...
def _from_numpy(array: numpy.ndarray, dtype: numpy.dtype[typing.Any] | None = None, copy: bool = True) -> Tensor:
    ...
def _function_apply(arg0: str, arg1: typing.Any, arg2: typing.Any, arg3: collections.abc.Callable, arg4: collections.abc.Sequence[bool], arg5: collections.abc.Sequence[bool], arg6: collections.abc.Sequence[bool], arg7: bool) -> list[Tensor]:
    ...
def _function_jvp(arg0: typing.Any, arg1: typing.Any, arg2: collections.abc.Callable) -> None:
    ...
def _grad(arg0: typing.Any, arg1: typing.Any, arg2: typing.Any, arg3: bool, arg4: bool, arg5: bool) -> list[Tensor]:
    ...
def _has_tangents(arg0: Tensor) -> bool:
    ...
def _load_blas(path: str) -> bool:
    """
    Load OpenBLAS from the given shared library; False if it cannot be used.
    """
def _make_dual(arg0: Tensor, arg1: Tensor, arg2: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    ...
def _op_table() -> list:
    ...
def _release_cached_blocks() -> None:
    """
    Returns every cached large block of memory to the system.
    """
def _rmsprop_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], square_avgs: collections.abc.Sequence[Tensor], grad_avgs: collections.abc.Sequence[Tensor], momentum_buffers: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, centered: bool, maximize: bool) -> None:
    ...
def _set_grad_enabled(arg0: bool) -> None:
    ...
def _sgd_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], momentum_buffers: collections.abc.Sequence[Tensor], fresh: collections.abc.Sequence[bool], lr: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, dampening: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, nesterov: bool, maximize: bool) -> None:
    ...
def _unpack_dual(arg0: Tensor, arg1: typing.SupportsInt | typing.SupportsIndex) -> tuple[Tensor, Tensor]:
    ...
def get_default_dtype() -> numpy.dtype[typing.Any]:
    """
    The default floating dtype.
    """
def get_num_threads() -> int:
    """
    The number of threads the kernels may use.
    """
def get_rng_state() -> str:
    """
    The random generator's state (a string), for set_rng_state.
    """
def is_grad_enabled() -> bool:
    """
    Whether operations are recorded for backward.
    """
def manual_seed(seed: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Seed tapegrad's random generator.
    """
def set_default_dtype(d: numpy.dtype[typing.Any]) -> None:
    """
    The dtype of Python floats and of floating creation functions (float32 by default).
    """
def set_num_threads(n: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    The number of threads the kernels (and the BLAS) may use.
    """
def set_rng_state(state: str) -> None:
    """
    Restores a state returned by get_rng_state.
    """
_op_functions: list = ['add', 'sub', 'subtract', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'pow', 'remainder', 'floor_divide', 'eq', 'ne', 'not_equal', 'lt', 'less', 'le', 'less_equal', 'gt', 'greater', 'ge', 'greater_equal', 'where', 'maximum', 'minimum', 'logical_and', 'logical_or', 'logical_xor', 'logical_not', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not', 'zeros', 'ones', 'empty', 'full', 'zeros_like', 'ones_like', 'empty_like', 'full_like', 'arange', 'eye', 'rand', 'randn', 'index_select', 'gather', 'index_put', 'masked_fill', 'masked_select', 'nonzero', 'matrix_exp', 'matmul', 'mm', 'outer', 'ger', 'dot', 'softmax', 'log_softmax', '_batch_norm_train', '_cross_entropy', '_dropout_mask', 'sum', 'mean', 'prod', 'max', 'min', 'argmax', 'argmin', 'var', 'logsumexp', 'norm', 'all', 'any', 'count_nonzero', 'reshape', 'as_strided', 'transpose', 'swapaxes', 'swapdims', 't', 'permute', 'movedim', 'moveaxis', 'broadcast_to', 'squeeze', 'unsqueeze', 'flatten', 'unflatten', 'select', 'narrow', 'diagonal', 'cat', 'concat', 'concatenate', 'stack', 'split', 'split_with_sizes', 'chunk', 'unbind', 'clone', 'detach', 'neg', 'negative', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'abs', 'absolute', 'sign', 'softplus', 'clamp', 'clip']
_op_methods: list = ['add', 'add_', '__iadd__', '__radd__', '__add__', 'sub', 'sub_', '__rsub__', '__isub__', '__sub__', 'subtract', 'subtract_', 'mul', 'mul_', '__imul__', '__rmul__', '__mul__', 'multiply', 'multiply_', 'div', 'div_', '__itruediv__', '__rtruediv__', '__truediv__', 'divide', 'divide_', 'true_divide', 'true_divide_', 'pow', 'pow_', '__rpow__', '__ipow__', '__pow__', 'remainder', 'remainder_', '__imod__', '__rmod__', '__mod__', 'floor_divide', 'floor_divide_', '__ifloordiv__', '__rfloordiv__', '__floordiv__', 'eq', 'eq_', '__eq__', 'ne', 'ne_', '__ne__', 'not_equal', 'not_equal_', 'lt', 'lt_', '__lt__', 'less', 'less_', 'le', 'le_', '__le__', 'less_equal', 'less_equal_', 'gt', 'gt_', '__gt__', 'greater', 'greater_', 'ge', 'ge_', '__ge__', 'greater_equal', 'greater_equal_', 'where', 'maximum', 'minimum', 'logical_and', 'logical_and_', 'logical_or', 'logical_or_', 'logical_xor', 'logical_xor_', 'logical_not', 'logical_not_', 'bitwise_and', 'bitwise_and_', '__iand__', '__rand__', '__and__', 'bitwise_or', 'bitwise_or_', '__ior__', '__ror__', '__or__', 'bitwise_xor', 'bitwise_xor_', '__ixor__', '__rxor__', '__xor__', 'bitwise_not', 'bitwise_not_', '__invert__', 'index_select', 'gather', 'index_put', 'index_put_', 'masked_fill', 'masked_fill_', 'masked_select', 'nonzero', 'matrix_exp', 'matmul', '__rmatmul__', '__matmul__', 'mm', 'outer', 'ger', 'dot', 'softmax', 'log_softmax', 'sum', 'mean', 'prod', 'max', 'min', 'argmax', 'argmin', 'var', 'logsumexp', 'norm', 'all', 'any', 'count_nonzero', 'view', 'reshape', 'view_as', 'reshape_as', 'as_strided', 'transpose', 'swapaxes', 'swapdims', 't', 'permute', 'movedim', 'moveaxis', 'expand', 'expand_as', 'broadcast_to', 'squeeze', 'unsqueeze', 'flatten', 'unflatten', 'select', 'narrow', 'diagonal', 'unfold', 'split', 'split_with_sizes', 'chunk', 'unbind', 'contiguous', 'clone', 'detach', 'copy_', 'fill_', 'zero_', 'type_as', 'float', 'double', 'long', 'int', 'bool', 'neg', 'neg_', '__neg__', 'negative', 'negative_', 'exp', 'exp_', 'log', 'log_', 'sqrt', 'sqrt_', 'sin', 'sin_', 'cos', 'cos_', 'tanh', 'tanh_', 'sigmoid', 'sigmoid_', 'relu', 'relu_', 'abs', 'abs_', '__abs__', 'absolute', 'absolute_', 'sign', 'sign_', 'clamp', 'clamp_', 'clip', 'clip_']
def add(input: Tensor, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
    """input + alpha·other, with broadcasting and type promotion."""
def sub(input: Tensor, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
    """input - alpha·other."""
def subtract(input: Tensor, other: Tensor | float | int | bool, *, alpha: float | int | bool = 1) -> Tensor:
    """input - alpha·other."""
def mul(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input · other, elementwise."""
def multiply(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input · other, elementwise."""
def div(input: Tensor, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
    """input / other; integers divide to floating point unless rounding_mode is "trunc" or "floor"."""
def divide(input: Tensor, other: Tensor | float | int | bool, *, rounding_mode: str | None = None) -> Tensor:
    """input / other; integers divide to floating point unless rounding_mode is "trunc" or "floor"."""
def true_divide(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input / other as floating point (div without rounding)."""
@typing.overload
def pow(input: Tensor, exponent: Tensor | float | int | bool) -> Tensor:
    """input ** exponent; integer powers are exact."""
@typing.overload
def pow(input: Tensor | float | int | bool, exponent: Tensor) -> Tensor:
    """input ** exponent with a number as the base."""
def remainder(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """Python's modulo: the result has the sign of the divisor."""
def floor_divide(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """floor(input / other), as Python's //."""
def eq(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input == other, as a bool tensor."""
def ne(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input != other, as a bool tensor."""
def not_equal(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input != other, as a bool tensor."""
def lt(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input < other, as a bool tensor."""
def less(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input < other, as a bool tensor."""
def le(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input <= other, as a bool tensor."""
def less_equal(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input <= other, as a bool tensor."""
def gt(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input > other, as a bool tensor."""
def greater(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input > other, as a bool tensor."""
def ge(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input >= other, as a bool tensor."""
def greater_equal(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """input >= other, as a bool tensor."""
def where(condition: Tensor, input: Tensor | float | int | bool, other: Tensor | float | int | bool) -> Tensor:
    """input where condition (a bool tensor) holds, other elsewhere; differentiable in input and other."""
def maximum(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """The elementwise maximum (NaN propagates; a tie splits the gradient)."""
def minimum(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """The elementwise minimum (NaN propagates; a tie splits the gradient)."""
def logical_and(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """Elementwise logical and (nonzero is true), as bool."""
def logical_or(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """Elementwise logical or (nonzero is true), as bool."""
def logical_xor(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """Elementwise logical xor (nonzero is true), as bool."""
def logical_not(input: Tensor) -> Tensor:
    """Elementwise logical not (nonzero is true), as bool."""
def bitwise_and(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """Bitwise and of integer or bool tensors (&)."""
def bitwise_or(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """Bitwise or of integer or bool tensors (|)."""
def bitwise_xor(input: Tensor, other: Tensor | float | int | bool) -> Tensor:
    """Bitwise xor of integer or bool tensors (^)."""
def bitwise_not(input: Tensor) -> Tensor:
    """Bitwise not of an integer or bool tensor (~)."""
def zeros(*size: int | Sequence[int], dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: tg.zeros(2, 3) or tg.zeros((2, 3))."""
def ones(*size: int | Sequence[int], dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: tg.ones(2, 3) or tg.ones((2, 3))."""
def empty(*size: int | Sequence[int], dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor of the given shape."""
def full(size: int | Sequence[int], fill_value: float | int | bool, *, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with fill_value (its dtype follows the value)."""
def zeros_like(input: Tensor, *, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of input."""
def ones_like(input: Tensor, *, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of input."""
def empty_like(input: Tensor, *, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor with the shape (and dtype, unless given) of input."""
def full_like(input: Tensor, fill_value: float | int | bool, *, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """fill_value with the shape (and dtype, unless given) of input."""
@typing.overload
def arange(end: float | int | bool, *, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """0, 1, ..., up to end (exclusive); int64 for integer arguments."""
@typing.overload
def arange(start: float | int | bool, end: float | int | bool, step: float | int | bool = 1, *, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """start, start + step, ..., up to end (exclusive)."""
def eye(n: int, m: int | None = None, *, dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """The n × m identity matrix."""
def rand(*size: int | Sequence[int], dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from tapegrad's generator (see tg.manual_seed)."""
def randn(*size: int | Sequence[int], dtype: dtype | None = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from tapegrad's generator (see tg.manual_seed)."""
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of input at index along dim (index: 1-D integers)."""
def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j] = input[index[i][j]][j] (for dim 0), index shaped like out."""
def index_put(input: Tensor, indices: Sequence[Tensor | None], values: Tensor | float | int | bool, accumulate: bool = False) -> Tensor:
    """input with values written (or added) at indices (one index tensor per dim)."""
def masked_fill(input: Tensor, mask: Tensor, value: Tensor | float | int | bool) -> Tensor:
    """input with value where the bool mask (broadcast) is true."""
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The entries of input where the bool mask (broadcast) is true, as a 1-D tensor."""
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor:
    """The indices of the nonzero entries: an (n, ndim) int64 tensor, or one 1-D tensor per dim with as_tuple=True."""
def matrix_exp(input: Tensor) -> Tensor:
    """The matrix exponential of a square matrix (scaling and squaring), differentiable to any order."""
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """The matrix product with PyTorch's rules: 1-D operands, batched and broadcast."""
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (transposed views need no copy)."""
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors."""
def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors."""
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The inner product of two vectors of one length."""
def softmax(input: Tensor, dim: int, dtype: dtype | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim, stable for large inputs."""
def log_softmax(input: Tensor, dim: int, dtype: dtype | None = None) -> Tensor:
    """x - logsumexp(x) along dim, computed without cancellation."""
def _batch_norm_train(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None, running_var: Tensor | None, momentum: float, eps: float) -> Tensor:
    """Training-mode batch norm of (N, C) input (F.batch_norm)."""
def _cross_entropy(input: Tensor, target: Tensor, ignore_index: int) -> Tensor:
    """Per-sample cross-entropy of (N, C) logits (F.cross_entropy)."""
def _dropout_mask(shape: int | Sequence[int], p: float, dtype: dtype) -> Tensor:
    """An inverted-dropout mask: 0 with probability p, else 1/(1-p) (F.dropout)."""
def sum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
    """The sum over dim (None or (): every dim); integer and bool inputs sum to int64."""
def mean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
    """The mean over dim (None: every dim) of a floating tensor."""
def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
    """The product over dim (None: every element); exact gradients at zeros."""
@typing.overload
def max(input: Tensor) -> Tensor:
    """The largest element; ties share the gradient evenly."""
@typing.overload
def max(input: Tensor, other: Tensor) -> Tensor:
    """The elementwise maximum of two tensors (tg.maximum)."""
@typing.overload
def max(input: Tensor, dim: int, keepdim: bool = False) -> tuple[Tensor, ...]:
    """The largest values along dim and their first indices; the gradient goes to the index."""
@typing.overload
def min(input: Tensor) -> Tensor:
    """The smallest element; ties share the gradient evenly."""
@typing.overload
def min(input: Tensor, other: Tensor) -> Tensor:
    """The elementwise minimum of two tensors (tg.minimum)."""
@typing.overload
def min(input: Tensor, dim: int, keepdim: bool = False) -> tuple[Tensor, ...]:
    """The smallest values along dim and their first indices."""
def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the first largest element (of the flattened input when dim is None)."""
def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the first smallest element (of the flattened input when dim is None)."""
def var(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool = True, keepdim: bool = False, *, correction: float | int | bool | None = None) -> Tensor:
    """The variance over dim, with Bessel's correction unless unbiased=False or correction says otherwise."""
def logsumexp(input: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over dim, stable for large inputs."""
@typing.overload
def norm(input: Tensor, p: str, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
    """The Frobenius norm ('fro': the 2-norm of the elements)."""
@typing.overload
def norm(input: Tensor, p: float | int | bool | None = 2, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, dtype: dtype | None = None) -> Tensor:
    """The p-norm over dim (every element by default)."""
def all(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """Whether every element (along dim) is nonzero, as bool."""
def any(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """Whether some element (along dim) is nonzero, as bool."""
def count_nonzero(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """The number of nonzero elements (along dim), as int64."""
def reshape(input: Tensor, *shape: int | Sequence[int]) -> Tensor:
    """input with another shape: a view where the strides allow it, else a copy."""
def as_strided(input: Tensor, size: int | Sequence[int], stride: int | Sequence[int], storage_offset: int | None = None) -> Tensor:
    """A view of input's storage with the given sizes, strides and offset (in elements)."""
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with dims dim0 and dim1 swapped."""
def swapaxes(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with dims dim0 and dim1 swapped."""
def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with dims dim0 and dim1 swapped."""
def t(input: Tensor) -> Tensor:
    """The transpose of a matrix (a view); 0-d and 1-d tensors are returned as views."""
def permute(input: Tensor, *dims: int | Sequence[int]) -> Tensor:
    """A view with the dims reordered."""
def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """A view with the dims in source moved to destination, the others in order."""
def moveaxis(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """A view with the dims in source moved to destination, the others in order."""
def broadcast_to(input: Tensor, size: int | Sequence[int]) -> Tensor:
    """A view of input broadcast to size."""
def squeeze(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """A view without size-1 dims (only those in dim, when given)."""
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A view with a size-1 dim inserted at dim."""
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """input with dims start_dim..end_dim merged (a view where possible)."""
def unflatten(input: Tensor, dim: int, sizes: int | Sequence[int]) -> Tensor:
    """A view with dim split into sizes (one may be -1)."""
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at index along dim, without that dim (a view)."""
def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """length elements from start along dim (a view)."""
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims dim1 and dim2, as a view (last dim of the result)."""
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along dim."""
def concat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along dim."""
def concatenate(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along dim."""
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors (of one shape) joined along a new dim."""
@typing.overload
def split(input: Tensor, split_size_or_sections: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of split_size elements along dim (the last may be shorter)."""
@typing.overload
def split(input: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Views of the given sizes along dim."""
def split_with_sizes(input: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Views of the given sizes along dim."""
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most chunks views of equal size along dim (the last may be smaller)."""
def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Every slice along dim, as views without that dim."""
def clone(input: Tensor) -> Tensor:
    """A copy with its own memory, differentiable."""
def detach(input: Tensor) -> Tensor:
    """The same data outside the graph (shares memory)."""
def neg(input: Tensor) -> Tensor:
    """-input."""
def negative(input: Tensor) -> Tensor:
    """-input."""
def exp(input: Tensor) -> Tensor:
    """e ** input, elementwise."""
def log(input: Tensor) -> Tensor:
    """The natural logarithm, elementwise."""
def sqrt(input: Tensor) -> Tensor:
    """The square root, elementwise (correctly rounded)."""
def sin(input: Tensor) -> Tensor:
    """The sine, elementwise."""
def cos(input: Tensor) -> Tensor:
    """The cosine, elementwise."""
def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent, elementwise."""
def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e ** -input), elementwise."""
def relu(input: Tensor) -> Tensor:
    """max(input, 0), elementwise (the subgradient 0 at 0)."""
def abs(input: Tensor) -> Tensor:
    """|input|, elementwise (the subgradient 0 at 0)."""
def absolute(input: Tensor) -> Tensor:
    """|input|, elementwise (the subgradient 0 at 0)."""
def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (not differentiable)."""
def softplus(input: Tensor, beta: float = 1, threshold: float = 20) -> Tensor:
    """log(1 + exp(beta·x)) / beta, linear above the threshold (as F.softplus)."""
@typing.overload
def clamp(input: Tensor, min: Tensor | None = None, max: Tensor | None = None) -> Tensor:
    """input limited elementwise by tensor bounds (maximum then minimum)."""
@typing.overload
def clamp(input: Tensor, min: float | int | bool | None = None, max: float | int | bool | None = None) -> Tensor:
    """input limited to [min, max]; the gradient passes where min <= x <= max."""
@typing.overload
def clip(input: Tensor, min: Tensor | None = None, max: Tensor | None = None) -> Tensor:
    """input limited elementwise by tensor bounds (maximum then minimum)."""
@typing.overload
def clip(input: Tensor, min: float | int | bool | None = None, max: float | int | bool | None = None) -> Tensor:
    """input limited to [min, max]; the gradient passes where min <= x <= max."""
