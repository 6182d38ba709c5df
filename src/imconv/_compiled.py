"""Compiled row kernels of the direct method: plain loops over plain arrays.

These functions see only arrays, ints and floats; names, modes and the dtype
policy are resolved by the callers. They release the GIL (``nogil``) so row
bands run on several threads, and they are cached on disk (``cache``) so a
process compiles each type signature once.

Of ``fastmath`` only ``contract``: it lets LLVM fuse a multiply and an add into
one FMA instruction (one rounding instead of two). The other flags would let it
assume there is no NaN or inf, and the NaN rule (a non-finite pixel reaches
exactly the outputs that weigh it) must hold.
"""

from __future__ import annotations

import numba
import numpy as np

from ._borders import CONSTANT, REFLECT, REPLICATE, WRAP

STORE_COPY, STORE_ADD, STORE_SATURATE = range(3)
FUSED_TAPS = 4  # taps added per pass over the accumulator row (see _fused_pass)

_JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


@numba.njit(inline="always", **_JIT)
def source_index(p, n, border):
    """The index in [0, n) that position `p` reads under `border`; -1 means "the fill value"."""
    if 0 <= p < n:
        return p
    if border == CONSTANT:
        return -1
    if border == REPLICATE:
        return 0 if p < 0 else n - 1
    if border == WRAP:
        return p % n
    if border == REFLECT:
        m = p % (2 * n)
        return m if m < n else 2 * n - 1 - m
    if n == 1:  # reflect101 of a single pixel
        return 0
    m = p % (2 * n - 2)
    return m if m < n else 2 * n - 2 - m


# One pass adds up to four taps to the accumulator row, each reading its own
# source row. The four bodies are unrolled by hand: a loop over taps inside the
# loop over x keeps LLVM from vectorising x, and one fused pass reads and writes
# `acc` once instead of once per tap. Padding a group with zero weights is not
# allowed: 0 * NaN would leak NaN from pixels the kernel does not weigh.
@numba.njit(inline="always", **_JIT)
def _fused_pass(acc, src, source_rows, taps, weights, offsets, g, n, start, stop):
    a = acc[start:stop]
    t0 = taps[g]
    w0 = weights[t0]
    s0 = src[source_rows[g], start + offsets[t0]:stop + offsets[t0]]
    if n == 1:
        for i in range(a.size):
            a[i] += w0 * s0[i]
        return
    t1 = taps[g + 1]
    w1 = weights[t1]
    s1 = src[source_rows[g + 1], start + offsets[t1]:stop + offsets[t1]]
    if n == 2:
        for i in range(a.size):
            a[i] += w0 * s0[i] + w1 * s1[i]
        return
    t2 = taps[g + 2]
    w2 = weights[t2]
    s2 = src[source_rows[g + 2], start + offsets[t2]:stop + offsets[t2]]
    if n == 3:
        for i in range(a.size):
            a[i] += w0 * s0[i] + w1 * s1[i] + w2 * s2[i]
        return
    t3 = taps[g + 3]
    w3 = weights[t3]
    s3 = src[source_rows[g + 3], start + offsets[t3]:stop + offsets[t3]]
    for i in range(a.size):
        a[i] += (w0 * s0[i] + w1 * s1[i]) + (w2 * s2[i] + w3 * s3[i])


@numba.njit(inline="always", **_JIT)
def _add_to_all(acc, value):
    for i in range(acc.size):
        acc[i] += value


@numba.njit(inline="always", **_JIT)
def _add_edge_pixels(acc, row, width, channels, x_start, x_stop, weight, dx, border, fill):
    for x in range(x_start, x_stop):
        sx = source_index(x + dx, width, border)
        if sx < 0:
            for c in range(channels):
                acc[x * channels + c] += weight * fill
        else:
            for c in range(channels):
                acc[x * channels + c] += weight * row[sx * channels + c]


@numba.njit(inline="always", **_JIT)
def _add_edges(acc, src, source_rows, taps, weights, columns, g, n, width, channels, first, last,
               origin_x, border, fill):
    """Add taps g..g+n for the output pixels outside [first, last), reading through the border."""
    out_width = acc.size // channels
    for k in range(g, g + n):
        t = taps[k]
        row = src[source_rows[k]]
        dx = columns[t] - origin_x
        _add_edge_pixels(acc, row, width, channels, 0, first, weights[t], dx, border, fill)
        _add_edge_pixels(acc, row, width, channels, last, out_width, weights[t], dx, border, fill)


@numba.njit(inline="always", **_JIT)
def _store_row(acc, out_row, store, saturation):
    """Write `acc` into `out_row`: copy, add, or round half to even and saturate.

    saturation: (lo, hi, min, max); values below `lo` or above `hi`, the extreme
    floats that fit the output type, store the type's exact limits `min` and
    `max`. Returns how many NaN met an integer output (they are stored as 0 and
    the caller raises).
    """
    lo, hi, smallest, largest = saturation
    n_nan = 0
    if store == STORE_COPY:
        for i in range(acc.size):
            out_row[i] = acc[i]
    elif store == STORE_ADD:
        for i in range(acc.size):
            out_row[i] += acc[i]
    else:
        for i in range(acc.size):
            v = acc[i]
            if v != v:
                n_nan += 1
                out_row[i] = 0
            elif v < lo:
                out_row[i] = smallest
            elif v > hi:
                out_row[i] = largest
            else:
                out_row[i] = np.rint(v)
    return n_nan


@numba.njit(**_JIT)
def correlate_rows(src, channels, weights, rows, columns, origin_y, origin_x, border, fill, out,
                   acc, y_start, y_stop, store, saturation):
    """Rows y_start..y_stop of ``out[y, x] = sum_t w[t] * ext(y + rows[t] - oy, x + columns[t] - ox)``.

    src: (H, W * channels) C-contiguous, channels interleaved. out: (Hout, Wout * channels).
    weights/rows/columns: the non-zero taps, in row-major order. acc: a scratch row of
    Wout * channels floats, which also sets the precision of the sums. Returns the NaN
    count of `_store_row`.
    """
    height = src.shape[0]
    width = src.shape[1] // channels
    out_width = out.shape[1] // channels
    offsets = (columns - origin_x) * channels
    taps = np.empty(weights.size, np.int64)         # this row's taps that read the image...
    source_rows = np.empty(weights.size, np.int64)  # ...and the image row each reads
    n_nan = 0
    for y in range(y_start, y_stop):
        acc[:] = 0
        n_live = 0
        for t in range(weights.size):
            sy = source_index(y + rows[t] - origin_y, height, border)
            if sy < 0:  # a constant border row: the fill value under every pixel
                _add_to_all(acc, weights[t] * fill)
            else:
                taps[n_live] = t
                source_rows[n_live] = sy
                n_live += 1
        for g in range(0, n_live, FUSED_TAPS):
            n = min(FUSED_TAPS, n_live - g)
            low, high = columns[taps[g]], columns[taps[g]]
            for k in range(g + 1, g + n):
                low = min(low, columns[taps[k]])
                high = max(high, columns[taps[k]])
            # Output pixels [first, last) read inside the image for every tap of the group.
            first = min(max(0, origin_x - low), out_width)
            last = max(min(out_width, width - (high - origin_x)), first)
            _fused_pass(acc, src, source_rows, taps, weights, offsets, g, n, first * channels,
                        last * channels)
            _add_edges(acc, src, source_rows, taps, weights, columns, g, n, width, channels,
                       first, last, origin_x, border, fill)
        n_nan += _store_row(acc, out[y], store, saturation)
    return n_nan
