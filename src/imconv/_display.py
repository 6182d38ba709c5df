"""Turning filter results into pictures people can look at."""

from __future__ import annotations

import numpy as np

_HOW = ("clip", "abs", "rescale")


def to_uint8(result, how: str = "clip") -> np.ndarray:
    """Convert a filter result to uint8 for display or for saving as PNG/JPEG.

    how : {"clip", "abs", "rescale"}
        ``clip``: values below 0 become 0, above 255 become 255 (blurs, sharpening).
        ``abs``: absolute value, then clip (edge maps, whose negative half would
        otherwise turn black; the magnitude for complex results).
        ``rescale``: stretch the finite values linearly from [min, max] to
        [0, 255], one range for all channels so colours keep their balance; a
        constant image gives zeros.

    Values round half to even. NaN becomes 0; +inf and -inf saturate (with
    ``rescale`` they are left out of the range and saturate too).

    >>> import numpy as np
    >>> to_uint8(np.array([-20.0, 0.4, 127.5, 300.0]))
    array([  0,   0, 128, 255], dtype=uint8)
    >>> to_uint8(np.array([-20.0, 0.4, 127.5, 300.0]), how="abs")
    array([ 20,   0, 128, 255], dtype=uint8)
    >>> to_uint8(np.array([-1.0, 0.0, 1.0]), how="rescale")
    array([  0, 128, 255], dtype=uint8)
    >>> to_uint8(np.full(3, 7.0), how="rescale")
    array([0, 0, 0], dtype=uint8)
    """
    if how not in _HOW:
        raise ValueError(f"how={how!r} is not known; use one of 'clip', 'abs', 'rescale'")
    values = np.asarray(result)
    if values.dtype.kind not in "biufc":
        raise TypeError(f"result has dtype {values.dtype}, which is not numeric")
    if values.dtype.kind == "c":
        if how != "abs":
            raise TypeError(f"result is complex; use how='abs' to show its magnitude (got how={how!r})")
        values = np.abs(values)
    values = values.astype(np.float64)
    if how == "abs":
        values = np.abs(values)
    elif how == "rescale":
        values = _stretch(values)
    values = np.nan_to_num(values, nan=0.0, posinf=255.0, neginf=0.0)
    return np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8)


def _stretch(values: np.ndarray) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros_like(values)
    lo, hi = finite.min(), finite.max()
    if hi == lo:  # a constant image: zeros, only +inf above the range
        return np.where(values > hi, np.inf, 0.0)
    return (values - lo) * (255.0 / (hi - lo))
