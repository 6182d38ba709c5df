"""The border table: each drawing, each NumPy equivalent, and the compiled index map agree."""

import numpy as np
import pytest

import imconv
from imconv import _compiled
from imconv._borders import BORDERS, border_table_markdown, index_map, resolve_border


@pytest.mark.parametrize("border", BORDERS, ids=lambda b: b.name)
def test_drawing_is_what_the_engine_reads_outside_abcd(border):
    left, inside, right = (part.split() for part in border.drawing.split("|"))
    assert inside == ["a", "b", "c", "d"]
    row = np.array([[1.0, 2.0, 3.0, 4.0]])  # a b c d
    fill = 9.0  # f
    letters = {1.0: "a", 2.0: "b", 3.0: "c", 4.0: "d", 9.0: "f"}
    pad = len(left)
    picks = []
    for offset in range(-pad, 4 + len(right)):  # read one pixel at each offset with a 1 x 1 window
        kernel = np.zeros((1, 2 * pad + 9))
        kernel[0, pad + 4 + offset] = 1.0
        value = imconv.correlate(row, kernel, border=border.name, fill=fill, anchor=(0, pad + 4))[0, 0]
        picks.append(letters[value])
    assert picks == left + inside + right


@pytest.mark.parametrize("border", BORDERS, ids=lambda b: b.name)
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_compiled_index_map_equals_numpy_pad(border, n):
    mode = border.numpy_pad
    if mode == "constant":
        padded = np.pad(np.arange(n), 40, mode="constant", constant_values=-1)
    else:
        padded = np.pad(np.arange(n), 40, mode=mode)
    mapped = [_compiled.source_index(p, n, border.code) for p in range(-40, n + 40)]
    np.testing.assert_array_equal(mapped, padded)


@pytest.mark.parametrize("border", BORDERS, ids=lambda b: b.name)
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_numpy_index_map_equals_the_compiled_one(border, n):
    positions = np.arange(-40, n + 40)
    expected = [_compiled.source_index(int(p), n, border.code) for p in positions]
    np.testing.assert_array_equal(index_map(positions, n, border.code), expected)


def test_every_alias_resolves_and_the_table_lists_them():
    table = border_table_markdown()
    for border in BORDERS:
        assert resolve_border(border.name) is border
        assert f"`{border.name}`" in table
        for alias in border.aliases:
            assert resolve_border(alias) is border
            assert f"`{alias}`" in table


def test_numpy_reflect_is_called_out_as_reflect101():
    assert resolve_border("reflect101").numpy_pad == "reflect"
    assert resolve_border("reflect").numpy_pad == "symmetric"
    assert imconv.BORDERS is BORDERS
