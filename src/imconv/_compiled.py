"""Compiled row kernels of the direct method: plain loops over plain arrays.

These functions see only arrays, ints and floats; names, modes and the dtype
policy are resolved by the callers. They release the GIL (``nogil``) so row
bands run on several threads, and they are cached on disk (``cache``) so a
process compiles each type signature once.

No ``fastmath``: it lets LLVM assume there is no NaN or inf, and the NaN rule
(a non-finite pixel reaches exactly the outputs that weigh it) must hold.
"""

from __future__ import annotations

import numba
import numpy as np

from ._borders import CONSTANT, REFLECT, REPLICATE, WRAP

STORE_COPY, STORE_ADD, STORE_SATURATE = range(3)

_JIT = dict(cache=True, nogil=True, error_model="numpy")


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


# One pass adds up to four taps of one kernel row to the accumulator row. The
# four bodies are unrolled by hand: a loop over taps inside the loop over x keeps
# LLVM from vectorising x, and one fused pass reads and writes `acc` once
# instead of once per tap. Padding a group with zero weights is not allowed:
# 0 * NaN would leak NaN from pixels the kernel does not weigh.
@numba.njit(inline="always", **_JIT)
def _fused_pass(acc, row, start, stop, weights, offsets, t, n):
    a = acc[start:stop]
    if n == 1:
        w0 = weights[t]
        s0 = row[start + offsets[t]:stop + offsets[t]]
        for i in range(a.size):
            a[i] += w0 * s0[i]
    elif n == 2:
        w0, w1 = weights[t], weights[t + 1]
        s0 = row[start + offsets[t]:stop + offsets[t]]
        s1 = row[start + offsets[t + 1]:stop + offsets[t + 1]]
        for i in range(a.size):
            a[i] += w0 * s0[i] + w1 * s1[i]
    elif n == 3:
        w0, w1, w2 = weights[t], weights[t + 1], weights[t + 2]
        s0 = row[start + offsets[t]:stop + offsets[t]]
        s1 = row[start + offsets[t + 1]:stop + offsets[t + 1]]
        s2 = row[start + offsets[t + 2]:stop + offsets[t + 2]]
        for i in range(a.size):
            a[i] += w0 * s0[i] + w1 * s1[i] + w2 * s2[i]
    else:
        w0, w1, w2, w3 = weights[t], weights[t + 1], weights[t + 2], weights[t + 3]
        s0 = row[start + offsets[t]:stop + offsets[t]]
        s1 = row[start + offsets[t + 1]:stop + offsets[t + 1]]
        s2 = row[start + offsets[t + 2]:stop + offsets[t + 2]]
        s3 = row[start + offsets[t + 3]:stop + offsets[t + 3]]
        for i in range(a.size):
            a[i] += (w0 * s0[i] + w1 * s1[i]) + (w2 * s2[i] + w3 * s3[i])


@numba.njit(inline="always", **_JIT)
def _add_fill(acc, weights, t0, t1, fill):
    for t in range(t0, t1):
        value = weights[t] * fill
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
def _add_edges(acc, row, width, channels, first, last, weights, columns, t0, t1, origin_x,
               border, fill):
    """Add taps t0..t1 for the output pixels outside [first, last), reading through the border."""
    out_width = acc.size // channels
    for t in range(t0, t1):
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
def correlate_rows(src, channels, weights, rows, columns, groups, origin_y, origin_x,
                   border, fill, out, acc, y_start, y_stop, store, saturation):
    """Rows y_start..y_stop of ``out[y, x] = sum_t w[t] * ext(y + rows[t] - oy, x + columns[t] - ox)``.

    src: (H, W * channels) C-contiguous, channels interleaved. out: (Hout, Wout * channels).
    weights/rows/columns: the non-zero taps, sorted by row; ``groups[g]:groups[g + 1]`` are
    runs of at most four taps of one kernel row. acc: a scratch row of Wout * channels
    floats, which also sets the precision of the sums. Returns the NaN count of `_store_row`.
    """
    height = src.shape[0]
    width = src.shape[1] // channels
    out_width = out.shape[1] // channels
    offsets = (columns - origin_x) * channels
    n_nan = 0
    for y in range(y_start, y_stop):
        acc[:] = 0
        for g in range(groups.size - 1):
            t0, t1 = groups[g], groups[g + 1]
            sy = source_index(y + rows[t0] - origin_y, height, border)
            if sy < 0:
                _add_fill(acc, weights, t0, t1, fill)
                continue
            row = src[sy]
            # Output pixels [first, last) read inside the row for every tap of the group.
            first = min(max(0, origin_x - columns[t0]), out_width)
            last = max(min(out_width, width - (columns[t1 - 1] - origin_x)), first)
            _fused_pass(acc, row, first * channels, last * channels, weights, offsets, t0, t1 - t0)
            _add_edges(acc, row, width, channels, first, last, weights, columns, t0, t1,
                       origin_x, border, fill)
        n_nan += _store_row(acc, out[y], store, saturation)
    return n_nan
