"""tg.optim's first-order optimizers (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW).

* trajectories of a small MLP (5-8-3, tanh; MSE or cross-entropy) equal PyTorch's
  (float64 to 1e-10 relative, float32 close), with the same state buffers;
* the fused C++ kernels equal the plain reference implementation (``fused=False``),
  also on tensors large enough to use threads, with 1 and 2 threads;
* param groups, add_param_group, zero_grad, step(closure), params without grad;
* state dicts: PyTorch's structure and names, and an exact resume through tg.save/tg.load;
* bad hyperparameters raise ValueError naming them, as PyTorch's do.

Expected values come from PyTorch (the ``torch`` fixture skips without it), from hand
computation, or (fused kernels) from the reference implementation; never from the code
under test itself.
"""

import math

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.nn.functional as F
from tapegrad.serialization import load, save

# --- the problem: a 5-8-3 tanh MLP on 16 samples ------------------------------------------

SHAPES = [(8, 5), (8,), (3, 8), (3,)]
STEPS = 40


def _problem():
    rng = np.random.default_rng(20240611)
    weights = [rng.standard_normal(s) * 0.5 for s in SHAPES]
    x = rng.standard_normal((16, 5))
    y = rng.standard_normal((16, 3))
    classes = rng.integers(0, 3, size=16)
    return weights, x, y, classes


W0, X, Y, LABELS = _problem()


@pytest.fixture
def torch(torch):
    """conftest's ``torch``, on one thread: these tensors are tiny, and PyTorch's
    thread pool only slows them down (a lot, when other processes hold the cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


NP_DTYPES = {"float64": np.float64, "float32": np.float32}


def _forward(lib, fn, ps, x):
    h = lib.tanh(fn.linear(x, ps[0], ps[1]))
    return fn.linear(h, ps[2], ps[3])


def make_loss_fn(lib, dtype, loss, sign=1.0):
    """``loss_fn(params) -> scalar`` for tapegrad (``lib is tg``) or PyTorch."""
    fn = F if lib is tg else lib.nn.functional
    x = lib.tensor(X.astype(NP_DTYPES[dtype]))
    y = lib.tensor(Y.astype(NP_DTYPES[dtype]))
    c = lib.tensor(LABELS)

    def loss_fn(ps):
        out = _forward(lib, fn, ps, x)
        value = fn.cross_entropy(out, c) if loss == "ce" else fn.mse_loss(out, y)
        return value * sign

    return loss_fn


def make_params(lib, dtype, weights=W0):
    return [lib.tensor(np.array(w, dtype=NP_DTYPES[dtype]), requires_grad=True)
            for w in weights]


def numpy_of(t):
    return t.detach().numpy().copy()


def build(lib, cls, kw, params, groups=None, fused=None):
    """An optimizer of class ``cls`` on ``params`` (``groups`` maps the parameter list to
    a list of group dicts); ``fused`` only for tapegrad."""
    spec = groups(params) if groups is not None else params
    extra = {} if fused is None else {"fused": fused}
    return getattr(lib.optim, cls)(spec, **kw, **extra)


def train(lib, opt, params, loss_fn, steps, drop_grad=()):
    """``steps`` optimizer steps; the parameters after each step (a list of lists)."""
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(params).backward()
        for i in drop_grad:
            params[i].grad = None
        opt.step()
        traj.append([numpy_of(p) for p in params])
    return traj


def run(lib, cls, kw, *, dtype="float64", loss="mse", steps=STEPS, fused=None, groups=None,
        sign=1.0):
    params = make_params(lib, dtype)
    opt = build(lib, cls, kw, params, groups, fused)
    traj = train(lib, opt, params, make_loss_fn(lib, dtype, loss, sign), steps)
    return traj, opt, params


def assert_trajectories_close(actual, expected, rtol, atol, what=""):
    assert len(actual) == len(expected)
    for k, (a_step, e_step) in enumerate(zip(actual, expected)):
        for i, (a, e) in enumerate(zip(a_step, e_step)):
            scale = max(1.0, float(np.abs(e).max()))
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol * scale,
                                       err_msg=f"{what} step {k + 1}, param {i}")


def assert_trajectories_equal(actual, expected, what=""):
    for k, (a_step, e_step) in enumerate(zip(actual, expected)):
        for i, (a, e) in enumerate(zip(a_step, e_step)):
            np.testing.assert_array_equal(a, e, err_msg=f"{what} step {k + 1}, param {i}")


# Each optimizer with each option, alone and combined. ``sign=-1`` for maximize: the
# optimizer maximizes −loss, so the run stays a (stable) descent.
CONFIGS = [
    ("SGD", dict(lr=0.1), 1),
    ("SGD", dict(lr=0.1, momentum=0.9), 1),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3), 1),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), 1),
    ("SGD", dict(lr=0.1, weight_decay=0.05), 1),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.1, weight_decay=0.05), 1),
    ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.02, maximize=True), -1),
    ("SGD", dict(lr=0.1, maximize=True), -1),
    ("Adagrad", dict(lr=0.1), 1),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05), 1),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1), 1),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.3), 1),
    ("Adagrad", dict(lr=0.1, lr_decay=0.02, weight_decay=0.05, initial_accumulator_value=0.1,
                     eps=1e-6, maximize=True), -1),
    ("RMSprop", dict(lr=0.01), 1),
    ("RMSprop", dict(lr=0.01, alpha=0.9), 1),
    ("RMSprop", dict(lr=0.01, momentum=0.8), 1),
    ("RMSprop", dict(lr=0.01, centered=True), 1),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1), 1),
    ("RMSprop", dict(lr=0.01, alpha=0.3, eps=1e-2, centered=True), 1),  # lerp, other branch
    ("RMSprop", dict(lr=0.01, alpha=0.95, eps=1e-6, centered=True, momentum=0.5,
                     weight_decay=0.1, maximize=True), -1),
    ("Adadelta", dict(), 1),
    ("Adadelta", dict(rho=0.5), 1),
    ("Adadelta", dict(lr=0.5), 1),
    ("Adadelta", dict(weight_decay=0.1), 1),
    ("Adadelta", dict(lr=2.0, rho=0.8, eps=1e-5, weight_decay=0.05, maximize=True), -1),
    ("Adam", dict(lr=0.01), 1),
    ("Adam", dict(lr=0.01, amsgrad=True), 1),
    ("Adam", dict(lr=0.01, weight_decay=0.1), 1),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True,
                  maximize=True), -1),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.6)), 1),  # 1−β₁ ≥ 0.5: the other branch of lerp
    ("AdamW", dict(lr=0.01), 1),
    ("AdamW", dict(lr=0.01, amsgrad=True), 1),
    ("AdamW", dict(lr=0.01, weight_decay=0.3), 1),
    ("AdamW", dict(lr=0.02, betas=(0.85, 0.98), eps=1e-7, weight_decay=0.3, amsgrad=True,
                   maximize=True), -1),
]


def _config_id(cls, kw):
    opts = "-".join(f"{k}={v}" for k, v in kw.items()).replace(" ", "")
    return f"{cls}-{opts}" if opts else cls


CONFIG_PARAMS = [pytest.param(cls, kw, sign, id=_config_id(cls, kw)) for cls, kw, sign in CONFIGS]
CLASSES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"]
# one rich option set per class (every buffer in use)
RICH = {
    "SGD": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1),
    "RMSprop": dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.05),
    "Adadelta": dict(lr=0.8, rho=0.85, weight_decay=0.05),
    "Adam": dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05, amsgrad=True),
    "AdamW": dict(lr=0.01, weight_decay=0.2, amsgrad=True),
}
# PyTorch's group keys that choose an implementation rather than the numbers
IMPLEMENTATION_KEYS = {"foreach", "fused", "differentiable", "capturable",
                       "decoupled_weight_decay"}


# --- trajectories against PyTorch --------------------------------------------------------

def _check_states_match(opt, t_opt, params, t_params, rtol, atol):
    """Same state names per parameter, and the same values."""
    for p, tp in zip(params, t_params):
        state, t_state = opt.state[p], t_opt.state[tp]
        assert sorted(state) == sorted(t_state)
        for name, t_value in t_state.items():
            value = state[name]
            if name == "step":
                assert value.dtype == tg.float32 and value.shape == ()
                assert value.item() == t_value.item()
            else:
                assert value.dtype == p.dtype and value.shape == p.shape, name
                expected = t_value.detach().numpy()
                scale = max(1.0, float(np.abs(expected).max()))
                np.testing.assert_allclose(numpy_of(value), expected, rtol=rtol,
                                           atol=atol * scale, err_msg=name)


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("cls,kw,sign", CONFIG_PARAMS)
def test_trajectory_matches_torch_float64(torch, cls, kw, sign, loss):
    expected, t_opt, t_params = run(torch, cls, kw, loss=loss, sign=sign)
    for fused in (True, False):
        actual, opt, params = run(tg, cls, kw, loss=loss, sign=sign, fused=fused)
        assert_trajectories_close(actual, expected, rtol=1e-10, atol=1e-12,
                                  what=f"fused={fused}")
        _check_states_match(opt, t_opt, params, t_params, rtol=1e-10, atol=1e-12)
    moved = max(np.abs(a - w).max() for a, w in zip(expected[-1], W0))
    assert moved > 1e-3  # the run is not trivial


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("cls,kw,sign", CONFIG_PARAMS)
def test_trajectory_matches_torch_float32(torch, cls, kw, sign, loss):
    expected, t_opt, t_params = run(torch, cls, kw, dtype="float32", loss=loss, sign=sign)
    actual, opt, params = run(tg, cls, kw, dtype="float32", loss=loss, sign=sign)
    for step in actual:
        assert all(a.dtype == np.float32 for a in step)
    assert_trajectories_close(actual, expected, rtol=1e-4, atol=2e-5)
    _check_states_match(opt, t_opt, params, t_params, rtol=1e-3, atol=2e-5)


# --- fused kernels against the reference implementation ------------------------------------

@pytest.mark.parametrize("cls,kw,sign", CONFIG_PARAMS)
def test_fused_matches_reference_on_the_mlp(cls, kw, sign):
    loss = "ce"
    for dtype, rtol, atol in [("float64", 1e-12, 1e-13), ("float32", 1e-4, 1e-5)]:
        expected, ref_opt, ref_params = run(tg, cls, kw, dtype=dtype, loss=loss, sign=sign,
                                            fused=False)
        actual, opt, params = run(tg, cls, kw, dtype=dtype, loss=loss, sign=sign, fused=True)
        assert_trajectories_close(actual, expected, rtol=rtol, atol=atol, what=dtype)
        for p, rp in zip(params, ref_params):
            assert sorted(opt.state[p]) == sorted(ref_opt.state[rp])


def gradient_sequence(shapes, steps, seed=7):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]


def run_on_gradients(cls, kw, dtype, fused, grads, weights=W0):
    """Steps driven by a fixed gradient sequence (no feedback through a model), so the
    fused and reference runs see identical inputs at every step."""
    params = make_params(tg, dtype, weights)
    opt = build(tg, cls, kw, params, fused=fused)
    out = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = tg.tensor(g.astype(NP_DTYPES[dtype]))
        opt.step()
        out.append([numpy_of(p) for p in params])
    return out, opt, params


@pytest.mark.parametrize("cls,kw,sign", CONFIG_PARAMS)
def test_fused_matches_reference_on_fixed_gradients(cls, kw, sign):
    grads = gradient_sequence(SHAPES, 10)
    for dtype, tol in [("float64", 1e-14), ("float32", 1e-6)]:
        expected, _, _ = run_on_gradients(cls, kw, dtype, False, grads)
        actual, _, _ = run_on_gradients(cls, kw, dtype, True, grads)
        for a_step, e_step in zip(actual, expected):
            for a, e in zip(a_step, e_step):
                np.testing.assert_allclose(a, e, rtol=tol, atol=tol, err_msg=dtype)


LARGE = (1 << 20) + 3  # the kernels split loops of at least 2^20 elements between threads


@pytest.mark.parametrize("cls", CLASSES)
def test_large_tensors_threads_and_reference_agree(cls):
    """About 1M elements (split between threads): 1 and 2 threads give identical
    results, equal to the reference implementation. The updates are elementwise, so
    the reference runs on a sample of the elements: both ends, the boundary between
    the two threads' chunks, and random ones."""
    rng = np.random.default_rng(3)
    weights = [rng.standard_normal(LARGE)]
    grads = gradient_sequence([(LARGE,)], 2, seed=11)
    half = (LARGE + 1) // 2
    sample = np.unique(np.concatenate([np.arange(64), np.arange(half - 64, half + 64),
                                       np.arange(LARGE - 64, LARGE),
                                       rng.integers(0, LARGE, 2000)]))
    sample_grads = [[g[sample] for g in step] for step in grads]
    threads = tg.get_num_threads()
    for dtype, rtol in [("float64", 1e-13), ("float32", 1e-6)]:
        kw = dict(RICH[cls])
        if dtype == "float32" and cls == "RMSprop":
            # centered RMSprop's v − ḡ² cancels badly in float32 for random gradients
            kw["centered"] = False
        results = []
        try:
            for n in (1, 2):
                tg.set_num_threads(n)
                results.append(run_on_gradients(cls, kw, dtype, True, grads, weights)[0])
        finally:
            tg.set_num_threads(threads)
        assert_trajectories_equal(results[1], results[0], what=f"{dtype} 1 vs 2 threads")
        expected, _, _ = run_on_gradients(cls, kw, dtype, False, sample_grads,
                                          [weights[0][sample]])
        for a_step, e_step in zip(results[0], expected):
            np.testing.assert_allclose(a_step[0][sample], e_step[0], rtol=rtol, atol=rtol,
                                       err_msg=dtype)


# --- param groups, add_param_group, params without grad ----------------------------------

GROUP_OPTIONS = {
    "SGD": ({"momentum": 0.9}, {"lr": 0.02, "momentum": 0.5, "dampening": 0.0, "nesterov": True,
                                "weight_decay": 0.1}),
    # (not initial_accumulator_value: PyTorch ignores a group's own value, see below)
    "Adagrad": ({"lr_decay": 0.1}, {"lr": 0.3, "weight_decay": 0.1, "eps": 1e-6}),
    "RMSprop": ({"centered": True}, {"lr": 0.003, "momentum": 0.7, "alpha": 0.8}),
    "Adadelta": ({"rho": 0.7}, {"lr": 0.3, "weight_decay": 0.1}),
    "Adam": ({"amsgrad": True}, {"lr": 0.03, "betas": (0.7, 0.95), "weight_decay": 0.1}),
    "AdamW": ({"weight_decay": 0.0}, {"lr": 0.03, "amsgrad": True, "eps": 1e-5}),
}


def two_groups(cls):
    first, second = GROUP_OPTIONS[cls]
    return lambda ps: [{"params": ps[:2], **first}, {"params": ps[2:], **second}]


@pytest.mark.parametrize("cls", CLASSES)
def test_param_groups_with_different_options_match_torch(torch, cls):
    kw = dict(lr=0.05)
    expected, t_opt, t_params = run(torch, cls, kw, groups=two_groups(cls))
    for fused in (True, False):
        actual, opt, params = run(tg, cls, kw, groups=two_groups(cls), fused=fused)
        assert_trajectories_close(actual, expected, rtol=1e-10, atol=1e-12)
        _check_states_match(opt, t_opt, params, t_params, rtol=1e-10, atol=1e-12)
        for g, tgroup in zip(opt.param_groups, t_opt.param_groups):
            for key in g:
                if key != "params":
                    assert g[key] == tgroup[key], key


@pytest.mark.parametrize("cls", CLASSES)
def test_add_param_group_matches_torch(torch, cls):
    trajectories = []
    for lib in (torch, tg):
        params = make_params(lib, "float64")
        loss_fn = make_loss_fn(lib, "float64", "ce")
        opt = build(lib, cls, dict(lr=0.05), params[:2])
        traj = train(lib, opt, params, loss_fn, 5)
        for step in traj:  # not yet optimized: unchanged despite their gradients
            for a, w in zip(step[2:], W0[2:]):
                np.testing.assert_array_equal(a, w)
        opt.add_param_group({"params": params[2:], **GROUP_OPTIONS[cls][1]})
        assert len(opt.param_groups) == 2
        traj += train(lib, opt, params, loss_fn, 10)
        trajectories.append(traj)
    assert_trajectories_close(trajectories[1], trajectories[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", CLASSES)
def test_params_without_grad_are_skipped(torch, cls):
    results = []
    for lib in (torch, tg):
        params = make_params(lib, "float64")
        opt = build(lib, cls, RICH[cls], params)
        traj = train(lib, opt, params, make_loss_fn(lib, "float64", "mse"), 10, drop_grad=(1,))
        results.append((traj, opt, params))
    (expected, t_opt, t_params), (actual, opt, params) = results
    assert_trajectories_close(actual, expected, rtol=1e-10, atol=1e-12)
    for step in actual:
        np.testing.assert_array_equal(step[1], W0[1])
    assert params[1] not in opt.state or not opt.state[params[1]]
    if cls != "Adagrad":  # PyTorch's Adagrad creates every parameter's state up front
        assert sorted(opt.state_dict()["state"]) == sorted(t_opt.state_dict()["state"])


def test_params_without_grad_skipped_without_torch():
    """Hand computation: plain SGD moves only the parameter that has a gradient."""
    a = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = tg.tensor(np.array([3.0]), requires_grad=True)
    opt = tg.optim.SGD([a, b], lr=0.25, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (a * a).sum().backward()
        opt.step()
    # b1 = g1 = 2a0, a1 = a0 − 0.25·b1 = a0/2; b2 = 0.5·b1 + 2a1 = 2a0, a2 = a1 − 0.25·b2 = 0
    np.testing.assert_allclose(a.detach().numpy(), [0.0, 0.0], atol=1e-15)
    np.testing.assert_array_equal(b.detach().numpy(), [3.0])
    assert b.grad is None
    assert list(opt.state_dict()["state"]) == [0]


def test_adagrad_uses_each_groups_initial_accumulator_value():
    """tapegrad honours a group's own initial_accumulator_value (PyTorch's Adagrad fills
    every sum with the constructor's value instead): hand computation, one step."""
    a = tg.tensor(np.array([1.0]), requires_grad=True)
    b = tg.tensor(np.array([1.0]), requires_grad=True)
    opt = tg.optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 3.0}],
                           lr=1.0, initial_accumulator_value=0.0, eps=0.0)
    a.grad = tg.tensor(np.array([1.0]))
    b.grad = tg.tensor(np.array([1.0]))
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [1.0 - 1.0], atol=1e-15)
    np.testing.assert_allclose(b.detach().numpy(), [1.0 - 1.0 / 2.0], rtol=1e-15)
    np.testing.assert_array_equal(opt.state[b]["sum"].numpy(), [4.0])


def test_mixed_dtypes_in_one_group_match_torch(torch):
    results = []
    for lib, dt in [(torch, torch), (tg, tg)]:
        a = lib.tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
        b = lib.tensor(np.array(0.5), requires_grad=True)  # float64, 0-d
        opt = lib.optim.Adam([a, b], lr=0.1, amsgrad=True)
        for _ in range(5):
            opt.zero_grad()
            (a * a * a).sum().backward()
            (b * b * b).backward()
            opt.step()
        results.append((numpy_of(a), numpy_of(b)))
        assert a.dtype == dt.float32 and b.dtype == dt.float64
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)


def test_training_an_nn_module_matches_torch(torch):
    """The same MLP as tg.nn / torch.nn modules: Parameters from model.parameters()."""
    results = []
    for lib in (torch, tg):
        model = lib.nn.Sequential(lib.nn.Linear(5, 8, dtype=lib.float64), lib.nn.Tanh(),
                                  lib.nn.Linear(8, 3, dtype=lib.float64))
        params = list(model.parameters())
        with lib.no_grad():
            for p, w in zip(params, W0):
                p.copy_(lib.tensor(w))
        opt = lib.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.01)
        x, c = lib.tensor(X), lib.tensor(LABELS)
        loss_fn = lib.nn.CrossEntropyLoss()
        for _ in range(STEPS):
            opt.zero_grad()
            loss_fn(model(x), c).backward()
            opt.step()
        results.append([numpy_of(p) for p in params])
    assert_trajectories_close([results[1]], [results[0]], rtol=1e-10, atol=1e-12)


# --- hand-computed steps (no torch) ------------------------------------------------------------

def one_step(cls, kw, p0, g, steps=1):
    p = tg.tensor(np.array(p0), requires_grad=True)
    opt = getattr(tg.optim, cls)([p], **kw)
    out = []
    for _ in range(steps):
        p.grad = tg.tensor(np.array(g))
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def test_hand_computed_steps():
    p0, g = [1.0, -2.0], [0.5, 4.0]
    p, gv = np.array(p0), np.array(g)
    # SGD with momentum 0.9, dampening 0.5, weight decay 0.1: b1 = d1, b2 = 0.9 b1 + 0.5 d2
    out = one_step("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1), p0, g, 2)
    d1 = gv + 0.1 * p
    p1 = p - 0.1 * d1
    d2 = gv + 0.1 * p1
    p2 = p1 - 0.1 * (0.9 * d1 + 0.5 * d2)
    np.testing.assert_allclose(out[0], p1, rtol=1e-15)
    np.testing.assert_allclose(out[1], p2, rtol=1e-15)
    # Adam's first step moves every coordinate by lr (times the sign of the gradient)
    out = one_step("Adam", dict(lr=0.01, eps=0.0), p0, g)
    np.testing.assert_allclose(out[0], p - 0.01 * np.sign(gv), rtol=1e-14)
    # AdamW: decoupled decay first, then the same Adam step
    out = one_step("AdamW", dict(lr=0.01, eps=0.0, weight_decay=0.5), p0, g)
    np.testing.assert_allclose(out[0], p * (1 - 0.005) - 0.01 * np.sign(gv), rtol=1e-14)
    # Adagrad: s = 0.2 + g², step lr·g/(√s + eps), then lr/(1 + lr_decay) at step 2
    out = one_step("Adagrad", dict(lr=0.5, lr_decay=0.25, initial_accumulator_value=0.2,
                                   eps=0.0), p0, g, 2)
    s1 = 0.2 + gv ** 2
    p1 = p - 0.5 * gv / np.sqrt(s1)
    s2 = s1 + gv ** 2
    np.testing.assert_allclose(out[0], p1, rtol=1e-15)
    np.testing.assert_allclose(out[1], p1 - 0.5 / 1.25 * gv / np.sqrt(s2), rtol=1e-15)
    # RMSprop centered: v = (1−α)g², ḡ = (1−α)g, p −= lr·g/(√(v − ḡ²) + eps)
    out = one_step("RMSprop", dict(lr=0.01, alpha=0.75, centered=True, eps=1e-3), p0, g)
    v, gbar = 0.25 * gv ** 2, 0.25 * gv
    np.testing.assert_allclose(out[0], p - 0.01 * gv / (np.sqrt(v - gbar ** 2) + 1e-3),
                               rtol=1e-15)
    # Adadelta: v = (1−ρ)g², Δ = √eps/√(v + eps)·g, p −= lr·Δ
    out = one_step("Adadelta", dict(lr=2.0, rho=0.5, eps=1e-2), p0, g)
    delta = math.sqrt(1e-2) / np.sqrt(0.5 * gv ** 2 + 1e-2) * gv
    np.testing.assert_allclose(out[0], p - 2.0 * delta, rtol=1e-15)


# --- state dicts ----------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kw,sign", CONFIG_PARAMS)
def test_state_dict_structure_matches_torch(torch, cls, kw, sign):
    groups = two_groups(cls)
    _, t_opt, _ = run(torch, cls, kw, steps=3, groups=groups, sign=sign)
    _, opt, _ = run(tg, cls, kw, steps=3, groups=groups, sign=sign)
    expected, actual = t_opt.state_dict(), opt.state_dict()
    assert sorted(actual) == ["param_groups", "state"]
    assert list(actual["state"]) == list(expected["state"]) == [0, 1, 2, 3]
    for i, t_state in expected["state"].items():
        state = actual["state"][i]
        assert sorted(state) == sorted(t_state)
        for name, value in state.items():
            assert isinstance(value, tg.Tensor), name
            assert value.shape == tuple(t_state[name].shape), name
        if "step" in state:
            assert state["step"].dtype == tg.float32 and state["step"].item() == 3
    assert len(actual["param_groups"]) == len(expected["param_groups"]) == 2
    for g, tgroup in zip(actual["param_groups"], expected["param_groups"]):
        assert g["params"] == tgroup["params"]
        assert set(g) == set(tgroup) - IMPLEMENTATION_KEYS
        for key in g:
            assert g[key] == tgroup[key], key


@pytest.mark.parametrize("cls", CLASSES)
def test_defaults_match_torch(torch, cls):
    t_opt = getattr(torch.optim, cls)([torch.zeros(2, requires_grad=True)])
    opt = getattr(tg.optim, cls)([tg.zeros(2, requires_grad=True)])
    (t_group,), (group,) = t_opt.param_groups, opt.param_groups
    assert set(group) == set(t_group) - IMPLEMENTATION_KEYS
    for key in group:
        if key != "params":
            assert group[key] == t_group[key], key


STATE_NAMES = {
    "SGD": {"momentum_buffer"},
    "Adagrad": {"step", "sum"},
    "RMSprop": {"step", "square_avg", "momentum_buffer", "grad_avg"},
    "Adadelta": {"step", "square_avg", "acc_delta"},
    "Adam": {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    "AdamW": {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
}


@pytest.mark.parametrize("cls", CLASSES)
def test_state_names(cls):
    """PyTorch's names (written out here, so this runs without torch)."""
    _, opt, params = run(tg, cls, RICH[cls], steps=2)
    for p in params:
        assert set(opt.state[p]) == STATE_NAMES[cls]
    _, opt, params = run(tg, cls, dict(lr=0.01), steps=2)
    minimal = {"SGD": set(), "RMSprop": {"step", "square_avg"},
               "Adam": {"step", "exp_avg", "exp_avg_sq"},
               "AdamW": {"step", "exp_avg", "exp_avg_sq"}}.get(cls, STATE_NAMES[cls])
    for p in params:
        assert set(opt.state[p]) == minimal


RESUME_CASES = [pytest.param(cls, kw, sign, fused, id=f"{_config_id(cls, kw)}-fused={fused}")
                for cls, kw, sign in [(c, RICH[c], 1) for c in CLASSES]
                + [("SGD", dict(lr=0.1, maximize=True, momentum=0.3), -1),
                   ("Adam", dict(lr=0.01), 1), ("RMSprop", dict(lr=0.01), 1)]
                for fused in (True, False)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cls,kw,sign,fused", RESUME_CASES)
def test_state_dict_resume_is_exact(tmp_path, cls, kw, sign, fused, dtype):
    """20 steps, state_dict → tg.save → tg.load → a new optimizer (built with other
    hyperparameters, which loading must restore) on copied params → 20 more steps:
    bit for bit the 40 uninterrupted steps."""
    groups = two_groups(cls)
    loss_fn = make_loss_fn(tg, dtype, "ce", sign)
    expected, ref_opt, ref_params = run(tg, cls, kw, dtype=dtype, loss="ce", sign=sign,
                                        fused=fused, groups=groups)

    params = make_params(tg, dtype)
    opt = build(tg, cls, kw, params, groups, fused)
    first = train(tg, opt, params, loss_fn, 20)
    save(opt.state_dict(), tmp_path / "opt.tg")
    copies = [tg.tensor(numpy_of(p), requires_grad=True) for p in params]
    del opt, params

    other = dict(kw, lr=kw.get("lr", 1.0) * 7)
    opt = build(tg, cls, other, copies, groups, fused)
    opt.load_state_dict(load(tmp_path / "opt.tg"))
    for g, ref_g in zip(opt.param_groups, ref_opt.param_groups):
        assert {k: v for k, v in g.items() if k != "params"} == \
               {k: v for k, v in ref_g.items() if k != "params"}
    second = train(tg, opt, copies, loss_fn, 20)
    assert_trajectories_equal(first + second, expected)
    for p, rp in zip(copies, ref_params):
        assert sorted(opt.state[p]) == sorted(ref_opt.state[rp])
        for name, value in opt.state[p].items():
            np.testing.assert_array_equal(numpy_of(value), numpy_of(ref_opt.state[rp][name]),
                                          err_msg=name)


def test_load_state_dict_rejects_a_mismatched_state_dict():
    params = make_params(tg, "float64")
    opt = tg.optim.Adam([{"params": params[:2]}, {"params": params[2:]}])
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict(tg.optim.Adam(params).state_dict())
    other = tg.optim.Adam([{"params": params[:1]}, {"params": params[1:]}])
    with pytest.raises(ValueError, match="size"):
        opt.load_state_dict(other.state_dict())


def test_state_dict_params_are_indices_in_order():
    params = make_params(tg, "float64")
    opt = tg.optim.SGD([{"params": [params[2], params[0]]}, {"params": [params[3]]}], lr=0.1)
    opt.add_param_group({"params": [params[1]], "lr": 0.5})
    groups = opt.state_dict()["param_groups"]
    assert [g["params"] for g in groups] == [[0, 1], [2], [3]]
    assert [g["lr"] for g in groups] == [0.1, 0.1, 0.5]


# --- zero_grad, closures ----------------------------------------------------------------------

def test_zero_grad_set_to_none():
    params = make_params(tg, "float64")
    opt = tg.optim.SGD(params, lr=0.1)
    make_loss_fn(tg, "float64", "mse")(params).backward()
    assert all(p.grad is not None for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    opt.zero_grad()  # no gradients: nothing to do
    assert all(p.grad is None for p in params)


def test_zero_grad_to_zeros_then_accumulates_afresh():
    params = make_params(tg, "float64")
    opt = tg.optim.SGD(params, lr=0.1)
    loss_fn = make_loss_fn(tg, "float64", "mse")
    loss_fn(params).backward()
    first = [p.grad.numpy().copy() for p in params]
    opt.zero_grad(set_to_none=False)
    for p, s in zip(params, SHAPES):
        assert p.grad is not None
        assert p.grad.shape == s
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(s))
    loss_fn(params).backward()
    for p, g in zip(params, first):
        np.testing.assert_array_equal(p.grad.numpy(), g)


@pytest.mark.parametrize("cls", CLASSES)
def test_step_with_closure_returns_its_loss(cls):
    loss_fn = make_loss_fn(tg, "float64", "ce")
    expected, _, _ = run(tg, cls, RICH[cls], loss="ce", steps=3)
    params = make_params(tg, "float64")
    opt = build(tg, cls, RICH[cls], params)
    calls = []

    def closure():
        opt.zero_grad()
        loss = loss_fn(params)
        loss.backward()
        calls.append(loss.item())
        return loss

    for k in range(3):
        with tg.no_grad():  # the closure runs with grad enabled all the same
            loss = opt.step(closure)
        assert len(calls) == k + 1
        assert isinstance(loss, tg.Tensor) and loss.item() == calls[-1]
        for a, e in zip(params, expected[k]):
            np.testing.assert_array_equal(numpy_of(a), e)
    assert opt.step() is None


def test_closure_loss_matches_torch(torch):
    losses = []
    for lib in (torch, tg):
        params = make_params(lib, "float64")
        opt = build(lib, "SGD", dict(lr=0.1, momentum=0.9), params)
        loss_fn = make_loss_fn(lib, "float64", "mse")

        def closure(opt=opt, params=params, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn(params)
            loss.backward()
            return loss

        losses.append([opt.step(closure).item() for _ in range(5)])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-13)


# --- bad arguments ----------------------------------------------------------------------------

def _p():
    return [tg.zeros(3, dtype=tg.float64, requires_grad=True)]


# (class, keyword arguments, the name PyTorch's message uses); every one also fails in torch
BAD_HYPERPARAMETERS = [
    *[(cls, dict(lr=-0.1), "learning rate") for cls in CLASSES],
    *[(cls, dict(weight_decay=-0.1), "weight_decay") for cls in CLASSES],
    ("SGD", dict(lr=0.1, momentum=-0.5), "momentum"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    ("RMSprop", dict(momentum=-0.5), "momentum"),
    ("RMSprop", dict(alpha=-0.5), "alpha"),
    *[(cls, dict(eps=-1e-8), "epsilon") for cls in ["Adagrad", "RMSprop", "Adadelta",
                                                   "Adam", "AdamW"]],
    ("Adagrad", dict(lr_decay=-0.1), "lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    ("Adadelta", dict(rho=1.5), "rho"),
    ("Adadelta", dict(rho=-0.1), "rho"),
    *[(cls, dict(betas=betas), "beta") for cls in ["Adam", "AdamW"]
      for betas in [(1.0, 0.999), (-0.1, 0.999), (0.9, 1.0), (0.9, -0.5)]],
    ("Adam", dict(lr=float("nan")), "learning rate"),
]
BAD_IDS = [f"{cls}-{_config_id('', kw)[1:]}" for cls, kw, _ in BAD_HYPERPARAMETERS]


@pytest.mark.parametrize("cls,kw,name", BAD_HYPERPARAMETERS, ids=BAD_IDS)
def test_bad_hyperparameters_raise_value_error(cls, kw, name):
    with pytest.raises(ValueError, match=name):
        getattr(tg.optim, cls)(_p(), **kw)


@pytest.mark.parametrize("cls,kw,name", BAD_HYPERPARAMETERS, ids=BAD_IDS)
def test_torch_rejects_the_same_hyperparameters(torch, cls, kw, name):
    """The list above is PyTorch's: each case fails there with the same name."""
    with pytest.raises(ValueError, match=name):
        getattr(torch.optim, cls)([torch.zeros(3, requires_grad=True)], **kw)


def test_bad_hyperparameters_in_a_param_group_are_caught():
    with pytest.raises(ValueError, match="learning rate"):
        tg.optim.SGD([{"params": _p(), "lr": -1.0}], lr=0.1)
    opt = tg.optim.Adam(_p())
    with pytest.raises(ValueError, match="beta"):
        opt.add_param_group({"params": _p(), "betas": (0.9, 1.5)})
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("cls", CLASSES)
def test_bad_parameter_lists(cls):
    make = getattr(tg.optim, cls)
    with pytest.raises(ValueError, match="empty parameter list"):
        make([])
    with pytest.raises(ValueError, match="empty parameter list"):
        make(iter([]))
    w = tg.zeros(3, dtype=tg.float64, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        make([w * 2])
    with pytest.raises(ValueError, match="more than one parameter group"):
        make([{"params": [w]}, {"params": [w]}])
    opt = make([w])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(ValueError, match="int64"):
        make([tg.zeros(3, dtype=tg.int64)])
    with pytest.raises(TypeError):
        make(w)  # a bare tensor, not an iterable of them
    with pytest.raises(TypeError):
        make([w, 1.0])


def test_a_set_of_params_in_a_group_is_rejected():
    """A set has no stable order, so state_dict's parameter indices would change from
    run to run; PyTorch raises TypeError for a group whose params are a set."""
    a = tg.zeros(2, requires_grad=True)
    b = tg.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match="ordered"):
        tg.optim.SGD([{"params": {a, b}}], lr=0.1)
    opt = tg.optim.SGD([a], lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        opt.add_param_group({"params": {b}})


def test_torch_rejects_the_same_parameter_lists(torch):
    w = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        torch.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        torch.optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        torch.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError):
        torch.optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        torch.optim.SGD([{"params": {w}}], lr=0.1)
