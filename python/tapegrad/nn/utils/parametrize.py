"""Parametrizations: a module attribute recomputed from an unconstrained original.

``register_parametrization(module, "weight", P)`` moves the parameter to
``module.parametrizations.weight.original`` and makes ``module.weight`` return
``P(original)`` on every access, so an optimizer trains the original and the
attribute always satisfies the constraint. As in PyTorch, the module's class is
swapped for a subclass that holds the property.

>>> class Square(tg.nn.Module):
...     def forward(self, x):
...         return x * x
>>> lin = tg.nn.Linear(2, 2)
>>> _ = register_parametrization(lin, "weight", Square())
>>> bool((lin.weight.detach().numpy() >= 0).all())
True
"""

from tapegrad._core import Tensor
from tapegrad._grad_mode import no_grad
from tapegrad.nn.modules.layers import ModuleDict, ModuleList
from tapegrad.nn.modules.module import Module
from tapegrad.nn.parameter import Parameter


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and its ``original``."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        # the original is stored so that P(original) equals the current value
        # when P has a right_inverse (as PyTorch does)
        with no_grad():
            value = original.detach()
            for m in reversed(modules):
                if hasattr(m, "right_inverse"):
                    value = m.right_inverse(value)
                elif not unsafe:
                    break
            if hasattr(modules[0], "right_inverse") or unsafe:
                original.data = value.detach().clone()
        self.original = original

    def forward(self):
        x = self.original
        for m in self:
            x = m(x)
        return x

    def right_inverse(self, value):
        """Assigning to the parametrized attribute sets the original to the right
        inverse of ``value`` (as PyTorch's parametrize does)."""
        with no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} has no "
                                       "right_inverse: the attribute cannot be assigned")
                value = m.right_inverse(value)
            self.original.copy_(value)


def _parametrized_class(module):
    cls = type(module)
    if getattr(cls, "_is_parametrized_class", False):
        return cls
    new = type(f"Parametrized{cls.__name__}", (cls,), {"_is_parametrized_class": True})
    module.__class__ = new
    return new


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Makes ``module.<tensor_name>`` equal ``parametrization(original)`` on every access."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: expected a Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    if tensor_name in module._parameters:
        original = module._parameters[tensor_name]
    elif tensor_name in module._buffers:
        original = module._buffers[tensor_name]
    else:
        raise ValueError(f"register_parametrization: module '{type(module).__name__}' has no "
                         f"parameter or buffer with name '{tensor_name}'")
    if original is None:
        raise ValueError(f"register_parametrization: '{tensor_name}' is None")
    if not isinstance(original, Parameter) and original.requires_grad:
        original = Parameter(original)
    if not is_parametrized(module):
        module.parametrizations = ModuleDict()
    delattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe)
    if not unsafe:
        # P(right_inverse(w)) is what the attribute will be: it must be a tensor
        with no_grad():
            check = plist()
        if not isinstance(check, Tensor):
            raise ValueError("register_parametrization: the parametrization must return a "
                             f"Tensor, got {type(check).__name__}")
    module.parametrizations[tensor_name] = plist
    cls = _parametrized_class(module)
    setattr(cls, tensor_name, property(
        lambda self: self.parametrizations[tensor_name](),
        lambda self, value: self.parametrizations[tensor_name].right_inverse(value)))
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` (or its ``tensor_name``) has a parametrization."""
    plist = module.__dict__.get("_modules", {}).get("parametrizations")
    if plist is None:
        return False
    return tensor_name is None or tensor_name in plist


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Removes the parametrizations of ``tensor_name``; keeps the current value (or
    the original with ``leave_parametrized=False``) as a plain parameter."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: module {type(module).__name__} has no "
                         f"parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    with no_grad():
        value = plist() if leave_parametrized else plist.original
        param = Parameter(value.detach().clone(), plist.original.requires_grad)
    del module.parametrizations[tensor_name]
    delattr(type(module), tensor_name)
    if len(module.parametrizations) == 0:
        del module.parametrizations
        module.__class__ = type(module).__bases__[0]
    module.register_parameter(tensor_name, param)
    return module
