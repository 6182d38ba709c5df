"""Check and normalise the arguments of `correlate` and `convolve` into plain values.

Everything a user can get wrong is caught here, with a message that names the
parameter, repeats the bad value and says what is allowed. What leaves this
module is a `Request` that the methods (and `imconv.reference`) compute from
without further checks.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from . import _dtypes
from ._borders import Border, resolve_border

MODES = ("same", "valid", "full")
METHODS = ("auto", "direct", "separable", "lowrank", "box", "fft")


@dataclass(frozen=True)
class Request:
    """A checked correlation: ``out[y, x] = sum k[i, j] * ext(y + i - oy, x + j - ox)``.

    `ext` is the image extended by `border`. Convolution arrives here already
    turned into correlation (flipped kernel, mirrored anchor).
    """

    image: np.ndarray          # (H, W, C)
    kernel: np.ndarray         # (kh, kw) or (kh, kw, C); float64 or complex128, finite
    origin: tuple[int, int]    # (oy, ox)
    out_shape: tuple[int, int]
    border: Border
    fill: complex
    result_dtype: np.dtype
    accumulator: np.dtype
    image_was_2d: bool
    method: str = "auto"

    @property
    def channels(self) -> int:
        return self.image.shape[2]


def prepare(image, kernel, *, border, fill, mode, anchor, dtype, convolution,
            method="auto", out=None) -> Request:
    """Check every argument and return the `Request` they describe.

    `out` (checked by `check_out` later) sets the result type when given.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not known; use one of {', '.join(map(repr, METHODS))}")
    image, image_was_2d = _as_image(image)
    kernel, kernel_dtype = _as_kernel(kernel, image)
    border = resolve_border(border)
    fill = _as_fill(fill, image)
    mode = _as_mode(mode)
    anchor = _as_anchor(anchor, kernel.shape[:2], mode)
    if convolution:
        kernel = kernel[::-1, ::-1]
        anchor = (kernel.shape[0] - 1 - anchor[0], kernel.shape[1] - 1 - anchor[1])
    origin, out_shape = _geometry(mode, image.shape[:2], kernel.shape[:2], anchor)
    default = _dtypes.default_result_dtype(image.dtype, kernel_dtype, kernel.dtype.kind == "c")
    dtype = output_dtype(out, dtype)
    result = _dtypes.requested_result_dtype(dtype, default, None if out is None else f"out of dtype {dtype}")
    return Request(image=image, kernel=kernel, origin=origin, out_shape=out_shape,
                   border=border, fill=fill, result_dtype=result,
                   accumulator=_dtypes.accumulator_dtype(image.dtype, default, result),
                   image_was_2d=image_was_2d, method=method)


def output_dtype(out, dtype):
    """The result type asked for by `dtype` and `out` together (out's, when only out is given)."""
    if out is None:
        return dtype
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a NumPy array (or None), not {type(out).__name__}")
    if not out.flags.writeable:
        raise ValueError("out is read-only; pass a writeable array")
    if dtype is not None and np.dtype(dtype) != out.dtype:
        raise TypeError(f"dtype={dtype!r} and out of dtype {out.dtype} disagree; give one of them")
    return out.dtype


def check_out(out: np.ndarray, request: Request) -> None:
    """`out` (already checked by `output_dtype`) must have the shape of the result."""
    height, width = request.out_shape
    shape = (height, width) if request.image_was_2d else (height, width, request.channels)
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, but the result has shape {shape}")


def _as_array(value, what: str) -> np.ndarray:
    """`value` as an ndarray in native byte order (the compiled kernels read no other)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be an array, not the string {value!r}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{what} could not be read as an array: {error}") from None
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _as_image(image) -> tuple[np.ndarray, bool]:
    array = _as_array(image, "image")
    _dtypes.check_array_dtype(array.dtype, "image")
    if array.ndim not in (2, 3):
        raise ValueError(
            f"image must be 2-D (H, W) or 3-D (H, W, C); got {array.ndim}-D with shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"image is empty (shape {array.shape}); every axis needs length >= 1")
    if array.ndim == 2:
        return array[:, :, np.newaxis], True
    return array, False


def _as_kernel(kernel, image: np.ndarray) -> tuple[np.ndarray, np.dtype | None]:
    """The kernel as float64/complex128 and the dtype that takes part in promotion.

    Kernels given by name or as Python lists are weak (dtype None), like Python
    scalars in NumPy; arrays keep their dtype.
    """
    weak = not isinstance(kernel, np.ndarray)
    if isinstance(kernel, str):
        from . import kernels  # the bank imports nothing from here; import late to keep it so

        kernel = kernels.get(kernel)
    array = _as_array(kernel, "kernel")
    _dtypes.check_array_dtype(array.dtype, "kernel")
    if array.ndim not in (2, 3):
        raise ValueError(
            f"kernel must be 2-D (kh, kw) or 3-D (kh, kw, C); got {array.ndim}-D with shape "
            f"{array.shape} (for a row kernel use kernel[np.newaxis, :])")
    if array.size == 0:
        raise ValueError(f"kernel is empty (shape {array.shape}); it needs at least 1 x 1 weights")
    if array.ndim == 3 and array.shape[2] != image.shape[2]:
        raise ValueError(
            f"kernel has {array.shape[2]} channels (shape {array.shape}) but the image has "
            f"{image.shape[2]} (shape {image.shape}); give a 2-D kernel or one per image channel")
    if not np.isfinite(array).all():
        raise ValueError("kernel contains NaN or inf; every weight must be finite")
    as_type = np.complex128 if array.dtype.kind == "c" else np.float64
    return array.astype(as_type, copy=False), None if weak else array.dtype


def _as_fill(fill, image: np.ndarray) -> complex:
    if isinstance(fill, np.ndarray) and fill.ndim == 0:
        fill = fill.item()
    if not isinstance(fill, numbers.Number):
        raise TypeError(f"fill={fill!r} must be a number")
    if isinstance(fill, numbers.Complex) and not isinstance(fill, numbers.Real):
        if image.dtype.kind != "c" and complex(fill).imag != 0:
            raise TypeError(f"fill={fill!r} is complex but the image is real; use a real fill")
    return complex(fill)


def _as_mode(mode) -> str:
    if isinstance(mode, str) and mode.lower() in MODES:
        return mode.lower()
    raise ValueError(f"mode={mode!r} is not known; use one of 'same', 'valid', 'full'")


def _as_anchor(anchor, kernel_shape: tuple[int, int], mode: str) -> tuple[int, int]:
    kh, kw = kernel_shape
    if anchor is None:
        return kh // 2, kw // 2
    if mode != "same":
        raise ValueError(
            f"anchor={anchor!r} only applies to mode='same'; mode={mode!r} places the kernel "
            "at every position where it fits (valid) or overlaps the image (full)")
    if (not isinstance(anchor, (tuple, list)) or len(anchor) != 2
            or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in anchor)):
        raise TypeError(f"anchor={anchor!r} must be a (row, col) pair of integers")
    row, col = int(anchor[0]), int(anchor[1])
    if not (0 <= row < kh and 0 <= col < kw):
        raise ValueError(
            f"anchor={anchor!r} lies outside the {kh} x {kw} kernel; "
            f"use 0 <= row < {kh} and 0 <= col < {kw}")
    return row, col


def _geometry(mode: str, image_shape, kernel_shape, anchor):
    """Origin (oy, ox) and output (height, width) for `mode`."""
    (h, w), (kh, kw) = image_shape, kernel_shape
    if mode == "same":
        return anchor, (h, w)
    if mode == "full":
        return (kh - 1, kw - 1), (h + kh - 1, w + kw - 1)
    if kh > h or kw > w:
        raise ValueError(
            f"mode='valid' needs the kernel to fit inside the image, but the kernel is "
            f"{kh} x {kw} and the image {h} x {w}; use mode='same' or 'full'")
    return (0, 0), (h - kh + 1, w - kw + 1)
