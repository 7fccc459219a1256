"""``make bench`` keeps working: a small run completes every row and writes its JSON.

Figures are not checked here (the machines are shared; speed is read from the bench's
own output), only that each row ran, succeeded, is compared with its raw limit, and that
every performance goal was measured and judged PASS or MISS.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import names

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
            "--flat-latency-ms",
            "1",
            "--recheck-orders",
            "150",
            "--large",
            "--large-orders",
            "600",
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
    written = json.loads(result.read_text())
    rows = {entry["row"]: entry for entry in written["rows"] if entry["orders"] == 300}
    always = {
        names.PARSE_ONLY_1,
        names.RAW_FETCH_1,
        names.RAW_FETCH_N,
        names.TAP,
        names.FLAT_PARSE_ONLY_1,
        names.FLAT_TAP,
        names.RAW_STORE_SQLITE,
        names.TARGET_SQLITE,
        names.PIPE,
    }
    assert always <= set(rows)
    large = {entry["row"] for entry in written["rows"] if entry["orders"] == 600}
    assert large == {names.TAP, names.TARGET_SQLITE, names.TARGET_PG}
    for name, entry in rows.items():
        if name not in always and "skipped" in entry:
            assert entry["skipped"], name  # a skipped row says why
            continue
        assert entry["failed_runs"] == 0, name
        measured = ("wall_s", "cpu_s", "peak_rss_mb")
        measured += ("wall_ratio", "cpu_ratio") if entry["limit"] else ()
        assert all(entry[key] > 0 for key in measured), (name, entry)
    assert "wall/lim" in done.stdout
    assert written["recheck"]["requests"] == 2  # 150 open orders, page 100
    judged = {goal["goal"]: goal["passed"] for goal in written["goals"]}
    measurable = {goal for goal in judged if "meltano" not in goal and "PostgreSQL" not in goal}
    assert measurable, judged
    assert all(judged[goal] in (True, False) for goal in measurable), judged
    assert "RSS flat, tap: 600 / 300 orders" in " ".join(judged)
    for goal in judged:
        assert goal in done.stdout
    assert "PASS" in done.stdout or "MISS" in done.stdout
