"""Template matching by cross-correlation: score maps and their best peaks.

Scores are computed with FFT correlation (``scipy.fft``) for the products and
integral images (running sums) for the window statistics, so the cost hardly
depends on the template size, and memory stays at a few image-sized buffers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.fft

from ._parallel import num_threads

METHODS = ("zncc", "ncc", "ccorr")
# Image types whose running sums of squares fit int64 exactly (16-bit values, 16k x 16k pixels).
_EXACT_DTYPES = (np.bool_, np.uint8, np.int8, np.uint16, np.int16)


class MatchScores(np.ndarray):
    """A score map that remembers the shape of the template that made it."""

    template_shape: tuple[int, int] | None

    def __array_finalize__(self, source):
        self.template_shape = getattr(source, "template_shape", None)


class Match(NamedTuple):
    """One peak of a score map: column `x`, row `y` of the template's top-left corner."""

    x: int
    y: int
    score: float


def match_template(image, template, *, method: str = "zncc") -> MatchScores:
    """Score every placement of `template` inside `image` (valid positions only).

    Returns an (H - th + 1) x (W - tw + 1) float64 map whose element [y, x] scores
    the template with its top-left corner on image pixel (y, x).

    method : {"zncc", "ncc", "ccorr"}
        ``zncc``: zero-mean normalised cross-correlation, OpenCV's
        ``TM_CCOEFF_NORMED``: 1 for a perfect match, unchanged by brightness and
        contrast. ``ncc``: normalised cross-correlation, ``TM_CCORR_NORMED``.
        ``ccorr``: the plain sum of products, ``TM_CCORR``.

    The normalised scores lie in [-1, 1] and are always finite: a window or
    template with no variation (zncc) or no energy (ncc) scores 0, where OpenCV
    gives 1 for a flat template. "No" means below what float64 running sums can
    tell from rounding: 1e-12 x area x (largest value)^2, plus for float images
    64 eps x pixels x (largest value)^2. Colour images match channel by channel, the
    sums added over channels as OpenCV does; image and template need the same
    number of channels. Values must be finite.

    >>> import numpy as np
    >>> image = np.random.default_rng(0).random((40, 50))
    >>> scores = match_template(image, image[10:20, 30:45])
    >>> scores.shape, find_matches(scores)[0]
    ((31, 36), Match(x=30, y=10, score=1.0))
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not known; use one of 'zncc', 'ncc', 'ccorr'")
    exact = np.asarray(image).dtype in _EXACT_DTYPES
    image, template = _as_planes(image, "image"), _as_planes(template, "template")
    _check_shapes(image, template)
    th, tw = template.shape[:2]
    if method == "zncc":  # both zero-mean: the same scores, less rounding in the products
        template = template - template.mean(axis=(0, 1))
        image = image - np.round(image.mean(axis=(0, 1)))
    products = _correlate_valid(image, template)
    if method == "ccorr":
        scores = products
    else:
        template_energy = float(np.sum(template * template))
        window_energy = _window_energy(image, (th, tw), centred=method == "zncc", exact=exact)
        scores = _normalise(products, window_energy * template_energy)
    scores = scores.view(MatchScores)
    scores.template_shape = (th, tw)
    return scores


def _as_planes(array, what: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} has dtype {array.dtype}; template matching takes real numbers")
    if array.ndim not in (2, 3) or array.size == 0:
        raise ValueError(f"{what} must be a non-empty (H, W) or (H, W, C) array; got shape {array.shape}")
    array = np.atleast_3d(array).astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contains NaN or inf; template matching needs finite values")
    return array


def _check_shapes(image: np.ndarray, template: np.ndarray) -> None:
    if template.shape[2] != image.shape[2]:
        raise ValueError(
            f"template has {template.shape[2]} channels but the image has {image.shape[2]}; "
            "read both as gray or both as RGB")
    if template.shape[0] > image.shape[0] or template.shape[1] > image.shape[1]:
        raise ValueError(
            f"template ({template.shape[0]} x {template.shape[1]}) is larger than the image "
            f"({image.shape[0]} x {image.shape[1]})")


def _correlate_valid(image: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Sum over channels of the valid cross-correlation, by FFT.

    Products of spectra are added over channels, so one inverse transform serves
    them all. (scipy.fft directly: scipy.signal would add half a second to start-up.)
    """
    (height, width), (th, tw) = image.shape[:2], template.shape[:2]
    shape = (scipy.fft.next_fast_len(height, real=True), scipy.fft.next_fast_len(width, real=True))
    with scipy.fft.set_workers(num_threads()):
        spectrum = 0
        for c in range(image.shape[2]):
            flipped = template[::-1, ::-1, c]  # correlation is convolution with the flipped template
            spectrum = spectrum + (scipy.fft.rfft2(image[:, :, c], shape)
                                   * scipy.fft.rfft2(flipped, shape))
        full = scipy.fft.irfft2(spectrum, shape)
    # Circular convolution of length >= height wraps only into rows < th - 1: the valid rows are clean.
    return full[th - 1:height, tw - 1:width]


def _window_sums(plane: np.ndarray, shape, dtype) -> np.ndarray:
    """Sum of every (th, tw) window of `plane`, from its integral image kept in `dtype`."""
    th, tw = shape
    integral = np.zeros((plane.shape[0] + 1, plane.shape[1] + 1), dtype)
    np.cumsum(np.cumsum(plane.astype(dtype), axis=0), axis=1, out=integral[1:, 1:])
    sums = integral[th:, tw:] - integral[:-th, tw:] - integral[th:, :-tw] + integral[:-th, :-tw]
    return sums.astype(np.float64)


def _window_energy(image: np.ndarray, shape, *, centred: bool, exact: bool) -> np.ndarray:
    """Sum over channels of sum(w^2), or of sum((w - mean w)^2) if `centred`, per window.

    Integer images of up to 16 bits sum in int64, exactly. Float images sum in
    float64, whose rounding grows with the image; energies below that are 0 (a
    flat window), so noise is never divided by noise.
    """
    area = shape[0] * shape[1]
    energy = 0.0
    for c in range(image.shape[2]):
        plane = image[:, :, c]
        dtype = np.int64 if exact else np.float64
        squares = _window_sums(plane * plane, shape, dtype)
        if centred:
            squares -= _window_sums(plane, shape, dtype) ** 2 / area
        largest = float(np.max(plane * plane))
        rounding = largest * (1e-12 * area + (0 if exact else 64 * np.finfo(float).eps * plane.size))
        energy = energy + np.where(squares > rounding, squares, 0.0)
    return energy


def _normalise(products: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """products / sqrt(energy), kept in [-1, 1] and finite, as OpenCV does.

    Where rounding lets |product| exceed the norm slightly, the score is +-1; far
    beyond it (the norm is noise, as for flat windows), 0.
    """
    norm = np.sqrt(energy)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(np.abs(products) <= norm, products / norm, 0.0)
    near = (np.abs(products) > norm) & (np.abs(products) <= 1.125 * norm)
    scores[near] = np.sign(products[near])
    scores[norm == 0] = 0.0
    return scores


def find_matches(scores, n: int = 1, min_distance: int | None = None) -> list[Match]:
    """The `n` best peaks of a score map, best first, each at least `min_distance` apart.

    Peaks closer than `min_distance` (in rows or columns, a square neighbourhood)
    to a better one are suppressed. The default is half the template's smaller
    side for maps from `match_template`, else 1 (distinct positions).

    >>> import numpy as np
    >>> scores = np.zeros((5, 8)); scores[1, 2] = 0.9; scores[1, 3] = 0.8; scores[4, 7] = 0.5
    >>> find_matches(scores, n=2, min_distance=2)
    [Match(x=2, y=1, score=0.9), Match(x=7, y=4, score=0.5)]
    """
    values = np.array(scores, dtype=np.float64)  # a copy: suppression writes into it
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"scores must be a non-empty 2-D map; got shape {values.shape}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n={n!r} must be a positive integer")
    if min_distance is None:
        template_shape = getattr(scores, "template_shape", None)
        min_distance = max(1, min(template_shape) // 2) if template_shape else 1
    if isinstance(min_distance, bool) or not isinstance(min_distance, (int, np.integer)) or min_distance < 1:
        raise ValueError(f"min_distance={min_distance!r} must be a positive integer")
    values[np.isnan(values)] = -np.inf
    matches = []
    while len(matches) < n:
        y, x = np.unravel_index(np.argmax(values), values.shape)
        if values[y, x] == -np.inf:
            break
        matches.append(Match(int(x), int(y), float(values[y, x])))
        reach = min_distance - 1
        values[max(0, y - reach):y + reach + 1, max(0, x - reach):x + reach + 1] = -np.inf
    return matches
