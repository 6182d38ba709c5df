"""Border conventions: one table of names, aliases and their equivalents elsewhere.

A border decides what a kernel reads where it hangs over the edge of the image.
Drawn for a row ``a b c d`` (outside | inside | outside)::

    constant     f f f f | a b c d | f f f f    (f is the fill value)
    replicate    a a a a | a b c d | d d d d
    reflect      d c b a | a b c d | d c b a    (the edge pixel is repeated)
    reflect101   d c b | a b c d | c b a        (the edge pixel is not repeated)
    wrap         a b c d | a b c d | a b c d    (the image tiles the plane)

Reflections repeat for kernels larger than the image, as in SciPy and OpenCV.
The other libraries use other names for the same rules, and the same names for
different rules: NumPy's ``pad(mode="reflect")`` is imconv's ``reflect101``,
while ``scipy.ndimage``'s ``"reflect"`` is imconv's ``reflect``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Codes passed to the compiled kernels, which never see strings.
CONSTANT, REPLICATE, REFLECT, REFLECT101, WRAP = range(5)


@dataclass(frozen=True)
class Border:
    """One border rule and what the other libraries call it."""

    name: str
    code: int
    drawing: str
    aliases: tuple[str, ...]
    opencv: str
    scipy_ndimage: str
    scipy_signal: str
    numpy_pad: str  # the np.pad mode that pads the same way


BORDERS: tuple[Border, ...] = (
    Border("constant", CONSTANT, "f f f | a b c d | f f f",
           ("fill", "zero", "grid-constant"),
           "BORDER_CONSTANT", "'constant' (cval=fill)", "'fill' (fillvalue=fill)", "constant"),
    Border("replicate", REPLICATE, "a a a | a b c d | d d d",
           ("nearest", "edge"),
           "BORDER_REPLICATE", "'nearest'", "none", "edge"),
    Border("reflect", REFLECT, "c b a | a b c d | d c b",
           ("symmetric", "symm", "grid-mirror"),
           "BORDER_REFLECT", "'reflect'", "'symm'", "symmetric"),
    Border("reflect101", REFLECT101, "d c b | a b c d | c b a",
           ("mirror", "reflect_101"),
           "BORDER_REFLECT_101 (OpenCV's default)", "'mirror'", "none", "reflect"),
    Border("wrap", WRAP, "b c d | a b c d | a b c",
           ("circular", "grid-wrap"),
           "BORDER_WRAP (cv2.filter2D refuses it)", "'wrap' or 'grid-wrap'", "'wrap'", "wrap"),
)


def _normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_")


_BY_NAME = {
    _normalise(alias): border
    for border in BORDERS
    for alias in (border.name, *border.aliases)
}


def resolve_border(border) -> Border:
    """Return the `Border` named `border` (a name or alias, any case).

    >>> resolve_border("mirror").name
    'reflect101'
    >>> resolve_border("bogus")
    Traceback (most recent call last):
    ...
    ValueError: border='bogus' is not known; use one of 'constant', 'replicate', 'reflect', 'reflect101', 'wrap' (or the aliases 'fill', 'zero', 'grid-constant', 'nearest', 'edge', 'symmetric', 'symm', 'grid-mirror', 'mirror', 'reflect_101', 'circular', 'grid-wrap')
    """
    if isinstance(border, str) and _normalise(border) in _BY_NAME:
        return _BY_NAME[_normalise(border)]
    names = ", ".join(repr(b.name) for b in BORDERS)
    aliases = ", ".join(repr(a) for b in BORDERS for a in b.aliases)
    raise ValueError(f"border={border!r} is not known; use one of {names} (or the aliases {aliases})")


def border_table_markdown() -> str:
    """The border table as Markdown, for the README and ``imconv`` help."""
    header = ("| imconv | drawing | aliases | OpenCV | scipy.ndimage | scipy.signal | numpy.pad |\n"
              "|---|---|---|---|---|---|---|\n")
    return header + "\n".join(_markdown_row(border) for border in BORDERS)


def _markdown_row(b: Border) -> str:
    drawing = b.drawing.replace("|", r"\|")  # a bare | would end the table cell
    aliases = ", ".join(f"`{alias}`" for alias in b.aliases)
    numpy_pad = f"'{b.numpy_pad}'" + (" (constant_values=fill)" if b.code == CONSTANT else "")
    return (f"| `{b.name}` | `{drawing}` | {aliases} | {b.opencv} | {b.scipy_ndimage} "
            f"| {b.scipy_signal} | {numpy_pad} |")


def index_map(positions: np.ndarray, n: int, border: int) -> np.ndarray:
    """Image indices read at `positions` of a line of `n` pixels under `border`; -1: the fill value.

    The NumPy twin of `_compiled.source_index`.

    >>> index_map(np.arange(-2, 5), 4, REFLECT101)
    array([2, 1, 0, 1, 2, 3, 2])
    """
    p = np.asarray(positions, np.int64)
    inside = (p >= 0) & (p < n)
    if border == CONSTANT:
        return np.where(inside, p, -1)
    if border == REPLICATE:
        return np.clip(p, 0, n - 1)
    if border == WRAP:
        return p % n
    if border == REFLECT:
        m = p % (2 * n)
        return np.where(m < n, m, 2 * n - 1 - m)
    if n == 1:
        return np.zeros_like(p)
    m = p % (2 * n - 2)
    return np.where(m < n, m, 2 * n - 2 - m)
