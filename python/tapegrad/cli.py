"""The ``tapegrad`` command: ``tapegrad train``, ``tapegrad bench`` and ``tapegrad lab``.

``tapegrad train`` trains an MLP classifier end to end (by default on the
bundled UCI digits) and prints one progress line per epoch; ``tapegrad bench``
runs the microbenchmarks installed with the package; ``tapegrad lab`` runs the
lecture notes' claims as experiments and writes their figures, checks and a page.
"""

import argparse
import math
import os
import sys
import time

import numpy as np

import tapegrad as tg
from tapegrad.datasets import DataError, load_digits, load_table

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw",
              "lbfgs")
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05, "rmsprop": 1e-3,
              "adadelta": 1.0, "adam": 1e-3, "adamw": 1e-3, "lbfgs": 1.0}


class UsageError(Exception):
    """A bad argument: reported as one line on stderr with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _hidden(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 128,64, got {text!r}") from None
    if any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive, got {text!r}")
    return sizes


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def _probability(text):
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= p < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return p


def _experiment_names(text):
    from tapegrad.lab import EXPERIMENTS

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected experiment names like graph,dropout")
    for name in names:
        if name not in EXPERIMENTS:
            raise argparse.ArgumentTypeError(f"unknown experiment {name!r} (expected one of "
                                             f"{', '.join(EXPERIMENTS)})")
    return list(dict.fromkeys(names))  # in the given order, each once


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**32), got {text}")
    return value


def build_parser():
    parser = _Parser(prog="tapegrad",
                     description="tapegrad: train a model, run benchmarks or the lab")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train an MLP classifier (bundled digits by default)")
    t.add_argument("--data", help="a CSV (numeric features, label in the last column) or .npz "
                   "(arrays x and y); default: the bundled UCI digits")
    t.add_argument("--label-column", type=int, default=-1, help="CSV column of the label")
    t.add_argument("--hidden", type=_hidden, default=[128, 64], help="hidden sizes, e.g. 128,64")
    t.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu")
    t.add_argument("--batchnorm", action="store_true", help="BatchNorm1d after each hidden layer")
    t.add_argument("--dropout", type=_probability, default=0.0, help="dropout probability")
    t.add_argument("--init", choices=("default", "xavier", "kaiming", "lecun", "orthogonal"),
                   default="default", help="weight init (default: PyTorch's Linear init)")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    t.add_argument("--lr", type=_positive(float), help="learning rate (default per optimizer)")
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--schedule", choices=("constant", "step", "cosine", "inverse-time"),
                   default="constant")
    t.add_argument("--epochs", type=_positive(int), default=20)
    t.add_argument("--batch-size", type=_positive(int), default=32)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--save", metavar="PATH", help="save a checkpoint after every epoch")
    t.add_argument("--resume", metavar="PATH", help="continue from a checkpoint")
    t.add_argument("--stop-after", type=_positive(int), metavar="N",
                   help="stop after epoch N of the planned --epochs (resume later with --resume)")
    t.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    t.add_argument("--quiet", action="store_true", help="print only the final accuracy")
    b = sub.add_parser("bench", help="run the microbenchmarks against NumPy (and PyTorch)")
    b.add_argument("--quick", action="store_true", help="fewer sizes and repeats (< 1 minute)")
    b.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    lab = sub.add_parser("lab", help="run the lecture notes' claims as experiments: figures, "
                         "checks and one HTML page (needs matplotlib: tapegrad[lab])")
    lab.add_argument("--quick", action="store_true",
                     help="smaller sizes, same claims and checks (well under a minute)")
    lab.add_argument("--only", type=_experiment_names, metavar="NAME,...",
                     help="run only these experiments (default: all, in the page's order)")
    lab.add_argument("--out", default="tapegrad-lab", metavar="DIR",
                     help="where to write NAME.png, results.json and index.html "
                     "(default: ./tapegrad-lab)")
    lab.add_argument("--seed", type=_seed, default=0, help="seed of every experiment's data")
    return parser


# --- data ---------------------------------------------------------------------------------


def _split(n, seed):
    """70% training, 15% held-out (reported each epoch), 15% test (reported at the end),
    fixed by the seed."""
    order = np.random.default_rng(seed).permutation(n)
    a, b = int(0.7 * n), int(0.85 * n)
    return order[:a], order[a:b], order[b:]


def load_data(args):
    if args.data:
        x, y, names = load_table(args.data, args.label_column)
    else:
        x, y = load_digits()
        names = [str(i) for i in range(10)]
    if len(x) < 10:
        raise DataError(f"{args.data}: {len(x)} rows are too few to split into training, "
                        "held-out and test sets")
    train, held, test = _split(len(x), args.seed)
    mean, std = x[train].mean(0), x[train].std(0)
    std[std == 0] = 1.0  # constant columns (digits has some) stay 0 after centering
    x = (x - mean) / std
    dtype = getattr(tg, args.dtype)
    parts = {}
    for name, idx in (("train", train), ("held", held), ("test", test)):
        parts[name] = (tg.tensor(np.ascontiguousarray(x[idx]), dtype=dtype),
                       tg.tensor(np.ascontiguousarray(y[idx])))
    return parts, x.shape[1], len(names)


# --- model and training -----------------------------------------------------------------


def build_model(args, features, classes):
    act = {"relu": tg.nn.ReLU, "tanh": tg.nn.Tanh, "sigmoid": tg.nn.Sigmoid}[args.activation]
    layers, width = [], features
    for h in args.hidden:
        layers.append(tg.nn.Linear(width, h))
        if args.batchnorm:
            layers.append(tg.nn.BatchNorm1d(h))
        layers.append(act())
        if args.dropout > 0:
            layers.append(tg.nn.Dropout(args.dropout))
        width = h
    layers.append(tg.nn.Linear(width, classes))
    model = tg.nn.Sequential(*layers)
    if args.init != "default":
        gain = tg.nn.init.calculate_gain(args.activation)
        for m in model.modules():
            if isinstance(m, tg.nn.Linear):
                w = m.weight
                if args.init == "xavier":
                    tg.nn.init.xavier_uniform_(w, gain=gain)
                elif args.init == "kaiming":
                    tg.nn.init.kaiming_normal_(w, nonlinearity="relu" if args.activation == "relu"
                                               else "linear")
                elif args.init == "lecun":
                    tg.nn.init.lecun_normal_(w)
                else:
                    tg.nn.init.orthogonal_(w, gain=gain)
                tg.nn.init.zeros_(m.bias)
    if args.dtype == "float64":
        model.double()
    return model


def build_optimizer(args, model):
    lr = args.lr or DEFAULT_LR[args.optimizer]
    wd = args.weight_decay
    params = list(model.parameters())
    o = tg.optim
    name = args.optimizer
    if name == "sgd":
        return o.SGD(params, lr=lr, weight_decay=wd)
    if name in ("momentum", "nesterov"):
        return o.SGD(params, lr=lr, momentum=0.9, nesterov=name == "nesterov", weight_decay=wd)
    if name == "adagrad":
        return o.Adagrad(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return o.RMSprop(params, lr=lr, weight_decay=wd)
    if name == "adadelta":
        return o.Adadelta(params, lr=lr, weight_decay=wd)
    if name == "adam":
        return o.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return o.AdamW(params, lr=lr, weight_decay=wd or 1e-2)
    return o.LBFGS(params, lr=lr, max_iter=20, line_search_fn="strong_wolfe")


def build_schedule(args, optimizer):
    s = tg.optim.lr_scheduler
    if args.schedule == "step":
        return s.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.1)
    if args.schedule == "cosine":
        return s.CosineAnnealingLR(optimizer, T_max=args.epochs)
    if args.schedule == "inverse-time":
        return s.InverseTimeLR(optimizer, gamma=0.5)
    return None


def accuracy(model, x, y):
    with tg.no_grad():
        pred = model(x).max(dim=1).indices
    return float((pred == y).float().mean().item())


def _bar(fraction, width=20):
    filled = int(round(fraction * width))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _config(args):
    """The settings a checkpoint must share with the run that resumes it. The number
    of epochs is one of them when a schedule depends on it (step, cosine)."""
    keys = ["hidden", "activation", "batchnorm", "dropout", "init", "optimizer", "lr",
            "weight_decay", "schedule", "batch_size", "seed", "dtype", "data", "label_column"]
    if args.schedule in ("step", "cosine"):
        keys.append("epochs")
    return {k: getattr(args, k) for k in keys}


def train(args, out=sys.stdout):
    if args.resume and not os.path.exists(args.resume):
        raise DataError(f"{args.resume}: no such checkpoint")
    tg.manual_seed(args.seed)
    parts, features, classes = load_data(args)
    model = build_model(args, features, classes)
    optimizer = build_optimizer(args, model)
    schedule = build_schedule(args, optimizer)
    start = 0
    if args.resume:
        try:
            ck = tg.load(args.resume)
            if ck.get("config") != _config(args):
                raise DataError(f"{args.resume}: the checkpoint was made with other settings "
                                "(architecture, optimizer, data or seed); pass the same ones")
            model.load_state_dict(ck["model"])
            optimizer.load_state_dict(ck["optimizer"])
            if schedule is not None:
                schedule.load_state_dict(ck["schedule"])
            tg.set_rng_state(ck["rng"])
            start = int(ck["epoch"])
        except (KeyError, TypeError, AttributeError):
            raise DataError(f"{args.resume}: not a tapegrad train checkpoint") from None
    (x, y), (xh, yh), (xt, yt) = parts["train"], parts["held"], parts["test"]
    loader = tg.utils.data.DataLoader(tg.utils.data.TensorDataset(x, y),
                                      batch_size=args.batch_size, shuffle=True)
    loss_fn = tg.nn.CrossEntropyLoss()
    full_batch = args.optimizer == "lbfgs"
    if not args.quiet:
        print(f"tapegrad {tg.__version__}: {len(x)} training, {len(xh)} held-out, {len(xt)} "
              f"test samples; {features} features, {classes} classes; "
              f"{args.optimizer}, {args.epochs} epochs", file=out)
    stop = min(args.epochs, args.stop_after or args.epochs)
    for epoch in range(start, stop):
        model.train()
        began, seen, total = time.perf_counter(), 0, 0.0
        batches = [(x, y)] if full_batch else loader
        count = len(batches)
        for i, (xb, yb) in enumerate(batches):
            def closure(xb=xb, yb=yb):
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                return loss

            loss = optimizer.step(closure)
            total += float(loss.item()) * len(xb)
            seen += len(xb)
            if not args.quiet and out.isatty():
                print(f"\repoch {epoch + 1:3d}/{args.epochs} {_bar((i + 1) / count)}", end="",
                      file=out, flush=True)
        if schedule is not None:
            schedule.step()
        elapsed = time.perf_counter() - began
        if not math.isfinite(total):
            raise DataError("training diverged (the loss is not finite); try a smaller --lr")
        model.eval()
        train_acc, held_acc = accuracy(model, x, y), accuracy(model, xh, yh)
        if not args.quiet:
            print(f"\repoch {epoch + 1:3d}/{args.epochs} {_bar(1.0)} loss {total / seen:.4f}  "
                  f"train {100 * train_acc:5.1f}%  held-out {100 * held_acc:5.1f}%  "
                  f"{seen / elapsed:,.0f} samples/s", file=out, flush=True)
        if args.save:
            tg.save({"config": _config(args), "epoch": epoch + 1, "model": model.state_dict(),
                     "optimizer": optimizer.state_dict(),
                     "schedule": schedule.state_dict() if schedule is not None else None,
                     "rng": tg.get_rng_state()}, args.save)
    test_acc = accuracy(model.eval(), xt, yt)
    print(f"test accuracy {100 * test_acc:.2f}%", file=out)
    return test_acc


def bench(args):
    from tapegrad.bench import run_all

    argv = (["--quick"] if args.quick else []) + (["--json", args.json] if args.json else [])
    run_all.main(argv)  # prints the table (and writes the JSON); returns the results
    return 0


def lab(args, out=None):
    """Runs the experiments; 0 when every check passed, 1 when one failed, 2 without
    matplotlib or with an unusable output directory."""
    out = out or sys.stdout
    try:
        import matplotlib
    except ImportError:
        print("tapegrad lab: the figures need matplotlib; install it with "
              "pip install 'tapegrad[lab]'", file=sys.stderr)
        return 2
    from tapegrad import lab as tglab

    matplotlib.use("Agg")  # this process only writes files
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise DataError(f"{args.out}: exists and is not a directory")
    names = args.only or list(tglab.EXPERIMENTS)
    print(f"tapegrad lab: {len(names)} experiment{'s' if len(names) != 1 else ''}, "
          f"{'quick' if args.quick else 'full'} run, seed {args.seed}, into {args.out}",
          file=out, flush=True)
    began = time.perf_counter()
    results = tglab.run(names, out=args.out, quick=args.quick, seed=args.seed,
                        log=lambda line: print(line, file=out, flush=True))
    checks = [c for e in results["experiments"] for c in e["checks"]]
    passed = sum(c["passed"] for c in checks)
    print(f"{passed}/{len(checks)} checks passed in {time.perf_counter() - began:.0f} s; "
          f"open {os.path.join(args.out, 'index.html')}", file=out, flush=True)
    return 0 if passed == len(checks) else 1


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "train":
            train(args)
            return 0
        if args.command == "lab":
            return lab(args)
        return bench(args)
    except UsageError as e:
        print(f"tapegrad: error: {e}", file=sys.stderr)
        return 2
    except (DataError, tg.serialization.CorruptFileError, FileNotFoundError,
            PermissionError, IsADirectoryError) as e:
        print(f"tapegrad: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
