"""Choosing the method for a correlation, from a cost model measured on this machine.

The model (data/cost_model.json, written by benchmarks/calibrate_planner.py)
prices one direct pass at ``per_pixel_ns + per_tap_ns * taps`` per output pixel
for each input type, or ``dense_3x3_ns`` for a 3 x 3 kernel the direct method sums
whole in registers (`_direct.sums_3x3_in_registers`). A separable plan is a row pass over the input plus a column
pass over its ring of rows, plus ``buffer_ns``, what separable measured beyond
those two passes (below zero: two direct passes each pay for laying out and
storing rows, separable once); a low-rank plan is that per term. The box method costs
``box_ns`` plus ``box_step_ns`` per step along the rows, a few for any width
(`_box.window_steps`). The FFT method costs ``transform_ns`` per
pixel its transforms go through (about 1.2 per output pixel for a 49 x 49
kernel on a large image), cutting the tiles out and storing them included.

Every method is exact within the accuracy contract, so the cheapest candidate
wins. Box, low-rank and FFT cannot keep the NaN rule; they are candidates only
for finite data, and the image is scanned for NaN and inf (``scan_ns``) only
when one of them would win. When computing (``box_checks_itself``), box is
priced without the scan: it notices NaN and inf in its running sums and then
redoes the image by separable passes (`_box`). Box kernels of a few rows on float
images are summed without running sums down the columns and keep the rule
(`_box.keeps_nan_rule`): box is then a candidate for any data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._arguments import Request
from ._box import box_weight, is_finite, keeps_nan_rule, window_steps
from ._direct import integer_form, sums_3x3_in_registers
from ._dtypes import working_image
from ._fft import fft_precision, transformed_per_pixel
from ._memo import by_value
from ._separable import factor_tolerance, lowrank_factors, separable_factors

_MODEL = json.loads((Path(__file__).parent / "data" / "cost_model.json").read_text())


@dataclass(frozen=True)
class Plan:
    """The method chosen for a request and the predicted milliseconds of every candidate."""

    method: str
    predicted_ms: dict[str, float] = field(default_factory=dict)
    description: str = ""
    read_image: bool = False  # whether the choice rests on the image's values (a scan for NaN)

    def __str__(self) -> str:
        lines = [self.description]
        for method, ms in sorted(self.predicted_ms.items(), key=lambda item: item[1]):
            mark = "  <- chosen" if method == self.method else ""
            lines.append(f"  {method:<10} predicted {ms:9.2f} ms{mark}")
        return "\n".join(lines)


def plan(request: Request, *, describe: bool = True, box_checks_itself: bool = False) -> Plan:
    """The plan for `request`: its `method` if given, else the cheapest candidate.

    `describe` adds a line about the request for printing (not needed to compute).
    `box_checks_itself`: leave the image's NaN and inf to the box method (see `_box`),
    which then needs no scan first. Without it (`explain`) the image is scanned
    when box applies, so that the plan names what will compute the result.
    """
    pixels = request.out_shape[0] * request.out_shape[1] * request.channels
    costs, finite_only = _candidate_costs(request)
    scans = request.image.dtype.kind in "fc"  # is_finite reads only float and complex images
    read_image = False
    if "box" in finite_only and np.isfinite(request.fill) and keeps_nan_rule(
            request.image.dtype, request.kernel.shape, request.image.shape[0]):
        costs["box"] = finite_only.pop("box")
    if request.method == "auto" and "box" in finite_only and np.isfinite(request.fill):
        box = finite_only.pop("box")
        read_image = scans and not box_checks_itself
        if box_checks_itself or is_finite(request.image, request.fill):
            costs["box"] = box
    if finite_only:
        needs_scan = request.image.dtype.kind in "fc"
        scan = _MODEL["direct"][_model_key(request.image.dtype)]["scan_ns"] if needs_scan else 0.0
        finite_only = {method: ns + scan for method, ns in finite_only.items()}
        wanted = request.method in finite_only or (
            request.method == "auto" and min(finite_only.values()) < min(costs.values()))
        read_image = read_image or (scans and wanted)
        if wanted and is_finite(request.image, request.fill):  # only then is the image scanned
            costs.update(finite_only)
    predicted = {method: ns * pixels / 1e6 for method, ns in costs.items()}
    method = request.method if request.method != "auto" else min(predicted, key=predicted.get)
    if method not in predicted:
        raise ValueError(f"method={method!r} does not apply: {_why_not(method, finite_only)}; use "
                         "method='auto' or 'direct'")
    return Plan(method, predicted, _describe(request) if describe else "", read_image)


@by_value
def kernel_terms(kernel: np.ndarray, method: str, accumulator: np.dtype):
    """The (column, row) terms of a real 2-D kernel for "separable" or "lowrank", or None."""
    rtol = factor_tolerance(accumulator)
    factors = separable_factors(kernel, rtol)
    if factors is not None:
        return [factors]
    return lowrank_factors(kernel, rtol) if method == "lowrank" else None


def _candidate_costs(request: Request):
    """ns per output pixel of each method that applies: (any data, finite data only), two new
    dicts (the caller may change them)."""
    costs, finite_only = _costs(request.kernel, request.image.dtype, request.accumulator,
                                request.result_dtype, request.fill, request.out_shape, request.method)
    return dict(costs), dict(finite_only)


@by_value  # ~20 us a call: a third of the fixed cost of a call on a small image
def _costs(kernel, image_dtype, accumulator, result_dtype, fill, out_shape, asked):
    """`_candidate_costs` from what they depend on; callers must not change the results."""
    parts = [p for p in _kernel_parts(kernel) if p.any()] or [kernel.real]
    passes = 2 if image_dtype.kind == "c" else 1  # real and imaginary parts of the image
    source, buffer = _model_key(image_dtype), _model_key(accumulator)
    if _in_registers(kernel, parts, image_dtype, accumulator, result_dtype, fill):
        costs = {"direct": passes * len(parts) * _MODEL["direct"][source]["dense_3x3_ns"]}
    else:
        costs = {"direct": passes * sum(_pass_ns(source, np.count_nonzero(p)) for p in parts)}
    finite_only = {}
    if kernel.ndim == 2:
        for method in _factored_methods(parts, asked):
            terms = [kernel_terms(p, method, accumulator) for p in parts]
            applies = all(t is not None for t in terms)
            if applies and (method == "separable" or any(len(t) > 1 for t in terms)):
                ns = passes * sum(
                    _pass_ns(source, np.count_nonzero(row)) + _pass_ns(buffer, np.count_nonzero(column))
                    + _MODEL["direct"][source]["buffer_ns"] for t in terms for column, row in t)
                (costs if method == "separable" else finite_only)[method] = ns
        if box_weight(kernel) is not None and image_dtype.kind != "c":
            cost = _MODEL["direct"][source]
            finite_only["box"] = cost["box_ns"] + cost["box_step_ns"] * window_steps(kernel.shape[1])
    fft = _MODEL["fft"][fft_precision(accumulator, result_dtype).__name__]
    transformed = transformed_per_pixel(kernel.shape[:2], out_shape)
    finite_only["fft"] = passes * len(parts) * fft["transform_ns"] * transformed
    return costs, finite_only


def _in_registers(kernel, parts, image_dtype, accumulator, result_dtype, fill) -> bool:
    """Whether direct sums every pass whole in registers (`_direct.sums_3x3_in_registers`)."""
    if kernel.shape[:2] != (3, 3):
        return False
    working_dtype = working_image(np.empty((0, 0), image_dtype)).real.dtype
    adds = image_dtype.kind == "c" and len(parts) == 2  # complex times complex
    integer_sums = any(integer_form(p, working_dtype, result_dtype, fill.real) is not None for p in parts)
    return all(sums_3x3_in_registers((3, 3), working_dtype, accumulator.type(part), adds,
                                     integer_sums=integer_sums)
               for part in (fill.real, fill.imag))  # as the direct method sees it


def _factored_methods(parts, asked: str) -> tuple[str, ...]:
    """"separable", and "lowrank" if asked for or if two rank-1 terms could cost fewer taps
    than direct (factoring costs ~0.1 ms: too much to spend on every small call)."""
    taps = sum(np.count_nonzero(p) for p in parts)
    kh, kw = parts[0].shape
    worth_it = asked == "lowrank" or 2 * (kh + kw) * len(parts) < taps
    return ("separable", "lowrank") if worth_it else ("separable",)


def _why_not(method: str, finite_only: dict) -> str:
    if method in finite_only:  # it applies to the kernel: the data were not finite
        return ("it needs a real image and fill with no NaN or inf (it would spread them to "
                "outputs that do not weigh them)")
    return _WHY_NOT[method]


_WHY_NOT = {
    "separable": "the kernel is not separable (its rank is above 1, or it has a weight per channel)",
    "lowrank": "the kernel's rank is not 2 or 3, or it has a weight per channel",
    "box": "it needs a real kernel whose weights are all equal",
}


def _kernel_parts(kernel: np.ndarray) -> list[np.ndarray]:
    return [kernel.real, kernel.imag] if kernel.dtype.kind == "c" else [kernel]


def _model_key(dtype: np.dtype) -> str:
    if dtype.kind in "fc":
        return "float64" if dtype in (np.float64, np.complex128) else "float32"
    return "uint8" if dtype.itemsize == 1 else "uint16"


def _pass_ns(source: str, taps: int) -> float:
    cost = _MODEL["direct"][source]
    return cost["per_pixel_ns"] + cost["per_tap_ns"] * taps


def _describe(request: Request) -> str:
    h, w, c = request.image.shape
    kernel = request.kernel
    return (f"{h} x {w}{f' x {c}' if c > 1 else ''} {request.image.dtype} image, "
            f"{kernel.shape[0]} x {kernel.shape[1]} kernel ({np.count_nonzero(kernel)} non-zero taps), "
            f"border {request.border.name}, output {request.out_shape[0]} x {request.out_shape[1]} "
            f"{request.result_dtype}")
