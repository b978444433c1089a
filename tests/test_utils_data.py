"""tinygrad_tx.utils.data against torch.utils.data: batches and their collation (structure, dtypes,
values: equal), len(), samplers, the argument checks, shuffling (a permutation per pass, seeded by a
generator or by manual_seed), random_split, and a training loop side by side with torch's
(parameters within 1e-12, scale-relative: the optimizer's tolerance, see tests/test_optim.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import namedtuple
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import Tensor, optim
from tinygrad_tx.utils import data
from tinygrad_tx.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

from .helpers import assert_close

torch = pytest.importorskip("torch")
tdata = torch.utils.data

RTOL = 1e-12
Point = namedtuple("Point", "x y")


def structure(x: Any) -> Any:
    """A batch as plain values, the same for both libraries: tensors as (dtype, shape, values)."""
    if isinstance(x, Tensor):
        return ("tensor", str(x.dtype).removeprefix("torch."), tuple(x.shape), x.data.tolist())
    if isinstance(x, torch.Tensor):
        return ("tensor", str(x.numpy().dtype), tuple(x.shape), x.numpy().tolist())
    if isinstance(x, dict):
        return {k: structure(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *map(structure, x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, *map(structure, x))
    return x


def mixed_sample(i: int, lib: Any) -> tuple[Any, ...]:
    """A sample with one of every kind default_collate handles; tensors of ``lib`` (tx or torch)."""
    values = np.arange(6.0).reshape(2, 3) * i
    t = Tensor(values.astype(np.float32)) if lib is tx else torch.tensor(values.astype(np.float32))
    return (
        t, np.arange(3, dtype=np.int32) + i, i / 3, i, i % 2 == 0, np.float32(i) / 7, f"s{i}", {"id": i, "w": [i, 0.5]},
        Point(i, 2.5 * i), [i, i + 1],
    )


# --------------------------------------------------------------------------------- the batches
BATCHINGS = [(1, False), (3, False), (4, False), (4, True), (7, True), (20, False)]


@pytest.mark.parametrize("batch_size,drop_last", BATCHINGS)
def test_batches_are_collated_as_torchs(batch_size: int, drop_last: bool) -> None:
    ours = DataLoader([mixed_sample(i, tx) for i in range(10)], batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader([mixed_sample(i, torch) for i in range(10)], batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, expected = [structure(b) for b in ours], [structure(b) for b in theirs]
    assert len(got) == len(theirs)
    assert got == expected


def test_tensor_dataset_batches_equal_torchs() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3)).astype(np.float32), rng.integers(0, 5, 10)
    ds, tds = TensorDataset(Tensor(X), Tensor(y)), tdata.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    assert len(ds) == len(tds) == 10
    assert structure(ds[3]) == structure(tds[3])
    for kwargs in (dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=None),
                   dict(sampler=[3, 1, 2, 9], batch_size=3), dict(batch_sampler=[[0, 2], [1], [9, 8, 7]])):
        ours, theirs = DataLoader(ds, **kwargs), tdata.DataLoader(tds, **kwargs)
        assert len(ours) == len(theirs), kwargs
        assert [structure(b) for b in ours] == [structure(b) for b in theirs], kwargs


@pytest.mark.parametrize("n", [1, 9, 10, 11])
@pytest.mark.parametrize("batch_size", [1, 3, 10])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_is_torchs(n: int, batch_size: int, drop_last: bool) -> None:
    ours = DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last, shuffle=True)
    theirs = tdata.DataLoader(list(range(n)), batch_size=batch_size, drop_last=drop_last, shuffle=True)
    assert len(ours) == len(theirs) == len(list(ours))


def test_one_indexing_per_tensor_gives_the_batches_and_gradients_of_stacking_samples() -> None:
    """A TensorDataset (or a Subset of one) is batched by indexing each tensor once; the generic path
    (a collate_fn that is not default_collate itself) stacks the samples. Both must agree exactly."""
    rng = np.random.default_rng(3)
    X = Tensor(rng.standard_normal((23, 3)), requires_grad=True)
    y = Tensor(rng.integers(0, 4, 23))
    weights = Tensor(rng.standard_normal(3))
    for dataset in (TensorDataset(X, y), random_split(TensorDataset(X, y), [15, 8], np.random.default_rng(1))[0],
                    Subset(Subset(TensorDataset(X, y), list(range(20, 2, -1))), [4, 0, 7, 7, 2, 11])):
        grads = []
        for collate in (None, lambda b: default_collate(b)):
            loader = DataLoader(dataset, batch_size=5, shuffle=True, generator=np.random.default_rng(2),
                                collate_fn=collate)
            batches = list(loader)
            X.grad = None
            sum(((xb @ weights) * yb).sum() for xb, yb in batches).backward()
            grads.append((X.grad.numpy().copy(), [structure(b) for b in batches]))
        assert np.array_equal(grads[0][0], grads[1][0])
        assert grads[0][1] == grads[1][1]


class Squares(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"x": np.array([i, i * i], dtype=np.float64), "label": i % 3}

    def __len__(self) -> int:
        return self.n


def test_a_dataset_subclass_and_num_workers() -> None:
    """num_workers only changes speed in torch (in order, its workers give the same batches)."""
    ours = [structure(b) for b in DataLoader(Squares(7), batch_size=3, num_workers=2, pin_memory=True)]
    theirs = [structure(b) for b in tdata.DataLoader([Squares(7)[i] for i in range(7)], batch_size=3)]
    assert ours == theirs
    with pytest.raises(NotImplementedError, match="Dataset should implement __getitem__"):
        Dataset()[0]


def test_batch_size_none_converts_each_sample_as_torch_does() -> None:
    samples = [(np.arange(3) * i, float(i), "a") for i in range(4)]
    assert [structure(b) for b in DataLoader(samples, batch_size=None)] == [
        structure(b) for b in tdata.DataLoader(samples, batch_size=None)
    ]


# ------------------------------------------------------------------------------------- checks
@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(batch_size=0), "batch_size should be a positive integer value, but got batch_size=0"),
        (dict(batch_size=2.5), "batch_size should be a positive integer value, but got batch_size=2.5"),
        (dict(drop_last=1), "drop_last should be a boolean value, but got drop_last=1"),
        (dict(shuffle=True, sampler=[1, 2]), "sampler option is mutually exclusive with shuffle"),
        (dict(batch_sampler=[[0, 1]], batch_size=2), "batch_sampler option is mutually exclusive with batch_size"),
        (dict(batch_sampler=[[0, 1]], drop_last=True), "batch_sampler option is mutually exclusive"),
        (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
        (dict(num_workers=-1), "num_workers option should be non-negative"),
        (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
        (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
        (dict(timeout=-1), "timeout option should be non-negative"),
        (dict(multiprocessing_context="spawn"), "multiprocessing_context can only be used with multi-process"),
    ],
)
def test_bad_arguments_are_refused_as_torch_refuses_them(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DataLoader(list(range(5)), **kwargs)
    with pytest.raises(ValueError):
        tdata.DataLoader(list(range(5)), **kwargs)


def test_bad_datasets_and_samples_are_named() -> None:
    with pytest.raises(ValueError, match=r"first dimensions differ \(size mismatch\): shapes \(3,\), \(4,\)"):
        TensorDataset(Tensor(np.ones(3)), Tensor(np.ones(4)))
    with pytest.raises(TypeError, match="TensorDataset: argument 1 is a ndarray, not a Tensor"):
        TensorDataset(Tensor(np.ones(3)), np.ones(3))
    with pytest.raises(ValueError, match="tensor 0 is 0-d"):
        TensorDataset(Tensor(1.0))
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        next(iter(DataLoader([[1, 2], [3]], batch_size=2)))
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers"):
        next(iter(DataLoader([object(), object()], batch_size=2)))
    with pytest.raises(TypeError, match="found <U1"):
        next(iter(DataLoader([np.array(["a"]), np.array(["b"])], batch_size=2)))
    with pytest.raises(TypeError, match="DataLoader: generator must be a generator of this package"):
        DataLoader(list(range(3)), shuffle=True, generator=3)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        DataLoader([], shuffle=True)


# ---------------------------------------------------------------------------------- shuffling
class HoldsAGenerator:
    """A torch.Generator look-alike: an object holding a NumPy generator (the assumption documented)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed)


class SlotsGenerator:
    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = np.random.default_rng(seed)


def orders(loader: DataLoader, passes: int = 3) -> list[list[int]]:
    return [[int(i) for b in loader for i in b.data.tolist()] for _ in range(passes)]


def test_shuffle_gives_a_new_permutation_each_pass_reproducible_by_manual_seed() -> None:
    tx.manual_seed(11)
    first = orders(DataLoader(list(range(50)), batch_size=8, shuffle=True))
    assert all(sorted(o) == list(range(50)) for o in first)  # every sample once per pass
    assert len({tuple(o) for o in first}) == 3 and first[0] != list(range(50))
    tx.manual_seed(11)
    assert orders(DataLoader(list(range(50)), batch_size=8, shuffle=True)) == first
    assert orders(DataLoader(list(range(50)), batch_size=8)) == [list(range(50))] * 3  # no shuffle: in order


def test_a_pass_advances_the_global_generator_by_one_draw_whatever_the_size() -> None:
    after = []
    for n in (10, 1000):
        tx.manual_seed(5)
        list(DataLoader(list(range(n)), batch_size=100, shuffle=True))
        after.append(tx.randn(3).data)
    tx.manual_seed(5)
    untouched = tx.randn(3).data
    assert np.array_equal(after[0], after[1]) and not np.array_equal(after[0], untouched)


@pytest.mark.parametrize("make", [np.random.default_rng, HoldsAGenerator, SlotsGenerator])
def test_a_generator_makes_the_order_reproducible_and_leaves_the_global_one_alone(make: Any) -> None:
    tx.manual_seed(0)
    a = orders(DataLoader(list(range(30)), batch_size=4, shuffle=True, generator=make(7)))
    tx.manual_seed(1)  # another global state: the same orders
    b = orders(DataLoader(list(range(30)), batch_size=4, shuffle=True, generator=make(7)))
    c = orders(DataLoader(list(range(30)), batch_size=4, shuffle=True, generator=make(8)))
    assert a == b and a != c and all(sorted(o) == list(range(30)) for o in a)
    expected = np.random.default_rng(7)
    assert a[0] == expected.permutation(30).tolist() and a[1] == expected.permutation(30).tolist()


def test_samplers() -> None:
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3] and len(SequentialSampler(range(4))) == 4
    assert list(BatchSampler(range(7), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    long = list(RandomSampler(range(4), num_samples=10, generator=np.random.default_rng(0)))
    assert len(long) == 10 and sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3]  # whole permutations first
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=200, generator=np.random.default_rng(0)))
    assert len(drawn) == 200 and set(drawn) == {0, 1, 2}
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)


# ------------------------------------------------------------------------------- random_split
def test_random_split_lengths_are_torchs() -> None:
    for lengths in ([0.33, 0.33, 0.34], [3, 7], [0.5, 0.5], [0.1] * 10, [1, 0, 9]):
        ours = random_split(list(range(10)), lengths, generator=np.random.default_rng(0))
        theirs = tdata.random_split(list(range(10)), lengths, generator=torch.Generator().manual_seed(0))
        assert [len(s) for s in ours] == [len(s) for s in theirs], lengths
        items = [x for s in ours for x in (s[i] for i in range(len(s)))]
        assert sorted(items) == list(range(10))  # disjoint, and together the whole dataset
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(list(range(10)), [1.0, 0.0])


def test_random_split_is_seeded_and_checked() -> None:
    a = random_split(range(20), [5, 15], generator=np.random.default_rng(4))
    b = random_split(range(20), [5, 15], generator=HoldsAGenerator(4))
    assert a[0].indices == b[0].indices and a[1].indices == b[1].indices
    tx.manual_seed(2)
    c = random_split(range(20), [5, 15])
    tx.manual_seed(2)
    assert random_split(range(20), [5, 15])[0].indices == c[0].indices
    with pytest.raises(ValueError, match=r"the lengths \[3, 3\] sum to 6, but the dataset has 10 samples"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match=r"whole numbers >= 0 or fractions summing to 1, got \[0.5, 0.6\]"):
        random_split(range(10), [0.5, 0.6])  # not fractions of 1, and not counts
    with pytest.raises(TypeError, match="lengths\\[0\\] is '3', not a number"):
        random_split(range(10), ["3", 7])
    with pytest.raises(ValueError, match="lengths must be whole numbers >= 0 or fractions summing to 1"):
        random_split(range(10), [2.5, 7.5])


# ------------------------------------------------------------------------------- the package
def test_utils_data_is_an_attribute_right_after_import() -> None:
    code = "import tinygrad_tx as torch; print(torch.utils.data.DataLoader.__name__, torch.utils.data.TensorDataset)"
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.startswith("DataLoader <class 'tinygrad_tx.utils.data.TensorDataset'>")
    assert tx.utils.data is data


def test_a_training_loop_with_a_data_loader_matches_torch() -> None:
    """The same teaching loop in both libraries: TensorDataset, DataLoader (a short last batch),
    SGD with momentum and StepLR, three epochs."""
    rng = np.random.default_rng(0)
    Xn, yn = rng.standard_normal((30, 4)), rng.standard_normal((30, 2))
    W0, b0 = rng.standard_normal((4, 2)), np.zeros(2)

    W, b = Tensor(W0, requires_grad=True), Tensor(b0, requires_grad=True)
    loader = DataLoader(TensorDataset(Tensor(Xn), Tensor(yn)), batch_size=8)
    opt = optim.SGD([W, b], lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    tW, tb = torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    tloader = tdata.DataLoader(tdata.TensorDataset(torch.tensor(Xn), torch.tensor(yn)), batch_size=8)
    topt = torch.optim.SGD([tW, tb], lr=0.1, momentum=0.9)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)

    for epoch in range(3):
        for (xb, yb), (txb, tyb) in zip(loader, tloader, strict=True):
            opt.zero_grad()
            loss = ((xb @ W + b - yb) ** 2).mean()
            loss.backward()
            opt.step()
            topt.zero_grad()
            tloss = ((txb @ tW + tb - tyb) ** 2).mean()
            tloss.backward()
            topt.step()
            assert loss.item() == pytest.approx(tloss.item(), rel=RTOL)
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert_close(W.data, tW.detach().numpy(), RTOL, f"W after epoch {epoch}")
        assert_close(b.data, tb.detach().numpy(), RTOL, f"b after epoch {epoch}")
