"""tg.nn against PyTorch: module mechanics, layers, losses, batch norm, dropout, init,
parametrizations and gradient clipping.

PyTorch is the oracle wherever it is used (tests that need it take the ``torch``
fixture and skip without it); the rest compare against NumPy or closed formulas.
Crash-prone bad inputs are in test_nn_bad_inputs.py.
"""

import math
from collections import OrderedDict

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import nn
from tapegrad.nn import functional as F
from tapegrad.nn.utils import parametrizations as P
from tapegrad.nn.utils import parametrize

DTYPES = [tg.float64, tg.float32]
NP = {tg.float64: np.float64, tg.float32: np.float32}
TOL = {tg.float64: dict(rtol=1e-10, atol=1e-12), tg.float32: dict(rtol=1e-5, atol=1e-5)}


# --- helpers -----------------------------------------------------------------------------


def dname(dtype):
    return str(dtype).split(".")[-1]


def npy(t):
    """A NumPy copy of a tapegrad or torch tensor."""
    return np.array(t.detach().numpy(), copy=True)


def tgt(a, dtype=None, requires_grad=False):
    a = np.asarray(a)
    if dtype is not None:
        a = a.astype(NP[dtype])
    return tg.tensor(a.copy(), requires_grad=requires_grad)


def tht(torch, a, requires_grad=False):
    return torch.tensor(np.asarray(a).copy(), requires_grad=requires_grad)


def close(a, b, dtype=tg.float64, what=""):
    np.testing.assert_allclose(npy(a) if hasattr(a, "detach") else a,
                               npy(b) if hasattr(b, "detach") else b, err_msg=what,
                               **TOL[dtype])


def to_torch_sd(torch, sd):
    return OrderedDict((k, torch.from_numpy(npy(v))) for k, v in sd.items())


def to_tg_sd(sd):
    return OrderedDict((k, tg.tensor(npy(v))) for k, v in sd.items())


def paired(torch, tg_mod, th_mod, dtype):
    """th_mod converted to dtype, with tapegrad's state loaded into it."""
    th_mod.to(getattr(torch, dname(dtype)))
    th_mod.load_state_dict(to_torch_sd(torch, tg_mod.state_dict()))
    return th_mod


def forward_backward_both(torch, tg_fn, th_fn, arrays, dtype, rng, grad_mask=None):
    """Runs both functions on the same inputs (all requiring grad unless grad_mask says
    otherwise), compares outputs, backpropagates the same random cotangent and compares
    the input gradients. Returns the outputs."""
    grad_mask = grad_mask or [True] * len(arrays)
    xs = [tgt(a, dtype, requires_grad=m) for a, m in zip(arrays, grad_mask)]
    ys = [tht(torch, np.asarray(a).astype(NP[dtype]), requires_grad=m)
          for a, m in zip(arrays, grad_mask)]
    out_tg, out_th = tg_fn(*xs), th_fn(*ys)
    assert tuple(out_tg.shape) == tuple(out_th.shape)
    assert out_tg.dtype == dtype
    close(out_tg, out_th, dtype, "forward")
    cot = rng.standard_normal(tuple(out_th.shape)).astype(NP[dtype])
    (out_tg * tgt(cot)).sum().backward()
    (out_th * tht(torch, cot)).sum().backward()
    for i, (a, b) in enumerate(zip(xs, ys)):
        if grad_mask[i]:
            assert a.grad is not None, f"no gradient for input {i}"
            close(a.grad, b.grad, dtype, f"gradient of input {i}")
    return out_tg, out_th


def compare_param_grads(tg_mod, th_mod, dtype):
    tg_named, th_named = list(tg_mod.named_parameters()), list(th_mod.named_parameters())
    assert [n for n, _ in tg_named] == [n for n, _ in th_named]
    for (name, a), (_, b) in zip(tg_named, th_named):
        assert a.grad is not None, f"no gradient for {name}"
        close(a.grad, b.grad, dtype, f"gradient of {name}")


def compare_state(tg_mod, th_mod, dtype):
    sa, sb = tg_mod.state_dict(), th_mod.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        close(sa[k], sb[k], dtype, k)


# --- 1. module mechanics -------------------------------------------------------------------


class TgNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(),
                                  nn.Sequential(nn.Linear(4, 4, bias=False), nn.Tanh()))
        self.head = nn.Linear(4, 2)
        self.scale = nn.Parameter(tg.ones(2))
        self.register_buffer("offset", tg.zeros(2))

    def forward(self, x):
        return self.head(self.body(x)) * self.scale + self.offset


def make_torch_net(torch):
    tn = torch.nn

    class Net(tn.Module):
        def __init__(self):
            super().__init__()
            self.body = tn.Sequential(tn.Linear(3, 4), tn.BatchNorm1d(4), tn.ReLU(),
                                      tn.Sequential(tn.Linear(4, 4, bias=False), tn.Tanh()))
            self.head = tn.Linear(4, 2)
            self.scale = tn.Parameter(torch.ones(2))
            self.register_buffer("offset", torch.zeros(2))

        def forward(self, x):
            return self.head(self.body(x)) * self.scale + self.offset

    return Net()


def test_attribute_assignment_registers_parameters_modules_buffers():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(tg.ones(2, 3))
            self.sub = nn.Linear(3, 1)
            self.register_buffer("stat", tg.zeros(3))
            self.plain = tg.ones(5)  # a plain tensor is neither parameter nor buffer
            self.number = 3

    m = M()
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    assert [n for n, _ in m.named_buffers()] == ["stat"]
    assert list(m.children()) == [m.sub]
    assert m.w.shape == (2, 3) and m.stat.shape == (3,) and m.plain.shape == (5,)
    assert list(m.state_dict()) == ["w", "stat", "sub.weight", "sub.bias"]
    # reassigning a Parameter replaces it; assigning None keeps the slot empty
    new_w = nn.Parameter(tg.zeros(4))
    m.w = new_w
    assert m.w is new_w and dict(m.named_parameters())["w"] is new_w
    m.w = None
    assert m.w is None and [n for n, _ in m.named_parameters()] == ["sub.weight", "sub.bias"]
    # a buffer can be replaced by a tensor and stays a buffer
    m.stat = tg.ones(3)
    assert [n for n, _ in m.named_buffers()] == ["stat"]
    np.testing.assert_array_equal(npy(m.stat), np.ones(3))
    # deleting a submodule unregisters it
    del m.sub
    assert list(m.children()) == [] and not hasattr(m, "sub")
    with pytest.raises(AttributeError):
        _ = m.missing


def test_parameter_is_a_leaf_requiring_grad_and_shares_data():
    base = tg.tensor(np.arange(6.0).reshape(2, 3))
    p = nn.Parameter(base)
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.is_leaf and p.grad_fn is None
    np.testing.assert_array_equal(npy(p), np.arange(6.0).reshape(2, 3))
    q = nn.Parameter(tg.ones(2), requires_grad=False)
    assert not q.requires_grad


def test_named_parameters_buffers_and_state_dict_keys_match_torch(torch):
    net, tnet = TgNet(), make_torch_net(torch)
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert [tuple(p.shape) for p in net.parameters()] == \
        [tuple(p.shape) for p in tnet.parameters()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in tnet.named_buffers()]
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert [n for n, _ in net.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert [type(m).__name__ for m in net.modules()][1:] == \
        [type(m).__name__ for m in tnet.modules()][1:]
    assert [n for n, _ in net.named_children()] == [n for n, _ in tnet.named_children()]
    # the same model: torch loads tapegrad's state dict and computes the same output
    paired(torch, net, tnet, tg.float32)
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    close(net(tgt(x)), tnet(tht(torch, x)), tg.float32)


def test_state_dict_values_are_detached_and_keep_vars():
    lin = nn.Linear(3, 2)
    sd = lin.state_dict()
    assert not sd["weight"].requires_grad
    np.testing.assert_array_equal(npy(sd["weight"]), npy(lin.weight))
    with tg.no_grad():  # as PyTorch's, the values share the parameters' memory
        sd["bias"].fill_(0.25)
    np.testing.assert_array_equal(npy(lin.bias), np.full(2, 0.25, dtype=np.float32))
    kv = lin.state_dict(keep_vars=True)
    assert kv["weight"] is lin.weight and kv["bias"] is lin.bias


def test_parameters_dedupes_shared_parameters(torch):
    def build(lib):
        a, b = lib.nn.Linear(3, 3), lib.nn.Linear(3, 3)
        b.weight = a.weight
        return lib.nn.Sequential(a, b, a)  # a shared module and a shared parameter

    net, tnet = build(tg), build(torch)
    params = list(net.parameters())
    assert len(params) == len(list(tnet.parameters())) == 3
    assert len({id(p) for p in params}) == 3
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert len(list(net.modules())) == len(list(tnet.modules())) == 3
    assert len(list(net.children())) == len(list(tnet.children())) == 2
    assert sorted(net.state_dict()) == sorted(tnet.state_dict())
    # the shared parameter gets one gradient: the sum over its three uses
    x = tg.randn(2, 3)
    net(x).sum().backward()
    assert net[0].weight.grad is net[1].weight.grad


def test_reassigning_a_parameter_keeps_its_place_like_torch(torch):
    # PyTorch replaces a re-assigned Parameter in place in _parameters, so the order of
    # named_parameters() and state_dict() keys does not change
    def build(lib):
        lin = lib.nn.Linear(3, 3)
        lin.weight = lib.nn.Parameter(lib.zeros(3, 3))
        return lin

    lin, tlin = build(tg), build(torch)
    assert [n for n, _ in tlin.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert list(lin.state_dict()) == list(tlin.state_dict())


def test_train_eval_propagate_to_all_submodules():
    net = TgNet()
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not any(m.training for m in net.modules())
    net.body.train()
    assert not net.training and net.body[3][0].training and not net.head.training


def test_zero_grad_set_to_none_and_to_zero():
    net = TgNet()
    net(tg.randn(5, 3)).sum().backward()
    grads = {n: p.grad for n, p in net.named_parameters()}
    assert all(g is not None for g in grads.values())
    net.zero_grad(set_to_none=False)
    for n, p in net.named_parameters():
        assert p.grad is not None, n
        assert p.grad.shape == p.shape
        np.testing.assert_array_equal(npy(p.grad), np.zeros(p.shape))
    net.zero_grad()  # default: set_to_none=True, as PyTorch 2
    assert all(p.grad is None for p in net.parameters())


def test_register_buffer_persistent_and_not(torch):
    def build(lib):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("kept", lib.ones(2))
        m.register_buffer("scratch", lib.zeros(3), persistent=False)
        m.register_buffer("empty", None)
        return m

    m, tm = build(tg), build(torch)
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in tm.named_buffers()] == \
        ["kept", "scratch"]
    assert list(m.state_dict()) == list(tm.state_dict()) == ["weight", "bias", "kept"]
    assert m.empty is None
    # buffers are not parameters and do not require grad
    assert all(b is not p for b in m.buffers() for p in m.parameters())
    assert not m.kept.requires_grad


def test_load_state_dict_copies_values_into_the_same_objects():
    a, b = TgNet(), TgNet()
    a.body[1](tg.randn(8, 4))  # make a's running statistics non-trivial
    w = b.head.weight
    result = b.load_state_dict(a.state_dict())
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    assert b.head.weight is w
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(npy(b.state_dict()[k]), npy(v), err_msg=k)
    # the state dict copies values: changing the source afterwards doesn't leak into b
    with tg.no_grad():
        a.head.weight.add_(1.0)
    assert not np.array_equal(npy(a.head.weight), npy(b.head.weight))


def test_load_state_dict_strict_errors_name_the_keys(torch):
    net, tnet = TgNet(), make_torch_net(torch)
    sd = net.state_dict()

    missing = OrderedDict(sd)
    del missing["head.bias"], missing["body.1.running_var"]
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(missing)
    assert "head.bias" in str(e.value) and "body.1.running_var" in str(e.value)
    assert "issing" in str(e.value)

    extra = OrderedDict(sd)
    extra["head.extra"] = tg.ones(2)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(extra)
    assert "head.extra" in str(e.value) and "nexpected" in str(e.value)

    for strict in (True, False):
        bad = OrderedDict(sd)
        bad["head.weight"] = tg.ones(3, 4)
        with pytest.raises(RuntimeError) as e:
            net.load_state_dict(bad, strict=strict)
        assert "head.weight" in str(e.value)
        with pytest.raises(RuntimeError):  # torch agrees: a size mismatch is always an error
            tnet.load_state_dict(to_torch_sd(torch, bad), strict=strict)

    # nothing was copied by the failing loads
    for k, v in sd.items():
        np.testing.assert_array_equal(npy(net.state_dict()[k]), npy(v), err_msg=k)

    both = OrderedDict(missing)
    both["head.extra"] = tg.ones(2)
    res = net.load_state_dict(both, strict=False)
    tres = tnet.load_state_dict(to_torch_sd(torch, both), strict=False)
    assert list(res.missing_keys) == list(tres.missing_keys)
    assert list(res.unexpected_keys) == list(tres.unexpected_keys)
    missing_keys, unexpected_keys = res
    assert sorted(missing_keys) == ["body.1.running_var", "head.bias"]
    assert unexpected_keys == ["head.extra"]


def test_load_state_dict_converts_dtype():
    lin32 = nn.Linear(3, 2)
    lin64 = nn.Linear(3, 2).double()
    lin32.load_state_dict(lin64.state_dict())
    assert lin32.weight.dtype == tg.float32
    np.testing.assert_allclose(npy(lin32.weight), npy(lin64.weight).astype(np.float32))


def test_double_and_float_convert_in_place():
    net = TgNet()
    params = {n: p for n, p in net.named_parameters()}
    buffers = {n: b for n, b in net.named_buffers()}
    before = {n: npy(p) for n, p in net.named_parameters()}
    assert net.double() is net
    for n, p in net.named_parameters():
        assert p is params[n], f"{n} was replaced instead of converted"
        assert isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf
        assert p.dtype == tg.float64, n
        np.testing.assert_array_equal(npy(p), before[n].astype(np.float64))
    for n, b in net.named_buffers():
        assert b is buffers[n]
    assert net.body[1].running_mean.dtype == tg.float64
    assert net.body[1].running_var.dtype == tg.float64
    assert net.offset.dtype == tg.float64
    assert net.body[1].num_batches_tracked.dtype == tg.int64
    out = net(tg.randn(4, 3, dtype=tg.float64))
    assert out.dtype == tg.float64
    out.sum().backward()
    assert all(p.grad.dtype == tg.float64 for p in net.parameters())
    net.float()
    for n, p in net.named_parameters():
        assert p is params[n] and p.dtype == tg.float32
    assert net.body[1].running_var.dtype == tg.float32
    assert net(tg.randn(4, 3)).dtype == tg.float32


def test_sequential_indexing_slicing_iteration_append(torch):
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 4),
                                 lib.nn.Tanh())

    seq, tseq = build(tg), build(torch)
    assert len(seq) == 4
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[1], nn.ReLU)
    assert seq[-1] is seq[3] and seq[-4] is seq[0]
    assert list(seq) == [seq[0], seq[1], seq[2], seq[3]]
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2
    assert sub[0] is seq[1] and sub[1] is seq[2]
    assert list(sub.state_dict()) == list(tseq[1:3].state_dict())  # keeps the names
    assert list(seq[::2].state_dict()) == list(tseq[::2].state_dict())
    with pytest.raises(IndexError):
        seq[4]
    with pytest.raises(IndexError):
        seq[-5]
    seq.append(nn.Linear(4, 1))
    tseq.append(torch.nn.Linear(4, 1))
    assert len(seq) == 5
    assert list(seq.state_dict()) == list(tseq.state_dict())
    assert seq(tg.ones(7, 2)).shape == (7, 1)
    # OrderedDict construction keeps the names
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]


# --- 2. parity with torch: layers --------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=dname)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("in_shape", [(5,), (4, 5), (2, 3, 5)], ids=str)
def test_linear_matches_torch(torch, rng, dtype, bias, in_shape):
    lin = nn.Linear(5, 3, bias=bias).to(dtype)
    tlin = paired(torch, lin, torch.nn.Linear(5, 3, bias=bias), dtype)
    x = rng.standard_normal(in_shape)
    out, _ = forward_backward_both(torch, lin, tlin, [x], dtype, rng)
    assert out.shape == in_shape[:-1] + (3,)
    compare_param_grads(lin, tlin, dtype)
    # the formula, independently of torch
    w = npy(lin.weight).astype(np.float64)
    expect = x @ w.T + (npy(lin.bias) if bias else 0)
    np.testing.assert_allclose(npy(lin(tgt(x, dtype))), expect, **TOL[dtype])


def test_linear_functional_matches_formula(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    np.testing.assert_allclose(npy(F.linear(tgt(x), tgt(w), tgt(b))), x @ w.T + b, rtol=1e-12)
    np.testing.assert_allclose(npy(F.linear(tgt(x), tgt(w))), x @ w.T, rtol=1e-12)


ACTIVATIONS = [
    ("ReLU", lambda lib: lib.nn.ReLU()),
    ("Tanh", lambda lib: lib.nn.Tanh()),
    ("Sigmoid", lambda lib: lib.nn.Sigmoid()),
    ("Softplus", lambda lib: lib.nn.Softplus()),
    ("Softplus-beta2-thr3", lambda lib: lib.nn.Softplus(beta=2.0, threshold=3.0)),
    ("Softplus-beta0.5-thr1", lambda lib: lib.nn.Softplus(beta=0.5, threshold=1.0)),
    ("Identity", lambda lib: lib.nn.Identity()),
    ("Dropout-eval", lambda lib: lib.nn.Dropout(0.7).eval()),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=dname)
@pytest.mark.parametrize("name,make", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_modules_match_torch(torch, rng, dtype, name, make):
    x = np.concatenate([rng.uniform(-6, 6, 41), [-3.0, -1.5, -0.25, 0.3, 1.5, 2.5, 4.0]])
    x = x.reshape(3, -1)
    forward_backward_both(torch, make(tg), make(torch), [x], dtype, rng)


def test_functional_activations_match_torch(torch, rng):
    x = rng.uniform(-5, 5, (4, 6))
    pairs = [
        (F.relu, torch.nn.functional.relu),
        (F.sigmoid, torch.sigmoid),
        (F.tanh, torch.tanh),
        (lambda t: F.softplus(t, 3.0, 2.0), lambda t: torch.nn.functional.softplus(t, 3.0, 2.0)),
        (lambda t: F.softmax(t, 1), lambda t: torch.softmax(t, 1)),
        (lambda t: F.log_softmax(t, 0), lambda t: torch.log_softmax(t, 0)),
    ]
    for f, tf in pairs:
        forward_backward_both(torch, f, tf, [x], tg.float64, rng)


BN_CONFIGS = [
    dict(affine=True, track_running_stats=True, momentum=0.1),
    dict(affine=False, track_running_stats=True, momentum=0.1),
    dict(affine=True, track_running_stats=False, momentum=0.1),
    dict(affine=False, track_running_stats=False, momentum=0.1),
    dict(affine=True, track_running_stats=True, momentum=None),
    dict(affine=True, track_running_stats=True, momentum=0.3, eps=1e-3),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=dname)
@pytest.mark.parametrize("shape", [(6, 4), (5, 4, 3)], ids=str)
@pytest.mark.parametrize("cfg", BN_CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in
                                                                     c.items()))
def test_batchnorm1d_train_and_eval_match_torch(torch, rng, dtype, shape, cfg):
    bn = nn.BatchNorm1d(4, **cfg).to(dtype)
    tbn = paired(torch, bn, torch.nn.BatchNorm1d(4, **cfg), dtype)
    assert list(bn.state_dict()) == list(tbn.state_dict())
    if cfg["affine"]:  # non-trivial affine parameters
        with tg.no_grad():
            bn.weight.copy_(tgt(rng.uniform(0.5, 2.0, 4), dtype))
            bn.bias.copy_(tgt(rng.standard_normal(4), dtype))
        paired(torch, bn, tbn, dtype)
    for _ in range(5):
        x = rng.standard_normal(shape) * rng.uniform(0.5, 3.0, (1, 4) + (1,) * (len(shape) - 2)) \
            + rng.uniform(-2, 2, (1, 4) + (1,) * (len(shape) - 2))
        bn.zero_grad()
        tbn.zero_grad()
        forward_backward_both(torch, bn, tbn, [x], dtype, rng)
        if cfg["affine"]:
            compare_param_grads(bn, tbn, dtype)
    compare_state(bn, tbn, dtype)
    if cfg["track_running_stats"]:
        assert int(bn.num_batches_tracked.item()) == 5
        assert bn.num_batches_tracked.dtype == tg.int64
    bn.eval()
    tbn.eval()
    # eval: the running statistics (or the batch's without them); N=1 works with them
    n = 1 if cfg["track_running_stats"] else 3
    x = rng.standard_normal((n,) + shape[1:])
    bn.zero_grad()
    tbn.zero_grad()
    forward_backward_both(torch, bn, tbn, [x], dtype, rng)
    if cfg["affine"]:
        compare_param_grads(bn, tbn, dtype)
    compare_state(bn, tbn, dtype)  # eval leaves the statistics alone


def test_batchnorm1d_loads_torch_trained_state(torch, rng):
    # the other direction: torch trains, tapegrad loads its state dict and evaluates
    tbn = torch.nn.BatchNorm1d(3, momentum=0.2).double()
    with torch.no_grad():
        tbn.weight.copy_(tht(torch, rng.uniform(0.5, 2, 3)))
        tbn.bias.copy_(tht(torch, rng.standard_normal(3)))
    for _ in range(4):
        tbn(tht(torch, rng.standard_normal((5, 3)) * 2 + 1))
    bn = nn.BatchNorm1d(3, momentum=0.2).double()
    bn.load_state_dict(to_tg_sd(tbn.state_dict()))
    assert int(bn.num_batches_tracked.item()) == 4
    bn.eval()
    tbn.eval()
    x = rng.standard_normal((2, 3))
    forward_backward_both(torch, bn, tbn, [x], tg.float64, rng)
    compare_param_grads(bn, tbn, tg.float64)


def test_batchnorm1d_running_stats_formula(rng):
    # momentum 0.1 and the unbiased variance, independently of torch
    bn = nn.BatchNorm1d(3).double()
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(5):
        x = rng.standard_normal((7, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -3.0]
        out = bn(tgt(x))
        mu, v = x.mean(0), x.var(0)
        np.testing.assert_allclose(npy(out), (x - mu) / np.sqrt(v + 1e-5), rtol=1e-10,
                                   atol=1e-12)
        mean = 0.9 * mean + 0.1 * mu
        var = 0.9 * var + 0.1 * x.var(0, ddof=1)
    np.testing.assert_allclose(npy(bn.running_mean), mean, rtol=1e-12)
    np.testing.assert_allclose(npy(bn.running_var), var, rtol=1e-12)


def test_batchnorm1d_cumulative_average_with_momentum_none(rng):
    bn = nn.BatchNorm1d(2, momentum=None).double()
    batches = [rng.standard_normal((4, 2)) + i for i in range(5)]
    for b in batches:
        bn(tgt(b))
    # a cumulative average of the batch statistics (the initial 0 / 1 weigh nothing)
    np.testing.assert_allclose(npy(bn.running_mean), np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-12)
    np.testing.assert_allclose(npy(bn.running_var),
                               np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-12)


def test_functional_batch_norm_matches_torch(torch, rng):
    x = rng.standard_normal((6, 3)) * 2 + 1
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    w, b = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    trm, trv = tht(torch, rm), tht(torch, rv)
    grm, grv = tgt(rm), tgt(rv)
    for training in (True, False):
        forward_backward_both(
            torch,
            lambda x_, w_, b_, t=training: F.batch_norm(x_, grm, grv, w_, b_, t, 0.2, 1e-4),
            lambda x_, w_, b_, t=training: torch.nn.functional.batch_norm(
                x_, trm, trv, w_, b_, t, 0.2, 1e-4),
            [x, w, b], tg.float64, rng)
        close(grm, trm)
        close(grv, trv)
    # training without running statistics or affine parameters
    forward_backward_both(
        torch, lambda x_: F.batch_norm(x_, None, None, training=True),
        lambda x_: torch.nn.functional.batch_norm(x_, None, None, training=True),
        [x], tg.float64, rng)


def test_batchnorm1d_training_needs_more_than_one_value_per_channel(torch):
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError):
        bn(tg.randn(1, 3))
    with pytest.raises(ValueError):
        bn(tg.randn(1, 3, 1))
    with pytest.raises(ValueError):
        F.batch_norm(tg.randn(1, 3), None, None, training=True)
    # torch agrees on which shapes are too small
    tbn = torch.nn.BatchNorm1d(3)
    with pytest.raises(ValueError):
        tbn(torch.randn(1, 3))
    # (1, C, L) with L > 1 has L values per channel: fine in both
    x = np.random.default_rng(3).standard_normal((1, 3, 4)).astype(np.float32)
    bn, tbn = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    close(bn(tgt(x)), tbn(tht(torch, x)), tg.float32)
    compare_state(bn, tbn, tg.float32)
    # in eval the running statistics make N=1 fine
    bn.eval()
    assert bn(tg.randn(1, 3)).shape == (1, 3)


# --- 2. parity with torch: losses ----------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("dtype", DTYPES, ids=dname)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_matches_torch(torch, rng, dtype, reduction):
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    forward_backward_both(torch, nn.MSELoss(reduction=reduction),
                          torch.nn.MSELoss(reduction=reduction), [a, b], dtype, rng)
    forward_backward_both(torch, lambda x, y: F.mse_loss(x, y, reduction=reduction),
                          lambda x, y: torch.nn.functional.mse_loss(x, y, reduction=reduction),
                          [a, b], dtype, rng)
    expect = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]((a - b) ** 2)
    np.testing.assert_allclose(npy(F.mse_loss(tgt(a), tgt(b), reduction=reduction)), expect,
                               rtol=1e-12)


CE_CASES = [
    # id, input shape, target kind, kwargs
    ("idx", (6, 5), "idx", {}),
    ("idx-ignore", (6, 5), "idx-ignore", {}),
    ("idx-ignore-custom", (6, 5), "idx-ignore2", {"ignore_index": 2}),
    ("idx-weight", (6, 5), "idx", {"weight": True}),
    ("idx-weight-ignore", (6, 5), "idx-ignore", {"weight": True}),
    ("idx-smooth", (6, 5), "idx", {"label_smoothing": 0.2}),
    ("idx-smooth-weight-ignore", (6, 5), "idx-ignore", {"label_smoothing": 0.3,
                                                         "weight": True}),
    ("prob", (6, 5), "prob", {}),
    ("prob-weight", (6, 5), "prob", {"weight": True}),
    ("prob-smooth", (6, 5), "prob", {"label_smoothing": 0.15}),
    ("prob-smooth-weight", (6, 5), "prob", {"label_smoothing": 0.15, "weight": True}),
    ("idx-NCd", (3, 5, 4), "idx", {}),
    ("idx-NCd-weight-ignore", (3, 5, 4), "idx-ignore", {"weight": True}),
    ("idx-NCde-smooth", (2, 5, 3, 2), "idx", {"label_smoothing": 0.1}),
    ("prob-NCd", (3, 5, 4), "prob", {}),
    ("prob-NCd-weight", (3, 5, 4), "prob", {"weight": True}),
    ("prob-NCd-smooth", (3, 5, 4), "prob", {"label_smoothing": 0.2}),
    ("idx-NCd-smooth-weight-ignore", (3, 5, 4), "idx-ignore", {"label_smoothing": 0.2,
                                                                "weight": True}),
    ("idx-unbatched", (5,), "idx", {}),
    ("idx-unbatched-weight-smooth", (5,), "idx", {"weight": True, "label_smoothing": 0.2}),
    ("prob-unbatched", (5,), "prob", {}),
]


def _ce_target(kind, shape, rng):
    c = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
    if kind.startswith("prob"):
        p = rng.uniform(0, 1, shape)
        return p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    t = rng.integers(0, c, tshape)
    if kind == "idx-ignore":
        t.reshape(-1)[::3] = -100
    if kind == "idx-ignore2":
        t.reshape(-1)[::2] = 2
    return np.asarray(t, dtype=np.int64)


@pytest.mark.parametrize("dtype", DTYPES, ids=dname)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_matches_torch(torch, rng, dtype, reduction, case):
    _, shape, kind, kw = case
    c = shape[1] if len(shape) > 1 else shape[0]
    x = rng.standard_normal(shape) * 2
    target = _ce_target(kind, shape, rng)
    kw = dict(kw)
    w = rng.uniform(0.2, 2.0, c) if kw.pop("weight", False) else None
    tg_w = None if w is None else tgt(w, dtype)
    th_w = None if w is None else tht(torch, w.astype(NP[dtype]))
    if kind.startswith("prob"):
        tg_y, th_y = tgt(target, dtype), tht(torch, target.astype(NP[dtype]))
    else:
        tg_y, th_y = tgt(target), tht(torch, target)
    forward_backward_both(
        torch, lambda a: nn.CrossEntropyLoss(weight=tg_w, reduction=reduction, **kw)(a, tg_y),
        lambda a: torch.nn.CrossEntropyLoss(weight=th_w, reduction=reduction, **kw)(a, th_y),
        [x], dtype, rng)
    forward_backward_both(
        torch, lambda a: F.cross_entropy(a, tg_y, weight=tg_w, reduction=reduction, **kw),
        lambda a: torch.nn.functional.cross_entropy(a, th_y, weight=th_w, reduction=reduction,
                                                    **kw),
        [x], dtype, rng)


def test_cross_entropy_formula_and_stability():
    # log-sum-exp minus the picked logit, for logits far beyond exp's range
    x = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0], [-5.0, 5.0, 2.0]])
    y = np.array([0, 2, 1])
    m = x.max(1, keepdims=True)
    lse = (m + np.log(np.exp(x - m).sum(1, keepdims=True)))[:, 0]
    expect = lse - x[np.arange(3), y]
    for dtype in DTYPES:
        out = F.cross_entropy(tgt(x, dtype), tgt(y), reduction="none")
        np.testing.assert_allclose(npy(out), expect, rtol=1e-6, atol=1e-6)
        assert np.isfinite(npy(out)).all()
    xt = tgt(x, requires_grad=True)
    F.cross_entropy(xt, tgt(y)).backward()
    soft = np.exp(x - lse[:, None])
    soft[np.arange(3), y] -= 1
    np.testing.assert_allclose(npy(xt.grad), soft / 3, rtol=1e-12, atol=1e-15)


def test_cross_entropy_all_targets_ignored_is_nan_like_torch(torch):
    x = np.random.default_rng(0).standard_normal((3, 4))
    y = np.full(3, -100)
    out = F.cross_entropy(tgt(x), tgt(y))
    tout = torch.nn.functional.cross_entropy(tht(torch, x), tht(torch, y))
    assert math.isnan(tout.item())
    assert math.isnan(out.item())
    assert F.cross_entropy(tgt(x), tgt(y), reduction="sum").item() == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, 1, -100])
def test_nll_loss_matches_torch(torch, rng, reduction, weighted, ignore):
    x = rng.standard_normal((7, 4))
    y = rng.integers(0, 4, 7)
    kw = {}
    if ignore is not None:
        y[::3] = ignore
    if ignore == 1:
        kw["ignore_index"] = 1
    w = rng.uniform(0.5, 2, 4) if weighted else None
    forward_backward_both(
        torch,
        lambda a: F.nll_loss(F.log_softmax(a, 1), tgt(y), weight=None if w is None else tgt(w),
                             reduction=reduction, **kw),
        lambda a: torch.nn.functional.nll_loss(torch.log_softmax(a, 1), tht(torch, y),
                                               weight=None if w is None else tht(torch, w),
                                               reduction=reduction, **kw),
        [x], tg.float64, rng)


GNLL_VAR_SHAPES = [("same", (5, 3)), ("one-fewer-dim", (5,)), ("last-dim-1", (5, 1))]


@pytest.mark.parametrize("dtype", DTYPES, ids=dname)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_case", GNLL_VAR_SHAPES, ids=[v[0] for v in GNLL_VAR_SHAPES])
def test_gaussian_nll_loss_matches_torch(torch, rng, dtype, reduction, full, var_case):
    _, vshape = var_case
    mu, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    var = rng.uniform(0.2, 2.0, vshape)
    forward_backward_both(
        torch, nn.GaussianNLLLoss(full=full, reduction=reduction),
        torch.nn.GaussianNLLLoss(full=full, reduction=reduction), [mu, y, var], dtype, rng)
    forward_backward_both(
        torch, lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=full, reduction=reduction),
        lambda a, b, v: torch.nn.functional.gaussian_nll_loss(a, b, v, full=full,
                                                              reduction=reduction),
        [mu, y, var], dtype, rng)


@pytest.mark.parametrize("eps", [1e-6, 0.1, 0.5])
def test_gaussian_nll_loss_eps_clamp_matches_torch(torch, rng, eps):
    # variances below eps are clamped in the value; the gradient passes as PyTorch's
    mu, y = rng.standard_normal(8), rng.standard_normal(8)
    var = np.array([1e-8, 0.01, 0.05, 0.2, 0.4, 0.6, 1.0, 3.0])
    forward_backward_both(
        torch, nn.GaussianNLLLoss(eps=eps, reduction="none"),
        torch.nn.GaussianNLLLoss(eps=eps, reduction="none"), [mu, y, var], tg.float64, rng)
    forward_backward_both(
        torch, nn.GaussianNLLLoss(eps=eps, full=True),
        torch.nn.GaussianNLLLoss(eps=eps, full=True), [mu, y, var], tg.float64, rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_loss_1d_input_scalar_var_matches_torch(torch, rng, reduction):
    # input (N,), var () is "one fewer dimension": one variance for every sample
    mu, y = rng.standard_normal(6), rng.standard_normal(6)
    forward_backward_both(
        torch, nn.GaussianNLLLoss(reduction=reduction),
        torch.nn.GaussianNLLLoss(reduction=reduction), [mu, y, np.array(0.7)], tg.float64,
        rng)


def test_gaussian_nll_loss_formula():
    mu, y, var = np.array([0.0, 1.0]), np.array([1.0, -1.0]), np.array([0.5, 2.0])
    base = 0.5 * (np.log(var) + (mu - y) ** 2 / var)
    out = F.gaussian_nll_loss(tgt(mu), tgt(y), tgt(var), reduction="none")
    np.testing.assert_allclose(npy(out), base, rtol=1e-12)
    out = F.gaussian_nll_loss(tgt(mu), tgt(y), tgt(var), full=True)
    np.testing.assert_allclose(out.item(), np.mean(base + 0.5 * np.log(2 * np.pi)), rtol=1e-12)


def test_mlp_sgd_training_matches_torch(torch, rng):
    def build(lib):
        n = lib.nn
        return n.Sequential(n.Linear(5, 8), n.BatchNorm1d(8), n.ReLU(), n.Dropout(0.5),
                            n.Linear(8, 3))

    net = build(tg).double()
    tnet = paired(torch, net, build(torch), tg.float64)
    net.train()
    tnet.train()
    net[3].eval()  # dropout off, so both libraries compute the same function
    tnet[3].eval()
    lr = 0.1
    for step in range(5):
        x = rng.standard_normal((16, 5))
        y = rng.integers(0, 3, 16)
        loss = F.cross_entropy(net(tgt(x)), tgt(y))
        tloss = torch.nn.functional.cross_entropy(tnet(tht(torch, x)), tht(torch, y))
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-12), f"step {step}"
        net.zero_grad()
        tnet.zero_grad()
        loss.backward()
        tloss.backward()
        compare_param_grads(net, tnet, tg.float64)
        with tg.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
        with torch.no_grad():
            for p in tnet.parameters():
                p -= lr * p.grad
    compare_state(net, tnet, tg.float64)
    assert int(net[1].num_batches_tracked.item()) == 5
    net.eval()
    tnet.eval()
    x = rng.standard_normal((4, 5))
    close(net(tgt(x)), tnet(tht(torch, x)))


# --- 3. higher-order derivatives through batch norm and cross-entropy -----------------------


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_gradgradcheck(rng, affine):
    x = tgt(rng.standard_normal((5, 3)) * 2 + 1, requires_grad=True)
    if affine:
        w = tgt(rng.uniform(0.5, 2, 3), requires_grad=True)
        b = tgt(rng.standard_normal(3), requires_grad=True)
        fn = lambda x_, w_, b_: F.batch_norm(x_, None, None, w_, b_, training=True)  # noqa
        inputs = (x, w, b)
    else:
        fn = lambda x_: F.batch_norm(x_, None, None, training=True)  # noqa
        inputs = (x,)
    assert tg.autograd.gradcheck(fn, inputs)
    assert tg.autograd.gradgradcheck(fn, inputs)


def test_batch_norm_3d_gradgradcheck(rng):
    x = tgt(rng.standard_normal((2, 3, 3)), requires_grad=True)
    w = tgt(rng.uniform(0.5, 2, 3), requires_grad=True)
    fn = lambda x_, w_: F.batch_norm(x_, None, None, w_, None, training=True)  # noqa
    assert tg.autograd.gradgradcheck(fn, (x, w))


def test_gradient_penalty_through_batchnorm_matches_torch(torch, rng):
    def build(lib):
        n = lib.nn
        return n.Sequential(n.Linear(4, 6), n.BatchNorm1d(6), n.Tanh(), n.Linear(6, 1))

    net = build(tg).double()
    tnet = paired(torch, net, build(torch), tg.float64)
    with tg.no_grad():
        net[1].weight.copy_(tgt(rng.uniform(0.5, 2, 6)))
        net[1].bias.copy_(tgt(rng.standard_normal(6)))
    paired(torch, net, tnet, tg.float64)
    xa = rng.standard_normal((8, 4))
    x, tx = tgt(xa, requires_grad=True), tht(torch, xa, requires_grad=True)
    (g,) = tg.autograd.grad((net(x) ** 2).sum(), x, create_graph=True)
    (tgr,) = torch.autograd.grad((tnet(tx) ** 2).sum(), tx, create_graph=True)
    close(g, tgr)
    penalty = (g ** 2).sum()
    tpenalty = (tgr ** 2).sum()
    assert penalty.item() == pytest.approx(tpenalty.item(), rel=1e-10)
    penalty.backward()
    tpenalty.backward()
    compare_param_grads(net, tnet, tg.float64)
    close(x.grad, tx.grad)


@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_gradgradcheck(rng, ignore):
    x = tgt(rng.standard_normal((4, 3)), requires_grad=True)
    y = np.array([0, 2, 1, 2])
    if ignore:
        y[1] = -100
    y = tgt(y)
    assert tg.autograd.gradcheck(lambda a: F.cross_entropy(a, y), (x,))
    assert tg.autograd.gradgradcheck(lambda a: F.cross_entropy(a, y), (x,))
    assert tg.autograd.gradgradcheck(lambda a: F.cross_entropy(a, y, reduction="none"), (x,))
    w = tgt(np.array([0.5, 2.0, 1.0]))
    assert tg.autograd.gradgradcheck(
        lambda a: F.cross_entropy(a, y, weight=w, label_smoothing=0.1), (x,))


def test_cross_entropy_hessian_matches_torch(torch, rng):
    xa = rng.standard_normal((3, 4))
    y = np.array([1, 3, 0])
    # tuple inputs, so the result is ((H,),) in both libraries
    (h,), = tg.autograd.functional.hessian(lambda a: F.cross_entropy(a, tgt(y)), (tgt(xa),))
    (th,), = torch.autograd.functional.hessian(
        lambda a: torch.nn.functional.cross_entropy(a, tht(torch, y)), (tht(torch, xa),))
    assert tuple(h.shape) == (3, 4, 3, 4)
    close(h, th)


def _fd_jvp(f, arrays, tangents, h=1e-6):
    plus = f(*[tgt(a + h * t) for a, t in zip(arrays, tangents)])
    minus = f(*[tgt(a - h * t) for a, t in zip(arrays, tangents)])
    return (npy(plus) - npy(minus)) / (2 * h)


@pytest.mark.parametrize("shape", [(6, 3), (3, 3, 2)], ids=str)
def test_jvp_through_batch_norm_matches_finite_differences(rng, shape):
    c = shape[1]
    arrays = [rng.standard_normal(shape) * 2 + 0.5, rng.uniform(0.5, 2, c),
              rng.standard_normal(c)]
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    f = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa
    out, jv = tg.autograd.functional.jvp(f, tuple(tgt(a) for a in arrays),
                                         tuple(tgt(t) for t in tangents))
    np.testing.assert_allclose(npy(out), npy(f(*[tgt(a) for a in arrays])), rtol=1e-12)
    np.testing.assert_allclose(npy(jv), _fd_jvp(f, arrays, tangents), rtol=1e-6, atol=1e-7)
    # tangent for the input only
    out, jv = tg.autograd.functional.jvp(lambda x: f(x, tgt(arrays[1]), tgt(arrays[2])),
                                         tgt(arrays[0]), tgt(tangents[0]))
    zero = [tangents[0], np.zeros_like(arrays[1]), np.zeros_like(arrays[2])]
    np.testing.assert_allclose(npy(jv), _fd_jvp(f, arrays, zero), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_jvp_through_cross_entropy_matches_finite_differences(rng, reduction):
    x = rng.standard_normal((5, 4))
    y = tgt(np.array([0, 3, -100, 2, 1]))
    t = rng.standard_normal(x.shape)
    f = lambda a: F.cross_entropy(a, y, reduction=reduction)  # noqa
    out, jv = tg.autograd.functional.jvp(f, tgt(x), tgt(t))
    np.testing.assert_allclose(npy(out), npy(f(tgt(x))), rtol=1e-12)
    np.testing.assert_allclose(npy(jv), _fd_jvp(f, [x], [t]), rtol=1e-6, atol=1e-8)


# --- 5. dropout ----------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keep_rate_and_scale(p):
    n = 1_000_000
    x = tg.rand(n, dtype=tg.float64) + 0.5  # no zeros in the input
    out = npy(F.dropout(x, p, training=True))
    xa = npy(x)
    kept = out != 0
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(kept.mean() - (1 - p)) < 5 * sigma, (kept.mean(), 1 - p)
    np.testing.assert_array_equal(out[kept], xa[kept] * (1.0 / (1.0 - p)))
    # the module in training mode does the same
    out_m = npy(nn.Dropout(p)(x))
    assert abs((out_m != 0).mean() - (1 - p)) < 5 * sigma


def test_dropout_float32_scale():
    x = tg.rand(100_000) + 0.5
    out = npy(F.dropout(x, 0.3))
    kept = out != 0
    np.testing.assert_allclose(out[kept], npy(x)[kept] / np.float32(0.7), rtol=2e-7)
    assert out.dtype == np.float32


def test_dropout_p0_identity_p1_zeros_eval_identity():
    x = tg.randn(50, 40, requires_grad=True)
    np.testing.assert_array_equal(npy(F.dropout(x, 0.0)), npy(x))
    np.testing.assert_array_equal(npy(nn.Dropout(0.0)(x)), npy(x))
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(npy(y), np.zeros((50, 40)))
    y.sum().backward()
    np.testing.assert_array_equal(npy(x.grad), np.zeros((50, 40)))
    np.testing.assert_array_equal(npy(F.dropout(x, 0.5, training=False)), npy(x))
    d = nn.Dropout(0.9).eval()
    np.testing.assert_array_equal(npy(d(x)), npy(x))
    d.train()
    assert (npy(d(x)) == 0).mean() > 0.8


def test_dropout_masks_repeatable_with_manual_seed():
    x = tg.ones(1000)
    tg.manual_seed(7)
    a = npy(F.dropout(x, 0.5))
    b = npy(F.dropout(x, 0.5))
    tg.manual_seed(7)
    c = npy(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    tg.manual_seed(7)
    np.testing.assert_array_equal(npy(nn.Dropout(0.5)(x)), a)


@pytest.mark.parametrize("dtype", DTYPES, ids=dname)
def test_dropout_gradient_is_the_mask(dtype):
    x = (tg.rand(200, 30, dtype=dtype) + 0.5).requires_grad_()
    y = F.dropout(x, 0.4)
    cot = np.random.default_rng(1).standard_normal((200, 30)).astype(NP[dtype])
    (y * tgt(cot)).sum().backward()
    mask = npy(y) / npy(x)  # 0 or 1/(1-p)
    assert set(np.unique(np.round(mask.astype(np.float64), 5))) <= {0.0, round(1 / 0.6, 5)}
    np.testing.assert_allclose(npy(x.grad), mask * cot, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("p", [-0.1, 1.5, -1, 2])
def test_dropout_probability_out_of_range(torch, p):
    with pytest.raises(ValueError):
        nn.Dropout(p)
    with pytest.raises(ValueError):
        F.dropout(tg.ones(3), p)
    with pytest.raises(ValueError):
        F.dropout(tg.ones(3), p, training=False)
    with pytest.raises(ValueError):  # the oracle agrees
        torch.nn.Dropout(p)


# --- 6. Linear init -----------------------------------------------------------------------


def test_linear_init_as_pytorch():
    fan_in = 400
    lin = nn.Linear(fan_in, 1000)
    bound = 1 / math.sqrt(fan_in)
    w, b = npy(lin.weight).astype(np.float64), npy(lin.bias).astype(np.float64)
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.99 * bound  # fills the interval
    assert abs(w.mean()) < 0.01 * bound
    assert w.std() == pytest.approx(1 / math.sqrt(3 * fan_in), rel=0.01)
    assert np.abs(b).max() <= bound * (1 + 1e-6)
    assert np.abs(b).max() > 0.9 * bound
    assert b.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    assert lin.weight.dtype == tg.float32 and lin.weight.shape == (1000, fan_in)
    tg.manual_seed(5)
    a = npy(nn.Linear(10, 3).weight)
    tg.manual_seed(5)
    np.testing.assert_array_equal(npy(nn.Linear(10, 3).weight), a)


# --- 7. parametrizations ----------------------------------------------------------------------


class Scale2(nn.Module):
    def forward(self, x):
        return x * 2.0


def adam_steps(params, loss_fn, steps=30, lr=0.05, betas=(0.9, 0.999), eps=1e-8):
    """A hand-written Adam (PyTorch's update) over ``params``; returns the losses."""
    m = [tg.zeros_like(p) for p in params]
    v = [tg.zeros_like(p) for p in params]
    losses = []
    for t in range(1, steps + 1):
        for p in params:
            p.grad = None
        loss = loss_fn()
        loss.backward()
        losses.append(loss.item())
        with tg.no_grad():
            for p, mi, vi in zip(params, m, v):
                g = p.grad
                if g is None:
                    continue
                mi.mul_(betas[0]).add_(g * (1 - betas[0]))
                vi.mul_(betas[1]).add_(g * g * (1 - betas[1]))
                mhat = mi / (1 - betas[0] ** t)
                vhat = vi / (1 - betas[1] ** t)
                p -= lr * mhat / (vhat.sqrt() + eps)
    return losses


def test_register_parametrization_recomputes_on_access():
    lin = nn.Linear(3, 3).double()
    w0 = npy(lin.weight)
    parametrize.register_parametrization(lin, "weight", Scale2())
    orig = lin.parametrizations.weight.original
    assert isinstance(orig, nn.Parameter)
    # no right_inverse: the original is the old weight, the attribute twice it
    np.testing.assert_array_equal(npy(orig), w0)
    np.testing.assert_array_equal(npy(lin.weight), 2 * w0)
    with tg.no_grad():
        orig.add_(1.0)
    np.testing.assert_array_equal(npy(lin.weight), 2 * (w0 + 1))  # recomputed
    assert not lin.weight.is_leaf and lin.weight.requires_grad
    assert isinstance(lin, nn.Linear) and parametrize.is_parametrized(lin, "weight")
    # parameters(): the original, not the computed weight
    params = list(lin.parameters())
    assert any(p is orig for p in params) and len(params) == 2
    assert sorted(n for n, _ in lin.named_parameters()) == \
        ["bias", "parametrizations.weight.original"]
    # gradients flow to the original through the parametrization
    x = tg.randn(4, 3, dtype=tg.float64)
    lin(x).sum().backward()
    expect = 2 * npy(x).sum(0)[None, :].repeat(3, 0)
    np.testing.assert_allclose(npy(orig.grad), expect, rtol=1e-12)
    np.testing.assert_allclose(npy(lin(x)), npy(x) @ (2 * (w0 + 1)).T + npy(lin.bias),
                               rtol=1e-12)


def test_parametrization_names_and_state_dict_match_torch(torch):
    class TScale2(torch.nn.Module):
        def forward(self, x):
            return x * 2.0

    lin, tlin = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    parametrize.register_parametrization(lin, "weight", Scale2())
    torch.nn.utils.parametrize.register_parametrization(tlin, "weight", TScale2())
    assert [n for n, _ in lin.named_parameters()] == [n for n, _ in tlin.named_parameters()]
    assert list(lin.state_dict()) == list(tlin.state_dict())
    assert "parametrizations.weight.original" in lin.state_dict()
    assert "weight" not in lin.state_dict()
    # a state dict round trip through torch gives the same parametrized function
    tlin.load_state_dict(to_torch_sd(torch, lin.state_dict()))
    close(lin.weight, tlin.weight, tg.float32)
    lin2 = nn.Linear(3, 2)
    parametrize.register_parametrization(lin2, "weight", Scale2())
    lin2.load_state_dict(to_tg_sd(tlin.state_dict()))
    close(lin2.weight, tlin.weight, tg.float32)


def _orthonormal(rng, rows, cols):
    q, _ = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    return q if rows >= cols else q.T


ORTHO_SHAPES = [(4, 4), (6, 3), (3, 6)]  # (out_features, in_features)


@pytest.mark.parametrize("shape", ORTHO_SHAPES, ids=str)
def test_orthogonal_keeps_an_orthogonal_weight_and_stays_orthogonal(rng, shape):
    rows, cols = shape
    lin = nn.Linear(cols, rows).double()
    q = _orthonormal(rng, rows, cols)
    with tg.no_grad():
        lin.weight.copy_(tgt(q))
    P.orthogonal(lin)
    assert "parametrizations.weight.original" in lin.state_dict()
    np.testing.assert_allclose(npy(lin.weight), q, atol=1e-10)
    orig = lin.parametrizations.weight.original
    assert any(p is orig for p in lin.parameters())

    x = tgt(rng.standard_normal((10, cols)))
    target = tgt(rng.standard_normal((10, rows)) * 3)
    losses = adam_steps(list(lin.parameters()), lambda: F.mse_loss(lin(x), target), lr=0.1)
    assert losses[-1] < losses[0]
    w = npy(lin.weight)
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)
    assert not np.allclose(w, q, atol=1e-3)  # it did move


def test_orthogonal_state_dict_keys_match_torch(torch):
    lin, tlin = nn.Linear(4, 4), torch.nn.Linear(4, 4)
    P.orthogonal(lin)
    torch.nn.utils.parametrizations.orthogonal(tlin)
    assert [n for n, _ in lin.named_parameters()] == [n for n, _ in tlin.named_parameters()]
    assert list(lin.state_dict()) == list(tlin.state_dict())
    assert tuple(lin.parametrizations.weight.original.shape) == (4, 4)


def test_orthogonal_of_random_weight_is_orthogonal(rng):
    lin = nn.Linear(5, 5).double()
    P.orthogonal(lin)
    w = npy(lin.weight)
    np.testing.assert_allclose(w @ w.T, np.eye(5), atol=1e-10)


def test_orthogonal_gradient_to_original_matches_finite_differences(rng):
    lin = nn.Linear(4, 4).double()
    P.orthogonal(lin)
    orig = lin.parametrizations.weight.original
    with tg.no_grad():  # a point away from the registration point
        orig.copy_(tgt(rng.standard_normal(tuple(orig.shape)) * 0.3))
    x, r = tgt(rng.standard_normal((5, 4))), tgt(rng.standard_normal((5, 4)))
    loss = lambda: (lin(x) * r).sum()  # noqa
    loss().backward()
    g = npy(orig.grad)
    d = rng.standard_normal(g.shape)
    h = 1e-6
    base = npy(orig)
    with tg.no_grad():
        orig.copy_(tgt(base + h * d))
        plus = loss().item()
        orig.copy_(tgt(base - h * d))
        minus = loss().item()
        orig.copy_(tgt(base))
    assert (g * d).sum() == pytest.approx((plus - minus) / (2 * h), rel=1e-6, abs=1e-8)


POSITIVE_FN = {
    "softplus": lambda v: np.log1p(np.exp(v)),
    "exp": np.exp,
    "square": lambda v: v * v,
}


@pytest.mark.parametrize("kind", ["softplus", "exp", "square"])
def test_positive_parametrization(rng, kind):
    lin = nn.Linear(4, 3).double()
    w0 = rng.uniform(0.1, 2.0, (3, 4))
    with tg.no_grad():
        lin.weight.copy_(tgt(w0))
    P.positive(lin, "weight", kind=kind) if kind != "softplus" else P.positive(lin)
    orig = lin.parametrizations.weight.original
    np.testing.assert_allclose(npy(lin.weight), w0, rtol=1e-10)  # the value is kept
    np.testing.assert_allclose(POSITIVE_FN[kind](npy(orig)), w0, rtol=1e-10)
    assert any(p is orig for p in lin.parameters())
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original"]
    x = tgt(rng.standard_normal((8, 4)))
    # the loss pushes every weight towards -infinity
    losses = adam_steps(list(lin.parameters()),
                        lambda: lin(x).sum() * 0.1 + (lin.weight * 3.0).sum(), lr=0.3)
    assert losses[-1] < losses[0]
    w = npy(lin.weight)
    assert (w > 0).all(), w
    np.testing.assert_allclose(w, POSITIVE_FN[kind](npy(orig)), rtol=1e-10)


@pytest.mark.parametrize("kind", ["softplus", "exp", "square"])
def test_positive_parametrization_gradient_matches_torch(torch, rng, kind):
    tfn = {"softplus": torch.nn.functional.softplus, "exp": torch.exp,
           "square": lambda v: v * v}[kind]

    class TPos(torch.nn.Module):
        def forward(self, v):
            return tfn(v)

    lin = nn.Linear(4, 3).double()
    P.positive(lin, "weight", kind=kind)
    tlin = torch.nn.Linear(4, 3).double()
    torch.nn.utils.parametrize.register_parametrization(tlin, "weight", TPos(), unsafe=True)
    tlin.load_state_dict(to_torch_sd(torch, lin.state_dict()))
    close(lin.weight, tlin.weight)
    x = rng.standard_normal((6, 4))
    (lin(tgt(x)) ** 2).sum().backward()
    (tlin(tht(torch, x)) ** 2).sum().backward()
    compare_param_grads(lin, tlin, tg.float64)


@pytest.mark.parametrize("low,high", [(0.0, 1.0), (-2.0, 3.0), (5.0, 5.5)])
def test_interval_parametrization(rng, low, high):
    lin = nn.Linear(4, 3).double()
    w0 = rng.uniform(low + 0.05 * (high - low), high - 0.05 * (high - low), (3, 4))
    with tg.no_grad():
        lin.weight.copy_(tgt(w0))
    P.interval(lin, "weight", low, high)
    orig = lin.parametrizations.weight.original
    np.testing.assert_allclose(npy(lin.weight), w0, rtol=1e-9)  # kept
    sig = 1 / (1 + np.exp(-npy(orig)))
    np.testing.assert_allclose(low + (high - low) * sig, w0, rtol=1e-9)
    r = tgt(rng.choice([-1.0, 1.0], (3, 4)) * 5)
    losses = adam_steps(list(lin.parameters()), lambda: (lin.weight * r).sum(), lr=0.3)
    assert losses[-1] < losses[0]
    w = npy(lin.weight)
    assert (w > low).all() and (w < high).all(), w
    # the loss pushed them towards the ends
    rn = npy(r)
    assert (w[rn < 0] > w0[rn < 0]).all() and (w[rn > 0] < w0[rn > 0]).all()


def test_interval_gradient_to_original(rng):
    lin = nn.Linear(3, 2).double()
    P.interval(lin, "weight", -1.0, 2.0)
    orig = lin.parametrizations.weight.original
    x = rng.standard_normal((5, 3))
    lin(tgt(x)).sum().backward()
    v = npy(orig)
    sig = 1 / (1 + np.exp(-v))
    dw = np.tile(x.sum(0), (2, 1))  # d(sum(x Wᵀ))/dW
    np.testing.assert_allclose(npy(orig.grad), dw * 3.0 * sig * (1 - sig), rtol=1e-10)


def test_remove_parametrizations_restores_a_plain_parameter(rng):
    lin = nn.Linear(3, 3).double()
    P.positive(lin, "weight", kind="exp")
    with tg.no_grad():
        lin.parametrizations.weight.original.add_(0.5)
    value = npy(lin.weight)
    parametrize.remove_parametrizations(lin, "weight")
    assert type(lin) is nn.Linear
    assert not parametrize.is_parametrized(lin)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.is_leaf
    assert lin.weight.requires_grad
    np.testing.assert_allclose(npy(lin.weight), value, rtol=1e-12)
    assert sorted(n for n, _ in lin.named_parameters()) == ["bias", "weight"]
    assert sorted(lin.state_dict()) == ["bias", "weight"]
    lin(tg.randn(2, 3, dtype=tg.float64)).sum().backward()
    assert lin.weight.grad is not None
    # another Linear was never touched by the class swap
    assert type(nn.Linear(2, 2)) is nn.Linear
    assert not hasattr(nn.Linear(2, 2), "parametrizations")


def test_assigning_to_a_parametrized_weight_goes_through_right_inverse(torch):
    # as PyTorch: `module.weight = value` sets the original to right_inverse(value)
    class TExp(torch.nn.Module):
        def forward(self, v):
            return torch.exp(v)

        def right_inverse(self, w):
            return torch.log(w)

    tlin = torch.nn.Linear(2, 2).double()
    torch.nn.utils.parametrize.register_parametrization(tlin, "weight", TExp())
    value = np.array([[0.5, 2.0], [1.0, 3.0]])
    tlin.weight = tht(torch, value)
    np.testing.assert_allclose(npy(tlin.weight), value)  # what the oracle does

    lin = nn.Linear(2, 2).double()
    P.positive(lin, "weight", kind="exp")
    lin.weight = tgt(value)
    np.testing.assert_allclose(npy(lin.weight), value, rtol=1e-12)
    np.testing.assert_allclose(npy(lin.parametrizations.weight.original), np.log(value),
                               rtol=1e-12)


def test_two_parametrized_modules_are_independent():
    a, b = nn.Linear(2, 2).double(), nn.Linear(2, 2).double()
    P.positive(a, "weight", kind="exp")
    P.interval(b, "bias", -1.0, 1.0)
    wb = npy(b.weight)
    assert (npy(a.weight) > 0).all()
    assert b.weight.is_leaf and np.array_equal(npy(b.weight), wb)
    assert a.bias.is_leaf
    assert "weight" in dict(b.named_parameters())


# --- 8. clip_grad_norm_ ---------------------------------------------------------------------


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(torch, rng, norm_type, max_norm):
    grads = [rng.standard_normal(s) * 3 for s in [(3, 4), (4,), (2, 2, 2)]]
    ps = [tgt(np.zeros_like(g), requires_grad=True) for g in grads]
    tps = [tht(torch, np.zeros_like(g), requires_grad=True) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        (p * tgt(g)).sum().backward()
        (tp * tht(torch, g)).sum().backward()
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    flat = np.concatenate([g.ravel() for g in grads])
    expect = np.abs(flat).max() if math.isinf(norm_type) else \
        (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-12)
    assert total.item() == pytest.approx(expect, rel=1e-12)  # the norm before clipping
    for p, tp, g in zip(ps, tps, grads):
        close(p.grad, tp.grad)
        if max_norm > expect:
            np.testing.assert_array_equal(npy(p.grad), g)  # untouched under max_norm
    if max_norm < expect:
        after = np.concatenate([npy(p.grad).ravel() for p in ps])
        clipped = np.abs(after).max() if math.isinf(norm_type) else \
            (np.abs(after) ** norm_type).sum() ** (1 / norm_type)
        assert clipped == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_on_module_parameters_and_missing_grads():
    lin = nn.Linear(3, 2).double()
    extra = nn.Parameter(tg.ones(2, dtype=tg.float64))  # never gets a gradient
    (lin(tg.ones(4, 3, dtype=tg.float64)) * 10).sum().backward()
    g = np.concatenate([npy(lin.weight.grad).ravel(), npy(lin.bias.grad).ravel()])
    total = nn.utils.clip_grad_norm_(list(lin.parameters()) + [extra], 1.0)
    assert total.item() == pytest.approx(np.linalg.norm(g), rel=1e-12)
    after = np.concatenate([npy(lin.weight.grad).ravel(), npy(lin.bias.grad).ravel()])
    np.testing.assert_allclose(after, g * (1.0 / (np.linalg.norm(g) + 1e-6)), rtol=1e-12)
    assert extra.grad is None
    # a generator (module.parameters()) is accepted, as in PyTorch's usual call
    lin.zero_grad()
    (lin(tg.ones(4, 3, dtype=tg.float64)) * 10).sum().backward()
    total = nn.utils.clip_grad_norm_(lin.parameters(), 1.0)
    assert total.item() == pytest.approx(np.linalg.norm(g), rel=1e-12)
    after = np.concatenate([npy(lin.weight.grad).ravel(), npy(lin.bias.grad).ravel()])
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-5)
    # a single tensor is accepted too
    w = tg.ones(4, requires_grad=True)
    (w * 10).sum().backward()
    assert nn.utils.clip_grad_norm_(w, 1.0).item() == pytest.approx(20.0)
