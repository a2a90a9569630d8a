"""``Optimizer``: PyTorch's anatomy — ``defaults``, ``param_groups``, lazy per-parameter
``state``, ``zero_grad``, ``step(closure)``, ``add_param_group``, ``state_dict`` and
``load_state_dict`` (parameters by integer index)."""

import copy
from collections import defaultdict

from tapegrad._core import Tensor
from tapegrad._grad_mode import enable_grad, no_grad, zero_grads

_required = object()


class Optimizer:
    """Base class: subclasses validate their hyperparameters, build ``defaults`` and
    implement ``_step_group(group)``.

    >>> w = tg.zeros(3, requires_grad=True)
    >>> opt = tg.optim.SGD([w], lr=0.1)
    >>> ((w - 1) ** 2).sum().backward()
    >>> opt.step(); [round(v, 6) for v in w.tolist()]
    [0.2, 0.2, 0.2]
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        if len(params) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Adds a group of parameters with its own options (missing options take the
        defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if not p.dtype.is_floating_point:
                raise ValueError(f"can't optimize a Tensor of dtype {p.dtype!r}")
        for name, default in self.defaults.items():
            if default is _required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group):
        """Subclasses check a group's hyperparameters here (ValueError naming them)."""

    def zero_grad(self, set_to_none=True):
        """Clears the gradients of all optimized tensors (to None by default)."""
        zero_grads((p for g in self.param_groups for p in g["params"]), set_to_none)

    def step(self, closure=None):
        """Performs one update; with ``closure`` (which recomputes the loss and its
        gradients) returns the closure's loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group):
        raise NotImplementedError

    # --- state dicts ------------------------------------------------------------------

    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``,
        parameters numbered in order across groups, as PyTorch's."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores state saved by ``state_dict`` (tensors are copied, floating ones cast
        to their parameter's dtype), so that a resumed run continues exactly."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, saved in zip(self.param_groups, groups):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        by_index = {}
        for mine, saved in zip(self.param_groups, groups):
            for p, i in zip(mine["params"], saved["params"]):
                by_index[i] = p
        self.state = defaultdict(dict)
        for i, s in state_dict["state"].items():
            i = int(i)
            if i not in by_index:
                raise ValueError(f"loaded state dict has state for an unknown parameter {i}")
            p = by_index[i]
            self.state[p] = {k: self._cast_state(p, k, v) for k, v in s.items()}
        for mine, saved in zip(self.param_groups, groups):
            params = mine["params"]
            mine.clear()
            mine.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
            mine["params"] = params

    @staticmethod
    def _cast_state(param, key, value):
        if isinstance(value, Tensor):
            value = value.detach().clone()
            if key != "step" and value.dtype.is_floating_point:
                value = value.to(param.dtype)
            return value
        return copy.deepcopy(value)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(k for k in group if k != "params"):
                lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)
