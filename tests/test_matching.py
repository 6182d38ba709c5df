"""match_template against cv2.matchTemplate, and find_matches."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import cv2
import imconv

OPENCV = {"zncc": cv2.TM_CCOEFF_NORMED, "ncc": cv2.TM_CCORR_NORMED, "ccorr": cv2.TM_CCORR}


def _valid_windows(filtered, shape):
    """Crop a centred ndimage window filter to the valid positions, indexed by top-left corner."""
    th, tw = shape
    return filtered[th // 2: filtered.shape[0] - (th - 1 - th // 2), tw // 2: filtered.shape[1] - (tw - 1 - tw // 2)]


def centred_energy(image, shape):
    """Sum over channels of sum((w - mean w)^2) for every window, by scipy.ndimage."""
    planes = np.atleast_3d(image).astype(np.float64)
    area = shape[0] * shape[1]
    energy = 0.0
    for plane in np.moveaxis(planes - planes.mean(axis=(0, 1)), 2, 0):
        mean = ndi.uniform_filter(plane, shape, mode="constant")
        mean_square = ndi.uniform_filter(plane * plane, shape, mode="constant")
        energy = energy + _valid_windows(mean_square - mean * mean, shape) * area
    return energy


def ndi_energy(image, shape):
    """Sum over channels of sum(w^2) for every window, by scipy.ndimage."""
    planes = np.atleast_3d(image).astype(np.float64)
    area = shape[0] * shape[1]
    return sum(_valid_windows(ndi.uniform_filter(p * p, shape, mode="constant"), shape) * area
               for p in np.moveaxis(planes, 2, 0))


def flat_windows(image, shape):
    """True where every channel of the window holds a single value, exactly."""
    planes = np.atleast_3d(image)
    spread = [_valid_windows(ndi.maximum_filter(p, shape) - ndi.minimum_filter(p, shape), shape)
              for p in np.moveaxis(planes, 2, 0)]
    return np.max(spread, axis=0) == 0


def assert_matches_opencv(image, template, method):
    ours = imconv.match_template(image, template, method=method)
    theirs = cv2.matchTemplate(image, template, OPENCV[method]).astype(np.float64)
    assert ours.shape == theirs.shape
    if method == "ccorr":
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * np.abs(theirs).max())
        return
    # OpenCV's float32 scores are noise where a window barely varies: compare the rest.
    th, tw = template.shape[:2]
    if method == "zncc":
        varied = centred_energy(image, (th, tw)) > 1e-3 * th * tw * float(np.max(np.abs(image))) ** 2
        assert (ours[flat_windows(image, (th, tw))] == 0).all()
    else:
        varied = np.ones(ours.shape, bool)
    np.testing.assert_allclose(ours[varied], theirs[varied], rtol=0, atol=1e-4)


def brute_force(image, template, method):
    """The definitions, window by window, in float64: the exact oracle."""
    image = np.atleast_3d(image).astype(np.float64)
    template = np.atleast_3d(template).astype(np.float64)
    th, tw = template.shape[:2]
    if method == "zncc":
        template = template - template.mean(axis=(0, 1))
    scores = np.zeros((image.shape[0] - th + 1, image.shape[1] - tw + 1))
    for y in range(scores.shape[0]):
        for x in range(scores.shape[1]):
            window = image[y:y + th, x:x + tw]
            if method == "zncc":
                window = window - window.mean(axis=(0, 1))
            product = np.sum(window * template)
            norm = np.sqrt(np.sum(window * window) * np.sum(template * template))
            scores[y, x] = product if method == "ccorr" else (product / norm if norm > 0 else 0.0)
    return scores


@given(data=st.data(), dtype=st.sampled_from([np.uint8, np.float32]),
       channels=st.sampled_from([1, 3]), method=st.sampled_from(sorted(OPENCV)))
def test_matches_the_definition_on_random_images(data, dtype, channels, method):
    h, w = data.draw(st.integers(2, 24)), data.draw(st.integers(2, 24))
    shape = (h, w) if channels == 1 else (h, w, channels)
    elements = st.integers(0, 255) if dtype == np.uint8 else st.floats(0, 1, width=32)
    image = data.draw(hnp.arrays(dtype, shape, elements=elements))
    if data.draw(st.booleans()):  # a flat block, as in real photographs
        image[: h // 2, : w // 2] = image[0, 0]
    th, tw = data.draw(st.integers(1, h)), data.draw(st.integers(1, w))
    y, x = data.draw(st.integers(0, h - th)), data.draw(st.integers(0, w - tw))
    template = image[y:y + th, x:x + tw]
    ours = imconv.match_template(image, template, method=method)
    exact = brute_force(image, template, method)
    if method == "ccorr":
        np.testing.assert_allclose(ours, exact, rtol=0, atol=1e-9 * max(1.0, np.abs(exact).max()))
        return
    # Windows with energy near the documented rounding floor may count as flat (score 0).
    energy = centred_energy(image, (th, tw)) if method == "zncc" else ndi_energy(image, (th, tw))
    floor = 1e-9 * th * tw * float(np.max(np.abs(image))) ** 2
    clear = energy > floor
    np.testing.assert_allclose(ours[clear], exact[clear], rtol=0, atol=1e-9)
    assert np.isfinite(ours).all() and np.abs(ours).max() <= 1


@pytest.mark.parametrize("method", sorted(OPENCV))
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("shape, template_shape", [
    ((60, 80), (9, 13)), ((60, 80, 3), (20, 7)), ((37, 41), (37, 41)), ((50, 50, 3), (1, 1)),
    ((120, 90), (40, 30))])
def test_matches_opencv_on_random_images_with_flat_regions(rng, method, dtype, shape, template_shape):
    image = (rng.random(shape) * 255).astype(dtype)
    image[10:35, 5:45] = image[10, 5]  # a flat region
    th, tw = template_shape
    template = np.ascontiguousarray(image[shape[0] - th:, shape[1] - tw:])
    if method == "zncc" and flat_windows(template, (th, tw)).item():  # a 1 x 1 template is flat
        assert (imconv.match_template(image, template) == 0).all()  # OpenCV says 1 (opencv#5688)
        return
    assert_matches_opencv(image, template, method)


@pytest.mark.parametrize("method", sorted(OPENCV))
@pytest.mark.parametrize("photo, box", [("camera", (200, 240, 64, 48)), ("astronaut", (80, 180, 90, 70)),
                                        ("coffee", (150, 300, 40, 120))])
def test_matches_opencv_on_photographs(photos, photo, box, method):
    image = photos[photo]
    y, x, th, tw = box
    assert_matches_opencv(image, np.ascontiguousarray(image[y:y + th, x:x + tw]), method)
    if method != "ccorr":  # plain correlation peaks on bright areas, not on the template
        scores = imconv.match_template(image, image[y:y + th, x:x + tw], method=method)
        assert imconv.find_matches(scores)[0][:2] == (x, y)


@pytest.mark.parametrize("method", sorted(OPENCV))
def test_a_template_as_large_as_the_image(photos, method):
    image = photos["coffee"][:50, :70]
    assert_matches_opencv(image, image.copy(), method)


def test_flat_windows_and_flat_templates_score_zero_not_nan():
    image = np.full((30, 40), 90, np.uint8)
    image[20:, 30:] = np.arange(100, dtype=np.uint8).reshape(10, 10)
    template = image[18:26, 28:36].copy()
    scores = imconv.match_template(image, template)
    assert np.isfinite(scores).all()
    assert (scores[:10, :20] == 0).all()                        # windows inside the flat part
    flat = imconv.match_template(image, np.full((5, 5), 7, np.uint8))
    assert (flat == 0).all()                                    # OpenCV gives 1 here (opencv#5688)
    zero = imconv.match_template(np.zeros((10, 10)), template[:4, :4], method="ncc")
    assert (zero == 0).all()


@given(image=hnp.arrays(np.float64, st.tuples(st.integers(4, 30), st.integers(4, 30)),
                        elements=st.sampled_from([0.0, 1.0, 1e-9, 255.0, -3.5, 1e6])),
       method=st.sampled_from(["zncc", "ncc"]), data=st.data())
def test_normalised_scores_are_finite_and_within_one(image, method, data):
    th = data.draw(st.integers(1, image.shape[0]))
    tw = data.draw(st.integers(1, image.shape[1]))
    scores = imconv.match_template(image, image[:th, :tw], method=method)
    assert np.isfinite(scores).all()
    assert np.abs(scores).max() <= 1.0


def test_match_scores_remember_the_template_and_peaks_are_suppressed():
    image = np.random.default_rng(0).random((60, 80))
    template = image[20:30, 40:52]
    scores = imconv.match_template(image, template)
    assert scores.template_shape == (10, 12)
    found = imconv.find_matches(scores, n=4)
    assert found[0] == imconv.Match(40, 20, pytest.approx(1.0))
    for i, a in enumerate(found):  # default min_distance: half the smaller template side
        for b in found[i + 1:]:
            assert max(abs(a.x - b.x), abs(a.y - b.y)) >= 5
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


def test_find_matches_on_a_plain_array():
    scores = np.zeros((4, 4))
    scores[0, 0], scores[0, 1], scores[3, 3] = 0.9, np.nan, 0.2
    found = imconv.find_matches(scores, n=100)
    assert found[:2] == [imconv.Match(0, 0, 0.9), imconv.Match(3, 3, 0.2)]
    assert len(found) == 15                                    # every position once, NaN never
    assert imconv.find_matches(scores, n=2, min_distance=4) == [imconv.Match(0, 0, 0.9)]


@pytest.mark.parametrize("call, error, message", [
    (lambda: imconv.match_template(np.ones((5, 5)), np.ones((6, 2))), ValueError, "larger than the image"),
    (lambda: imconv.match_template(np.ones((5, 5, 3)), np.ones((2, 2))), ValueError,
     "template has 1 channels but the image has 3"),
    (lambda: imconv.match_template(np.ones((5, 5)), np.ones((2, 2)), method="sqdiff"), ValueError,
     "method='sqdiff' is not known; use one of 'zncc', 'ncc', 'ccorr'"),
    (lambda: imconv.match_template(np.full((5, 5), np.nan), np.ones((2, 2))), ValueError, "NaN or inf"),
    (lambda: imconv.match_template(np.ones((5, 5), complex), np.ones((2, 2))), TypeError, "real numbers"),
    (lambda: imconv.match_template(np.ones(5), np.ones(2)), ValueError, "(H, W) or (H, W, C)"),
    (lambda: imconv.find_matches(np.ones((3, 3)), n=0), ValueError, "n=0 must be a positive integer"),
    (lambda: imconv.find_matches(np.ones((3, 3)), min_distance=0), ValueError, "min_distance=0"),
    (lambda: imconv.find_matches(np.ones(3)), ValueError, "non-empty 2-D map"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)
