"""Kernels written on a command line: a name, a builder call, an inline matrix, or a file.

==========================  ===============================================
``sobel_x``                 a named kernel (``imconv kernels`` lists them)
``gaussian:9:2.0``          a builder with its parameters, ``:``-separated;
``box:5x3``                 sizes as ``N`` or ``ROWSxCOLS``
``"0,-1,0;-1,5,-1;0,-1,0"`` an inline matrix: rows split by ``;``, values by
                            ``,`` or spaces (complex values as ``1+2j``)
``kernel.npy``              a file: ``.npy``, ``.json`` (nested lists), or
``kernel.txt``/``.csv``     text with one row per line, comma or space separated
==========================  ===============================================
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from . import kernels

_FILE_SUFFIXES = (".npy", ".json", ".txt", ".csv")
_SIZE = re.compile(r"^(\d+)(?:x(\d+))?$")


class KernelSpecError(ValueError):
    """A kernel written on the command line that cannot be understood."""


def parse_kernel(spec: str) -> np.ndarray:
    """The kernel that `spec` describes; KernelSpecError saying what is wrong otherwise.

    >>> parse_kernel("0,-1,0;-1,5,-1;0,-1,0")
    array([[ 0., -1.,  0.],
           [-1.,  5., -1.],
           [ 0., -1.,  0.]])
    >>> parse_kernel("box:1x3")
    array([[0.33333333, 0.33333333, 0.33333333]])
    """
    spec = spec.strip()
    if not spec:
        raise KernelSpecError("kernel is empty; give a name, a builder such as gaussian:9:2.0, "
                              "a matrix such as '1,2;3,4', or a file")
    if spec in kernels.names():
        return kernels.get(spec)
    if spec.lower().endswith(_FILE_SUFFIXES) or os.path.sep in spec:
        return _from_file(Path(spec))
    if ":" in spec or spec in kernels.BUILDERS:
        return _from_builder(spec)
    if re.fullmatch(r"[-+0-9.eEj,;\s]+", spec):
        return _checked(_from_text(spec.replace(";", "\n")), spec)
    raise KernelSpecError(
        f"kernel {spec!r} is not known; use a name ({', '.join(kernels.names())}), a builder "
        f"({', '.join(kernels.BUILDERS)}, e.g. gaussian:9:2.0), a matrix such as '1,2;3,4', "
        f"or a {'/'.join(_FILE_SUFFIXES)} file")


def _from_builder(spec: str) -> np.ndarray:
    name, *arguments = spec.split(":")
    if name not in kernels.BUILDERS:
        raise KernelSpecError(
            f"kernel builder {name!r} in {spec!r} is not known; use one of {', '.join(kernels.BUILDERS)}")
    builder, description = kernels.BUILDERS[name]
    try:
        values = [_builder_argument(argument) for argument in arguments]
        return builder(*values)
    except (TypeError, ValueError) as error:
        raise KernelSpecError(f"kernel {spec!r}: {error} (usage: {description})") from None


def _builder_argument(text: str):
    size = _SIZE.match(text)
    if size:
        rows, cols = size.groups()
        return int(rows) if cols is None else (int(rows), int(cols))
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a size (5 or 5x3) nor a number") from None


def _from_text(text: str) -> np.ndarray:
    rows = [re.split(r"[,\s]+", line.strip()) for line in text.splitlines() if line.strip()]
    try:
        values = [[complex(v) if "j" in v else float(v) for v in row if v] for row in rows]
    except ValueError as error:
        raise KernelSpecError(f"kernel matrix has a value that is not a number: {error}") from None
    lengths = sorted({len(row) for row in values})
    if len(lengths) > 1:
        raise KernelSpecError(f"kernel matrix rows have different lengths {lengths}; every row needs "
                              "the same number of values")
    return np.array(values)


def _from_file(path: Path) -> np.ndarray:
    if not path.is_file():
        raise KernelSpecError(f"kernel file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".json":
            array = np.array(json.loads(path.read_text()), dtype=float)
        else:
            array = _from_text(path.read_text())
    except (OSError, ValueError, TypeError) as error:
        raise KernelSpecError(f"kernel file {str(path)!r} could not be read: {error}") from None
    return _checked(array, str(path))


def _checked(array: np.ndarray, source: str) -> np.ndarray:
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.size == 0:
        raise KernelSpecError(f"kernel from {source!r} must be a non-empty 2-D matrix; got shape {array.shape}")
    if array.dtype.kind not in "biufc":
        raise KernelSpecError(f"kernel from {source!r} is not numeric (dtype {array.dtype})")
    if not np.isfinite(array).all():
        raise KernelSpecError(f"kernel from {source!r} contains NaN or inf")
    return array
