"""Recover the kernel that maps example images to their filtered versions.

The model is ``target = correlate(input, k, border=border)`` (mode "same",
anchor ``(kh // 2, kw // 2)``): every target pixel is a weighted sum of the
``kh * kw`` input pixels in its window, so the kernel is the solution of a
linear least-squares problem whose design matrix has one column per tap: the
input shifted by that tap's offset. Both ways of solving it are written with
imconv's own correlations:

- ``lstsq``: the normal equations ``G k = b``. ``b[a]`` is the correlation of the
  padded input with the target (one ``mode="valid"`` correlation); ``G[a, b]`` is
  the input correlated with itself at displacement ``b - a`` (one autocorrelation
  for the pixels every window covers) plus the windows' edges, a thin frame
  summed as a small matrix product.
- ``gd``: conjugate-gradient descent on the mean squared error (CGLS). The
  gradient with respect to the kernel is the correlation of the padded input
  with the residual; each step needs that and one forward correlation.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .._correlation import correlate
from .. import kernels as _kernels
from ..kernels import _pair as size_pair

METHODS = ("lstsq", "gd")
#: Above this condition number of the normal equations the kernel is not identified.
UNIDENTIFIABLE = 1e13
#: Above this one, errors in the targets are amplified enough to warn.
ILL_CONDITIONED = 1e8


class FitWarning(UserWarning):
    """A kernel was fitted, but the data determine it poorly (see the message)."""


@dataclass(frozen=True)
class KernelFit:
    """What `fit_kernel` found.

    kernel: (kh, kw) float64 weights in correlation orientation.
    residual_rms: root mean square of ``correlate(input, kernel) - target`` over all pixels.
    condition: condition number of the normal equations (``l2`` included): how much
        errors in the targets can be amplified in the kernel.
    method: "lstsq" or "gd".
    loss_curve: mean squared error (plus the ``l2`` term) before each gd step and after
        the last one; for lstsq, the final loss only.
    standard_error: (kh, kw) standard error of each weight if the residual is white
        noise (lstsq with ``l2=0`` only, else None).
    """

    kernel: np.ndarray
    residual_rms: float
    condition: float
    method: str
    loss_curve: np.ndarray
    standard_error: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return len(self.loss_curve) - 1


def fit_kernel(inputs, targets, size=(3, 3), *, border="replicate", fill=0.0, method="lstsq",
               l2=0.0, max_steps=None, tolerance=1e-12) -> KernelFit:
    """Find the kernel k with ``correlate(input, k, border=border) ≈ target`` for every pair.

    Parameters
    ----------
    inputs, targets : array or list of arrays
        One image or a list of images, (H, W) or (H, W, C), each target the shape of
        its input (mode "same"). Channels count as more pairs for the same kernel.
    size : int or (int, int)
        The kernel's (rows, cols); the anchor is ``(rows // 2, cols // 2)``.
    border, fill
        The border the targets were made with, as in `imconv.correlate`.
    method : {"lstsq", "gd"}
        ``lstsq`` solves the normal equations in one pass; ``gd`` descends the mean
        squared error by conjugate gradients and records the loss curve.
    l2 : float
        Ridge penalty: minimise ``mean(residual**2) + l2 * sum(k**2)``.
    max_steps, tolerance
        gd only: stop after `max_steps` (default ``4 * kh * kw + 50``) or when the
        gradient's norm falls below `tolerance` times its first value.

    Raises ValueError when the inputs cannot identify the kernel (a flat image, or
    fewer pixels than weights) and warns `FitWarning` when they barely can.

    Examples
    --------
    >>> import numpy as np, imconv
    >>> from imconv.learn import fit_kernel
    >>> image = np.random.default_rng(0).random((64, 64))
    >>> fit = fit_kernel(image, imconv.correlate(image, "sobel_x"), size=3)
    >>> np.round(fit.kernel, 6) + 0.0
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    >>> fit.residual_rms < 1e-12
    True
    """
    pairs = _pairs(inputs, targets)
    size = _size(size, pairs)
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not known; use one of {', '.join(map(repr, METHODS))}")
    if not isinstance(l2, numbers.Real) or not l2 >= 0:
        raise ValueError(f"l2={l2!r} must be a number >= 0")
    options = dict(border=border, fill=fill)
    padded = [(_padded(x, size, **options), t) for x, t in pairs]
    system = _normal_equations(padded, size)
    ridge = system.pixels * l2
    condition = _condition(system.gram, ridge, size)
    if method == "lstsq":
        kernel = scipy.linalg.solve(system.gram + ridge * np.eye(len(system.rhs)), system.rhs,
                                    assume_a="pos").reshape(size)
        curve = None
    else:
        kernel, curve = _descend(pairs, padded, size, ridge, options, max_steps, tolerance)
    residual_ss = sum(float(np.sum((correlate(x, kernel, dtype=np.float64, **options) - t) ** 2))
                      for x, t in pairs)
    loss = (residual_ss + ridge * float(np.sum(kernel ** 2))) / system.pixels
    return KernelFit(kernel, math.sqrt(residual_ss / system.pixels), condition, method,
                     np.array([loss]) if curve is None else np.append(curve, loss),
                     _standard_error(system, residual_ss, size) if method == "lstsq" and l2 == 0 else None)


@dataclass(frozen=True)
class _System:
    gram: np.ndarray   # (n, n): sum over pixels of patch patch^T
    rhs: np.ndarray    # (n,): sum over pixels of patch * target
    pixels: int


def _normal_equations(padded, size) -> _System:
    n = size[0] * size[1]
    gram, rhs = np.zeros((n, n)), np.zeros(n)
    pixels = 0
    for xp, target in padded:
        rhs += correlate(xp, target, mode="valid", dtype=np.float64).ravel()
        gram += _gram(xp, target.shape, size)
        pixels += target.size
    return _System(gram, rhs, pixels)


def _gram(xp: np.ndarray, shape, size) -> np.ndarray:
    """``sum over p in the image of xp[p + a] * xp[p + b]`` for every pair of taps a, b.

    The pixels q = p + a that every window covers form the core ``xp[kh-1:H, kw-1:W]``;
    their part depends only on the displacement b - a: one autocorrelation. What
    each window covers outside the core is a frame kh - 1 pixels wide, summed directly.
    """
    (kh, kw), (height, width) = size, shape
    core = xp[kh - 1:height, kw - 1:width]
    auto = correlate(xp, core, mode="valid", dtype=np.float64)  # (2kh - 1, 2kw - 1)
    ai, aj = np.divmod(np.arange(kh * kw), kw)
    rows = ai[np.newaxis, :] - ai[:, np.newaxis] + kh - 1  # b - a, shifted to index `auto`
    cols = aj[np.newaxis, :] - aj[:, np.newaxis] + kw - 1
    gram = auto[rows, cols]
    return gram + _frame_gram(xp, shape, size, ai, aj)


def _frame_gram(xp, shape, size, ai, aj) -> np.ndarray:
    """The windows' pixels outside the core: patches at frame pixels, masked where inside."""
    (kh, kw), (height, width) = size, shape
    rows, cols = np.arange(height), np.arange(width)
    frame_rows = (rows < kh - 1) | (rows >= height - kh + 1)
    frame_cols = (cols < kw - 1) | (cols >= width - kw + 1)
    py, px = np.nonzero(frame_rows[:, np.newaxis] | frame_cols[np.newaxis, :])
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw))
    frame = np.zeros((kh * kw, kh * kw))
    chunk = max(1, 2 ** 22 // (kh * kw))  # patches per product: ~32 MB of float64
    for start in range(0, len(py), chunk):
        y, x = py[start:start + chunk], px[start:start + chunk]
        patches = windows[y, x].reshape(len(y), kh * kw)
        qy, qx = y[:, np.newaxis] + ai, x[:, np.newaxis] + aj
        outside = (qy < kh - 1) | (qy >= height) | (qx < kw - 1) | (qx >= width)
        frame += (patches * outside).T @ patches
    return frame


def _condition(gram: np.ndarray, ridge: float, size) -> float:
    """Condition number of the normal equations; ValueError if they cannot be solved."""
    eigenvalues = np.linalg.eigvalsh(gram) + ridge
    largest, smallest = eigenvalues[-1], eigenvalues[0]
    condition = largest / smallest if smallest > 0 else math.inf
    if largest <= 0 or condition > UNIDENTIFIABLE:
        raise ValueError(
            f"the inputs cannot identify a {size[0]}x{size[1]} kernel: the normal equations have "
            f"condition number {condition:.3g} (a flat image, one with too little detail, or "
            "fewer pixels than weights); use textured inputs, a smaller size, or l2 > 0")
    if condition > ILL_CONDITIONED:
        warnings.warn(
            f"the {size[0]}x{size[1]} kernel is poorly determined: condition number "
            f"{condition:.3g}, so errors in the targets can grow that much in the kernel; "
            "use more textured inputs, a smaller size, or l2 > 0", FitWarning, stacklevel=3)
    return float(condition)


def _standard_error(system: _System, residual_ss: float, size) -> np.ndarray:
    dof = max(1, system.pixels - len(system.rhs))
    variance = residual_ss / dof
    return np.sqrt(variance * np.diag(np.linalg.inv(system.gram))).reshape(size)


def _descend(pairs, padded, size, ridge, options, max_steps, tolerance):
    """CGLS on ``sum(residual**2) + ridge * |k|**2``; returns the kernel and the loss curve.

    The gradient (halved) is ``A^T r - ridge k``, with ``A^T r`` the correlation of each
    padded input with its residual.
    """
    pixels = sum(t.size for _, t in pairs)
    kernel = np.zeros(size)
    residuals = [t.astype(np.float64) for _, t in pairs]
    gradient = _adjoint(padded, residuals)
    direction, gamma = gradient.copy(), float(np.sum(gradient ** 2))
    threshold = tolerance ** 2 * gamma
    curve = []
    for _ in range(4 * size[0] * size[1] + 50 if max_steps is None else max_steps):
        squares = sum(float(np.sum(r ** 2)) for r in residuals)
        curve.append((squares + ridge * float(np.sum(kernel ** 2))) / pixels)
        if gamma <= threshold:
            break
        images = [correlate(x, direction, dtype=np.float64, **options) for x, _ in pairs]
        step = gamma / (sum(float(np.sum(q ** 2)) for q in images) + ridge * float(np.sum(direction ** 2)))
        kernel += step * direction
        for r, q in zip(residuals, images):
            r -= step * q
        gradient = _adjoint(padded, residuals) - ridge * kernel
        gamma, previous = float(np.sum(gradient ** 2)), gamma
        direction = gradient + (gamma / previous) * direction
    else:
        warnings.warn(f"gd stopped after {len(curve)} steps before the gradient fell by "
                      f"{tolerance:g}; the kernel may not be converged (raise max_steps)",
                      FitWarning, stacklevel=3)
    return kernel, np.array(curve)


def _adjoint(padded, residuals) -> np.ndarray:
    """``sum over pairs of correlate(padded input, residual, mode="valid")``: A^T r."""
    return sum(correlate(xp, r, mode="valid", dtype=np.float64) for (xp, _), r in zip(padded, residuals))


def _padded(image: np.ndarray, size, *, border, fill) -> np.ndarray:
    """The image extended by `border` so that ``xp[p + a]`` is the pixel tap a sees from p.

    Made by imconv itself: a "full" correlation with a single 1 places the anchor.
    """
    kh, kw = size
    delta = np.zeros(size)
    delta[kh - 1 - kh // 2, kw - 1 - kw // 2] = 1.0
    return correlate(image, delta, border=border, fill=fill, mode="full", dtype=np.float64)


def _pairs(inputs, targets) -> list[tuple[np.ndarray, np.ndarray]]:
    """Matching 2-D float64 (input, target) planes; channels split into more pairs."""
    inputs, targets = _image_list(inputs, "inputs"), _image_list(targets, "targets")
    if len(inputs) != len(targets):
        raise ValueError(f"got {len(inputs)} inputs but {len(targets)} targets; give one target per input")
    pairs = []
    for index, (x, t) in enumerate(zip(inputs, targets)):
        if x.shape != t.shape:
            raise ValueError(f"input {index} has shape {x.shape} but its target has {t.shape}; "
                             "targets must be the input's size (mode 'same')")
        planes = [(x, t)] if x.ndim == 2 else [(x[:, :, c], t[:, :, c]) for c in range(x.shape[2])]
        pairs += [(np.asarray(p, np.float64), np.asarray(q, np.float64)) for p, q in planes]
    return pairs


def _image_list(images, what: str) -> list[np.ndarray]:
    many = isinstance(images, (list, tuple)) and len(images) > 0 and all(
        isinstance(image, np.ndarray) for image in images)
    arrays = [np.asarray(image) for image in (images if many else [images])]
    for index, array in enumerate(arrays):
        if array.ndim not in (2, 3) or array.dtype.kind not in "buif":
            raise ValueError(f"{what}[{index}] must be a real (H, W) or (H, W, C) image; got "
                             f"{array.dtype} of shape {array.shape}")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"{what}[{index}] has NaN or inf; fit_kernel needs finite values")
    return arrays


def _size(size, pairs) -> tuple[int, int]:
    rows, cols = size_pair(size, "fit_kernel")
    smallest = min(min(x.shape) for x, _ in pairs)
    if max(rows, cols) > smallest:
        raise ValueError(f"size={size!r} is larger than the smallest image side ({smallest}); "
                         "a kernel must fit inside the image")
    return rows, cols


def closest_bank_kernel(kernel) -> tuple[str, float]:
    """The bank kernel most like `kernel` by normalised correlation, and that score.

    Bank kernels are centre-cropped or zero-padded to the kernel's size first, so a
    3x3 learned blur is compared with the middle of ``small_blur``; on a tie, the bank
    kernel of the kernel's own size is named. A negative score
    means the kernel resembles the bank kernel negated.

    >>> closest_bank_kernel(-2 * np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]))
    ('sobel_x', -1.0)
    """
    kernel = np.asarray(kernel, np.float64)
    scores = {name: round(_cosine(kernel, _fit_to(weights, kernel.shape)), 12)
              for name, weights in _kernels.BANK.items()}
    # On a tie (a 7x7 box is also the middle of large_blur) the kernel of the same size wins.
    name = max(scores, key=lambda key: (abs(scores[key]), _kernels.BANK[key].shape == kernel.shape))
    return name, scores[name]


def _fit_to(weights: np.ndarray, shape) -> np.ndarray:
    out = np.zeros(shape)
    for axis in (0, 1):
        if weights.shape[axis] > shape[axis]:
            start = (weights.shape[axis] - shape[axis]) // 2
            weights = np.take(weights, range(start, start + shape[axis]), axis=axis)
    top, left = ((s - w) // 2 for s, w in zip(shape, weights.shape))
    out[top:top + weights.shape[0], left:left + weights.shape[1]] = weights
    return out


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(np.sum(a * b) / norm) if norm > 0 else 0.0
