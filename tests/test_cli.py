"""The installed ``imconv`` command, end to end through subprocess, on real photographs."""

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import imconv

IMCONV = Path(sys.executable).with_name("imconv")  # the console script of this environment


def run(*args, cwd, env=None):
    return subprocess.run([str(IMCONV), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def assert_user_error(done):
    assert done.returncode == 2, done
    assert done.stderr.startswith("imconv: error: ") and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.fixture
def astronaut(tmp_path, photos):
    path = tmp_path / "astronaut.png"
    imconv.write_image(path, photos["astronaut"])
    return path


def test_the_command_is_installed():
    assert IMCONV.exists(), "pip install -e '.[test]' installs the imconv command"
    assert run("--version", cwd=".").stdout.strip() == f"imconv {imconv.__version__}"
    assert "examples:" in run("--help", cwd=".").stdout
    module = subprocess.run([sys.executable, "-m", "imconv", "--version"], capture_output=True, text=True)
    assert module.stdout.strip() == f"imconv {imconv.__version__}"


# --- demo and bank ---------------------------------------------------------------------

def test_demo_writes_every_result_a_contact_sheet_and_the_opencv_check(tmp_path):
    done = run("demo", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted([f"{name}.png" for name in imconv.kernels.BANK] + ["contact_sheet.png"])
    gray = imconv.sample_image()
    for name in imconv.kernels.BANK:
        line = next(line for line in done.stdout.splitlines() if line.startswith(name))
        method = imconv.explain(gray, name, echo=None).method
        assert line.split()[2] == method and float(line.split()[-1]) < 1e-2, line
    expected = imconv.to_uint8(imconv.correlate(gray, "sobel_x"), how="abs")  # edge maps: |value|
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "out" / "sobel_x.png"), expected)


def test_bank_on_a_colour_photograph(tmp_path, astronaut):
    done = run("bank", astronaut, "--color", "rgb", "--border", "reflect101", "-o", "bank", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sharpened = imconv.read_image(tmp_path / "bank" / "sharpen.png", color="keep")
    expected = imconv.to_uint8(imconv.correlate(imconv.read_image(astronaut, color="rgb"), "sharpen",
                                                border="reflect101"))
    np.testing.assert_array_equal(sharpened, expected)


# --- apply -----------------------------------------------------------------------------

KERNEL_FILES = {
    "k.txt": "0 -1 0\n-1 5 -1\n0 -1 0\n",
    "k.csv": "0,-1,0\n-1,5,-1\n0,-1,0\n",
    "k.json": json.dumps([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
}


@pytest.mark.parametrize("spec", ["sharpen", "0,-1,0;-1,5,-1;0,-1,0", "k.txt", "k.csv", "k.json", "k.npy"])
def test_apply_takes_every_kernel_form(tmp_path, astronaut, spec):
    for name, text in KERNEL_FILES.items():
        (tmp_path / name).write_text(text)
    np.save(tmp_path / "k.npy", imconv.kernels.get("sharpen"))
    done = run("apply", astronaut, "-k", spec, "-o", "out.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = imconv.to_uint8(imconv.correlate(imconv.read_image(astronaut, color="keep"), "sharpen"))
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "out.png", color="keep"), expected)


def test_apply_builders_chain_in_order_and_flip_with_convolve(tmp_path, astronaut):
    done = run("apply", astronaut, "-k", "gaussian:5:1.0", "-k", "box:1x3", "-k", "emboss", "--convolve",
               "--color", "gray", "--border", "wrap", "-o", "out.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    image = imconv.read_image(astronaut)
    for kernel in (imconv.kernels.gaussian(5, 1.0), imconv.kernels.box((1, 3)), "emboss"):
        image = imconv.convolve(image, kernel, border="wrap")
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "out.png"), imconv.to_uint8(image))


def test_apply_explains_and_uses_abs_for_edge_maps(tmp_path, astronaut):
    done = run("apply", astronaut, "-k", "sobel_y", "--color", "gray", "-o", "edges.png", cwd=tmp_path)
    assert "sums to 0" in done.stdout and "--scale abs" in done.stdout
    expected = imconv.to_uint8(imconv.correlate(imconv.read_image(astronaut), "sobel_y"), how="abs")
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "edges.png"), expected)


@pytest.mark.parametrize("out", ["raw.npy", "raw.tif"])
def test_apply_raw_keeps_negative_values(tmp_path, astronaut, out):
    done = run("apply", astronaut, "-k", "laplacian", "--color", "gray", "--raw", "-o", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    raw = np.load(tmp_path / out) if out.endswith(".npy") else imconv.read_image(tmp_path / out, color="keep")
    np.testing.assert_array_equal(raw, imconv.correlate(imconv.read_image(astronaut), "laplacian"))
    assert raw.min() < 0


def test_batch_writes_the_good_files_reports_the_bad_and_touches_nothing_else(tmp_path, photos):
    inputs = tmp_path / "photos"
    inputs.mkdir()
    for name in ("camera", "astronaut", "coffee"):
        imconv.write_image(inputs / f"{name}.png", photos[name])
    (inputs / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (inputs / "notes.txt").write_text("not an image")
    before = {p.name: p.read_bytes() for p in inputs.iterdir()}
    done = run("apply", inputs, "-k", "small_blur", "-o", "out", "--suffix", "_blur", "--jobs", "2",
               cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("imconv: error: ") == 1 and "broken.png" in done.stderr
    assert "Traceback" not in done.stderr and "3 written, 1 failed" in done.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "astronaut_blur.png", "camera_blur.png", "coffee_blur.png"]
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == before
    expected = imconv.to_uint8(imconv.correlate(photos["coffee"], "small_blur"))
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "out" / "coffee_blur.png", color="keep"), expected)


def test_globs_are_expanded_and_outputs_may_not_overwrite_inputs(tmp_path, photos):
    for name in ("camera", "coffee"):
        imconv.write_image(tmp_path / f"{name}.png", photos[name])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    refused = run("apply", "*.png", "-k", "sharpen", "-o", ".", cwd=tmp_path)
    assert_user_error(refused)
    assert "would overwrite the input" in refused.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    done = run("apply", "*.png", "-k", "sharpen", "-o", ".", "--suffix", "_sharp", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "camera_sharp.png").exists() and (tmp_path / "coffee_sharp.png").exists()


def test_progress_bar_is_drawn_on_a_terminal_only(tmp_path, photos):
    for name in ("camera", "coffee"):
        imconv.write_image(tmp_path / f"{name}.png", photos[name])
    piped = run("apply", tmp_path, "-k", "sharpen", "-o", tmp_path / "a", cwd=tmp_path)
    assert piped.returncode == 0 and "[#" not in piped.stderr
    leader, follower = pty.openpty()
    done = subprocess.run([str(IMCONV), "apply", str(tmp_path), "-k", "sharpen", "-o", str(tmp_path / "b")],
                          stderr=follower, stdout=subprocess.PIPE, timeout=300)
    os.close(follower)
    drawn = os.read(leader, 65536).decode()
    os.close(leader)
    assert done.returncode == 0 and "2/2" in drawn and "#" in drawn


def test_quiet_prints_nothing(tmp_path, astronaut):
    done = run("apply", astronaut, "-k", "sharpen", "-o", "out.png", "--quiet", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


# --- kernels and match -----------------------------------------------------------------

def test_kernels_lists_the_bank_and_builders_and_shows_one(tmp_path):
    listing = run("kernels", cwd=tmp_path).stdout
    for name in list(imconv.kernels.names()) + list(imconv.kernels.BUILDERS):
        assert re.search(rf"\b{name}\b", listing), name
    shown = run("kernels", "sobel_x", cwd=tmp_path).stdout
    assert "size 3 x 3, sum 0, separable (rank 1)" in shown and "[-2.  0.  2.]" in shown
    assert "rank 2, not separable" in run("kernels", "sharpen", cwd=tmp_path).stdout
    assert "size 9 x 9, sum 1" in run("kernels", "gaussian:9:2.0", cwd=tmp_path).stdout
    plan = run("kernels", "large_blur", cwd=tmp_path).stdout.splitlines()[-1]
    assert re.match(r"plan for a 4096 x 4096 float32 image: (separable|box) \(predicted [\d.]+ ms; ", plan)


def test_match_finds_a_template_in_a_noisy_photograph(tmp_path, photos):
    gray = imconv._image_files.rgb_to_gray(photos["astronaut"])
    x, y, w, h = 210, 90, 60, 50
    imconv.write_image(tmp_path / "template.png", gray[y:y + h, x:x + w])
    noise = np.random.default_rng(7).normal(0, 25, gray.shape)
    imconv.write_image(tmp_path / "noisy.png", np.clip(gray + noise, 0, 255).round().astype(np.uint8))
    done = run("match", "noisy.png", "template.png", "-n", "3", "-o", "found", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rank, found_x, found_y, score = done.stdout.splitlines()[1].split()
    assert (int(found_x), int(found_y)) == (x, y) and float(score) > 0.5
    assert len(done.stdout.splitlines()) == 1 + 3 + 1
    assert imconv.read_image(tmp_path / "found" / "matches.png", color="keep").shape == gray.shape + (3,)
    assert imconv.read_image(tmp_path / "found" / "scores.png", color="keep").shape == (
        gray.shape[0] - h + 1, gray.shape[1] - w + 1, 3)


# --- every error path: one line, status 2, no traceback ------------------------------

ERRORS = [
    (["apply", "missing.png", "-k", "sharpen"], "does not exist"),
    (["apply", "photo.png", "-k", "1,2;3"], "rows have different lengths"),
    (["apply", "photo.png", "-k", "soble_x"], "kernel 'soble_x' is not known"),
    (["apply", "photo.png", "-k", "gaussian:9:-1"], "sigma=-1.0 must be a positive finite number"),
    (["apply", "photo.png", "-k", "nope.npy"], "kernel file 'nope.npy' does not exist"),
    (["apply", "corrupt.png", "-k", "sharpen"], "'corrupt.png' is not a readable PNG"),
    (["apply", "photo.png", "-k", "sharpen", "--border", "bogus"], "border='bogus' is not known"),
    (["apply", "photo.png", "-k", "sharpen", "--jobs", "0"], "--jobs 0 must be at least 1"),
    (["apply", "photo.png", "-k", "box:64", "--mode", "valid"], "mode='valid' needs the kernel to fit"),
    (["apply", "photo.png", "-k", "sharpen", "-o", "out.jpg", "--color", "keep"], "JPEG takes"),
    (["apply", "photo.png", "-k", "sharpen", "--raw", "-o", "x.png"], "--raw writes .npy/.tif/.tiff"),
    (["apply", "photo.png", "-k", "sharpen", "-o", "x.npy"], "images are written as .png/.jpg"),
    (["apply", "photo.png", "-k", "sharpen", "--nonsense"], "unrecognized arguments: --nonsense"),
    (["apply", "photo.png"], "the following arguments are required: -k/--kernel"),
    (["apply", "empty_folder", "-k", "sharpen"], "holds no"),
    (["bank", "corrupt.png"], "not a readable PNG, JPEG, TIFF or BMP image (damaged"),
    (["kernels", "nope"], "kernel 'nope' is not known"),
    (["match", "photo.png", "missing.png"], "does not exist"),
    (["match", "photo.png", "big.png"], "larger than the image"),
    (["match", "photo.png", "photo.png", "-n", "0"], "n=0 must be a positive integer"),
    (["learn"], "choose what to learn: kernel or digits"),
    (["learn", "kernel", "photo.png", "photo.png"], "cannot identify a 3x3 kernel"),
    (["learn", "kernel", "photo.png", "big.png"], "input 0 has shape (40, 50) but its target has (60, 60)"),
    (["learn", "kernel", "photo.png", "photo.png", "--size", "3y3"], "--size '3y3' must be ROWSxCOLS"),
    (["learn", "kernel", "photo.png", "corrupt.npy"], "corrupt.npy: not a readable .npy array"),
    (["learn", "kernel", "photo.png", "missing.png"], "does not exist"),
    (["learn", "digits", "--epochs", "0"], "--epochs 0 must be at least 1"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "choose a command"),
]


@pytest.mark.parametrize("args, message", ERRORS, ids=[" ".join(a) or "nothing" for a, _ in ERRORS])
def test_every_user_error_is_one_line_with_status_2(tmp_path, args, message):
    rgba = np.zeros((40, 50, 4), np.uint8)
    imconv.write_image(tmp_path / "photo.png", rgba)
    imconv.write_image(tmp_path / "big.png", np.zeros((60, 60, 4), np.uint8))
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    (tmp_path / "corrupt.npy").write_bytes(b"\x93NUMPY" + bytes(10))
    (tmp_path / "empty_folder").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run(*args, cwd=tmp_path)
    assert_user_error(done)
    assert message in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_warnings_are_one_line(tmp_path, rng):
    import cv2

    cv2.imwrite(str(tmp_path / "deep.png"), rng.integers(0, 65536, (20, 30, 3)).astype(np.uint16))
    done = run("apply", "deep.png", "-k", "sharpen", "--color", "rgb", "-o", "out.png", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr.startswith("imconv: warning: 'deep.png' holds 16-bit colour")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_parallel_batch_leaves_the_thread_setting_as_it_was(tmp_path, photos, monkeypatch):
    from imconv._cli import main

    for name in ("camera", "coffee"):
        imconv.write_image(tmp_path / f"{name}.png", photos[name])
    monkeypatch.delenv("IMCONV_NUM_THREADS", raising=False)
    assert main(["apply", str(tmp_path), "-k", "sharpen", "-o", str(tmp_path / "out"), "--jobs", "2",
                 "-q"]) == 0
    assert "IMCONV_NUM_THREADS" not in os.environ
    monkeypatch.setenv("IMCONV_NUM_THREADS", "3")
    assert main(["apply", str(tmp_path), "-k", "sharpen", "-o", str(tmp_path / "again"), "--jobs", "2",
                 "-q"]) == 0
    assert os.environ["IMCONV_NUM_THREADS"] == "3"


def test_warm_compiles_the_common_kernels_and_writes_nothing_here(tmp_path):
    result = run("warm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"72 calls ready in \d+\.\d s\n", result.stdout)
    assert list(tmp_path.iterdir()) == []


def test_learn_kernel_recovers_a_kernel_from_files(tmp_path, photos):
    camera = photos["camera"]
    imconv.write_image(tmp_path / "camera.png", camera)
    np.save(tmp_path / "edges.npy", imconv.correlate(camera, "sobel_y", border="reflect101"))
    done = run("learn", "kernel", "camera.png", "edges.npy", "--border", "reflect101", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = np.array([[float(v) for v in line.strip(" []").split()] for line in done.stdout.splitlines()[1:4]])
    assert np.abs(printed - imconv.kernels.get("sobel_y")).max() < 1e-6
    assert "closest bank kernel: sobel_y (normalised correlation 1.0000)" in done.stdout
    imconv.write_image(tmp_path / "sharp.png", imconv.correlate(camera, "sharpen", dtype=np.uint8))
    rounded = run("learn", "kernel", "camera.png", "sharp.png", "--method", "gd", cwd=tmp_path)
    assert "closest bank kernel: sharpen" in rounded.stdout
    assert re.search(r"note: \d+% of the target's pixels are at 0 or 255", rounded.stdout)


def test_learn_digits_trains_saves_and_pictures_its_filters(tmp_path):
    pytest.importorskip("sklearn")
    done = run("learn", "digits", "--epochs", "2", "--seed", "5", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    accuracy = float(re.search(r"test accuracy (\d+\.\d+)%", done.stdout).group(1))
    assert accuracy > 85
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["filters.png", "model.npz"]
    network = imconv.learn.Sequential.load(tmp_path / "out" / "model.npz")
    assert network.layers[0].weight.shape == (8, 1, 3, 3)
    assert imconv.read_image(tmp_path / "out" / "filters.png", color="rgb").shape[2] == 3


def test_learn_digits_draws_its_progress_on_a_terminal(tmp_path):
    pytest.importorskip("sklearn")
    leader, follower = pty.openpty()
    process = subprocess.Popen([str(IMCONV), "learn", "digits", "--epochs", "2", "-o", "out"], cwd=tmp_path,
                               stderr=follower, stdout=subprocess.DEVNULL)
    os.close(follower)
    drawn = b""
    while True:  # read as it goes: a full terminal buffer would block the writer
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other side has closed
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert process.wait(timeout=300) == 0
    assert "86/86" in drawn.decode() and "loss" in drawn.decode()
