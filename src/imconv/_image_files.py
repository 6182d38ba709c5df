"""Image files: PNG, JPEG, TIFF and BMP in and out, in RGB order, written atomically.

The format is decided from the file's bytes, not its name. The pixel count is
checked from the header before any pixel is decoded, so a decompression bomb
fails fast; truncated and damaged files raise `ImageFileError`. A write goes to
a temporary file in the destination folder, is flushed to disk, then renamed
over the destination: an interrupted or failed write never leaves half a file
and never destroys the previous one.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
import threading
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

#: Pixels `read_image` accepts by default: a 16384 x 16384 image.
DEFAULT_MAX_PIXELS = 16384 * 16384

SAMPLE_PATH = Path(__file__).parent / "data" / "chelsea.png"

_COLORS = ("gray", "rgb", "keep")
_READ_FORMATS = ("PNG", "JPEG", "TIFF", "BMP")
_WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
                  ".bmp": "BMP"}
# (dtype, channels) each format stores losslessly. JPEG has no alpha, and Pillow
# drops BMP's alpha on reading, so RGBA goes to PNG and TIFF only.
_WRITABLE = {
    "PNG": (("uint8", 1), ("uint8", 3), ("uint8", 4), ("uint16", 1), ("bool", 1)),
    "JPEG": (("uint8", 1), ("uint8", 3)),
    "TIFF": (("uint8", 1), ("uint8", 3), ("uint8", 4), ("uint16", 1), ("bool", 1),
             ("float32", 1), ("float64", 1)),
    "BMP": (("uint8", 1), ("uint8", 3), ("bool", 1)),
}
# Modes whose channels are not R, G, B (and alpha): converted to RGB on reading.
_CONVERT_TO_RGB = {"CMYK", "YCbCr", "LAB", "HSV", "P", "PA", "RGBX", "RGBa", "La"}
# ITU-R BT.601 luma weights in OpenCV's 15-bit fixed point (cvtColor RGB2GRAY, 8 and 16 bit).
_LUMA_FIXED = (9798, 19235, 3735)
_LUMA_SHIFT = 15
_LUMA = (0.299, 0.587, 0.114)
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error,
                  IndexError, Image.DecompressionBombError)

# Pillow keeps its own pixel limit in a module global; imconv's `max_pixels` replaces
# it while a header is parsed, under this lock.
_pillow_limit_lock = threading.Lock()
_umask = os.umask(0)
os.umask(_umask)


class ImageFileError(ValueError):
    """An image file imconv cannot read or write: damaged, truncated, too large or not an image."""


class ImageFileWarning(UserWarning):
    """An image file read with less than it holds (16-bit colour decoded as 8-bit)."""


def read_image(path, color: str = "gray", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read a PNG, JPEG, TIFF or BMP file into an array in RGB order (never BGR).

    color : {"gray", "rgb", "keep"}
        ``gray``: (H, W), colour converted with the ITU-R BT.601 weights
        0.299 R + 0.587 G + 0.114 B, bit for bit as ``cv2.cvtColor(..., COLOR_RGB2GRAY)``
        for 8- and 16-bit images. ``rgb``: (H, W, 3), grey replicated, alpha dropped.
        ``keep``: as stored: (H, W) for grey, (H, W, 2) grey + alpha, (H, W, 3) RGB,
        (H, W, 4) RGBA; palette, CMYK and YCbCr images become RGB(A).
    max_pixels : int
        Largest width x height accepted, checked from the header before decoding.

    The dtype is the file's: uint8, uint16 for 16-bit grey, bool for 1-bit, int32
    or float32 for 32-bit TIFF. Of a multi-page TIFF, the first page. Pillow
    decodes 16-bit colour as 8-bit; imconv then warns (`ImageFileWarning`).

    >>> import imconv
    >>> imconv.read_image(imconv.SAMPLE_PATH).shape
    (300, 451)
    >>> imconv.read_image(imconv.SAMPLE_PATH, color="rgb").dtype
    dtype('uint8')
    """
    if color not in _COLORS:
        raise ValueError(f"color={color!r} is not known; use one of 'gray', 'rgb', 'keep'")
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels < 1:
        raise ValueError(f"max_pixels={max_pixels!r} must be a positive integer")
    path = _existing_file(path)
    with open(path, "rb") as file, _open_checked(file, path, max_pixels) as image:
        _warn_if_narrowed(image, path)
        try:
            image.load()
            array = _as_array(image)
        except _DECODE_ERRORS as error:
            raise ImageFileError(f"{str(path)!r} is damaged or truncated: {error}") from None
    return _to_color(array, color)


def _existing_file(path) -> Path:
    path = Path(os.fspath(path))
    if not path.exists():
        raise FileNotFoundError(f"image file {str(path)!r} does not exist")
    if path.is_dir():
        raise ImageFileError(f"{str(path)!r} is a folder, not an image file")
    return path


@contextlib.contextmanager
def _open_checked(file, path: Path, max_pixels: int):
    """Open the header with Pillow, refusing other formats and oversized images."""
    with _pillow_limit_lock:
        saved_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            image = Image.open(file, formats=_READ_FORMATS)
        except UnidentifiedImageError:
            raise ImageFileError(
                f"{str(path)!r} is not a readable PNG, JPEG, TIFF or BMP image (damaged, "
                "truncated, or another format)") from None
        except _DECODE_ERRORS as error:
            raise ImageFileError(f"{str(path)!r} has a damaged header: {error}") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved_limit
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageFileError(
                f"{str(path)!r} claims {width} x {height} = {width * height} pixels, more than "
                f"max_pixels={max_pixels}; pass a larger max_pixels if the file is trusted")
        yield image


def _warn_if_narrowed(image: Image.Image, path: Path) -> None:
    """Pillow decodes 16-bit colour PNG and TIFF as 8-bit: say so rather than lose it quietly."""
    raw_mode = str(image.tile[0].args) if image.tile else ""
    if image.mode in ("RGB", "RGBA") and ";16" in raw_mode:
        warnings.warn(
            f"{str(path)!r} holds 16-bit colour, which Pillow decodes as 8-bit (values / 257)",
            ImageFileWarning, stacklevel=4)


def _as_array(image: Image.Image) -> np.ndarray:
    if image.mode in _CONVERT_TO_RGB:
        has_alpha = "A" in image.mode or "a" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    array = np.asarray(image)
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def _to_color(array: np.ndarray, color: str) -> np.ndarray:
    if color == "keep":
        return array
    if array.ndim == 3:
        array = array[:, :, :1] if array.shape[2] == 2 else array[:, :, :3]  # drop alpha
    if color == "rgb":
        return array if array.ndim == 3 and array.shape[2] == 3 else np.repeat(
            np.atleast_3d(array)[:, :, :1], 3, axis=2)
    if array.ndim == 2:
        return array
    if array.shape[2] == 1:
        return array[:, :, 0]
    return rgb_to_gray(array)


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of an (H, W, 3) RGB array, in its own dtype.

    uint8 and uint16 use OpenCV's 15-bit fixed point, rounding half up, so the
    result equals ``cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)`` bit for bit.

    >>> import numpy as np
    >>> rgb_to_gray(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], np.uint8))
    array([[ 76, 150,  29,  18]], dtype=uint8)
    """
    if rgb.dtype in (np.uint8, np.uint16):
        r, g, b = (rgb[:, :, c].astype(np.int64) for c in range(3))
        fixed = r * _LUMA_FIXED[0] + g * _LUMA_FIXED[1] + b * _LUMA_FIXED[2]
        return ((fixed + (1 << (_LUMA_SHIFT - 1))) >> _LUMA_SHIFT).astype(rgb.dtype)
    gray = rgb[:, :, 0] * _LUMA[0] + rgb[:, :, 1] * _LUMA[1] + rgb[:, :, 2] * _LUMA[2]
    if rgb.dtype.kind in "iub":
        return np.rint(gray).astype(rgb.dtype)
    return gray.astype(rgb.dtype)


def write_image(path, array) -> None:
    """Write `array` as PNG, JPEG, TIFF or BMP, chosen by the file name's extension.

    uint8 (H, W) and (H, W, 3) RGB go to any format, (H, W, 4) RGBA to PNG and
    TIFF; uint16 grey to PNG and TIFF; bool to PNG, TIFF and BMP; float32/float64
    grey to TIFF as 32-bit float (use `to_uint8` first for the other formats).
    The file is replaced atomically: it is whole or it is what it was before.

    >>> import numpy as np, pathlib, tempfile, imconv
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> imconv.write_image(folder / "ramp.png", np.arange(12, dtype=np.uint8).reshape(3, 4))
    >>> imconv.read_image(folder / "ramp.png")[1]
    array([4, 5, 6, 7], dtype=uint8)
    """
    path = Path(os.fspath(path))
    file_format = _WRITE_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its extension; use one of "
            f"{', '.join(sorted(_WRITE_FORMATS))}")
    image = _to_pillow(np.asarray(array), file_format)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist")
    options = {"quality": 95} if file_format == "JPEG" else {}
    atomic_write(path, lambda file: image.save(file, format=file_format, **options))


def _to_pillow(array: np.ndarray, file_format: str) -> Image.Image:
    shape = array.shape
    if array.ndim == 3 and shape[2] == 1:
        array = array[:, :, 0]
    if array.size == 0:
        raise ValueError(f"cannot write an empty image (shape {shape})")
    channels = {2: 1, 3: shape[-1]}.get(array.ndim)
    if (array.dtype.name, channels) not in _WRITABLE[file_format]:
        hint = " (convert with imconv.to_uint8 first)" if array.dtype.kind in "fi" else ""
        raise TypeError(
            f"cannot write a {array.dtype} array of shape {shape} as {file_format}; "
            f"{file_format} takes {_writable_text(file_format)}{hint}")
    if array.dtype == np.float64:
        array = array.astype(np.float32)  # TIFF's 32-bit float
    return Image.fromarray(np.ascontiguousarray(array))  # picks the mode from dtype and shape


def _writable_text(file_format: str) -> str:
    """'uint8 (H, W) or (H, W, 3); bool (H, W)' for the entries of `_WRITABLE`."""
    shapes: dict[str, list[str]] = {}
    for dtype, channels in _WRITABLE[file_format]:
        shapes.setdefault(dtype, []).append("(H, W)" if channels == 1 else f"(H, W, {channels})")
    parts = []
    for dtype, names in shapes.items():
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        parts.append(f"{dtype} {listed}")
    return "; ".join(parts)


def atomic_write(path, write) -> None:
    """Call ``write(file)`` on a temporary file beside `path`, flush it to disk, rename it to `path`.

    The destination is either whole or what it was before, whatever happens
    meanwhile (an exception, Ctrl-C); the temporary file is removed on failure.
    A replaced file keeps its permissions; a new one gets the usual (umask).
    """
    path = Path(path)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
