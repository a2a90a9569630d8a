"""``tapegrad lab``: the lecture notes' claims as experiments, run on tapegrad, plotted
and checked.

Each experiment is one module of this package named after it, with ``TITLE``,
``CLAIM`` (the claim of the notes), ``FORMULA`` (the notes' formula, as text),
``run(ctx)`` (the setup and the measurements, returning a dict), ``checks(data)``
(the measured values held to the notes' expectations) and ``figure(data)`` (a
matplotlib Figure). ``EXPERIMENTS`` maps each name to its module, in the order of the
page; ``run`` runs them and writes ``NAME.png``, ``results.json`` and ``index.html``.
Figures need matplotlib (``pip install 'tapegrad[lab]'``); the experiments themselves
only need tapegrad and NumPy.

>>> from tapegrad import lab
>>> list(lab.EXPERIMENTS)[:3]
['graph', 'sgd_toy', 'convergence_bound']
>>> results = lab.run(["graph"], out="lab-out", quick=True)  # doctest: +SKIP
>>> all(c["passed"] for c in results["experiments"][0]["checks"])  # doctest: +SKIP
True
"""

from tapegrad.lab import (
    activations,
    adaptive_methods,
    batchnorm,
    constraints,
    convergence_bound,
    dropout,
    forward_vs_reverse,
    gradient_penalty,
    graph,
    heteroscedastic,
    init_variance,
    line_search,
    newton_lbfgs,
    nonconvex_rate,
    normalized_gd,
    quadratic_optimizers,
    sgd_toy,
    weight_decay,
)
from tapegrad.lab.runner import run, run_experiment

EXPERIMENTS = {m.__name__.rsplit(".", 1)[1]: m for m in (
    graph,
    sgd_toy,
    convergence_bound,
    quadratic_optimizers,
    line_search,
    newton_lbfgs,
    normalized_gd,
    nonconvex_rate,
    adaptive_methods,
    init_variance,
    activations,
    batchnorm,
    dropout,
    weight_decay,
    gradient_penalty,
    constraints,
    heteroscedastic,
    forward_vs_reverse,
)}

__all__ = ["EXPERIMENTS", "run", "run_experiment"]
