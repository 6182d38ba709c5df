"""The separable and low-rank methods: kernels as sums of horizontal-then-vertical passes.

A kernel ``k = outer(column, row)`` costs nnz(row) + nnz(column) multiply-adds
per pixel instead of nnz(k): 42 instead of 441 for a 21 x 21 blur. Each thread's
band of output rows keeps a ring of kh + 1 row-filtered image rows, computes each
once, and sums the column taps from it, so the intermediate stays in cache;
output rows are summed in pairs, each row of the ring loaded once for both (a
ring of 31 rows of 4096 floats is read from L2: loads are what the column pass
costs).
The row pass reads the image row laid out once, border included, in a row of
the sums' type: no border arithmetic and, for uint8, one conversion per pixel
instead of one per tap. A mirrored row (Gaussian, binomial) on integer pixels
adds each mirrored pair of pixels before one multiply, and so does a mirrored
column with each pair of ring rows (`_compiled._folded_row_blocks`,
`_compiled._folded_column_pair`: half the multiplies; integer pixels make the
pair's sum exact and keep it far from overflow). Memory: the output and, per
thread, kh + 4 rows of the output's width (a ring of kh + 1, its rows up to two
cache lines longer; a laid-out image row, two rows of sums; plus a few rows
of margins, `_direct.margin_table`).

The NaN rule holds: a pixel reaches an output through row weight r[j] and
column weight c[i], and k[i, j] = c[i] r[j] is non-zero exactly when both are.

The low-rank method is the same engine with two or three terms,
``k = sum_r outer(column_r, row_r)`` (sharpen and laplacian are rank 2; an
unsharp mask is rank 2), one ring per term (r x (kh + 1) + 3 rows per thread). Where the
terms cancel to a zero weight, a NaN under it would not cancel: the planner
never chooses low-rank for images or fills that are not finite.
"""

from __future__ import annotations

import numpy as np

from . import _compiled
from ._borders import CONSTANT
from ._direct import (band_margins, flat_channels, flat_output, laid_out_size, margin_table,
                      pair_table, store_rule)
from ._parallel import run_bands
from ._results import aligned_empty


def factor_tolerance(accumulator: np.dtype) -> float:
    """How far (in sum|error| / sum|k|) rebuilt terms may be from the kernel: 100x inside the contract.

    A float32 kernel, such as a Gaussian rounded to float32, is rank 1 only to
    float32 rounding; its factors are still exact to the float32 contract.
    """
    return 1e-14 if accumulator == np.float64 else 1e-7


def _rebuilds(terms, kernel, rtol) -> bool:
    error = np.abs(sum(np.outer(column, row) for column, row in terms) - kernel).sum()
    return error <= rtol * np.abs(kernel).sum()


def separable_factors(kernel: np.ndarray, rtol: float = 1e-14):
    """(column, row) with ``np.outer(column, row) == kernel`` to `rtol`, or None.

    The factors are taken from the kernel's largest weight, so zero weights stay
    exactly zero (no 1e-17 from an SVD) and the NaN rule survives the split.

    >>> separable_factors(np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]))
    (array([0.5, 1. , 0.5]), array([-2.,  0.,  2.]))
    >>> separable_factors(np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]])) is None
    True
    """
    if kernel.ndim != 2 or kernel.dtype.kind == "c" or not kernel.any():
        return None
    p, q = np.unravel_index(np.argmax(np.abs(kernel)), kernel.shape)
    column = kernel[:, q] / kernel[p, q]
    row = kernel[p, :].copy()
    if not np.array_equal(np.outer(column, row) != 0, kernel != 0):
        return None
    return (column, row) if _rebuilds([(column, row)], kernel, rtol) else None


def lowrank_factors(kernel: np.ndarray, rtol: float = 1e-14, max_rank: int = 3):
    """Two or three (column, row) terms whose outer products sum to `kernel`, or None.

    Each term is peeled off at the largest remaining weight (cross approximation
    with full pivoting), so a kernel of small integers gives short exact terms.
    The sum must rebuild the kernel to `rtol` (see `factor_tolerance`).

    >>> sharpen = np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    >>> terms = lowrank_factors(sharpen)
    >>> len(terms), float(np.abs(sum(np.outer(c, r) for c, r in terms) - sharpen).max())
    (2, 0.0)
    """
    if kernel.ndim != 2 or kernel.dtype.kind == "c" or not kernel.any():
        return None
    remainder = kernel.astype(np.float64)
    terms = []
    while not terms or not _rebuilds(terms, kernel, rtol):
        if len(terms) == max_rank:
            return None
        p, q = np.unravel_index(np.argmax(np.abs(remainder)), remainder.shape)
        column, row = remainder[:, q] / remainder[p, q], remainder[p, :].copy()
        terms.append((column, row))
        remainder = remainder - np.outer(column, row)
    return terms if len(terms) >= 2 else None


def correlate_separable(src: np.ndarray, terms, out: np.ndarray, *, origin, border: int,
                        fill: float, accumulator: np.dtype, accumulate: bool) -> int:
    """`_direct.correlate_direct` for a kernel given as (column, row) terms; same contract.

    terms: a list of (column, row) pairs, the kernel being the sum of their outer products.
    """
    channels = src.shape[2]
    out_height, out_width, _ = out.shape
    flat_src, flat_out = flat_channels(src), flat_output(out)
    rows, columns = _tap_lists([row for _, row in terms], accumulator), _tap_lists(
        [column for column, _ in terms], accumulator)
    # Outside rows of a constant border hold `fill` at every pixel; a term's row pass of them is:
    row_fills = np.array([fill * float(row.sum()) if border == CONSTANT else fill for _, row in terms],
                         accumulator)
    # a + b of two sums of integer pixels is exact and far from overflow; of floats, it may not be
    integer_pixels = flat_src.dtype.kind in "biu"
    mirrored = np.array([integer_pixels and _mirrored(row) for _, row in terms])
    row_halves = _folds([row if integer_pixels and channels in _compiled.FOLD_STEPS else row[:0]
                         for _, row in terms], accumulator, channels)
    row_folds = (mirrored, *row_halves, channels)
    column_folds = _folds([column if integer_pixels else column[:0] for column, _ in terms],
                          accumulator, 1)
    store, saturation = store_rule(out, accumulator, accumulate)
    fill = accumulator.type(fill)
    kh = terms[0][0].size
    product = np.result_type(flat_src.dtype, accumulator)
    kw = int(rows[1].max(initial=0)) + 1  # columns read: up to the last non-zero tap
    margins, margin_ends = margin_table(flat_src.dtype, flat_src.shape[1] // channels, channels, kw,
                                        origin[1], out_width, border, fill, product)

    pairs = _pair_tables([column for column, _ in terms], accumulator)
    ring_rows = kh + 1 if pairs[0][-1] else kh

    def band(y_start, y_stop):
        ring_shape = (len(terms) * ring_rows, ring_width(out_width * channels, accumulator))
        # rows on cache lines: each vector of a line loads from one line, not two
        ring = aligned_empty(ring_shape, accumulator, _compiled.STREAM_LINE)
        line = np.empty((1, laid_out_size(margins, margin_ends)), product)
        acc = aligned_empty((2, out_width * channels), accumulator, _compiled.STREAM_LINE)
        owners = np.empty(ring.shape[0], np.int64)
        scratch = np.empty((7, max(rows[0].size, columns[0].size, pairs[0][-1], kh + 1, 5)),
                           np.int64)
        return _compiled.separable_rows(
            flat_src, channels, *rows, *columns, pairs, column_folds, origin[0], origin[1], border,
            band_margins(margins), margin_ends, row_fills, row_folds, flat_out, ring, line, acc,
            owners, scratch, y_start, y_stop, store, saturation)

    work = out_width * channels * (rows[0].size + columns[0].size)
    return sum(run_bands(band, out_height, work))


def _mirrored(row: np.ndarray) -> bool:
    """Whether the non-zero taps of `row` mirror each other, position and weight (a Gaussian,
    a box, a binomial): the row pass may then add each pair of pixels before multiplying.

    >>> _mirrored(np.array([1.0, 4, 6, 4, 1])), _mirrored(np.array([-1.0, 0, 1]))
    (True, False)
    """
    taps = np.trim_zeros(row)  # first to last non-zero tap: mirrored means a palindrome
    return np.count_nonzero(taps) >= 2 and np.array_equal(taps, taps[::-1])


def _folded_half(vector: np.ndarray):
    """(centre, weights from the centre outwards) of a mirrored row or column of odd length
    (from its first to its last non-zero tap), the form `_compiled._folded_row_blocks` and
    `_compiled._folded_column_pair` sum; else None.

    >>> _folded_half(np.array([0.0, 1, 4, 6, 4, 1]))
    (3, array([6., 4., 1.]))
    >>> _folded_half(np.array([1.0, 3, 3, 1])) is None  # even: no centre tap
    True
    """
    taps = np.trim_zeros(vector)
    if not _mirrored(vector) or taps.size % 2 == 0:
        return None
    centre = int(np.flatnonzero(vector)[0]) + taps.size // 2
    return centre, vector[centre:centre + taps.size // 2 + 1]


def _folds(vectors, accumulator, step):
    """(halves, bounds, centres) for `_compiled.separable_rows`: each vector's `_folded_half`,
    concatenated, centres in elements `step` apart; a vector without one (or empty: not folded)
    gets no weights."""
    halves = [_folded_half(vector) if vector.size else None for vector in vectors]
    weights = [half[1] if half else np.zeros(0) for half in halves]
    bounds = np.cumsum([0] + [w.size for w in weights]).astype(np.int64)
    centres = np.array([half[0] * step if half else 0 for half in halves], np.int64)
    return np.concatenate(weights).astype(accumulator), bounds, centres


def ring_width(width: int, accumulator: np.dtype) -> int:
    """Elements of a ring row holding `width`: an odd number of cache lines, so that the same
    column of consecutive ring rows falls in different L1 sets (`_compiled._folded_column_block`
    reads a column block from every ring row of its window; rows 16 KiB apart would share sets).

    >>> ring_width(4096, np.dtype(np.float32)), ring_width(100, np.dtype(np.float64))
    (4112, 104)
    """
    per_line = _compiled.STREAM_LINE // np.dtype(accumulator).itemsize
    lines = -(-width // per_line)
    return (lines + 1 - lines % 2) * per_line


def _tap_lists(vectors, accumulator):
    """Non-zero weights, their positions, and each vector's [start, stop) bounds, concatenated."""
    positions = [np.flatnonzero(v) for v in vectors]
    weights = np.concatenate([v[p] for v, p in zip(vectors, positions)]).astype(accumulator)
    bounds = np.cumsum([0] + [p.size for p in positions]).astype(np.int64)
    return weights, np.concatenate(positions).astype(np.int64), bounds


def _pair_tables(columns, accumulator):
    """(starts, bounds, weights, rows): each column's `_direct.pair_table`, concatenated, for
    `_compiled.separable_rows`; empty (starts[-1] == 0) if any column has no two adjacent taps,
    so that output rows go one at a time."""
    tables = []
    for column in columns:
        rows = np.flatnonzero(column)
        bounds, weights, pair_rows, _ = pair_table(column[rows], rows, np.zeros_like(rows), 1)
        tables.append((bounds, weights.astype(accumulator), pair_rows))
    if any(bounds[3] == 0 for bounds, _, _ in tables):
        tables = []
    starts = np.cumsum([0] + [bounds[3] for bounds, _, _ in tables]).astype(np.int64)
    bounds = np.array([bounds for bounds, _, _ in tables], np.int64).reshape(-1, 4)
    weights = np.concatenate([w for _, w, _ in tables], axis=1) if tables else np.zeros((2, 0), accumulator)
    rows = np.concatenate([r for _, _, r in tables]) if tables else np.zeros(0, np.int64)
    return starts, bounds, weights, rows.astype(np.int64)
