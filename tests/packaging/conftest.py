"""Fixtures for the packaging tests: a git repository holding this checkout, built wheels, Meltano.

A user installs from a git address, and git serves only committed files, so the tests install
from a throwaway repository whose one commit is the working tree as it is now (tracked and
untracked files, less what .gitignore leaves out): the same files a commit of it would hold.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.meltano_venv import MeltanoInstallError, ensure_meltano
from tests.meltano.meltano_project import REPO_ROOT

PLUGIN_DISTRIBUTIONS = ("tap-magento2", "target-dropstream")


def git(*args: str, cwd: Path) -> str:
    """Run git without the user's identity or signing settings; its stdout."""
    command = ["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost"]
    command += ["-c", "commit.gpgsign=false", *args]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout


@pytest.fixture(scope="session")
def source_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository whose HEAD holds this checkout's working tree."""
    repo = tmp_path_factory.mktemp("source") / "magento2-dropstream"
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO_ROOT)
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "working tree", cwd=repo)
    return repo


@dataclass(frozen=True)
class Built:
    """The sdist and the wheel ``python -m build`` made of one plugin distribution."""

    sdist: Path
    wheel: Path


@pytest.fixture(scope="session")
def built(source_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Each plugin distribution built as an index would get it: sdist, then a wheel from it."""
    out = tmp_path_factory.mktemp("dist")
    found = {}
    for name in PLUGIN_DISTRIBUTIONS:
        target = out / name
        result = subprocess.run(
            [sys.executable, "-m", "build", "--outdir", str(target), "."],
            cwd=source_repository / "packaging" / name,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        (sdist,) = target.glob("*.tar.gz")
        (wheel,) = target.glob("*.whl")
        found[name] = Built(sdist=sdist, wheel=wheel)
    return found


@pytest.fixture(scope="session")
def meltano_executable() -> Path:
    """The ``meltano`` command, installed into ``.venv/meltano`` on first use."""
    try:
        return ensure_meltano(REPO_ROOT)
    except MeltanoInstallError as exc:
        pytest.skip(f"Meltano could not be installed here: {exc}")
