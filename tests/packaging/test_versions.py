"""One version, ``magerest.version.__version__``: every executable prints it, CHANGELOG has it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from magerest.version import __version__
from tests.meltano.meltano_project import REPO_ROOT

BIN = Path(sys.executable).parent
#: Each executable's --version line, as its framework words it.
EXPECTED = {
    "tap-magento2": f"tap-magento2 v{__version__}, Meltano SDK v",
    "target-dropstream": f"target-dropstream v{__version__}, Meltano SDK v",
    "dropstream": f"dropstream, version {__version__}",
    "magento2-sandbox": f"magento2-sandbox {__version__}",
}


@pytest.mark.parametrize("executable", sorted(EXPECTED))
def test_version_flag_prints_the_one_version(executable: str) -> None:
    result = subprocess.run(
        [str(BIN / executable), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(EXPECTED[executable]), result.stdout


def test_changelog_has_the_version_and_names_the_tags() -> None:
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"\n## {__version__} - " in text
    assert "v<version>" in text
