"""Train a tiny MLP with tapegrad: two interleaved half-moons, plain gradient descent.

Everything here is tapegrad's tensors and tape; NumPy only makes the data.
Run: python examples/train_tiny.py
"""

import numpy as np
import tapegrad as tg


def two_moons(n, rng):
    t = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], 1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    x = np.concatenate([upper, lower]) + rng.normal(0, 0.1, (2 * n, 2))
    y = np.concatenate([np.zeros(n), np.ones(n)])
    return x.astype(np.float32), y.astype(np.float32).reshape(-1, 1)


def main():
    rng = np.random.default_rng(0)
    x_np, y_np = two_moons(200, rng)
    x, y = tg.tensor(x_np), tg.tensor(y_np)

    tg.manual_seed(0)
    hidden = 16
    w1 = (tg.randn(2, hidden) * (1 / 2**0.5)).requires_grad_()
    b1 = tg.zeros(hidden, requires_grad=True)
    w2 = (tg.randn(hidden, 1) * (1 / hidden**0.5)).requires_grad_()
    b2 = tg.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]

    lr = 0.5
    for step in range(1, 1001):
        p = ((x @ w1 + b1).tanh() @ w2 + b2).sigmoid()
        # binary cross-entropy, written with the primitives
        loss = -(y * (p + 1e-7).log() + (1 - y) * (1 - p + 1e-7).log()).mean()
        for t in params:
            t.grad = None
        loss.backward()
        with tg.no_grad():
            for t in params:
                t -= lr * t.grad
        if step % 200 == 0:
            acc = float(((p > 0.5) == y).mean().item())
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {acc:.3f}")
    print(f"final accuracy {acc:.3f}")
    return acc


if __name__ == "__main__":
    main()
