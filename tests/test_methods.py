"""Every method gives the reference's result within the accuracy contract, and keeps the NaN rule."""

import contextlib
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import imconv
from imconv import reference
from imconv import _box, _compiled, _direct, _parallel
from imconv._arguments import prepare
from imconv._direct import integer_form
from imconv._planner import plan
from imconv._separable import lowrank_factors, separable_factors
from oracles import (BORDERS, MODES, assert_close, bytes_beyond_result, images, kernels, per_channel,
                     scale)


def fits(mode, image, kernel) -> bool:
    """Whether the kernel fits the image, as mode="valid" needs."""
    return mode != "valid" or (kernel.shape[0] <= image.shape[0] and kernel.shape[1] <= image.shape[1])


def draw_anchor(data, kernel, mode):
    """None (the centre) or, for mode="same", sometimes an anchor anywhere in the kernel."""
    if mode == "same" and data.draw(st.booleans()):
        return data.draw(st.integers(0, kernel.shape[0] - 1)), data.draw(st.integers(0, kernel.shape[1] - 1))
    return None



@st.composite
def rank_one_kernels(draw, max_side=9):
    """outer(column, row) with some exact zeros, sometimes times a complex number."""
    column = draw(hnp.arrays(np.float64, draw(st.integers(1, max_side)),
                             elements=st.sampled_from([0.0, 1.0, -2.0, 0.5, 3.25, -0.75])))
    row = draw(hnp.arrays(np.float64, draw(st.integers(1, max_side)),
                          elements=st.sampled_from([0.0, 1.0, 2.0, -1.5, 0.125])))
    assume(column.any() and row.any())
    kernel = np.outer(column, row)
    if draw(st.booleans()):
        kernel = kernel * complex(draw(st.sampled_from([1.0, -2.0, 0.5])), draw(st.sampled_from([0.0, 1.0, -3.0])))
    return kernel


@given(image=images(channels=(None, 3)), kernel=rank_one_kernels(), border=st.sampled_from(BORDERS),
       mode=st.sampled_from(MODES), function=st.sampled_from(["correlate", "convolve"]),
       fill=st.floats(-5, 5))
def test_separable_equals_the_reference(image, kernel, border, mode, function, fill):
    assume(fits(mode, image, kernel))
    options = dict(border=border, mode=mode, fill=fill)
    expected = getattr(reference, function)(image, kernel, **options)
    actual = getattr(imconv, function)(image, kernel, method="separable", **options)
    assert actual.dtype == expected.dtype
    assert_close(actual, expected, 1e-12 * scale(image, kernel, fill))


@given(image=images(dtype=np.float32), kernel=rank_one_kernels(), border=st.sampled_from(BORDERS))
def test_separable_float32_is_within_the_contract(image, kernel, border):
    kernel = kernel.real
    expected = reference.correlate(image.astype(np.float64), kernel, border=border)
    actual = imconv.correlate(image, kernel.astype(np.float32), border=border, method="separable")
    assert_close(actual, expected, 1e-5 * scale(image, kernel))


@given(image=images(dtype=np.uint8), kernel=rank_one_kernels(), border=st.sampled_from(BORDERS))
def test_separable_uint8_output_equals_direct_except_at_half_ties(image, kernel, border):
    kernel = kernel.real
    direct = imconv.correlate(image, kernel, border=border, dtype=np.uint8, method="direct")
    separable = imconv.correlate(image, kernel, border=border, dtype=np.uint8, method="separable")
    assert np.abs(direct.astype(int) - separable).max(initial=0) <= 1
    exact = reference.correlate(image, kernel, border=border, dtype=np.float64)
    tie = np.abs(exact - np.floor(exact) - 0.5) <= 1e-5 * scale(image, kernel)
    np.testing.assert_array_equal(direct[~tie], separable[~tie])


@st.composite
def mirrored_rows(draw, max_half=9):
    """A row whose taps mirror each other, position and weight (a Gaussian's shape), zeros often."""
    half = draw(hnp.arrays(np.float64, draw(st.integers(1, max_half)),
                           elements=st.sampled_from([0.0, 1.0, -2.0, 0.5, 3.25])))
    middle = [draw(st.sampled_from([0.0, 1.0, 6.0]))] if draw(st.booleans()) else []
    row = np.concatenate([half, middle, half[::-1]])
    assume(np.count_nonzero(row) >= 2)
    return row


@given(data=st.data(), border=st.sampled_from(BORDERS), fill=st.sampled_from([0.0, 2.0, -3.5]),
       image_dtype=st.sampled_from([np.uint8, np.uint16, np.int16, np.bool_]),
       dtype=st.sampled_from([None, np.float32]))
def test_mirrored_rows_and_columns_on_integer_images_equal_the_reference(data, border, fill,
                                                                          image_dtype, dtype):
    """Integer images add each mirrored pair of pixels, or of row sums, before one multiply
    (`_folded_row_blocks`, `_folded_row_pass`, `_folded_column_pair`): rows wide enough for
    whole blocks and their tails, every channel count a block body is compiled for and one
    that is not, float64 and float32 sums (blocks of 32 and 64)."""
    row = data.draw(mirrored_rows())
    any_column = hnp.arrays(np.float64, st.integers(1, 5),
                            elements=st.sampled_from([0.0, 1.0, -0.5, 2.0])).filter(np.any)
    column = data.draw(st.one_of(mirrored_rows(max_half=6), any_column))
    kernel = np.outer(column, row)
    channels = data.draw(st.sampled_from([1, 2, 3, 4]))
    width = data.draw(st.integers(1, 2 * row.size + 180 // channels))
    shape = (data.draw(st.integers(1, 2 * column.size + 6)), width, channels)
    elements = (st.booleans() if image_dtype == np.bool_ else
                st.integers(np.iinfo(image_dtype).min, np.iinfo(image_dtype).max))
    image = data.draw(hnp.arrays(image_dtype, shape, elements=elements))
    options = dict(border=border, fill=fill, dtype=dtype)
    expected = reference.correlate(image, kernel, **options)
    actual = imconv.correlate(image, kernel, method="separable", **options)
    assert_close(actual, expected, (1e-5 if dtype else 1e-12) * scale(image, kernel, fill))


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("border", BORDERS)
def test_gaussian_on_a_wide_integer_image_equals_the_reference(channels, border):
    """A Gaussian's row and column both fold: several whole blocks per row, a tail, pairs of
    output rows next to constant-border rows (summed unfolded) and in the middle."""
    rng = np.random.default_rng(channels)
    image = rng.integers(0, 256, (40, 301, channels), dtype=np.uint8)
    kernel = imconv.kernels.gaussian(13, 2.5)
    for dtype, tolerance in [(None, 1e-12), (np.float32, 1e-5)]:
        expected = reference.correlate(image, kernel, border=border, fill=7.0, dtype=dtype)
        actual = imconv.correlate(image, kernel, method="separable", border=border, fill=7.0,
                                  dtype=dtype)
        assert_close(actual, expected, tolerance * scale(image, kernel, 7.0))


def test_mirrored_rows_on_float_images_are_not_folded():
    """Two float pixels near the float32 limit overflow when added first; each product does not."""
    image = np.full((4, 40), 3e38, np.float32)
    result = imconv.correlate(image, [[0.5, 0.5]], method="separable")
    np.testing.assert_allclose(result, 3e38, rtol=1e-6)


@given(data=st.data(), kernel=rank_one_kernels(max_side=6), border=st.sampled_from(BORDERS))
def test_separable_keeps_the_nan_rule(data, kernel, border):
    shape = (data.draw(st.integers(1, 10)), data.draw(st.integers(1, 10)))
    image = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from(
        [0.0, 2.0, -1.0, np.nan, np.inf, -np.inf])))
    direct = imconv.correlate(image, kernel, border=border, method="direct", fill=np.inf)
    separable = imconv.correlate(image, kernel, border=border, method="separable", fill=np.inf)
    np.testing.assert_array_equal(np.isfinite(separable), np.isfinite(direct))


def test_factors_keep_zero_weights_exactly_zero():
    column, row = separable_factors(imconv.kernels.get("sobel_y"))
    assert np.array_equal(np.outer(column, row) != 0, imconv.kernels.get("sobel_y") != 0)
    assert separable_factors(imconv.kernels.get("sharpen")) is None
    assert separable_factors(imconv.kernels.get("scharr_complex")) is None
    assert separable_factors(np.zeros((3, 3))) is None
    assert separable_factors(np.outer([1, 2], [3, 4]) + np.eye(2) * 1e-9) is None


@pytest.mark.parametrize("kernel, message", [
    ("sharpen", "method='separable' does not apply: the kernel is not separable"),
    (np.ones((3, 3, 3)), "does not apply"),
])
def test_separable_refuses_kernels_it_cannot_do(kernel, message):
    with pytest.raises(ValueError, match=message):
        imconv.correlate(np.ones((5, 5, 3)), kernel, method="separable")


def test_unknown_methods_are_refused():
    with pytest.raises(ValueError, match="method='fast' is not known; use one of 'auto', 'direct', 'separable'"):
        imconv.correlate(np.ones((5, 5)), "sharpen", method="fast")


def test_auto_chooses_by_the_measured_cost(capsys):
    big = np.zeros((2048, 2048), np.float32)
    plan = imconv.explain(big, "large_blur")
    assert {"direct", "separable"} <= plan.predicted_ms.keys()
    assert plan.method == min(plan.predicted_ms, key=plan.predicted_ms.get) != "direct"
    assert "<- chosen" in capsys.readouterr().out
    assert imconv.explain(big, "sobel_x", echo=None).method == "direct"
    assert imconv.explain(big, "sharpen", echo=None).predicted_ms.keys() == {"direct"}
    forced = imconv.explain(big, "large_blur", method="direct", echo=None)
    assert forced.method == "direct" and forced.predicted_ms["direct"] > forced.predicted_ms["separable"]


def test_3x3_kernels_are_priced_by_their_own_measurement_whatever_their_zeros():
    """All nine products are summed (`_compiled._rows_3x3`): zero taps cost the same."""
    from imconv._planner import _MODEL
    big = np.zeros((1000, 1000), np.float32)
    expected_ms = _MODEL["direct"]["float32"]["dense_3x3_ns"] * big.size / 1e6
    for kernel in ("sharpen", "sobel_x", np.ones((3, 3)) / 9.0):
        plan = imconv.explain(big, kernel, echo=None)
        assert plan.predicted_ms["direct"] == pytest.approx(expected_ms)
    five_taps = imconv.explain(big, np.eye(5), echo=None).predicted_ms["direct"]
    assert five_taps != pytest.approx(expected_ms)   # other shapes: by their non-zero taps
    per_channel = imconv.explain(big[:, :, None].repeat(2, 2), np.ones((3, 3, 2)), echo=None)
    assert per_channel.predicted_ms["direct"] == pytest.approx(2 * expected_ms)


def test_3x3_kernels_summed_by_the_general_path_are_priced_by_their_taps():
    """The planner and the direct method decide "in registers" by one rule."""
    from imconv._planner import _MODEL
    big = np.zeros((1000, 1000), np.uint8)
    in_registers = _MODEL["direct"]["uint8"]["dense_3x3_ns"] * big.size / 1e6
    integer_sums = imconv.explain(big, "sharpen", dtype=np.uint8, echo=None)  # exact int16 sums
    assert integer_sums.predicted_ms["direct"] != pytest.approx(in_registers)
    float_sums = imconv.explain(big, "sharpen", dtype=np.float32, echo=None)
    assert float_sums.predicted_ms["direct"] == pytest.approx(in_registers)
    fill_not_held = imconv.explain(big, np.ones((3, 3)), border="constant", fill=0.5, echo=None)
    assert fill_not_held.predicted_ms["direct"] != pytest.approx(in_registers)


def test_separable_allocates_no_image_sized_buffer():
    image = np.ones((1024, 1024), np.float32)
    imconv.correlate(image[:16, :16], "large_blur", method="separable")  # compile first
    extra = bytes_beyond_result(lambda: imconv.correlate(image, "large_blur", method="separable"))
    ring = 21 * 1024 * 4  # kh rows of the output's width, per thread
    assert extra <= 8 * ring + 64 * 1024, f"{extra} bytes beyond the output"


# --- box: running sums -----------------------------------------------------------------

ORDERS = ["rows first, running sums", "rows first, straight columns", "columns first"]


@contextlib.contextmanager
def summing(order: str):
    """Within it, box sums float images in `order`, whatever their size (small test images
    would otherwise always sum columns first: rings taller than the image), and rows first
    by running sums down the columns or by straight sums of every window's column."""
    rows_first = order != ORDERS[2]
    straight_max = 10 ** 6 if order == ORDERS[1] else 0
    with mock.patch.object(_box, "sums_rows_first", lambda dtype, *_: dtype.kind == "f" and rows_first), \
            mock.patch.object(_box, "STRAIGHT_COLUMNS_MAX", straight_max):
        yield


@st.composite
def box_kernels(draw):
    # up to 8 wide: straight sums along rows; 9 to 32: sums of 4, then of those; wider: levels,
    # past 64 the third
    widths = st.sampled_from([11, 16, 21, 31, 32, 33, 63, 64, 85])
    shape = (draw(st.integers(1, 9)), draw(st.integers(1, 9) | widths))
    return np.full(shape, draw(st.sampled_from([1.0, -0.5, 1 / 9, 3.0])))


@given(image=images(channels=(None, 1, 3)), kernel=box_kernels(), border=st.sampled_from(BORDERS),
       mode=st.sampled_from(MODES), function=st.sampled_from(["correlate", "convolve"]),
       fill=st.floats(-5, 5), order=st.sampled_from(ORDERS), data=st.data())
def test_box_equals_the_reference(image, kernel, border, mode, function, fill, order, data):
    assume(fits(mode, image, kernel))
    anchor = draw_anchor(data, kernel, mode)
    options = dict(border=border, mode=mode, fill=fill, anchor=anchor)
    expected = getattr(reference, function)(image, kernel, **options)
    with summing(order):
        actual = getattr(imconv, function)(image, kernel, method="box", **options)
    assert_close(actual, expected, 1e-12 * scale(image, kernel, fill))


@given(image=images(dtype=np.uint8), kernel=box_kernels(), border=st.sampled_from(BORDERS))
def test_box_uint8_output_equals_direct_except_at_half_ties(image, kernel, border):
    direct = imconv.correlate(image, kernel, border=border, dtype=np.uint8, method="direct")
    box = imconv.correlate(image, kernel, border=border, dtype=np.uint8, method="box")
    exact = reference.correlate(image, kernel, border=border, dtype=np.float64)
    tie = np.abs(exact - np.floor(exact) - 0.5) <= 1e-5 * scale(image, kernel)
    np.testing.assert_array_equal(direct[~tie], box[~tie])


@pytest.mark.parametrize("width", [170, 171, 172, 400])
@pytest.mark.parametrize("kernel_width", [1, 2, 7, 13, 21, 64, 85])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8])
def test_box_rows_wider_than_a_chunk(rng, width, kernel_width, order, dtype):
    """Rows of 3 x 170 = 510 to 1200 values cross the 512-value chunks of the sums along rows
    (windows up to 8 wide: summed in blocks of vectors, then a tail)."""
    image = (rng.random((6, width, 3)) * 255).astype(dtype)
    kernel = np.full((3, kernel_width), 1 / 7, np.float32 if dtype == np.float32 else np.float64)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for border in BORDERS:
        expected = reference.correlate(image.astype(np.float64), kernel, border=border, fill=2.0)
        with summing(order):
            actual = imconv.correlate(image, kernel, border=border, fill=2.0, method="box")
        assert_close(actual, expected, tolerance * scale(image, kernel, 2.0))


@pytest.mark.parametrize("width", [5, 40, 63, 64, 65, 130, 300])
@pytest.mark.parametrize("size", [9, 21, 32])
@pytest.mark.parametrize("channels", [1, 3])
def test_box_row_sums_by_quads_write_only_their_row(rng, width, size, channels):
    """`_compiled._image_row_window_by_quads` sums the blocks of vectors inside an image row
    from the row itself, and the others from the laid-out line. A row narrower than a block
    (64 float32) has none inside; values after the target must stay as they were (a loop over
    whole blocks once wrote past it there)."""
    row = rng.random(width * channels).astype(np.float32)
    origin = size // 2
    base, n = origin, width * channels
    line_length = (max(width + size - 2 - origin, width - 1) + base + 1) * channels
    for border in (_compiled.REFLECT, _compiled.CONSTANT):
        lines = np.zeros((2, line_length), np.float32)
        guarded = np.full(n + 256, -7.0, np.float32)
        _compiled._image_row_window_by_quads(row, channels, size, border, np.float32(0.5), lines,
                                             base, (base - origin) * channels, guarded[:n])
        np.testing.assert_array_equal(guarded[n:], -7.0)
        pad = dict(mode="symmetric") if border == _compiled.REFLECT else dict(constant_values=0.5)
        padded = np.pad(row.reshape(width, channels).astype(np.float64),
                        [(origin, size - 1 - origin), (0, 0)], **pad)
        expected = sum(padded[j:j + width] for j in range(size)).ravel()
        np.testing.assert_allclose(guarded[:n], expected, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ORDERS)
def test_box_sums_a_column_alike_in_a_block_and_in_the_tail(rng, dtype, order):
    """Columns 40-89 of a 100-wide image fall after its last whole block, of a 200-wide one in
    a block: the same window sums, bit for bit."""
    image = (rng.random((40, 200)) * 255).astype(dtype)
    kernel = np.full((3, 7), 1 / 21, dtype)
    with summing(order):
        narrow = imconv.correlate(image[:, :100], kernel, method="box", mode="valid")
        wide = imconv.correlate(image, kernel, method="box", mode="valid")
    np.testing.assert_array_equal(narrow[:, 40:90], wide[:, 40:90])


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("kernel_shape", [(7, 5), (21, 13)], ids=["straight", "running"])
def test_box_sums_alike_however_the_result_is_stored(rng, border, kernel_shape):
    """Straight column sums go into the result's rows themselves: a result that streams (9 MB,
    on written pages) by non-temporal stores of whole cache lines, from the first line of
    each row where its rows start off a line (4 bytes past one here); else through scratch
    rows. Running sums move two rows at a time where the result is plain float32 (stored
    straight, or streamed through two scratch rows), the row left at the end of a band
    alone. The same sums, bit for bit. (The image rows that enter the window sum in the same
    pass as the columns, `_compiled._pair_of_rows_then_columns`, except at the start of a
    band: `test_box_straight_sums_do_not_depend_on_the_threads`.)"""
    image = rng.random((1100, 2048)).astype(np.float32)
    kernel = np.full(kernel_shape, 1 / (kernel_shape[0] * kernel_shape[1]), np.float32)
    block = np.empty(2 * image.nbytes + 128, np.uint8)
    block[:] = 0  # written pages: the results stream
    first = (-block.ctypes.data) % 64
    on_lines = block[first:first + image.nbytes].view(np.float32).reshape(image.shape)
    second = first + image.nbytes + 64 + 4  # 4 bytes past a cache line
    off_lines = block[second:second + image.nbytes].view(np.float32).reshape(image.shape)
    for out in (on_lines, off_lines):
        assert _direct.store_rule(out, np.dtype(np.float32), False)[0] == _compiled.STORE_STREAM
        assert _box._stores_straight(out, np.dtype(np.float32), _compiled.STORE_STREAM)
        imconv.correlate(image, kernel, border=border, out=out, method="box")
    with mock.patch.object(_box, "_stores_straight", lambda *_: False):
        through_scratch = imconv.correlate(image, kernel, border=border, method="box")
    np.testing.assert_array_equal(off_lines, on_lines)
    np.testing.assert_array_equal(through_scratch, on_lines)
    # float64 results take the running sums a row at a time
    as_float64 = imconv.correlate(image, kernel, border=border, method="box", dtype=np.float64)
    np.testing.assert_allclose(on_lines, as_float64, rtol=0, atol=1e-5)


@pytest.mark.parametrize("method, kernel", [
    ("direct", np.arange(25.0).reshape(5, 5) - 12), ("separable", imconv.kernels.gaussian(9, 2.0)),
    ("box", np.full((7, 7), 1 / 49)), ("box", np.full((3, 3), 1 / 9))],
    ids=["direct", "separable", "box-running", "box-straight"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_rows_ending_inside_a_block_of_vectors_sum_as_in_a_whole_block(rng, method, kernel, dtype):
    """The compiled loops sum a row a block of 4 vectors at a time (64 float32 sums, 32
    float64); a row that ends inside a block ends in that block with the lanes past its end
    masked off. The last valid outputs of a 1640-wide image (1636 of a 5-wide kernel) lie in
    such a block, those of a 1700-wide one in a whole block: the reference's within the
    contract, and bit for bit the same sums in both (except separable on integer images,
    whose mirrored row pass sums the values after its last whole block another way)."""
    image = (rng.random((12, 1700)) * 255).astype(dtype)
    result = np.float64 if dtype == np.float64 else np.float32
    wide = imconv.correlate(image, kernel, method=method, mode="valid", dtype=result)
    narrow = imconv.correlate(image[:, :1640], kernel, method=method, mode="valid", dtype=result)
    expected = reference.correlate(image[:, :1640].astype(np.float64), kernel, mode="valid")
    assert_close(narrow, expected, (1e-5 if result == np.float32 else 1e-12) * scale(image, kernel))
    if not (method == "separable" and dtype == np.uint8):
        np.testing.assert_array_equal(narrow, wide[:, :narrow.shape[1]])


@pytest.mark.parametrize("shape, kernel_shape", [((2, 16384), (1, 7)), ((16384, 2), (7, 1))])
@pytest.mark.parametrize("order", ORDERS)
def test_box_running_sums_do_not_drift_over_16k_pixels(rng, shape, kernel_shape, order):
    image = (rng.random(shape) * 255).astype(np.float32)
    kernel = np.full(kernel_shape, 1 / 7, np.float32)
    expected = reference.correlate(image.astype(np.float64), kernel.astype(np.float64), border="reflect")
    with summing(order):
        actual = imconv.correlate(image, kernel, border="reflect", method="box")
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5 * scale(image, kernel))


@given(image=images(dtype=np.float32, channels=(None, 3)), kernel=box_kernels(),
       border=st.sampled_from(BORDERS), mode=st.sampled_from(MODES),
       fill=st.sampled_from([0.0, 2.5, -3.0, 0.1]), order=st.sampled_from(ORDERS), data=st.data())
def test_box_float32_is_within_the_contract(image, kernel, border, mode, fill, order, data):
    """float32 images (row sums in float32 when summed rows first), fills float32 cannot hold
    (0.1), and float64 results of float32 images, which must be within the float64 contract."""
    assume(fits(mode, image, kernel))
    kernel = kernel.astype(np.float32)
    options = dict(border=border, mode=mode, fill=fill, anchor=draw_anchor(data, kernel, mode))
    expected = reference.correlate(image.astype(np.float64), kernel.astype(np.float64), **options)
    with summing(order):
        actual = imconv.correlate(image, kernel, method="box", **options)
        double = imconv.correlate(image, kernel, method="box", dtype=np.float64, **options)
    assert actual.dtype == np.float32
    assert_close(actual, expected, 1e-5 * scale(image, kernel, fill))
    assert_close(double, expected, 1e-12 * scale(image, kernel, fill))


@given(dtype=st.sampled_from([np.uint16, np.int16, np.int32, np.bool_]), kernel=box_kernels(),
       fill=st.sampled_from([0.0, 7.0, 0.5]), data=st.data())
def test_box_integer_images_equal_the_reference(dtype, kernel, fill, data):
    """Exact integer sums (16 bits and less, integer fill) and float64 sums (the rest)."""
    image = data.draw(images(dtype=dtype))
    for border in BORDERS:
        expected = reference.correlate(image, kernel, border=border, fill=fill, dtype=np.float64)
        actual = imconv.correlate(image, kernel, border=border, fill=fill, dtype=np.float64,
                                  method="box")
        assert_close(actual, expected, 1e-12 * scale(image, kernel, fill))


def test_box_is_weighed_only_where_it_could_win():
    image = np.ones((1024, 1024), np.float32)
    assert "box" not in imconv.explain(image, "sharpen", echo=None).predicted_ms       # not constant
    tall = np.ones((11, 11))  # running sums down its columns: box needs finite data (a scan)
    assert "box" not in imconv.explain(image, tall, method="direct", echo=None).predicted_ms
    assert "box" in imconv.explain(image, tall, method="box", echo=None).predicted_ms
    assert "box" in imconv.explain(image, np.ones((3, 3)), method="direct", echo=None).predicted_ms


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_box_is_never_chosen_for_non_finite_data(bad):
    image = np.ones((2048, 2048), np.float32)
    huge = np.full((61, 61), 1 / 61 ** 2, np.float32)
    assert imconv.explain(image, huge, echo=None).method == "box"
    image[5, 5] = bad
    plan = imconv.explain(image, huge, echo=None)
    assert "box" not in plan.predicted_ms and plan.method != "box"
    with pytest.raises(ValueError, match="method='box' does not apply: it needs a real image and fill with no NaN"):
        imconv.correlate(image, huge, method="box")
    with pytest.raises(ValueError, match="method='box' does not apply"):
        imconv.correlate(np.ones((9, 9)), huge[:3, :3], method="box", border="constant", fill=bad)
    assert np.isnan(imconv.correlate(image, huge)[5, 5]) or bad == np.inf


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("order", ORDERS)
def test_box_left_to_itself_keeps_the_nan_rule(rng, bad, border, order):
    """Running sums notice the NaN or inf they met, and the image is redone by separable
    passes; straight sums (no subtraction) keep the rule as they go."""
    image = (rng.random((700, 300)) * 255).astype(np.float32)
    kernel = np.full((31, 31), 1 / 31 ** 2, np.float32)
    request = prepare(image, kernel, border=border, fill=0.0, mode="same", anchor=None, dtype=None,
                      convolution=False)
    with summing(order):
        assert plan(request, box_checks_itself=True).method == "box"  # what compute runs: no scan
        np.testing.assert_array_equal(imconv.correlate(image, kernel, border=border),
                                      imconv.correlate(image, kernel, border=border, method="box"))
        tolerance = 1e-5 * scale(image, kernel)
        image[650, 7] = bad  # in the last thread's band
        actual = imconv.correlate(image, kernel, border=border)
    expected = reference.correlate(image.astype(np.float64), kernel.astype(np.float64), border=border)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(actual), np.isinf(expected))
    if order == ORDERS[1]:
        finite = np.isfinite(expected)
        assert_close(actual[finite], expected[finite], tolerance)
    else:
        np.testing.assert_array_equal(actual, imconv.correlate(image, kernel, border=border,
                                                               method="separable"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_box_straight_sums_do_not_depend_on_the_threads(monkeypatch, rng, dtype):
    """Bands of odd heights split the pairs of rows that straight sums take together, and a band
    sums the image rows of its first window one at a time, the others two at a time with the
    columns (running sums start again at each band: their last bits depend on where the bands
    begin)."""
    image = (rng.random((301, 150, 3)) * 255).astype(dtype)
    image[rng.random(image.shape) < 0.002] = np.nan  # straight sums keep the rule as they go
    kernel = np.full((5, 4), 1 / 20)
    monkeypatch.setattr(_parallel, "MIN_WORK_PER_BAND", 1)  # a band per thread, however small
    results = []
    for threads in ("1", "2", "3", "7"):
        monkeypatch.setenv("IMCONV_NUM_THREADS", threads)
        with summing(ORDERS[1]):
            results.append(imconv.correlate(image, kernel, border="reflect101", method="box"))
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])
    expected = reference.correlate(image.astype(np.float64), kernel, border="reflect101")
    tolerance = (1e-5 if dtype == np.float32 else 1e-12) * scale(np.nan_to_num(image), kernel)
    assert_close(results[0], expected, tolerance)


def test_box_of_a_few_rows_takes_non_finite_images():
    """Straight sums keep the NaN rule: box applies to any float image, by name or by choice."""
    image = np.ones((2048, 2048), np.float32)
    image[5, 5] = np.nan
    kernel = np.full((3, 3), 1 / 9, np.float32)
    assert "box" in imconv.explain(image, kernel, echo=None).predicted_ms
    actual = imconv.correlate(image, kernel, method="box")
    assert np.isnan(actual[4:7, 4:7]).all() and np.isnan(actual).sum() == 9
    assert _box.keeps_nan_rule(image.dtype, (_box.STRAIGHT_COLUMNS_MAX, 9), 2048)
    assert not _box.keeps_nan_rule(image.dtype, (_box.STRAIGHT_COLUMNS_MAX + 1, 9), 2048)
    assert not _box.keeps_nan_rule(np.dtype(np.uint8), (3, 3), 2048)


def test_box_refuses_kernels_that_are_not_constant():
    with pytest.raises(ValueError, match="method='box' does not apply: it needs a real kernel whose weights are all equal"):
        imconv.correlate(np.ones((9, 9)), "sobel_x", method="box")


# --- lowrank: sums of two or three separable terms ------------------------------------

@st.composite
def low_rank_kernels(draw, max_side=7):
    """A sum of two or three rank-one kernels with exact zeros, as sharpen and laplacian have."""
    kh, kw = draw(st.integers(2, max_side)), draw(st.integers(2, max_side))
    weights = st.sampled_from([0.0, 0.0, 1.0, -1.0, 2.0, -0.5, 5.0, 0.3])
    terms = [np.outer(draw(hnp.arrays(np.float64, kh, elements=weights)),
                      draw(hnp.arrays(np.float64, kw, elements=weights)))
             for _ in range(draw(st.integers(2, 3)))]
    kernel = sum(terms)
    assume(np.linalg.matrix_rank(kernel) >= 2)
    return kernel


@given(image=images(channels=(None, 1, 3)), kernel=low_rank_kernels(), border=st.sampled_from(BORDERS),
       mode=st.sampled_from(MODES), function=st.sampled_from(["correlate", "convolve"]),
       fill=st.floats(-5, 5))
def test_lowrank_equals_the_reference(image, kernel, border, mode, function, fill):
    assume(fits(mode, image, kernel))
    options = dict(border=border, mode=mode, fill=fill)
    expected = getattr(reference, function)(image, kernel, **options)
    actual = getattr(imconv, function)(image, kernel, method="lowrank", **options)
    assert_close(actual, expected, 1e-12 * scale(image, kernel, fill))


@given(image=images(dtype=np.float32), kernel=low_rank_kernels(), border=st.sampled_from(BORDERS))
def test_lowrank_float32_is_within_the_contract(image, kernel, border):
    expected = reference.correlate(image.astype(np.float64), kernel, border=border)
    actual = imconv.correlate(image, kernel.astype(np.float32), border=border, method="lowrank")
    assert_close(actual, expected, 1e-5 * scale(image, kernel))


@given(image=images(dtype=np.uint8), kernel=low_rank_kernels(), border=st.sampled_from(BORDERS))
def test_lowrank_uint8_output_equals_direct_except_at_half_ties(image, kernel, border):
    direct = imconv.correlate(image, kernel, border=border, dtype=np.uint8, method="direct")
    lowrank = imconv.correlate(image, kernel, border=border, dtype=np.uint8, method="lowrank")
    exact = reference.correlate(image, kernel, border=border, dtype=np.float64)
    tie = np.abs(exact - np.floor(exact) - 0.5) <= 1e-5 * scale(image, kernel)
    np.testing.assert_array_equal(direct[~tie], lowrank[~tie])


# --- rows wide enough to have an inside between the two ends read through the border ---

@given(data=st.data(), method=st.sampled_from(["direct", "separable", "lowrank"]),
       border=st.sampled_from(BORDERS), mode=st.sampled_from(MODES),
       dtype=st.sampled_from([np.float64, np.uint8]), fill=st.sampled_from([0.0, 2.0, -3.5, 0.5]))
def test_methods_on_rows_with_an_inside_equal_the_reference(data, method, border, mode, dtype, fill):
    """The small images above are narrow, so every pixel reads the margins; these are not."""
    kernel = data.draw(low_rank_kernels() if method == "lowrank" else rank_one_kernels(max_side=7)
                       .filter(lambda k: not np.iscomplexobj(k)))
    width = data.draw(st.integers(4 * kernel.shape[1] + 1, 4 * kernel.shape[1] + 60))
    height = data.draw(st.integers(1, 40))  # short: every row laid out once; tall: rings of rows
    image = data.draw(hnp.arrays(dtype, (height, width, data.draw(st.sampled_from([1, 3]))),
                                 elements=st.integers(0, 255)))
    anchor = draw_anchor(data, kernel, mode)
    assume(fits(mode, image, kernel))
    options = dict(border=border, mode=mode, fill=fill, anchor=anchor)
    expected = reference.correlate(image, kernel, **options)
    actual = imconv.correlate(image, kernel, method=method, **options)
    assert_close(actual, expected, 1e-12 * scale(image, kernel, fill))


# --- other kernels: the sums of two output rows held in registers, a block at a time ---

@given(data=st.data(), border=st.sampled_from(BORDERS), fill=st.sampled_from([0.0, 2.0, -3.5]),
       image_dtype=st.sampled_from([np.float32, np.float64, np.uint8]), channels=st.integers(1, 4))
def test_direct_sums_in_blocks_equal_the_reference(data, border, fill, image_dtype, channels):
    """Rows of whole blocks and a tail, rows in pairs and alone, zero weights on NaN and inf."""
    kernel = data.draw(kernels(max_side=7).filter(lambda k: k.shape[0] > 1 and k.any()))
    height = data.draw(st.integers(1, 30))
    width = data.draw(st.integers(1, 170 // channels + kernel.shape[1]))
    image = data.draw(hnp.arrays(np.float64, (height, width, channels),
                                 elements=st.integers(0, 255).map(float)))
    if image_dtype != np.uint8:
        spots = data.draw(st.lists(st.tuples(st.integers(0, height - 1), st.integers(0, width - 1),
                                             st.sampled_from([np.nan, np.inf])), max_size=3))
        for y, x, value in spots:
            image[y, x, data.draw(st.integers(0, channels - 1))] = value
    image = image.astype(image_dtype)
    options = dict(border=border, fill=fill)
    with np.errstate(invalid="ignore"):  # the reference's sums of inf and -inf make NaN
        exact = reference.correlate(image.astype(np.float64), kernel, **options)
    if image_dtype == np.uint8:
        actual = imconv.correlate(image, kernel, dtype=np.uint8, method="direct", **options)
        expected = reference.correlate(image, kernel, dtype=np.uint8, **options)
        tie = np.abs(exact - np.floor(exact) - 0.5) <= 1e-5 * scale(image, kernel, fill)
        np.testing.assert_array_equal(actual[~tie], expected[~tie])
        return
    actual = imconv.correlate(image, kernel.astype(image_dtype), method="direct", **options)
    assert actual.dtype == image_dtype
    tolerance = 1e-5 if image_dtype == np.float32 else 1e-12
    finite_image = np.where(np.isfinite(image), image, 0)
    assert_close(actual, exact, tolerance * scale(finite_image, kernel, fill))


@pytest.mark.parametrize("image_dtype", [np.float32, np.float64, np.uint8, np.int32, np.float16])
@pytest.mark.parametrize("result_dtype", [np.float32, np.float64])
def test_direct_sums_a_column_alike_in_a_block_and_in_the_tail(rng, image_dtype, result_dtype):
    """Columns 40-89 of a 100-wide image fall after its last whole block, of a 200-wide one in
    a block: the same sums, bit for bit (a crop gives what the whole image gives)."""
    largest = {np.float16: 200, np.uint8: 255}.get(image_dtype, 2e9)  # int32: values float32 rounds
    image = (rng.random((40, 200)) * largest).astype(image_dtype)
    kernel = rng.normal(size=(5, 5)).astype(result_dtype)
    options = dict(method="direct", mode="valid", dtype=result_dtype)
    narrow = imconv.correlate(image[:, :100], kernel, **options)
    wide = imconv.correlate(image, kernel, **options)
    np.testing.assert_array_equal(narrow[:, 40:90], wide[:, 40:90])


# --- 3 x 3 kernels: each sum in registers, the image's rows read where they lie ---------

def three_by_three(data):
    """A 3 x 3 kernel of dyadic weights (so uint8 results take the integer path), zeros often."""
    return data.draw(hnp.arrays(np.float64, (3, 3), elements=st.sampled_from(
        [0.0, 0.0, 1.0, -2.0, 0.5, 3.25, -0.75])).filter(lambda k: k.any()))


@given(data=st.data(), border=st.sampled_from(BORDERS), mode=st.sampled_from(MODES),
       dtype=st.sampled_from([np.float64, np.float32, np.uint8]),
       fill=st.sampled_from([0.0, 2.0, -3.5, 0.5]), function=st.sampled_from(["correlate", "convolve"]))
def test_3x3_kernels_equal_the_reference_on_rows_of_any_width(data, border, mode, dtype, fill, function):
    """Narrow rows are read from the margins alone; wide ones from the image in between."""
    kernel = three_by_three(data)
    shape = (data.draw(st.integers(1, 40)), data.draw(st.integers(1, 60)))
    channels = data.draw(st.sampled_from([(), (1,), (3,)]))
    image = data.draw(hnp.arrays(dtype, shape + channels, elements=st.integers(0, 255)))
    anchor = draw_anchor(data, kernel, mode)
    assume(fits(mode, image, kernel))
    options = dict(border=border, mode=mode, fill=fill, anchor=anchor)
    if dtype == np.uint8 and data.draw(st.booleans()):  # integer sums, rounded and saturated
        options["dtype"] = np.uint8
        expected = getattr(reference, function)(image, kernel, **options)
        actual = getattr(imconv, function)(image, kernel, method="direct", **options)
        np.testing.assert_array_equal(actual, expected)
        return
    expected = getattr(reference, function)(image, kernel, **options)
    actual = getattr(imconv, function)(image, kernel, method="direct", **options)
    relative = 1e-12 if dtype == np.float64 else 1e-5
    assert_close(actual, expected, relative * scale(image, kernel, fill))


@given(data=st.data(), border=st.sampled_from(BORDERS), dtype=st.sampled_from([np.float32, np.float64]))
def test_3x3_kernels_keep_the_nan_rule_on_wide_rows(data, border, dtype):
    """A zero weight on NaN or inf would make NaN in registers: those rows are summed again."""
    kernel = three_by_three(data)
    shape = (data.draw(st.integers(1, 20)), data.draw(st.integers(1, 60)))
    image = data.draw(hnp.arrays(dtype, shape, elements=st.sampled_from(
        [0.0, 1.0, -3.0, 7.5, 2.25, -1.0, 4.0, 0.5, np.nan, np.inf, -np.inf])))
    with np.errstate(invalid="ignore"):  # inf - inf in the reference's sums
        expected = reference.correlate(image, kernel, border=border, fill=1.5)
    actual = imconv.correlate(image, kernel, border=border, fill=1.5, method="direct")
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    assert_close(actual, expected, 1e-5 * scale(np.nan_to_num(image, posinf=0, neginf=0), kernel, 1.5))


def test_3x3_rows_summed_again_for_nan_do_not_depend_on_the_threads(monkeypatch, rng):
    image = rng.normal(size=(301, 257)).astype(np.float32)
    image[rng.random(image.shape) < 0.002] = np.nan   # some under Sobel's zero column only
    image[17, 40] = np.inf
    monkeypatch.setattr(_parallel, "MIN_WORK_PER_BAND", 1)  # a band per thread, however small
    results = []
    for threads in ("1", "2", "3", "7"):
        monkeypatch.setenv("IMCONV_NUM_THREADS", threads)
        results.append(imconv.correlate(image, imconv.kernels.get("sobel_x"), method="direct"))
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])
    with np.errstate(invalid="ignore"):
        expected = reference.correlate(image, imconv.kernels.get("sobel_x"))
    assert_close(results[0], expected, 1e-5 * scale(np.nan_to_num(image, posinf=0), np.ones((3, 3))))


@pytest.mark.parametrize("name", ["sharpen", "laplacian", "laplacian8", "emboss", "unsharp", "outline"])
def test_bank_kernels_of_rank_two_or_three_split_into_exact_terms(name):
    kernel = imconv.kernels.get(name)
    terms = lowrank_factors(kernel)
    assert terms is not None and 2 <= len(terms) <= 3
    np.testing.assert_allclose(sum(np.outer(c, r) for c, r in terms), kernel, rtol=0, atol=1e-13)
    assert lowrank_factors(imconv.kernels.get("sobel_x")) is None  # rank 1: the separable method's
    assert lowrank_factors(np.random.default_rng(0).normal(size=(5, 5))) is None  # rank 5


def test_lowrank_refuses_kernels_it_cannot_do():
    with pytest.raises(ValueError, match="method='lowrank' does not apply: the kernel's rank is not 2 or 3"):
        imconv.correlate(np.ones((9, 9)), np.eye(5), method="lowrank")


# --- fft: overlap-save tiles ----------------------------------------------------------

@given(image=images(channels=(None, 1, 3), max_side=40), kernel=kernels(max_side=12),
       border=st.sampled_from(BORDERS), mode=st.sampled_from(MODES),
       function=st.sampled_from(["correlate", "convolve"]), fill=st.floats(-5, 5), data=st.data())
def test_fft_equals_the_reference(image, kernel, border, mode, function, fill, data):
    assume(fits(mode, image, kernel))
    anchor = draw_anchor(data, kernel, mode)
    options = dict(border=border, mode=mode, fill=fill, anchor=anchor)
    expected = getattr(reference, function)(image, kernel, **options)
    actual = getattr(imconv, function)(image, kernel, method="fft", **options)
    assert_close(actual, expected, 1e-12 * scale(image, kernel, fill))


@given(image=images(channels=(3,), max_side=30), kernel=kernels(max_side=9, channels=3, complex_=True),
       border=st.sampled_from(BORDERS))
def test_fft_per_channel_and_complex_kernels_equal_the_reference(image, kernel, border):
    expected = per_channel(reference.correlate, image, kernel, border=border)
    actual = imconv.correlate(image, kernel, method="fft", border=border)
    assert_close(actual, expected, 1e-12 * scale(image, kernel))


@pytest.mark.parametrize("shape, side", [((300, 280), 49), ((257, 1200), 31), ((700, 90), 9), ((40, 50), 61)])
@pytest.mark.parametrize("border", BORDERS)
def test_fft_float32_is_within_the_contract_on_tiled_images(rng, shape, side, border):
    image = (rng.random(shape) * 255).astype(np.float32)
    image[rng.random(shape) < 0.01] = 1e4  # bright specks: the error scale is the largest pixel
    kernel = rng.normal(size=(side, side))
    expected = reference.correlate(image.astype(np.float64), kernel, border=border)
    actual = imconv.correlate(image, kernel.astype(np.float32), border=border, method="fft")
    assert actual.dtype == np.float32
    assert_close(actual, expected, 1e-5 * scale(image, kernel))


def test_fft_float64_is_within_the_contract_on_a_photo():
    photo = imconv.read_image(imconv.SAMPLE_PATH).astype(np.float64)[:200, :300]
    kernel = np.random.default_rng(1).normal(size=(41, 41))
    expected = per_channel(reference.correlate, photo, kernel, border="reflect101")
    actual = imconv.correlate(photo, kernel, border="reflect101", method="fft")
    assert_close(actual, expected, 1e-12 * scale(photo, kernel))


@given(image=images(dtype=np.uint8, max_side=30), kernel=kernels(max_side=9), border=st.sampled_from(BORDERS))
def test_fft_uint8_output_equals_direct_except_at_half_ties(image, kernel, border):
    direct = imconv.correlate(image, kernel, border=border, dtype=np.uint8, method="direct")
    fft = imconv.correlate(image, kernel, border=border, dtype=np.uint8, method="fft")
    exact = reference.correlate(image, kernel, border=border, dtype=np.float64)
    tie = np.abs(exact - np.floor(exact) - 0.5) <= 1e-5 * scale(image, kernel)
    np.testing.assert_array_equal(direct[~tie], fft[~tie])


def test_fft_allocates_no_image_sized_buffer():
    image = np.ones((2048, 2048), np.float32)
    kernel = np.random.default_rng(2).normal(size=(49, 49)).astype(np.float32)
    imconv.correlate(image[:64, :64], kernel, method="fft")  # compile the gather first
    extra = bytes_beyond_result(lambda: imconv.correlate(image, kernel, method="fft"))
    assert extra < image.nbytes, f"{extra} bytes beyond the output"


def test_large_dense_kernels_go_to_fft_and_small_ones_do_not():
    image = np.ones((2048, 2048), np.float32)
    rng = np.random.default_rng(3)
    assert imconv.explain(image, rng.normal(size=(49, 49)), echo=None).method == "fft"
    assert imconv.explain(image, rng.normal(size=(3, 3)), echo=None).method == "direct"


@pytest.mark.parametrize("method", ["fft", "lowrank"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fft_and_lowrank_are_never_chosen_for_non_finite_data(method, bad):
    image = np.ones((2048, 2048), np.float32)
    kernel = np.random.default_rng(4).normal(size=(49, 49)) if method == "fft" else "sharpen"
    image[7, 9] = bad
    assert "fft" not in imconv.explain(image, kernel, echo=None).predicted_ms
    with pytest.raises(ValueError, match=f"method='{method}' does not apply: it needs a real image and "
                                         "fill with no NaN or inf"):
        imconv.correlate(image, kernel, method=method)
    with pytest.raises(ValueError, match=f"method='{method}' does not apply"):
        imconv.correlate(np.ones((9, 9)), kernel, method=method, border="constant", fill=bad)


@pytest.mark.parametrize("size, sigma", [(5, 1.0), (9, 2.0), (31, 5.0)])
def test_float32_gaussians_are_separable_within_the_float32_contract(rng, size, sigma):
    kernel = imconv.kernels.gaussian(size, sigma).astype(np.float32)  # rank 1 only to float32 rounding
    image = (rng.random((64, 80)) * 255).astype(np.float32)
    assert "separable" in imconv.explain(np.zeros((256, 256), np.float32), kernel, echo=None).predicted_ms
    actual = imconv.correlate(image, kernel, method="separable", border="reflect")
    expected = reference.correlate(image.astype(np.float64), kernel.astype(np.float64), border="reflect")
    assert_close(actual, expected, 1e-5 * scale(image, kernel))
    assert separable_factors(kernel.astype(np.float64)) is None  # the float64 test stays exact


# --- direct in integer arithmetic: 8/16-bit images, kernels of small integers / 2**s ----

@st.composite
def integer_kernels(draw, max_side=7):
    shape = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    weights = draw(hnp.arrays(np.int64, shape, elements=st.integers(-300, 300)))
    return weights / 2.0 ** draw(st.integers(0, 16))


@given(data=st.data(), kernel=integer_kernels(), border=st.sampled_from(BORDERS), mode=st.sampled_from(MODES),
       image_dtype=st.sampled_from([np.uint8, np.int8, np.uint16, np.int16, np.bool_]),
       out_dtype=st.sampled_from([np.uint8, np.int16, np.uint16, np.int32]),
       fill=st.integers(-300, 300), function=st.sampled_from(["correlate", "convolve"]))
def test_integer_sums_equal_the_float64_reference_bit_for_bit(data, kernel, border, mode, image_dtype,
                                                               out_dtype, fill, function):
    image = data.draw(images(dtype=image_dtype, max_side=12, channels=(None, 3)))
    assume(fits(mode, image, kernel))
    options = dict(border=border, mode=mode, fill=float(fill), dtype=out_dtype)
    expected = getattr(reference, function)(image, kernel, **options)
    actual = getattr(imconv, function)(image, kernel, method="direct", **options)
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("out_dtype", [np.int64, np.uint64, np.int32, np.uint8])
@pytest.mark.parametrize("divisor", [1, 16])
def test_integer_sums_into_every_integer_type_equal_the_reference(rng, out_dtype, divisor):
    """64-bit outputs saturate through float64, the others round and clamp in integers."""
    image = rng.integers(0, 256, (23, 31), dtype=np.uint8)
    kernel = imconv.kernels.get("sharpen") / divisor
    assert integer_form(kernel, np.dtype(np.uint8), np.dtype(out_dtype), 0.0) is not None
    for border in BORDERS:
        np.testing.assert_array_equal(
            imconv.correlate(image, kernel, border=border, dtype=out_dtype, method="direct"),
            reference.correlate(image, kernel, border=border, dtype=out_dtype))


@pytest.mark.parametrize("name", ["sharpen", "laplacian", "sobel_x", "sobel_y", "emboss", "binomial5"])
def test_bank_kernels_on_uint8_take_the_integer_path_and_match_opencv_exactly(name, rng):
    kernel = imconv.kernels.get(name)
    assert integer_form(kernel, np.dtype(np.uint8), np.dtype(np.uint8), 0.0) is not None
    photo = imconv.read_image(imconv.SAMPLE_PATH)
    actual = imconv.correlate(photo, kernel, border="reflect101", dtype=np.uint8, method="direct")
    expected = reference.correlate(photo, kernel, border="reflect101", dtype=np.uint8)
    np.testing.assert_array_equal(actual, expected)


def test_the_integer_path_is_taken_only_where_sums_are_exact():
    u8 = np.dtype(np.uint8)
    assert integer_form(np.array([[0.1, 1.0]]), u8, u8, 0.0) is None          # not k / 2**s
    assert integer_form(np.array([[1.0, 2.0]]), u8, u8, 0.5) is None          # fill not an integer
    assert integer_form(np.array([[1.0, 2.0]]), u8, np.dtype(np.float32), 0.0) is None  # float result
    assert integer_form(np.array([[1.0, 2.0]]), np.dtype(np.int32), u8, 0.0) is None    # 32-bit image
    assert integer_form(np.full((1, 2), 2.0 ** 30), u8, u8, 0.0) is None      # sums past int32


@pytest.mark.parametrize("order", ORDERS)
def test_box_allocates_no_image_sized_buffer(order):
    image = np.ones((1024, 1024), np.float32)
    kernel = np.full((21, 21), 1 / 441, np.float32)
    with summing(order):
        imconv.correlate(image[:32, :32], kernel, method="box")  # compile first
        extra = bytes_beyond_result(lambda: imconv.correlate(image, kernel, method="box"))
    if order != "columns first":  # per thread: a ring of 22 float32 rows of row sums, two levels
        # of sums along a row, float64 running sums or two float32 rows of straight sums
        per_thread = 22 * 1024 * 4 + 2 * 1044 * 4 + 1024 * 8
    else:  # a row of column sums and two levels of sums along it
        per_thread = 3 * 1044 * 8
    assert extra <= 2 * per_thread + 64 * 1024, f"{extra} bytes beyond the output"


@given(data=st.data(), kernel=box_kernels(), border=st.sampled_from(BORDERS), mode=st.sampled_from(MODES),
       image_dtype=st.sampled_from([np.uint8, np.int16, np.uint16, np.bool_]), fill=st.integers(-300, 300))
def test_box_on_integer_images_sums_exactly(data, kernel, border, mode, image_dtype, fill):
    image = data.draw(images(dtype=image_dtype, channels=(None, 3)))
    assume(fits(mode, image, kernel))
    options = dict(border=border, mode=mode, fill=float(fill), dtype=np.float64)
    expected = reference.correlate(image, kernel, **options)
    actual = imconv.correlate(image, kernel, method="box", **options)
    assert_close(actual, expected, 1e-12 * scale(image, kernel, fill))


# --- a single-precision result of a float64 kernel sums in float32, as filter2D does ---

@given(data=st.data(), method=st.sampled_from(["direct", "separable", "lowrank", "box", "fft"]),
       border=st.sampled_from(BORDERS), result=st.sampled_from([np.float32, np.complex64]))
def test_single_precision_results_of_double_kernels_are_within_the_contract(data, method, border,
                                                                              result):
    strategy = {"lowrank": low_rank_kernels(), "box": box_kernels()}.get(method, rank_one_kernels())
    kernel = data.draw(strategy).real
    image = data.draw(images(dtype=np.float32, channels=(None, 3)))
    assert prepare(image, kernel, border=border, fill=0.0, mode="same", anchor=None, dtype=result,
                   convolution=False).accumulator == np.float32
    expected = reference.correlate(image.astype(np.float64), kernel, border=border)
    actual = imconv.correlate(image, kernel, border=border, dtype=result, method=method)
    assert actual.dtype == result
    assert_close(actual, expected, 1e-5 * scale(image, kernel))
