"""Bad inputs to tg.nn raise a Python exception naming the op, never crash.

As tests/test_bad_inputs.py: every case runs in a subprocess, batched: one
interpreter runs the cases in order and prints one JSON line per case; if it dies,
the case it was running is recorded as a crash and a new interpreter resumes with the
next case.
"""

import pytest
from bad_inputs import IX, C, R, T, V, check, check_clean_exit, check_detects_crashes, run_all

K, A = "KeyError", "AttributeError"
LIN = ("linear", "mm", "matmul")
BN = ("batch_norm", "batchnorm")
CE = ("cross_entropy", "crossentropy")

CASES = {
    # --- Linear ------------------------------------------------------------------------
    "linear_wrong_features": C("nn.Linear(3, 2)(tg.ones(4, 5))", V, LIN, [(4, 5)], ["3"]),
    "linear_wrong_features_1d": C("nn.Linear(3, 2)(tg.ones(5))", V, LIN, [(5,)]),
    "linear_wrong_features_3d": C("nn.Linear(3, 2)(tg.ones(2, 4, 5))", V, LIN, [(2, 4, 5)]),
    "linear_0d_input": C("nn.Linear(3, 2)(tg.tensor(1.0))", V, LIN),
    "linear_functional_wrong_features": C("F.linear(tg.ones(4, 5), tg.ones(2, 3))", R, LIN,
                                          [(4, 5)]),
    "linear_functional_bias_wrong_shape": C(
        "F.linear(tg.ones(4, 3), tg.ones(2, 3), tg.ones(5))", R, ("linear", "add"), [(5,)]),
    "linear_negative_features": C("nn.Linear(-1, 2)", V, "linear"),
    "linear_float_features": C("nn.Linear(2.5, 2)", (V, T), "linear"),
    # --- BatchNorm1d -------------------------------------------------------------------
    "batchnorm_wrong_features": C("nn.BatchNorm1d(3)(tg.ones(4, 5))", V, BN, [(4, 5)], ["3"]),
    "batchnorm_wrong_features_3d": C("nn.BatchNorm1d(3)(tg.ones(4, 5, 2))", V, BN,
                                     [(4, 5, 2)]),
    "batchnorm_wrong_features_eval": C("nn.BatchNorm1d(3).eval()(tg.ones(4, 5))", V, BN,
                                       [(4, 5)]),
    "batchnorm_1d_input": C("nn.BatchNorm1d(3)(tg.ones(3))", V, BN, words=["1D"]),
    "batchnorm_4d_input": C("nn.BatchNorm1d(3)(tg.ones(2, 3, 4, 5))", V, BN, words=["4D"]),
    "batchnorm_0d_input": C("nn.BatchNorm1d(3)(tg.tensor(1.0))", V, BN),
    "batchnorm_train_one_sample": C("nn.BatchNorm1d(3)(tg.ones(1, 3))", V, BN),
    "batchnorm_train_one_value_3d": C("nn.BatchNorm1d(3)(tg.ones(1, 3, 1))", V, BN),
    "batchnorm_no_stats_eval_one_sample": C(
        "nn.BatchNorm1d(3, track_running_stats=False).eval()(tg.ones(1, 3))", V, BN),
    "batchnorm_int_input": C("nn.BatchNorm1d(2)(tg.tensor([[1, 2], [3, 4]]))", (T, V), BN),
    "batchnorm_zero_features": C("nn.BatchNorm1d(0)", V, BN),
    "batch_norm_functional_weight_shape": C(
        "F.batch_norm(tg.randn(4, 3), None, None, tg.ones(2), None, training=True)", V, BN,
        [(2,)]),
    "batch_norm_functional_running_shape_eval": C(
        "F.batch_norm(tg.randn(4, 3), tg.zeros(2), tg.ones(2))", V, BN, [(2,)]),
    "batch_norm_functional_running_shape_train": C(
        "F.batch_norm(tg.randn(4, 3), tg.zeros(4), tg.ones(4), training=True)", V, BN, [(4,)]),
    "batch_norm_functional_eval_without_stats": C(
        "F.batch_norm(tg.randn(4, 3), None, None)", V, BN),
    "batch_norm_functional_1d": C("F.batch_norm(tg.randn(3), None, None, training=True)", V,
                                  BN),
    # --- cross_entropy / nll_loss --------------------------------------------------------
    "ce_label_too_large": C("F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, 5]))", IX, CE,
                            words=["5", "3"]),
    "ce_label_equal_to_classes": C("F.cross_entropy(tg.zeros(4, 7), tg.tensor([0, 1, 7, 2]))",
                                   IX, CE, words=["7"]),
    "ce_label_negative": C("F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, -1]))", IX, CE,
                           words=["-1", "3"]),
    "ce_label_out_of_range_with_grad": C("""
        x = tg.zeros(2, 3, requires_grad=True)
        F.cross_entropy(x, tg.tensor([4, 0]))
    """, IX, CE, words=["4", "3"]),
    "ce_label_out_of_range_module": C(
        "nn.CrossEntropyLoss()(tg.zeros(2, 3, dtype=tg.float64), tg.tensor([9, 0]))", IX, CE,
        words=["9", "3"]),
    "ce_label_out_of_range_NCd": C(
        "F.cross_entropy(tg.zeros(2, 3, 4), tg.tensor(np.full((2, 4), 3)))", IX, CE,
        words=["3"]),
    "ce_label_out_of_range_unbatched": C("F.cross_entropy(tg.zeros(3), tg.tensor(6))", IX, CE,
                                         words=["6", "3"]),
    "ce_label_out_of_range_with_weight_and_smoothing": C(
        "F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, 3]), weight=tg.ones(3), "
        "label_smoothing=0.1)", IX, CE, words=["3"]),
    "ce_int_target_too_long": C("F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, 1, 2]))", V, CE,
                                [(3,)]),
    "ce_int_target_2d": C("F.cross_entropy(tg.zeros(2, 3), tg.tensor([[0], [1]]))", (V, R),
                          CE, [(2, 1)]),
    "ce_int_target_wrong_NCd": C(
        "F.cross_entropy(tg.zeros(2, 3, 4), tg.tensor(np.zeros((2, 5), dtype=np.int64)))",
        (V, R), CE),
    "ce_float_target_wrong_shape": C("F.cross_entropy(tg.zeros(2, 3), tg.zeros(2, 4))", (V, R),
                                     CE, [(2, 4)]),
    "ce_float_target_1d": C("F.cross_entropy(tg.zeros(2, 3), tg.tensor([0.0, 1.0]))", (V, R),
                            CE, [(2,)]),
    "ce_float_target_wrong_NCd": C("F.cross_entropy(tg.zeros(2, 3, 4), tg.zeros(2, 4, 3))",
                                   (V, R), CE),
    "ce_0d_input": C("F.cross_entropy(tg.tensor(1.0), tg.tensor(0))", (V, R), CE),
    "ce_weight_wrong_shape": C(
        "F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, 1]), weight=tg.ones(4))", (V, R), CE,
        [(4,)]),
    "ce_label_smoothing_out_of_range": C(
        "F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, 1]), label_smoothing=1.5)", V, CE),
    "ce_bad_reduction": C(
        "F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, 1]), reduction='avg')", V, CE,
        words=["avg"]),
    "ce_module_bad_reduction": C(
        "nn.CrossEntropyLoss(reduction='elementwise')(tg.zeros(2, 3), tg.tensor([0, 1]))", V,
        words=["elementwise"]),
    "nll_label_out_of_range": C("F.nll_loss(tg.zeros(2, 3), tg.tensor([0, 5]))", IX,
                                ("nll", "index"), words=["5"]),
    "nll_bad_reduction": C("F.nll_loss(tg.zeros(2, 3), tg.tensor([0, 1]), reduction='max')",
                           V, "nll_loss", words=["max"]),
    # --- mse / gaussian nll ---------------------------------------------------------------
    "mse_bad_reduction": C("F.mse_loss(tg.zeros(2), tg.zeros(2), reduction='avg')", V,
                           "mse_loss", words=["avg"]),
    "mse_module_bad_reduction": C("nn.MSELoss(reduction='Mean')(tg.zeros(2), tg.zeros(2))", V,
                                  words=["Mean"]),
    "mse_shape_mismatch": C("F.mse_loss(tg.zeros(2, 3), tg.zeros(4))", R, ("mse", "sub"),
                            [(2, 3), (4,)]),
    "gnll_negative_var": C(
        "F.gaussian_nll_loss(tg.zeros(2, 3), tg.zeros(2, 3), -tg.ones(2, 3))", V,
        "gaussian_nll_loss", words=["negative"]),
    "gnll_one_negative_var_module": C("""
        var = tg.ones(4)
        var = var - tg.tensor([0.0, 0.0, 2.0, 0.0])
        nn.GaussianNLLLoss()(tg.zeros(4), tg.zeros(4), var)
    """, V, words=["negative"]),
    "gnll_var_wrong_shape": C(
        "F.gaussian_nll_loss(tg.zeros(2, 3), tg.zeros(2, 3), tg.ones(3, 2))", V,
        "gaussian_nll_loss", [(3, 2)]),
    "gnll_bad_reduction": C(
        "F.gaussian_nll_loss(tg.zeros(2), tg.zeros(2), tg.ones(2), reduction='avg')", V,
        "gaussian_nll_loss", words=["avg"]),
    "gnll_module_bad_reduction": C(
        "nn.GaussianNLLLoss(reduction='all')(tg.zeros(2), tg.zeros(2), tg.ones(2))", V,
        words=["all"]),
    # --- dropout -----------------------------------------------------------------------------
    "dropout_p_negative": C("nn.Dropout(-0.1)", V, "dropout", words=["-0.1"]),
    "dropout_p_above_one": C("F.dropout(tg.ones(3), 1.5)", V, "dropout", words=["1.5"]),
    "dropout_p_above_one_eval": C("F.dropout(tg.ones(3), 2.0, training=False)", V, "dropout"),
    "dropout_p_string": C("nn.Dropout('half')", (V, T), "dropout"),
    # --- Module mechanics --------------------------------------------------------------------
    "assign_tensor_to_parameter": C("""
        lin = nn.Linear(3, 2)
        lin.weight = tg.ones(2, 3)
    """, T, words=["weight", "Parameter"]),
    "assign_number_to_parameter": C("""
        lin = nn.Linear(3, 2)
        lin.bias = 3.0
    """, T, words=["bias"]),
    "assign_tensor_to_submodule": C("""
        seq = nn.Sequential(nn.Linear(2, 2))
        seq.add_module('head', nn.ReLU())
        seq.head = tg.ones(2)
    """, T, words=["head"]),
    "assign_number_to_buffer": C("""
        bn = nn.BatchNorm1d(3)
        bn.running_mean = [0.0, 0.0, 0.0]
    """, T, words=["running_mean"]),
    "register_parameter_plain_tensor": C("nn.Module().register_parameter('p', tg.ones(2))", T,
                                         words=["p"]),
    "register_buffer_list": C("nn.Module().register_buffer('b', [1.0, 2.0])", T, words=["b"]),
    "register_buffer_dotted_name": C("nn.Module().register_buffer('a.b', tg.ones(2))", K),
    "add_module_not_a_module": C("nn.Module().add_module('m', 'relu')", T),
    "assign_before_init": C("""
        class Net(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(tg.ones(2))
        Net()
    """, A, words=["__init__"]),
    "forward_not_implemented": C("nn.Module()(tg.ones(2))", (R, "NotImplementedError"),
                                 words=["forward"]),
    "train_mode_not_bool": C("nn.Linear(2, 2).train('yes')", V),
    "sequential_index_out_of_range": C("nn.Sequential(nn.ReLU(), nn.Tanh())[2]", IX),
    "sequential_negative_index_out_of_range": C("nn.Sequential(nn.ReLU())[-2]", IX),
    # --- load_state_dict ------------------------------------------------------------------
    "load_missing_key": C("""
        lin = nn.Linear(3, 2)
        lin.load_state_dict({'weight': tg.ones(2, 3)})
    """, R, words=["bias", "Missing"]),
    "load_unexpected_key": C("""
        lin = nn.Linear(3, 2)
        sd = dict(lin.state_dict())
        sd['scale'] = tg.ones(1)
        lin.load_state_dict(sd)
    """, R, words=["scale", "Unexpected"]),
    "load_missing_nested_key": C("""
        net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
        sd = dict(net.state_dict())
        del sd['1.running_var']
        net.load_state_dict(sd)
    """, R, words=["1.running_var"]),
    "load_size_mismatch": C("""
        lin = nn.Linear(3, 2)
        lin.load_state_dict({'weight': tg.ones(3, 2), 'bias': tg.ones(2)})
    """, R, shapes=[(3, 2), (2, 3)], words=["weight"]),
    "load_size_mismatch_not_strict": C("""
        lin = nn.Linear(3, 2)
        lin.load_state_dict({'weight': tg.ones(2, 3), 'bias': tg.ones(5)}, strict=False)
    """, R, shapes=[(5,)], words=["bias"]),
    "load_non_tensor_value": C("""
        lin = nn.Linear(3, 2)
        lin.load_state_dict({'weight': 3.0, 'bias': tg.ones(2)})
    """, R, words=["weight"]),
    "load_not_a_dict": C("nn.Linear(3, 2).load_state_dict([1, 2])", T),
    # --- parametrizations ----------------------------------------------------------------
    "positive_unknown_kind": C("P.positive(nn.Linear(2, 2), 'weight', kind='relu')", V,
                               "positive", words=["relu"]),
    "interval_low_equals_high": C("P.interval(nn.Linear(2, 2), 'weight', 1.0, 1.0)", V,
                                  "interval"),
    "interval_low_above_high": C("P.interval(nn.Linear(2, 2), 'weight', 2.0, -1.0)", V,
                                 "interval"),
    "interval_nan_bound": C("P.interval(nn.Linear(2, 2), 'weight', float('nan'), 1.0)", V,
                            "interval"),
    "orthogonal_1d": C("P.orthogonal(nn.Linear(2, 2), 'bias')", V, "orthogonal", [(2,)]),
    "parametrize_unknown_tensor": C(
        "parametrize.register_parametrization(nn.Linear(2, 2), 'scale', nn.Identity())", V,
        words=["scale"]),
    "parametrize_not_a_module": C(
        "parametrize.register_parametrization(nn.Linear(2, 2), 'weight', lambda w: w)", T),
    "remove_parametrizations_not_parametrized": C(
        "parametrize.remove_parametrizations(nn.Linear(2, 2), 'weight')", V, words=["weight"]),
    # --- clip_grad_norm_ ---------------------------------------------------------------------
    "clip_nonfinite_norm": C("""
        w = tg.ones(3, requires_grad=True)
        (w * float('inf')).sum().backward()
        nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    """, R, words=["non-finite"]),
}


@pytest.fixture(scope="module")
def outcomes():
    return run_all(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_nn_bad_input(name, outcomes):
    results, _ = outcomes
    check(CASES[name], results[name])


def test_nn_runner_interpreter_exits_cleanly(outcomes):
    check_clean_exit(outcomes[1])


def test_nn_runner_detects_crashes():
    check_detects_crashes()
