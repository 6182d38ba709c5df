"""Layers of a small convolutional network, forward and backward, on imconv's correlations.

Arrays are laid out as PyTorch lays them out: images (N, C, H, W), convolution
weights (C_out, C_in, kh, kw), dense weights (out, in). Every layer computes in
the dtype of its parameters.

The lesson of the backward pass, for ``out = correlate(x, w)`` written with the
input padded to ``xp`` so that ``out[y, x] = sum_ij w[i, j] * xp[y + i, x + j]``:

- ``d out[y, x] / d w[i, j] = xp[y + i, x + j]``, so the kernel's gradient is
  ``sum_yx g[y, x] * xp[y + i, x + j]``: the **correlation** of the padded input
  with the output gradient, ``correlate(xp, g, mode="valid")``.
- ``xp[u]`` feeds every output ``y = u - i``, so its gradient is
  ``sum_i g[u - i] * w[i]``: the **full convolution** of the output gradient with
  the same kernel, ``convolve(g, w, mode="full")``, cropped to the unpadded input.
"""

from __future__ import annotations

import math

import numpy as np

from .._correlation import convolve, correlate
from ..kernels import _pair as size_pair

PADDINGS = ("same", "valid")


class Layer:
    """A step of the network: `forward` keeps what `backward` needs."""

    def parameters(self) -> dict[str, np.ndarray]:
        return {}

    def gradients(self) -> dict[str, np.ndarray]:
        return {}

    def config(self) -> dict:
        return {}


class Conv2D(Layer):
    """Cross-correlation of C_in channels into C_out, stride 1, zero padding, as ``torch.nn.Conv2d``.

    ``padding="same"`` keeps H x W; for an even kernel the extra row and column of
    zeros go below and right, as in PyTorch (anchor ``((kh - 1) // 2, (kw - 1) // 2)``).
    Weights start uniform in ±1/sqrt(C_in * kh * kw), PyTorch's default.

    >>> layer = Conv2D(1, 2, 3, rng=np.random.default_rng(0))
    >>> layer.forward(np.ones((4, 1, 5, 5), np.float32)).shape
    (4, 2, 5, 5)
    """

    def __init__(self, in_channels: int, out_channels: int, size, *, padding: str = "same",
                 bias: bool = True, rng=None, dtype=np.float32):
        kh, kw = size_pair(size, "Conv2D")
        if padding not in PADDINGS:
            raise ValueError(f"padding={padding!r} is not known; use one of {', '.join(map(repr, PADDINGS))}")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        rng = np.random.default_rng(rng)
        bound = 1 / math.sqrt(in_channels * kh * kw)
        self.weight = rng.uniform(-bound, bound, (out_channels, in_channels, kh, kw)).astype(dtype)
        self.bias = rng.uniform(-bound, bound, out_channels).astype(dtype) if bias else None
        self.padding = padding
        self.input_gradient = True  # the first layer of a network does not need it
        self._input = None

    @property
    def anchor(self) -> tuple[int, int]:
        kh, kw = self.weight.shape[2:]
        return (kh - 1) // 2, (kw - 1) // 2

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _as_images(x, self.weight.shape[1], self.weight.dtype)
        self._input = x
        planes = x.transpose(2, 3, 0, 1)  # (H, W, N, C_in): the batch as channels of one image
        out = None
        for o, c in np.ndindex(*self.weight.shape[:2]):
            part = self._correlate(planes[:, :, :, c], self.weight[o, c])
            if out is None:
                out = np.zeros((x.shape[0], self.weight.shape[0], *part.shape[:2]), self.weight.dtype)
            out[:, o] += part.transpose(2, 0, 1)
        if self.bias is not None:
            out += self.bias[:, np.newaxis, np.newaxis]
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        x, (kh, kw) = self._input, self.weight.shape[2:]
        self.grad_bias = grad.sum(axis=(0, 2, 3)) if self.bias is not None else None
        self.grad_weight = self._weight_gradient(self._padded(x), grad)
        if not self.input_gradient:
            return None
        grads = grad.transpose(2, 3, 0, 1)  # (Ho, Wo, N, C_out)
        padded = np.zeros((x.shape[2] + kh - 1, x.shape[3] + kw - 1, *x.shape[:2]), grad.dtype) \
            if self.padding == "same" else np.zeros((x.shape[2], x.shape[3], *x.shape[:2]), grad.dtype)
        for o, c in np.ndindex(*self.weight.shape[:2]):
            padded[:, :, :, c] += convolve(grads[:, :, :, o], self.weight[o, c], border="constant",
                                           mode="full", dtype=grad.dtype)
        top, left = self.anchor if self.padding == "same" else (0, 0)
        return padded[top:top + x.shape[2], left:left + x.shape[3]].transpose(2, 3, 0, 1)

    def _correlate(self, planes, weights):
        if self.padding == "same":
            return correlate(planes, weights, border="constant", anchor=self.anchor, dtype=weights.dtype)
        return correlate(planes, weights, mode="valid", dtype=weights.dtype)

    def _padded(self, x: np.ndarray) -> np.ndarray:
        """The input with the zeros the forward pass read: (N, C, H + kh - 1, W + kw - 1) for "same"."""
        if self.padding == "valid":
            return x
        (kh, kw), (top, left) = self.weight.shape[2:], self.anchor
        return np.pad(x, ((0, 0), (0, 0), (top, kh - 1 - top), (left, kw - 1 - left)))

    def _weight_gradient(self, xp: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """``sum_n correlate(xp[n, c], grad[n, o], mode="valid")`` for every (o, c), one call per o.

        The batch is laid side by side: the padded inputs in one wide image, the
        output gradients in one wide kernel, each sample's gradient at its own
        input's place. With kernel-sized gaps, a displacement within the kernel only
        ever pairs a sample with itself, so one valid correlation sums the batch.
        """
        n, channels, hp, wp = xp.shape
        ho, wo = grad.shape[2:]
        inputs = xp.transpose(2, 0, 3, 1).reshape(hp, n * wp, channels)
        kernels = np.zeros((grad.shape[1], ho, n, wp), grad.dtype)
        kernels[:, :, :, :wo] = grad.transpose(1, 2, 0, 3)
        kernels = kernels.reshape(grad.shape[1], ho, n * wp)[:, :, :n * wp - (wp - wo)]
        return np.stack([correlate(inputs, k, mode="valid", dtype=grad.dtype).transpose(2, 0, 1)
                         for k in kernels])

    def parameters(self):
        return {"weight": self.weight} | ({"bias": self.bias} if self.bias is not None else {})

    def gradients(self):
        return {"weight": self.grad_weight} | ({"bias": self.grad_bias} if self.bias is not None else {})

    def config(self):
        out_channels, in_channels, kh, kw = self.weight.shape
        return dict(in_channels=in_channels, out_channels=out_channels, size=[kh, kw],
                    padding=self.padding, bias=self.bias is not None, dtype=self.weight.dtype.name)


class ReLU(Layer):
    """max(x, 0); the gradient passes where x > 0 (0 at x == 0, as in PyTorch)."""

    def forward(self, x):
        self._mask = x > 0
        return np.where(self._mask, x, 0).astype(x.dtype, copy=False)

    def backward(self, grad):
        return np.where(self._mask, grad, 0).astype(grad.dtype, copy=False)


class MaxPool2D(Layer):
    """The largest of each 2 x 2 block, stride 2; an odd last row or column is dropped.

    The gradient goes to the first largest element of each block (row by row), as
    in PyTorch.

    >>> MaxPool2D().forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """

    def forward(self, x):
        n, c, h, w = x.shape
        if h < 2 or w < 2:
            raise ValueError(f"MaxPool2D needs images of at least 2 x 2; got {h} x {w}")
        blocks = x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
        blocks = blocks.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
        self._shape, self._winner = x.shape, blocks.argmax(axis=4)
        return np.take_along_axis(blocks, self._winner[..., np.newaxis], axis=4)[..., 0]

    def backward(self, grad):
        n, c, h, w = self._shape
        blocks = np.zeros((*grad.shape, 4), grad.dtype)
        np.put_along_axis(blocks, self._winner[..., np.newaxis], grad[..., np.newaxis], axis=4)
        blocks = blocks.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
        out = np.zeros(self._shape, grad.dtype)
        out[:, :, :h // 2 * 2, :w // 2 * 2] = blocks.reshape(n, c, h // 2 * 2, w // 2 * 2)
        return out


class Flatten(Layer):
    """(N, C, H, W) -> (N, C * H * W), in PyTorch's order."""

    def forward(self, x):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad):
        return grad.reshape(self._shape)


class Dense(Layer):
    """``x @ weight.T + bias``, as ``torch.nn.Linear``; weights start uniform in ±1/sqrt(in)."""

    def __init__(self, in_features: int, out_features: int, *, rng=None, dtype=np.float32):
        rng = np.random.default_rng(rng)
        bound = 1 / math.sqrt(in_features)
        self.weight = rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype)
        self.bias = rng.uniform(-bound, bound, out_features).astype(dtype)

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.weight.shape[1]:
            raise ValueError(f"Dense({self.weight.shape[1]}, {self.weight.shape[0]}) needs inputs of shape "
                             f"(N, {self.weight.shape[1]}); got {x.shape}")
        self._input = x
        return x @ self.weight.T + self.bias

    def backward(self, grad):
        self.grad_weight = grad.T @ self._input
        self.grad_bias = grad.sum(axis=0)
        return grad @ self.weight

    def parameters(self):
        return {"weight": self.weight, "bias": self.bias}

    def gradients(self):
        return {"weight": self.grad_weight, "bias": self.grad_bias}

    def config(self):
        return dict(in_features=self.weight.shape[1], out_features=self.weight.shape[0],
                    dtype=self.weight.dtype.name)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    As ``torch.nn.functional.cross_entropy``; the gradient is ``(softmax - one_hot) / N``.

    >>> loss, grad = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(loss, 6), grad.shape
    (1.386294, (2, 4))
    """
    labels = np.asarray(labels)
    if labels.shape != logits.shape[:1] or labels.dtype.kind not in "iu" or (
            labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1])):
        raise ValueError(f"labels must be {logits.shape[0]} integers in [0, {logits.shape[1]}); got "
                         f"{labels.dtype} of shape {labels.shape}")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    loss = -float(log_probabilities[rows, labels].mean())
    grad = np.exp(log_probabilities)
    grad[rows, labels] -= 1
    return loss, (grad / len(labels)).astype(logits.dtype, copy=False)


def _as_images(x, channels: int, dtype) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"Conv2D with {channels} input channels needs images of shape (N, {channels}, H, W); "
                         f"got {x.shape}")
    return x.astype(dtype, copy=False)
