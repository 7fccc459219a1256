"""Run one command as a child process and measure wall time, CPU time and peak RSS.

CPU and peak RSS come from the child's own rusage (``os.wait4``), which includes every
process it waited for (both sides of a shell pipe, Meltano's plugins), so the sandbox
serving the requests is never counted.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


@dataclass(frozen=True)
class Measurement:
    """One run of one command."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    stderr_tail: str = ""


def run_measured(
    argv: Sequence[str],
    *,
    stdin: Path | None = None,
    stdout: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 1800,
) -> Measurement:
    """Run ``argv`` to completion; stdout goes to ``stdout`` (default /dev/null)."""
    out_path = stdout or Path(os.devnull)
    with (
        _OptionalFile(stdin, "rb") as stdin_file,
        out_path.open("wb") as out_file,
        _tempfile() as err_file,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            stdin=stdin_file if stdin_file is not None else subprocess.DEVNULL,
            stdout=out_file,
            stderr=err_file,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
        deadline = started + timeout_s
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err_file.seek(0)
        tail = err_file.read().decode("utf-8", "replace").strip().splitlines()[-15:]
    return Measurement(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        returncode=process.returncode,
        stderr_tail="\n".join(tail),
    )


class _OptionalFile:
    def __init__(self, path: Path | None, mode: str) -> None:
        self.path, self.mode, self.file = path, mode, None

    def __enter__(self) -> IO[Any] | None:
        if self.path is not None:
            self.file = self.path.open(self.mode)
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


def _tempfile() -> IO[bytes]:
    import tempfile

    return tempfile.TemporaryFile()
