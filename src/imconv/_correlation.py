"""`correlate` and `convolve`: the public entry points of the engine."""

from __future__ import annotations

import itertools

import numpy as np

from ._arguments import Request, check_out, prepare
from ._box import box_weight, correlate_box
from ._direct import correlate_direct
from ._fft import correlate_fft
from ._planner import Plan, kernel_terms
from ._planner import plan as make_plan
from ._recent_calls import request_and_method
from ._results import new_result
from ._separable import correlate_separable


def correlate(image, kernel, *, border="replicate", fill=0.0, mode="same", anchor=None,
              dtype=None, method="auto", out=None):
    """Cross-correlate `image` with `kernel`: slide the kernel as it is, unflipped.

    ``out[y, x] = sum over (i, j) of kernel[i, j] * image[y + i - r, x + j - c]``
    with (r, c) the anchor. This is what ``cv2.filter2D`` computes, and what
    deep-learning libraries call convolution. Complex kernels are not conjugated
    (``scipy.ndimage.correlate`` and ``scipy.signal.correlate2d`` conjugate them).

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, C)
        bool, integer, float or complex. Channels are filtered separately and never mix.
    kernel : array_like, shape (kh, kw) or (kh, kw, C), or str
        Real or complex finite weights of any size, odd or even; a 3-D kernel applies
        its channel c to image channel c. A string names a kernel of `imconv.kernels`
        (``"sobel_x"``).
    border : str, default "replicate"
        What the kernel reads outside the image::

            constant     f f f | a b c d | f f f    (f = fill)
            replicate    a a a | a b c d | d d d
            reflect      c b a | a b c d | d c b
            reflect101   d c b | a b c d | c b a
            wrap         b c d | a b c d | a b c

        Aliases: ``nearest``/``edge`` (replicate), ``symmetric``/``symm`` (reflect),
        ``mirror``/``reflect_101`` (reflect101), ``fill``/``zero`` (constant),
        ``circular``/``grid-wrap`` (wrap). NumPy's ``pad(mode="reflect")`` is
        ``reflect101``; ``scipy.ndimage``'s ``"reflect"`` is ``reflect``.
    fill : float, default 0.0
        The outside value for ``border="constant"`` (complex allowed for complex images).
    mode : {"same", "valid", "full"}, default "same"
        ``same``: H x W, the kernel's anchor over each pixel. ``valid``:
        (H-kh+1) x (W-kw+1), the kernel wholly inside. ``full``: (H+kh-1) x (W+kw-1),
        every position where kernel and image overlap, reading outside through `border`.
    anchor : (int, int), optional
        (row, col) of the kernel element over the output pixel, in the kernel as
        given; default ``(kh // 2, kw // 2)`` as in OpenCV and ``scipy.ndimage``.
        Only for ``mode="same"``. ``scipy.signal``'s "same" uses
        ``((kh - 1) // 2, (kw - 1) // 2)``, which differs for even kernels.
    dtype : dtype, optional
        Result type. Default float32; float64 when the image or the kernel is a
        float64 array; complex when either is complex. Integer types round half to
        even and saturate, so ``dtype=np.uint8`` never wraps around.
    method : {"auto", "direct", "separable", "lowrank", "box", "fft"}, default "auto"
        How to compute; every method gives the same result within the accuracy
        contract. ``direct``: every non-zero tap. ``separable``: a rank-1 kernel
        as a row pass then a column pass. ``lowrank``: a rank-2 or 3 kernel as a
        sum of such passes. ``box``: a kernel of equal weights by running sums.
        ``fft``: overlap-save tiles through ``scipy.fft``. ``lowrank``, ``box`` and
        ``fft`` need finite images (they cannot keep the NaN rule).
        ``auto``: the cheapest by a cost model measured on this machine (see
        `imconv.explain`).
    out : ndarray, optional
        Write the result into this array (``dst`` in OpenCV, ``output`` in
        ``scipy.ndimage``) and return it: the shape of the result, and its dtype is
        the result type (give `dtype` too only if it agrees). Reusing one array for
        many images saves allocating and first touching a new one each call (a
        4096 x 4096 float32 result: about as long as a 3 x 3 filter itself). It may
        be the image itself, or overlap it: the result is then computed aside and
        copied in.

    Returns
    -------
    ndarray
        Shape set by `mode`, with the image's channel axis if it had one; `out` if given.

    Notes
    -----
    NaN and inf in the image reach exactly the outputs whose window gives them a
    non-zero weight; taps with zero weight are skipped, never multiplied.

    Examples
    --------
    >>> import numpy as np
    >>> import imconv
    >>> image = np.zeros((3, 5), np.uint8); image[1, 2] = 1
    >>> imconv.correlate(image, [[1, 2, 3]], border="constant")
    array([[0., 0., 0., 0., 0.],
           [0., 3., 2., 1., 0.],
           [0., 0., 0., 0., 0.]], dtype=float32)
    >>> imconv.correlate([[200, 200], [200, 200]], np.ones((3, 3)), dtype=np.uint8)
    array([[255, 255],
           [255, 255]], dtype=uint8)
    """
    return _correlate_or_convolve(image, kernel, border, fill, mode, anchor, dtype, method, out,
                                  convolution=False)


def convolve(image, kernel, *, border="replicate", fill=0.0, mode="same", anchor=None,
             dtype=None, method="auto", out=None):
    """Convolve `image` with `kernel`: true convolution, the kernel flipped in both axes.

    ``convolve(image, k, anchor=(r, c))`` equals
    ``correlate(image, k[::-1, ::-1], anchor=(kh - 1 - r, kw - 1 - c))``, the rule
    of ``cv2.filter2D``'s documentation and of ``scipy.ndimage.convolve``. Results
    equal ``scipy.signal.convolve2d`` for ``mode="full"`` and ``"valid"``.

    The parameters, the result and the NaN rule are those of `correlate`; the
    anchor is given in the kernel as passed, before the flip.

    Examples
    --------
    >>> import numpy as np
    >>> import imconv
    >>> image = np.zeros((3, 5), np.uint8); image[1, 2] = 1
    >>> imconv.convolve(image, [[1, 2, 3]], border="constant")
    array([[0., 0., 0., 0., 0.],
           [0., 1., 2., 3., 0.],
           [0., 0., 0., 0., 0.]], dtype=float32)
    >>> imconv.convolve(image, [[1, 2, 3]], mode="full").shape
    (3, 7)
    """
    return _correlate_or_convolve(image, kernel, border, fill, mode, anchor, dtype, method, out,
                                  convolution=True)


def _correlate_or_convolve(image, kernel, border, fill, mode, anchor, dtype, method, out, *,
                           convolution):
    """Check the arguments (convolution becomes correlation there), then compute."""
    request, chosen = request_and_method(image, kernel, out, border, fill, mode, anchor, dtype,
                                         method, convolution)
    return compute(request, out, chosen)


def explain(image, kernel, *, border="replicate", fill=0.0, mode="same", anchor=None, dtype=None,
            method="auto", convolution=False, echo=print) -> Plan:
    """Print and return how `correlate` (or `convolve`) would compute this, and what each way costs.

    >>> plan = explain(np.zeros((512, 512), np.float32), "small_blur", echo=None)
    >>> plan.method == min(plan.predicted_ms, key=plan.predicted_ms.get), "direct" in plan.predicted_ms
    (True, True)
    """
    plan = make_plan(prepare(image, kernel, border=border, fill=fill, mode=mode, anchor=anchor,
                             dtype=dtype, convolution=convolution, method=method))
    if echo is not None:
        echo(str(plan))
    return plan


def compute(request: Request, given: np.ndarray | None = None,
            method: str | None = None) -> np.ndarray:
    """Run a checked request: one real correlation pass per real/imaginary part.

    `given`: an array of the result's shape and type to write into (see `check_out`).
    The methods write straight into it when its rows are contiguous and it shares no
    memory with the image; otherwise into a new array, copied into it at the end.
    `method`: as the plan for computing chooses it, if known already.
    """
    if method is None:
        method = make_plan(request, describe=False, box_checks_itself=True).method
    if given is not None:
        check_out(given, request)
    in_place = given is not None and given.flags.c_contiguous and not np.may_share_memory(
        given, request.image)
    shape = (*request.out_shape, request.channels)
    # c-contiguous arrays reshape to a view, never a copy
    out = given.reshape(shape) if in_place else new_result(shape, request.result_dtype)
    targets = {"real": out.real, "imag": out.imag} if out.dtype.kind == "c" else {"real": out}
    written = set()
    n_nan = 0
    for src, fill, kernel, part, sign in _real_passes(request):
        options = dict(origin=request.origin, border=request.border.code, fill=fill,
                       accumulator=request.accumulator, accumulate=part in written)
        n_nan += _correlate_part(method, src, sign * kernel, targets[part], options)
        written.add(part)
    if "imag" in targets and "imag" not in written:  # real inputs, complex dtype asked for
        out.imag = 0
    if n_nan:
        raise ValueError(
            f"the result has NaN at {n_nan} pixels, which dtype={out.dtype} cannot hold; "
            "use a float dtype, or remove NaN from the image")
    result = out[:, :, 0] if request.image_was_2d else out
    if given is None:
        return result
    if not in_place:  # out was strided, or overlaps the image
        np.copyto(given, result)
    return given


def _correlate_part(method: str, src, kernel, out, options) -> int:
    """One real pass of `method`; returns how many NaN met an integer output."""
    is_sum_of_passes = method in ("separable", "lowrank")
    terms = kernel_terms(kernel, method, options["accumulator"]) if is_sum_of_passes else None
    if method == "box":
        return correlate_box(src, box_weight(kernel), kernel.shape, out, **options)
    if method == "fft":
        return correlate_fft(src, kernel, out, **options)
    if terms is not None:
        return correlate_separable(src, terms, out, **options)
    return correlate_direct(src, kernel, out, **options)  # direct, or a part with no weights


def _real_passes(request: Request):
    """(source, fill, kernel, "real" or "imag", sign) for each product of real and imaginary parts.

    (a + ib)(p + iq) = (ap - bq) + i(aq + bp): the real part of the image meets the
    real part of the kernel in the real part of the result, and so on; i * i = -1
    flips the sign.
    """
    image, kernel, fill = request.image, request.kernel, request.fill
    image_parts = [(image.real, fill.real, 1)]
    if image.dtype.kind == "c":
        image_parts.append((image.imag, fill.imag, 1j))
    kernel_parts = [(kernel.real, 1)]
    if kernel.dtype.kind == "c":
        kernel_parts.append((kernel.imag, 1j))
    for (src, part_fill, unit_image), (part, unit_kernel) in itertools.product(image_parts, kernel_parts):
        unit = unit_image * unit_kernel
        yield src, part_fill, part, "imag" if unit.imag else "real", -1.0 if unit == -1 else 1.0
