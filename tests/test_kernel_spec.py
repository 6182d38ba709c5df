"""Kernels written on the command line: every form, and clear errors."""

import numpy as np
import pytest

from imconv import kernels
from imconv._kernel_spec import KernelSpecError, parse_kernel


@pytest.mark.parametrize("spec, expected", [
    ("sobel_x", kernels.get("sobel_x")),
    ("gaussian:9:2.0", kernels.gaussian(9, 2.0)),
    ("gaussian:7", kernels.gaussian(7)),
    ("box:5x3", kernels.box((5, 3))),
    ("box:4", kernels.box(4)),
    ("identity:3x5", kernels.identity((3, 5))),
    ("binomial:3", kernels.binomial(3)),
    ("0,-1,0;-1,5,-1;0,-1,0", kernels.get("sharpen")),
    ("1 2 3; 4 5 6", [[1, 2, 3], [4, 5, 6]]),
    ("1,2,3", [[1, 2, 3]]),
    ("1e-1, -2.5E0", [[0.1, -2.5]]),
    ("1+2j, 3", [[1 + 2j, 3]]),
])
def test_every_written_form_gives_its_kernel(spec, expected):
    np.testing.assert_array_equal(parse_kernel(spec), expected)


@pytest.mark.parametrize("spec, message", [
    ("", "kernel is empty"),
    ("soble_x", "kernel 'soble_x' is not known; use a name (small_blur"),
    ("gauss:9", "kernel builder 'gauss' in 'gauss:9' is not known; use one of identity, box, gaussian"),
    ("gaussian:nine", "'nine' is neither a size (5 or 5x3) nor a number"),
    ("gaussian:9:0", "sigma=0 must be a positive finite number"),
    ("box:0", "box size=0 must be a positive integer"),
    ("box:3:4:5", "usage: box(size)"),
    ("1,2;3", "rows have different lengths [1, 2]"),
    ("1,,2;3,x", "is not known"),
    ("missing.npy", "kernel file 'missing.npy' does not exist"),
])
def test_bad_kernel_text_is_explained(spec, message):
    with pytest.raises(KernelSpecError) as raised:
        parse_kernel(spec)
    assert message in str(raised.value)


def test_kernel_files(tmp_path):
    (tmp_path / "k.txt").write_text("# a comment line is not allowed\n")
    with pytest.raises(KernelSpecError, match="not a number"):
        parse_kernel(str(tmp_path / "k.txt"))
    np.save(tmp_path / "bad.npy", np.ones((2, 2, 2)))
    with pytest.raises(KernelSpecError, match="non-empty 2-D matrix"):
        parse_kernel(str(tmp_path / "bad.npy"))
    np.save(tmp_path / "nan.npy", np.array([[np.nan]]))
    with pytest.raises(KernelSpecError, match="NaN or inf"):
        parse_kernel(str(tmp_path / "nan.npy"))
    (tmp_path / "k.json").write_text("[[1, 2], [3]]")
    with pytest.raises(KernelSpecError, match="could not be read"):
        parse_kernel(str(tmp_path / "k.json"))
