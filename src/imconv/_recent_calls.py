"""Checked requests and chosen methods of recent calls, reused when a call repeats one.

Filtering many images of one size with one kernel checks the same arguments and
chooses the same method on every call. That is little work, but it runs in
Python, and after a large image has gone through the caches every object it
touches is a miss: before a 4096 x 4096 float32 3 x 3 filter could start, the
checks and the choice took ~0.15 ms of the ~0.5 ms a call spent outside the
compiled code (the filter itself: ~5 ms).

A call is known again by the image's type, shape and dtype (never its values),
the kernel's values (an array by its bytes, as `_memo.by_value` keys it, a name
by its name) and every other argument by class and value. What is kept is
its `Request`, less the image, with a copy of the kernel (a caller may change
its array afterwards), and its method, unless the choice rested on the image's
values (`Plan.read_image`: a scan for NaN and inf before box, low-rank or FFT).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._arguments import Request, output_dtype, prepare
from ._memo import Kept, values_key
from ._planner import plan

_kept = Kept(16)  # calls kept, the least recently used dropped first


def request_and_method(image, kernel, out, border, fill, mode, anchor, dtype, method,
                       convolution: bool) -> tuple[Request, str]:
    """`prepare` and the method `plan` chooses for computing (box checks the data itself).

    >>> def call(image):
    ...     return request_and_method(image, "sobel_x", None, "replicate", 0.0, "same", None, None,
    ...                               "auto", False)
    >>> (_, method), (second, _) = call(np.zeros((4, 6))), call(np.ones((4, 6)))
    >>> third, _ = call(np.ones((4, 6)))
    >>> method, second.kernel is third.kernel, float(third.image.max())   # kept; this call's image
    ('direct', True, 1.0)
    """
    key = _key(image, kernel, (border, fill, mode, anchor, dtype, method, convolution,
                               None if out is None else output_dtype(out, dtype)))
    found = None if key is None else _kept.get(key)
    if found is not None:
        template, chosen = found
        view = image[:, :, np.newaxis] if image.ndim == 2 else image
        return dataclasses.replace(template, image=view), chosen
    request = prepare(image, kernel, border=border, fill=fill, mode=mode, anchor=anchor,
                      dtype=dtype, convolution=convolution, method=method, out=out)
    chosen = plan(request, describe=False, box_checks_itself=True)
    if key is not None and not chosen.read_image:
        template = dataclasses.replace(request, image=None, kernel=request.kernel.copy())
        _kept.put(key, (template, chosen.method))
    return request, chosen.method


def _key(image, kernel, arguments: tuple):
    """A hashable stand-in for a call, equal only for calls that check and plan alike; None:
    not to be kept (an image NumPy must convert, a kernel that is neither a small array nor
    a name, an argument that cannot be hashed)."""
    if type(image) is not np.ndarray or not image.dtype.isnative:
        return None
    if type(kernel) not in (np.ndarray, str):
        return None
    values = values_key((kernel, *arguments))  # by class too: an anchor of floats is an error
    if values is None:  # a kernel of more than _memo's largest keyed array: a template
        return None
    key = (image.shape, image.dtype.str, values)
    try:
        hash(key)
    except TypeError:  # a list as anchor, say: checked every call
        return None
    return key
