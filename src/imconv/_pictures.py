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
