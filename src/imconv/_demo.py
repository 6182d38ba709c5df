"""The main job: the tutorial's kernel bank on a photograph, checked against OpenCV."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import kernels
from ._borders import resolve_border
from ._correlation import correlate, explain
from ._display import to_uint8
from ._image_files import SAMPLE_PATH, read_image, write_image
from ._pictures import contact_sheet

# OpenCV's codes for the borders cv2.filter2D accepts (it refuses wrap).
_OPENCV_BORDER = {"constant": 0, "replicate": 1, "reflect": 2, "reflect101": 4}


def run_bank(image_path=SAMPLE_PATH, out_dir="imconv-demo", *, border="replicate",
             color="gray", echo=print) -> list[dict]:
    """Apply every bank kernel, write each result and a contact sheet, print a table.

    Edge kernels (weights summing to 0) are shown as |value|, the others clipped
    to [0, 255]. Returns one dict per kernel: name, size, milliseconds and, when
    OpenCV is importable, the largest difference from ``cv2.filter2D``; the
    method column is the one `imconv.explain` reports the planner chose.
    """
    resolve_border(border)  # refuse a bad name before anything is read or written
    image = read_image(image_path, color=color)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in kernels.BANK:  # compile (or load) every method and start the threads: time filtering only
        correlate(image[:128], name, border=border)
    rows, tiles = [], [("original", image)]
    for name, weights in kernels.BANK.items():
        start = time.perf_counter()
        result = correlate(image, name, border=border)
        elapsed_ms = (time.perf_counter() - start) * 1e3
        method = explain(image, name, border=border, echo=None).method
        picture = to_uint8(result, how="abs" if weights.sum() == 0 else "clip")
        write_image(out / f"{name}.png", picture)
        tiles.append((name, picture))
        rows.append({"kernel": name, "size": "x".join(map(str, weights.shape)), "method": method,
                     "ms": elapsed_ms, "opencv_diff": _opencv_difference(image, weights, border, result)})
    write_image(out / "contact_sheet.png", contact_sheet(tiles, columns=4))
    echo(_table(rows, image, border))
    echo(f"wrote {len(rows)} results and contact_sheet.png to {out}/")
    return rows


def _opencv_difference(image, weights, border, result):
    try:
        import cv2
    except ImportError:
        return None
    if border not in _OPENCV_BORDER:
        return None
    expected = cv2.filter2D(image, cv2.CV_32F, weights.astype(np.float32),
                            borderType=_OPENCV_BORDER[border])
    return float(np.abs(expected - result).max())


def _table(rows, image, border) -> str:
    channels = f" x {image.shape[2]}" if image.ndim == 3 else ""
    lines = [f"image {image.shape[1]} x {image.shape[0]}{channels} {image.dtype}, border={border!r}",
             f"{'kernel':<12} {'size':>6} {'method':>9} {'ms':>8} {'max |diff| vs cv2.filter2D':>28}"]
    for row in rows:
        diff = "OpenCV not installed" if row["opencv_diff"] is None else f"{row['opencv_diff']:.2e}"
        lines.append(f"{row['kernel']:<12} {row['size']:>6} {row['method']:>9} {row['ms']:>8.2f} {diff:>28}")
    return "\n".join(lines)
