"""Bad inputs raise the right Python exception with a message naming the op and shapes.

Every case runs in a subprocess, so that a segfault or an abort fails the case
instead of killing pytest. The cases are batched: one interpreter runs them in
order and prints one JSON line per case as soon as it's done; if it dies, the
case it was running is recorded as a crash and a new interpreter resumes with
the next case.
"""

import itertools

import pytest
import tapegrad as tg
from bad_inputs import (
    IX,
    OK,
    C,
    M,
    R,
    T,
    V,
    check,
    check_clean_exit,
    check_detects_crashes,
    check_survived,
    run_all,
)

CMP = ("lt", "le", "gt", "ge", "eq", "ne", "less", "greater", "equal", "compar", "<", ">")

CASES = {
    # --- broadcasting in every binary op ------------------------------------------
    "add_broadcast": C("tg.ones(3) + tg.ones(4)", R, "add", [(3,), (4,)]),
    "sub_broadcast": C("tg.ones(2, 3) - tg.ones(3, 2)", R, "sub", [(2, 3), (3, 2)]),
    "mul_broadcast": C("tg.ones(2, 3, 4) * tg.ones(3)", R, "mul", [(2, 3, 4), (3,)]),
    "div_broadcast": C("tg.ones(5) / tg.ones(2, 4)", R, "div", [(5,), (2, 4)]),
    "pow_broadcast": C("tg.ones(3) ** tg.ones(2)", R, "pow", [(3,), (2,)]),
    "radd_broadcast_float64": C(
        "tg.ones(2, dtype=tg.float64, requires_grad=True) + tg.ones(3, 1, 4)", R, "add",
        [(2,), (3, 1, 4)]),
    "lt_broadcast": C("tg.ones(3) < tg.ones(4)", R, CMP, [(3,), (4,)]),
    "eq_broadcast": C("tg.ones(2, 3) == tg.ones(2, 2)", R, CMP, [(2, 3), (2, 2)]),
    "where_broadcast": C("tg.where(tg.ones(3) > 0, tg.ones(3), tg.ones(4))", R, "where",
                         [(4,)]),
    # --- matmul --------------------------------------------------------------------
    "matmul_misaligned": C("tg.ones(3, 4) @ tg.ones(5, 6)", R, "matmul", [(3, 4), (5, 6)]),
    "matmul_fn_misaligned": C("tg.matmul(tg.ones(2, 3), tg.ones(2, 3))", R, "matmul",
                              [(2, 3)]),
    "matmul_1d_misaligned": C("tg.ones(3) @ tg.ones(4)", R, "matmul", [(3,), (4,)]),
    "matmul_1d_2d_misaligned": C("tg.ones(3) @ tg.ones(4, 2)", R, "matmul", [(3,), (4, 2)]),
    "matmul_2d_1d_misaligned": C("tg.ones(2, 3) @ tg.ones(2)", R, "matmul", [(2, 3), (2,)]),
    # (3-D operands are PyTorch's batched matmul, checked in test_ops.py; misaligned or
    # non-broadcastable ones are errors.)
    "matmul_3d_misaligned": C("tg.ones(2, 3, 4) @ tg.ones(5, 6)", R, "matmul",
                              [(2, 3, 4), (5, 6)]),
    "matmul_3d_right_misaligned": C("tg.ones(3, 4) @ tg.ones(2, 5, 4)", R, "matmul",
                                    [(3, 4), (2, 5, 4)]),
    "matmul_batch_mismatch": C("tg.ones(2, 3, 4) @ tg.ones(3, 4, 5)", R, "matmul"),
    "matmul_0d": C("tg.ones(()) @ tg.ones(3)", R, "matmul"),
    # --- reshape / transpose / reductions --------------------------------------------
    "reshape_incompatible": C("tg.ones(2, 3).reshape(4, 2)", R, "reshape", [(2, 3), (4, 2)]),
    "reshape_incompatible_infer": C("tg.ones(2, 3).reshape(4, -1)", R, "reshape", [(4, -1)],
                                    words=["6"]),
    "reshape_two_minus_one": C("tg.ones(2, 3).reshape(-1, -1)", R, "reshape"),
    "reshape_negative": C("tg.ones(2, 3).reshape(-2, -3)", R, "reshape"),
    "reshape_fn_incompatible": C("tg.reshape(tg.ones(6), (4,))", R, "reshape", [(6,), (4,)]),
    "transpose_dim_out_of_range": C("tg.ones(2, 3).transpose(0, 2)", IX, "transpose"),
    "transpose_negative_out_of_range": C("tg.ones(2, 3).transpose(-3, 0)", IX, "transpose"),
    "transpose_fn_out_of_range": C("tg.transpose(tg.ones(4), 0, 1)", IX, "transpose"),
    "sum_dim_out_of_range": C("tg.ones(2, 3).sum(dim=2)", IX, "sum"),
    "sum_negative_dim_out_of_range": C("tg.ones(2, 3).sum(dim=-3)", IX, "sum"),
    "sum_tuple_dim_out_of_range": C("tg.ones(2, 3).sum(dim=(0, 5))", IX, "sum"),
    "sum_0d_dim_1": C("tg.ones(()).sum(dim=1)", IX, "sum"),
    "mean_dim_out_of_range": C("tg.ones(2, 3).mean(dim=2, keepdim=True)", IX, "mean"),
    "sum_duplicate_dims": C("tg.ones(2, 3).sum(dim=(0, 0))", R, "sum"),
    "sum_duplicate_dims_negative": C("tg.ones(2, 3).sum(dim=(1, -1))", R, "sum"),
    "mean_duplicate_dims": C("tg.ones(2, 3, 4).mean(dim=(2, 0, 2))", R, "mean"),
    "sum_dim_wrong_type": C("tg.ones(2, 3).sum(dim='a')", T, "sum"),
    "mean_int64": C("tg.tensor([1, 2, 3]).mean()", R, "mean"),
    "mean_int64_dim": C("tg.tensor([[1, 2], [3, 4]]).mean(dim=0)", R, "mean"),
    # --- indexing ------------------------------------------------------------------------
    "index_int_out_of_range": C("tg.ones(2, 3)[2]", IX, "index", words=["2"]),
    "index_negative_out_of_range": C("tg.ones(2, 3)[-3]", IX, "index", words=["-3"]),
    "index_second_dim_out_of_range": C("tg.ones(2, 3)[0, 3]", IX, "index", words=["3"]),
    "index_requires_grad_out_of_range": C("tg.ones(4, requires_grad=True)[4]", IX, "index"),
    "index_0d": C("tg.ones(())[0]", IX, ("index", "indices", "tensor")),
    "index_tensor_out_of_range": C("tg.ones(2, 3)[tg.tensor([0, 2])]", IX, "index",
                                   words=["2"]),
    "index_tensor_negative_out_of_range": C("tg.ones(2, 3)[tg.tensor([-3])]", IX, "index"),
    "index_array_out_of_range": C("tg.ones(2, 3)[np.array([1, 5])]", IX, "index", words=["5"]),
    "index_list_out_of_range": C("tg.ones(2, 3)[[0, 1, 2]]", IX, "index"),
    "index_rows_cols_out_of_range": C("tg.ones(2, 3)[[0, 1], [0, 3]]", IX, "index",
                                      words=["3"]),
    "index_rows_out_of_range": C("tg.ones(2, 3)[[2, 0], [0, 1]]", IX, "index"),
    "index_slice_then_list_out_of_range": C("tg.ones(2, 3)[:, [3]]", IX, "index"),
    "index_huge": C("tg.ones(2, 3)[2**62]", IX, "index"),
    "index_huge_array": C("tg.ones(2, 3)[np.array([2**62])]", IX, "index"),
    "index_float_tensor": C("tg.ones(2, 3)[tg.tensor([0.0, 1.0])]", IX,
                            ("index", "indices", "tensor")),
    "index_float64_tensor": C("tg.ones(2, 3)[tg.tensor([1.0], dtype=tg.float64)]", IX,
                              ("index", "indices", "tensor")),
    "index_float_array": C("tg.ones(2, 3)[np.array([0.5])]", IX, ("index", "indices", "tensor")),
    "index_too_many": C("tg.ones(2, 3)[0, 0, 0]", IX, ("index", "indices", "tensor")),
    "index_two_ellipses": C("tg.ones(2, 3)[..., 0, ...]", IX, "index"),
    "index_unbroadcastable_arrays": C("tg.ones(2, 3)[[0, 1], [0, 1, 2]]", IX, "index"),
    "index_string": C("tg.ones(2, 3)['a']", (T, IX), ("index", "indices", "tensor")),
    "index_float": C("tg.ones(2, 3)[1.5]", IX, ("index", "indices", "tensor")),
    "index_zero_step": C("tg.ones(4)[::0]", V, ("index", "slice", "step")),
    # --- matrix_exp ------------------------------------------------------------------------
    "matrix_exp_non_square": C("tg.matrix_exp(tg.ones(2, 3))", R, "matrix_exp", [(2, 3)]),
    "matrix_exp_3d": C("tg.matrix_exp(tg.ones(2, 2, 2))", R, "matrix_exp", [(2, 2, 2)]),
    "matrix_exp_1d": C("tg.matrix_exp(tg.ones(3))", R, "matrix_exp", [(3,)]),
    "matrix_exp_0d": C("tg.matrix_exp(tg.ones(()))", R, "matrix_exp"),
    "matrix_exp_int64": C("tg.matrix_exp(tg.tensor([[1, 2], [3, 4]]))", T, "matrix_exp",
                          words=["int64"]),
    "matrix_exp_not_a_tensor": C("tg.matrix_exp([[1.0, 0.0], [0.0, 1.0]])", T, "matrix_exp"),
    # --- dims of every dim-taking op ----------------------------------------------------------
    "max_dim_out_of_range": C("tg.ones(2, 3).max(dim=2)", IX, "max"),
    "max_fn_dim_out_of_range": C("tg.max(tg.ones(2, 3), dim=-3)", IX, "max"),
    "min_dim_out_of_range": C("tg.ones(2, 3).min(dim=5, keepdim=True)", IX, "min"),
    "max_0d_dim_1": C("tg.ones(()).max(dim=1)", IX, "max"),
    "var_dim_out_of_range": C("tg.ones(2, 3).var(dim=2)", IX, "var"),
    "var_tuple_dim_out_of_range": C("tg.ones(2, 3).var(dim=(0, -3))", IX, "var"),
    "logsumexp_dim_out_of_range": C("tg.ones(2, 3).logsumexp(dim=2)", IX, "logsumexp"),
    "logsumexp_fn_dim_out_of_range": C("tg.logsumexp(tg.ones(2, 3), -3)", IX, "logsumexp"),
    "norm_dim_out_of_range": C("tg.norm(tg.ones(2, 3), dim=2)", IX, "norm"),
    "norm_p1_dim_out_of_range": C("tg.norm(tg.ones(2, 3), p=1, dim=-4)", IX, "norm"),
    "norm_inf_dim_out_of_range": C("tg.norm(tg.ones(2, 3), p=float('inf'), dim=3)", IX,
                                   "norm"),
    "softmax_dim_out_of_range": C("tg.ones(2, 3).softmax(dim=2)", IX, "softmax"),
    "softmax_fn_dim_out_of_range": C("tg.softmax(tg.ones(2, 3), -3)", IX, "softmax"),
    "log_softmax_dim_out_of_range": C("tg.ones(2, 3).log_softmax(2)", IX, "log_softmax"),
    "log_softmax_fn_dim_out_of_range": C("tg.log_softmax(tg.ones(4), dim=1)", IX,
                                         "log_softmax"),
    "flatten_start_out_of_range": C("tg.ones(2, 3).flatten(2)", IX, "flatten"),
    "flatten_end_out_of_range": C("tg.ones(2, 3).flatten(0, 2)", IX, "flatten"),
    "flatten_fn_out_of_range": C("tg.flatten(tg.ones(2, 3), -3)", IX, "flatten"),
    "flatten_start_after_end": C("tg.ones(2, 3, 4).flatten(2, 1)", (V, R), "flatten"),
    "squeeze_dim_out_of_range": C("tg.ones(2, 1).squeeze(2)", IX, "squeeze"),
    "squeeze_negative_out_of_range": C("tg.ones(2, 1).squeeze(-3)", IX, "squeeze"),
    "squeeze_fn_out_of_range": C("tg.squeeze(tg.ones(1), 1)", IX, "squeeze"),
    "unsqueeze_dim_out_of_range": C("tg.ones(2, 3).unsqueeze(3)", IX, "unsqueeze"),
    "unsqueeze_negative_out_of_range": C("tg.ones(2, 3).unsqueeze(-4)", IX, "unsqueeze"),
    "unsqueeze_fn_out_of_range": C("tg.unsqueeze(tg.ones(()), 2)", IX, "unsqueeze"),
    "cat_dim_out_of_range": C("tg.cat([tg.ones(2, 3), tg.ones(2, 3)], dim=2)", IX, "cat"),
    "cat_negative_dim_out_of_range": C("tg.cat([tg.ones(2), tg.ones(2)], dim=-2)", IX, "cat"),
    "stack_dim_out_of_range": C("tg.stack([tg.ones(2, 3), tg.ones(2, 3)], dim=3)", IX, "stack"),
    "stack_negative_dim_out_of_range": C("tg.stack([tg.ones(2), tg.ones(2)], dim=-3)", IX,
                                         "stack"),
    "size_0d": C("tg.tensor(2.0).size(0)", IX, "size", words=["no dimensions"]),
    "size_0d_negative": C("tg.tensor(2.0).size(-1)", IX, "size", words=["no dimensions"]),
    "size_out_of_range": C("tg.ones(2, 3).size(2)", IX, "size"),
    "size_negative_out_of_range": C("tg.ones(2, 3).size(-3)", IX, "size"),
    "flatten_0d_out_of_range": C("tg.tensor(2.0).flatten(1)", IX, "flatten"),
    "flatten_0d_end_out_of_range": C("tg.tensor(2.0).flatten(0, -2)", IX, "flatten"),
    "permute_dim_out_of_range": C("tg.ones(2, 3).permute(0, 2)", IX, "permute"),
    "permute_negative_out_of_range": C("tg.ones(2, 3).permute(-3, 0)", IX, "permute"),
    # --- permute / cat / stack / expand / view shapes ------------------------------------------
    "permute_repeated_dim": C("tg.ones(2, 3).permute(0, 0)", (V, R), "permute"),
    "permute_repeated_negative_dim": C("tg.ones(2, 3).permute(1, -1)", (V, R), "permute"),
    "permute_missing_dim": C("tg.ones(2, 3, 4).permute(0, 1)", (V, R), "permute"),
    "permute_too_many_dims": C("tg.ones(2, 3).permute(0, 1, 2)", (V, R, IX), "permute"),
    "permute_fn_repeated": C("tg.permute(tg.ones(2, 3, 4), (2, 2, 0))", (V, R), "permute"),
    "cat_mismatched_shapes": C("tg.cat([tg.ones(2, 3), tg.ones(3, 3)], dim=1)", R, "cat",
                               [(2, 3), (3, 3)]),
    "cat_mismatched_ranks": C("tg.cat([tg.ones(2, 3), tg.ones(3)])", R, "cat"),
    "cat_empty_list": C("tg.cat([])", V, "cat"),
    "cat_0d": C("tg.cat([tg.ones(()), tg.ones(())])", R, "cat"),
    "cat_not_tensors": C("tg.cat([tg.ones(2), [1.0, 2.0]])", T, "cat"),
    "stack_unequal_shapes": C("tg.stack([tg.ones(2, 3), tg.ones(3, 2)])", R, "stack",
                              [(2, 3), (3, 2)]),
    "stack_unequal_sizes": C("tg.stack([tg.ones(2), tg.ones(3)], dim=1)", R, "stack"),
    "stack_empty_list": C("tg.stack([])", R, "stack"),
    "expand_incompatible": C("tg.ones(2, 3).expand(2, 4)", R, "expand", [(2, 3), (2, 4)]),
    "expand_fewer_dims": C("tg.ones(2, 3).expand(3)", R, "expand"),
    "expand_minus_one_new_dim": C("tg.ones(3).expand(-1, 3)", R, "expand"),
    "expand_negative": C("tg.ones(1).expand(-2)", R, "expand"),
    "view_incompatible": C("tg.ones(2, 3).view(4, 2)", R, "view", [(4, 2)]),
    "view_two_minus_one": C("tg.ones(2, 3).view(-1, -1)", R, "view"),
    # --- reductions / elementwise arguments ---------------------------------------------------
    "max_empty_dim": C("tg.zeros(2, 0).max(dim=1)", (IX, V), "max"),
    "min_empty_dim": C("tg.zeros(0, 3).min(dim=0)", (IX, V), "min"),
    "max_empty_all": C("tg.zeros(0).max()", (V, R), "max"),
    "min_empty_all": C("tg.zeros(2, 0).min()", (V, R), "min"),
    "clamp_neither_bound": C("tg.ones(3).clamp()", (V, R), "clamp"),
    "clamp_fn_neither_bound": C("tg.clamp(tg.ones(3), None, None)", (V, R), "clamp"),
    "softplus_fn_beta_zero": C("tg.softplus(tg.ones(3), beta=0.0)", R, "softplus"),
    "norm_nuc": C("tg.norm(tg.ones(2, 2), p='nuc')", R, "norm"),
    "norm_string_p": C("tg.norm(tg.ones(2), p='abc')", R, "norm"),
    "var_int64": C("tg.tensor([1, 2, 3]).var()", R, "var"),
    "var_duplicate_dims": C("tg.ones(2, 3).var(dim=(1, -1))", R, "var"),
    "logsumexp_duplicate_dims": C("tg.ones(2, 3).logsumexp(dim=(0, 0))", R, "logsumexp"),
    "maximum_broadcast": C("tg.maximum(tg.ones(2), tg.ones(3))", R, "maximum", [(2,), (3,)]),
    "minimum_broadcast": C("tg.minimum(tg.ones(2, 3), tg.ones(3, 2))", R, "minimum"),
    "max_binary_broadcast": C("tg.max(tg.ones(2), tg.ones(3))", R, ("max", "maximum")),
    "dot_2d": C("tg.dot(tg.ones(2, 2), tg.ones(2, 2))", R, "dot"),
    "dot_sizes": C("tg.dot(tg.ones(2), tg.ones(3))", R, "dot", [(2,), (3,)]),
    "outer_2d": C("tg.outer(tg.ones(2, 2), tg.ones(2))", R, "outer"),
    # --- functional API ------------------------------------------------------------------------
    "jvp_tangent_wrong_shape": C(
        "tg.autograd.functional.jvp(lambda x: x * 2, tg.ones(3), tg.ones(4))", R, "jvp",
        [(4,), (3,)]),
    "jvp_tangent_wrong_count": C(
        "tg.autograd.functional.jvp(lambda x, y: x * y, (tg.ones(3), tg.ones(3)), (tg.ones(3),))",
        R, "jvp"),
    "jvp_tuple_tangent_wrong_shape": C(
        "tg.autograd.functional.jvp(lambda x, y: x * y, (tg.ones(3), tg.ones(3)),"
        " (tg.ones(3), tg.ones(2, 3)))", R, "jvp"),
    "jvp_no_v_for_vector_input": C("tg.autograd.functional.jvp(lambda x: x * 2, tg.ones(3))",
                                   R, "jvp"),
    "vjp_v_wrong_shape": C(
        "tg.autograd.functional.vjp(lambda x: x * 2, tg.ones(3), tg.ones(4))", R, "vjp",
        [(4,), (3,)]),
    "vjp_no_v_for_vector_output": C("tg.autograd.functional.vjp(lambda x: x * 2, tg.ones(3))",
                                    R, "vjp"),
    "hessian_non_scalar": C(
        "tg.autograd.functional.hessian(lambda x: x * 2, tg.ones(3))", R, "hessian"),
    "hessian_non_scalar_tuple": C(
        "tg.autograd.functional.hessian(lambda x, y: x * y, (tg.ones(2), tg.ones(2)))", R,
        "hessian"),
    "hvp_non_scalar": C(
        "tg.autograd.functional.hvp(lambda x: x * 2, tg.ones(3), tg.ones(3))", R, "hvp"),
    "hvp_v_wrong_shape": C(
        "tg.autograd.functional.hvp(lambda x: (x * x).sum(), tg.ones(3), tg.ones(2))", R, "hvp"),
    "jacobian_non_tensor_output": C(
        "tg.autograd.functional.jacobian(lambda x: 3.0, tg.ones(3))", T, "jacobian"),
    "jacobian_non_tensor_input": C(
        "tg.autograd.functional.jacobian(lambda x: x, [1.0, 2.0])", T, "jacobian"),
    "jvp_function_raises": C(
        "tg.autograd.functional.jvp(lambda x: x.reshape(7), tg.ones(3), tg.ones(3))", R,
        "reshape"),
    # --- autograd misuse --------------------------------------------------------------
    "backward_twice": C("""
        x = tg.ones(3, requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
    """, R),
    "backward_twice_through_shared_node": C("""
        x = tg.ones(3, requires_grad=True)
        h = x.exp()
        h.sum().backward()
        (h * 2).sum().backward()
    """, R),
    "backward_non_scalar": C("(tg.ones(3, requires_grad=True) * 2).backward()", R),
    "backward_gradient_wrong_shape": C(
        "(tg.ones(3, requires_grad=True) * 2).backward(tg.ones(2))", R, shapes=[(3,), (2,)]),
    "backward_gradient_wrong_shape_2d": C(
        "(tg.ones(2, 3, requires_grad=True) * 2).backward(tg.ones(3, 2))", R,
        shapes=[(2, 3), (3, 2)]),
    "backward_without_requires_grad": C("tg.ones(3).sum().backward()", R),
    "grad_input_not_requiring_grad": C("""
        x = tg.ones(3, requires_grad=True)
        c = tg.ones(3)
        tg.autograd.grad((x * c).sum(), [x, c])
    """, R),
    "grad_unused_input": C("""
        x = tg.ones(3, requires_grad=True)
        u = tg.ones(3, requires_grad=True)
        tg.autograd.grad((x * 2).sum(), [x, u])
    """, R),
    "grad_output_wrong_shape": C("""
        x = tg.ones(3, requires_grad=True)
        tg.autograd.grad(x * 2, x, grad_outputs=tg.ones(4))
    """, R, shapes=[(3,), (4,)]),
    "grad_twice": C("""
        x = tg.ones(3, requires_grad=True)
        y = (x * x).sum()
        tg.autograd.grad(y, x)
        tg.autograd.grad(y, x)
    """, R),
    "requires_grad_int64_tensor": C("tg.tensor([1, 2], requires_grad=True)", R),
    "requires_grad_int64_method": C("tg.arange(3).requires_grad_()", R),
    "requires_grad_int64_setter": C("""
        t = tg.tensor([1, 2])
        t.requires_grad = True
    """, R),
    "requires_grad_non_leaf": C("""
        x = tg.ones(2, requires_grad=True)
        y = x * 2
        y.requires_grad = False
    """, R),
    "numpy_of_requires_grad": C("tg.ones(2, requires_grad=True).numpy()", R),
    # --- construction ---------------------------------------------------------------------
    "tensor_of_strings": C("tg.tensor(['a', 'b'])", (T, V), "tensor"),
    "tensor_of_ragged_lists": C("tg.tensor([[1.0, 2.0], [3.0]])", (T, V), "tensor"),
    "tensor_of_none": C("tg.tensor([None, 1.0])", (T, V), "tensor"),
    "tensor_of_dict": C("tg.tensor({'a': 1})", (T, V), "tensor"),
    "tensor_of_complex": C("tg.tensor(np.ones(2, dtype=np.complex128))", (T, V), "tensor"),
    "from_numpy_list": C("tg.from_numpy([1.0, 2.0])", T, "from_numpy"),
    "zeros_negative": C("tg.zeros(-1)", R, "zeros", words=["-1"]),
    "zeros_negative_2d": C("tg.zeros(2, -3)", R, "zeros", words=["-3"]),
    "ones_negative_tuple": C("tg.ones((3, -2))", R, "ones"),
    "rand_negative": C("tg.rand(-1)", R, "rand"),
    "randn_negative": C("tg.randn(2, -1)", R, "randn"),
    "empty_negative": C("tg.empty(-5)", R, "empty"),
    "full_negative": C("tg.full((-2,), 1.0)", R, "full"),
    "zeros_float_shape": C("tg.zeros(2.5)", T, "zeros"),
    "zeros_huge": C("tg.zeros(2**40, 2**20)", (V, M)),
    "ones_overflowing_numel": C("tg.ones(2**62, 2**4)", R),
    "randn_huge": C("tg.randn(2**31, 2**31)", R),
    "eye_negative": C("tg.eye(-1)", R, "eye"),
    "eye_negative_m": C("tg.eye(2, -3)", R, "eye"),
    "arange_zero_step": C("tg.arange(0, 10, 0)", R, "arange"),
    "arange_wrong_direction": C("tg.arange(5, 0)", R, "arange"),  # as torch.arange
    # --- conversions ------------------------------------------------------------------------
    "item_multi_element": C("tg.ones(2).item()", (V, R)),
    "item_empty": C("tg.zeros(0).item()", (V, R)),
    "bool_multi_element": C("bool(tg.ones(2))", (V, R)),
    "len_0d": C("len(tg.tensor(1.0))", T),
    "iter_0d": C("iter(tg.tensor(1.0)).__next__()", T),
    "set_num_threads_zero": C("tg.set_num_threads(0)", R),
    "set_num_threads_negative": C("tg.set_num_threads(-4)", R),
    # --- wrong operand types ----------------------------------------------------------------
    "add_string": C("tg.ones(2) + 'a'", T),
    "radd_none": C("None + tg.ones(2)", T),
    "mul_list_of_strings": C("tg.ones(2) * ['x', 'y']", T),
    "matmul_number": C("tg.ones(2) @ 3.0", (T, V)),
    "exp_of_list": C("tg.exp([1.0, 2.0])", T),
    "transpose_float_dim": C("tg.ones(2, 3).transpose(0, 1.5)", T),
    "where_non_tensor_condition": C("tg.where('yes', tg.ones(2), tg.ones(2))", T, "where"),
}


# --- private entry points ------------------------------------------------------------
# The functions of ``tg._core`` whose names start with an underscore are what the public
# API is built on; they are reachable from Python all the same, so each checks its own
# arguments. First the cases whose outcome is known exactly, then a sweep that gives each
# argument of each of them every hostile value of its kind.
P = "tg._core."
PRIVATE_CASES = {
    # the checks that used to sit in private entry points, now reached through the ops
    "slice_0d": C("tg.ones(())[1:5]", IX, "indices"),
    "slice_dim_out_of_range": C("tg.ones(2, 3)[:, :, 0:1]", IX, "indices"),
    "slice_dim_huge": C("tg.narrow(tg.ones(2, 3), 2**62, 0, 1)", IX, "narrow"),
    "slice_negative_dim": C("tg.narrow(tg.ones(2, 3), -3, 0, 1)", IX, "narrow"),
    "slice_step_zero": C("tg.ones(4)[::0]", V, "step"),
    "slice_step_negative": C("tg.ones(4)[4:0:-1]", V, "step"),
    "slice_step_huge": C("assert tg.ones(4)[1:4:2**63 - 1].shape == (1,)", OK),
    "slice_none": C("tg.narrow(None, 0, 0, 1)", T, "narrow"),
    "index_select_0d": C("tg.index_select(tg.ones(()), 0, tg.tensor([0]))", IX, "index"),
    "index_select_dim": C("tg.index_select(tg.ones(2), 1, tg.tensor([0]))", IX, "index"),
    "index_select_float_index": C("tg.index_select(tg.ones(2), 0, tg.ones(1))", IX, "index"),
    "index_select_index_huge": C("tg.index_select(tg.ones(2), 0, tg.tensor([2**62]))", IX,
                                 "index"),
    "gather_0d": C("tg.gather(tg.ones(()), 0, tg.tensor(0))", IX, "gather"),
    "gather_dim": C("tg.gather(tg.ones(2, 2), 2, tg.tensor([[0]]))", IX, "gather"),
    "gather_index_rank": C("tg.gather(tg.ones(2, 2), 1, tg.tensor([0, 1]))", R, "gather"),
    "gather_index_out_of_range": C("tg.gather(tg.ones(2, 2), 1, tg.tensor([[0], [-3]]))", IX,
                                   "gather"),
    "max_dim_dim": C("tg.max(tg.ones(2, 2), -3)", IX, "max"),
    "min_dim_none": C("tg.min(None, 0)", T, "min"),
    "max_all_empty": C("tg.max(tg.zeros(0))", R, "max"),
    "min_all_none": C("tg.min(None)", T, "min"),
    "mm_1d": C("tg.mm(tg.ones(3), tg.ones(3))", R, "mm"),
    "mm_batches": C("tg.matmul(tg.ones(2, 2, 2), tg.ones(3, 2, 2))", R, "matmul"),
    "mm_transposed_misaligned": C("tg.mm(tg.ones(2, 3), tg.ones(2, 3).t().t())", R, "mm"),
    "mm_none": C("tg.mm(tg.ones(2, 2), None)", T, "mm"),
    "broadcast_to_negative": C("tg.broadcast_to(tg.ones(1), [-5])", R, "expand"),
    "broadcast_to_fewer_dims": C("tg.broadcast_to(tg.ones(2, 3), [3])", R, "expand"),
    "broadcast_to_huge": C("tg.broadcast_to(tg.ones(1), [2**62, 2**62])", (R, M)),
    "reshape_none": C("tg.reshape(None, [1])", T, "reshape"),
    "reshape_huge": C("tg.reshape(tg.ones(4), [2**62, 2**62])", R, "reshape"),
    "zeros_huge_dims_around_0": C("tg.zeros([0, 2**62, 2**62])", R),
    "cat_length_overflows": C("tg.cat([tg.zeros(0, 2**59), tg.zeros(0, 2**59)] * 9, 1)", R,
                              "cat"),
    "batch_norm_none": C(P + "_batch_norm_train(None, None, None, None, None, 0.1, 1e-5)", T,
                         "batch_norm"),
    "batch_norm_1d": C(P + "_batch_norm_train(tg.ones(4), None, None, None, None, 0.1, 1e-5)",
                       R, "batch_norm"),
    "batch_norm_gamma_shape": C(
        P + "_batch_norm_train(tg.ones(4, 3), tg.ones(2), None, None, None, 0.1, 1e-5)", V,
        "batch_norm"),
    "batch_norm_running_shape": C(
        P + "_batch_norm_train(tg.ones(4, 3), None, None, tg.ones(4), None, 0.1, 1e-5)", V,
        "batch_norm"),
    "batch_norm_int64": C(
        P + "_batch_norm_train(tg.tensor([[1, 2], [3, 4]]), None, None, None, None, 0.1, 0.0)",
        T, "batch_norm"),
    "cross_entropy_target_none": C(P + "_cross_entropy(tg.ones(2, 3), None, -100)", T,
                                   "cross_entropy"),
    "cross_entropy_target_float": C(P + "_cross_entropy(tg.ones(2, 3), tg.ones(2), -100)", T,
                                    "cross_entropy"),
    "cross_entropy_target_shape": C(P + "_cross_entropy(tg.ones(2, 3), tg.tensor([0]), -100)",
                                    V, "cross_entropy"),
    "cross_entropy_target_huge": C(
        P + "_cross_entropy(tg.ones(2, 3), tg.tensor([0, 2**62]), -100)", IX, "cross_entropy"),
    "cross_entropy_logits_1d": C(P + "_cross_entropy(tg.ones(3), tg.tensor([0]), -100)", V,
                                 "cross_entropy"),
    "dropout_mask_p": C(P + "_dropout_mask([3], 1.5, tg.float32)", V, "dropout"),
    "dropout_mask_p_nan": C(P + "_dropout_mask([3], float('nan'), tg.float32)", V, "dropout"),
    "dropout_mask_int64": C(P + "_dropout_mask([3], 0.5, tg.int64)", T),
    "dropout_mask_negative_shape": C(P + "_dropout_mask([-3], 0.5, tg.float32)", R),
    "make_dual_shapes": C("""
        with tg.autograd.forward_ad.dual_level():
            tg.autograd.forward_ad.make_dual(tg.ones(2), tg.ones(3))
    """, R, "make_dual"),
    "make_dual_none": C("""
        with tg.autograd.forward_ad.dual_level():
            tg.autograd.forward_ad.make_dual(tg.ones(2), None)
    """, T, "make_dual"),
    "make_dual_inactive_level": C(P + "_make_dual(tg.ones(2), tg.ones(2), 12345)", R, "level"),
    "unpack_dual_inactive_level": C(P + "_unpack_dual(tg.ones(2), 2**63)", R, "level"),
    "exit_level_not_entered": C(P + "_exit_dual_level(987654)", R, "level"),
    "copy_shapes": C("tg.ones(2).copy_(tg.ones(3))", R, "copy_"),
    "copy_string": C("tg.ones(2).copy_('x')", T, "copy_"),
    "full_negative": C("tg.full([-1], 1.0)", R, "full"),
    "empty_huge": C("tg.empty([2**62, 2**62])", R, "empty"),
    "zeros_too_big": C("tg.zeros([2**40, 2**18])", M),
    "eye_negative": C("tg.eye(-1, 2)", R, "eye"),
    "arange_nan": C("tg.arange(0.0, float('nan'), 1.0)", R, "arange"),
    "rand_int64": C("tg.rand([2], dtype=tg.int64)", T, "rand"),
    "randn_int64": C("tg.randn([2], dtype=tg.int64)", T, "randn"),
    "from_numpy_strings": C(P + "_from_numpy(np.array(['a']), None, True)", T, "tensor"),
    "from_numpy_objects": C(P + "_from_numpy(np.array([None]), None, True)", T, "tensor"),
    "grad_not_tensors": C(P + "_grad([1], [tg.ones(1)], None, False, False, False)", T, "grad"),
    "grad_none_output": C(P + "_grad([None], [tg.ones(1, requires_grad=True)], None, False, "
                          "False, False)", T, "grad"),
    "backward_many_none": C(P + "_backward_many([None], None, False, False)", T, "backward"),
    "backward_many_counts": C("""
        x = tg.ones(2, requires_grad=True)
        tg._core._backward_many([x * 2], [tg.ones(2), tg.ones(2)], False, False)
    """, R),
    "backward_method_shape": C("(tg.ones(2, requires_grad=True) * 2)._backward(tg.ones(3), "
                               "False, False)", R),
    "function_apply_flag_counts": C(
        P + "_function_apply('F', [tg.ones(2)], [tg.ones(2)], lambda g, s: g, [], [], [], True)",
        V, "flag"),
    "function_apply_not_tensors": C(
        P + "_function_apply('F', [1], [tg.ones(2)], lambda g, s: g, [True], [False], [False], "
        "True)", T, "F"),
    "delayed_error_inputs": C(P + "_delayed_error(tg.ones(2), [1], 'x')", T),
    "load_blas_missing": C("assert " + P + "_load_blas('/nonexistent/libblas.so') is False", OK),
    "load_blas_not_a_library": C("assert " + P + "_load_blas('/dev/null') is False", OK),
    "load_blas_without_gemm": C("assert " + P + "_load_blas('libm.so.6') is False\n"
                                "assert (tg.ones(64, 64) @ tg.ones(64, 64)).sum().item() == "
                                "64.0 ** 3", OK),
    "sgd_buffers_missing": C(
        P + "_sgd_step([tg.ones(2)], [tg.ones(2)], [], [True], 0.1, 0.9, 0.0, 0.0, False, False)",
        V, "sgd"),
    "sgd_flags_missing": C(
        P + "_sgd_step([tg.ones(2)], [tg.ones(2)], [tg.ones(2)], [], 0.1, 0.9, 0.0, 0.0, False, "
        "False)", V, "sgd"),
    "sgd_grads_missing": C(
        P + "_sgd_step([tg.ones(2)], [], [], [], 0.1, 0.0, 0.0, 0.0, False, False)", V, "sgd"),
    "adam_state_missing": C(
        P + "_adam_step([tg.ones(2)], [tg.ones(2)], [], [], [], [1.0], 0.1, 0.9, 0.99, 1e-8, "
        "0.0, False, False, False)", V, "adam"),
    "adam_vmax_missing": C(
        P + "_adam_step([tg.ones(2)], [tg.ones(2)], [tg.ones(2)], [tg.ones(2)], [], [1.0], 0.1, "
        "0.9, 0.99, 1e-8, 0.0, True, False, False)", V, "adam"),
    "adam_steps_missing": C(
        P + "_adam_step([tg.ones(2)], [tg.ones(2)], [tg.ones(2)], [tg.ones(2)], [], [], 0.1, "
        "0.9, 0.99, 1e-8, 0.0, False, True, False)", V, "adamw"),
    "adagrad_sums_missing": C(
        P + "_adagrad_step([tg.ones(2)], [tg.ones(2)], [], [1.0], 0.1, 0.0, 0.0, 1e-10, False)",
        V, "adagrad"),
    "adagrad_steps_missing": C(
        P + "_adagrad_step([tg.ones(2)], [tg.ones(2)], [tg.ones(2)], [], 0.1, 0.0, 0.0, 1e-10, "
        "False)", V, "adagrad"),
    "rmsprop_square_missing": C(
        P + "_rmsprop_step([tg.ones(2)], [tg.ones(2)], [], [], [], 0.01, 0.99, 1e-8, 0.0, 0.0, "
        "False, False)", V, "rmsprop"),
    "rmsprop_grad_avg_missing": C(
        P + "_rmsprop_step([tg.ones(2)], [tg.ones(2)], [tg.ones(2)], [], [], 0.01, 0.99, 1e-8, "
        "0.0, 0.0, True, False)", V, "rmsprop"),
    "rmsprop_buffer_missing": C(
        P + "_rmsprop_step([tg.ones(2)], [tg.ones(2)], [tg.ones(2)], [], [], 0.01, 0.99, 1e-8, "
        "0.0, 0.9, False, False)", V, "rmsprop"),
    "adadelta_state_missing": C(
        P + "_adadelta_step([tg.ones(2)], [tg.ones(2)], [tg.ones(2)], [], 1.0, 0.9, 1e-6, 0.0, "
        "False)", V, "adadelta"),
    "optimizer_state_dtype": C(
        P + "_adadelta_step([tg.ones(2)], [tg.ones(2)], [tg.ones(2, dtype=tg.float64)], "
        "[tg.ones(2)], 1.0, 0.9, 1e-6, 0.0, False)", V, "adadelta"),
    "optimizer_int64_param": C(
        P + "_sgd_step([tg.tensor([1, 2])], [tg.tensor([1, 2])], [], [], 0.1, 0.0, 0.0, 0.0, "
        "False, False)", T, "sgd"),
}

# The sweep. Each entry: a private function, its arguments as code (a valid call), and
# the kind of each argument; every hostile value of that kind replaces one argument at a
# time. Sizes are either small or far beyond any memory, so nothing allocates gigabytes.
HOSTILE = {
    "tensor": ["None", "tg.ones(())", "tg.zeros(0)", "tg.zeros(2, 0, 3)", "tg.tensor([1, 2])",
               "tg.tensor([2**62, -2**62])", "tg.ones(3, dtype=tg.float64)",
               "tg.ones(5, 4, 3, 2)", "tg.ones(2, 3, requires_grad=True)", "'x'", "1.5"],
    "dim": ["-2**63", "2**63 - 1", "2**62", "-2**62", "-1", "0", "1", "3", "-4", "2**64",
            "1.5", "None"],
    "float": ["float('nan')", "float('inf')", "-float('inf')", "-1.0", "0.0", "1e308", "None"],
    "bool": ["None", "'yes'"],
    "shape": ["[]", "[-1]", "[3, -1]", "[0]", "[2**62, 2**62]", "[0, 2**62, 2**62]",
              "[2**40, 2**20]", "[1] * 100", "[2**64]", "None", "[1.5]"],
    "dtype": ["tg.float32", "tg.float64", "tg.int64", "None", "'float32'"],
    "tensors": ["[]", "[None]", "[tg.ones(2), tg.ones(2)]", "[tg.tensor([1, 2])]",
                "[tg.ones(3)]", "[tg.ones(2, dtype=tg.float64)]", "[tg.ones(())]", "None",
                "[1.0]"],
    "floats": ["[]", "[float('nan')]", "[1.0, 2.0]", "[-1.0]", "None"],
    "flags": ["[]", "[True, True]", "None"],
    "path": ["''", "'/nonexistent'", "'/dev/null'", "'/'", "'libm.so.6'", "None"],
    "object": ["None", "1", "'x'", "[None]", "[1]", "tg.ones(2)", "[tg.ones(2), tg.ones(3)]"],
    "array": ["np.array([2**64 - 1], dtype=np.uint64)", "np.array(['a'])",
              "np.array([1 + 2j])", "np.zeros((0, 3))", "np.ones((2, 3))[:, ::2]",
              "np.array(None)", "np.zeros(3, dtype=np.float16)",
              "np.zeros(2, dtype=[('a', 'f4')])", "np.array([np.nan, np.inf, -np.inf])",
              "np.array(['2020-01-01'], dtype='datetime64[D]')", "np.ones(3)[::-1]", "None",
              "[1.0]"],
}
_X, _G = "tg.ones(2)", "[tg.ones(2)]"
SWEEP = [
    ("_batch_norm_train",
     ["tg.ones(4, 3)", "tg.ones(3)", "tg.zeros(3)", "tg.zeros(3)", "tg.ones(3)", "0.1", "1e-5"],
     ["tensor"] * 5 + ["float", "float"]),
    ("_cross_entropy", ["tg.ones(2, 3)", "tg.tensor([0, 2])", "-100"],
     ["tensor", "tensor", "dim"]),
    ("_dropout_mask", ["[4, 3]", "0.5", "tg.float32"], ["shape", "float", "dtype"]),
    ("_from_numpy", ["np.ones((2, 3))", "None", "True"], ["array", "dtype", "bool"]),
    ("_make_dual", ["tg.ones(2, 3)", "tg.ones(2, 3)", "tg._core._enter_dual_level()"],
     ["tensor", "tensor", "dim"]),
    ("_unpack_dual", ["tg.ones(2, 3)", "tg._core._enter_dual_level()"], ["tensor", "dim"]),
    ("_enter_dual_level", [], []),
    ("_exit_dual_level", ["tg._core._enter_dual_level()"], ["dim"]),
    ("_forward_levels", [], []),
    ("_has_tangents", ["tg.ones(2)"], ["tensor"]),
    ("_set_grad_enabled", ["True"], ["bool"]),
    ("_grad", ["[(tg.ones(2, requires_grad=True) * 2).sum()]",
               "[tg.ones(2, requires_grad=True)]", "None", "False", "False", "True"],
     ["object", "object", "object", "bool", "bool", "bool"]),
    ("_backward_many", ["[(tg.ones(2, requires_grad=True) * 2).sum()]", "None", "False",
                        "False"], ["object", "object", "bool", "bool"]),
    ("_function_apply", ["'F'", "[tg.ones(2, requires_grad=True)]", "[tg.ones(2)]",
                         "lambda g, s: list(g)", "[True]", "[False]", "[False]", "True"],
     ["path", "object", "object", "object", "flags", "flags", "flags", "bool"]),
    ("_function_jvp", ["[tg.ones(2)]", "[tg.ones(2)]", "lambda t: t"],
     ["object", "object", "object"]),
    ("_delayed_error", ["tg.ones(2)", "[tg.ones(2, requires_grad=True)]", "'twice'"],
     ["tensor", "object", "path"]),
    ("_op_table", [], []),
    ("_load_blas", ["'/nonexistent'"], ["path"]),
    ("_blas_loaded", [], []),
    ("_release_cached_blocks", [], []),
    ("_sgd_step", [_X.join("[]"), _G, _G, "[False]", "0.1", "0.9", "0.0", "0.0", "False",
                   "False"],
     ["tensors", "tensors", "tensors", "flags", "float", "float", "float", "float", "bool",
      "bool"]),
    ("_adam_step", [_G, _G, _G, _G, _G, "[1.0]", "0.1", "0.9", "0.99", "1e-8", "0.0", "True",
                    "False", "False"],
     ["tensors"] * 5 + ["floats"] + ["float"] * 5 + ["bool"] * 3),
    ("_adagrad_step", [_G, _G, _G, "[1.0]", "0.1", "0.0", "0.0", "1e-10", "False"],
     ["tensors"] * 3 + ["floats"] + ["float"] * 4 + ["bool"]),
    ("_rmsprop_step", [_G, _G, _G, _G, _G, "0.01", "0.99", "1e-8", "0.0", "0.9", "True",
                       "False"],
     ["tensors"] * 5 + ["float"] * 5 + ["bool"] * 2),
    ("_adadelta_step", [_G, _G, _G, _G, "1.0", "0.9", "1e-6", "0.0", "False"],
     ["tensors"] * 4 + ["float"] * 4 + ["bool"]),
    # the private methods of Tensor, with the tensor as first argument
    ("Tensor._to_dtype", ["tg.ones(2, 3)", "tg.float64"], ["tensor", "dtype"]),
    ("Tensor._backward", ["(tg.ones(2, requires_grad=True) * 2).sum()", "None", "False",
                          "False"], ["tensor", "tensor", "bool", "bool"]),
    ("Tensor._numpy_data", ["tg.ones(2, 3)"], ["tensor"]),
    ("Tensor._is_view", ["tg.ones(2, 3)"], ["tensor"]),
]
# private data, not functions
_NOT_CALLABLE = {"_op_functions", "_op_methods", "Tensor._base", "Tensor._version"}
# every call starts from the default global state, whatever the previous call set
_RESET = "tg._core._set_grad_enabled(True)\n"


def _sweep_cases():
    cases = {}
    for name, args, kinds in SWEEP:
        call = ("tg." if name.startswith("Tensor.") else P) + name
        cases[f"{name}[valid]"] = C(_RESET + f"{call}({', '.join(args)})", OK)
        for i, kind in enumerate(kinds):
            for value in HOSTILE[kind]:
                bad = args[:i] + [value] + args[i + 1:]
                cases[f"{name}[{i}={value}]"] = C(_RESET + f"{call}({', '.join(bad)})", ())
    return cases


SWEEP_CASES = _sweep_cases()

# Every method and property the core defines on Tensor and Node, called with None in
# place of self (as ``tg.Tensor.numel(None)`` does): with each of a few argument lists,
# one of which fits the method, it must raise TypeError.
_SELF_ARGS = "[(), (1,), (0, 1), (tg.float32,), (tg.ones(2),), (tg.ones(2), 'copy_'), " \
    "(None, False, False)]"
_NONE_SELF = """
for args in {args}:
    try:
        {call}
    except TypeError:
        continue
    raise AssertionError(f"accepted None as self with arguments {{args}}")
"""


def _none_self_cases():
    cases = {}
    for cls in (tg._core.Tensor, tg._core.Node):
        for name, attr in vars(cls).items():
            where = f"tg._core.{cls.__name__}.__dict__[{name!r}]"
            if type(attr).__name__ == "instancemethod":  # pybind11's methods
                call = f"{where}.__func__(None, *args)"
            elif isinstance(attr, property) and type(attr.fget).__name__ != "function":
                call = f"{where}.fget(None)" if attr.fset is None else (
                    f"{where}.fset(None, *args[:1]) if args else {where}.fget(None)")
            else:
                continue  # Python functions: None.attr raises, never crashes
            cases[f"{cls.__name__}.{name}(None)"] = C(
                _NONE_SELF.format(args=_SELF_ARGS, call=call), OK)
    return cases


NONE_SELF_CASES = _none_self_cases()


@pytest.fixture(scope="module")
def outcomes():
    return run_all(CASES)


@pytest.fixture(scope="module")
def private_outcomes():
    return run_all({**PRIVATE_CASES, **SWEEP_CASES, **NONE_SELF_CASES}, timeout=120)


@pytest.mark.parametrize("name", list(PRIVATE_CASES))
def test_private_entry_point(name, private_outcomes):
    results, _ = private_outcomes
    check(PRIVATE_CASES[name], results[name])


def test_op_table_methods_refuse_none_as_self():
    for name in tg._core._op_methods:
        method = getattr(tg.Tensor, name)
        for args in [(), (1,), (tg.ones(2),), (0, 1)]:
            try:
                result = method(None, *args)
            except TypeError:
                continue
            if name.startswith("__") and result is NotImplemented:  # operators defer
                continue
            raise AssertionError(f"Tensor.{name} accepted None as self with {args}")


@pytest.mark.parametrize("name", list(NONE_SELF_CASES))
def test_method_refuses_none_as_self(name, private_outcomes):
    results, _ = private_outcomes
    check(NONE_SELF_CASES[name], results[name])


def test_none_self_cases_cover_the_methods():
    assert len(NONE_SELF_CASES) > 40
    assert "Tensor.numel(None)" in NONE_SELF_CASES and "Tensor.shape(None)" in NONE_SELF_CASES


def test_private_entry_points_survive_hostile_arguments(private_outcomes):
    """Every hostile call of the sweep returns or raises a standard exception; the valid
    call of each function (the base of its sweep) runs through."""
    results, exits = private_outcomes
    failures = []
    for name, case in SWEEP_CASES.items():
        try:
            (check if name.endswith("[valid]") else check_survived)(case, results[name])
        except AssertionError as e:
            failures.append(f"{name}: {e}")
    assert not failures, f"{len(failures)} of {len(SWEEP_CASES)} calls failed:\n" + "\n".join(
        failures[:20])
    check_clean_exit(exits)


def test_every_private_entry_point_is_swept():
    """A private function added to the core without a place in the sweep fails here."""
    private = {n for n in dir(tg._core) if n.startswith("_") and not n.startswith("__")}
    private |= {f"Tensor.{n}" for n in dir(tg._core.Tensor)
                if n.startswith("_") and not n.startswith("__") and n != "_pybind11_conduit_v1_"}
    swept = {name for name, _, _ in SWEEP} | _NOT_CALLABLE
    assert private <= swept, f"not swept: {sorted(private - swept)}"
    assert swept <= private, f"swept but not in the core: {sorted(swept - private)}"
    for name, _, kinds in SWEEP:
        assert all(k in HOSTILE for k in kinds), name


def test_sweep_size():
    # the sweep gives each argument every hostile value of its kind
    expected = sum(1 + sum(len(HOSTILE[k]) for k in kinds) for _, _, kinds in SWEEP)
    assert len(SWEEP_CASES) == expected > 700
    assert list(itertools.islice(SWEEP_CASES, 1)) == ["_batch_norm_train[valid]"]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, outcomes):
    results, _ = outcomes
    check(CASES[name], results[name])


def test_runner_interpreter_exits_cleanly(outcomes):
    check_clean_exit(outcomes[1])


def test_runner_detects_crashes():
    check_detects_crashes()
