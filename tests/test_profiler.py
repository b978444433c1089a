"""`tinygrad_tx.autograd.profiler.profile`: counts per op class, forward and backward, and nothing when off."""

from __future__ import annotations

import numpy as np

import tinygrad_tx as tx
from tinygrad_tx.autograd import profiler


def test_profile_counts_forward_and_backward_per_op():
    x = tx.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with profiler.profile() as prof:
        y = (x * 3.0).exp().sum()  # Mul, Exp, Sum forward; one VJP each
        y.backward()
    s = prof.stats
    assert {k: (v.forward_calls, v.backward_calls) for k, v in s.items()} == {"Mul": (1, 1), "Exp": (1, 1),
                                                                               "Sum": (1, 1)}
    for v in s.values():
        assert v.forward_s >= v.forward_kernel_s >= 0.0 and v.backward_s > 0.0
    table = prof.table()
    assert table.splitlines()[0].split()[:3] == ["op", "fwd", "calls"] and "Mul" in table
    xa = x.detach().numpy()
    np.testing.assert_allclose(x.grad, 3 * np.exp(3 * xa), rtol=1e-12)  # the profiled backward is the backward


def test_walk_accumulation_is_not_a_forward():
    x = tx.tensor([1.0, 2.0], requires_grad=True)
    with profiler.profile() as prof:
        (x * x).sum().backward()  # x reaches Mul twice: the walk adds the two gradients (one Add)
    assert prof.stats["Add"].forward_calls == 0 and prof.stats["Add"].accumulate_calls == 1


def test_off_outside_the_block():
    with profiler.profile() as prof:
        pass
    (tx.tensor([1.0], requires_grad=True) * 2).sum().backward()
    assert profiler._active is None and not prof.stats
