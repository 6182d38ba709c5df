"""Pictures for people: contact sheets of labelled results."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_CAPTION_HEIGHT = 22
_GAP = 6


def contact_sheet(tiles, columns: int = 4) -> np.ndarray:
    """Lay out ``(caption, uint8 image)`` pairs in a grid, each caption under its image.

    Grey tiles are shown in grey on an RGB sheet; tiles are placed top-left in
    cells as large as the largest tile.

    >>> import numpy as np
    >>> sheet = contact_sheet([("a", np.zeros((10, 20), np.uint8)), ("b", np.ones((5, 5, 3), np.uint8))])
    >>> sheet.shape, sheet.dtype
    ((44, 58, 3), dtype('uint8'))
    """
    tiles = [(caption, _as_rgb(image)) for caption, image in tiles]
    cell_h = max(image.shape[0] for _, image in tiles) + _CAPTION_HEIGHT
    cell_w = max(image.shape[1] for _, image in tiles)
    columns = min(columns, len(tiles))
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * cell_w + (columns + 1) * _GAP,
                              rows * cell_h + (rows + 1) * _GAP), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=15)
    for index, (caption, image) in enumerate(tiles):
        x = _GAP + (index % columns) * (cell_w + _GAP)
        y = _GAP + (index // columns) * (cell_h + _GAP)
        sheet.paste(Image.fromarray(image), (x, y))
        draw.text((x + 2, y + image.shape[0] + 3), caption, fill="black", font=font)
    return np.asarray(sheet)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        raise TypeError(f"contact sheet tiles must be uint8 (see imconv.to_uint8); got {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[:, :, np.newaxis], 3, axis=2)
    return image[:, :, :3]


# Viridis sampled at nine points: perceptually even, readable in grey and by colour-blind eyes.
_VIRIDIS = np.array([
    (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
    (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)], dtype=float)


def heat_map(values) -> np.ndarray:
    """Colour a 2-D map with viridis from its minimum (dark blue) to maximum (yellow).

    A constant map is all dark blue; NaN is shown black.

    >>> heat_map(np.array([[0.0, 0.5, 1.0]]))[0]
    array([[ 68,   1,  84],
           [ 33, 144, 141],
           [253, 231,  37]], dtype=uint8)
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    lo, hi = (values[finite].min(), values[finite].max()) if finite.any() else (0.0, 0.0)
    unit = np.zeros_like(values) if hi == lo else (np.where(finite, values, lo) - lo) / (hi - lo)
    position = unit * (len(_VIRIDIS) - 1)
    below = np.minimum(position.astype(int), len(_VIRIDIS) - 2)
    fraction = (position - below)[..., np.newaxis]
    colours = _VIRIDIS[below] * (1 - fraction) + _VIRIDIS[below + 1] * fraction
    colours[~finite] = 0
    return np.rint(colours).astype(np.uint8)


def draw_boxes(image: np.ndarray, boxes, *, width: int = 2) -> np.ndarray:
    """Draw labelled rectangles ``(x, y, w, h, label)`` on a copy of a uint8 image, in RGB."""
    picture = Image.fromarray(_as_rgb(image))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=14)
    for x, y, w, h, label in boxes:
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline=(255, 40, 40), width=width)
        draw.text((x + 3, y + 2), label, fill=(255, 255, 0), font=font, stroke_width=2,
                  stroke_fill=(0, 0, 0))
    return np.asarray(picture)
