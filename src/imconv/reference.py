"""Convolution written out plainly: pad, slide, multiply, sum.

This is the sliding-window algorithm of the tutorial imconv grew from, kept as
readable Python for people who want to see how convolution works, and as the
executable specification the fast engine is tested against. It takes the same
arguments and raises the same errors as `imconv.correlate` and
`imconv.convolve`, computes in float64 (complex128 for complex data), and is
slow: one Python step per output pixel. Use `imconv.correlate` for real work.

>>> import numpy as np
>>> from imconv import reference
>>> image = np.arange(12.0).reshape(3, 4)
>>> reference.correlate(image, [[1, 0, -1]], border="reflect101")
array([[ 0., -2., -2.,  0.],
       [ 0., -2., -2.,  0.],
       [ 0., -2., -2.,  0.]])
"""

from __future__ import annotations

import numpy as np

from . import _dtypes
from ._arguments import Request, prepare


def correlate(image, kernel, *, border="replicate", fill=0.0, mode="same", anchor=None,
              dtype=None):
    """Cross-correlation by the sliding window; same arguments as `imconv.correlate`."""
    return _slide(prepare(image, kernel, border=border, fill=fill, mode=mode, anchor=anchor,
                          dtype=dtype, convolution=False))


def convolve(image, kernel, *, border="replicate", fill=0.0, mode="same", anchor=None,
             dtype=None):
    """Convolution by the sliding window: correlation with the kernel flipped in both axes.

    The flip, and the anchor mirrored with it, happen in the shared argument
    checks, exactly as in `imconv.convolve`.
    """
    return _slide(prepare(image, kernel, border=border, fill=fill, mode=mode, anchor=anchor,
                          dtype=dtype, convolution=True))


def _slide(request: Request) -> np.ndarray:
    """For each output pixel, the sum of kernel times the window of the padded image."""
    height, width, channels = request.image.shape
    kh, kw = request.kernel.shape[:2]
    out_height, out_width = request.out_shape
    oy, ox = request.origin
    # Enough padding that the window of every output pixel lies inside the padded image.
    pad = ((oy, out_height + kh - 1 - oy - height), (ox, out_width + kw - 1 - ox - width))
    exact = np.complex128 if request.result_dtype.kind == "c" else np.float64
    out = np.zeros((out_height, out_width, channels), exact)
    for c in range(channels):
        padded = _pad(request.image[:, :, c].astype(exact), pad, request)
        kernel = request.kernel if request.kernel.ndim == 2 else request.kernel[:, :, c]
        # Zero weights are left out, not multiplied: 0 * inf is NaN in floating point,
        # and a pixel the kernel does not weigh must not change the result.
        weighed = kernel != 0
        for y in range(out_height):
            for x in range(out_width):
                window = padded[y:y + kh, x:x + kw]
                out[y, x, c] = np.sum(window[weighed] * kernel[weighed])
    out = _cast(out, request)
    return out[:, :, 0] if request.image_was_2d else out


def _pad(plane: np.ndarray, pad, request: Request) -> np.ndarray:
    """np.pad under the border's NumPy name (NumPy's "reflect" is imconv's reflect101)."""
    mode = request.border.numpy_pad
    if mode == "constant":
        fill = request.fill if plane.dtype.kind == "c" else request.fill.real
        return np.pad(plane, pad, mode="constant", constant_values=fill)
    return np.pad(plane, pad, mode=mode)


def _cast(exact: np.ndarray, request: Request) -> np.ndarray:
    """Store the exact sums in the result dtype: integers round half to even and saturate."""
    dtype = request.result_dtype
    if dtype.kind not in "iu":
        return exact.astype(dtype)
    if np.isnan(exact).any():
        raise ValueError(f"the result has NaN, which dtype={dtype} cannot hold")
    lo, hi = _dtypes.saturation_bounds(dtype, np.dtype(np.float64))
    out = np.clip(np.rint(exact), lo, hi).astype(dtype)
    out[exact > hi] = np.iinfo(dtype).max  # float64 cannot hold every 64-bit limit
    out[exact < lo] = np.iinfo(dtype).min
    return out
