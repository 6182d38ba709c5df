"""The FFT method: large dense kernels by overlap-save tiles, at a cost that grows with log(size).

The output is cut into tiles of T x U pixels. Each tile reads a block of
(T + kh - 1) x (U + kw - 1) pixels of the extended image, gathered through the
same border model as the other methods (an index map per axis, never a padded
copy of the image); the block's real FFT times the conjugate of the kernel's
FFT, transformed back, holds the tile's correlation in its first T x U values
(the rest wraps around and is dropped). A row of tiles goes through
``scipy.fft`` in one batch; rows of tiles run on threads.

Transforms are float32 when the result is float32 and float64 otherwise
(float64 results, and integer outputs, which round the sums). The error is
then within the accuracy contract: float32 within 1e-5 x sum|k| x max|image|,
float64 within 1e-12 of that scale. Memory: per thread, one strip of T + kh - 1
extended image rows and the transforms of one row of tiles, about 3 x (T + kh)
x the output's width x channels floats; nothing image-sized beyond the output.

An FFT mixes every pixel of a block into every output of its tile, so a NaN or
inf would spread to outputs that do not weigh it: the planner never chooses
this method when the image or the fill is not finite, and asking for it then
is an error.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.fft

from . import _compiled
from ._borders import index_map
from ._direct import flat_channels
from ._parallel import MIN_WORK_PER_BAND, run_bands

# Transform sides tried for a tile; 2^a 3^b 5^c lengths are the fast ones for pocketfft.
_BATCH_BYTES = 1 << 20  # the real blocks of one transform batch: cache and memory bound
_SIDES = tuple(n for n in range(16, 513) if n == scipy.fft.next_fast_len(n, real=True))


def tile_shape(kernel_shape, out_shape) -> tuple[int, int]:
    """Transform size (P, Q) per tile: the fewest pixels transformed per output pixel, in the
    fewest tiles.

    Sides are fast lengths up to 512, so one tile's transforms stay in cache.

    >>> tile_shape((49, 49), (4096, 4096)), tile_shape((5, 5), (100, 30))
    ((512, 512), (108, 36))
    """
    return tuple(_best_side(k, n) for k, n in zip(kernel_shape, out_shape))


@functools.lru_cache(maxsize=4096)
def _best_side(k: int, n: int) -> int:
    def cost(side):  # pixels transformed along this axis (pocketfft's time per pixel is ~flat)
        return math.ceil(n / min(side - k + 1, n)) * side

    # Of sides that transform as many pixels, the largest: fewer tiles, fewer calls. A 19 x 19
    # kernel at 4096^2 transforms 1.11 pixels per output pixel in tiles of 360 or of 480;
    # float32: 110 ms in 360s, 66 ms in 480s.
    candidates = [s for s in _SIDES if s >= 2 * k] or [_SIDES[-1]]
    return min(candidates, key=lambda side: (cost(side), -side))


def transformed_per_pixel(kernel_shape, out_shape) -> float:
    """Pixels the transforms go through per output pixel (the planner prices them in ns).

    >>> round(transformed_per_pixel((49, 49), (4096, 4096)), 2)
    1.27
    """
    (p, q), (kh, kw), (h, w) = tile_shape(kernel_shape, out_shape), kernel_shape, out_shape
    t, u = min(p - kh + 1, h), min(q - kw + 1, w)
    return p * q * math.ceil(h / t) * math.ceil(w / u) / (h * w)


def fft_precision(accumulator: np.dtype, result: np.dtype) -> type:
    """float32 transforms for float32 results, float64 for float64 and for integers (they round)."""
    return np.float32 if accumulator == np.float32 and result.kind in "fc" else np.float64


def correlate_fft(src: np.ndarray, kernel: np.ndarray, out: np.ndarray, *, origin, border: int,
                  fill: float, accumulator: np.dtype, accumulate: bool) -> int:
    """`_direct.correlate_direct` by overlap-save FFT tiles; the same contract, finite data only."""
    height, width, channels = src.shape
    out_height, out_width, _ = out.shape
    kh, kw = kernel.shape[:2]
    p, q = tile_shape((kh, kw), (out_height, out_width))
    t, u = min(p - kh + 1, out_height), min(q - kw + 1, out_width)
    real = fft_precision(accumulator, out.dtype)
    per_channel = kernel if kernel.ndim == 3 else kernel[:, :, np.newaxis]
    spectra = np.conj(scipy.fft.rfft2(np.moveaxis(per_channel, 2, 0).astype(real), s=(p, q)))
    n_columns = math.ceil(out_width / u)
    rows = index_map(np.arange(out_height + kh - 1) - origin[0], height, border)
    # Enough columns for the last tile's whole block; those past the output only reach
    # the values each transform drops.
    columns = index_map(np.arange((n_columns - 1) * u + q) - origin[1], width, border)
    store = _store(out.dtype, accumulate)
    flat_src = flat_channels(src)

    per_batch = max(1, _BATCH_BYTES // (p * q * channels * np.dtype(real).itemsize))
    n_batches = math.ceil(n_columns / per_batch)
    per_batch = math.ceil(n_columns / n_batches)  # batches of equal size balance the threads

    def batches(start, stop):  # work unit i: row of tiles i // n_batches, batch i % n_batches
        for unit in range(start, stop):
            y0 = unit // n_batches * t
            n = min(t, out_height - y0)
            first = unit % n_batches * per_batch
            count = min(per_batch, n_columns - first)
            x0, x1 = first * u, min((first + count) * u, out_width)
            strip = _gather(src, flat_src, rows[y0:y0 + n + kh - 1],
                            columns[x0:x0 + (count - 1) * u + q], fill, real)
            # one block per tile, overlapping by kw - 1: (count, channels, n + kh - 1, Q)
            blocks = np.lib.stride_tricks.sliding_window_view(strip, q, axis=1)[:, ::u]
            sums = _correlate_blocks(np.moveaxis(blocks, 0, 2), spectra, p, q, n, u)
            result = sums.transpose(2, 0, 3, 1).reshape(n, count * u, channels)
            store(out[y0:y0 + n, x0:x1], result[:, :x1 - x0])
        return 0

    # each unit (a batch of tiles) is worth a thread
    run_bands(batches, math.ceil(out_height / t) * n_batches, MIN_WORK_PER_BAND)
    return 0


def _correlate_blocks(blocks, spectra, p, q, n, u):
    """The first n x u correlation values of each block, by transforms padded to p x q.

    A 2-D real transform is a real one along rows, then a complex one down the
    columns; done by hand here so the zero rows of the padding are not
    transformed forward, and the rows past n are not transformed back.
    """
    half = scipy.fft.rfft(blocks, n=q, axis=-1, workers=1)
    spectrum = scipy.fft.fft(half, n=p, axis=-2, overwrite_x=True, workers=1)
    spectrum *= spectra
    columns = scipy.fft.ifft(spectrum, axis=-2, overwrite_x=True, workers=1)[..., :n, :]
    return scipy.fft.irfft(columns, n=q, axis=-1, workers=1)[..., :u]


def _gather(src, flat_src, rows, columns, fill, real) -> np.ndarray:
    """The extended image at rows x columns as a (rows, columns, C) array of `real` floats.

    The longest run of neighbouring image pixels in each direction is one slice,
    NumPy's fast copy; the compiled loop fills in the rest through the index maps.
    """
    channels = src.shape[2]
    strip = np.empty((rows.size, columns.size * channels), real)
    (r0, r1), (j0, j1) = _longest_run(rows), _longest_run(columns)
    block = strip.reshape(rows.size, columns.size, channels)
    block[r0:r1, j0:j1] = src[rows[r0]:rows[r0] + r1 - r0, columns[j0]:columns[j0] + j1 - j0]
    if (r0, r1, j0, j1) != (0, rows.size, 0, columns.size):
        _compiled.gather_edges(flat_src, channels, rows, columns, real(fill), strip,
                               (r0, r1, j0, j1))
    return block


def _longest_run(indices: np.ndarray) -> tuple[int, int]:
    """[start, stop) of the longest stretch of `indices` that counts up by one from >= 0.

    >>> _longest_run(np.array([2, 1, 0, 1, 2, 3, 2]))
    (2, 6)
    """
    steps = np.flatnonzero((np.diff(indices) != 1) | (indices[:-1] < 0) | (indices[1:] < 0)) + 1
    bounds = np.concatenate(([0], steps, [indices.size]))
    lengths = np.diff(bounds) * (indices[bounds[:-1]] >= 0)
    best = int(np.argmax(lengths))
    return int(bounds[best]), int(bounds[best]) + int(lengths[best])


def _store(out_dtype: np.dtype, accumulate: bool):
    """Write a block of sums into the output: copy, add, or round half to even and saturate."""
    if out_dtype.kind in "iu":
        info = np.iinfo(out_dtype)

        def saturate(target, values):
            # float64 sums: clipping to the exact integer limits before the cast is exact.
            np.copyto(target, np.clip(np.rint(values), info.min, info.max), casting="unsafe")
        return saturate
    if accumulate:
        def add(target, values):
            target += values
        return add
    return lambda target, values: np.copyto(target, values, casting="same_kind")
