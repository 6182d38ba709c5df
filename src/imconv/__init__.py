"""imconv: 2-D image convolution and cross-correlation, exact and fast.

Correlate or convolve grayscale and colour images with any kernel, under the
border and output-size conventions of OpenCV and SciPy, named plainly.

>>> import imconv
>>> image = imconv.sample_image()
>>> edges = imconv.correlate(image, "sobel_x", border="reflect101")
>>> edges.shape, edges.dtype
((300, 451), dtype('float32'))
>>> imconv.to_uint8(edges, how="abs").dtype
dtype('uint8')
"""

from . import kernels, reference
from ._borders import BORDERS
from ._correlation import convolve, correlate, explain
from ._display import to_uint8
from ._image_files import (DEFAULT_MAX_PIXELS, SAMPLE_PATH, ImageFileError, ImageFileWarning,
                           read_image, write_image)
from ._matching import Match, MatchScores, find_matches, match_template
from ._warm import warm

__version__ = "0.1.0"

__all__ = [
    "BORDERS",
    "DEFAULT_MAX_PIXELS",
    "ImageFileError",
    "ImageFileWarning",
    "Match",
    "MatchScores",
    "SAMPLE_PATH",
    "convolve",
    "correlate",
    "explain",
    "find_matches",
    "kernels",
    "learn",
    "match_template",
    "read_image",
    "reference",
    "sample_image",
    "to_uint8",
    "write_image",
    "warm",
]


def __getattr__(name: str):
    """``imconv.learn`` is imported on first use: the rest of imconv does not pay for it."""
    if name == "learn":
        import importlib

        return importlib.import_module(".learn", __name__)
    raise AttributeError(f"module 'imconv' has no attribute {name!r}")


def sample_image(color: str = "gray"):
    """The bundled sample photograph (Chelsea the cat, CC0, by Stefan van der Walt)."""
    return read_image(SAMPLE_PATH, color=color)
