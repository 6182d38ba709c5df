"""Compiled kernels of every method (direct, separable, box): plain loops over plain arrays.

These functions see only arrays, ints and floats; names, modes and the dtype
policy are resolved by the callers. They release the GIL (``nogil``) so row
bands run on several threads, and they are cached on disk (``cache``) so a
process compiles each type signature once.

Of ``fastmath`` only ``contract``: it lets LLVM fuse a multiply and an add into
one FMA instruction (one rounding instead of two). The other flags would let it
assume there is no NaN or inf, and the NaN rule (a non-finite pixel reaches
exactly the outputs that weigh it) must hold.

``_nrt=False`` turns off numba's reference counting: every row slice would
otherwise cost an atomic increment and decrement (measured: 0.1 us a row, six
times the arithmetic of a 3 x 3 kernel on a 64-pixel row). In exchange these
functions allocate nothing; callers pass every scratch array in.
"""

from __future__ import annotations

import platform

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, overload

from ._borders import CONSTANT, REFLECT, REPLICATE, WRAP

STORE_COPY, STORE_ADD, STORE_SATURATE, STORE_CLAMP, STORE_SHIFT, STORE_STREAM, STORE_CLAMP_SINGLE = range(7)
STREAM_LINE = 64  # bytes a non-temporal store writes at once: a cache line, and an AVX-512 vector
FUSED_TAPS = 4  # taps added per pass over the accumulator row (see _fused_pass)
FOLD_VECTORS = 4  # vectors of STREAM_LINE bytes per output row in one _folded_*_block
FOLD_STEPS = (1, 3, 4)  # channel counts that _folded_row_blocks compiles a body for
WINDOW_CHUNK = 512  # box outputs summed at a time along a row (see box_band)
WINDOW_BLOCKS_MAX = 8  # the widest box window summed straight along a row (see _window_block)
WINDOW_QUADS_MAX = 32  # the widest summed from sums of 4 (`_window_by_quads`), not by levels
MARGIN_SLOTS = 5  # rows of margins a band gathers into (`_margin_row`): 0-3 for the 3 x 3 sums,
MARGIN_LAY_OUT = 4  # and this one for laying out a row

_JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"}, _nrt=False)
# No function here asks numba to inline it (inline="always"): numba types an inlined body
# again at every call site, which made a new combination of types take 10-14 s to compile
# where separate functions take 4-5 s. The calls left are per row or per group of taps,
# and LLVM still inlines the small helpers.


@numba.njit(**_JIT)
def source_index(p, n, border):
    """The index in [0, n) that position `p` reads under `border`; -1 means "the fill value"."""
    if 0 <= p < n:
        return p
    if border == CONSTANT:
        return -1
    if border == REPLICATE:
        return 0 if p < 0 else n - 1
    if -n <= p < 2 * n - 1:  # just outside: one reflection, no division (the common case)
        if border == WRAP:
            return p + n if p < 0 else p - n
        if border == REFLECT:
            return -1 - p if p < 0 else 2 * n - 1 - p
        if n > 1 and -n < p < 2 * n - 2:
            return -p if p < 0 else 2 * n - 2 - p
    if border == WRAP:
        return p % n
    if border == REFLECT:
        m = p % (2 * n)
        return m if m < n else 2 * n - 1 - m
    if n == 1:  # reflect101 of a single pixel
        return 0
    m = p % (2 * n - 2)
    return m if m < n else 2 * n - 2 - m


# --- non-temporal stores: results that skip the cache -----------------------------------
# A plain store first reads the cache line it writes (to own it): a large result
# costs the memory bus a read and a write per line. A non-temporal store sends
# whole lines to memory without reading them, and leaves the caches to the image:
# a 4096 x 4096 float32 copy by two threads took 2.9 ms this way against 4.1 ms.
# numba has no word for it, so `_store_line` asks LLVM directly. This lives here,
# not in a module of its own: numba's disk cache would not see a change there.

@intrinsic
def _store_line(typingctx, row, i, values, j):
    """``row[i:i + n] = values[j:j + n]``, n = STREAM_LINE // itemsize, in one non-temporal store
    (row + i aligned to STREAM_LINE; values as they come)."""
    def codegen(context, builder, signature, args):
        row_type, _, values_type, _ = signature.args
        row_data = context.make_array(row_type)(context, builder, args[0]).data
        values_data = context.make_array(values_type)(context, builder, args[2]).data
        element = context.get_data_type(row_type.dtype)
        line = ir.VectorType(element, STREAM_LINE * 8 // row_type.dtype.bitwidth).as_pointer()
        loaded = builder.load(builder.bitcast(builder.gep(values_data, [args[3]]), line),
                              align=row_type.dtype.bitwidth // 8)
        stored = builder.store(loaded, builder.bitcast(builder.gep(row_data, [args[1]]), line),
                               align=STREAM_LINE)
        stored.set_metadata("nontemporal", builder.module.add_metadata([ir.IntType(32)(1)]))
    return types.void(row, i, values, j), codegen


@intrinsic
def _fence(typingctx):
    """Wait until every store so far, non-temporal ones included, is seen by all threads."""
    def codegen(context, builder, signature, args):
        if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
            # a seq_cst fence is a locked `or` on x86, which need not order streaming stores
            sfence = builder.module.globals.get("llvm.x86.sse.sfence") or ir.Function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse.sfence")
            builder.call(sfence, [])
        else:
            builder.fence("seq_cst")
    return types.void(), codegen


def stream_row(values, row):
    """``row[:] = values`` through non-temporal stores (row: 1-D, C-contiguous)."""
    row[:] = values[:row.size]


@overload(stream_row, jit_options=dict(nogil=True, _nrt=False))
def _stream_row(values, row):
    streams = (values.dtype == row.dtype and isinstance(row.dtype, (types.Float, types.Integer))
               and row.layout == "C" and values.layout == "C")
    if not streams:  # another type (a float64 sum into float32): a converting copy
        def convert(values, row):
            for i in range(row.size):
                row[i] = values[i]
        return convert
    per_line = STREAM_LINE * 8 // row.dtype.bitwidth

    def stream(values, row):
        n, address = row.size, row.ctypes.data
        # elements up to the first line boundary (all of them if the row is not even
        # aligned to its own type, a view into raw bytes), then whole lines, then the rest
        head = n if address % row.itemsize else min(n, (-address % STREAM_LINE) // row.itemsize)
        for i in range(head):
            row[i] = values[i]
        i = head
        while i + per_line <= n:
            _store_line(row, i, values, i)
            i += per_line
        for k in range(i, n):
            row[k] = values[k]
    return stream


@numba.njit(**_JIT)
def end_stores(store):
    """What a band that stored by `store` does last: a fence after non-temporal stores, which
    are ordered with nothing else, so the thread that waits on the band sees every result."""
    if store == STORE_STREAM:
        _fence()


# One pass adds up to four taps to the accumulator row, each reading its own
# source row. The four bodies are unrolled by hand: a loop over taps inside the
# loop over x keeps LLVM from vectorising x, and one fused pass reads and writes
# `acc` once instead of once per tap. Padding a group with zero weights is not
# allowed: 0 * NaN would leak NaN from pixels the kernel does not weigh.
@numba.njit(**_JIT)
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


@numba.njit(**_JIT)
def _fused_pair_pass(acc0, acc1, src, source_rows, taps, weights0, weights1, offsets, g, n, start,
                     stop):
    """`_fused_pass` into two output rows at once: each source value loaded feeds both.

    Tap t adds ``weights0[t] * slice`` to acc0 and ``weights1[t] * slice`` to acc1; both
    weights are non-zero (see `pair_table`).
    """
    a0 = acc0[start:stop]
    a1 = acc1[start:stop]
    t0 = taps[g]
    u0, v0 = weights0[t0], weights1[t0]
    s0 = src[source_rows[g], start + offsets[t0]:stop + offsets[t0]]
    if n == 1:
        for i in range(a0.size):
            a0[i] += u0 * s0[i]
            a1[i] += v0 * s0[i]
        return
    t1 = taps[g + 1]
    u1, v1 = weights0[t1], weights1[t1]
    s1 = src[source_rows[g + 1], start + offsets[t1]:stop + offsets[t1]]
    if n == 2:
        for i in range(a0.size):
            a0[i] += u0 * s0[i] + u1 * s1[i]
            a1[i] += v0 * s0[i] + v1 * s1[i]
        return
    t2 = taps[g + 2]
    u2, v2 = weights0[t2], weights1[t2]
    s2 = src[source_rows[g + 2], start + offsets[t2]:stop + offsets[t2]]
    if n == 3:
        for i in range(a0.size):
            a0[i] += u0 * s0[i] + u1 * s1[i] + u2 * s2[i]
            a1[i] += v0 * s0[i] + v1 * s1[i] + v2 * s2[i]
        return
    t3 = taps[g + 3]
    u3, v3 = weights0[t3], weights1[t3]
    s3 = src[source_rows[g + 3], start + offsets[t3]:stop + offsets[t3]]
    for i in range(a0.size):
        x0, x1, x2, x3 = s0[i], s1[i], s2[i], s3[i]
        a0[i] = _narrow(a0[i] + _four_products(u0, u1, u2, u3, x0, x1, x2, x3, a0), a0)
        a1[i] = _narrow(a1[i] + _four_products(v0, v1, v2, v3, x0, x1, x2, x3, a1), a1)


@numba.njit(**_JIT)
def _four_products(w0, w1, w2, w3, x0, x1, x2, x3, acc):
    """(w0 x0 + w1 x1) + (w2 x2 + w3 x3), each step `_narrow`ed to `acc`'s integer sums."""
    first = _narrow(_narrow(w0 * _narrow(x0, acc), acc) + _narrow(w1 * _narrow(x1, acc), acc), acc)
    second = _narrow(_narrow(w2 * _narrow(x2, acc), acc) + _narrow(w3 * _narrow(x3, acc), acc), acc)
    return _narrow(first + second, acc)


def _narrow(value, acc):
    """`value` in the type of `acc`'s integer sums, float values as they are.

    Exact: wrapping sums give the true total wherever it fits, and `_direct.integer_form`
    picks a type it fits. numba computes small integers in int64, and the two rows' four
    int64 products did not vectorise (one pass over 4096 int16 sums of uint8 pixels: 2.2
    us, 0.96 us narrowed).
    """
    return value


@overload(_narrow, jit_options=dict(nogil=True, _nrt=False))
def _narrow_overload(value, acc):
    if isinstance(acc.dtype, types.Integer):
        sum_type = acc.dtype
        return lambda value, acc: sum_type(value)
    return lambda value, acc: value


@numba.njit(**_JIT)
def _add_to_all(acc, value):
    for i in range(acc.size):
        acc[i] += value


@numba.njit(**_JIT)
def _add_group(acc0, acc1, into_first, into_second, src, source_rows, taps, weights0, weights1,
               offsets, g, n, start, stop):
    """Taps g..g+n over [start, stop): into both rows in one pass, or into either alone."""
    if into_first and into_second:
        _fused_pair_pass(acc0, acc1, src, source_rows, taps, weights0, weights1, offsets, g, n,
                         start, stop)
    else:
        acc, weights = (acc0, weights0) if into_first else (acc1, weights1)
        _fused_pass(acc, src, source_rows, taps, weights, offsets, g, n, start, stop)


@numba.njit(**_JIT)
def _add_runs(acc0, acc1, which, src, source_rows, taps, weights0, weights1, offsets, runs):
    """Add two rows' slices to acc0 (which 1 or 3) and acc1 (which 2 or 3), FUSED_TAPS at a time:
    [runs[0], runs[1]) feed both rows, [runs[1], runs[2]) the first only, [runs[2], runs[3]) the
    second only. A row alone sums the same slices in the same groups as in its pair."""
    into_first, into_second = which != 2, which != 1
    for kind in range(3):
        feeds_first, feeds_second = kind != 2 and into_first, kind != 1 and into_second
        if not (feeds_first or feeds_second):
            continue
        for g in range(runs[kind], runs[kind + 1], FUSED_TAPS):
            _add_group(acc0, acc1, feeds_first, feeds_second, src, source_rows, taps, weights0,
                       weights1, offsets, g, min(FUSED_TAPS, runs[kind + 1] - g), 0, acc0.size)


@numba.njit(**_JIT)
def _store_row(acc, out_row, store, saturation):
    """Write `acc` into `out_row`: copy, add, or round half to even and saturate.

    saturation: (lo, hi, min, max, scale); each sum is first multiplied by `scale`:
    1.0, or a power of two for the exact integer sums of `_direct.integer_form`
    (exact in float64). STORE_CLAMP (integer types up to 32 bits, whose limits are
    exact float64 values `lo` and `hi`) clamps and rounds with selects, which
    vectorise: 0.15 ns a pixel where the branches of STORE_SATURATE take 0.43.
    STORE_SATURATE (64-bit types): values below `lo` or above `hi`, the extreme
    floats that fit the type, store its exact limits `min` and `max`. STORE_SHIFT
    (integer sums, into types up to 32 bits; scale = 2**-shift): the same rounding
    and clamp as STORE_CLAMP, in integers (0.02-0.04 ns a pixel where the float
    conversions of STORE_CLAMP take 0.38 on int16 sums). STORE_CLAMP_SINGLE: STORE_CLAMP
    in float32, for `lo`, `hi` and `scale` that are float32 values (outputs up to 16
    bits, a power-of-two scale): the same results, twice the SIMD lanes on float32
    sums. Returns how many NaN met an integer output (they are stored as 0 and the
    caller raises).
    """
    lo, hi, smallest, largest, scale = saturation
    n_nan = 0
    if store == STORE_SHIFT:
        _store_shifted(acc, out_row, lo, hi, scale)
    elif store == STORE_COPY:
        for i in range(acc.size):
            out_row[i] = acc[i]
    elif store == STORE_STREAM:
        stream_row(acc, out_row)
    elif store == STORE_ADD:
        for i in range(acc.size):
            out_row[i] += acc[i]
    elif store == STORE_CLAMP:
        n_nan = _clamp_round(acc, out_row, lo, hi, scale)
    elif store == STORE_CLAMP_SINGLE:
        n_nan = _clamp_round(acc, out_row, np.float32(lo), np.float32(hi), np.float32(scale))
    else:
        for i in range(acc.size):
            v = acc[i] * scale
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
def _clamp_round(acc, out_row, lo, hi, scale):
    """out_row = acc * scale clamped to [lo, hi] (exact limits of out's type) and rounded half
    to even, with selects, which vectorise; NaN stores 0. Returns the NaN count.

    The products and clamps compute in the type of `lo`, `hi` and `scale` (with acc's);
    the count is an int32 (an int64 one took half the time of the whole store).
    """
    n_nan = np.int32(0)
    zero = lo - lo
    for i in range(acc.size):
        v = acc[i] * scale
        bad = v != v
        n_nan += np.int32(bad)
        c = lo if v < lo else v
        c = hi if c > hi else c
        out_row[i] = np.rint(zero if bad else c)
    return n_nan


@numba.njit(**_JIT)
def _store_shifted(acc, out_row, lo, hi, scale):
    """out_row = integer sums `acc` times scale = 2**-shift, rounded half to even, clamped to [lo, hi]."""
    shift = 0
    while scale * (1 << shift) < 1.0:
        shift += 1
    smallest, largest = int(lo), int(hi)
    if shift == 0:
        # the limits in the sums' own type (the sums never leave it), so the compares stay
        # 16 bits wide for int16 sums: 0.02 ns a pixel, 0.17 compared as int64
        widest = (1 << (8 * acc.itemsize - 1)) - 1
        low = acc.dtype.type(min(max(smallest, -widest - 1), widest))
        high = acc.dtype.type(min(max(largest, -widest - 1), widest))
        for i in range(acc.size):
            v = acc[i]
            v = low if v < low else v
            out_row[i] = high if v > high else v
        return
    half, below = 1 << (shift - 1), (1 << shift) - 1
    for i in range(acc.size):
        v = np.int64(acc[i])  # typed for float sums too, which never come here
        q, r = v >> shift, v & below  # floor(v / 2**shift) and the remainder, for negative v too
        q += (r > half) | ((r == half) & ((q & 1) == 1))  # half to even
        q = smallest if q < smallest else q
        out_row[i] = largest if q > largest else q


@numba.njit(**_JIT)
def correlate_rows(src, channels, weights, rows, offsets, origin_y, origin_x, border, fill, margins,
                   margin_ends, out, acc, lines, owners, taps, slots, pairs, dense_3x3, fill_rows,
                   y_start, y_stop, store, saturation, in_place):
    """Rows y_start..y_stop of ``out[y, x] = sum_t w[t] * ext(y + rows[t] - oy, x + columns[t] - ox)``.

    src: (H, W * channels) C-contiguous, channels interleaved. out: (Hout, Wout * channels).
    weights/rows: the non-zero taps, in row-major order; offsets: columns * channels.
    Every image row the band reads is first laid out once in `lines`, border included
    (`_line_at`): (R, (Wout + kw - 1) * channels) of the margins' type, so a tap is
    one pass over a plain row. lines holds either a ring of R = kh + 1 positions
    (owners: the position in each row, -2**62 for none), or, when owners is empty,
    every image row, prepared by the caller, and a last row of `fill`.
    margins: the band's own (positions, elements, rows) of `_direct.margin_table`, to
    gather each row's margins into (`_margin_row`); margin_ends: the elements of a
    line read from the image itself. acc: two scratch rows of Wout * channels
    floats, which also set the precision of the sums, or `out` itself if in_place; taps, slots:
    int64 scratch of twice the taps.
    pairs: `pair_table`'s (bounds, weights, rows, offsets) for two output rows at once.
    dense_3x3: the nine weights of a 3 x 3 kernel, zeros included, for `_rows_3x3`
    (not when adding to `out`), or empty; fill_rows: `fill` over a row of the image
    and over a row of margins, which it reads under a constant border. in_place:
    sum straight into the rows of `out` (C-contiguous, of the accumulator's type,
    store copy or add), which saves a pass over every row. Returns the NaN count of
    `_store_row`.
    """
    paired = pairs[0][3] > 0
    if owners.size:
        owners[:] = -(1 << 62)
    clear = store != STORE_ADD or not in_place  # a variable, not a literal: one compile
    origin_x *= channels
    n_nan = 0
    y = y_start
    while y < y_stop:
        # Rows pair up as (even, odd) whatever the bands, and a row sums its slices in the
        # same order alone as in its pair: results do not depend on the number of threads.
        pair_now = (paired or dense_3x3.size > 0) and y % 2 == 0 and y + 1 < y_stop
        rows_now = 2 if pair_now else 1
        # in place, acc is `out`: one type of row either way, so the sums compile once
        first, second = (acc[y], acc[y + rows_now - 1]) if in_place else (acc[0], acc[1])
        if dense_3x3.size:
            p = y - origin_y
            row0, margins0 = _row_at(p, src, margins, fill_rows, border)
            row1, margins1 = _row_at(p + 1, src, margins, fill_rows, border)
            row2, margins2 = _row_at(p + 2, src, margins, fill_rows, border)
            row3, margins3 = (_row_at(p + 3, src, margins, fill_rows, border) if pair_now
                              else (row2, margins2))
            redo_first, redo_second = _rows_3x3(
                first, second, pair_now, (row0, row1, row2, row3),
                (margins0, margins1, margins2, margins3), margin_ends[0], margin_ends[1], origin_x,
                dense_3x3, channels)
            if redo_first or redo_second:  # maybe a zero weight on NaN or inf: redo, skipping them
                for row, redo, target in ((y, redo_first, first), (y + 1, redo_second, second)):
                    if redo:
                        target[:] = 0
                        _exact_row(target, row, paired, src, weights, rows, offsets, origin_y,
                                   origin_x, border, fill, margins, margin_ends, lines, owners,
                                   taps, slots, pairs, True)
        else:
            if clear and not paired:  # paired rows are set by their first slices instead
                first[:] = 0
            if pair_now:
                _correlate_pair(first, second, 3, y, src, origin_y, origin_x, border, fill,
                                margins, margin_ends, lines, owners, taps, slots, pairs, clear)
            else:
                _exact_row(first, y, paired, src, weights, rows, offsets, origin_y, origin_x,
                           border, fill, margins, margin_ends, lines, owners, taps, slots, pairs,
                           clear)
        if not in_place:
            n_nan += _store_row(acc[0], out[y], store, saturation)
            if rows_now == 2:
                n_nan += _store_row(acc[1], out[y + 1], store, saturation)
        y += rows_now
    end_stores(store)
    return n_nan


@numba.njit(**_JIT)
def _row_at(position, src, margins, fill_rows, border):
    """The image row at `position` through the border and its margins, gathered into margin row
    position % 4 (four positions in a row: four rows); `fill_rows` outside the image."""
    sy = source_index(position, src.shape[0], border)
    if sy < 0:
        return fill_rows[0], fill_rows[1]
    _margin_row(margins, src[sy], position & 3)
    return src[sy], margins[2][position & 3]


@numba.njit(**_JIT)
def _margin_row(margins, src_row, slot):
    """Gather into row `slot` of the margin rows what image row `src_row` shows at its margins
    (`_direct.margin_table`; the fill where it reads outside the image)."""
    positions, elements, rows = margins
    row = rows[slot]
    for i in range(positions.size):
        row[positions[i]] = src_row[elements[i]]


@numba.njit(**_JIT)
def _exact_row(acc, y, paired, src, weights, rows, offsets, origin_y, origin_x, border, fill,
               margins, margin_ends, lines, owners, taps, slots, pairs, assign):
    """Add output row y alone to acc, its non-zero taps in the same groups as in its pair;
    `assign`: set it instead, where paired (a row of a single-row kernel is added to)."""
    if paired:
        even = y - (y & 1)
        _correlate_pair(acc, acc, 1 if y == even else 2, even, src, origin_y, origin_x, border,
                        fill, margins, margin_ends, lines, owners, taps, slots, pairs, assign)
        return
    for t in range(weights.size):
        taps[t] = t
        slots[t] = _line_at(y + rows[t] - origin_y, src, margins, margin_ends, origin_x, border,
                            fill, lines, owners)
    for g in range(0, weights.size, FUSED_TAPS):
        _fused_pass(acc, lines, slots, taps, weights, offsets, g,
                    min(FUSED_TAPS, weights.size - g), 0, acc.size)


@numba.njit(**_JIT)
def _correlate_pair(acc0, acc1, which, y, src, origin_y, origin_x, border, fill, margins, margin_ends,
                    lines, owners, taps, slots, pairs, assign):
    """Add output rows y and y + 1 (which 3), or y only (1), or y + 1 only (2) to acc0 and acc1
    (set them, if `assign`).

    `pair_table` lists the slices (image row y + r - oy, a column) in three runs:
    weights for both rows, for y only, for y + 1 only. A row alone sums the same
    slices in the same groups as in the pair. origin_x: in elements.
    """
    bounds, pair_weights, pair_rows, pair_offsets = pairs
    for t in range(bounds[3]):
        taps[t] = t
        slots[t] = _line_at(y + pair_rows[t] - origin_y, src, margins, margin_ends, origin_x, border,
                            fill, lines, owners)
    add_pair_slices(acc0, acc1, which, lines, slots, taps, pair_weights[0], pair_weights[1],
                    pair_offsets, bounds, assign)


# Float sums of a pair of rows are held in vector registers, a block of x at a time
# (`_pair_block`): each slice loaded feeds both rows, and each sum is stored once,
# where `_fused_pair_pass` reads and writes its rows once per group of four slices.
# Every slice is a multiply-add onto the sum before it, in the order of `pair_table`,
# in every block (the last one of a row cut short, `_whole_or_part`), paired or alone:
# one order for every output.
# The direct method's rows and the separable column pass both sum this way. At
# 4096^2, float32: dense 5 x 5 on one thread 27.5 ms in groups, 17.0 in blocks;
# Gaussian 31 (separable) on two threads 28.8 ms, 23.5.

@intrinsic
def _pair_block(typingctx, acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets,
                bounds, x, assign, count):
    """Add to acc0 (which 1 or 3) and acc1 (which 2 or 3), or set them if `assign`, at elements
    [x, x + min(count, B)), the slices of `pair_table` (bounds, weights0/1, offsets): slice t is
    row lines[slots[t]] from element offsets[t], weighed by weights0/1[taps[t]]. B = FOLD_VECTORS
    lines of the sums' type; each sum starts at 0 and takes its slices in table order."""
    if not _in_blocks(acc0, acc1, lines, slots, taps, weights0, weights1, offsets, bounds):
        return None

    def codegen(context, builder, signature, args):
        acc_type, _, _, lines_type, slots_type, taps_type, weights_type, _, offsets_type, \
            bounds_type = signature.args[:10]
        bits = acc_type.dtype.bitwidth
        lanes = STREAM_LINE * 8 // bits
        vector = ir.VectorType(context.get_data_type(acc_type.dtype), lanes)
        loaded = ir.VectorType(context.get_data_type(lines_type.dtype), lanes)
        fma = _fma(builder, vector, bits)
        acc_rows = [context.make_array(acc_type)(context, builder, a).data for a in args[:2]]
        lines_array = context.make_array(lines_type)(context, builder, args[3])
        stride = cgutils.unpack_tuple(builder, lines_array.shape, 2)[1]

        def data(i, array_type):
            return context.make_array(array_type)(context, builder, args[i]).data

        slots_data, taps_data = data(4, slots_type), data(5, taps_type)
        offsets_data, bounds_data = data(8, offsets_type), data(9, bounds_type)
        weights = data(6, weights_type), data(7, weights_type)
        which, x, assign, count = args[2], args[10], args[11], args[12]

        def emit(masks):  # the block, its loads and stores limited to `masks` where given
            i64 = ir.IntType(64)
            zero = ir.Constant(vector, None)
            sums = [[cgutils.alloca_once_value(builder, zero) for _ in range(FOLD_VECTORS)]
                    for _ in range(2)]

            def to_sums(value):
                if isinstance(lines_type.dtype, types.Float):
                    if lines_type.dtype.bitwidth == bits:
                        return value
                    widen = lines_type.dtype.bitwidth < bits
                    return (builder.fpext if widen else builder.fptrunc)(value, vector)
                if lines_type.dtype.signed:
                    return builder.sitofp(value, vector)
                return builder.uitofp(value, vector)

            def run(kind, rows):
                lo = builder.load(builder.gep(bounds_data, [i64(kind)]))
                hi = builder.load(builder.gep(bounds_data, [i64(kind + 1)]))
                with cgutils.for_range_slice(builder, lo, hi, i64(1)) as (t, _):
                    slot = builder.load(builder.gep(slots_data, [t]))
                    offset = builder.load(builder.gep(offsets_data, [t]))
                    start = builder.add(builder.mul(slot, stride), builder.add(x, offset))
                    values = [to_sums(v) for v in _load_block(
                        builder, _vectors_at(builder, lines_array.data, start, loaded),
                        lines_type.dtype.bitwidth // 8, masks)]
                    tap = builder.load(builder.gep(taps_data, [t]))
                    for row in rows:
                        w = _splat(builder, vector, builder.load(builder.gep(weights[row], [tap])))
                        for value, cell in zip(values, sums[row]):
                            builder.store(builder.call(fma, [w, value, builder.load(cell)]), cell)

            first = builder.icmp_signed("!=", which, which.type(2))
            second = builder.icmp_signed("!=", which, which.type(1))
            with builder.if_else(builder.and_(first, second)) as (both, alone):
                with both:
                    run(0, (0, 1))
                with alone:
                    with builder.if_else(first) as (only_first, only_second):
                        with only_first:
                            run(0, (0,))
                        with only_second:
                            run(0, (1,))
            for kind, flag in ((1, first), (2, second)):
                with builder.if_then(flag):
                    run(kind, (kind - 1,))
            for row, flag in ((0, first), (1, second)):
                with builder.if_then(flag):
                    pointers = _vectors_at(builder, acc_rows[row], x, vector)
                    with builder.if_else(assign) as (set_sums, add_sums):
                        with set_sums:
                            _store_block(builder, [builder.load(cell) for cell in sums[row]],
                                         pointers, bits // 8, masks)
                        with add_sums:
                            old = _load_block(builder, pointers, bits // 8, masks)
                            _store_block(builder, [builder.fadd(o, builder.load(cell))
                                                   for o, cell in zip(old, sums[row])],
                                         pointers, bits // 8, masks)

        _whole_or_part(builder, count, lanes, emit)
    return types.void(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets, bounds,
                      x, types.boolean, types.intp), codegen


@numba.njit(**_JIT)
def _pair_blocks(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets, bounds,
                 assign):
    """`_add_runs` (or set, if `assign`) by `_pair_block`, the last block cut short where the
    row ends inside it."""
    n = acc0.size
    block = FOLD_VECTORS * (STREAM_LINE // acc0.itemsize)
    for x in range(0, n, block):
        _pair_block(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets, bounds, x,
                    assign, n - x)


def _in_blocks(acc0, acc1, lines, slots, taps, weights0, weights1, offsets, bounds):
    """Whether `_pair_block` sums these types: float sums, weights of their type, and arrays
    whose elements lie next to each other (it reads them by address)."""
    arrays = (acc0, acc1, lines, slots, taps, weights0, weights1, offsets, bounds)
    return (isinstance(acc0.dtype, types.Float)
            and acc0.dtype == acc1.dtype == weights0.dtype == weights1.dtype
            and all(a.layout == "C" for a in arrays))


def add_pair_slices(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets, bounds,
                    assign):
    """`_add_runs`, on rows set to 0 first if `assign` (float sums: `_pair_blocks`)."""
    _add_runs(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets, bounds)


@overload(add_pair_slices, jit_options=dict(nogil=True, _nrt=False))
def _add_pair_slices(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets, bounds,
                     assign):
    if _in_blocks(acc0, acc1, lines, slots, taps, weights0, weights1, offsets, bounds):
        def in_blocks(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets, bounds,
                      assign):
            _pair_blocks(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets,
                         bounds, assign)
        return in_blocks

    def in_groups(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets, bounds,
                  assign):
        if assign:
            if which != 2:
                acc0[:] = 0
            if which != 1:
                acc1[:] = 0
        _add_runs(acc0, acc1, which, lines, slots, taps, weights0, weights1, offsets, bounds)
    return in_groups


@numba.njit(**_JIT)
def _sum_3x3(w, x0, x1, x2, x3, x4, x5, x6, x7, x8):
    """The nine products of a 3 x 3 window, always summed in this order (see `_rows_3x3`)."""
    return (((w[0] * x0 + w[1] * x1) + (w[2] * x2 + w[3] * x3))
            + ((w[4] * x4 + w[5] * x5) + (w[6] * x6 + w[7] * x7))) + w[8] * x8


@numba.njit(**_JIT)
def _rows_3x3(acc0, acc1, both, rows, margin_rows, left, right, origin_x, w, step):
    """acc0 = a 3 x 3 kernel over image rows rows[0..2]; and acc1 over rows[1..3] if `both`.

    Each sum stays in registers and each row is read where it lies, not laid out:
    one pass writes each output row once, where `_correlate_pair` reads and writes it
    once per group of taps. rows: four image rows (or rows of the fill) and
    margin_rows their margins (`_margin_row`), which hold every element the
    outputs at either end read (outside [left, right) of a laid-out row). origin_x:
    in elements. w: the nine weights, zeros included, so a zero weight on a NaN or inf
    makes a NaN that the kernel does not weigh: the caller redoes the rows this
    reports (whether each got a NaN; never for integer sums) by the exact path.
    step: elements between neighbouring columns (the channels).
    """
    n = acc0.size
    inside_start = min(left - 2 * step, n)  # the outputs at either end read only the margins
    inside_stop = max(inside_start, min(n, right))
    row0, row1, row2, row3 = rows
    shift = inside_start - origin_x
    bad0, bad1 = _sums_3x3(acc0[inside_start:inside_stop], acc1[inside_start:inside_stop], both,
                           row0[shift:], row1[shift:], row2[shift:], row3[shift:], w, step)
    # the few outputs at either end, one by one (a vectorised loop costs more to set up)
    m0, m1, m2, m3 = margin_rows
    for i in range(n - inside_stop + inside_start):
        x = i if i < inside_start else inside_stop + i - inside_start
        p = x if x < inside_start else left + x - right  # where its reads start in the margins
        q, r = p + step, p + 2 * step
        x3, x4, x5, x6, x7, x8 = m1[p], m1[q], m1[r], m2[p], m2[q], m2[r]
        s = _sum_3x3(w, m0[p], m0[q], m0[r], x3, x4, x5, x6, x7, x8)
        acc0[x] = s
        bad0 |= s != s
        if both:
            t = _sum_3x3(w, x3, x4, x5, x6, x7, x8, m3[p], m3[q], m3[r])
            acc1[x] = t
            bad1 |= t != t
    return bad0, bad1


@numba.njit(**_JIT)
def _sums_3x3(out0, out1, both, l0, l1, l2, l3, w, step):
    """out0 = the 3 x 3 kernel over rows l0..l2 (element i: columns i, i + step, i + 2 step);
    out1 over l1..l3 if `both`. Returns whether each got a NaN (never for integer sums)."""
    n = out0.size
    if step == 1 and both:  # one channel: 0.11 ns a pixel in L1 where twelve slices take 0.17
        return _sums_3x3_adjacent(out0, out1, l0, l1, l2, l3, w)
    a0, a1, a2 = l0[:n], l0[step:step + n], l0[2 * step:2 * step + n]
    b0, b1, b2 = l1[:n], l1[step:step + n], l1[2 * step:2 * step + n]
    c0, c1, c2 = l2[:n], l2[step:step + n], l2[2 * step:2 * step + n]
    nan0 = nan1 = False
    if not both:
        for i in range(n):
            s = _sum_3x3(w, a0[i], a1[i], a2[i], b0[i], b1[i], b2[i], c0[i], c1[i], c2[i])
            out0[i] = s
            nan0 |= s != s
        return nan0, nan1
    d0, d1, d2 = l3[:n], l3[step:step + n], l3[2 * step:2 * step + n]
    for i in range(n):
        x3, x4, x5, x6, x7, x8 = b0[i], b1[i], b2[i], c0[i], c1[i], c2[i]
        s = _sum_3x3(w, a0[i], a1[i], a2[i], x3, x4, x5, x6, x7, x8)
        t = _sum_3x3(w, x3, x4, x5, x6, x7, x8, d0[i], d1[i], d2[i])
        out0[i] = s
        out1[i] = t
        nan0 |= s != s
        nan1 |= t != t
    return nan0, nan1


@numba.njit(**_JIT)
def _sums_3x3_adjacent(out0, out1, l0, l1, l2, l3, w):
    """`_sums_3x3` of both rows for step 1, reading each row at i, i + 1, i + 2: four base
    pointers where slices give LLVM twelve."""
    nan0 = nan1 = False
    for i in range(out0.size):
        x3, x4, x5, x6, x7, x8 = l1[i], l1[i + 1], l1[i + 2], l2[i], l2[i + 1], l2[i + 2]
        s = _sum_3x3(w, l0[i], l0[i + 1], l0[i + 2], x3, x4, x5, x6, x7, x8)
        t = _sum_3x3(w, x3, x4, x5, x6, x7, x8, l3[i], l3[i + 1], l3[i + 2])
        out0[i] = s
        out1[i] = t
        nan0 |= s != s
        nan1 |= t != t
    return nan0, nan1


@numba.njit(**_JIT)
def _line_at(position, src, margins, margin_ends, origin_x, border, fill, lines, owners):
    """The row of `lines` that holds image row `position` through the border, laid out first if needed."""
    height = src.shape[0]
    sy = source_index(position, height, border)
    if owners.size == 0:  # every image row laid out already, the fill last
        return sy if sy >= 0 else height
    slot = position % lines.shape[0]
    if owners[slot] != position:
        line = lines[slot]
        if sy < 0:  # a constant border row: the fill value under every pixel
            for i in range(line.size):
                line[i] = fill
        else:
            _margin_row(margins, src[sy], MARGIN_LAY_OUT)
            _padded_row(line, src[sy], margins[2][MARGIN_LAY_OUT], margin_ends[0], margin_ends[1],
                        origin_x)
        owners[slot] = position
    return slot


@numba.njit(**_JIT)
def lay_out_rows(lines, src, margins, margin_ends, origin_x, fill):
    """Every image row laid out in `lines` as `_line_at` lays out one, and a last row of `fill`."""
    height = src.shape[0]
    for y in range(height):
        _margin_row(margins, src[y], MARGIN_LAY_OUT)
        _padded_row(lines[y], src[y], margins[2][MARGIN_LAY_OUT], margin_ends[0], margin_ends[1],
                    origin_x)
    last = lines[height]
    for i in range(last.size):
        last[i] = fill


@numba.njit(**_JIT)
def _padded_row(line, src_row, margins_row, left, right, origin_x):
    """line = the image row at every position a row of output reads, the border applied.

    Elements [0, left) and [right, end) come from the row's margins
    (`_direct.margin_table`), [left, right) from the image row itself, converted
    once here to the line's type instead of once per tap. origin_x: in elements.
    """
    for i in range(left):
        line[i] = margins_row[i]
    inside = line[left:right]
    image = src_row[left - origin_x:right - origin_x]
    for i in range(inside.size):
        inside[i] = image[i]
    outside = line[right:]
    for i in range(outside.size):
        outside[i] = margins_row[left + i]


# --- box kernels: running sums down columns, doubling sums along rows ----------------
# Column sums run in float64 for float images: adding and subtracting down a 16k
# column drifts by ~1e-12 of the window sum, far inside the accuracy contract.
# A NaN or inf would stay in a running sum for good, so callers use these only on
# finite data (all_finite).

@numba.njit(**_JIT)
def all_finite(values):
    """True when no element of the 2-D array `values` is NaN or inf."""
    for y in range(values.shape[0]):
        row = values[y]
        for x in range(row.size):
            if not np.isfinite(row[x]):
                return False
    return True


@numba.njit(**_JIT)
def box_band(src, channels, size_x, size_y, origin_x, origin_y, border, fill, weight, out, lines,
             base, terms, window, y_start, y_stop, store, saturation):
    """Rows y_start..y_stop of ``out = weight * (window sums of size_y x size_x)``.

    Down the columns, the sums of size_y image rows run along the band: add the row
    entering the window, subtract the one leaving (vectorised along the row). Along
    a row of those column sums, a window of size_x is put together from sums of 1,
    4, 16, 64, ... neighbours, each four of one level giving the next: a few
    vectorised passes where a running sum along the row would be one long chain of
    dependent additions (see `_window_chunk`).

    lines: (levels + 1, n) of the sums' type; row 0 holds the column sums of every
    position p a window reads, at ``(p + base) * channels``; the other rows are the
    levels' scratch. terms: int64 (2, 3 * (levels + 1)) scratch; window: scratch of
    WINDOW_CHUNK. The sums' type is int32 or int64 for integer images, whose sums
    are then exact (`fill` of that type too), else float64. For integer outputs
    `saturation`'s scale must be `weight`. Returns the NaN count of `_store_row`.
    """
    height = src.shape[0]
    width = src.shape[1] // channels
    line = lines[0]
    columns = line[base * channels:(base + width) * channels]
    columns[:] = 0
    for i in range(size_y):
        _add_image_row(columns, src, y_start + i - origin_y, height, border, fill, False)
    n_nan = 0
    start = (base - origin_x) * channels
    for y in range(y_start, y_stop):
        if y > y_start:
            _slide_columns(columns, src, y - 1 - origin_y + size_y, y - 1 - origin_y, height,
                           border, fill)
        _extend_line(line, base, width, channels, border, fill * size_y)
        target = out[y]
        for i0 in range(0, target.size, WINDOW_CHUNK):  # chunks that stay in L1
            i1 = min(i0 + WINDOW_CHUNK, target.size)
            chunk = window[:i1 - i0]
            if size_x <= WINDOW_BLOCKS_MAX:
                _window_blocks(chunk, line, start + i0, size_x, channels)
            else:
                _window_chunk(lines, start + i0, size_x, channels, terms, chunk)
            n_nan += _store_scaled(chunk, target[i0:i1], store, saturation, weight)
    return n_nan


@numba.njit(**_JIT)
def box_band_by_rows(src, channels, size_x, size_y, origin_x, origin_y, border, fill, weight, out,
                     lines, base, terms, ring, sums, staged, y_start, y_stop, store, saturation):
    """`box_band` for float images, rows first: window sums along each image row, then down.

    Each image row that enters the window gets its sums of size_x neighbours
    (`_row_window_sums`: read where it lies, its ends laid out in `lines`), in the
    type of `lines` (float32 for float32 results: twice the SIMD lanes of
    float64, within the float32 contract). Those row sums wait in `ring` until
    they leave the window; `sums` (float64) holds the sums of the size_y row sums
    in the window, one add and one subtract per output row, two output rows a pass
    where the store allows (`_slide_pair`).

    ring: (size_y + 2, out.shape[1]) of the lines' type, image row p's sums in ring
    row (p - the first's) % (size_y + 2): the window's rows and two entering.
    sums: float64 (out.shape[1],). staged: (2, out.shape[1]) of out's type where
    STORE_STREAM puts output rows before it streams them (else empty). Other
    arguments as for `box_band`. Returns the NaN count of `_store_row`.
    """
    start = (base - origin_x) * channels
    first = y_start - origin_y  # the image row at the top of the first output's window
    count = size_y + 2
    sums[:] = 0
    for i in range(size_y):
        row_sums = ring[i]
        _row_window_sums(src, first + i, channels, size_x, border, fill, lines, base, start, terms,
                         row_sums)
        for x in range(sums.size):
            sums[x] += row_sums[x]
    n_nan = _store_scaled(sums, out[y_start], store, saturation, weight)
    paired = store == STORE_COPY or store == STORE_STREAM
    y = y_start + 1
    while y < y_stop:
        leaving = y - 1 - origin_y - first  # the window's top row before output y
        rows = 2 if paired and y + 1 < y_stop else 1
        for i in range(rows):
            _row_window_sums(src, first + leaving + size_y + i, channels, size_x, border, fill,
                             lines, base, start, terms, ring[(leaving + size_y + i) % count])
        entering, old = ring[(leaving + size_y) % count], ring[leaving % count]
        if rows == 2:
            _slide_pair(sums, entering, old, ring[(leaving + size_y + 1) % count],
                        ring[(leaving + 1) % count], out[y], out[y + 1], staged, store, weight)
        else:
            for x in range(sums.size):
                sums[x] = (sums[x] + entering[x]) - old[x]
            n_nan += _store_scaled(sums, out[y], store, saturation, weight)
        y += rows
    end_stores(store)
    return n_nan


@numba.njit(**_JIT)
def _slide_pair(sums, entering0, old0, entering1, old1, target0, target1, staged, store, weight):
    """Move the running `sums` down two rows, storing weight * sums after each into `target0`
    and `target1` by STORE_COPY, or by STORE_STREAM through `staged`: `sums` is read and
    written once for two rows (a prototype of this loop, a 21 x 21 box on 4096 x 1024
    float32, one thread: 3.7 ms, 4.2 a row at a time)."""
    streams = store == STORE_STREAM
    first, second = (staged[0], staged[1]) if streams else (target0, target1)
    for x in range(sums.size):
        s = (sums[x] + entering0[x]) - old0[x]
        first[x] = weight * s
        s = (s + entering1[x]) - old1[x]
        second[x] = weight * s
        sums[x] = s
    if streams:
        stream_row(first, target0)
        stream_row(second, target1)


@numba.njit(**_JIT)
def box_band_straight(src, channels, size_x, size_y, origin_x, origin_y, border, fill, weight, out,
                      lines, base, terms, ring, owners, slots, acc, direct, y_start, y_stop,
                      store, saturation):
    """`box_band_by_rows` with every window's column summed straight from the ring, two output
    rows at a time (`_column_sums`), where it keeps a running sum down the columns.

    No sum is ever subtracted from, so NaN and inf reach exactly the windows that hold
    them, as in the reference, and nothing drifts. ring: (size_y + 1, out.shape[1]) of
    the lines' type, image row p's window sums in row p % (size_y + 1); owners: int64
    (size_y + 1,) scratch, the position each ring row holds; slots: int64 (size_y + 1,)
    scratch; acc: (2, out.shape[1]) of the lines' type. direct: `out` itself, where it is
    C-contiguous, of the lines' type, stored by STORE_COPY or STORE_STREAM and, for the
    latter, its rows a whole number of STREAM_LINE apart: the sums are stored there
    straight from the registers; else an empty array (`acc`, then `_store_row`). Rows go
    in pairs (even, odd) whatever the bands, and a row sums alike alone and in its pair.
    Other arguments as for `box_band`. Returns the NaN count of `_store_row`.
    """
    start = (base - origin_x) * channels
    count = size_y + 1
    owners[:] = -(1 << 62)  # no position yet
    # integer outputs apply the weight in their saturating store (see box_band)
    scale = weight if store == STORE_COPY or store == STORE_STREAM or store == STORE_ADD else 1.0
    n_nan = 0
    for y in range(y_start - (y_start & 1), y_stop, 2):
        which = (1 if y >= y_start else 0) + (2 if y + 1 < y_stop else 0)
        top = y - origin_y
        entering = 0  # rows to sum, if only the two at the bottom: bit 1 and bit 2
        for i in range(count):
            p = top + i
            slot = p % count
            slots[i] = slot
            if _is_read(i, which, size_y) and owners[slot] != p:
                entering |= 1 if i == size_y - 1 else 2 if i == size_y else 4
        straight = direct.shape[0] > 0  # into the rows of `out`, else through `acc`
        row0 = direct[y] if straight and which & 1 else acc[0]
        row1 = direct[y + 1] if straight and which & 2 else acc[1]
        streams = straight and store == STORE_STREAM
        if entering == 3 and _fuses(src, top + size_y - 1, size_x, border, lines):
            # the usual pair: the two entering rows and the sums down, a block at a time
            _pair_of_rows_then_columns(src, top + size_y - 1, channels, size_x, border, fill,
                                       lines, base, start, ring, slots, row0, row1, which,
                                       acc.dtype.type(scale), streams)
            owners[slots[size_y - 1]], owners[slots[size_y]] = top + size_y - 1, top + size_y
        else:
            for i in range(count):
                p = top + i
                if _is_read(i, which, size_y) and owners[slots[i]] != p:
                    _row_window_sums(src, p, channels, size_x, border, fill, lines, base, start,
                                     terms, ring[slots[i]])
                    owners[slots[i]] = p
            _column_sums(row0, row1, which, ring, slots, acc.dtype.type(scale), streams)
        if straight:
            continue
        if which & 1:
            n_nan += _store_row(acc[0], out[y], store, saturation)
        if which & 2:
            n_nan += _store_row(acc[1], out[y + 1], store, saturation)
    end_stores(store)
    return n_nan


@numba.njit(**_JIT)
def _is_read(i, which, size_y):
    """Whether a pair of output rows (`which`: bit 1 the first, bit 2 the second) reads window
    row i of size_y + 1: the top one only for the first, the bottom one only for the second."""
    return (i > 0 or which & 1) and (i < size_y or which & 2)


# The columns of a small box are summed straight from the ring of row sums, a block
# of vectors at a time with the sums in registers, where `box_band_by_rows` keeps a
# float64 running sum of every column: its rows are loaded once for two output rows
# (size_y + 1 loads for two), and float32 rows keep their SIMD lanes.

@intrinsic
def _column_block(typingctx, acc0, acc1, which, ring, slots, scale, x, stream, count):
    """With ``s = ring[slots[1]] + ... + ring[slots[h - 1]]`` (h = slots.size - 1, in that
    order), ``acc0 = scale * (s + ring[slots[0]])`` (which 1 or 3) and ``acc1 = scale * (s +
    ring[slots[h]])`` (which 2 or 3) at elements [x, x + min(count, B)), B = FOLD_VECTORS lines
    of the ring's float type (acc0, acc1 too); a whole block by non-temporal stores if `stream`
    (acc0 + x and acc1 + x aligned to STREAM_LINE)."""
    arrays = (acc0, acc1, ring, slots)
    if not (isinstance(ring.dtype, types.Float) and acc0.dtype == acc1.dtype == ring.dtype
            and all(a.layout == "C" for a in arrays)):
        return None

    def codegen(context, builder, signature, args):
        acc_type, _, _, ring_type, slots_type = signature.args[:5]
        i64 = ir.IntType(64)
        align = ring_type.dtype.bitwidth // 8
        vector = ir.VectorType(context.get_data_type(ring_type.dtype), STREAM_LINE // align)
        ring_array = context.make_array(ring_type)(context, builder, args[3])
        stride = cgutils.unpack_tuple(builder, ring_array.shape, 2)[1]
        slots_array = context.make_array(slots_type)(context, builder, args[4])
        h = builder.sub(cgutils.unpack_tuple(builder, slots_array.shape, 1)[0], i64(1))
        which, x, stream, count = args[2], args[6], args[7], args[8]

        def emit(masks):
            def row(i):
                slot = builder.load(builder.gep(slots_array.data, [i]))
                start = builder.add(builder.mul(slot, stride), x)
                return _load_block(builder, _vectors_at(builder, ring_array.data, start, vector),
                                   align, masks)

            first, last = row(i64(0)), row(h)
            sums = [cgutils.alloca_once_value(builder, v) for v in row(i64(1))]
            with cgutils.for_range_slice(builder, i64(2), h, i64(1)) as (i, _):
                for cell, value in zip(sums, row(i)):
                    builder.store(builder.fadd(builder.load(cell), value), cell)
            scale = _splat(builder, vector, args[5])
            one = builder.icmp_signed("==", h, i64(1))  # then s has no term: each row alone
            nontemporal = builder.module.add_metadata([ir.IntType(32)(1)])
            for bit, acc, ends in ((1, args[0], first), (2, args[1], last)):
                wanted = builder.icmp_signed("!=", builder.and_(which, which.type(bit)),
                                             which.type(0))
                with builder.if_then(wanted):
                    data = context.make_array(acc_type)(context, builder, acc).data
                    pointers = _vectors_at(builder, data, x, vector)
                    totals = [builder.select(one, end, builder.fadd(builder.load(cell), end))
                              for cell, end in zip(sums, ends)]
                    values = [builder.fmul(scale, total) for total in totals]
                    if masks is not None:  # a block cut short: plain stores
                        _store_block(builder, values, pointers, align, masks)
                        continue
                    with builder.if_else(stream) as (streamed, cached):
                        with streamed:
                            for pointer, value in zip(pointers, values):
                                builder.store(value, pointer, align=STREAM_LINE).set_metadata(
                                    "nontemporal", nontemporal)
                        with cached:
                            _store_block(builder, values, pointers, align, None)

        _whole_or_part(builder, count, vector.count, emit)
    return types.void(acc0, acc1, which, ring, slots, scale, x, stream, types.intp), codegen


@numba.njit(**_JIT)
def _column_sums(acc0, acc1, which, ring, slots, scale, stream):
    """`_column_block` along whole rows, the last block cut short where the row ends inside it
    (by plain stores); streamed rows that start off a cache line, from their first line on
    (`_stream_head`)."""
    n = acc0.size
    block = FOLD_VECTORS * (STREAM_LINE // acc0.itemsize)
    head = _stream_head(acc0, acc1, which, stream)
    if head:
        _column_block(acc0, acc1, which, ring, slots, scale, 0, stream, head)
    for x in range(head, n, block):
        _column_block(acc0, acc1, which, ring, slots, scale, x, stream, n - x)


@numba.njit(**_JIT)
def _stream_head(acc0, acc1, which, stream):
    """The elements before the first cache line of the rows `which` asks for, where they stream
    (rows at one offset in a line: a stride of whole lines), else 0: those go by plain stores,
    the rest by whole blocks from that line on."""
    if not stream:
        return 0
    address = acc0.ctypes.data if which & 1 else acc1.ctypes.data
    return min(acc0.size, (-address % STREAM_LINE) // acc0.itemsize)


@numba.njit(**_JIT)
def _row_window_sums(src, position, channels, size, border, fill, lines, base, start, terms, target):
    """target[i] = the sum of `size` neighbours (one channel) from element i of the image row
    at `position` with its border, laid out in row 0 of `lines` (column p at (p + base) *
    channels) where it is read there: up to WINDOW_QUADS_MAX wide, only its ends."""
    line = lines[0]
    sy = source_index(position, src.shape[0], border)
    if sy >= 0 and size <= WINDOW_BLOCKS_MAX:
        _image_row_window_sums(src[sy], channels, size, border, fill, line, base, start, target)
        return
    if sy >= 0 and size <= WINDOW_QUADS_MAX:
        _image_row_window_by_quads(src[sy], channels, size, border, fill, lines, base, start,
                                   target)
        return
    if sy < 0:  # a constant border row
        for i in range(line.size):
            line[i] = fill
    else:
        row = src[sy]
        width = row.size // channels
        inside = line[base * channels:(base + width) * channels]
        for i in range(inside.size):
            inside[i] = row[i]
        _extend_line(line, base, width, channels, border, fill)
    if size <= WINDOW_BLOCKS_MAX:
        _window_blocks(target, line, start, size, channels)
        return
    if size <= WINDOW_QUADS_MAX:
        _window_by_quads(lines, start, size, channels, target)
        return
    for i0 in range(0, target.size, WINDOW_CHUNK):  # chunks whose levels stay in L1
        i1 = min(i0 + WINDOW_CHUNK, target.size)
        _window_chunk(lines, start + i0, size, channels, terms, target[i0:i1])


@numba.njit(**_JIT)
def _window_by_quads(lines, start, size, channels, window):
    """`_window_chunk` for a whole row as sums of 4 neighbours (in row 1 of `lines`), size // 4
    of those 4 apart and the size % 4 left over, summed in registers (`_quads_block`): a
    pass through memory less than the levels. A 4096 float32 row, one thread: 9 wide 0.31 ns
    a pixel against 0.35, 21 wide 0.41 against 0.48, 31 wide 0.58 against 0.68. Box at
    4096^2 float32 into out=, two threads: 9 x 9 1.14x, 11 x 11 1.09x, 15 x 15 1.03x,
    21 x 21 1.01x, 31 x 31 1.05x as fast. Wider, the loads in registers grow with the
    width, the levels' passes with its logarithm."""
    n = window.size
    sums_of_4 = lines[1, :n + (size - 4) * channels]
    _window_blocks(sums_of_4, lines[0], start, 4, channels)
    block = FOLD_VECTORS * (STREAM_LINE // window.itemsize)
    for x in range(0, n, block):
        _quads_block(window, lines[1], lines[0], start, size, channels, x, n - x)


@numba.njit(**_JIT)
def _image_row_window_by_quads(row, channels, size, border, fill, lines, base, start, target):
    """`_window_by_quads` of an image row, read where it is as in `_image_row_window_sums`: the
    sums of 4, and the values left after a window's sums of 4 (21 wide, 4096-wide float32
    rows, one thread: 1.63-1.69 us a row, 1.80-1.93 with every row laid out)."""
    n, line = target.size, lines[0]
    sums_of_4 = lines[1, :n + (size - 4) * channels]
    # laid out where a window of `size` reaches outside the row: so does one of 4 there
    x0, x1 = _lay_out_row_ends(row, channels, size, border, fill, line, base, start, target)
    x0 = min(x0, x1)  # x1 < x0: no whole block inside the row, and all of it laid out
    shift = start - base * channels  # target[i]'s window starts at row[i + shift]
    block = FOLD_VECTORS * (STREAM_LINE // target.itemsize)
    # one loop for the whole blocks inside the row, none of them cut short: no test per
    # block (1.63-1.69 us a row as above, 1.76-1.98 with a test per block)
    for x in range(0, x0, block):
        _window_block(sums_of_4, line, start, 4, channels, x, block)
    for x in range(x0, x1, block):
        _window_block(sums_of_4, row, shift, 4, channels, x, block)
    for x in range(x1, sums_of_4.size, block):
        _window_block(sums_of_4, line, start, 4, channels, x, sums_of_4.size - x)
    for x in range(0, x0, block):
        _quads_block(target, sums_of_4, line, start, size, channels, x, block)
    for x in range(x0, x1, block):
        _quads_block(target, sums_of_4, row, shift, size, channels, x, block)
    for x in range(x1, n, block):
        _quads_block(target, sums_of_4, line, start, size, channels, x, n - x)


@numba.njit(**_JIT)
def _image_row_window_sums(row, channels, size, border, fill, line, base, start, target):
    """`_row_window_sums` of an image row by `_window_block`s: those whose windows lie inside
    the row read it where it is; the others, and the elements after the last whole block,
    read `line`, laid out only where they read it (a 7 x 7 box, 4096^2 float32, two threads:
    7.9-9.0 ms with every row laid out, 7.2 so)."""
    x0, x1 = _lay_out_row_ends(row, channels, size, border, fill, line, base, start, target)
    shift = start - base * channels  # target[i]'s window starts at row[i + shift]
    block = FOLD_VECTORS * (STREAM_LINE // target.itemsize)
    _window_blocks(target[:x0], line, start, size, channels)
    for x in range(x0, x1, block):
        _window_block(target, row, shift, size, channels, x, block)
    _window_blocks(target[x1:], line, start + x1, size, channels)


@numba.njit(**_JIT)
def _lay_out_row_ends(row, channels, size, border, fill, line, base, start, target):
    """Lay out in `line` the ends of the image `row` that `_window_block`s of `target` read there,
    and return (x0, x1): the whole blocks in [x0, x1) read `row` itself (at start - base *
    channels), the elements before and after read `line` (at start)."""
    n, width = target.size, row.size // channels
    block = FOLD_VECTORS * (STREAM_LINE // target.itemsize)
    blocks_end = n - n % block
    shift = start - base * channels  # target[i]'s window starts at row[i + shift]
    reach = block + (size - 1) * channels  # elements a block's windows read
    x0 = (max(0, -shift) + block - 1) // block * block
    x1 = min(blocks_end, max(x0, (row.size - reach - shift) // block * block + block))
    inside = base * channels
    for q in range(inside, min(start + x0 + (size - 1) * channels, inside + row.size)):
        line[q] = row[q - inside]
    for q in range(max(start + x1, inside), inside + row.size):
        line[q] = row[q - inside]
    for j in range(base):
        _margin_at(line, j, row, base, width, channels, border, fill)
    for j in range(base + width, line.size // channels):
        _margin_at(line, j, row, base, width, channels, border, fill)
    return x0, x1


@numba.njit(**_JIT)
def _fuses(src, position, size, border, lines):
    """Whether `_pair_of_rows_then_columns` takes the image rows at `position` and the next: both
    read from the image (not a constant border), windows summed straight, two lines to lay out."""
    height = src.shape[0]
    return (size <= WINDOW_BLOCKS_MAX and lines.shape[0] >= 2
            and source_index(position, height, border) >= 0
            and source_index(position + 1, height, border) >= 0)


@numba.njit(**_JIT)
def _pair_of_rows_then_columns(src, position, channels, size, border, fill, lines, base, start,
                               ring, slots, acc0, acc1, which, scale, stream):
    """`_row_window_sums` of the image rows at `position` and `position` + 1 into ring rows
    slots[h - 1] and slots[h] (h = slots.size - 1), then `_column_sums`, a block at a time:
    the same sums as those two in turn, with the image read and the output written in one
    pass (a 7 x 7 box, 4096^2 float32, two threads, median of 41: 6.06 ms, 6.67 in turn; 5 x
    5: 4.76, 5.63). Only where `_fuses`."""
    height, h = src.shape[0], slots.size - 1
    row_a = src[source_index(position, height, border)]
    row_b = src[source_index(position + 1, height, border)]
    line_a, line_b = lines[0], lines[1]
    target_a, target_b = ring[slots[h - 1]], ring[slots[h]]
    x0, x1 = _lay_out_row_ends(row_a, channels, size, border, fill, line_a, base, start, target_a)
    _lay_out_row_ends(row_b, channels, size, border, fill, line_b, base, start, target_b)
    shift = start - base * channels
    n = acc0.size
    block = FOLD_VECTORS * (STREAM_LINE // acc0.itemsize)
    head = _stream_head(acc0, acc1, which, stream)
    for x in range(0, n, block):
        if x0 <= x < x1:
            _window_block(target_a, row_a, shift, size, channels, x, block)
            _window_block(target_b, row_b, shift, size, channels, x, block)
        else:
            _window_block(target_a, line_a, start, size, channels, x, n - x)
            _window_block(target_b, line_b, start, size, channels, x, n - x)
        if head == 0:
            _column_block(acc0, acc1, which, ring, slots, scale, x, stream, n - x)
        else:  # the columns up to x + head, whose row sums are all in: a block from a line on
            c = max(x - block + head, 0)
            _column_block(acc0, acc1, which, ring, slots, scale, c, stream, min(x + head, n) - c)
    last = (n - 1) // block * block + head  # where the columns after the last block start
    if head and last < n:
        _column_block(acc0, acc1, which, ring, slots, scale, last, stream, n - last)


@numba.njit(**_JIT)
def _margin_at(line, j, row, base, width, channels, border, fill):
    """Position j of `line` outside the image row, through the border (`_extend_at` from `row`)."""
    sx = source_index(j - base, width, border)
    for c in range(channels):
        line[j * channels + c] = fill if sx < 0 else row[sx * channels + c]


@numba.njit(**_JIT)
def _add_image_row(columns, src, position, height, border, fill, subtract):
    """columns += (or -= if `subtract`) the image row at `position`, through the border."""
    sy = source_index(position, height, border)
    if sy < 0:
        value = -fill if subtract else fill
        for i in range(columns.size):
            columns[i] += value
    elif subtract:
        row = src[sy]
        for i in range(columns.size):
            columns[i] -= row[i]
    else:
        row = src[sy]
        for i in range(columns.size):
            columns[i] += row[i]


@numba.njit(**_JIT)
def _slide_columns(columns, src, entering, leaving, height, border, fill):
    """Move the column sums one row down: add the row at `entering`, subtract the one at `leaving`."""
    sy_in, sy_out = source_index(entering, height, border), source_index(leaving, height, border)
    if sy_in < 0 or sy_out < 0:
        _add_image_row(columns, src, entering, height, border, fill, False)
        _add_image_row(columns, src, leaving, height, border, fill, True)
        return
    add, remove = src[sy_in], src[sy_out]
    for i in range(columns.size):  # one fused pass
        columns[i] = (columns[i] + add[i]) - remove[i]


@numba.njit(**_JIT)
def _extend_line(line, base, width, channels, border, fill_sum):
    """Set the positions of `line` outside [0, width) from those inside (column sums, or an image
    row), through the border; `fill_sum` where a constant border reads outside."""
    for j in range(base):
        _extend_at(line, j, base, width, channels, border, fill_sum)
    for j in range(base + width, line.size // channels):
        _extend_at(line, j, base, width, channels, border, fill_sum)


@numba.njit(**_JIT)
def _extend_at(line, j, base, width, channels, border, fill_sum):
    sx = source_index(j - base, width, border)
    for c in range(channels):
        line[j * channels + c] = fill_sum if sx < 0 else line[(sx + base) * channels + c]


# A window of up to WINDOW_BLOCKS_MAX is summed straight from the laid-out row, a
# block of vectors at a time with its sums held in registers: one load and one add a
# tap, where the levels of `_window_chunk` make passes through memory (a 4096 float32
# row, one thread: window and layout 0.74 ns a pixel by levels, 0.44 by blocks, for 7
# wide; wider windows gain nothing). Two sums a vector (even and odd taps) keep two
# additions in flight.

def _sums_into(target, line):
    """Whether `line`'s values can be summed into `target` by `_emit_window_block`: one type,
    or a float line no wider than the float target (each value widened first)."""
    widens = (isinstance(target.dtype, types.Float) and isinstance(line.dtype, types.Float)
              and line.dtype.bitwidth < target.dtype.bitwidth)
    return (target.dtype == line.dtype or widens) and target.layout == "C" and line.layout == "C"


def _emit_window_block(context, builder, target_type, target, groups, x, count):
    """Store at element x of `target` (data of `target_type`) the sums of a block of FOLD_VECTORS
    vectors (the first `count` elements, if fewer): each group (line type, line data, first
    element, taps, step) adds `taps` loads `step` elements apart, from its first element on."""
    i64 = ir.IntType(64)
    add = builder.fadd if isinstance(target_type.dtype, types.Float) else builder.add
    align = target_type.dtype.bitwidth // 8
    lanes = STREAM_LINE * 8 // target_type.dtype.bitwidth
    vector = ir.VectorType(context.get_data_type(target_type.dtype), lanes)

    def emit(masks):
        zero = ir.Constant(vector, None)
        even = [cgutils.alloca_once_value(builder, zero) for _ in range(FOLD_VECTORS)]
        odd = [cgutils.alloca_once_value(builder, zero) for _ in range(FOLD_VECTORS)]
        for line_type, line, first, taps, step in groups:
            loaded = ir.VectorType(context.get_data_type(line_type.dtype), lanes)
            widens = line_type.dtype != target_type.dtype

            def add_tap(j, cells):
                offset = builder.add(first, builder.mul(j, step))
                values = _load_block(builder, _vectors_at(builder, line, offset, loaded),
                                     line_type.dtype.bitwidth // 8, masks)
                for cell, value in zip(cells, values):
                    if widens:
                        value = builder.fpext(value, vector)
                    builder.store(add(builder.load(cell), value), cell)

            with cgutils.for_range(builder, builder.sdiv(taps, i64(2))) as loop:
                j = builder.mul(loop.index, i64(2))
                add_tap(j, even)
                add_tap(builder.add(j, i64(1)), odd)
            with builder.if_then(builder.trunc(taps, ir.IntType(1))):
                add_tap(builder.sub(taps, i64(1)), even)
        _store_block(builder, [add(builder.load(e), builder.load(o)) for e, o in zip(even, odd)],
                     _vectors_at(builder, target, x, vector), align, masks)

    _whole_or_part(builder, count, lanes, emit)


def _data(context, builder, array_type, array):
    return context.make_array(array_type)(context, builder, array).data


@intrinsic
def _window_block(typingctx, target, line, start, size, channels, x, count):
    """``target[x + i] = sum(line[start + x + i + j * channels] for j < size)`` for i in
    [0, min(count, B)), B = FOLD_VECTORS lines of the target's type (target and line of one
    type, or a float line no wider than the float target: each value widened first)."""
    if not _sums_into(target, line):
        return None

    def codegen(context, builder, signature, args):
        target_type, line_type = signature.args[:2]
        start, size, channels, x, count = args[2:]
        group = (line_type, _data(context, builder, line_type, args[1]), builder.add(start, x),
                 size, channels)
        _emit_window_block(context, builder, target_type,
                           _data(context, builder, target_type, args[0]), [group], x, count)
    return types.void(target, line, start, size, channels, x, types.intp), codegen


@intrinsic
def _quads_block(typingctx, target, quads, line, start, size, channels, x, count):
    """`_window_block` of `line` put together from `quads`, its sums of 4 neighbours from
    `start` on (quads[i] = line[start + i] + ... + line[start + i + 3 * channels]): the size // 4
    sums of 4 that a window holds, 4 * channels apart, and the size % 4 values of `line` left
    after them, all summed in registers (a 21-wide window on a 4096-wide float32 row, one
    thread: 0.375 ns a pixel, 0.44 with the values left over added in a pass of their own)."""
    if not (_sums_into(target, quads) and _sums_into(target, line)):
        return None

    def codegen(context, builder, signature, args):
        target_type, quads_type, line_type = signature.args[:3]
        start, size, channels, x, count = args[3:]
        whole = builder.ashr(size, size.type(2))
        step = builder.mul(channels, channels.type(4))
        rest_first = builder.add(builder.add(start, x), builder.mul(whole, step))
        groups = [(quads_type, _data(context, builder, quads_type, args[1]), x, whole, step),
                  (line_type, _data(context, builder, line_type, args[2]), rest_first,
                   builder.and_(size, size.type(3)), channels)]
        _emit_window_block(context, builder, target_type,
                           _data(context, builder, target_type, args[0]), groups, x, count)
    return types.void(target, quads, line, start, size, channels, x, types.intp), codegen


@numba.njit(**_JIT)
def _window_blocks(target, line, start, size, channels):
    """``target[i] = sum(line[start + i + j * channels] for j < size)`` by `_window_block`, the
    last block cut short where the row ends inside it."""
    n = target.size
    block = FOLD_VECTORS * (STREAM_LINE // target.itemsize)
    for x in range(0, n, block):
        _window_block(target, line, start, size, channels, x, n - x)


@numba.njit(**_JIT)
def _window_chunk(lines, start, size, channels, terms, window):
    """``window[i] = sum(lines[0, start + i + j * channels] for j < size)``.

    Level l (row l of `lines`, l > 0, from index 0) holds sums of 4**l neighbours from
    each position on, four of level l - 1 each. A window is the spans of size's
    base-4 digits laid end to end: 21 = 16 + 4 + 1 is three reads of three levels.
    """
    n = window.size
    level, offset, span, done, n_terms = 0, start, 1, 0, 0
    digits = size
    while True:
        for _ in range(digits & 3):
            terms[0, n_terms] = level
            terms[1, n_terms] = offset + done * channels
            n_terms += 1
            done += span
        digits >>= 2
        if digits == 0:
            break
        # the next level, for every position a window still reads
        needed, step = n + (size - 4 * span) * channels, span * channels
        row, following = lines[level], lines[level + 1, :needed]
        c0, c1 = row[offset:offset + needed], row[offset + step:offset + step + needed]
        c2 = row[offset + 2 * step:offset + 2 * step + needed]
        c3 = row[offset + 3 * step:offset + 3 * step + needed]
        for i in range(needed):  # slices, not offset indices: no index can be negative
            following[i] = (c0[i] + c1[i]) + (c2[i] + c3[i])
        level, offset, span = level + 1, 0, 4 * span
    for g in range(0, n_terms, 4):
        _add_terms(window, lines, terms, g, min(4, n_terms - g), g == 0)


@numba.njit(**_JIT)
def _add_terms(window, lines, terms, g, count, first):
    """window (= if `first`, else +=) the sum of terms g..g+count (level, offset), count <= 4."""
    n = window.size
    s0 = lines[terms[0, g], terms[1, g]:terms[1, g] + n]
    if count == 1:
        if first:
            for i in range(n):
                window[i] = s0[i]
        else:
            for i in range(n):
                window[i] += s0[i]
        return
    s1 = lines[terms[0, g + 1], terms[1, g + 1]:terms[1, g + 1] + n]
    if count == 2:
        if first:
            for i in range(n):
                window[i] = s0[i] + s1[i]
        else:
            for i in range(n):
                window[i] += s0[i] + s1[i]
        return
    s2 = lines[terms[0, g + 2], terms[1, g + 2]:terms[1, g + 2] + n]
    if count == 3:
        if first:
            for i in range(n):
                window[i] = (s0[i] + s1[i]) + s2[i]
        else:
            for i in range(n):
                window[i] += (s0[i] + s1[i]) + s2[i]
        return
    s3 = lines[terms[0, g + 3], terms[1, g + 3]:terms[1, g + 3] + n]
    if first:
        for i in range(n):
            window[i] = (s0[i] + s1[i]) + (s2[i] + s3[i])
    else:
        for i in range(n):
            window[i] += (s0[i] + s1[i]) + (s2[i] + s3[i])


@numba.njit(**_JIT)
def _store_scaled(window, out_row, store, saturation, weight):
    """`_store_row` of weight * window; integer outputs apply `weight` as the store's scale.
    STORE_STREAM stores plainly here (`box_band_by_rows` streams its rows itself)."""
    if store == STORE_COPY or store == STORE_STREAM:
        for i in range(window.size):
            out_row[i] = weight * window[i]
        return 0
    if store == STORE_ADD:
        for i in range(window.size):
            out_row[i] += weight * window[i]
        return 0
    return _store_row(window, out_row, store, saturation)


# --- separable: a row pass into a ring of rows, a column pass out of it ---------------

@numba.njit(**_JIT)
def _folded_row_pass(target, line, weights, offsets):
    """`_row_pass` of a mirrored row (weights[t] == weights[-1 - t] at mirrored offsets): each
    pair of taps as one product, w * (a + b), four pairs per pass; the middle tap first.

    Half the multiplies; only for rows laid out from integer pixels, whose a + b is exact
    and cannot overflow where w * a + w * b would not.
    """
    k, n = weights.size, target.size
    half = k // 2
    if k % 2:
        middle = line[offsets[half]:offsets[half] + n]
        w = weights[half]
        for i in range(n):
            target[i] = w * middle[i]
    else:
        target[:] = 0
    for p in range(half - 1, -1, -FUSED_TAPS):  # pairs (p, k-1-p), innermost first
        if p < FUSED_TAPS - 1:  # fewer than a group's pairs left: one pass each
            for q in range(p, -1, -1):
                a = line[offsets[q]:offsets[q] + n]
                b = line[offsets[k - 1 - q]:offsets[k - 1 - q] + n]
                w = weights[q]
                for i in range(n):
                    target[i] += w * (a[i] + b[i])
            return
        a0, b0 = line[offsets[p]:offsets[p] + n], line[offsets[k - 1 - p]:offsets[k - 1 - p] + n]
        a1, b1 = line[offsets[p - 1]:offsets[p - 1] + n], line[offsets[k - p]:offsets[k - p] + n]
        a2, b2 = line[offsets[p - 2]:offsets[p - 2] + n], line[offsets[k + 1 - p]:offsets[k + 1 - p] + n]
        a3, b3 = line[offsets[p - 3]:offsets[p - 3] + n], line[offsets[k + 2 - p]:offsets[k + 2 - p] + n]
        w0, w1, w2, w3 = weights[p], weights[p - 1], weights[p - 2], weights[p - 3]
        for i in range(n):
            target[i] += (w0 * (a0[i] + b0[i]) + w1 * (a1[i] + b1[i])) + (
                w2 * (a2[i] + b2[i]) + w3 * (a3[i] + b3[i]))


# The column pass of a mirrored column holds its sums in registers: a block of
# FOLD_VECTORS vectors of two output rows takes every ring row of its window in
# turn, pair by pair, and touches the accumulator rows once. numba cannot keep a
# loop over taps inside a vectorised loop over x, so `_folded_column_block` writes
# the vector code itself. Its window reads one column block from 2h + 2 ring rows:
# ring rows an odd number of cache lines apart (`_separable.ring_width`) fall in
# different L1 sets, where rows 16 KiB apart would evict each other, and rows
# starting on a cache line load each vector from one line. 31 taps, two rows of
# 4096: 0.60 ns an output pixel, 0.74 with rows off the line, 1.6 with rows
# 16 KiB apart, 1.04 by `_fused_pair_pass`.

@intrinsic
def _folded_column_block(typingctx, acc0, acc1, ring, slots, halves, x, count):
    """Add ``halves[0] * R(h) + sum_k halves[k] * (R(h - k) + R(h + k))`` to acc0 and the same one
    ring row down, R(h + 1) the centre, to acc1, at elements [x, x + min(count, B)), B =
    FOLD_VECTORS lines: R(i) = ring[slots[i]], h = halves.size - 1, k = 1..h (slots: 2h + 2
    entries)."""
    if ring.layout != "C" or not acc0.dtype == acc1.dtype == ring.dtype == halves.dtype:
        return None

    def codegen(context, builder, signature, args):
        acc_type, _, ring_type, slots_type, halves_type = signature.args[:5]
        i64 = ir.IntType(64)
        lanes = STREAM_LINE * 8 // acc_type.dtype.bitwidth
        vector = ir.VectorType(context.get_data_type(acc_type.dtype), lanes)
        fma = _fma(builder, vector, acc_type.dtype.bitwidth)
        acc_rows = [context.make_array(acc_type)(context, builder, a).data for a in args[:2]]
        ring_array = context.make_array(ring_type)(context, builder, args[2])
        ring_data, stride = ring_array.data, cgutils.unpack_tuple(builder, ring_array.shape, 2)[1]
        slots_data = context.make_array(slots_type)(context, builder, args[3]).data
        halves_array = context.make_array(halves_type)(context, builder, args[4])
        h = builder.sub(cgutils.unpack_tuple(builder, halves_array.shape, 1)[0], i64(1))
        x, count = args[5], args[6]
        align = acc_type.dtype.bitwidth // 8

        def emit(masks):
            def ring_row(i):
                start = builder.add(builder.mul(builder.load(builder.gep(slots_data, [i])), stride),
                                    x)
                return _load_block(builder, _vectors_at(builder, ring_data, start, vector), align,
                                   masks)

            def weight(k):
                return _splat(builder, vector, builder.load(builder.gep(halves_array.data, [k])))

            def cells(values):
                return [cgutils.alloca_once_value(builder, v) for v in values]

            centre, below = ring_row(h), ring_row(builder.add(h, i64(1)))
            w0 = weight(i64(0))
            sums0 = cells([builder.fmul(w0, v) for v in centre])
            sums1 = cells([builder.fmul(w0, v) for v in below])
            # at step k: R(h + 1 - k) and R(h + k), both read at step k - 1
            above_prev, below_prev = cells(centre), cells(below)
            with cgutils.for_range(builder, h) as loop:
                k = builder.add(loop.index, i64(1))
                w = weight(k)
                upper = ring_row(builder.sub(h, k))  # R(h - k)
                lower = ring_row(builder.add(builder.add(h, i64(1)), k))  # R(h + 1 + k)
                for v in range(FOLD_VECTORS):
                    pair0 = builder.fadd(upper[v], builder.load(below_prev[v]))
                    pair1 = builder.fadd(builder.load(above_prev[v]), lower[v])
                    builder.store(builder.call(fma, [w, pair0, builder.load(sums0[v])]), sums0[v])
                    builder.store(builder.call(fma, [w, pair1, builder.load(sums1[v])]), sums1[v])
                    builder.store(upper[v], above_prev[v])
                    builder.store(lower[v], below_prev[v])
            for data, sums in zip(acc_rows, (sums0, sums1)):
                pointers = _vectors_at(builder, data, x, vector)
                old = _load_block(builder, pointers, align, masks)
                _store_block(builder, [builder.fadd(o, builder.load(cell))
                                       for o, cell in zip(old, sums)], pointers, align, masks)

        _whole_or_part(builder, count, lanes, emit)
    return types.void(acc0, acc1, ring, slots, halves, x, types.intp), codegen


def _fma(builder, vector, bitwidth):
    """LLVM's fused multiply-add of `vector`s."""
    name = f"llvm.fma.v{vector.count}f{bitwidth}"
    return builder.module.globals.get(name) or ir.Function(
        builder.module, ir.FunctionType(vector, [vector] * 3), name)


def _vectors_at(builder, data, offset, vector):
    """Pointers to FOLD_VECTORS consecutive `vector`s from element `offset` of `data`."""
    return [builder.bitcast(builder.gep(data, [builder.add(offset, offset.type(vector.count * v))]),
                            vector.as_pointer()) for v in range(FOLD_VECTORS)]


def _load_block(builder, pointers, align, masks):
    """The vectors at `pointers`; only the lanes `masks` leave on (the others 0, never read)
    where `masks` is given (`_lane_masks`), so a block may end before its last vector does."""
    if masks is None:
        return [builder.load(p, align=align) for p in pointers]
    vector = pointers[0].type.pointee
    load = _masked_intrinsic(builder, "load", vector, ir.FunctionType(
        vector, [vector.as_pointer(), ir.IntType(32), masks[0].type, vector]))
    return [builder.call(load, [p, ir.IntType(32)(align), m, ir.Constant(vector, None)])
            for p, m in zip(pointers, masks)]


def _store_block(builder, values, pointers, align, masks):
    """Store `values` at `pointers`, only in the lanes `masks` leave on where it is given."""
    if masks is None:
        for value, pointer in zip(values, pointers):
            builder.store(value, pointer, align=align)
        return
    vector = values[0].type
    store = _masked_intrinsic(builder, "store", vector, ir.FunctionType(
        ir.VoidType(), [vector, vector.as_pointer(), ir.IntType(32), masks[0].type]))
    for value, pointer, mask in zip(values, pointers, masks):
        builder.call(store, [value, pointer, ir.IntType(32)(align), mask])


def _masked_intrinsic(builder, kind, vector, signature):
    """LLVM's masked load or store (`kind`) of `vector`s, of type `signature`."""
    element = vector.element
    code = (f"i{element.width}" if isinstance(element, ir.IntType)
            else "f64" if isinstance(element, ir.DoubleType) else "f32")
    name = f"llvm.masked.{kind}.v{vector.count}{code}.p0"
    return builder.module.globals.get(name) or ir.Function(builder.module, signature, name)


def _lane_masks(builder, count, lanes):
    """For a block of FOLD_VECTORS vectors of `lanes`: one mask per vector, with the lanes of the
    block's first `count` elements on."""
    i64 = ir.IntType(64)
    limit = _splat(builder, ir.VectorType(i64, lanes), count)
    return [builder.icmp_signed("<", ir.Constant(ir.VectorType(i64, lanes),
                                                 [v * lanes + i for i in range(lanes)]), limit)
            for v in range(FOLD_VECTORS)]


def _whole_or_part(builder, count, lanes, emit):
    """``emit(None)`` for a whole block, else ``emit(masks)`` for its first `count` elements: the
    last block of a row whose length is not a multiple of a block's, summed by the same vector
    operations in the same order (one element by one, those took up to 2.6x as long a pixel:
    a 1663-wide float32 image with a dense 9 x 9 kernel, against 1664)."""
    whole = builder.icmp_signed(">=", count, count.type(FOLD_VECTORS * lanes))
    with builder.if_else(whole) as (whole_block, part_block):
        with whole_block:
            emit(None)
        with part_block:
            emit(_lane_masks(builder, count, lanes))


def _splat(builder, vector, scalar):
    """`vector` with `scalar` in every lane."""
    lane = ir.IntType(32)
    one = builder.insert_element(ir.Constant(vector, ir.Undefined), scalar, lane(0))
    every_lane = ir.Constant(ir.VectorType(lane, vector.count), [0] * vector.count)
    return builder.shuffle_vector(one, ir.Constant(vector, ir.Undefined), every_lane)


# The same for a mirrored row: its window slides along the laid-out image row, so
# the taps on one side are loaded (unaligned loads, which cross cache lines and
# cost the load ports double) while those on the other side are shifted in from
# the vectors already held (shuffles, another port): a 4096 row with 31 taps took
# 0.59 ns a pixel this way, 0.85 with every tap shifted, 0.91 with every tap
# loaded, 1.05 in `_folded_row_pass`. A shuffle's lanes must be known when it is
# compiled: one body per channel count.

@intrinsic
def _folded_row_block(typingctx, target, line, halves, centre, x, channels):
    """``target[i] = halves[0] * line[i + c] + sum_k halves[k] * (line[i + c - k * channels]
    + line[i + c + k * channels])`` (c = centre, k = 1..h, h = halves.size - 1) for i in
    [x, x + B), B = FOLD_VECTORS lines of the target's type; reads line up to element
    x + B + c + h * channels + lanes - channels - 1. channels: a literal, 1 to a line's lanes."""
    if not (isinstance(channels, types.IntegerLiteral)
            and target.dtype == line.dtype == halves.dtype):
        return None
    step = channels.literal_value
    lanes = STREAM_LINE * 8 // target.dtype.bitwidth
    if not 1 <= step <= lanes:
        return None

    def codegen(context, builder, signature, args):
        target_type, line_type, halves_type = signature.args[:3]
        i64, i32 = ir.IntType(64), ir.IntType(32)
        align = target_type.dtype.bitwidth // 8
        vector = ir.VectorType(context.get_data_type(target_type.dtype), lanes)
        fma = _fma(builder, vector, target_type.dtype.bitwidth)
        target_data = context.make_array(target_type)(context, builder, args[0]).data
        line_data = context.make_array(line_type)(context, builder, args[1]).data
        halves_array = context.make_array(halves_type)(context, builder, args[2])
        h = builder.sub(cgutils.unpack_tuple(builder, halves_array.shape, 1)[0], i64(1))
        start = builder.add(args[4], args[3])  # x + centre

        def line_at(offset):
            return [builder.load(p, align=align)
                    for p in _vectors_at(builder, line_data, offset, vector)]

        centre = line_at(start)
        w0 = _splat(builder, vector, builder.load(halves_array.data))
        sums = [cgutils.alloca_once_value(builder, builder.fmul(w0, v)) for v in centre]
        right = [cgutils.alloca_once_value(builder, v) for v in centre]  # taps at +k - 1
        shift = ir.Constant(ir.VectorType(i32, lanes), list(range(step, step + lanes)))
        with cgutils.for_range(builder, h) as loop:
            k = builder.add(loop.index, i64(1))
            w = _splat(builder, vector, builder.load(builder.gep(halves_array.data, [k])))
            left = line_at(builder.sub(start, builder.mul(k, i64(step))))
            held = [builder.load(cell) for cell in right]
            beyond = builder.add(builder.add(start, i64(lanes * FOLD_VECTORS)),
                                 builder.mul(builder.sub(k, i64(1)), i64(step)))
            held.append(line_at(beyond)[0])
            for v in range(FOLD_VECTORS):
                moved = builder.shuffle_vector(held[v], held[v + 1], shift)
                builder.store(moved, right[v])
                pair = builder.fadd(left[v], moved)
                builder.store(builder.call(fma, [w, pair, builder.load(sums[v])]), sums[v])
        for pointer, cell in zip(_vectors_at(builder, target_data, args[4], vector), sums):
            builder.store(builder.load(cell), pointer, align=align)
    return types.void(target, line, halves, centre, x, channels), codegen


@numba.njit(**_JIT)
def _folded_row_blocks(target, line, halves, centre, step, weights, offsets):
    """`_folded_row_pass` of a mirrored row of odd length (`halves` and `centre` as in
    `_folded_row_block`; weights and offsets: its non-zero taps) by blocks; step: the
    channels, one of FOLD_STEPS. The elements after the last whole block by `_folded_row_pass`."""
    n = target.size
    block = FOLD_VECTORS * (STREAM_LINE // target.itemsize)
    # the last block reads a vector past its window: leave that much row after it
    blocks_end = max(0, n - STREAM_LINE // target.itemsize) // block * block
    for x in range(0, blocks_end, block):
        if step == 1:
            _folded_row_block(target, line, halves, centre, x, 1)
        elif step == 3:
            _folded_row_block(target, line, halves, centre, x, 3)
        else:
            _folded_row_block(target, line, halves, centre, x, 4)
    _folded_row_pass(target[blocks_end:], line[blocks_end:], weights, offsets)


@numba.njit(**_JIT)
def _folded_column_pair(acc0, acc1, ring, slots, halves):
    """Add a mirrored column (``halves``: its centre weight, then outwards; 2h + 1 taps) to two
    output rows: acc0 += the column over ring rows slots[0:2h + 1], acc1 += over slots[1:2h + 2].

    Each mirrored pair of ring rows is added before one multiply, as in `_folded_row_pass`
    and on the same condition (sums of integer pixels: finite, far from overflow).
    """
    n = acc0.size
    block = FOLD_VECTORS * (STREAM_LINE // acc0.itemsize)
    for x in range(0, n, block):  # the last block cut short where the row ends inside it
        _folded_column_block(acc0, acc1, ring, slots, halves, x, n - x)


@numba.njit(**_JIT)
def _row_pass(target, line, weights, offsets, taps, sources):
    """target = the 1-row kernel (weights at element offsets) across a padded row (row 0 of line)."""
    target[:] = 0
    sources[:] = 0
    for g in range(0, weights.size, FUSED_TAPS):
        _fused_pass(target, line, sources, taps, weights, offsets, g,
                    min(FUSED_TAPS, weights.size - g), 0, target.size)


@numba.njit(**_JIT)
def separable_rows(src, channels, row_weights, row_columns, row_bounds, column_weights, column_rows,
                   column_bounds, pairs, column_folds, origin_y, origin_x, border, margins,
                   margin_ends, row_fills, row_folds, out, ring, line, acc, owners, scratch,
                   y_start, y_stop, store, saturation):
    """Rows y_start..y_stop of the correlation with ``sum_r outer(column_r, row_r)``.

    Term r's non-zero taps are ``row_*[row_bounds[r]:row_bounds[r + 1]]`` and
    ``column_*[column_bounds[r]:column_bounds[r + 1]]``; one term is the separable
    method, two or three the low-rank one. The row pass of each term and position
    the band reads is computed once into `ring` (kh rows of Wout * channels floats
    per term, kh + 1 when rows go in pairs; small enough to stay in cache; a ring row
    may be longer, see `_folded_column_block`), at slot
    ``r * ring_rows + p % ring_rows`` of its position p before the border maps it:
    the rows summed at once read consecutive positions, so they never share a slot
    (the image rows they map to need not be consecutive: wrap). Outside rows of a
    constant border hold ``row_fills[r]``. Each image row a pass needs is first
    laid out in `line` ((1, (Wout + kw - 1) * channels), the product's type)
    through the border in x: `margins` (`_margin_row`) outside the
    elements [margin_ends[0], margin_ends[1]), which are read from the image.
    Term r's row pass is folded where row_folds says so (see `_ring_slot`).

    pairs: (starts, bounds, weights, rows), every term's `_direct.pair_table` of its
    column taps, concatenated (term r's entries from starts[r], its runs in
    bounds[r]); empty (starts[-1] == 0) when rows go one at a time. In pairs, rows
    y and y + 1 (y even) are summed together, each ring row loaded once for both
    (the column pass reads the ring from L2, not L1: loads are what it costs);
    a row alone sums the same slices in the same groups. column_folds: (halves,
    bounds, centres): term r's column is mirrored about its tap centres[r] with
    weights halves[bounds[r]:bounds[r + 1]] (centre first; empty: not folded), and
    a pair of rows whose ring rows all hold image rows sums it by
    `_folded_column_pair`. acc: (2, Wout * channels) of the sums' type; owners: int64
    scratch of one per ring row (the position it holds); scratch: int64 (7, max(taps,
    pair entries, kh + 1, 5)). Returns the NaN count of `_store_row`.
    """
    owners[:] = -(1 << 62)  # no position yet
    row_offsets, row_taps = scratch[0], scratch[1]
    for t in range(row_weights.size):
        row_offsets[t] = row_columns[t] * channels
        row_taps[t] = t
    scratch[5, :] = 0  # the ring's rows are read from their start
    line_row = scratch[6, :1]  # the image row laid out in `line`
    line_row[0] = -1
    n_nan = 0
    if pairs[0][-1] == 0:
        for y in range(y_start, y_stop):
            acc[0, :] = 0
            _separable_row(acc[0], y, src, row_weights, row_bounds, column_weights, column_rows,
                           column_bounds, origin_y, border, margins, margin_ends, origin_x * channels,
                           row_fills, row_folds, ring, line, line_row, owners, scratch)
            n_nan += _store_row(acc[0], out[y], store, saturation)
        end_stores(store)
        return n_nan
    for y in range(y_start - (y_start & 1), y_stop, 2):
        which = (1 if y >= y_start else 0) + (2 if y + 1 < y_stop else 0)
        acc[0, :] = 0
        acc[1, :] = 0
        _separable_pair(acc[0], acc[1], which, y, src, row_weights, row_bounds, pairs,
                        column_folds, origin_y, border, margins, margin_ends, origin_x * channels,
                        row_fills, row_folds, ring, line, line_row, owners, scratch)
        if which & 1:
            n_nan += _store_row(acc[0], out[y], store, saturation)
        if which & 2:
            n_nan += _store_row(acc[1], out[y + 1], store, saturation)
    end_stores(store)
    return n_nan


@numba.njit(**_JIT)
def _ring_slot(position, r, src, row_weights, row_bounds, border, margins, margin_ends, origin_x,
               row_folds, ring, width, line, line_row, owners, scratch):
    """The ring row holding term r's row pass of image position `position` in its first `width`
    elements, computed if needed; -1 for an outside row of a constant border.

    row_folds: (mirrored, halves, bounds, centres, step). A term with halves (its
    weights from the centre tap outwards, halves[bounds[r]:bounds[r + 1]]; centres[r]:
    that tap's offset in elements; step: channels, one of FOLD_STEPS) is summed by
    `_folded_row_blocks`; another with mirrored[r] by `_folded_row_pass`."""
    sy = source_index(position, src.shape[0], border)
    if sy < 0:
        return -1
    ring_rows = ring.shape[0] // (row_bounds.size - 1)
    slot = r * ring_rows + position % ring_rows
    if owners[slot] != position:
        if sy != line_row[0]:  # the low-rank terms' passes share the image row
            _margin_row(margins, src[sy], MARGIN_LAY_OUT)
            _padded_row(line[0], src[sy], margins[2][MARGIN_LAY_OUT], margin_ends[0],
                        margin_ends[1], origin_x)
            line_row[0] = sy
        b0, b1 = row_bounds[r], row_bounds[r + 1]
        target = ring[slot, :width]
        mirrored, halves, bounds, centres, step = row_folds
        if bounds[r + 1] > bounds[r]:
            _folded_row_blocks(target, line[0], halves[bounds[r]:bounds[r + 1]], centres[r], step,
                               row_weights[b0:b1], scratch[0, b0:b1])
        elif mirrored[r]:
            _folded_row_pass(target, line[0], row_weights[b0:b1], scratch[0, b0:b1])
        else:
            _row_pass(target, line, row_weights[b0:b1], scratch[0, b0:b1], scratch[1, :b1 - b0],
                      scratch[2, :b1 - b0])
        owners[slot] = position
    return slot


@numba.njit(**_JIT)
def _separable_row(acc, y, src, row_weights, row_bounds, column_weights, column_rows, column_bounds,
                   origin_y, border, margins, margin_ends, origin_x, row_fills, row_folds, ring, line,
                   line_row, owners, scratch):
    """Add output row y to acc, every term's column taps in order."""
    column_taps, column_slots = scratch[3], scratch[4]
    n_live = 0
    for r in range(row_bounds.size - 1):
        for t in range(column_bounds[r], column_bounds[r + 1]):
            slot = _ring_slot(y + column_rows[t] - origin_y, r, src, row_weights, row_bounds, border,
                              margins, margin_ends, origin_x, row_folds, ring, acc.size, line,
                              line_row, owners, scratch)
            if slot < 0:
                _add_to_all(acc, column_weights[t] * row_fills[r])
                continue
            column_taps[n_live] = t
            column_slots[n_live] = slot
            n_live += 1
    for g in range(0, n_live, FUSED_TAPS):
        _fused_pass(acc, ring, column_slots, column_taps, column_weights, scratch[5], g,
                    min(FUSED_TAPS, n_live - g), 0, acc.size)


@numba.njit(**_JIT)
def _separable_pair(acc0, acc1, which, y, src, row_weights, row_bounds, pairs, column_folds,
                    origin_y, border, margins, margin_ends, origin_x, row_fills, row_folds, ring,
                    line, line_row, owners, scratch):
    """Add output rows y and y + 1 (which 3), or y only (1), or y + 1 only (2) to acc0 and acc1,
    each term's pair table in its three runs: slices for both rows, for y only, for y + 1 only;
    or, for both rows of a term whose column folds, `_folded_column_pair`."""
    starts, bounds, weights, rows = pairs
    halves, fold_bounds, centres = column_folds
    weights0, weights1 = weights[0], weights[1]
    into_first, into_second = which != 2, which != 1
    live_taps, live_slots, runs = scratch[3], scratch[4], scratch[6, 1:5]
    runs[0] = 0
    for r in range(row_bounds.size - 1):
        term_halves = halves[fold_bounds[r]:fold_bounds[r + 1]]
        if which == 3 and term_halves.size:
            h = term_halves.size - 1
            top = y + centres[r] - h - origin_y
            window = live_slots[:2 * h + 2]
            inside = True  # no outside row of a constant border
            for i in range(window.size):
                window[i] = _ring_slot(top + i, r, src, row_weights, row_bounds, border, margins,
                                       margin_ends, origin_x, row_folds, ring, acc0.size, line,
                                       line_row, owners, scratch)
                inside = inside and window[i] >= 0
            if inside:
                _folded_column_pair(acc0, acc1, ring, window, term_halves)
                continue
        base = starts[r]
        n_live = 0
        for kind in range(3):
            for e in range(base + bounds[r, kind], base + bounds[r, kind + 1]):
                slot = _ring_slot(y + rows[e] - origin_y, r, src, row_weights, row_bounds, border,
                                  margins, margin_ends, origin_x, row_folds, ring, acc0.size, line,
                                  line_row, owners, scratch)
                if slot < 0:
                    if into_first and kind != 2:
                        _add_to_all(acc0, weights0[e] * row_fills[r])
                    if into_second and kind != 1:
                        _add_to_all(acc1, weights1[e] * row_fills[r])
                    continue
                live_taps[n_live] = e
                live_slots[n_live] = slot
                n_live += 1
            runs[kind + 1] = n_live
        add_pair_slices(acc0, acc1, which, ring, live_slots, live_taps, weights0, weights1,
                        scratch[5], runs, False)


# --- fft: blocks of the extended image -------------------------------------------------

@numba.njit(**_JIT)
def gather_edges(src, channels, rows, columns, fill, out, done):
    """``out[r, j * channels + c] = ext(rows[r], columns[j])`` in channel c; index -1 reads `fill`.

    src: (H, W * channels); rows, columns: image indices from the border's index map.
    done: (r0, r1, j0, j1), a block of `out` already copied by the caller; it is skipped.
    """
    r0, r1, j0, j1 = done
    for r in range(rows.size):
        if r0 <= r < r1:
            _gather_columns(src, channels, rows[r], columns, fill, out[r], 0, j0)
            _gather_columns(src, channels, rows[r], columns, fill, out[r], j1, columns.size)
        else:
            _gather_columns(src, channels, rows[r], columns, fill, out[r], 0, columns.size)


@numba.njit(**_JIT)
def _gather_columns(src, channels, sy, columns, fill, target, j_start, j_stop):
    row = src[max(sy, 0)]
    for j in range(j_start, j_stop):
        for c in range(channels):
            inside = sy >= 0 and columns[j] >= 0
            target[j * channels + c] = row[columns[j] * channels + c] if inside else fill
