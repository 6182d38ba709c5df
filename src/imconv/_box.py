"""The box method: constant kernels by running sums, at a cost that does not grow with size.

A kh x kw kernel of equal weights w is w times the sum of a window. Each row's
window sums come from a running sum (add the pixel entering, subtract the one
leaving), then each column's from a running sum over those rows: about four
additions per pixel for any kernel size. Sums run in float64, or exactly in
int32 (int64 for windows that could overflow it) for 8- and 16-bit images. Each thread keeps
the row sums of the rows its window spans in a ring of kh + 4 rows, as the
separable method does. Memory: the output and, per thread, kh + 6 rows of the
output's width.

Running sums cannot keep the NaN rule (a NaN entering a sum never leaves it),
so the planner never chooses this method for images or fills that are not
finite, and asking for it then is an error.
"""

from __future__ import annotations

import numpy as np

from . import _compiled, _dtypes
from ._direct import flat_channels, flat_output, store_rule
from ._parallel import run_bands


def box_weight(kernel: np.ndarray):
    """The common weight of a kernel whose weights are all equal and non-zero, else None.

    >>> box_weight(np.full((3, 5), 1 / 15)), box_weight(np.eye(2))
    (0.06666666666666667, None)
    """
    if kernel.ndim != 2 or kernel.dtype.kind == "c":
        return None
    weight = kernel.flat[0]
    return float(weight) if weight != 0 and (kernel == weight).all() else None


def is_finite(image: np.ndarray, fill: complex) -> bool:
    """Whether running sums are safe: no NaN or inf in the image or, for what it reads, the fill."""
    if not np.isfinite(fill):
        return False
    if image.dtype.kind not in "fc":
        return True
    planes = (image.real, image.imag) if image.dtype.kind == "c" else (image,)
    return all(_compiled.all_finite(flat_channels(plane)) for plane in planes)


def correlate_box(src: np.ndarray, weight: float, kernel_shape, out: np.ndarray, *, origin,
                  border: int, fill: float, accumulator: np.dtype, accumulate: bool) -> int:
    """`_direct.correlate_direct` for a kernel of `kernel_shape` whose every weight is `weight`."""
    (kh, kw), (oy, ox) = kernel_shape, origin
    channels = src.shape[2]
    out_height, out_width, _ = out.shape
    flat_src, flat_out = flat_channels(src), flat_output(out)
    # Integer outputs apply the weight in their saturating store: one pass less.
    store, saturation = store_rule(out.dtype, accumulator, accumulate, weight)
    # Integer images with an integer fill: exact integer sums (faster, and no drift at all),
    # in int32 when no window sum can leave it (twice the SIMD lanes of int64).
    exact = flat_src.dtype.kind in "biu" and flat_src.dtype.itemsize <= 2 and float(fill).is_integer()
    if exact:
        fits = _dtypes.largest_magnitude(flat_src.dtype, fill) * kh * kw < 2 ** 31
        zero = np.int32(0) if fits else np.int64(0)
    ring_type, zero = (np.int32, zero) if exact else (accumulator, 0.0)
    fill = zero + (int(fill) if exact else float(fill))

    def band(y0, y1):
        ring = np.empty((kh + 4, out_width * channels), ring_type)
        sums, totals = np.empty(out_width * channels, type(zero)), np.zeros(4, type(zero))
        return _compiled.box_band(
            flat_src, channels, kw, kh, ox, oy, border, fill, weight, flat_out, ring,
            np.empty(kh + 4, np.int64), np.empty((2, 4), np.int64), totals, sums,
            np.empty(out_width * channels), zero, y0, y1, store, saturation)

    return sum(run_bands(band, out_height, out_width * channels * 8))
