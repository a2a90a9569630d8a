"""tg.nn.init: distributions, fans and gains as torch.nn.init's, in place and seeded."""

import math

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.nn import init

ROWS, COLS = 500, 300  # fan_out, fan_in
SQRT12 = math.sqrt(12.0)


def leaky_gain(slope):
    return math.sqrt(2.0 / (1 + slope**2))


# (id, function, kwargs, distribution, mean, std) for a 500×300 tensor
CASES = [
    ("uniform", init.uniform_, {}, "uniform", 0.5, 1 / SQRT12),
    ("uniform-ab", init.uniform_, {"a": -2.0, "b": 3.0}, "uniform", 0.5, 5 / SQRT12),
    ("normal", init.normal_, {}, "normal", 0.0, 1.0),
    ("normal-mean-std", init.normal_, {"mean": 1.5, "std": 0.3}, "normal", 1.5, 0.3),
    ("xavier_uniform", init.xavier_uniform_, {}, "uniform", 0.0, math.sqrt(2 / 800)),
    ("xavier_uniform-gain", init.xavier_uniform_, {"gain": 2.5}, "uniform", 0.0,
     2.5 * math.sqrt(2 / 800)),
    ("xavier_normal", init.xavier_normal_, {}, "normal", 0.0, math.sqrt(2 / 800)),
    ("xavier_normal-gain", init.xavier_normal_, {"gain": 5 / 3}, "normal", 0.0,
     5 / 3 * math.sqrt(2 / 800)),
    ("kaiming_uniform", init.kaiming_uniform_, {}, "uniform", 0.0, math.sqrt(2 / 300)),
    ("kaiming_uniform-relu-fan_out", init.kaiming_uniform_,
     {"mode": "fan_out", "nonlinearity": "relu"}, "uniform", 0.0, math.sqrt(2 / 500)),
    ("kaiming_uniform-leaky", init.kaiming_uniform_, {"a": math.sqrt(5)}, "uniform", 0.0,
     leaky_gain(math.sqrt(5)) / math.sqrt(300)),
    ("kaiming_normal", init.kaiming_normal_, {}, "normal", 0.0, math.sqrt(2 / 300)),
    ("kaiming_normal-leaky", init.kaiming_normal_, {"a": 0.2}, "normal", 0.0,
     leaky_gain(0.2) / math.sqrt(300)),
    ("kaiming_normal-tanh-fan_out", init.kaiming_normal_,
     {"mode": "fan_out", "nonlinearity": "tanh"}, "normal", 0.0, 5 / 3 / math.sqrt(500)),
    ("lecun_uniform", init.lecun_uniform_, {}, "uniform", 0.0, 1 / math.sqrt(300)),
    ("lecun_normal", init.lecun_normal_, {}, "normal", 0.0, 1 / math.sqrt(300)),
    ("orthogonal", init.orthogonal_, {}, "orthogonal", 0.0, 1 / math.sqrt(500)),
    ("orthogonal-gain", init.orthogonal_, {"gain": 3.0}, "orthogonal", 0.0,
     3 / math.sqrt(500)),
]
RANDOM_INITS = [init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_,
                init.kaiming_uniform_, init.kaiming_normal_, init.orthogonal_,
                init.lecun_uniform_, init.lecun_normal_]
ALL_INITS = [*RANDOM_INITS, init.zeros_, init.ones_, lambda t: init.constant_(t, 0.25)]


def check_distribution(values, distribution, mean, std):
    """Mean within 1% of std (~4 standard errors), std within 2% relative, and the
    shape: a uniform fills its whole interval, a normal has 68.3% within one std."""
    values = np.asarray(values, dtype=np.float64).ravel()
    assert abs(values.mean() - mean) < 0.01 * std, (values.mean(), mean)
    assert values.std() == pytest.approx(std, rel=0.02)
    centered = np.abs(values - mean)
    if distribution == "uniform":
        half_width = math.sqrt(3.0) * std
        assert centered.max() <= half_width * (1 + 1e-6)
        assert centered.max() > 0.999 * half_width
    elif distribution == "normal":
        assert np.mean(centered < std) == pytest.approx(0.6827, abs=0.01)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64], ids=lambda d: d.name)
@pytest.mark.parametrize("name, fn, kwargs, distribution, mean, std", CASES,
                         ids=[c[0] for c in CASES])
def test_distribution(name, fn, kwargs, distribution, mean, std, dtype):
    w = tg.empty(ROWS, COLS, dtype=dtype)
    out = fn(w, **kwargs)
    assert out is w and w.dtype == dtype and w.shape == (ROWS, COLS)
    check_distribution(w.numpy(), distribution, mean, std)


def test_conv_weight_uses_the_receptive_field():
    w = tg.empty(128, 32, 3, 3)  # fan_in = 32·9 = 288, fan_out = 128·9 = 1152
    init.kaiming_normal_(w, nonlinearity="relu")
    check_distribution(w.numpy(), "normal", 0.0, math.sqrt(2 / 288))
    init.xavier_uniform_(w)
    check_distribution(w.numpy(), "uniform", 0.0, math.sqrt(2 / (288 + 1152)))


def test_constant_zeros_ones():
    for dtype in (tg.float32, tg.float64, tg.int64):
        w = tg.empty(3, 4, dtype=dtype)
        assert init.constant_(w, 3) is w and w.dtype == dtype
        assert (w.numpy() == 3).all()
        assert init.zeros_(w) is w and (w.numpy() == 0).all()
        assert init.ones_(w) is w and (w.numpy() == 1).all()
    w = tg.empty(5, dtype=tg.float64)
    init.constant_(w, -0.125)
    assert w.tolist() == [-0.125] * 5


# --- in place, outside the graph ---------------------------------------------------


@pytest.mark.parametrize("fn", ALL_INITS)
def test_in_place_on_a_parameter_without_recording(fn):
    w = tg.zeros(6, 4, requires_grad=True)
    assert fn(w) is w
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    assert tg.is_grad_enabled()
    (w * 2).sum().backward()  # still an ordinary leaf
    np.testing.assert_array_equal(w.grad.numpy(), np.full((6, 4), 2.0, np.float32))


@pytest.mark.parametrize("fn", ALL_INITS)
def test_works_inside_no_grad(fn):
    w = tg.zeros(6, 4, requires_grad=True)
    with tg.no_grad():
        fn(w)
    assert w.requires_grad and w.is_leaf


# --- seeding -----------------------------------------------------------------------


@pytest.mark.parametrize("fn", RANDOM_INITS)
def test_repeatable_with_manual_seed(fn):
    def draw(seed, numpy_seed):
        tg.manual_seed(seed)
        np.random.seed(numpy_seed)  # NumPy's generator plays no part
        return fn(tg.empty(7, 5, dtype=tg.float64)).numpy()

    np.testing.assert_array_equal(draw(11, 0), draw(11, 1))
    assert not np.array_equal(draw(11, 0), draw(12, 0))
    w = tg.empty(7, 5, dtype=tg.float64)
    assert not np.array_equal(fn(w).numpy().copy(), fn(w).numpy())  # the stream moves on


# --- orthogonal --------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (1, 6), (6, 1), (4, 2, 3),
                                   (10, 2, 2), (64, 64)])
@pytest.mark.parametrize("dtype, tol", [(tg.float64, 1e-12), (tg.float32, 2e-6)],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("gain", [1.0, 0.5, 2.0])
def test_orthogonal(shape, dtype, tol, gain):
    w = init.orthogonal_(tg.empty(shape, dtype=dtype), gain=gain)
    assert w.shape == shape and w.dtype == dtype
    m = w.numpy().astype(np.float64).reshape(shape[0], -1) / gain
    rows, cols = m.shape
    gram = m @ m.T if rows < cols else m.T @ m
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=tol)


def test_orthogonal_on_a_parameter_and_empty():
    w = tg.zeros(4, 4, requires_grad=True)
    init.orthogonal_(w)
    assert w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.detach().numpy() @ w.detach().numpy().T, np.eye(4), atol=1e-6)
    assert init.orthogonal_(tg.empty(0, 3)).shape == (0, 3)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(tg.empty(4))


def test_orthogonal_is_not_biased_to_positive_diagonal():
    """The sign correction makes Q Haar-distributed; without it QR's convention leaves
    a bias (e.g. on the first entries); check the diagonal has both signs."""
    diagonals = [np.diag(init.orthogonal_(tg.empty(4, 4, dtype=tg.float64)).numpy())
                 for _ in range(200)]
    assert 0.35 < np.mean(np.array(diagonals) > 0) < 0.65


# --- zero-element tensors ----------------------------------------------------------


def test_zero_element_tensors():
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.warns(UserWarning, match="zero-element"):
            assert fn(tg.empty(0, 3)).shape == (0, 3)
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_,
               init.lecun_uniform_, init.lecun_normal_, init.zeros_):
        assert fn(tg.empty(0, 3)).shape == (0, 3)
        assert fn(tg.empty(3, 0)).shape == (3, 0)


# --- fans, gains and bad arguments --------------------------------------------------


@pytest.mark.parametrize("shape, fans", [((2, 3), (3, 2)), ((5, 1), (1, 5)),
                                         ((4, 3, 2), (6, 8)), ((16, 8, 3, 3), (72, 144)),
                                         ((2, 3, 4, 5, 6), (360, 240)), ((3, 0), (0, 3))])
def test_fans(shape, fans):
    assert init._calculate_fan_in_and_fan_out(tg.empty(shape)) == fans


def test_gains():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(leaky_gain(0.01))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(leaky_gain(0.2))
    assert init.calculate_gain("selu") == 0.75


@pytest.mark.parametrize("call, match", [
    (lambda: init.calculate_gain("softmax"), "Unsupported nonlinearity softmax"),
    (lambda: init.calculate_gain("leaky_relu", True), "negative_slope"),
    (lambda: init.calculate_gain("leaky_relu", "0.1"), "negative_slope"),
    (lambda: init.kaiming_uniform_(tg.empty(3, 4), nonlinearity="gelu"), "gelu"),
    (lambda: init.kaiming_normal_(tg.empty(3, 4), mode="fan_avg"), "Mode fan_avg"),
    (lambda: init.kaiming_uniform_(tg.empty(3, 4), mode=None), "Mode None"),
    (lambda: init.xavier_uniform_(tg.empty(5)), "fewer than 2 dimensions"),
    (lambda: init.xavier_normal_(tg.tensor(1.0)), "fewer than 2 dimensions"),
    (lambda: init.kaiming_normal_(tg.empty(5)), "fewer than 2 dimensions"),
    (lambda: init.lecun_uniform_(tg.empty(5)), "fewer than 2 dimensions"),
    (lambda: init.lecun_normal_(tg.empty(5)), "fewer than 2 dimensions"),
    (lambda: init.normal_(tg.empty(5), generator=object()), "generator"),
], ids=["gain", "slope-bool", "slope-str", "nonlinearity", "mode", "mode-none", "xavier-1d",
        "xavier-0d", "kaiming-1d", "lecun-uniform-1d", "lecun-normal-1d", "generator"])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_mode_is_case_insensitive():
    w = tg.empty(ROWS, COLS)
    init.kaiming_normal_(w, mode="FAN_OUT", nonlinearity="relu")
    check_distribution(w.numpy(), "normal", 0.0, math.sqrt(2 / 500))


def test_random_init_needs_floating_point_and_a_tensor():
    with pytest.raises(RuntimeError, match="floating-point"):
        init.normal_(tg.zeros(3, 3, dtype=tg.int64))
    with pytest.raises(TypeError, match="ndarray"):
        init.uniform_(np.zeros((3, 3)))


# --- parity with PyTorch -----------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3), (5, 1), (1, 5), (4, 3, 2), (16, 8, 3, 3),
                                   (2, 3, 4, 5, 6), (3, 0), (0, 2), (7,), ()])
def test_fans_match_torch(torch, shape):
    try:
        expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)):
            init._calculate_fan_in_and_fan_out(tg.empty(shape))
    else:
        assert init._calculate_fan_in_and_fan_out(tg.empty(shape)) == expected
    for mode in ("fan_in", "fan_out", "Fan_In", "fan"):
        try:
            expected = torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)
        except ValueError as e:
            with pytest.raises(ValueError, match=str(e).replace("[", r"\[").replace("]", r"\]")):
                init._calculate_correct_fan(tg.empty(shape), mode)
        else:
            assert init._calculate_correct_fan(tg.empty(shape), mode) == expected


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None),
    ("leaky_relu", None), ("leaky_relu", 0), ("leaky_relu", 0.2), ("leaky_relu", 3),
    ("leaky_relu", math.sqrt(5)), ("leaky_relu", True), ("leaky_relu", "0.1"),
    ("softmax", None), ("gelu", None), ("Relu", None),
])
def test_gains_match_torch(torch, nonlinearity, param):
    try:
        expected = torch.nn.init.calculate_gain(nonlinearity, param)
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)):
            init.calculate_gain(nonlinearity, param)
    else:
        got = init.calculate_gain(nonlinearity, param)
        assert got == expected and type(got) is type(expected)


TORCH_CASES = [
    ("uniform_", {"a": -0.5, "b": 2.0}), ("normal_", {"mean": 0.5, "std": 2.0}),
    ("xavier_uniform_", {"gain": 1.5}), ("xavier_normal_", {}),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.1, "nonlinearity": "leaky_relu"}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "selu"}),
    ("orthogonal_", {"gain": 2.0}),
]


@pytest.mark.parametrize("shape", [(ROWS, COLS), (64, 16, 3, 3)])
@pytest.mark.parametrize("name, kwargs", TORCH_CASES,
                         ids=[f"{n}{k}" for n, k in TORCH_CASES])
def test_distribution_matches_torch(torch, name, kwargs, shape):
    torch.manual_seed(0)
    theirs = getattr(torch.nn.init, name)(torch.empty(shape, dtype=torch.float64), **kwargs)
    ours = getattr(init, name)(tg.empty(shape, dtype=tg.float64), **kwargs)
    a, b = ours.numpy(), theirs.numpy()
    scale = b.std()
    assert abs(a.mean() - b.mean()) < 0.03 * scale
    assert a.std() == pytest.approx(scale, rel=0.03)
    if "uniform" in name:  # the same interval
        assert a.min() == pytest.approx(b.min(), rel=2e-3)
        assert a.max() == pytest.approx(b.max(), rel=2e-3)
