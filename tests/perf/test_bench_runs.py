"""``make bench`` keeps working: a small run completes every row and writes its JSON.

Figures are not checked here (the machines are shared; speed is read from the bench's
own output), only that each row ran, succeeded, and is compared with its raw limit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_bench_run_measures_every_row(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--orders",
            "300",
            "--runs",
            "1",
            "--latency-ms",
            "0",
            "--latency-per-order-ms",
            "0",
            "--results-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (result,) = tmp_path.glob("*.json")
    rows = {entry["row"]: entry for entry in json.loads(result.read_text())["rows"]}
    always = {
        "raw fetch, 1 in flight",
        "raw fetch, 4 in flight",
        "tap-magento2 > /dev/null (4 in flight)",
        "raw store: executemany, SQLite",
        "target-dropstream < file, SQLite",
        "tap | target (SQLite)",
    }
    assert always <= set(rows)
    for name, entry in rows.items():
        if name not in always and "skipped" in entry:
            assert entry["skipped"], name  # a skipped row says why
            continue
        assert entry["failed_runs"] == 0, name
        measured = ("wall_s", "cpu_s", "peak_rss_mb")
        measured += ("wall_ratio", "cpu_ratio") if entry["limit"] else ()
        assert all(entry[key] > 0 for key in measured), (name, entry)
    assert "wall/lim" in done.stdout
