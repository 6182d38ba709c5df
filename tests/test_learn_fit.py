"""imconv.learn.fit_kernel: recovery of known kernels, and least squares checked against NumPy's."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imconv
from imconv.learn import FitWarning, closest_bank_kernel, fit_kernel

# Border names -> numpy.pad modes; the same extension while the pad is shorter than the image.
NUMPY_PAD = {"replicate": "edge", "reflect": "symmetric", "reflect101": "reflect", "wrap": "wrap",
             "constant": "constant"}


def design_matrix(image, size, border, fill=0.0):
    """One column per tap: the image shifted by that tap, extended by numpy.pad (independent of imconv)."""
    kh, kw = size
    r, c = kh // 2, kw // 2
    options = {"constant_values": fill} if border == "constant" else {}
    padded = np.pad(np.asarray(image, np.float64), ((r, kh - 1 - r), (c, kw - 1 - c)),
                    mode=NUMPY_PAD[border], **options)
    h, w = image.shape
    return np.stack([padded[i:i + h, j:j + w].ravel() for i in range(kh) for j in range(kw)], axis=1)


@pytest.fixture(scope="module")
def camera():
    from skimage import data

    return data.camera()  # 512 x 512


@pytest.mark.parametrize("method", ["lstsq", "gd"])
@pytest.mark.parametrize("name", list(imconv.kernels.BANK))
def test_every_bank_kernel_is_recovered_from_one_photograph(camera, name, method):
    kernel = imconv.kernels.BANK[name]
    target = imconv.correlate(camera, kernel)
    fit = fit_kernel(camera, target, kernel.shape, method=method)
    assert np.abs(fit.kernel - kernel).max() < 1e-4
    assert fit.residual_rms < 1e-6 * target.std()
    assert closest_bank_kernel(fit.kernel) == (name, pytest.approx(1.0, abs=1e-9))


@given(h=st.integers(4, 14), w=st.integers(4, 14), kh=st.integers(1, 4), kw=st.integers(1, 4),
       border=st.sampled_from(list(NUMPY_PAD)), fill=st.sampled_from([0.0, 3.5]),
       l2=st.sampled_from([0.0, 0.01]), seed=st.integers(0, 2 ** 32 - 1))
def test_lstsq_equals_numpy_least_squares_on_any_target(h, w, kh, kw, border, fill, l2, seed):
    """Random targets no kernel explains: the minimiser of mean(residual**2) + l2 |k|**2."""
    rng = np.random.default_rng(seed)
    image, target = rng.random((h, w)) * 10, rng.random((h, w)) * 10
    a = design_matrix(image, (kh, kw), border, fill)
    n = a.shape[0]
    expected = np.linalg.solve(a.T @ a / n + l2 * np.eye(kh * kw), a.T @ target.ravel() / n)
    fit = fit_kernel(image, target, (kh, kw), border=border, fill=fill, l2=l2)
    scale = np.abs(expected).max() + 1
    assert np.abs(fit.kernel.ravel() - expected).max() < 1e-8 * scale * fit.condition
    residual = a @ fit.kernel.ravel() - target.ravel()
    assert fit.residual_rms == pytest.approx(np.sqrt(np.mean(residual ** 2)), rel=1e-9)


@given(kh=st.integers(1, 5), kw=st.integers(1, 5), border=st.sampled_from(list(NUMPY_PAD)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_gd_reaches_the_lstsq_kernel_with_a_falling_loss(kh, kw, border, seed):
    rng = np.random.default_rng(seed)
    image, target = rng.random((16, 13)), rng.random((16, 13))
    exact = fit_kernel(image, target, (kh, kw), border=border)
    descended = fit_kernel(image, target, (kh, kw), border=border, method="gd")
    assert np.abs(descended.kernel - exact.kernel).max() < 1e-7 * (np.abs(exact.kernel).max() + 1)
    assert np.all(np.diff(descended.loss_curve) <= 1e-12 * descended.loss_curve[0])
    assert descended.loss_curve[-1] == pytest.approx(exact.loss_curve[-1], rel=1e-9)
    assert 1 <= descended.steps <= 4 * kh * kw + 50


def test_ridge_gd_matches_ridge_lstsq(camera):
    image = camera[:96, :96]
    target = imconv.correlate(image, "emboss") + np.random.default_rng(1).normal(0, 5, image.shape)
    exact = fit_kernel(image, target, 3, l2=50.0)
    descended = fit_kernel(image, target, 3, l2=50.0, method="gd")
    assert np.abs(descended.kernel - exact.kernel).max() < 1e-9
    assert np.abs(exact.kernel).sum() < np.abs(fit_kernel(image, target, 3).kernel).sum()  # shrunk
    assert exact.standard_error is None


def test_several_pairs_and_colour_channels_fit_one_kernel(photos):
    kernel = imconv.kernels.get("sobel_y") + 0.25 * imconv.kernels.get("sharpen")
    rgb = photos["astronaut"][:128, :160]
    grey = photos["coffee"][:100, :90, 0]
    targets = [imconv.correlate(image, kernel, border="reflect101") for image in (rgb, grey)]
    fit = fit_kernel([rgb, grey], targets, 3, border="reflect101")
    assert np.abs(fit.kernel - kernel).max() < 1e-9
    row_target = imconv.correlate(grey, [[1, 2, 3, 4, 5]], border="wrap")
    rectangular = fit_kernel(grey, row_target, (1, 5), border="wrap")
    assert np.abs(rectangular.kernel - [[1, 2, 3, 4, 5]]).max() < 1e-9


@pytest.mark.parametrize("sigma", [0.5, 2.0, 8.0])
def test_noise_errors_stay_within_the_reported_standard_errors(camera, sigma):
    kernel = imconv.kernels.get("laplacian")
    rng = np.random.default_rng(int(sigma * 10))
    target = imconv.correlate(camera, kernel, dtype=np.float64) + rng.normal(0, sigma, camera.shape)
    fit = fit_kernel(camera, target, 3)
    a = design_matrix(camera, (3, 3), "replicate")
    expected_se = sigma * np.sqrt(np.diag(np.linalg.inv(a.T @ a))).reshape(3, 3)
    assert fit.standard_error == pytest.approx(expected_se, rel=0.05)
    assert np.all(np.abs(fit.kernel - kernel) < 6 * fit.standard_error)
    assert fit.residual_rms == pytest.approx(sigma, rel=0.02)


def test_a_flat_image_cannot_identify_a_kernel():
    flat = np.full((40, 40), 7.0)
    with pytest.raises(ValueError, match="cannot identify a 3x3 kernel.*condition number"):
        fit_kernel(flat, flat, 3)
    stripes = np.tile(np.arange(40.0), (40, 1))  # constant down the columns: no vertical information
    with pytest.raises(ValueError, match="cannot identify"):
        fit_kernel(stripes, stripes, 3)
    assert fit_kernel(flat, flat, 3, l2=1e-3).condition < 1e9  # ridge makes it solvable


def test_a_barely_textured_image_warns(camera):
    rng = np.random.default_rng(0)
    blurred = imconv.correlate(camera.astype(float), imconv.kernels.gaussian(15, 4.0))
    smooth = blurred + rng.normal(0, 1e-3, camera.shape)
    with pytest.warns(FitWarning, match="poorly determined: condition number"):
        fit_kernel(smooth, smooth, 7)


def test_gd_warns_when_it_runs_out_of_steps(camera):
    with pytest.warns(FitWarning, match="gd stopped after 2 steps"):
        fit = fit_kernel(camera, imconv.correlate(camera, "small_blur"), 7, method="gd", max_steps=2)
    assert fit.steps == 2 and len(fit.loss_curve) == 3


@pytest.mark.parametrize("call, message", [
    (lambda x: fit_kernel(x, x[:-1], 3), r"input 0 has shape \(20, 20\) but its target has \(19, 20\)"),
    (lambda x: fit_kernel([x, x], [x], 3), "got 2 inputs but 1 targets"),
    (lambda x: fit_kernel(x, x, 21), "larger than the smallest image side"),
    (lambda x: fit_kernel(x, x, (3, 0)), "must be a positive integer or a"),
    (lambda x: fit_kernel(x, x, "3"), "must be a positive integer or a"),
    (lambda x: fit_kernel(x, x, (2, 2, 2)), "must be a positive integer or a"),
    (lambda x: fit_kernel(x, x, 3, method="adam"), "method='adam' is not known; use one of 'lstsq', 'gd'"),
    (lambda x: fit_kernel(x, x, 3, l2=-1), "l2=-1 must be a number >= 0"),
    (lambda x: fit_kernel(x, x, 3, border="bogus"), "border='bogus'"),
    (lambda x: fit_kernel(x[0], x[0], 1), r"must be a real \(H, W\) or \(H, W, C\) image"),
    (lambda x: fit_kernel(x + 1j, x, 1), r"must be a real \(H, W\) or \(H, W, C\) image"),
    (lambda x: fit_kernel(np.where(x > 0.5, np.nan, x), x, 3), "NaN or inf"),
])
def test_bad_inputs_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.random.default_rng(0).random((20, 20)))


def test_closest_bank_kernel_compares_at_the_kernel_size():
    assert closest_bank_kernel(np.ones((3, 3)))[0] == "small_blur"
    assert closest_bank_kernel(-imconv.kernels.get("emboss")) == ("emboss", -1.0)
    name, score = closest_bank_kernel(np.eye(5))
    assert abs(score) < 0.9


def test_fit_uses_no_warnings_on_a_good_photograph(camera):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_kernel(camera, imconv.correlate(camera, "sharpen"), 5)
