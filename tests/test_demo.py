"""python -m imconv: the bank on the bundled photograph, end to end in a subprocess."""

import subprocess
import sys

import numpy as np

import imconv


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "imconv", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_demo_writes_every_result_and_a_contact_sheet(tmp_path):
    done = run("-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted([f"{name}.png" for name in imconv.kernels.BANK] + ["contact_sheet.png"])
    for name in imconv.kernels.BANK:
        line = next(line for line in done.stdout.splitlines() if line.startswith(name))
        assert float(line.split()[-1]) < 1e-2, line  # largest difference from cv2.filter2D
    sheet = imconv.read_image(tmp_path / "out" / "contact_sheet.png", color="keep")
    assert sheet.shape[0] > 2 * 300 and sheet.shape[1] > 4 * 451


def test_demo_edge_maps_are_absolute_values(tmp_path):
    assert run("-o", "out", cwd=tmp_path).returncode == 0
    gray = imconv.sample_image()
    expected = imconv.to_uint8(imconv.correlate(gray, "sobel_x"), how="abs")
    np.testing.assert_array_equal(imconv.read_image(tmp_path / "out" / "sobel_x.png"), expected)


def test_demo_reports_bad_input_in_one_line_without_a_traceback(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    for args in (["--image", "missing.png"], ["--image", "broken.png"], ["--border", "bogus"]):
        done = run(*args, "-o", "out", cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.startswith("imconv: error: ") and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "out").exists()
