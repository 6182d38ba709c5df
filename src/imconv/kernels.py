"""Named kernels: the tutorial's bank and builders for the usual filters.

Kernels are plain float64 (or complex128) arrays in correlation orientation: as
printed, the top-left weight multiplies the top-left pixel of the window. Where
a kernel is separable its factors are kept: ``info(name).factors`` is the pair
``(column, row)`` with ``np.outer(column, row)`` equal to the kernel.

>>> from imconv import kernels
>>> list(kernels.BANK)
['small_blur', 'large_blur', 'sharpen', 'laplacian', 'sobel_x', 'sobel_y', 'emboss']
>>> kernels.get("sobel_x")
array([[-1.,  0.,  1.],
       [-2.,  0.,  2.],
       [-1.,  0.,  1.]])
>>> print(kernels.info("sobel_x").description)
horizontal gradient (responds to vertical edges), smoothed across 3 rows
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

# Separable parts, as scikit-image builds its edge filters.
DIFFERENCE = np.array([-1.0, 0.0, 1.0])
SOBEL_SMOOTH = np.array([1.0, 2.0, 1.0])
SCHARR_SMOOTH = np.array([3.0, 10.0, 3.0])
PREWITT_SMOOTH = np.array([1.0, 1.0, 1.0])


@dataclass(frozen=True)
class KernelInfo:
    """A named kernel: its weights, what it does, and its separable factors if it has them."""

    name: str
    description: str
    weights: np.ndarray
    factors: tuple[np.ndarray, np.ndarray] | None = None


def _pair(size, what: str) -> tuple[int, int]:
    pair = (size, size) if np.ndim(size) == 0 else tuple(size) if np.ndim(size) == 1 else ()
    if len(pair) != 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
                                 for n in pair):
        raise ValueError(f"{what} size={size!r} must be a positive integer or a (rows, cols) pair")
    return int(pair[0]), int(pair[1])


def identity(size=3) -> np.ndarray:
    """A kernel that returns the image unchanged: 1 at the anchor ``(kh // 2, kw // 2)``.

    >>> identity(3)
    array([[0., 0., 0.],
           [0., 1., 0.],
           [0., 0., 0.]])
    """
    rows, cols = _pair(size, "identity")
    kernel = np.zeros((rows, cols))
    kernel[rows // 2, cols // 2] = 1.0
    return kernel


def box_1d(n: int) -> np.ndarray:
    """``n`` equal weights summing to 1."""
    (n, _) = _pair(n, "box")
    return np.full(n, 1.0 / n)


def box(size) -> np.ndarray:
    """Average over a rows x cols window (``size`` an int for a square).

    >>> box((2, 3))
    array([[0.16666667, 0.16666667, 0.16666667],
           [0.16666667, 0.16666667, 0.16666667]])
    """
    rows, cols = _pair(size, "box")
    return np.full((rows, cols), 1.0 / (rows * cols))


def gaussian_1d(n: int, sigma: float | None = None) -> np.ndarray:
    """Sampled Gaussian of length ``n``, normalised to sum 1, as ``cv2.getGaussianKernel``.

    With no `sigma`, OpenCV's rule ``0.3 * ((n - 1) / 2 - 1) + 0.8`` (OpenCV itself
    uses fixed binomial tables up to n = 9 then). An even `n` is centred between
    its two middle taps, so the kernel stays symmetric.

    >>> gaussian_1d(3, 1.0).round(4)
    array([0.2741, 0.4519, 0.2741])
    """
    (n, _) = _pair(n, "gaussian")
    if sigma is None:
        sigma = 0.3 * ((n - 1) * 0.5 - 1) + 0.8
    if not (isinstance(sigma, (int, float, np.number)) and math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"gaussian sigma={sigma!r} must be a positive finite number")
    x = np.arange(n) - (n - 1) / 2
    weights = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return weights / weights.sum()


def gaussian(size, sigma: float | None = None) -> np.ndarray:
    """Gaussian blur, ``np.outer`` of two `gaussian_1d` (``size`` an int or (rows, cols)).

    >>> float(gaussian(3, 1.0).sum())
    1.0
    """
    rows, cols = _pair(size, "gaussian")
    return np.outer(gaussian_1d(rows, sigma), gaussian_1d(cols, sigma))


def binomial_1d(n: int) -> np.ndarray:
    """Row ``n - 1`` of Pascal's triangle over ``2 ** (n - 1)``: [1, 4, 6, 4, 1] / 16 for n = 5."""
    (n, _) = _pair(n, "binomial")
    return np.array([math.comb(n - 1, k) for k in range(n)], dtype=float) / 2.0 ** (n - 1)


def binomial(n: int = 5) -> np.ndarray:
    """Binomial approximation of a Gaussian; ``binomial(5)`` is outer([1, 4, 6, 4, 1]) / 256."""
    return np.outer(binomial_1d(n), binomial_1d(n))


def _gradient_info(name: str, smooth: np.ndarray, axis: str) -> KernelInfo:
    """x: the difference runs along columns and the smoothing down the rows; y: transposed."""
    if axis == "x":
        factors = (smooth, DIFFERENCE)
        what = "horizontal gradient (responds to vertical edges)"
    else:
        factors = (DIFFERENCE, smooth)
        what = "vertical gradient (responds to horizontal edges)"
    rows = "rows" if axis == "x" else "columns"
    return KernelInfo(name, f"{what}, smoothed across 3 {rows}", np.outer(*factors), factors)


def _named() -> dict[str, KernelInfo]:
    sqrt2 = math.sqrt(2.0)
    infos = [
        KernelInfo("small_blur", "7 x 7 average: a light blur", box(7),
                   (box_1d(7), box_1d(7))),
        KernelInfo("large_blur", "21 x 21 average: a strong blur", box(21),
                   (box_1d(21), box_1d(21))),
        KernelInfo("sharpen", "sharpen: the pixel plus its difference from its 4 neighbours",
                   np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]])),
        KernelInfo("laplacian", "4-neighbour Laplacian: second derivative, edges in every direction",
                   np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])),
        _gradient_info("sobel_x", SOBEL_SMOOTH, "x"),
        _gradient_info("sobel_y", SOBEL_SMOOTH, "y"),
        KernelInfo("emboss", "emboss: relief lit from the top left",
                   np.array([[-2.0, -1, 0], [-1, 1, 1], [0, 1, 2]])),
        KernelInfo("identity", "identity: returns the image unchanged", identity(3),
                   (np.array([0.0, 1, 0]), np.array([0.0, 1, 0]))),
        KernelInfo("binomial5", "5 x 5 binomial Gaussian, outer([1, 4, 6, 4, 1]) / 256",
                   binomial(5), (binomial_1d(5), binomial_1d(5))),
        KernelInfo("unsharp", "unsharp mask: 2 x identity - 3 x 3 box",
                   2.0 * identity(3) - box(3)),
        KernelInfo("outline", "outline: 8-neighbour edge detector that keeps only the edges",
                   np.array([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]])),
        KernelInfo("laplacian8", "8-neighbour Laplacian, diagonals included",
                   np.array([[1.0, 1, 1], [1, -8, 1], [1, 1, 1]])),
        _gradient_info("scharr_x", SCHARR_SMOOTH, "x"),
        _gradient_info("scharr_y", SCHARR_SMOOTH, "y"),
        _gradient_info("prewitt_x", PREWITT_SMOOTH, "x"),
        _gradient_info("prewitt_y", PREWITT_SMOOTH, "y"),
        KernelInfo("scharr_complex",
                   "complex Scharr: real part the x gradient, imaginary part the y gradient",
                   np.array([[-3 - 3j, -10j, 3 - 3j], [-10, 0, 10], [-3 + 3j, 10j, 3 + 3j]])),
        KernelInfo("ripple", "asymmetric ripple: an unsmoothed diagonal-difference pattern",
                   np.array([[0.0, -1, sqrt2], [1, 0, -1], [-sqrt2, 1, 0]])),
    ]
    for info in infos:
        info.weights.flags.writeable = False
        for factor in info.factors or ():
            factor.flags.writeable = False
    return {info.name: info for info in infos}


_NAMED = _named()

#: The tutorial's kernel bank, in its order: name -> read-only weights.
BANK = MappingProxyType({
    name: _NAMED[name].weights
    for name in ("small_blur", "large_blur", "sharpen", "laplacian", "sobel_x", "sobel_y", "emboss")
})

#: Builders that take parameters: name -> (function, one-line description).
BUILDERS = MappingProxyType({
    "identity": (identity, "identity(size): 1 at the centre, the image unchanged"),
    "box": (box, "box(size): average over a size or (rows, cols) window"),
    "gaussian": (gaussian, "gaussian(size, sigma): normalised Gaussian blur"),
    "binomial": (binomial, "binomial(n): n x n binomial approximation of a Gaussian"),
})


def names() -> tuple[str, ...]:
    """Names `get` knows, bank first.

    >>> names()[:3]
    ('small_blur', 'large_blur', 'sharpen')
    """
    return tuple(_NAMED)


def info(name: str) -> KernelInfo:
    """The `KernelInfo` of a named kernel; ValueError listing the names for an unknown one."""
    if isinstance(name, str) and name in _NAMED:
        return _NAMED[name]
    raise ValueError(f"kernel {name!r} is not known; use one of {', '.join(map(repr, _NAMED))}")


def get(name: str) -> np.ndarray:
    """A writable copy of the named kernel's weights.

    >>> get("sharpen")
    array([[ 0., -1.,  0.],
           [-1.,  5., -1.],
           [ 0., -1.,  0.]])
    >>> get("blurry")
    Traceback (most recent call last):
    ...
    ValueError: kernel 'blurry' is not known; use one of 'small_blur', 'large_blur', ...
    """
    return info(name).weights.copy()
