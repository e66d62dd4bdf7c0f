"""pg.utils.data: datasets, samplers and the loader, against torch.utils.data where it runs."""

import numpy as np
import pytest

import pathgrad as pg
from pathgrad.utils.data import (
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


def _dataset(n=10):
    return TensorDataset(pg.arange(n * 2).reshape(n, 2).float(), pg.arange(n))


def test_batches_in_order_with_and_without_drop_last():
    data = _dataset()
    batches = list(DataLoader(data, batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert np.array_equal(np.concatenate([y.numpy() for _, y in batches]), np.arange(10))
    assert len(DataLoader(data, batch_size=4)) == 3
    assert len(DataLoader(data, batch_size=4, drop_last=True)) == 2
    assert [len(y) for _, y in DataLoader(data, batch_size=4, drop_last=True)] == [4, 4]


def test_shuffling_is_a_permutation_repeatable_with_a_generator():
    data = _dataset(20)

    def order(seed):
        loader = DataLoader(
            data, batch_size=6, shuffle=True, generator=pg.Generator().manual_seed(seed)
        )
        return np.concatenate([y.numpy() for _, y in loader])

    assert sorted(order(1)) == list(range(20))
    assert np.array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))
    generator = pg.Generator().manual_seed(3)
    loader = DataLoader(data, batch_size=20, shuffle=True, generator=generator)
    first, second = next(iter(loader))[1], next(iter(loader))[1]
    assert not np.array_equal(first.numpy(), second.numpy())  # a fresh order each pass


class Pairs(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(2, float(i)), "label": i, "name": f"n{i}"}, (
            i * 0.5,
            pg.tensor([i, i]),
        )


def test_collate_of_dicts_tuples_numbers_and_strings():
    features, (halves, pairs) = next(iter(DataLoader(Pairs(), batch_size=3)))
    assert features["x"].shape == (3, 2)
    assert features["label"].dtype == pg.int64 and features["label"].tolist() == [0, 1, 2]
    assert features["name"] == ["n0", "n1", "n2"]
    assert halves.dtype == pg.float64 and halves.tolist() == [0.0, 0.5, 1.0]
    assert pairs.shape == (3, 2)


def test_the_tensor_dataset_fast_path_equals_collating_rows():
    data = _dataset(7)
    indices = [3, 0, 6]
    fast = next(iter(DataLoader(data, batch_size=3, sampler=indices)))
    slow = default_collate([data[i] for i in indices])
    for a, b in zip(fast, slow):
        assert np.array_equal(a.numpy(), b.numpy()) and a.dtype == b.dtype


def test_samplers_and_batch_sampler():
    data = _dataset(5)
    assert list(SequentialSampler(data)) == [0, 1, 2, 3, 4]
    assert sorted(RandomSampler(data, generator=pg.Generator().manual_seed(0))) == [0, 1, 2, 3, 4]
    drawn = list(RandomSampler(data, replacement=True, num_samples=12))
    assert len(drawn) == 12 and all(0 <= i < 5 for i in drawn)
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    loader = DataLoader(data, batch_sampler=BatchSampler(range(5), 2, True))
    assert [y.tolist() for _, y in loader] == [[0, 1], [2, 3]]


def test_random_split_and_subset():
    data = _dataset(10)
    a, b, c = random_split(data, [0.8, 0.1, 0.1], generator=pg.Generator().manual_seed(0))
    assert (len(a), len(b), len(c)) == (8, 1, 1)
    assert sorted(a.indices + b.indices + c.indices) == list(range(10))
    again = random_split(data, [8, 1, 1], generator=pg.Generator().manual_seed(0))
    assert again[0].indices == a.indices
    assert Subset(data, [4, 2])[1][1].item() == 2
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(data, [3, 3])


def test_bad_arguments_are_refused():
    data = _dataset()
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(data, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(pg.zeros(3), pg.zeros(4))


def test_lengths_and_fractions_split_as_pytorch():
    torch = pytest.importorskip("torch")
    for lengths in ([0.8, 0.1, 0.1], [0.5, 0.5], [0.3, 0.3, 0.4], [5, 3, 2]):
        ours = [len(s) for s in random_split(_dataset(10), lengths)]
        theirs = [len(s) for s in torch.utils.data.random_split(range(10), lengths)]
        assert ours == theirs
    batch = [(1, 2.5, np.ones(2)), (3, 4.5, np.zeros(2))]
    ours, theirs = default_collate(batch), torch.utils.data.default_collate(batch)
    assert type(ours) is type(theirs)
    for a, b in zip(ours, theirs):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        assert np.array_equal(a.numpy(), b.numpy())
