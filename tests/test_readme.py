"""The README states what the code does: quick start, border table."""

import pathlib
import re

from imconv._borders import border_table_markdown

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_quick_start_is_exactly_two_command_lines():
    block = re.search(r"## Quick start\n\n```sh\n(.*?)```", README, re.S).group(1)
    lines = block.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("imconv demo") and "pytest" in lines[1]


def test_border_table_is_the_one_in_the_code():
    assert border_table_markdown() in README
