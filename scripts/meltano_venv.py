"""Create Meltano's own virtualenv once and reuse it.

Meltano pins SQLAlchemy below 2.1 while the plugins need 2.1, so Meltano can never live
in the project's ``.venv``. It gets ``.venv/meltano`` instead; the demo, the tests and
anyone typing ``.venv/meltano/bin/meltano`` share that one install.

Run ``python -m scripts.meltano_venv`` to create it and print the executable's path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

# The postgres extra brings psycopg 3 for MELTANO_DATABASE_URI=postgresql+psycopg://...
MELTANO_REQUIREMENT = "meltano[postgres]>=4.4,<5"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_KINDS = ("extractors", "loaders")
# Settings a developer may have exported that would change what gets installed or run.
_PROJECT_VARIABLES = ("MELTANO_", "TAP_MAGENTO2", "TARGET_DROPSTREAM", "MAGENTO_", "DROPSTREAM_")


class MeltanoInstallError(RuntimeError):
    """Meltano could not be installed; the message carries pip's last lines."""


def meltano_venv_dir(root: Path = PROJECT_ROOT) -> Path:
    """Where Meltano's virtualenv lives for the project at ``root``."""
    return root / ".venv" / "meltano"


def meltano_executable(root: Path = PROJECT_ROOT) -> Path:
    """The ``meltano`` command inside Meltano's virtualenv (it may not exist yet)."""
    return meltano_venv_dir(root) / "bin" / "meltano"


def ensure_meltano(root: Path = PROJECT_ROOT, *, quiet: bool = True) -> Path:
    """Return the ``meltano`` executable, installing Meltano first if needed.

    The install is recorded in a stamp file holding the requirement, so a later change of
    the requirement reinstalls and an unchanged one costs nothing.

    Raises:
        MeltanoInstallError: when the virtualenv cannot be created or pip fails.
    """
    venv_dir = meltano_venv_dir(root)
    executable = meltano_executable(root)
    stamp = venv_dir / ".requirement"
    if (
        executable.exists()
        and stamp.exists()
        and stamp.read_text(encoding="utf-8") == MELTANO_REQUIREMENT
    ):
        return executable
    python = venv_dir / "bin" / "python"
    if not python.exists():
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
        except (OSError, subprocess.CalledProcessError) as exc:
            msg = f"cannot create a virtualenv in {venv_dir}: {exc}"
            raise MeltanoInstallError(msg) from exc
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        command.append("--quiet")
    result = subprocess.run(
        [*command, MELTANO_REQUIREMENT], capture_output=quiet, text=True, check=False
    )
    if result.returncode != 0 or not executable.exists():
        tail = "\n".join((result.stderr or "").strip().splitlines()[-15:])
        msg = f"pip could not install {MELTANO_REQUIREMENT!r} into {venv_dir}:\n{tail}"
        raise MeltanoInstallError(msg)
    stamp.write_text(MELTANO_REQUIREMENT, encoding="utf-8")
    return executable


def plugin_folder(root: Path = PROJECT_ROOT) -> Path:
    """A Meltano system folder holding the plugins installed from this checkout.

    Shared by the tests and the benchmark (each with its own throwaway project), so the
    developer's own ``.meltano`` is never read or written by them.
    """
    return meltano_venv_dir(root) / "test-plugins"


def install_plugins(meltano: Path, root: Path = PROJECT_ROOT) -> Path:
    """``meltano install`` into ``plugin_folder`` (quick when nothing changed); returns it.

    Raises:
        MeltanoInstallError: when ``meltano install`` fails (its last lines are included).
    """
    folder = plugin_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PROJECT_VARIABLES)}
    env.update(
        MELTANO_PROJECT_ROOT=str(root),
        MELTANO_SYS_DIR_ROOT=str(folder),
        MELTANO_DATABASE_URI=f"sqlite:///{folder / 'install.db'}",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        NO_COLOR="1",
    )
    result = subprocess.run(
        [str(meltano), "install"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    missing = [kind for kind in PLUGIN_KINDS if not (folder / kind).is_dir()]
    if result.returncode != 0 or missing:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise MeltanoInstallError(f"meltano install failed (exit {result.returncode}):\n{tail}")
    return folder


def main() -> int:
    """Create or reuse Meltano's virtualenv and print the path of ``meltano``."""
    try:
        executable = ensure_meltano(quiet=False)
    except MeltanoInstallError as exc:
        print(exc, file=sys.stderr)  # noqa: T201 - command-line output
        return 1
    print(executable)  # noqa: T201 - command-line output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
