"""p(y|x) = N(NN₁(x), NN₂(x)): a network for the mean and one for the variance, fitted by
the Gaussian negative log-likelihood on data whose noise depends on x."""

import math

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, between, new_figure

TITLE = "Heteroscedastic regression: a network for the mean, one for the variance"
CLAIM = ("Modelling p(y|x) = N(y | NN₁(x), NN₂(x)) and minimizing the negative log-likelihood "
         "learns the noise level as a function of x: the predicted σ(x) = √NN₂(x) tracks the "
         "true one, and μ ± 2σ covers about 95% of new data.")
FORMULA = ("p(y|x) = N(y | NN₁(x, θ), NN₂(x, θ))\n"
           "−log p = ½ log NN₂(x) + (y − NN₁(x))² / (2·NN₂(x)) + const\n"
           "NN₂ > 0 through softplus;  here y = sin x + σ(x)·ε,  σ(x) = 0.1 + 0.025·(x + 3)², "
           "x ∈ [−3, 3]")


def _sigma(x):
    return 0.1 + 0.025 * (x + 3) ** 2


def _data(rng, n):
    x = rng.uniform(-3, 3, n)
    return x, np.sin(x) + _sigma(x) * rng.standard_normal(n)


class _Heteroscedastic(tg.nn.Module):
    def __init__(self):
        super().__init__()
        nn = tg.nn
        self.mean = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                                  nn.Linear(32, 1))
        self.var = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1), nn.Softplus())

    def forward(self, x):
        return self.mean(x)[:, 0], self.var(x)[:, 0] + 1e-6


def run(ctx):
    n, steps = ctx.pick(2000, 8000), ctx.pick(1200, 4000)
    x, y = _data(ctx.rng, n)
    xt, yt = tg.tensor(x[:, None], dtype=tg.float32), tg.tensor(y, dtype=tg.float32)
    model = _Heteroscedastic()
    opt = tg.optim.Adam(model.parameters(), lr=0.01)
    sched = tg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    nll = tg.nn.GaussianNLLLoss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        mean, var = model(xt)
        loss = nll(mean, yt, var)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    grid = np.linspace(-3, 3, 241)
    x_new, y_new = _data(ctx.rng, 20000)
    with tg.no_grad():
        mean, var = model(tg.tensor(grid[:, None], dtype=tg.float32))
        m_new, v_new = model(tg.tensor(x_new[:, None], dtype=tg.float32))
    inside = np.abs(y_new - m_new.numpy()) <= 2 * np.sqrt(v_new.numpy())
    return dict(x=x, y=y, grid=grid, mean=mean.numpy(), sigma=np.sqrt(var.numpy()),
                losses=np.array(losses), coverage=float(inside.mean()), tested=len(x_new))


def checks(data):
    grid = data["grid"]
    inner = np.abs(grid) <= 2.7  # away from the ends, where the data thins out
    rel = np.abs(data["sigma"] - _sigma(grid)) / _sigma(grid)
    mean_err = np.sqrt(((data["mean"] - np.sin(grid)) ** 2)[inner].mean())
    expected = math.erf(2 / math.sqrt(2))  # P(|z| ≤ 2) = 0.9545
    return [
        # each local σ is estimated from ~100-300 points (±5-7%) and smoothed by the network
        at_most("predicted σ(x) against the true σ(x): mean relative error on |x| ≤ 2.7",
                float(rel[inner].mean()), 0.1),
        at_most("the same, largest relative error on |x| ≤ 2.7", float(rel[inner].max()), 0.25),
        at_most("predicted mean against sin x: RMS error on |x| ≤ 2.7, relative to mean σ",
                float(mean_err / _sigma(grid)[inner].mean()), 0.2),
        # 20 000 fresh points: the standard error of a coverage near 0.95 is 0.0015; the rest
        # of the margin is for the fitted σ's own error
        between("fraction of new data inside μ(x) ± 2σ(x)", data["coverage"], expected - 0.02,
                expected + 0.02, f"{expected:.4f} ± 0.02"),
    ]


def figure(data):
    fig, (a1, a2, a3) = new_figure(3)
    grid, mean, sigma = data["grid"], data["mean"], data["sigma"]
    a1.plot(data["x"], data["y"], ".", ms=2, color="0.65", zorder=0)
    a1.fill_between(grid, mean - 2 * sigma, mean + 2 * sigma, color="C0", alpha=0.25,
                    label="μ(x) ± 2σ(x), predicted")
    a1.plot(grid, mean, "C0", label="μ(x) = NN₁(x)")
    a1.plot(grid, np.sin(grid) + 2 * _sigma(grid), "k--", lw=0.8, label="sin x ± 2σ(x), true")
    a1.plot(grid, np.sin(grid) - 2 * _sigma(grid), "k--", lw=0.8)
    a1.set_xlabel("x")
    a1.legend(fontsize=7, loc="lower left")
    a1.set_title(f"fit; new data inside the band: {100 * data['coverage']:.1f}%", fontsize=9)
    a2.plot(grid, sigma, "C0", label="σ(x) = √NN₂(x)")
    a2.plot(grid, _sigma(grid), "k--", lw=0.8, label="true σ(x)")
    a2.set_xlabel("x")
    a2.legend(fontsize=7)
    a2.set_title("predicted and true noise level", fontsize=9)
    a3.plot(data["losses"], "C0", lw=0.8)
    a3.set_xlabel("Adam step (full batch)")
    a3.set_title("Gaussian negative log-likelihood", fontsize=9)
    return fig
