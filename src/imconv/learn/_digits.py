"""Train the small network on scikit-learn's bundled 8x8 digits, and picture what it learned."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import kernels as _kernels
from .._display import to_uint8
from .._pictures import contact_sheet
from ._fit import closest_bank_kernel
from ._layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, softmax_cross_entropy
from ._network import Adam, Sequential


@dataclass(frozen=True)
class Training:
    """A trained network and how it did: accuracies in [0, 1], loss per epoch, seconds taken."""

    network: Sequential
    train_accuracy: float
    test_accuracy: float
    epoch_losses: list
    seconds: float


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 digits as float32 images (N, 1, 8, 8) in [0, 1], and their labels."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError("the digits come with scikit-learn: pip install 'imconv[learn]' "
                          "(or pip install scikit-learn)") from None
    data = sklearn_digits()
    return (data.images[:, np.newaxis] / 16).astype(np.float32), data.target.astype(np.int64)


def split(labels: np.ndarray, test_fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices, the same fraction of every class in the test set."""
    members = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    test = np.concatenate([rng.permutation(m)[:round(test_fraction * len(m))] for m in members])
    train = np.setdiff1d(np.arange(len(labels)), test)
    return rng.permutation(train), np.sort(test)


def digits_network(rng, filters: int = 8, size: int = 3) -> Sequential:
    """Conv2D(1 -> filters, size x size, same) - ReLU - 2x2 max pool - Dense(-> 10)."""
    return Sequential([Conv2D(1, filters, size, rng=rng), ReLU(), MaxPool2D(), Flatten(),
                       Dense(filters * 16, 10, rng=rng)])


def train_digits(*, epochs: int = 30, batch: int = 32, lr: float = 0.01, filters: int = 8, size: int = 3,
                 seed: int = 0, test_fraction: float = 0.25, data=None, progress=None) -> Training:
    """Train `digits_network` with Adam on 75% of the digits; test on the other 25%.

    The same `seed` gives the same split, weights and result. `progress`, if given,
    is called with (step, steps, loss) after every batch. `data` replaces the
    digits with other (images, labels) of 8x8 images.
    """
    images, labels = load_digits() if data is None else data
    rng = np.random.default_rng(seed)
    train, test = split(labels, test_fraction, rng)
    network = digits_network(rng, filters, size)
    optimizer = Adam(network.parameters(), lr=lr)
    steps, step, epoch_losses = epochs * -(-len(train) // batch), 0, []
    started = time.perf_counter()
    for _ in range(epochs):
        order, total = rng.permutation(train), 0.0
        for start in range(0, len(order), batch):
            chosen = order[start:start + batch]
            loss, grad = softmax_cross_entropy(network.forward(images[chosen]), labels[chosen])
            network.backward(grad)
            optimizer.step(network.gradients())
            total += loss * len(chosen)
            step += 1
            if progress is not None:
                progress(step, steps, loss)
        epoch_losses.append(total / len(train))
    accuracy = {name: float(np.mean(network.predict(images[index]) == labels[index]))
                for name, index in (("train", train), ("test", test))}
    return Training(network, accuracy["train"], accuracy["test"], epoch_losses,
                    time.perf_counter() - started)


def filters_picture(weights: np.ndarray, *, side: int = 120) -> np.ndarray:
    """Learned filters (F, kh, kw) above the bank's hand-made kernels, each learned one
    labelled with the bank kernel it most resembles and their normalised correlation
    (a minus sign: it resembles that kernel negated).

    Every tile is on its own symmetric scale: mid grey is 0, white the largest
    |weight|, black its negative; tiles are about `side` pixels wide.
    """
    learned = []
    for index, kernel in enumerate(weights):
        name, score = closest_bank_kernel(kernel)
        learned.append((f"{index}: {'-' if score < 0 else ''}{name} {abs(score):.2f}", _tile(kernel, side)))
    bank = [(f"bank: {name}", _tile(kernel, side)) for name, kernel in _kernels.BANK.items()]
    return contact_sheet(learned + bank, columns=min(8, max(len(learned), len(bank))))


def _tile(kernel: np.ndarray, side: int) -> np.ndarray:
    peak = np.abs(kernel).max()
    unit = kernel / peak if peak > 0 else kernel
    grey = to_uint8((unit + 1) * 127.5, how="clip")
    scale = max(1, side // max(kernel.shape))
    tile = np.kron(grey, np.ones((scale, scale), np.uint8))
    return np.pad(tile, 1, constant_values=96)  # a frame, so a white tile shows on the white sheet
