"""Closure optimizers (LBFGS, GD with line searches, Newton), NormalizedGD and Averaged.

Expected values come from PyTorch (LBFGS), from NumPy formulas (gradients, Hessians,
exact steps, Newton iterates) or from hand computation, never from tapegrad itself.
"""

import math

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.optim.averaged import Averaged
from tapegrad.optim.lbfgs import LBFGS
from tapegrad.optim.line_search import GD, NormalizedGD
from tapegrad.optim.newton import Newton
from tapegrad.optim.sgd import SGD

F64 = tg.float64


def t64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=requires_grad)


def npy(t):
    return np.array(t.detach().tolist(), dtype=np.float64)


def assert_rel(actual, expected, rtol, what=""):
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = max(np.max(np.abs(expected)), 1e-300)
    err = np.max(np.abs(actual - expected)) / scale
    assert err <= rtol, f"{what}: relative error {err:.3g} > {rtol}"


# --- test functions, with their derivatives by formula --------------------------------

def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosen_np(w):
    x, y = w
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosen_grad_np(w):
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


@pytest.fixture
def quadratic():
    """F(w) = ½(w − c)ᵀA(w − c), A SPD with eigenvalues 1..100 (κ = 100)."""
    rng = np.random.default_rng(7)
    n = 6
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = q @ np.diag(np.logspace(0, 2, n)) @ q.T
    a = 0.5 * (a + a.T)
    c = rng.normal(size=n)
    return a, c


def quad_closure(opt, w, a, c):
    at, ct = t64(a), t64(c)

    def closure():
        opt.zero_grad()
        loss = 0.5 * tg.dot(w - ct, at @ (w - ct))
        loss.backward()
        return loss

    return closure


# =======================================================================================
# LBFGS against PyTorch
# =======================================================================================

def run_rosenbrock(lib, opt_cls, steps, **kw):
    """Iterates after each step, the returned losses and the final state."""
    x = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
    opt = opt_cls([x], **kw)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x[0], x[1])
        loss.backward()
        return loss

    iterates, losses = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        iterates.append(np.array(x.detach().tolist()))
    state = opt.state[x]
    return np.array(iterates), losses, {k: state[k] for k in ("n_iter", "func_evals")}


# L-BFGS on Rosenbrock amplifies rounding: in some settings a 1-ulp change of the start
# moves PyTorch's *own* iterates by 1e-4 within a few steps, and PyTorch's kernels (fused
# multiply-add in add_ and dot) round differently from tapegrad's. The settings below are
# ones where PyTorch's run is not chaotic, so agreement to 1e-7 tests the algorithm.
LBFGS_ROSENBROCK = [
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=4, max_iter=8),
    dict(line_search_fn="strong_wolfe", history_size=5, max_iter=5),
    dict(lr=0.2),
    dict(lr=0.2, history_size=2, max_iter=5),
]


@pytest.mark.parametrize("kw", LBFGS_ROSENBROCK, ids=str)
def test_lbfgs_rosenbrock_matches_torch(torch, kw):
    expected, exp_losses, exp_state = run_rosenbrock(torch, torch.optim.LBFGS, 12, **kw)
    got, losses, state = run_rosenbrock(tg, LBFGS, 12, **kw)
    for k in range(len(expected)):
        assert_rel(got[k], expected[k], 1e-7, f"iterate after step {k + 1}")
    assert_rel(losses, exp_losses, 1e-7, "losses")
    assert state == exp_state  # same numbers of iterations and closure calls


def test_lbfgs_strong_wolfe_solves_rosenbrock():
    got, _, _ = run_rosenbrock(tg, LBFGS, 5, line_search_fn="strong_wolfe")
    np.testing.assert_allclose(got[-1], [1.0, 1.0], atol=1e-5)


def mlp_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 3))
    y = np.sin(x.sum(1, keepdims=True))
    init = [rng.normal(size=(3, 8)) * 0.5, np.zeros(8), rng.normal(size=(8, 1)) * 0.5,
            np.zeros(1)]
    return x, y, init


def run_mlp(lib, opt_cls, steps, **kw):
    """A 3-8-1 tanh MLP, MSE + 1e-2·‖θ‖² (four parameter tensors)."""
    x, y, init = mlp_data()
    params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in init]
    xt, yt = lib.tensor(x, dtype=lib.float64), lib.tensor(y, dtype=lib.float64)
    opt = opt_cls(params, **kw)

    def closure():
        opt.zero_grad()
        out = lib.tanh(xt @ params[0] + params[1]) @ params[2] + params[3]
        loss = ((out - yt) ** 2).mean() + 1e-2 * sum((p * p).sum() for p in params)
        loss.backward()
        return loss

    history = []
    for _ in range(steps):
        opt.step(closure)
        history.append([np.array(p.detach().tolist()) for p in params])
    return history


@pytest.mark.parametrize("kw, steps", [(dict(line_search_fn="strong_wolfe"), 3),
                                       (dict(lr=0.5), 8)], ids=["strong_wolfe", "fixed_lr"])
def test_lbfgs_mlp_matches_torch(torch, kw, steps):
    expected = run_mlp(torch, torch.optim.LBFGS, steps, **kw)
    got = run_mlp(tg, LBFGS, steps, **kw)
    for k, (exp_params, got_params) in enumerate(zip(expected, got)):
        for i, (e, g) in enumerate(zip(exp_params, got_params)):
            assert g.shape == e.shape
            assert_rel(g, e, 1e-7, f"step {k + 1}, parameter {i}")


def test_lbfgs_state_dict_resume_continues_exactly(tmp_path):
    def make(values):
        x = t64(values, requires_grad=True)
        opt = LBFGS([x], max_iter=3, history_size=4, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = rosenbrock(x[0], x[1])
            loss.backward()
            return loss

        return x, opt, closure

    x, opt, closure = make([-1.5, 2.0])
    for _ in range(3):
        opt.step(closure)
    tg.save(opt.state_dict(), tmp_path / "lbfgs.tg")
    x2, opt2, closure2 = make(x.tolist())
    opt2.load_state_dict(tg.load(tmp_path / "lbfgs.tg"))
    for _ in range(4):  # the uninterrupted run and the resumed one, step for step
        opt.step(closure)
        opt2.step(closure2)
        assert x2.tolist() == x.tolist()
    assert opt2.state[x2]["n_iter"] == opt.state[x]["n_iter"]
    assert len(opt2.state[x2]["old_dirs"]) == len(opt.state[x]["old_dirs"]) > 0


def test_lbfgs_state_has_pytorch_keys():
    x = t64([0.5, 0.5], requires_grad=True)
    opt = LBFGS([x], max_iter=4)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x[0], x[1])
        loss.backward()
        return loss

    opt.step(closure)
    assert {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag",
            "prev_flat_grad", "prev_loss"} <= set(opt.state[x])
    assert list(opt.state_dict()["state"]) == [0]


def test_lbfgs_returns_first_loss_and_stops_at_optimum():
    x = t64([1.0, 1.0], requires_grad=True)
    opt = LBFGS([x])

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x[0], x[1])
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0
    assert x.tolist() == [1.0, 1.0]
    assert opt.state[x]["func_evals"] == 1


def test_lbfgs_refuses_several_groups():
    a, b = t64([1.0], True), t64([2.0], True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        LBFGS([{"params": [a]}, {"params": [b]}])
    opt = LBFGS([a])
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        opt.add_param_group({"params": [b]})


def test_lbfgs_requires_closure():
    opt = LBFGS([t64([1.0], True)])
    with pytest.raises(TypeError, match="requires a closure"):
        opt.step()


@pytest.mark.parametrize("kw, name", [
    (dict(lr=-1.0), "learning rate"), (dict(max_iter=0), "max_iter"),
    (dict(max_eval=0), "max_eval"), (dict(history_size=0), "history_size"),
    (dict(tolerance_grad=-1.0), "tolerance_grad"),
    (dict(tolerance_change=-1.0), "tolerance_change"),
    (dict(line_search_fn="armijo"), "line_search_fn")])
def test_lbfgs_bad_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        LBFGS([t64([1.0], True)], **kw)


def test_lbfgs_max_eval_default():
    opt = LBFGS([t64([1.0], True)], max_iter=10)
    assert opt.param_groups[0]["max_eval"] == 12  # max_iter * 5 // 4


# =======================================================================================
# GD with line searches
# =======================================================================================

@pytest.mark.parametrize("line_search", ["armijo", "wolfe", "exact"])
def test_gd_decreases_and_converges_on_ill_conditioned_quadratic(quadratic, line_search):
    a, c = quadratic
    w = t64(np.zeros(len(c)), requires_grad=True)
    opt = GD([w], line_search=line_search)
    closure = quad_closure(opt, w, a, c)

    def f(v):  # by formula, in NumPy
        return 0.5 * (v - c) @ a @ (v - c)

    values = [f(npy(w))]
    for _ in range(3000):
        opt.step(closure)
        values.append(f(npy(w)))
        if np.linalg.norm(npy(w) - c) < 1e-8:
            break
    assert np.linalg.norm(npy(w) - c) < 1e-8
    assert np.all(np.diff(values) < 0), "F must decrease at every step"


@pytest.mark.parametrize("line_search", ["armijo", "wolfe"])
def test_gd_accepted_steps_satisfy_their_conditions(line_search):
    """On Rosenbrock (non-convex), from the closure's own values at w and at the
    accepted point, and from the gradient formula."""
    c1, c2 = 1e-4, 0.9
    w = t64([-1.5, 2.0], requires_grad=True)
    opt = GD([w], line_search=line_search, c1=c1, c2=c2)
    calls = {}

    def closure():
        opt.zero_grad()
        loss = rosenbrock(w[0], w[1])
        loss.backward()
        calls[tuple(w.tolist())] = (loss.item(), npy(w.grad))
        return loss

    for _ in range(50):
        w0 = npy(w)
        opt.step(closure)
        alpha = opt.state[w]["step_size"]
        w1 = npy(w)
        f0, g0 = calls[tuple(w0)]
        np.testing.assert_allclose(g0, rosen_grad_np(w0), rtol=1e-12)
        np.testing.assert_allclose(w1, w0 - alpha * g0, rtol=1e-14, atol=1e-15)
        f1, g1 = calls[tuple(w1)]  # the search evaluated the point it accepted
        assert alpha > 0
        assert f1 <= f0 - c1 * alpha * (g0 @ g0)  # Armijo: ψ(α) ≤ ψ(0) + c1·α·ψ′(0)
        if line_search == "wolfe":
            assert abs(g1 @ g0) <= c2 * (g0 @ g0)  # strong Wolfe: |ψ′(α)| ≤ c2·|ψ′(0)|


def test_gd_armijo_halves_from_lr(quadratic):
    a, c = quadratic
    w = t64(np.zeros(len(c)), requires_grad=True)
    opt = GD([w], lr=0.01, line_search="armijo")
    opt.step(quad_closure(opt, w, a, c))
    # 0.01 < 2(1 − c1)/λmax = 0.019998: the first trial step is accepted
    assert opt.state[w]["step_size"] == 0.01
    # From α₀ = 1: ψ(α) = ψ(0) − α·gᵀg + ½α²·gᵀAg meets Armijo iff
    # α ≤ 2(1 − c1)·gᵀg / gᵀAg; halving stops at the first power of 2 below that.
    g = a @ (npy(w) - c)
    bound = 2 * (1 - 1e-4) * (g @ g) / (g @ a @ g)
    expected = 2.0 ** -math.ceil(-math.log2(bound))
    opt = GD([w], lr=1.0, line_search="armijo")
    opt.step(quad_closure(opt, w, a, c))
    assert opt.state[w]["step_size"] == expected


def test_gd_exact_step_is_gtg_over_gtag(quadratic):
    a, c = quadratic
    w0 = np.linspace(-1, 1, len(c))
    w = t64(w0, requires_grad=True)
    opt = GD([w], line_search="exact")
    opt.step(quad_closure(opt, w, a, c))
    g = a @ (w0 - c)
    alpha = (g @ g) / (g @ a @ g)
    assert abs(opt.state[w]["step_size"] / alpha - 1) < 1e-8
    assert_rel(npy(w), w0 - alpha * g, 1e-12, "iterate")


def test_gd_exact_finds_line_minimum_on_rosenbrock():
    w = t64([-1.5, 2.0], requires_grad=True)
    opt = GD([w], line_search="exact")

    def closure():
        opt.zero_grad()
        loss = rosenbrock(w[0], w[1])
        loss.backward()
        return loss

    for _ in range(20):
        w0 = npy(w)
        opt.step(closure)
        g0, g1 = rosen_grad_np(w0), rosen_grad_np(npy(w))
        # ψ′(α) = −∇F(w₁)ᵀg₀ vanishes at the minimizing α, and F went down
        assert abs(g1 @ g0) <= 1e-8 * (g0 @ g0)
        assert rosen_np(npy(w)) < rosen_np(w0)


def test_gd_several_tensors_move_as_one_vector(quadratic):
    a, c = quadratic
    w1 = t64(np.zeros(2), requires_grad=True)
    w2 = t64(np.zeros((2, 2)), requires_grad=True)
    at, ct = t64(a), t64(c)
    opt = GD([w1, w2], line_search="exact")

    def closure():
        opt.zero_grad()
        v = tg.cat([w1, w2.reshape(-1)]) - ct
        loss = 0.5 * tg.dot(v, at @ v)
        loss.backward()
        return loss

    opt.step(closure)
    g = a @ (-c)
    alpha = (g @ g) / (g @ a @ g)
    got = np.concatenate([npy(w1), npy(w2).reshape(-1)])
    assert_rel(got, -alpha * g, 1e-8, "iterate")
    assert opt.state[w1]["step_size"] == pytest.approx(alpha, rel=1e-8)


def test_gd_at_stationary_point_stays():
    w = t64([1.0, 1.0], requires_grad=True)
    opt = GD([w], line_search="wolfe")

    def closure():
        opt.zero_grad()
        loss = rosenbrock(w[0], w[1])
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0
    assert w.tolist() == [1.0, 1.0]
    assert opt.state[w]["step_size"] == 0.0


@pytest.mark.parametrize("kw, name", [
    (dict(lr=0.0), "lr"), (dict(lr=-1.0), "lr"), (dict(line_search="newton"), "line_search"),
    (dict(c1=0.0), "c1"), (dict(c1=1.0), "c1"), (dict(c2=1e-4), "c2"), (dict(c2=1.0), "c2")])
def test_gd_bad_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        GD([t64([1.0], True)], **kw)


def test_gd_requires_closure_and_one_group():
    a, b = t64([1.0], True), t64([2.0], True)
    with pytest.raises(TypeError, match="requires a closure"):
        GD([a]).step()
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        GD([{"params": [a]}, {"params": [b]}])


# =======================================================================================
# Newton
# =======================================================================================

def test_newton_solves_quadratic_in_one_step(quadratic):
    a, c = quadratic
    b = a @ c  # F(w) = ½wᵀAw − bᵀw, minimizer c
    w = t64(np.ones(len(c)), requires_grad=True)
    at, bt = t64(a), t64(b)
    opt = Newton([w])
    loss = opt.step(lambda: 0.5 * tg.dot(w, at @ w) - tg.dot(bt, w))
    assert np.max(np.abs(npy(w) - np.linalg.solve(a, b))) < 1e-8
    one = np.ones(len(c))
    assert loss.item() == pytest.approx(0.5 * one @ a @ one - b @ one, rel=1e-12)
    assert not loss.requires_grad
    np.testing.assert_allclose(npy(w.grad), a @ one - b, rtol=1e-12)  # g at the start


def test_newton_several_tensors_and_damping_and_lr(quadratic):
    a, c = quadratic
    b = a @ c
    at, bt = t64(a), t64(b)
    w0 = np.linspace(-1, 1, len(c))
    for lr, damping in [(1.0, 0.0), (0.5, 0.0), (1.0, 3.0), (0.3, 10.0)]:
        w1 = t64(w0[:2], requires_grad=True)
        w2 = t64(w0[2:].reshape(2, 2), requires_grad=True)
        opt = Newton([w1, w2], lr=lr, damping=damping)

        def closure(w1=w1, w2=w2):
            v = tg.cat([w1, w2.reshape(-1)])
            return 0.5 * tg.dot(v, at @ v) - tg.dot(bt, v)

        opt.step(closure)
        g = a @ w0 - b
        expected = w0 - lr * np.linalg.solve(a + damping * np.eye(len(c)), g)
        got = np.concatenate([npy(w1), npy(w2).reshape(-1)])
        assert np.max(np.abs(got - expected)) < 1e-8, (lr, damping)


def exp_sum_problem():
    """f(x) = Σᵢ exp(aᵢᵀx) + ½‖x‖²: smooth, strongly convex."""
    rng = np.random.default_rng(11)
    a = rng.normal(size=(8, 4)) * 0.7
    return a


def exp_sum_grad_hess(a, x):
    e = np.exp(a @ x)
    return a.T @ e + x, a.T @ (e[:, None] * a) + np.eye(len(x))


def test_newton_converges_quadratically_on_convex_function():
    a = exp_sum_problem()
    x0 = np.full(4, 1.5)
    x = t64(x0, requires_grad=True)
    at = t64(a)
    opt = Newton([x])

    def closure():
        return tg.exp(at @ x).sum() + 0.5 * tg.dot(x, x)

    ref = x0.copy()
    norms = [np.linalg.norm(exp_sum_grad_hess(a, ref)[0])]
    for _ in range(8):
        opt.step(closure)
        g, h = exp_sum_grad_hess(a, ref)
        ref = ref - np.linalg.solve(h, g)  # Newton's iterate with the explicit Hessian
        assert_rel(npy(x), ref, 1e-10, "Newton iterate")
        norms.append(np.linalg.norm(exp_sum_grad_hess(a, npy(x))[0]))
    assert norms[-1] < 1e-12
    # quadratic convergence: once close, ‖g_{k+1}‖ ≤ C‖g_k‖² (the exponent doubles)
    close = [k for k in range(len(norms) - 1) if 1e-13 < norms[k + 1] and norms[k] < 0.5]
    assert len(close) >= 2
    for k in close:
        assert norms[k + 1] <= 10 * norms[k] ** 2, norms


def test_newton_accepts_closure_with_create_graph_backward(quadratic):
    a, c = quadratic
    at, ct = t64(a), t64(c)
    w = t64(np.zeros(len(c)), requires_grad=True)
    opt = Newton([w])

    def closure():
        opt.zero_grad()
        loss = 0.5 * tg.dot(w - ct, at @ (w - ct))
        loss.backward(create_graph=True)
        return loss

    opt.step(closure)
    assert np.max(np.abs(npy(w) - c)) < 1e-8
    assert not w.grad.requires_grad


def test_newton_clear_errors(quadratic):
    a, c = quadratic
    at = t64(a)
    w = t64(np.ones(len(c)), requires_grad=True)
    opt = Newton([w])
    with pytest.raises(TypeError, match="requires a closure"):
        opt.step()

    with pytest.raises(RuntimeError, match="with its graph"):
        opt.step(lambda: (0.5 * tg.dot(w, at @ w)).detach())


def test_newton_accepts_the_ordinary_closure_that_calls_backward(quadratic):
    # PyTorch's closure: zero_grad, loss, loss.backward(), return loss. While Newton
    # runs it, backward() records its graph, so the Hessian-vector products work.
    a, c = quadratic
    at, ct = t64(a), t64(c)
    w = t64(np.ones(len(c)), requires_grad=True)
    opt = Newton([w])

    def closure():
        opt.zero_grad()
        loss = 0.5 * tg.dot(w, at @ w) - tg.dot(ct, w)
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(npy(w), np.linalg.solve(a, c), rtol=1e-8, atol=1e-10)
    assert not w.grad.requires_grad  # the differentiable gradient doesn't outlive the step
    # outside Newton, backward() is first-order again
    loss = (w * w).sum()
    loss.backward()
    assert w.grad.grad_fn is None


def test_newton_negative_curvature_falls_back_to_gradient_step():
    w = t64([1.0, -2.0], requires_grad=True)
    opt = Newton([w], lr=0.1)
    opt.step(lambda: -0.5 * tg.dot(w, w))  # H = −I: no Newton step exists
    np.testing.assert_allclose(npy(w), [1.0, -2.0] + 0.1 * np.array([1.0, -2.0]))


@pytest.mark.parametrize("kw, name", [
    (dict(lr=-1.0), "learning rate"), (dict(cg_iters=0), "cg_iters"),
    (dict(damping=-1.0), "damping"), (dict(cg_tol=-1.0), "cg_tol")])
def test_newton_bad_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        Newton([t64([1.0], True)], **kw)


# =======================================================================================
# NormalizedGD
# =======================================================================================

def test_normalized_gd_moves_exactly_lr():
    rng = np.random.default_rng(5)
    a0, b0 = rng.normal(size=3), rng.normal(size=(2, 2))
    a, b = t64(a0, True), t64(b0, True)
    opt = NormalizedGD([a, b], lr=0.3)
    for _ in range(4):
        before = np.concatenate([npy(a), npy(b).reshape(-1)])
        opt.zero_grad()
        ((a ** 4).sum() + (b * b).sum() * 3).backward()
        g = np.concatenate([4 * before[:3] ** 3, 6 * before[3:]])
        opt.step()
        after = np.concatenate([npy(a), npy(b).reshape(-1)])
        assert np.linalg.norm(after - before) == pytest.approx(0.3, rel=1e-14)
        np.testing.assert_allclose(after, before - 0.3 * g / np.linalg.norm(g), rtol=1e-13)


def test_normalized_gd_zero_gradient_and_groups():
    a, b = t64([1.0, 2.0], True), t64([3.0], True)
    opt = NormalizedGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = t64([0.0, 0.0])
    b.grad = t64([-7.0])
    opt.step()
    assert a.tolist() == [1.0, 2.0]  # zero gradient: no move
    assert b.tolist() == [3.5]  # its own group's lr, along −g/‖g‖
    with pytest.raises(ValueError, match="lr"):
        NormalizedGD([a], lr=-0.1)


# =======================================================================================
# Averaged
# =======================================================================================

def sgd_average_by_hand(w0, c, lrs, iterate):
    """SGD on ½‖w − c‖² (g = w − c): the iterates and Σαᵢxᵢ / Σαᵢ."""
    w, num, den = np.array(w0, dtype=np.float64), 0.0, 0.0
    for lr in lrs:
        before = w.copy()
        w = w - lr * (w - c)
        x = w if iterate == "after" else before
        num, den = num + lr * x, den + lr
    return w, num / den


@pytest.mark.parametrize("iterate", ["after", "before"])
def test_averaged_matches_hand_computation_with_changing_lr(iterate):
    w0, c = [2.0, -1.0, 0.5], np.array([1.0, 1.0, -1.0])
    lrs = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.01]  # as StepLR(step_size=3) would change it
    w = t64(w0, requires_grad=True)
    ct = t64(c)
    avg = Averaged(SGD([w], lr=lrs[0]), iterate=iterate)
    for lr in lrs:
        avg.param_groups[0]["lr"] = lr
        avg.zero_grad()
        (0.5 * ((w - ct) ** 2).sum()).backward()
        avg.step()
    final, mean = sgd_average_by_hand(w0, c, lrs, iterate)
    np.testing.assert_allclose(npy(w), final, rtol=1e-12)
    (got,) = avg.average()
    np.testing.assert_allclose(npy(got), mean, rtol=1e-12)


def test_averaged_swap_round_trip_is_exact():
    w = t64([0.3, -0.7], requires_grad=True)
    m = t64([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    avg = Averaged(SGD([w, m], lr=0.1))
    for lr in (0.1, 0.2, 0.05):
        avg.param_groups[0]["lr"] = lr
        avg.zero_grad()
        ((w ** 3).sum() + (m * m).sum()).backward()
        avg.step()
    own = [w.tolist(), m.tolist()]
    means = [a.tolist() for a in avg.average()]
    avg.swap()
    assert [w.tolist(), m.tolist()] == means
    with pytest.raises(RuntimeError, match="swap"):
        avg.step()
    avg.swap()
    assert [w.tolist(), m.tolist()] == own
    with avg.averaged_parameters():
        assert [w.tolist(), m.tolist()] == means
    assert [w.tolist(), m.tolist()] == own


def test_averaged_state_dict_round_trip(tmp_path):
    def make():
        w = t64([1.0, -1.0], requires_grad=True)
        return w, Averaged(SGD([w], lr=0.1, momentum=0.9))

    def train(w, avg, lrs):
        for lr in lrs:
            avg.param_groups[0]["lr"] = lr
            avg.zero_grad()
            ((w - 3) ** 2).sum().backward()
            avg.step()

    w, avg = make()
    train(w, avg, [0.1, 0.05])
    tg.save(avg.state_dict(), tmp_path / "avg.tg")
    w2, avg2 = make()
    with tg.no_grad():
        w2.copy_(w)
    avg2.load_state_dict(tg.load(tmp_path / "avg.tg"))
    assert [a.tolist() for a in avg2.average()] == [a.tolist() for a in avg.average()]
    train(w, avg, [0.02, 0.02])
    train(w2, avg2, [0.02, 0.02])
    assert w2.tolist() == w.tolist()  # the momentum buffer came back too
    assert [a.tolist() for a in avg2.average()] == [a.tolist() for a in avg.average()]


def test_averaged_forwards_to_the_wrapped_optimizer():
    w = t64([1.0], requires_grad=True)
    sgd = SGD([w], lr=0.5)
    avg = Averaged(sgd)
    assert avg.param_groups is sgd.param_groups and avg.state is sgd.state
    assert avg.average()[0].tolist() == [1.0]  # no step yet: the parameter itself
    (w * w).sum().backward()
    avg.zero_grad()
    assert w.grad is None


def test_averaged_wraps_closure_optimizers():
    x = t64([-1.5, 2.0], requires_grad=True)
    avg = Averaged(LBFGS([x], max_iter=5, line_search_fn="strong_wolfe"))

    def closure():
        avg.zero_grad()
        loss = rosenbrock(x[0], x[1])
        loss.backward()
        return loss

    iterates = []
    for _ in range(3):
        avg.step(closure)
        iterates.append(npy(x))
    np.testing.assert_allclose(npy(avg.average()[0]), np.mean(iterates, axis=0), rtol=1e-12)


def test_averaged_bad_arguments():
    w = t64([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="Optimizer"):
        Averaged([w])
    with pytest.raises(ValueError, match="iterate"):
        Averaged(SGD([w], lr=0.1), iterate="middle")
    avg = Averaged(GD([w]))  # GD's lr is None: no step size to weight by
    with pytest.raises(ValueError, match="lr"):
        avg.step(lambda: (w * w).sum())
    assert math.isfinite(w.item())


@pytest.mark.parametrize("wrap_scheduler_around", ["wrapper", "inner"])
def test_averaged_with_step_lr_scheduler(wrap_scheduler_around):
    from tapegrad.optim.lr_scheduler import StepLR

    w0, c = [2.0, -1.0], np.array([1.0, 0.0])
    w = t64(w0, requires_grad=True)
    ct = t64(c)
    sgd = SGD([w], lr=0.2)
    avg = Averaged(sgd)
    sched = StepLR(avg if wrap_scheduler_around == "wrapper" else sgd, step_size=2, gamma=0.5)
    for _ in range(6):
        avg.zero_grad()
        (0.5 * ((w - ct) ** 2).sum()).backward()
        avg.step()
        sched.step()
    lrs = [0.2, 0.2, 0.1, 0.1, 0.05, 0.05]
    final, mean = sgd_average_by_hand(w0, c, lrs, "after")
    np.testing.assert_allclose(npy(w), final, rtol=1e-12)
    np.testing.assert_allclose(npy(avg.average()[0]), mean, rtol=1e-12)


def test_float32_parameters_work():
    for opt_cls, kw in [(LBFGS, dict(line_search_fn="strong_wolfe")), (GD, {}),
                        (GD, dict(line_search="wolfe")), (GD, dict(line_search="exact"))]:
        x = tg.tensor([-1.5, 2.0], requires_grad=True)
        opt = opt_cls([x], **kw)

        def closure(opt=opt, x=x):
            opt.zero_grad()
            loss = rosenbrock(x[0], x[1])
            loss.backward()
            return loss

        for _ in range(5):
            opt.step(closure)
        assert x.dtype == tg.float32
        assert rosen_np(npy(x)) < rosen_np([-1.5, 2.0]), opt_cls
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    Newton([x]).step(lambda: (x * x).sum())
    assert x.dtype == tg.float32 and np.abs(npy(x)).max() < 1e-6


def test_docstring_examples():
    import doctest

    from tapegrad.optim import averaged, lbfgs, line_search, newton

    for module in (lbfgs, line_search, newton, averaged):
        results = doctest.testmod(module, extraglobs={"tg": tg})
        assert results.attempted > 0 and results.failed == 0, module.__name__
