r"""Datasets and batches, as ``torch.utils.data``: `Dataset`, `TensorDataset`, `Subset`,
`random_split`, the samplers, `default_collate` and `DataLoader`::

    dataset = TensorDataset(X, y)                          # sample i is (X[i], y[i])
    loader = DataLoader(dataset, batch_size=32, shuffle=True)
    for xb, yb in loader:                                  # xb: X[idx] stacked, yb: y[idx] stacked
        ...

A `DataLoader` pass is: the sampler gives an order of the indices 0, ..., n - 1 (in order, or a
random permutation with ``shuffle=True``); `BatchSampler` cuts it into lists of ``batch_size``
indices (the last one shorter, or dropped with ``drop_last=True``); each list of samples
``[dataset[i] for i in batch]`` goes through ``collate_fn`` (by default `default_collate`, which
stacks tensors, arrays and numbers into one tensor, field by field).

Randomness. ``generator=`` (of `DataLoader`, `RandomSampler`, `random_split`) may be a
``numpy.random.Generator`` or any object that holds one as an attribute (a ``torch.Generator``
look-alike of this package is expected to; see `_numpy_generator`). Without one, each pass
takes a fresh seed from the generator behind `tinygrad_tx.manual_seed`, as PyTorch takes one
from its global generator: ``manual_seed(s)`` makes the order reproducible, and a pass advances
the global generator by one draw whatever the size of the dataset. The permutations are NumPy's,
so they are not the ones PyTorch draws for the same seed.

One process. Samples are loaded here, in this process: ``num_workers``, ``pin_memory``,
``timeout``, ``worker_init_fn``, ``prefetch_factor``, ``persistent_workers``, ``in_order`` are
accepted, checked as PyTorch checks them, and change nothing but the speed (PyTorch's workers, in
order, give the same batches; ``worker_init_fn`` is never called, as with ``num_workers=0``).
Not here: ``IterableDataset``, ``ConcatDataset``, ``collate_fn_map``.
"""

from __future__ import annotations

import collections.abc
import copy
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .._random import _generator
from ..tensor import Tensor, stack, tensor

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
    "BatchSampler", "default_collate", "default_convert", "DataLoader",
]


# ------------------------------------------------------------------------------------ datasets
class Dataset:
    """A map-style dataset: ``dataset[i]`` is sample i, ``len(dataset)`` the number of samples.

    A subclass supplies ``__getitem__`` and, for `DataLoader`'s samplers, ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset should implement __getitem__")


class TensorDataset(Dataset):
    """Sample i is ``(t[i] for t in tensors)``: the tensors are indexed along their first dimension,
    which must have one size for all of them."""

    def __init__(self, *tensors: Tensor) -> None:
        for k, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {k} is a {type(t).__name__}, not a Tensor")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {k} is 0-d: it has no first dimension to index samples by")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: the tensors' first dimensions differ (size mismatch): shapes {shapes}")
        self.tensors: tuple[Tensor, ...] = tensors

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0] if self.tensors else 0


class Subset(Dataset):
    """The samples ``dataset[indices[0]], dataset[indices[1]], ...``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int | list[int]) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Any = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets (`Subset`) of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1: then
    split k gets ⌊n · fraction_k⌋ samples, and the r left over go one each to splits 0, 1, ...,
    r - 1 (PyTorch's rule). The order comes from one permutation of all indices, drawn from
    ``generator`` (see the module docstring; default: the global generator)."""
    n = len(dataset)
    lengths = list(lengths)
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, (int, float, np.integer, np.floating)):
            raise TypeError(f"random_split: lengths[{i}] is {length!r}, not a number")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: the fraction at index {i}, {fraction!r}, is not between 0 and 1")
            counts.append(math.floor(n * fraction))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = counts
    if not all(float(length).is_integer() and length >= 0 for length in lengths):
        raise ValueError(f"random_split: lengths must be whole numbers >= 0 or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} samples "
            f"(sum of input lengths does not equal the length of the input dataset)"
        )
    order = _permutation(n, generator, "random_split").tolist()
    ends = list(itertools.accumulate(int(length) for length in lengths))
    return [Subset(dataset, order[end - int(length) : end]) for end, length in zip(ends, lengths)]


# ------------------------------------------------------------------------------------ samplers
class Sampler:
    """An iterable of dataset indices (or, for a batch sampler, of lists of them)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of 0, ..., n - 1, a new one each pass; with ``replacement=True``,
    ``num_samples`` indices drawn independently (n by default)."""

    def __init__(
        self, data_source: Any, replacement: bool = False, num_samples: int | None = None, generator: Any = None
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, but got replacement={replacement!r}"
            )
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _numpy_generator(generator, "RandomSampler")  # refuse a bad generator now, not at the first pass
        n = self.num_samples
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(
                f"RandomSampler: num_samples should be a positive integer value, but got num_samples={n!r}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.replacement:
            return iter(_rng_for_pass(self.generator, "RandomSampler").integers(0, n, self.num_samples).tolist())
        # num_samples > n: whole permutations one after another, then part of one (PyTorch's rule)
        rng = _rng_for_pass(self.generator, "RandomSampler")
        whole, part = divmod(self.num_samples, n)
        order = [rng.permutation(n) for _ in range(whole)] + ([rng.permutation(n)[:part]] if part else [])
        return iter(np.concatenate(order).tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``, in its order; the last list is shorter,
    or left out with ``drop_last=True``."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# ------------------------------------------------------------------------------------- collate
def default_collate(batch: Sequence[Any]) -> Any:
    """Put a list of samples together into a batch, as ``torch.utils.data.default_collate``:

    - Tensors → one tensor, stacked along a new first dim (with autograd if one requires grad);
    - ndarrays and NumPy scalars → a tensor of their dtype, stacked;
    - floats → a float64 tensor; ints → an int64 tensor (bools → a bool tensor);
    - strings and bytes → the batch as it is;
    - dicts → a dict of batches, key by key; namedtuples → a namedtuple of batches;
    - tuples → a *list* of batches, field by field (PyTorch's choice); other sequences → one of
      their own type, field by field (every sample must have as many fields).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(t.requires_grad for t in batch):
            return stack(list(batch))
        return Tensor.from_numpy(np.stack([t._data for t in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_collate_error(elem.dtype))
        return Tensor.from_numpy(np.stack(batch))
    if isinstance(elem, (np.bool_, np.number)):
        return Tensor.from_numpy(np.array(batch))
    if isinstance(elem, float):
        return Tensor.from_numpy(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return tensor(list(batch))  # as torch.tensor(batch): int64, bool if all are bools
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _rebuilt_mapping(elem, fields)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(sample) == size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields_list = [default_collate(samples) for samples in zip(*batch)]
        return fields_list if isinstance(elem, tuple) else _rebuilt_sequence(elem, fields_list)
    raise TypeError(_collate_error(type(elem)))


def default_convert(data: Any) -> Any:
    """One sample, as ``DataLoader(batch_size=None)`` passes it: ndarrays (sharing their memory) and
    NumPy scalars become tensors, inside dicts, tuples (which become lists) and sequences too;
    everything else stays as it is."""
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OSUV" else Tensor.from_numpy(data)  # shares memory, as torch.as_tensor
    if isinstance(data, (np.bool_, np.number)):
        return Tensor.from_numpy(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuilt_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuilt_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuilt_mapping(elem: collections.abc.Mapping, fields: dict[Any, Any]) -> Any:
    """``fields`` in a mapping of ``elem``'s type when it can be made, else a dict (PyTorch's rule)."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(fields)
            return clone
        return type(elem)(fields)  # type: ignore[call-arg]
    except TypeError:
        return fields


def _rebuilt_sequence(elem: Sequence[Any], fields: list[Any]) -> Any:
    """``fields`` in a sequence of ``elem``'s type when it can be made, else a list (PyTorch's rule)."""
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, field in enumerate(fields):
                clone[i] = field
            return clone
        return type(elem)(fields)  # type: ignore[call-arg]
    except TypeError:
        return fields


def _collate_error(found: Any) -> str:
    return f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {found}"


# ----------------------------------------------------------------------------------- the loader
class DataLoader:
    """Batches of a dataset, one pass per ``iter(loader)`` (see the module docstring).

    ``torch.utils.data.DataLoader``'s arguments, defaults and checks. ``shuffle=True`` samples with
    `RandomSampler` (drawing from ``generator``); ``sampler`` (any iterable of indices) or
    ``batch_sampler`` (any iterable of lists of indices) replace the default order.
    ``batch_size=None`` turns batching off: each sample goes through ``collate_fn`` alone
    (`default_convert` by default). ``len(loader)`` is the number of batches.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Iterable[int] | None = None,
        batch_sampler: Iterable[list[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if not timeout >= 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. Let num_workers > 0 to enable "
                "multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(
                "multiprocessing_context can only be used with multi-process loading (num_workers > 0), but got "
                "num_workers=0"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        _numpy_generator(generator, "DataLoader")  # refuse a bad generator now, not at the first pass
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = int(num_workers)
        self.pin_memory, self.pin_memory_device, self.timeout = pin_memory, pin_memory_device, timeout
        self.worker_init_fn, self.multiprocessing_context = worker_init_fn, multiprocessing_context
        self.prefetch_factor, self.persistent_workers, self.in_order = prefetch_factor, persistent_workers, in_order
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __iter__(self) -> Iterator[Any]:
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return (self._batch(indices) for indices in self.batch_sampler)

    def _batch(self, indices: list[int]) -> Any:
        if self.collate_fn is default_collate:
            rows = _tensor_dataset_rows(self.dataset, indices)
            if rows is not None:  # the batch that stacking the samples gives, in one indexing per tensor
                tensors, index = rows
                return [t[index] for t in tensors]
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(indices) if callable(getitems) else [self.dataset[i] for i in indices]
        return self.collate_fn(samples)

    def __len__(self) -> int:
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)  # type: ignore[arg-type]


def _tensor_dataset_rows(dataset: Any, indices: list[int]) -> tuple[tuple[Tensor, ...], np.ndarray] | None:
    """For a `TensorDataset`, or a `Subset` of one (of a subset of one, ...), and whole-number
    indices: its tensors and the rows of the batch in them; else None."""
    rows = np.asarray(indices)
    if rows.ndim != 1 or rows.dtype.kind not in "iu":
        return None
    while type(dataset) is Subset:
        rows = np.asarray([dataset.indices[i] for i in rows.tolist()])
        dataset = dataset.dataset
        if rows.ndim != 1 or rows.dtype.kind not in "iu":
            return None
    if type(dataset) is not TensorDataset or not dataset.tensors:
        return None
    return dataset.tensors, rows.astype(np.int64)


# ------------------------------------------------------------------------------------- randomness
def _numpy_generator(generator: Any, where: str) -> np.random.Generator | None:
    """The NumPy generator behind ``generator``: None (use the global one), a ``numpy.random.Generator``,
    or an object holding one as an attribute (assumed to be how a ``torch.Generator`` look-alike keeps
    its state; exactly one such attribute must be found)."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    names = list(getattr(generator, "__dict__", {}))
    for cls in type(generator).__mro__:
        slots = getattr(cls, "__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    found = {id(v): v for v in (getattr(generator, n, None) for n in names) if isinstance(v, np.random.Generator)}
    if len(found) == 1:
        return next(iter(found.values()))
    raise TypeError(
        f"{where}: generator must be a generator of this package (an object holding a numpy.random.Generator) "
        f"or a numpy.random.Generator, got a {type(generator).__name__}"
    )


def _rng_for_pass(generator: Any, where: str) -> np.random.Generator:
    """The generator to draw one pass from: ``generator``'s, or a fresh one seeded by one draw from
    the global generator (PyTorch's way: one draw per pass, whatever the size of the dataset)."""
    rng = _numpy_generator(generator, where)
    if rng is not None:
        return rng
    return np.random.default_rng(int(_generator().integers(2**63)))


def _permutation(n: int, generator: Any, where: str) -> np.ndarray:
    return _rng_for_pass(generator, where).permutation(n)
