"""Where the tap's CPU goes per order, against the parse-only loop (``bench.raw_fetch``).

    python -m bench.profile_tap --orders 20000 [--runs 3] [--top 15] [--no-profile]

A sandbox store (its own process, no latency, so its CPU is never counted) serves N orders;
one uncounted pass lets it encode every order once. Then, ``--runs`` times each, interleaved:
the tap (orders only, as ``make bench`` runs it, output to /dev/null) and the parse-only
loop (``bench.raw_fetch --parse-only``: requests + ``json.loads`` per page, no output) with
the same number of requests in flight; CPU is the child's user + sys time. The
median CPU seconds of both and their ratio are printed, then (unless ``--no-profile``) the
top costs of one tap run under cProfile, by cumulative and by own time, and of one loop run
(1 in flight) by own time, as shares of the profiled total. cProfile sees the main thread
only (not the tap's fetch threads) and counts wall time: a call that waits for the GIL, such
as a write while fetch threads run, looks costlier than its CPU.
cProfile slows Python calls unevenly: read the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.measure import run_measured
from bench.run import PYTHON, ROOT, START, STATUSES, VENV_BIN, Sandbox, orders_only, say


def _tap_files(work: Path, sandbox: Sandbox, page_size: int, concurrency: int) -> list[str]:
    config = work / "tap.json"
    config.write_text(
        json.dumps(
            {
                "store_url": sandbox.url,
                "access_token": sandbox.token,
                "order_import_status": STATUSES.split(","),
                "start_date": START.replace(" ", "T") + "Z",
                "page_size": page_size,
                "max_concurrent_requests": concurrency,
            }
        )
    )
    discovered = subprocess.run(
        [str(VENV_BIN / "tap-magento2"), "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        check=True,
    )
    catalog = work / "catalog.json"
    catalog.write_text(json.dumps(orders_only(json.loads(discovered.stdout))))
    return ["--config", str(config), "--catalog", str(catalog)]


def _raw_fetch(sandbox: Sandbox, page_size: int, concurrency: int) -> list[str]:
    return [
        str(PYTHON),
        "-m",
        "bench.raw_fetch",
        sandbox.url,
        sandbox.token,
        "--statuses",
        STATUSES,
        "--start",
        START,
        "--page-size",
        str(page_size),
        "--concurrency",
        str(concurrency),
        "--parse-only",
    ]


def _cpu(argv: list[str]) -> float:
    measurement = run_measured(argv, cwd=ROOT)
    if measurement.returncode != 0:
        raise RuntimeError(f"{argv[2:4]} failed:\n{measurement.stderr_tail}")
    return measurement.cpu_s


#: Cumulative share above which a function is the run itself (``main``, ``sync_all``...).
_WHOLE_RUN = 0.96


def _print_top(profile: Path, top: int, what: str, *, cumulative: bool = True) -> None:
    stats = pstats.Stats(str(profile))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = stats.stats  # type: ignore[attr-defined]
    orders = (("cumulative", 3),) if cumulative else ()
    for title, index in (*orders, ("own time (tottime)", 2)):
        say(f"\n{what}: top {top} by {title} (share of {total:.2f} s profiled):")
        ranked = sorted(rows.items(), key=lambda kv: kv[1][index], reverse=True)
        if index == 3:  # leave out the call chain down to the sync loop (the whole run)
            ranked = [kv for kv in ranked if kv[1][3] < _WHOLE_RUN * total]
        ranked = ranked[:top]
        for (path, line, name), values in ranked:
            where = f"{Path(path).name}:{line}" if line else path
            share = 100 * values[index] / total
            say(f"  {share:5.1f}%  {values[1]:>9} calls  {name}  ({where})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each (median reported)")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--no-profile", action="store_true", help="CPU ratio only")
    args = parser.parse_args(argv)
    sandbox = Sandbox(args.orders, 0.0, 0.0)
    try:
        with tempfile.TemporaryDirectory(prefix="profile-tap-") as tmp:
            work = Path(tmp)
            tap_args = _tap_files(work, sandbox, args.page_size, args.concurrency)
            tap = [str(PYTHON), "-m", "tap_magento2", *tap_args]
            loop = _raw_fetch(sandbox, args.page_size, args.concurrency)
            _cpu(loop)  # the sandbox encodes every order once
            tap_cpu, loop_cpu = [], []
            for _ in range(args.runs):
                tap_cpu.append(_cpu(tap))
                loop_cpu.append(_cpu(loop))
            tap_s, loop_s = statistics.median(tap_cpu), statistics.median(loop_cpu)
            say(
                f"{args.orders} orders, page size {args.page_size}, {args.concurrency} in flight, "
                f"median of {args.runs}: tap {tap_s:.2f} s CPU "
                f"({1000 * tap_s / args.orders:.3f} ms/order), parse-only loop {loop_s:.2f} s "
                f"({1000 * loop_s / args.orders:.3f} ms/order), ratio {tap_s / loop_s:.2f}x"
            )
            if not args.no_profile:
                # The loop in one thread, so that cProfile sees its work.
                sequential = _raw_fetch(sandbox, args.page_size, 1)
                for name, argv in (("tap", tap), ("parse-only loop, 1 in flight", sequential)):
                    profile = work / "run.prof"
                    _cpu([str(PYTHON), "-m", "cProfile", "-o", str(profile), *argv[1:]])
                    _print_top(profile, args.top, name, cumulative=name == "tap")
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
