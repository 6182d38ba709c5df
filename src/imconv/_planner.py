"""Choosing the method for a correlation, from a cost model measured on this machine.

The model (data/cost_model.json, written by benchmarks/calibrate_planner.py)
prices one direct pass at ``per_pixel_ns + per_tap_ns * taps`` per output pixel
for each input type. A separable plan is a row pass over the input plus a column
pass over its ring of rows, plus ``buffer_ns``, what separable measured beyond
those two passes. The box method costs ``box_ns`` whatever the kernel size, plus
``scan_ns`` to check a float image for NaN and inf, a scan made only when box
could win. Every method is exact within the accuracy contract; box, which
cannot keep the NaN rule, is a candidate only for finite data. So the cheapest
candidate wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._arguments import Request
from ._box import box_weight, is_finite
from ._separable import separable_factors

_MODEL = json.loads((Path(__file__).parent / "data" / "cost_model.json").read_text())["direct"]


@dataclass(frozen=True)
class Plan:
    """The method chosen for a request and the predicted milliseconds of every candidate."""

    method: str
    predicted_ms: dict[str, float] = field(default_factory=dict)
    description: str = ""

    def __str__(self) -> str:
        lines = [self.description]
        for method, ms in sorted(self.predicted_ms.items(), key=lambda item: item[1]):
            mark = "  <- chosen" if method == self.method else ""
            lines.append(f"  {method:<10} predicted {ms:9.2f} ms{mark}")
        return "\n".join(lines)


def plan(request: Request) -> Plan:
    """The plan for `request`: its `method` if given, else the cheapest candidate."""
    parts = _kernel_parts(request.kernel)
    pixels = request.out_shape[0] * request.out_shape[1] * request.channels
    image_parts = 2 if request.image.dtype.kind == "c" else 1
    source = _model_key(request.image.dtype)
    costs = {"direct": image_parts * sum(_pass_ns(source, np.count_nonzero(p)) for p in parts)}
    # A part with no weights (the imaginary part of a real-valued complex kernel) needs no pass.
    factors = [separable_factors(p) for p in parts if p.any()] if request.kernel.ndim == 2 else [None]
    if all(f is not None for f in factors):
        buffer = _model_key(request.accumulator)
        costs["separable"] = image_parts * sum(
            _pass_ns(source, np.count_nonzero(row)) + _pass_ns(buffer, np.count_nonzero(column))
            + _MODEL[source]["buffer_ns"] for column, row in factors)
    box_ns = _MODEL[source]["box_ns"]
    if request.image.dtype.kind == "f":
        box_ns += _MODEL[source]["scan_ns"]
    could_win = request.method == "box" or (request.method == "auto" and box_ns < min(costs.values()))
    if could_win and _box_applies(request):  # only then is the image scanned for NaN and inf
        costs["box"] = box_ns
    predicted = {method: ns * pixels / 1e6 for method, ns in costs.items()}
    method = request.method if request.method != "auto" else min(predicted, key=predicted.get)
    if method not in predicted:
        raise ValueError(f"method={method!r} does not apply: {_WHY_NOT[method]}; use method='auto' "
                         "or 'direct'")
    return Plan(method, predicted, _describe(request))


_WHY_NOT = {
    "separable": "the kernel is not separable (its rank is above 1, or it has a weight per channel)",
    "box": "it needs a real kernel whose weights are all equal, and a real image and fill with no "
           "NaN or inf (running sums would spread them)",
}


def _box_applies(request: Request) -> bool:
    kernel, image = request.kernel, request.image
    if box_weight(kernel) is None or image.dtype.kind == "c":
        return False
    return is_finite(image, request.fill)  # scanned last: it reads the whole image


def _kernel_parts(kernel: np.ndarray) -> list[np.ndarray]:
    return [kernel.real, kernel.imag] if kernel.dtype.kind == "c" else [kernel]


def _model_key(dtype: np.dtype) -> str:
    if dtype.kind in "fc":
        return "float64" if dtype in (np.float64, np.complex128) else "float32"
    return "uint8" if dtype.itemsize == 1 else "uint16"


def _pass_ns(source: str, taps: int) -> float:
    cost = _MODEL[source]
    return cost["per_pixel_ns"] + cost["per_tap_ns"] * taps


def _describe(request: Request) -> str:
    h, w, c = request.image.shape
    kernel = request.kernel
    return (f"{h} x {w}{f' x {c}' if c > 1 else ''} {request.image.dtype} image, "
            f"{kernel.shape[0]} x {kernel.shape[1]} kernel ({np.count_nonzero(kernel)} non-zero taps), "
            f"border {request.border.name}, output {request.out_shape[0]} x {request.out_shape[1]} "
            f"{request.result_dtype}")
