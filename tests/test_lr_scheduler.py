"""tg.optim.lr_scheduler: PyTorch's learning-rate sequences, tapegrad's InverseTimeLR,
state dicts, argument checks, and schedulers driving real optimizer steps.

Expected values come from PyTorch (the ``torch`` fixture skips without it) or from the
closed-form formulas, never from tapegrad itself."""

import doctest
import math

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.optim import lr_scheduler
from tapegrad.serialization import load, save

LRS = [0.1, 0.05, 0.3]  # one learning rate per parameter group


def tg_optimizer(lrs=LRS, cls="SGD", **kw):
    groups = [{"params": [tg.zeros(2, dtype=tg.float64, requires_grad=True)], "lr": lr}
              for lr in lrs]
    return getattr(tg.optim, cls)(groups, **kw)


def torch_optimizer(torch, lrs=LRS, cls="SGD", **kw):
    groups = [{"params": [torch.zeros(2, dtype=torch.float64, requires_grad=True)], "lr": lr}
              for lr in lrs]
    return getattr(torch.optim, cls)(groups, **kw)


def lr_sequence(opt, sched, n):
    """[get_last_lr()] at epochs 0..n, checking that the groups hold the same values."""
    seq = []
    for _ in range(n + 1):
        last = sched.get_last_lr()
        assert last == [g["lr"] for g in opt.param_groups]
        seq.append(last)
        opt.step()  # no gradients: a no-op, but PyTorch warns if it isn't called first
        sched.step()
    return np.array(seq)


def assert_seq_equal(actual, expected, rtol=1e-12):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-15)


class Scale:
    """A callable object: LambdaLR saves its attributes in the state dict."""

    def __init__(self, base):
        self.base = base

    def __call__(self, epoch):
        return self.base ** epoch


def decay_lambdas():
    return [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e), lambda e: (e // 3 + 1) * 0.5]


# (name, constructor arguments as a function of the library's scheduler module, steps)
CASES = [
    ("LambdaLR", lambda m: dict(lr_lambda=lambda e: 0.9 ** e), 25),
    ("LambdaLR", lambda m: dict(lr_lambda=decay_lambdas()), 25),
    ("LambdaLR", lambda m: dict(lr_lambda=Scale(0.8)), 25),
    ("StepLR", lambda m: dict(step_size=3), 25),
    ("StepLR", lambda m: dict(step_size=4, gamma=0.5), 25),
    ("StepLR", lambda m: dict(step_size=1, gamma=1.5), 12),
    ("ExponentialLR", lambda m: dict(gamma=0.9), 40),
    ("ExponentialLR", lambda m: dict(gamma=1.02), 40),
    ("CosineAnnealingLR", lambda m: dict(T_max=10), 3 * 10 + 3),
    ("CosineAnnealingLR", lambda m: dict(T_max=7, eta_min=0.01), 3 * 7 + 3),
    ("CosineAnnealingLR", lambda m: dict(T_max=1, eta_min=0.02), 3 * 1 + 3),
    ("CosineAnnealingLR", lambda m: dict(T_max=2), 3 * 2 + 3),
    ("CosineAnnealingLR", lambda m: dict(T_max=25, eta_min=0.001), 3 * 25),
]
CASE_IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("name,kwargs,steps", CASES, ids=CASE_IDS)
def test_sequence_matches_torch(torch, name, kwargs, steps):
    t_opt = torch_optimizer(torch)
    t_sched = getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs(torch))
    assert t_sched.last_epoch == 0
    expected = lr_sequence(t_opt, t_sched, steps)
    opt = tg_optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs(tg))
    assert sched.last_epoch == 0
    assert sched.base_lrs == t_sched.base_lrs == LRS
    assert [g["initial_lr"] for g in opt.param_groups] == LRS
    actual = lr_sequence(opt, sched, steps)
    assert sched.last_epoch == t_sched.last_epoch == steps + 1
    assert_seq_equal(actual, expected)


@pytest.mark.parametrize("T_max,eta_min", [(10, 0.0), (7, 0.01), (3, 0.05)])
def test_cosine_annealing_follows_the_cosine_through_restarts(T_max, eta_min):  # noqa: N803
    """Past T_max PyTorch's recursion keeps following the cosine, back up to
    initial_lr at 2·T_max and down again (hand formula, no torch needed)."""
    opt = tg_optimizer()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
    actual = lr_sequence(opt, sched, 3 * T_max + 2)
    k = np.arange(3 * T_max + 3)[:, None]
    expected = eta_min + (np.array(LRS) - eta_min) * (1 + np.cos(np.pi * k / T_max)) / 2
    assert_seq_equal(actual, expected, rtol=1e-10)
    np.testing.assert_allclose(actual[2 * T_max], LRS, rtol=1e-12)  # the restart
    np.testing.assert_allclose(actual[T_max], eta_min, atol=1e-15)


@pytest.mark.parametrize("name,kwargs,closed_form", [
    ("StepLR", dict(step_size=3, gamma=0.5), lambda lr, k: lr * 0.5 ** (k // 3)),
    ("ExponentialLR", dict(gamma=0.9), lambda lr, k: lr * 0.9 ** k),
    ("LambdaLR", dict(lr_lambda=lambda k: 1 / (k + 2)), lambda lr, k: lr / (k + 2)),
])
def test_chainable_sequences_match_closed_forms(name, kwargs, closed_form):
    opt = tg_optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    actual = lr_sequence(opt, sched, 30)
    expected = [[closed_form(lr, k) for lr in LRS] for k in range(31)]
    assert_seq_equal(actual, expected)


def test_lambda_lr_with_one_function_per_group():
    opt = tg_optimizer()
    sched = lr_scheduler.LambdaLR(opt, lr_lambda=decay_lambdas())
    actual = lr_sequence(opt, sched, 10)
    fns = decay_lambdas()
    expected = [[lr * f(k) for lr, f in zip(LRS, fns)] for k in range(11)]
    assert_seq_equal(actual, expected, rtol=0)


# --- InverseTimeLR ----------------------------------------------------------------------------

@pytest.mark.parametrize("gamma", [0.0, 0.1, 1.0, 3.5])
def test_inverse_time_lr_formula(gamma):
    opt = tg_optimizer()
    sched = lr_scheduler.InverseTimeLR(opt, gamma=gamma)
    actual = lr_sequence(opt, sched, 200)
    expected = [[lr / (1 + gamma * k) for lr in LRS] for k in range(201)]
    assert (actual == np.array(expected)).all()  # the formula itself, to the last bit
    if gamma > 0:  # Robbins–Monro: the partial sums keep growing, their squares converge
        assert actual[:, 0].sum() > LRS[0] * math.log(1 + gamma * 200) / gamma
        assert (actual[:, 0] ** 2).sum() < LRS[0] ** 2 * (1 + 1 / gamma)


def test_inverse_time_lr_matches_torch_lambda_lr(torch):
    t_opt = torch_optimizer(torch)
    t_sched = torch.optim.lr_scheduler.LambdaLR(t_opt, lambda k: 1 / (1 + 0.3 * k))
    expected = lr_sequence(t_opt, t_sched, 50)
    opt = tg_optimizer()
    actual = lr_sequence(opt, lr_scheduler.InverseTimeLR(opt, gamma=0.3), 50)
    assert_seq_equal(actual, expected, rtol=1e-15)


def test_inverse_time_lr_sgd_on_a_quadratic():
    """f(w) = ½‖w‖²: each SGD step multiplies w by (1 − lr_k), lr_k = lr/(1 + γk)."""
    w = tg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.5)
    sched = lr_scheduler.InverseTimeLR(opt, gamma=0.25)
    expected = np.array([1.0, -2.0, 3.0])
    for k in range(30):
        opt.zero_grad()
        (0.5 * (w * w).sum()).backward()
        opt.step()
        sched.step()
        expected = expected * (1 - 0.5 / (1 + 0.25 * k))
        np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-13)


# --- schedulers driving optimizers -----------------------------------------------------------

def quadratic_run(lib, opt_cls, opt_kw, sched_name, sched_kw, steps=30):
    """Minimizes Σ cᵢ (wᵢ − tᵢ)² with a scheduled optimizer; the trajectory and lrs."""
    target = np.linspace(-1.0, 2.0, 6)
    curv = np.linspace(0.5, 3.0, 6)
    w = lib.tensor(np.zeros(6), requires_grad=True)
    v = lib.tensor(np.ones(3), requires_grad=True)
    t, c = lib.tensor(target), lib.tensor(curv)
    opt = getattr(lib.optim, opt_cls)([{"params": [w]}, {"params": [v], "lr": 0.02}], **opt_kw)
    module = lr_scheduler if lib is tg else lib.optim.lr_scheduler
    sched = getattr(module, sched_name)(opt, **sched_kw)
    traj, lrs = [], []
    for _ in range(steps):
        opt.zero_grad()
        ((c * (w - t) ** 2).sum() + (v * v * v * v).sum()).backward()
        opt.step()
        sched.step()
        traj.append(np.concatenate([w.detach().numpy(), v.detach().numpy()]))
        lrs.append([g["lr"] for g in opt.param_groups])
    return np.array(traj), np.array(lrs)


@pytest.mark.parametrize("opt_cls,opt_kw,sched_name,sched_kw", [
    ("SGD", dict(lr=0.1, momentum=0.9), "CosineAnnealingLR", dict(T_max=8, eta_min=0.001)),
    ("SGD", dict(lr=0.1), "StepLR", dict(step_size=5, gamma=0.5)),
    ("Adam", dict(lr=0.05), "ExponentialLR", dict(gamma=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.5), "LambdaLR", dict(lr_lambda=lambda k: 1 / (1 + k))),
    ("Adagrad", dict(lr=0.3), "CosineAnnealingLR", dict(T_max=5)),
])
def test_scheduled_optimizer_matches_torch(torch, opt_cls, opt_kw, sched_name, sched_kw):
    expected, expected_lrs = quadratic_run(torch, opt_cls, opt_kw, sched_name, sched_kw)
    actual, actual_lrs = quadratic_run(tg, opt_cls, opt_kw, sched_name, sched_kw)
    assert_seq_equal(actual_lrs, expected_lrs)
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-13)


def test_the_schedule_changes_the_step_sizes():
    """SGD without momentum moves by exactly lr_k·g at step k."""
    w = tg.tensor(np.array([3.0, -1.0]), requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.2)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    for k in range(6):
        opt.zero_grad()
        (w * w).sum().backward()
        before, grad = w.detach().numpy().copy(), w.grad.numpy().copy()
        opt.step()
        lr = 0.2 * 0.1 ** (k // 2)
        np.testing.assert_allclose(before - w.detach().numpy(), lr * grad, rtol=1e-12)
        sched.step()


# --- state dicts ------------------------------------------------------------------------------

@pytest.mark.parametrize("name,kwargs", [
    ("LambdaLR", dict(lr_lambda=lambda e: 0.9 ** e)),
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=6, eta_min=0.01)),
    ("InverseTimeLR", dict(gamma=0.2)),
])
def test_state_dict_round_trip_resumes_exactly(tmp_path, name, kwargs):
    opt = tg_optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    uninterrupted = lr_sequence(opt, sched, 30)

    opt = tg_optimizer()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    first = lr_sequence(opt, sched, 11)  # epochs 0..11, then stepped to 12
    save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ck.tg")
    del opt, sched

    ck = load(tmp_path / "ck.tg")
    opt = tg_optimizer(lrs=[1.0, 2.0, 3.0])  # wrong lrs: the state dicts must restore them
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["scheduler"])
    assert sched.last_epoch == 12
    assert sched.base_lrs == LRS
    rest = lr_sequence(opt, sched, 30 - 12)
    assert (np.concatenate([first, rest]) == uninterrupted).all()


def test_state_dict_holds_everything_but_the_optimizer():
    opt = tg_optimizer()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0.01)
    sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state
    assert state["T_max"] == 5 and state["eta_min"] == 0.01
    assert state["base_lrs"] == LRS and state["last_epoch"] == 1
    assert state["_last_lr"] == sched.get_last_lr()
    state["base_lrs"].append(9.0)  # a copy: editing it leaves the scheduler alone
    assert sched.base_lrs == LRS


def test_state_dict_keys_match_torch(torch):
    for name, kwargs in [("StepLR", dict(step_size=2)), ("ExponentialLR", dict(gamma=0.5)),
                         ("CosineAnnealingLR", dict(T_max=3)),
                         ("LambdaLR", dict(lr_lambda=lambda e: 1.0))]:
        t_opt = torch_optimizer(torch)
        t_sched = getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs)
        opt = tg_optimizer()
        sched = getattr(lr_scheduler, name)(opt, **kwargs)
        t_opt.step()
        t_sched.step()
        sched.step()
        expected, actual = t_sched.state_dict(), sched.state_dict()
        assert sorted(actual) == sorted(expected), name
        for key in expected:
            assert actual[key] == expected[key], (name, key)


def test_lambda_lr_state_dict_saves_callable_objects(tmp_path):
    opt = tg_optimizer()
    scale = Scale(0.5)
    sched = lr_scheduler.LambdaLR(opt, [scale, lambda e: 1.0, Scale(0.9)])
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"base": 0.5}, None, {"base": 0.9}]
    save(state, tmp_path / "sched.tg")

    opt2 = tg_optimizer()
    scale2 = Scale(0.1)
    sched2 = lr_scheduler.LambdaLR(opt2, [scale2, lambda e: 1.0, Scale(0.2)])
    sched2.load_state_dict(load(tmp_path / "sched.tg"))
    assert scale2.base == 0.5 and sched2.last_epoch == 3
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr()


def test_resume_with_last_epoch_matches_torch(torch):
    """Constructing with last_epoch=k (PyTorch's old resume path) needs initial_lr in
    the groups and continues as PyTorch's does."""
    for name, kwargs in [("StepLR", dict(step_size=3, gamma=0.5)),
                         ("ExponentialLR", dict(gamma=0.9)),
                         ("CosineAnnealingLR", dict(T_max=6, eta_min=0.01)),
                         ("LambdaLR", dict(lr_lambda=lambda e: 0.8 ** e))]:
        seqs = []
        for module, make in [(torch.optim.lr_scheduler, lambda: torch_optimizer(torch)),
                             (lr_scheduler, tg_optimizer)]:
            opt = make()
            sched = getattr(module, name)(opt, **kwargs)
            lr_sequence(opt, sched, 4)  # now at epoch 5
            resumed = getattr(module, name)(opt, last_epoch=5, **kwargs)
            seqs.append(lr_sequence(opt, resumed, 10))
        assert_seq_equal(seqs[1], seqs[0])


def test_resume_without_initial_lr_raises():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(tg_optimizer(), step_size=2, last_epoch=3)


@pytest.mark.parametrize("name,kwargs", [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=6, eta_min=0.01)),
])
def test_deprecated_step_with_epoch_matches_torch(torch, name, kwargs):
    results = []
    for module, opt in [(torch.optim.lr_scheduler, torch_optimizer(torch)),
                        (lr_scheduler, tg_optimizer())]:
        sched = getattr(module, name)(opt, **kwargs)
        opt.step()
        seq = []
        for epoch in [4, 9, 2, 13]:
            with pytest.warns(UserWarning, match="epoch"):
                sched.step(epoch)
            seq.append(sched.get_last_lr())
        sched.step()
        seq.append(sched.get_last_lr())
        results.append(np.array(seq))
    assert_seq_equal(results[1], results[0])


# --- misc behaviour -------------------------------------------------------------------------

def test_initial_lr_is_kept_when_already_set():
    opt = tg_optimizer()
    for g in opt.param_groups:
        g["initial_lr"] = 1.0
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert sched.base_lrs == [1.0, 1.0, 1.0]
    assert sched.get_last_lr() == LRS  # the initial step leaves the current lrs alone


def test_get_last_lr_is_a_copy():
    opt = tg_optimizer()
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    sched.get_last_lr()[0] = 123.0
    assert sched.get_last_lr() == LRS


def test_get_lr_outside_step_warns():
    sched = lr_scheduler.ExponentialLR(tg_optimizer(), gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_a_group_added_after_the_scheduler_is_an_error():
    opt = tg_optimizer()
    sched = lr_scheduler.StepLR(opt, step_size=2)
    opt.add_param_group({"params": [tg.zeros(1, requires_grad=True)]})
    with pytest.raises(ValueError, match="parameter groups"):
        sched.step()


@pytest.mark.parametrize("name,kwargs,arg", [
    ("StepLR", dict(step_size=0), "step_size"),
    ("StepLR", dict(step_size=-2), "step_size"),
    ("StepLR", dict(step_size=1.5), "step_size"),
    ("StepLR", dict(step_size=True), "step_size"),
    ("StepLR", dict(step_size=2, gamma=0.0), "gamma"),
    ("StepLR", dict(step_size=2, gamma=-0.5), "gamma"),
    ("StepLR", dict(step_size=2, gamma=float("nan")), "gamma"),
    ("ExponentialLR", dict(gamma=-0.9), "gamma"),
    ("ExponentialLR", dict(gamma=float("inf")), "gamma"),
    ("ExponentialLR", dict(gamma="0.9"), "gamma"),
    ("CosineAnnealingLR", dict(T_max=0), "T_max"),
    ("CosineAnnealingLR", dict(T_max=-3), "T_max"),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=-0.1), "eta_min"),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=float("nan")), "eta_min"),
    ("InverseTimeLR", dict(gamma=-0.1), "gamma"),
    ("InverseTimeLR", dict(gamma=float("nan")), "gamma"),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1.0]), "lr_lambda"),
    ("ExponentialLR", dict(gamma=0.9, last_epoch=-2), "last_epoch"),
    ("ExponentialLR", dict(gamma=0.9, last_epoch=1.0), "last_epoch"),
])
def test_bad_arguments_raise_value_error_naming_them(name, kwargs, arg):
    opt = tg_optimizer()
    with pytest.raises(ValueError, match=arg):
        getattr(lr_scheduler, name)(opt, **kwargs)
    assert all("initial_lr" not in g for g in opt.param_groups) or arg == "last_epoch"


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="Optimizer"):
        lr_scheduler.StepLR([tg.zeros(1, requires_grad=True)], step_size=2)
    with pytest.raises(TypeError, match="Optimizer"):
        lr_scheduler.LambdaLR(object(), lr_lambda=lambda e: 1.0)
    with pytest.raises(TypeError, match="lr_lambda"):
        lr_scheduler.LambdaLR(tg_optimizer(), lr_lambda=0.5)
    with pytest.raises(TypeError, match="lr_lambda"):
        lr_scheduler.LambdaLR(tg_optimizer(), lr_lambda=[lambda e: 1.0, 2.0, None])


def test_docstring_examples():
    results = doctest.testmod(lr_scheduler, extraglobs={"tg": tg}, report=True)
    assert results.attempted > 10
    assert results.failed == 0
