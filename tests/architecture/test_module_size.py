"""No module over 400 lines without a stated reason.

A module that long usually does more than one job. When one genuinely reads best as one piece,
its module docstring says why, in a sentence containing "longer than" (any case), e.g.
"Longer than our ~400-line norm because ...". Lines are counted as ``wc -l`` counts them;
every ``.py`` file of the packages counts, subpackages included.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.architecture.imports import ROOT

PACKAGES = ("magerest", "tap_magento2", "target_dropstream", "magento2_sandbox", "dropstream_fleet")
MAX_LINES = 400
REASON_PHRASE = "longer than"


def line_count(path: Path) -> int:
    """Lines as ``wc -l`` counts them (newline characters)."""
    return path.read_bytes().count(b"\n")


def states_why_it_is_long(path: Path) -> bool:
    docstring = ast.get_docstring(ast.parse(path.read_text(), filename=str(path))) or ""
    return REASON_PHRASE in docstring.lower()


def long_modules() -> list[tuple[str, int]]:
    """``(path relative to the repository, line count)`` of every module over the limit."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = line_count(path)
            if lines > MAX_LINES:
                found.append((path.relative_to(ROOT).as_posix(), lines))
    return found


def test_every_long_module_says_why_in_its_docstring() -> None:
    unexplained = [
        f"{module} has {lines} lines"
        for module, lines in long_modules()
        if not states_why_it_is_long(ROOT / module)
    ]
    assert unexplained == [], (
        f"over {MAX_LINES} lines: split each by job, or say why it reads best as one piece "
        f'in its module docstring with "{REASON_PHRASE}"'
    )


def test_the_size_check_sees_every_package() -> None:
    for package in PACKAGES:
        assert any((ROOT / package).rglob("*.py")), package


def test_the_reason_is_read_from_the_module_docstring_only(tmp_path: Path) -> None:
    stated = tmp_path / "stated.py"
    stated.write_text('"""Parser.\n\nLonger than our ~400-line norm because ..."""\n')
    in_a_comment = tmp_path / "comment.py"
    in_a_comment.write_text('"""Parser."""\n\n# longer than usual because ...\n')
    assert states_why_it_is_long(stated)
    assert not states_why_it_is_long(in_a_comment)
