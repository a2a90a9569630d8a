"""OpInfo: one op's entry in the table that drives tests/test_ops.py (NumPy forward,
finite differences, gradcheck, gradgradcheck, jvp and PyTorch parity checks). Entries
live in test_ops.py's OP_DB and in tests/ops_*.py (a list OPS per area)."""

from __future__ import annotations

import dataclasses
from typing import Callable


@dataclasses.dataclass(frozen=True)
class OpInfo:
    name: str  # starts with the op's name in the op table (e.g. "sum_dim" tests sum)
    fn: Callable  # on tapegrad tensors
    ref: Callable  # the same on NumPy arrays
    shapes: tuple  # one shape per input
    domain: object = "real"  # a domain name, or a tuple of one per input
    torch_fn: Callable | None = None  # (torch_module, *tensors); None: fn works on torch
    nondiff: tuple = ()  # inputs that never require grad (e.g. where's condition)
    differentiable: bool = True  # False: comparisons (0/1 results, no grad)

    def domains(self):
        if isinstance(self.domain, str):
            return (self.domain,) * len(self.shapes)
        return self.domain

    def __repr__(self):
        return self.name


Op = OpInfo
