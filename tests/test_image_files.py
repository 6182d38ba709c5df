"""read_image and write_image: formats, RGB order, grey conversion, corrupt files, atomic writes."""

import os
import struct
import time
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

import cv2
import imconv
from imconv import ImageFileError


@pytest.fixture
def rgb(rng):
    return rng.integers(0, 256, (23, 31, 3), dtype=np.uint8)


def _png_header_only(width, height):
    """A PNG whose IHDR claims width x height and that holds no pixel data."""
    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


# --- reading and writing ----------------------------------------------------------------

@pytest.mark.parametrize("suffix, shape", [
    (".png", (23, 31)), (".png", (23, 31, 3)), (".png", (23, 31, 4)),
    (".tif", (23, 31)), (".tif", (23, 31, 3)), (".tif", (23, 31, 4)),
    (".bmp", (23, 31)), (".bmp", (23, 31, 3)),
])
def test_lossless_formats_round_trip_uint8(tmp_path, rng, suffix, shape):
    array = rng.integers(0, 256, shape, dtype=np.uint8)
    imconv.write_image(tmp_path / f"x{suffix}", array)
    np.testing.assert_array_equal(imconv.read_image(tmp_path / f"x{suffix}", color="keep"), array)


@pytest.mark.parametrize("suffix, dtype", [(".png", np.uint16), (".tif", np.uint16),
                                           (".tif", np.float32), (".png", np.bool_), (".bmp", np.bool_)])
def test_other_dtypes_round_trip(tmp_path, rng, suffix, dtype):
    array = (rng.random((17, 9)) * 60000).astype(dtype)
    imconv.write_image(tmp_path / f"x{suffix}", array)
    back = imconv.read_image(tmp_path / f"x{suffix}", color="keep")
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, array)


def test_float64_is_written_as_32_bit_float_tiff(tmp_path):
    array = np.array([[0.1, -2.5e3]])
    imconv.write_image(tmp_path / "raw.tiff", array)
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "raw.tiff", color="keep"),
                                  array.astype(np.float32))


def test_jpeg_round_trip_is_close(tmp_path, photos):
    imconv.write_image(tmp_path / "a.jpg", photos["astronaut"])
    back = imconv.read_image(tmp_path / "a.jpg", color="rgb")
    assert back.shape == photos["astronaut"].shape
    assert np.abs(back.astype(int) - photos["astronaut"]).mean() < 3


def test_pixels_come_back_in_rgb_order_never_bgr(tmp_path):
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    imconv.write_image(tmp_path / "red.png", red)
    assert tuple(imconv.read_image(tmp_path / "red.png", color="rgb")[0, 0]) == (255, 0, 0)
    assert tuple(cv2.imread(str(tmp_path / "red.png"))[0, 0]) == (0, 0, 255)  # OpenCV's BGR


def test_format_is_decided_by_the_bytes_not_the_name(tmp_path, rgb):
    imconv.write_image(tmp_path / "real.png", rgb)
    os.rename(tmp_path / "real.png", tmp_path / "looks_like.jpg")
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "looks_like.jpg", color="rgb"), rgb)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_gray_conversion_equals_opencv_bit_for_bit(rng, dtype):
    rgb = rng.integers(0, np.iinfo(dtype).max + 1, (64, 64, 3)).astype(dtype)
    np.testing.assert_array_equal(imconv._image_files.rgb_to_gray(rgb),
                                  cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def test_color_options(tmp_path, rgb):
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 7, np.uint8)], axis=2)
    imconv.write_image(tmp_path / "a.png", rgba)
    assert imconv.read_image(tmp_path / "a.png", color="keep").shape == (23, 31, 4)
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "a.png", color="rgb"), rgb)
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "a.png"),
                                  cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    gray = rgb[:, :, 1]
    imconv.write_image(tmp_path / "g.png", gray)
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "g.png", color="rgb"),
                                  np.repeat(gray[:, :, None], 3, axis=2))


def test_palette_and_grey_alpha_images_are_expanded(tmp_path, rgb):
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    assert imconv.read_image(tmp_path / "p.png", color="keep").shape == (23, 31, 3)
    Image.fromarray(rgb).convert("LA").save(tmp_path / "la.png")
    assert imconv.read_image(tmp_path / "la.png", color="keep").shape == (23, 31, 2)
    assert imconv.read_image(tmp_path / "la.png", color="gray").shape == (23, 31)


def test_sample_photograph_is_bundled():
    assert imconv.sample_image().shape == (300, 451)
    assert imconv.sample_image("rgb").shape == (300, 451, 3)


# --- bad files: the corrupt-file corpus -----------------------------------------------

@pytest.fixture
def corpus(tmp_path, photos):
    """name -> path of a file imconv must refuse with ImageFileError."""
    good = tmp_path / "good"
    good.mkdir()
    files = {}
    for suffix, options in ((".png", {}), (".jpg", {"quality": 90}), (".tif", {})):
        Image.fromarray(photos["astronaut"]).save(good / f"a{suffix}", **options)
        data = (good / f"a{suffix}").read_bytes()
        files[f"truncated{suffix}"] = data[: len(data) // 2]
    files["huge.png"] = _png_header_only(100_000, 100_000)
    files["random.png"] = np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    files["empty.png"] = b""
    files["text.jpg"] = b"this is not an image\n"
    Image.fromarray(photos["astronaut"]).save(good / "a.gif")
    files["animation.gif"] = (good / "a.gif").read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    for name, data in files.items():
        (bad / name).write_bytes(data)
    return {name: bad / name for name in files}


def test_every_corrupt_file_raises_imconvs_error(corpus):
    for name, path in corpus.items():
        before = sorted(os.listdir(path.parent))
        with pytest.raises(ImageFileError) as raised:
            imconv.read_image(path)
        assert repr(str(path)) in str(raised.value), name
        assert sorted(os.listdir(path.parent)) == before  # nothing left behind


def test_a_decompression_bomb_fails_fast_from_its_header(corpus):
    start = time.perf_counter()
    with pytest.raises(ImageFileError, match="claims 100000 x 100000 = 10000000000 pixels, more than max_pixels"):
        imconv.read_image(corpus["huge.png"])
    assert time.perf_counter() - start < 1.0


def test_max_pixels_is_configurable_and_replaces_pillows_limit(tmp_path, rgb, monkeypatch):
    imconv.write_image(tmp_path / "a.png", rgb)
    with pytest.raises(ImageFileError, match="max_pixels=100"):
        imconv.read_image(tmp_path / "a.png", max_pixels=100)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # Pillow's own limit is not imconv's
    assert imconv.read_image(tmp_path / "a.png").shape == (23, 31)
    assert Image.MAX_IMAGE_PIXELS == 10


@pytest.mark.parametrize("call, error, message", [
    (lambda d: imconv.read_image(d / "missing.png"), FileNotFoundError, "does not exist"),
    (lambda d: imconv.read_image(d), ImageFileError, "is a folder, not an image file"),
    (lambda d: imconv.read_image(imconv.SAMPLE_PATH, color="bgr"), ValueError,
     "color='bgr' is not known; use one of 'gray', 'rgb', 'keep'"),
    (lambda d: imconv.read_image(imconv.SAMPLE_PATH, max_pixels=0), ValueError,
     "max_pixels=0 must be a positive integer"),
    (lambda d: imconv.write_image(d / "x.gif", np.zeros((2, 2), np.uint8)), ValueError,
     "cannot tell the format of"),
    (lambda d: imconv.write_image(d / "no" / "x.png", np.zeros((2, 2), np.uint8)), FileNotFoundError,
     "does not exist"),
    (lambda d: imconv.write_image(d / "x.png", np.zeros((2, 2), np.float32)), TypeError,
     "convert with imconv.to_uint8 first"),
    (lambda d: imconv.write_image(d / "x.jpg", np.zeros((2, 2, 4), np.uint8)), TypeError,
     "JPEG takes uint8 (H, W) or (H, W, 3)"),
    (lambda d: imconv.write_image(d / "x.bmp", np.zeros((2, 2, 4), np.uint8)), TypeError,
     "BMP takes uint8 (H, W) or (H, W, 3); bool (H, W)"),
    (lambda d: imconv.write_image(d / "x.png", np.zeros((0, 2), np.uint8)), ValueError,
     "cannot write an empty image"),
])
def test_bad_paths_and_arrays_raise_clear_errors(tmp_path, call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.is_file()]


# --- atomic writes -------------------------------------------------------------------

def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, rgb, monkeypatch):
    target = tmp_path / "out.png"
    imconv.write_image(target, rgb)
    before = target.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half a file")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        imconv.write_image(target, rgb[::-1])
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_an_interrupted_write_leaves_no_temporary(tmp_path, rgb, monkeypatch):
    def interrupted(self, fp, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        imconv.write_image(tmp_path / "new.png", rgb)
    assert list(tmp_path.iterdir()) == []


def test_writes_keep_the_permissions_of_the_file_they_replace(tmp_path, rgb):
    target = tmp_path / "out.png"
    imconv.write_image(target, rgb)
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    os.chmod(target, 0o640)
    imconv.write_image(target, rgb[::-1])
    assert target.stat().st_mode & 0o777 == 0o640


def test_sixteen_bit_colour_is_not_narrowed_quietly(tmp_path, rng):
    rgb16 = rng.integers(0, 65536, (6, 7, 3)).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), rgb16[:, :, ::-1])  # OpenCV writes BGR
    with pytest.warns(imconv.ImageFileWarning, match="holds 16-bit colour, which Pillow decodes as 8-bit"):
        narrowed = imconv.read_image(tmp_path / "deep.png", color="rgb")
    assert narrowed.dtype == np.uint8
    assert np.abs(narrowed.astype(int) - rgb16 / 257).max() <= 1
    imconv.write_image(tmp_path / "grey16.png", rgb16[:, :, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert imconv.read_image(tmp_path / "grey16.png").dtype == np.uint16
