"""The box method: constant kernels by sums of windows, at a cost that hardly grows with size.

A kh x kw kernel of equal weights w is w times the sum of a window, summed in
two directions:

- Along a row, windows of kw are put together from sums of 1, 4, 16, 64, ...
  neighbours (four of one level make the next): a 21-wide window is 16 + 4 + 1,
  two passes to build the levels and one to add three numbers per pixel, all
  vectorised, where a running sum along the row would be a chain of additions
  each waiting on the one before. Windows up to 8 wide are summed straight instead,
  a block of vectors at a time (`_compiled._window_block`), from the image row
  itself where they lie inside it; windows 9 to 32 wide (rows first) as sums of 4,
  then those sums 4 apart and the size % 4 values left after them summed the same
  way, in one pass (`_compiled._quads_block`), also from the image row itself.
- Down the columns, a running sum moves one row per output row: add the row
  entering the window, subtract the one leaving. Float images and kernels of up to
  STRAIGHT_COLUMNS_MAX rows sum every window's column straight instead, two output
  rows at a time (`_compiled._column_block`): at 4096^2 float32 on two threads, into
  `out=`, a 7 x 7 box took 6.1-6.4 ms so against 7.2-7.3 by running sums, 9 x 9
  7.7 against 8.2 (float64 14.9 against 15.8; 2048^2 RGB float32 6.1 against 6.4),
  11 x 11 the same and 15 x 15 13.3 against 9.9: wider, the loads cost more than
  they save.

Float images sum along the rows first: each image row's window sums are made
once, when the row enters the window, and wait in a ring of kh + 2 rows (the
window's and two entering) until it leaves; the running sums down the columns
are float64, moved down two rows a pass where the result is float (read and
written once for two output rows). The row sums are
float32 where the result is float32 (twice the SIMD lanes; within the float32
contract, and the same numbers leave the running sum as entered it), else
float64. Integer images, and float images whose rings (one per thread) would
take more memory than the image, sum down the columns first, then along a row of
those column sums: float64, or exactly in int32 (int64 for windows that could
overflow it) for 8- and 16-bit images. Memory beyond the output, per thread: the
ring, a row of float64 sums, one row per level and, where the result streams
(`_direct.store_rule`), two rows of its type (rows first; straight sums: a ring of
kh + 1 and two rows of the ring's type instead of the last two); a row of column
sums and one row per level (columns first).

Running sums cannot keep the NaN rule (a NaN entering a sum never leaves it);
straight sums do (`keeps_nan_rule`), since nothing is ever subtracted. Where
the columns run, a non-finite fill rules the method out, and so does a NaN or
inf in the image when the caller checks first (method="box" by name: an error). Left
to itself, the method checks as it goes, at no cost: NaN and inf never leave a
running sum, so a band whose running sums end finite met none. If one did not,
the image is done again by separable passes (a box kernel is rank 1), which keep
the rule. That saves scanning the image first (a third of the method's time on
float32 images).
"""

from __future__ import annotations

import numpy as np

from . import _compiled, _dtypes
from ._direct import flat_channels, flat_output, store_rule
from ._parallel import num_threads, run_bands
from ._separable import correlate_separable

STRAIGHT_COLUMNS_MAX = 9


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


def window_steps(width: int) -> int:
    """Passes along a row of column sums for a window of `width`: levels built plus numbers added.

    >>> window_steps(3), window_steps(21), window_steps(31)   # 1+1+1; 16+4+1; 16+4+4+4+1+1+1
    (3, 5, 9)
    """
    levels, digits = 0, 0
    while True:
        digits += width & 3
        width >>= 2
        if not width:
            return levels + digits
        levels += 1


def sums_rows_first(image_dtype: np.dtype, kernel_height: int, image_height: int) -> bool:
    """Whether box sums along the rows first: float images, when the rings of row sums
    (kernel_height + 2 rows per thread) take no more memory than the image.

    >>> sums_rows_first(np.dtype(np.float32), 21, 4096), sums_rows_first(np.dtype(np.uint8), 21, 4096)
    (True, False)
    """
    return image_dtype.kind == "f" and (kernel_height + 2) * num_threads() <= image_height


def keeps_nan_rule(image_dtype: np.dtype, kernel_shape, image_height: int) -> bool:
    """Whether box sums straight down the columns (no running sums): NaN and inf then reach
    exactly the windows that hold them, as the rule wants, with a finite fill.

    >>> float32 = np.dtype(np.float32)
    >>> keeps_nan_rule(float32, (9, 9), 4096), keeps_nan_rule(float32, (11, 11), 4096)
    (True, False)
    """
    return kernel_shape[0] <= STRAIGHT_COLUMNS_MAX and sums_rows_first(image_dtype, kernel_shape[0],
                                                                       image_height)


def _stores_straight(flat_out: np.ndarray, sum_type: np.dtype, store: int) -> bool:
    """Whether `_compiled.box_band_straight` can store its sums straight into `flat_out`."""
    if not (flat_out.flags.c_contiguous and flat_out.dtype == sum_type):
        return False
    if store == _compiled.STORE_COPY:
        return True
    # rows at one offset in a cache line: each streams from its first line on (_stream_head)
    line = _compiled.STREAM_LINE
    return (store == _compiled.STORE_STREAM and flat_out.ctypes.data % flat_out.itemsize == 0
            and flat_out.strides[0] % line == 0)


def correlate_box(src: np.ndarray, weight: float, kernel_shape, out: np.ndarray, *, origin,
                  border: int, fill: float, accumulator: np.dtype, accumulate: bool) -> int:
    """`_direct.correlate_direct` for a kernel of `kernel_shape` whose every weight is `weight`."""
    (kh, kw), (oy, ox) = kernel_shape, origin
    channels = src.shape[2]
    out_height, out_width, _ = out.shape
    flat_src, flat_out = flat_channels(src), flat_output(out)
    # Integer outputs apply the weight in their saturating store: one pass less.
    store, saturation = store_rule(out, accumulator, accumulate, weight)
    # Row 0 of `lines` holds every position a window reads: the image's columns and both
    # margins; the rows after it, the levels of sums of 4, 16, 64, ... (see box_band).
    width = src.shape[1]
    base = max(ox, 0)
    last = max(out_width + kw - 2 - ox, width - 1)
    line_length = (last + base + 1) * channels
    levels = (kw.bit_length() - 1) // 2  # the largest level holds sums of 4 ** levels <= kw
    terms_shape = (2, 3 * (levels + 1))
    if sums_rows_first(flat_src.dtype, kh, src.shape[0]):
        # float32 row sums only where the result is float32 and holds the fill exactly
        single = (accumulator == np.float32 and flat_src.dtype == np.float32
                  and abs(fill) <= np.finfo(np.float32).max and np.float32(fill) == fill)
        sum_type = np.dtype(np.float32 if single else np.float64)
        sum_fill = sum_type.type(fill)

        direct = (flat_out if _stores_straight(flat_out, sum_type, store)
                  else np.empty((0, out_width * channels), sum_type))

        def straight_band(y0, y1):
            n_nan = _compiled.box_band_straight(
                flat_src, channels, kw, kh, ox, oy, border, sum_fill, weight, flat_out,
                np.empty((max(levels + 1, 2), line_length), sum_type), base,  # two: see _fuses
                np.empty(terms_shape, np.int64),
                np.empty((kh + 1, out_width * channels), sum_type), np.empty(kh + 1, np.int64),
                np.empty(kh + 1, np.int64), np.empty((2, out_width * channels), sum_type), direct,
                y0, y1, store, saturation)
            return n_nan, True

        def running_band(y0, y1):
            sums = np.empty(out_width * channels)
            n_nan = _compiled.box_band_by_rows(
                flat_src, channels, kw, kh, ox, oy, border, sum_fill, weight, flat_out,
                np.empty((levels + 1, line_length), sum_type), base, np.empty(terms_shape, np.int64),
                np.empty((kh + 2, out_width * channels), sum_type), sums,
                np.empty((2, out_width * channels if store == _compiled.STORE_STREAM else 0),
                         out.dtype),
                y0, y1, store, saturation)
            return n_nan, np.isfinite(sums).all()

        straight = keeps_nan_rule(flat_src.dtype, kernel_shape, src.shape[0])
        band = straight_band if straight else running_band
    else:
        # Integer images with an integer fill: exact integer sums (faster, and no drift at all),
        # in int32 when no window sum can leave it (twice the SIMD lanes of int64).
        exact = flat_src.dtype.kind in "biu" and flat_src.dtype.itemsize <= 2 and float(fill).is_integer()
        if exact:
            fits = _dtypes.largest_magnitude(flat_src.dtype, fill) * kh * kw < 2 ** 31
            sum_type = np.int32 if fits else np.int64
            sum_fill = sum_type(int(fill))
        else:
            sum_type, sum_fill = np.float64, float(fill)  # float32 sums would drift down long columns
        lines_shape = (levels + 1, max(line_length, _compiled.WINDOW_CHUNK + kw * channels))

        def band(y0, y1):
            lines = np.empty(lines_shape, sum_type)
            n_nan = _compiled.box_band(
                flat_src, channels, kw, kh, ox, oy, border, sum_fill, weight, flat_out, lines, base,
                np.empty(terms_shape, np.int64), np.empty(_compiled.WINDOW_CHUNK, sum_type),
                y0, y1, store, saturation)
            return n_nan, exact or np.isfinite(lines[0, base * channels:(base + width) * channels]).all()

    bands = run_bands(band, out_height, out_width * channels * 8)
    if all(finite for _, finite in bands):
        return sum(n_nan for n_nan, _ in bands)
    # A NaN or inf stayed in some running sum: every output is written again (box has one
    # real pass, so it never adds to what is in `out`).
    terms = [(np.ones(kh), np.full(kw, weight))]
    return correlate_separable(src, terms, out, origin=origin, border=border, fill=fill,
                               accumulator=accumulator, accumulate=accumulate)
