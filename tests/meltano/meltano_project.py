"""Drive the real ``meltano`` CLI against a throwaway copy of this project.

Each test gets its own project directory (a copy of meltano.yml), its own system database
(and so its own saved state) and its own run and log folders. Only the plugin virtualenvs
are shared, installed once per machine from this checkout, so a test run never reads or
writes the developer's ``.meltano``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINE_STATE_ID = "dev:tap-magento2-to-target-dropstream"
PLUGIN_DIRS = ("extractors", "loaders")
# Variables a developer may have exported that would change what the tests run against.
_LEAKY_PREFIXES = (
    "MELTANO_",
    "TAP_MAGENTO2",
    "TARGET_DROPSTREAM",
    "TARGET_JSONL",
    "MAGENTO_",
    "DROPSTREAM_",
)


def clean_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment without Meltano/plugin settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["NO_COLOR"] = "1"
    env.update(extra or {})
    return env


@dataclass
class MeltanoResult:
    """What one meltano command did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        """The command and its last log lines (traceback boxes left out), for assertions."""
        lines = [
            line
            for line in self.output.strip().splitlines()
            if line.strip() and not line.lstrip().startswith(("│", "╭", "╰"))
        ]
        tail = "\n".join(lines[-40:])
        return f"meltano {' '.join(self.args)} exited {self.returncode}:\n{tail}"


@dataclass
class MeltanoProject:
    """A private Meltano project: meltano.yml copied from the repo, plugins shared."""

    executable: Path
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    @classmethod
    def create(
        cls,
        executable: Path,
        root: Path,
        plugin_cache: Path,
        *,
        database_uri: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> MeltanoProject:
        """Lay out a project at ``root`` whose plugins come from ``plugin_cache``."""
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / "meltano.yml", root / "meltano.yml")
        sys_dir = root / ".meltano"
        sys_dir.mkdir(exist_ok=True)
        for name in PLUGIN_DIRS:
            link = sys_dir / name
            if not link.exists():
                link.symlink_to(plugin_cache / name, target_is_directory=True)
        base = {
            "MELTANO_PROJECT_ROOT": str(root),
            "MELTANO_DATABASE_URI": database_uri or f"sqlite:///{sys_dir / 'meltano.db'}",
        }
        return cls(executable=executable, root=root, env=clean_environ({**base, **(env or {})}))

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float = 180,
    ) -> MeltanoResult:
        """Run ``meltano <args>`` in the project; raise with its output when ``check`` fails."""
        completed = subprocess.run(
            [str(self.executable), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = MeltanoResult(args, completed.returncode, completed.stdout, completed.stderr)
        self.runs += 1
        log = self.root / "logs" / f"{self.runs:02d}-{args[0]}.log"
        log.parent.mkdir(exist_ok=True)
        log.write_text(f"$ meltano {' '.join(args)}\n{result.output}", encoding="utf-8")
        if check and result.returncode != 0:
            raise AssertionError(result.describe())
        return result

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        """Start ``meltano <args>`` without waiting (for pipelines that run side by side)."""
        return subprocess.Popen(
            [str(self.executable), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def get_state(self, state_id: str = PIPELINE_STATE_ID) -> dict[str, Any]:
        """The saved state of ``state_id`` ({} when there is none)."""
        result = self.run("state", "get", state_id, check=False)
        text = result.stdout.strip()
        if result.returncode != 0 or not text:
            return {}
        return json.loads(text.splitlines()[-1])

    def set_state(self, state: Mapping[str, Any], state_id: str = PIPELINE_STATE_ID) -> None:
        """Replace the saved state of ``state_id`` (``meltano state set --force``)."""
        self.run("state", "set", "--force", state_id, json.dumps(state))

    def bookmark(self, state_id: str = PIPELINE_STATE_ID) -> str | None:
        """The saved ``orders`` bookmark (replication_key_value) of ``state_id``."""
        bookmarks = self.get_state(state_id).get("singer_state", {}).get("bookmarks", {})
        return bookmarks.get("orders", {}).get("replication_key_value")


def orders_state(bookmark: str) -> dict[str, Any]:
    """A Meltano state payload whose ``orders`` bookmark is ``bookmark``."""
    return {
        "singer_state": {
            "bookmarks": {
                "orders": {"replication_key": "updated_at", "replication_key_value": bookmark}
            }
        }
    }
