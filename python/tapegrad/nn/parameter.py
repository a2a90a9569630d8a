"""``Parameter``: a tensor that a Module registers as trainable."""

from tapegrad._core import Tensor


class Parameter(Tensor):
    """A tensor that, assigned as a Module attribute, joins ``module.parameters()``.

    It shares ``data``'s memory and requires grad by default.

    >>> w = tg.nn.Parameter(tg.zeros(2, 3))
    >>> w.requires_grad, w.is_leaf
    (True, True)
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from tapegrad._core import empty

            data = empty(0)
        super().__init__(data.detach())
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self):
        raise TypeError("Parameter: use tg.save on a state_dict instead of pickling tensors")
