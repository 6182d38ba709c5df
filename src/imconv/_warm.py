"""Compile, once, the kernels most calls need, so later processes only load them from disk.

numba compiles a kernel the first time it meets a new combination of types and
caches the machine code beside the package (``cache=True``): each new
combination costs a few seconds once, then about 0.01 s to load in a fresh
process. `warm` runs every method on small images of the common types, grey
and colour, into float and same-type outputs, so that first calls are fast too.
"""

from __future__ import annotations

import time

import numpy as np

_IMAGE_TYPES = (np.uint8, np.uint16, np.float32, np.float64)


def warm(echo=None) -> int:
    """Compile (or load) the common kernels; returns how many calls it made.

    >>> warm() > 0  # fast once the cache is warm
    True
    """
    from ._correlation import correlate  # late import: _correlation imports the compiled kernels

    dense = np.random.default_rng(0).normal(size=(31, 31))
    taller_than_the_image = np.full((41, 1), 1 / 41)  # box sums its columns first
    cases = [("sharpen", "direct"), ("sharpen", "lowrank"), ("sobel_x", "separable"),
             ("small_blur", "box"), (taller_than_the_image, "box"), (dense, "fft")]
    calls = 0
    start = time.perf_counter()
    for image_type in _IMAGE_TYPES:
        for shape in ((40, 48), (40, 48, 3)):
            image = np.ones(shape, image_type)
            outputs = [None] if image_type in (np.float32, np.float64) else [None, image_type]
            for kernel, method in cases:
                for dtype in outputs:
                    correlate(image, kernel, method=method, dtype=dtype)
                    calls += 1
    if echo is not None:
        echo(f"{calls} calls ready in {time.perf_counter() - start:.1f} s")
    return calls
