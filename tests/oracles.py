"""What the other libraries call things, tolerances, and strategies shared by the tests."""

import tracemalloc

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cv2

BORDERS = ("constant", "replicate", "reflect", "reflect101", "wrap")
MODES = ("same", "valid", "full")
# cv2.filter2D accepts these four (it refuses BORDER_WRAP and has no fill value but 0).
OPENCV_BORDERS = {"constant": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE,
                  "reflect": cv2.BORDER_REFLECT, "reflect101": cv2.BORDER_REFLECT_101}
# Every scipy.ndimage mode is also an imconv border name or alias.
NDIMAGE_MODES = ("reflect", "constant", "nearest", "mirror", "wrap", "grid-wrap", "grid-constant",
                 "grid-mirror")
SIGNAL_BOUNDARIES = ("fill", "wrap", "symm")


def scale(image, kernel, fill=0.0) -> float:
    """sum|k| x max|image|: the size a rounding error is measured against."""
    image = np.asarray(image)
    # in float64 (complex128): np.abs of int16 -32768 wraps around to -32768
    wide = image.astype(np.result_type(image.dtype, np.float64))
    largest = float(np.abs(wide).max()) if image.size else 0.0
    biggest = max(largest, abs(fill), 1.0)
    return float(np.abs(np.asarray(kernel)).sum()) * biggest


def assert_close(actual, expected, tolerance):
    """Same shape; NaN where expected has NaN; finite values within `tolerance`."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(np.isfinite(actual), np.isfinite(expected))
    finite = np.isfinite(expected)
    if finite.any():
        error = np.abs(actual[finite].astype(np.complex128) - expected[finite]).max()
        assert error <= tolerance, f"max error {error:.3g} > tolerance {tolerance:.3g}"


# Kernel weights in [-4, 4], kept off 1e-300-sized values that SciPy's oracles flush to zero.
_WEIGHTS = st.one_of(st.just(0.0), st.floats(1e-6, 4), st.floats(-4, -1e-6))


@st.composite
def kernels(draw, max_side=9, complex_=False, channels=None, sparse=True):
    kh = draw(st.integers(1, max_side))
    kw = draw(st.integers(1, max_side))
    shape = (kh, kw) if channels is None else (kh, kw, channels)
    values = draw(hnp.arrays(np.float64, shape, elements=_WEIGHTS))
    if sparse:  # zero taps, as in real kernels (Sobel, Laplacian)
        values = np.where(draw(hnp.arrays(np.bool_, shape)), 0.0, values)
    if complex_ and draw(st.booleans()):
        values = values + 1j * draw(hnp.arrays(np.float64, shape, elements=_WEIGHTS))
    return values


@st.composite
def images(draw, dtype=np.float64, max_side=10, channels=(None, 1, 3)):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    c = draw(st.sampled_from(channels))
    shape = (h, w) if c is None else (h, w, c)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        elements = st.integers(max(info.min, -1000), min(info.max, 1000))
    elif dtype.kind == "b":
        elements = st.booleans()
    else:
        elements = st.floats(-100, 100, width=32 if dtype == np.float32 else 64)
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def views(draw, array):
    """The same values as `array`, possibly as a strided, flipped or Fortran-ordered view."""
    kind = draw(st.sampled_from(["plain", "flipped", "strided", "fortran"]))
    if kind == "flipped":
        return np.ascontiguousarray(array[::-1, ::-1])[::-1, ::-1]
    if kind == "strided":
        big = np.zeros((array.shape[0] * 2, array.shape[1] * 3, *array.shape[2:]), array.dtype)
        big[::2, ::3] = array
        return big[::2, ::3]
    if kind == "fortran":
        return np.asfortranarray(array)
    return array


def per_channel(function, image, kernel, **options):
    """Run a SciPy function on each channel: scipy.ndimage would also filter across channels."""
    if image.ndim == 2:
        return function(image, kernel, **options)
    planes = [function(image[:, :, c], kernel if kernel.ndim == 2 else kernel[:, :, c], **options)
              for c in range(image.shape[2])]
    return np.stack(planes, axis=2)


def bytes_beyond_result(call) -> int:
    """Peak bytes `call()` allocates beyond the array it returns, by tracemalloc."""
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - result.nbytes
