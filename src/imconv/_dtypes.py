"""The dtype policy: what images are accepted, what results come out, how sums are kept.

The rules, in one place:

* Images may be bool, any integer type, float16/32/64 or complex64/128.
* The result is float32 by default; float64 when the image or the kernel is a
  float64 array; complex64/complex128 when either is complex, with the same
  precision rule. A kernel given by name or as nested Python lists is "weak",
  like a Python scalar in NumPy: only its kind (real or complex) counts.
* Sums accumulate in floating point, so integer images never overflow: in
  float64 when the result, or the default result, is float64 or complex128; in
  float32 otherwise, and for a float32 or complex64 result of an image that is
  not double, whatever the kernel's type (as OpenCV's filter2D sums).
* An integer ``dtype`` rounds half to even and saturates to the type's range
  (OpenCV's ``saturate_cast``): ``dtype=np.uint8`` never wraps around. NaN cannot
  be stored in an integer type and is an error.
"""

from __future__ import annotations

import numpy as np

_ACCEPTED_KINDS = "biufc"


def check_array_dtype(dtype: np.dtype, what: str) -> None:
    """Raise TypeError unless `dtype` is numeric and of a supported precision."""
    if dtype.kind not in _ACCEPTED_KINDS:
        raise TypeError(
            f"{what} has dtype {dtype}, which is not numeric; use bool, an integer type, "
            "float16/32/64 or complex64/128")
    if dtype.kind in "fc" and dtype.itemsize > (8 if dtype.kind == "f" else 16):
        raise TypeError(
            f"{what} has dtype {dtype}, which imconv does not compute in; "
            "cast it to float64 or complex128 first")


def default_result_dtype(image_dtype: np.dtype, kernel_dtype: np.dtype | None,
                         kernel_is_complex: bool) -> np.dtype:
    """Result dtype when the caller gives none; `kernel_dtype` None means a weak kernel."""
    double = image_dtype in (np.float64, np.complex128) or (
        kernel_dtype is not None and kernel_dtype in (np.float64, np.complex128))
    is_complex = image_dtype.kind == "c" or kernel_is_complex
    if is_complex:
        return np.dtype(np.complex128 if double else np.complex64)
    return np.dtype(np.float64 if double else np.float32)


def requested_result_dtype(dtype, default: np.dtype, name: str | None = None) -> np.dtype:
    """Check the caller's ``dtype`` against the computed `default` and return it.

    `name`: how messages refer to it (default ``dtype=...``; `out` says ``out of dtype ...``).
    """
    if dtype is None:
        return default
    try:
        requested = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype={dtype!r} is not a NumPy dtype; use e.g. np.float32 or np.uint8") from None
    name = name or f"dtype={dtype!r}"
    if requested.kind not in "iufc":
        raise TypeError(f"{name} is not allowed; use an integer, float or complex type")
    if requested.kind in "fc" and requested.itemsize > (8 if requested.kind == "f" else 16):
        raise TypeError(f"{name} is not supported; use at most float64 or complex128")
    if default.kind == "c" and requested.kind != "c":
        raise TypeError(
            f"{name} cannot hold the complex result without dropping its imaginary "
            f"part; use a complex dtype and take .real or abs() of the result")
    return requested


def accumulator_dtype(image: np.dtype, default: np.dtype, result: np.dtype) -> np.dtype:
    """Real float type the sums are kept in: float64 where the result or the default result
    is double, except for a single-precision result of a single-precision (or integer)
    image, which sums in float32 whatever the kernel's type, as OpenCV's filter2D does.

    >>> f32, f64, u8 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.uint8)
    >>> accumulator_dtype(f32, f64, f32), accumulator_dtype(f64, f64, f32)
    (dtype('float32'), dtype('float64'))
    >>> accumulator_dtype(u8, f64, u8), accumulator_dtype(u8, f32, u8)
    (dtype('float64'), dtype('float32'))
    >>> accumulator_dtype(f32, f32, f64)
    dtype('float64')
    """
    double = (np.float64, np.complex128)
    single_result = result in (np.float32, np.complex64) and image not in double
    asks_double = result in double or (default in double and not single_result)
    return np.dtype(np.float64 if asks_double else np.float32)


def largest_magnitude(image_dtype: np.dtype, fill: float) -> float:
    """The largest |value| an integer or bool image (or its fill) can put under a tap.

    >>> largest_magnitude(np.dtype(np.int8), 0.0), largest_magnitude(np.dtype(np.bool_), -3.0)
    (128.0, 3.0)
    """
    if image_dtype.kind == "b":
        return max(1.0, abs(float(fill)))
    info = np.iinfo(image_dtype)
    return max(-float(info.min), float(info.max), abs(float(fill)))


def saturation_bounds(integer: np.dtype, accumulator: np.dtype) -> tuple[float, float]:
    """Smallest and largest values of `accumulator` type that fit in `integer` type.

    >>> saturation_bounds(np.dtype(np.uint8), np.dtype(np.float32))
    (0.0, 255.0)
    >>> saturation_bounds(np.dtype(np.int32), np.dtype(np.float32))  # 2**31 - 1 is not a float32
    (-2147483648.0, 2147483520.0)
    """
    info = np.iinfo(integer)
    lo, hi = accumulator.type(info.min), accumulator.type(info.max)
    if int(hi) > info.max:
        hi = np.nextafter(hi, accumulator.type(0))
    if int(lo) < info.min:
        lo = np.nextafter(lo, accumulator.type(0))
    return float(lo), float(hi)


def working_image(image: np.ndarray) -> np.ndarray:
    """The image in a dtype the compiled kernels read directly (bool as uint8, float16 as float32)."""
    if image.dtype == np.bool_:
        return image.view(np.uint8)
    if image.dtype == np.float16:
        return image.astype(np.float32)
    return image
