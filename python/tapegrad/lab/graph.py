"""The computational graph: the notes' hand-derived partials against reverse mode
(backward) and forward mode (jvp), the graph drawn from the tape, and the matrix
product rule dL/dX = dL/dW·Yᵀ."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import Check, at_most, new_figure

TITLE = "Computational graph: backprop and forward propagation"
CLAIM = ("For f(x, y) = x²y + (x+y)² and f = (x₁+w₁)²(x₁w₁+x₂w₂) the chain rule along the "
         "graph gives the hand-derived partials, in reverse mode and in forward mode; for "
         "W = XY, dL/dX = dL/dW·Yᵀ and dL/dY = Xᵀ·dL/dW.")
FORMULA = ("f = x²y + (x+y)²:  ∂f/∂x = 2xy + 2(x+y),  ∂f/∂y = x² + 2(x+y)\n"
           "f = d·e, a = x₁+w₁, d = a², b = x₁w₁, c = x₂w₂, e = b + c:\n"
           "  ∂f/∂w₁ = 2ae + d·x₁,  ∂f/∂w₂ = d·x₂,  ∂f/∂x₁ = 2ae + d·w₁,  ∂f/∂x₂ = d·w₂\n"
           "  (the notes write d·x₁ for ∂f/∂x₁; ∂b/∂x₁ = w₁ makes it d·w₁)\n"
           "W = XY:  ∂L/∂X = ∂L/∂W · Yᵀ,  ∂L/∂Y = Xᵀ · ∂L/∂W")

# Each partial is a handful of float64 operations: reverse, forward and the formula
# agree to a few units of rounding of values of size ~10.
_TOL = 1e-12


def _f1(x, y):
    return x ** 2 * y + (x + y) ** 2


def _f2(x1, x2, w1, w2):
    return (x1 + w1) ** 2 * (x1 * w1 + x2 * w2)


def tape_graph(output):
    """The tape behind ``output`` as ``(names, edges)``: ``names`` lists the ``grad_fn``
    nodes in breadth-first order from the output, with ``None`` for each input that is
    not an operation (a leaf, which the tape shows as an ``AccumulateGrad``, or a
    constant, which it shows as ``None``), and ``edges`` holds ``(consumer, input)``
    index pairs."""
    nodes, index, edges = [output.grad_fn], {id(output.grad_fn): 0}, []
    queue = [output.grad_fn]
    while queue:
        node = queue.pop(0)
        i = index[id(node)]
        for nxt, _ in node.next_functions:
            if nxt is None or nxt.name() == "AccumulateGrad":
                nodes.append(None)
                edges.append((i, len(nodes) - 1))
                continue
            if id(nxt) not in index:
                index[id(nxt)] = len(nodes)
                nodes.append(nxt)
                queue.append(nxt)
            edges.append((i, index[id(nxt)]))
    return [None if n is None else n.name() for n in nodes], edges


def _depths(n, edges):
    depth = [0] * n
    for _ in range(n):  # longest path from the output; the graph is small
        for a, b in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    return depth


def run(ctx):
    r = ctx.rng
    x, y = (float(v) for v in np.round(r.uniform(-2, 2, 2), 3))
    xt = tg.tensor(x, dtype=tg.float64, requires_grad=True)
    yt = tg.tensor(y, dtype=tg.float64, requires_grad=True)
    f = _f1(xt, yt)
    graph1 = tape_graph(f)
    f.backward()
    hand1 = [2 * x * y + 2 * (x + y), x * x + 2 * (x + y)]
    reverse1 = [xt.grad.item(), yt.grad.item()]
    args = tuple(tg.tensor(v, dtype=tg.float64) for v in (x, y))
    forward1 = []
    for k in range(2):
        tangent = tuple(tg.tensor(1.0 if j == k else 0.0, dtype=tg.float64) for j in range(2))
        forward1.append(tg.autograd.functional.jvp(_f1, args, tangent)[1].item())

    x1, x2, w1, w2 = (float(v) for v in np.round(r.uniform(-2, 2, 4), 3))
    a = x1 + w1
    d, e = a * a, x1 * w1 + x2 * w2
    hand2 = [2 * a * e + d * x1, d * x2, 2 * a * e + d * w1, d * w2]  # w1, w2, x1, x2
    leaves = [tg.tensor(v, dtype=tg.float64, requires_grad=True) for v in (x1, x2, w1, w2)]
    f2 = _f2(*leaves)
    graph2 = tape_graph(f2)
    f2.backward()
    reverse2 = [leaves[i].grad.item() for i in (2, 3, 0, 1)]
    args2 = tuple(t.detach() for t in leaves)
    forward2 = []
    for k in (2, 3, 0, 1):  # the notes' forward propagation seeds ∂w₁/∂w₁ = 1
        tangent = tuple(tg.tensor(1.0 if j == k else 0.0, dtype=tg.float64) for j in range(4))
        forward2.append(tg.autograd.functional.jvp(_f2, args2, tangent)[1].item())

    big_x = tg.tensor(r.standard_normal((3, 4)), requires_grad=True)
    big_y = tg.tensor(r.standard_normal((4, 5)), requires_grad=True)
    target = tg.tensor(r.standard_normal((3, 5)))
    w = big_x @ big_y
    loss = (tg.tanh(w - target) ** 2).sum()
    dw, dx, dy = tg.autograd.grad(loss, [w, big_x, big_y])
    dw, dx, dy = dw.numpy(), dx.numpy(), dy.numpy()
    xn, yn = big_x.detach().numpy(), big_y.detach().numpy()
    return dict(point1=(x, y), point2=(x1, x2, w1, w2), hand1=hand1, reverse1=reverse1,
                forward1=forward1, hand2=hand2, reverse2=reverse2, forward2=forward2,
                graph1=graph1,
                graph2=graph2,
                matrix_dx=float(np.abs(dx - dw @ yn.T).max()),
                matrix_dy=float(np.abs(dy - xn.T @ dw).max()))


def _node_check(claim, names, expected):
    short = ", ".join(n.replace("Backward", "") for n in expected)
    return Check(claim, len(names), f"{len(expected)}: {short}", sorted(names) == expected)


def checks(data):
    err = lambda a, b: float(np.abs(np.subtract(a, b)).max())  # noqa: E731
    names1 = [n for n in data["graph1"][0] if n is not None]
    names2 = [n for n in data["graph2"][0] if n is not None]
    return [
        at_most("f = x²y + (x+y)²: reverse mode equals the hand-derived (∂f/∂x, ∂f/∂y)",
                err(data["reverse1"], data["hand1"]), _TOL),
        at_most("f = x²y + (x+y)²: forward mode (jvp) equals the hand-derived partials",
                err(data["forward1"], data["hand1"]), _TOL),
        at_most("f = (x₁+w₁)²(x₁w₁+x₂w₂): reverse mode equals 2ae + d·x₁, d·x₂, 2ae + d·w₁, "
                "d·w₂", err(data["reverse2"], data["hand2"]), _TOL),
        at_most("f = (x₁+w₁)²(x₁w₁+x₂w₂): forward propagation equals the same partials",
                err(data["forward2"], data["hand2"]), _TOL),
        _node_check("the tape of x²y + (x+y)² has one node per operation (nodes counted)",
                    names1, ["AddBackward", "AddBackward", "MulBackward", "PowBackward",
                             "PowBackward"]),
        _node_check("the tape of (x₁+w₁)²(x₁w₁+x₂w₂) has one node per operation a … f",
                    names2, ["AddBackward", "AddBackward", "MulBackward", "MulBackward",
                             "MulBackward", "PowBackward"]),
        at_most("W = XY: max |∂L/∂X − ∂L/∂W·Yᵀ|", data["matrix_dx"], 1e-12),
        at_most("W = XY: max |∂L/∂Y − Xᵀ·∂L/∂W|", data["matrix_dy"], 1e-12),
    ]


def _draw_graph(ax, graph, title):
    names, edges = graph
    depth = _depths(len(names), edges)
    bottom = max(depth)
    levels = {}
    for i in range(len(names)):
        levels.setdefault(depth[i], []).append(i)
    pos = {}
    for lv, members in levels.items():
        for k, i in enumerate(members):
            pos[i] = ((k + 1) / (len(members) + 1), 1 - lv / bottom)
    arrow = dict(arrowstyle="->", color="0.4", lw=0.9, shrinkA=12, shrinkB=12)
    for a, b in edges:  # the value flows from the input b up to its consumer a
        style = arrow if names[b] is not None else dict(arrow, ls=":")
        ax.annotate("", xy=pos[a], xytext=pos[b], arrowprops=style)
    for i, name in enumerate(names):
        if name is None:
            ax.text(*pos[i], "leaf", ha="center", va="center", fontsize=7,
                    bbox=dict(boxstyle="circle", fc="#eef4fb", ec="0.6"))
        else:
            ax.text(*pos[i], name.replace("Backward", ""), ha="center", va="center",
                    fontsize=8, bbox=dict(boxstyle="round", fc="#ffd9a8" if i == 0 else
                                          "#fff4d6", ec="0.4"))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.08, 1.08)
    ax.axis("off")
    ax.set_title(title, fontsize=9)


def figure(data):
    fig, (a1, a2, a3) = new_figure(3, width=4.0)
    _draw_graph(a1, data["graph1"],
                "tape of x²y + (x+y)², output on top\n(leaf: an input or a constant)")
    _draw_graph(a2, data["graph2"],
                "tape of (x₁+w₁)²(x₁w₁+x₂w₂)\n(from grad_fn and next_functions)")
    labels = ["∂f/∂x", "∂f/∂y", "∂f/∂w₁", "∂f/∂w₂", "∂f/∂x₁", "∂f/∂x₂"]
    hand = data["hand1"] + data["hand2"]
    rev = data["reverse1"] + data["reverse2"]
    fwd = data["forward1"] + data["forward2"]
    pos = np.arange(len(labels))
    for k, (vals, lab) in enumerate(((hand, "by hand"), (rev, "reverse (backward)"),
                                     (fwd, "forward (jvp)"))):
        a3.bar(pos + (k - 1) * 0.27, vals, 0.27, label=lab)
    a3.set_xticks(pos, labels, fontsize=8)
    a3.axhline(0, color="0.5", lw=0.6)
    a3.legend(fontsize=7)
    a3.set_title("the partials three ways", fontsize=9)
    return fig
