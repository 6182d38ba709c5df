"""The direct method: every non-zero tap of the kernel, row by row, on threads.

Cost per output pixel: one multiply-add per non-zero tap. Rows go two at a
time: image row y + r feeds output row y with kernel row r and row y + 1 with
kernel row r - 1, so each value loaded serves two multiply-adds (a 9 x 9 kernel:
69 loads per output value instead of 102, about 1.25x faster). Rows pair as
(even, odd) whatever the threads' bands, and a row alone sums in the same order
as in its pair, so results never depend on the number of threads.

A 3 x 3 kernel (where the image's type holds the fill, and the sums are not
the integer ones of `integer_form`) is summed whole in registers
(`_compiled._rows_3x3`): each output written once, each image row read where it
lies, its two ends from its margins. Its zero weights are multiplied too,
so where that makes a NaN (a zero weight on NaN or inf) the row is summed again
the general way; every row sums in one order whatever the threads. Any other
kernel:

Each image row a thread reads is laid out once in a ring of kh + 1 rows, border
included (what it shows past its ends, about 3 kw values, is gathered as the row
is read, by the element list of `margin_table`), so every tap reads a plain row:
no border arithmetic and no split of a row into its two ends and its inside.
Float sums of two rows are held in vector registers, a block of 64 bytes x 4
per row at a time (`_compiled._pair_block`): each tap one multiply-add, each
output stored once. Integer sums take four taps per pass over the rows. Float
sums go straight into the output rows where they can (contiguous rows of the
sums' type); else into two scratch rows, copied or streamed out (`store_rule`).
Memory: the output, per thread two scratch rows and the ring; when the rings of
all threads would be larger than the image (kernels nearly as tall as the
image), every row is laid out once instead, shared. A contiguous copy of the
image is made only when the caller's array is not C-contiguous (views with
steps, negative strides, one channel of a per-channel kernel).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _compiled, _dtypes
from ._borders import CONSTANT, index_map
from ._memo import by_value
from ._parallel import num_threads, run_bands
from ._results import pages_written

# Float results this large are written by non-temporal stores (see `store_rule`): they
# outgrow the caches, and a plain store would read each line of them first.
STREAM_BYTES = 8 << 20


def flat_channels(src: np.ndarray) -> np.ndarray:
    """(H, W, C) image as the (H, W * C) C-contiguous array the kernels read (a copy only if needed)."""
    height, width, channels = src.shape
    return np.ascontiguousarray(_dtypes.working_image(src)).reshape(height, width * channels)


def flat_output(out: np.ndarray) -> np.ndarray:
    """(Hout, Wout, C) output as an (Hout, Wout * C) view; never a copy."""
    out_height, out_width, channels = out.shape
    return np.reshape(out, (out_height, out_width * channels), copy=False)


def tap_table(kernel: np.ndarray, accumulator: np.dtype):
    """Weights, rows and columns of the non-zero taps of a real 2-D kernel, row by row.

    >>> tap_table(np.array([[0., 1, 2], [3, 0, 0]]), np.dtype("f4"))
    (array([1., 2., 3.], dtype=float32), array([0, 0, 1]), array([1, 2, 0]))
    """
    rows, columns = np.nonzero(kernel)  # row-major order, so neighbouring taps share rows
    return kernel[rows, columns].astype(accumulator), rows.astype(np.int64), columns.astype(np.int64)


def correlate_direct(src: np.ndarray, kernel: np.ndarray, out: np.ndarray, *, origin, border: int,
                     fill: float, accumulator: np.dtype, accumulate: bool) -> int:
    """Write (or add, if `accumulate`) the correlation of real `src` with real `kernel` into `out`.

    src: (H, W, C); kernel: (kh, kw), applied to every channel, or (kh, kw, C), one per
    channel; out: a real (Hout, Wout, C) array or view. Returns how many NaN met an
    integer output.
    """
    if kernel.ndim == 2:
        return _correlate_interleaved(src, kernel, out, origin, border, fill, accumulator, accumulate)
    return sum(
        _correlate_interleaved(src[:, :, c:c + 1], kernel[:, :, c], out[:, :, c:c + 1],
                               origin, border, fill, accumulator, accumulate)
        for c in range(src.shape[2]))


class _Tables(NamedTuple):
    """What the direct method derives from a kernel and the types of a call (`_tables`)."""

    scale: float | None        # integer sums (`integer_form`): their scale, else None
    accumulator: np.dtype      # the sums' type (int16 or int32 for integer sums)
    fill: np.generic           # the fill in the sums' type
    weights: np.ndarray        # `tap_table`
    rows: np.ndarray
    columns: np.ndarray
    pairs: tuple               # `pair_table`
    product: np.dtype          # weight times pixel
    dense_3x3: np.ndarray      # the nine weights where `sums_3x3_in_registers`, else empty
    kh: int                    # rows and columns read: up to the last non-zero tap, or all
    kw: int                    # three of a 3 x 3 kernel summed in registers


@by_value  # one lookup per call for every table below, not one per table
def _tables(kernel: np.ndarray, image_dtype: np.dtype, out_dtype: np.dtype, fill: float,
            accumulator: np.dtype, channels: int, accumulate: bool) -> _Tables:
    exact = integer_form(kernel, image_dtype, out_dtype, fill)
    scale = None
    if exact is not None:  # sums in int16 or int32, then scaled, rounded and saturated
        kernel, scale = exact
        accumulator = kernel.dtype
    weights, rows, columns = tap_table(kernel, accumulator)
    fill = accumulator.type(fill)
    register_3x3 = sums_3x3_in_registers(kernel.shape, image_dtype, fill, accumulate,
                                         integer_sums=exact is not None)
    dense_3x3 = kernel.astype(accumulator).ravel() if register_3x3 else np.empty(0, accumulator)
    kh, kw = ((3, 3) if register_3x3
              else (int(rows.max(initial=0)) + 1, int(columns.max(initial=0)) + 1))
    return _Tables(scale, accumulator, fill, weights, rows, columns,
                   pair_table(weights, rows, columns, channels),
                   np.result_type(image_dtype, weights.dtype), dense_3x3, kh, kw)


def _correlate_interleaved(src, kernel, out, origin, border, fill, accumulator, accumulate):
    channels = src.shape[2]
    out_height, out_width, _ = out.shape
    flat_src, flat_out = flat_channels(src), flat_output(out)
    tables = _tables(kernel, flat_src.dtype, out.dtype, fill, accumulator, channels, accumulate)
    if tables.scale is None:
        store, saturation = store_rule(out, accumulator, accumulate)
    else:  # float64: the type 64-bit outputs saturate in (`_store_row` scales in float64)
        store, saturation = store_rule(out, np.dtype(np.float64), False, tables.scale,
                                       integer_sums=True)
    accumulator, fill, weights = tables.accumulator, tables.fill, tables.weights
    register_3x3, kh = tables.dense_3x3.size > 0, tables.kh
    # Sums go straight into the output rows when they can: one pass less per row (summing
    # in scratch rows and streaming those out measured slower: float32 dense 9 x 9 at
    # 4096², 27.0 ms in place, 30.6 ms streamed).
    in_place = tables.scale is None and out.dtype == accumulator and flat_out.flags.c_contiguous
    margins, margin_ends = margin_table(flat_src.dtype, flat_src.shape[1] // channels, channels,
                                        tables.kw, origin[1], out_width, border, fill,
                                        tables.product)
    line_type, line_length = margins[2].dtype, laid_out_size(margins, margin_ends)
    # read by the 3 x 3 sums under a constant border; elsewhere stand-ins of the same types
    if border == CONSTANT and register_3x3:
        fill_rows = (np.full(flat_src.shape[1], fill, flat_src.dtype),
                     np.full(margins[2].shape[1], fill, line_type))
    else:
        fill_rows = (flat_src[0], margins[2][0])
    every_row = None
    if not register_3x3 and (kh + 1) * min(num_threads(), out_height) > flat_src.shape[0]:
        # rings of kh + 1 rows per thread would outgrow the image: lay out each row once (the
        # 3 x 3 sums read the image itself, and lay out only the rows a NaN sends back)
        every_row = np.empty((flat_src.shape[0] + 1, line_length), line_type)
        _compiled.lay_out_rows(every_row, flat_src, band_margins(margins), margin_ends,
                               origin[1] * channels, fill)

    def band(y_start, y_stop):
        scratch = flat_out if in_place else np.empty((2, out_width * channels), accumulator)
        taps, slots = np.empty((2, 2 * weights.size), np.int64)
        if every_row is None:
            # of the margins' type: the image's where it holds the fill (a uint8 ring of a
            # 9 x 9 kernel's rows stays in L1; as float32 it did not, and ran 1.4x slower)
            lines = np.empty((kh + 1, line_length), line_type)
            owners = np.empty(kh + 1, np.int64)
        else:
            lines, owners = every_row, np.empty(0, np.int64)
        return _compiled.correlate_rows(
            flat_src, channels, weights, tables.rows, tables.columns * channels, origin[0],
            origin[1], border, fill, band_margins(margins), margin_ends, flat_out, scratch, lines,
            owners, taps, slots, tables.pairs, tables.dense_3x3, fill_rows, y_start, y_stop, store,
            saturation, in_place)

    return sum(run_bands(band, out_height, out_width * channels * max(1, weights.size)))


def sums_3x3_in_registers(kernel_shape, image_dtype: np.dtype, fill, accumulate: bool, *,
                          integer_sums: bool) -> bool:
    """Whether the direct method sums this kernel whole in registers (`_compiled._rows_3x3`).

    For a 3 x 3 kernel, reading the image itself, where its type holds the fill; not
    when adding to the output (a row a NaN sends back to the exact path could not be
    taken back), nor for the integer sums of `integer_form`, where multiplying the zero
    weights too cost more than it saved (uint8 sharpen at 4096^2: 4.1 ms, 3.2 without).
    The planner prices a direct pass by the same rule.

    >>> sums_3x3_in_registers((3, 3), np.dtype(np.float32), 0.0, False, integer_sums=False)
    True
    >>> sums_3x3_in_registers((3, 3), np.dtype(np.uint8), 0.5, False, integer_sums=False)
    False
    """
    return bool(tuple(kernel_shape) == (3, 3) and not accumulate and not integer_sums
                and _holds(image_dtype, fill))


@by_value
def margin_table(image_dtype: np.dtype, width: int, channels: int, kw: int, origin_x: int,
                 out_width: int, border: int, fill, product_dtype):
    """What an image row shows near and past its ends, for rows laid out with their border.

    Output pixel x reads position i = x + column, image column i - origin_x, for i in
    [0, out_width + kw - 1) (kw: the kernel's columns a row reads). Positions i < ox +
    kw - 1 (left) and i >= width + ox - (kw - 1) (right) are its margins, the others
    read straight from the image row: kw - 1 more on each side than those outside
    the image, so that the outputs at either end read only the margins
    (`_compiled._rows_3x3`). A narrow image keeps every position in the margins.

    Returns (margins, margin_ends). margins = (positions, elements, rows): the
    compiled code gathers an image row's margins as it reads the row
    (`_compiled._margin_row`: ``rows[slot][positions] = row[elements]``, channels
    interleaved); rows (`_compiled.MARGIN_SLOTS`, m) hold the fill at every other
    position, and are of the image's type, or of `product_dtype` (weight times pixel)
    where that cannot hold `fill` exactly. margin_ends: the elements [start, stop) of a laid-out
    row (`laid_out_size` of them) read from the image itself. The border's arithmetic
    runs once per kind of call, not once per pixel, tap and row; the results are
    shared: each band takes a copy of the rows (`band_margins`).

    >>> float64 = np.dtype(np.float64)
    >>> (positions, elements, rows), ends = margin_table(float64, 3, 1, 2, 1, 3, 0, 9.0, float64)
    >>> positions.tolist(), elements.tolist(), rows[0].tolist(), ends.tolist()   # constant 9
    ([1, 2, 3], [0, 1, 2], [9.0, nan, nan, nan], [4, 4])
    """
    elements, outside, margin_ends = _margin_elements(width, channels, kw, origin_x, out_width,
                                                      border)
    dtype = image_dtype if _holds(image_dtype, fill) else product_dtype
    placeholder = np.nan if dtype.kind == "f" else 0  # where rows of the image go
    rows = np.full((_compiled.MARGIN_SLOTS, elements.size), placeholder, dtype)
    positions = np.arange(elements.size)
    if outside is not None:
        rows[:, outside] = fill
        positions = positions[~outside]
    return (positions, elements[positions], rows), margin_ends


def band_margins(margins):
    """A band's own copy of the margins of `margin_table` to gather into."""
    positions, elements, rows = margins
    return positions, elements, rows.copy()


def _holds(dtype: np.dtype, value) -> bool:
    """Whether `value` converts to `dtype` exactly.

    >>> _holds(np.dtype(np.uint8), 3.0), _holds(np.dtype(np.uint8), -3.5), _holds(np.dtype(np.uint8), 0.5)
    (True, False, False)
    """
    if value == 0:  # every type holds it (the usual fill): no need to convert
        return True
    try:
        with np.errstate(invalid="ignore", over="ignore"):
            return bool(dtype.type(value) == value)
    except OverflowError:  # a Python number out of an integer type's range
        return False


def laid_out_size(margins, margin_ends: np.ndarray) -> int:
    """Elements of an image row laid out with its border: every position a row of output reads."""
    return margins[2].shape[1] + int(margin_ends[1] - margin_ends[0])


def _margin_elements(width: int, channels: int, kw: int, origin_x: int, out_width: int, border: int):
    """`margin_table`'s columns of the flat image, those that read the fill (None: none do) and
    the margin ends."""
    total = out_width + kw - 1
    left, right = origin_x + kw - 1, width + origin_x - (kw - 1)
    if width <= 4 * kw or left >= right:
        left = right = total
    positions = np.concatenate([np.arange(left), np.arange(right, total)])
    image_columns = index_map(positions - origin_x, width, border)
    elements = (np.maximum(image_columns, 0)[:, None] * channels + np.arange(channels)).ravel()
    outside = np.repeat(image_columns < 0, channels)
    return (elements, outside if outside.any() else None,
            np.array([left, right], np.int64) * channels)


@by_value
def pair_table(weights: np.ndarray, rows: np.ndarray, columns: np.ndarray, channels: int):
    """The slices that two output rows y and y + 1 read, for `_compiled.correlate_rows`.

    Image row y + r - oy at column offset c feeds row y with kernel[r, c] and row
    y + 1 with kernel[r - 1, c], r = 0..kh. Returns (bounds, weights (2, n), r,
    offsets c * channels into a laid-out row): the slices that feed both rows (one
    load, two multiply-adds: where the method gains), then those that feed only row
    y, then only row y + 1, each run in row-major order; bounds (4,) marks the runs.
    No slice feeds both rows when the kernel has a single row of taps: bounds are
    all 0 and rows go one at a time.

    >>> bounds, w, r, _ = pair_table(np.array([1., 2.]), np.array([0, 1]), np.array([0, 0]), 1)
    >>> bounds.tolist(), w.tolist(), r.tolist()
    ([0, 1, 2, 3], [[2.0, 1.0, 0.0], [1.0, 0.0, 2.0]], [1, 0, 2])
    """
    taps = {(int(r), int(c)): w for w, r, c in zip(weights, rows, columns)}
    runs = ([], [], [])
    for r in range(int(rows.max()) + 2 if rows.size else 0):
        for c in sorted(set(columns.tolist())):
            first, second = taps.get((r, c)), taps.get((r - 1, c))
            if first is not None or second is not None:
                kind = 0 if first is not None and second is not None else 1 if second is None else 2
                runs[kind].append((r, c, first or 0, second or 0))
    entries = runs[0] + runs[1] + runs[2]
    if not runs[0]:
        entries = []
    bounds = np.cumsum([0, *(len(run) for run in runs)]) if entries else np.zeros(4, np.int64)
    table = np.array([entry[:2] for entry in entries], np.int64).reshape(-1, 2)
    pair_weights = np.array([entry[2:] for entry in entries], weights.dtype).reshape(-1, 2).T.copy()
    return bounds.astype(np.int64), pair_weights, table[:, 0].copy(), table[:, 1] * channels


def store_rule(out: np.ndarray, accumulator: np.dtype, accumulate: bool, scale: float = 1.0, *,
               integer_sums: bool = False):
    """The store code of `_compiled` for the rows of `out`, and its (lo, hi, min, max, scale)
    saturation rule.

    `scale` multiplies every sum before an integer output rounds it (float outputs ignore it).
    `integer_sums` (exact integer sums, `scale` a power of two: `integer_form`) round and clamp
    in integers. Float results of STREAM_BYTES or more, on pages written before
    (`_results.pages_written`), are written by non-temporal stores
    (`_compiled.stream_row`), which do not read the memory they write.
    """
    out_dtype = out.dtype
    if out_dtype.kind in "iu":
        info = np.iinfo(out_dtype)
        limits = out_dtype.type(info.min), out_dtype.type(info.max)
        if out_dtype.itemsize <= 4:  # limits exact in float64, where the clamp computes
            bounds = (float(info.min), float(info.max), *limits, scale)
            if integer_sums:
                return _compiled.STORE_SHIFT, bounds
            # In float32 the same results where the limits are float32 values and the scale
            # is a power of two (the product rounds nowhere).
            power_of_two = scale > 0 and math.frexp(scale)[0] == 0.5
            exact = all(float(np.float32(v)) == v for v in (info.min, info.max, scale))
            single = accumulator == np.float32 and power_of_two and exact
            return (_compiled.STORE_CLAMP_SINGLE if single else _compiled.STORE_CLAMP), bounds
        lo, hi = _dtypes.saturation_bounds(out_dtype, accumulator)
        return _compiled.STORE_SATURATE, (lo, hi, *limits, scale)
    if accumulate:
        store = _compiled.STORE_ADD
    else:
        streams = out.nbytes >= STREAM_BYTES and pages_written(out)
        store = _compiled.STORE_STREAM if streams else _compiled.STORE_COPY
    return store, (0.0, 0.0, out_dtype.type(0), out_dtype.type(0), 1.0)


def integer_form(kernel: np.ndarray, src_dtype: np.dtype, out_dtype: np.dtype, fill: float):
    """(integer kernel, 2**-shift) when integer sums are exact for this call, else None.

    For 8- and 16-bit integer images filtered into an integer type by a kernel of
    small integers times a power of two (sharpen, laplacian, Sobel, emboss, a
    binomial / 256), every sum is an exact integer: the result, rounded half to
    even and saturated, equals the float64 reference's bit for bit. The kernel
    is int16 when no sum can leave int16 (twice the SIMD lanes of int32 and a
    cheap multiply: sharpen on uint8), else int32.

    >>> integer_form(np.array([[1.0, 2, 1]]) / 4, np.dtype(np.uint8), np.dtype(np.uint8), 0.0)
    (array([[1, 2, 1]], dtype=int16), 0.25)
    >>> integer_form(np.array([[1.0, 2, 1]]) / 4, np.dtype(np.uint16), np.dtype(np.uint16), 0.0)
    (array([[1, 2, 1]], dtype=int32), 0.25)
    >>> integer_form(np.array([[0.1]]), np.dtype(np.uint8), np.dtype(np.uint8), 0.0) is None
    True
    """
    if src_dtype.kind not in "biu" or src_dtype.itemsize > 2 or out_dtype.kind not in "iu":
        return None
    if kernel.dtype.kind != "f" or fill != np.floor(fill):
        return None
    largest_pixel = _dtypes.largest_magnitude(src_dtype, fill)
    for shift in range(0, 17):
        scaled = kernel * 2.0 ** shift
        if (scaled == np.round(scaled)).all():
            bound = np.abs(scaled).sum() * largest_pixel  # no partial sum can exceed it
            if bound < 2 ** 31:
                return scaled.astype(np.int16 if bound < 2 ** 15 else np.int32), 2.0 ** -shift
            return None
    return None
