"""``python -m bench.fleet``: many sandbox stores through the fleet on Dagster, measured.

Starts N sandbox stores of M orders each (two store views per store, so 2N load steps and
N notify steps), runs the fleet once with Dagster's multiprocess executor into a throwaway
PostgreSQL database, then checks and prints:

- every paid order of every store view is in the store exactly once (against the sandbox);
- from the run's event log (each step attempt's start and end), the most steps that ran
  at once across the fleet and within each store, next to the configured limits;
- wall time and orders per second.

    python -m bench.fleet --stores 20 --orders 2000 --max-concurrent 4 --per-store 1

Exit status 1 when an order is missing or doubled, a step failed, or a limit was exceeded.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import create_engine, text

from dropstream_fleet.demo import (
    DemoStore,
    environment,
    installed_plugins,
    postgres_available,
    sandbox_keys,
    throwaway_databases,
    write_fleet_file,
)
from dropstream_fleet.runner import FleetRun, run_fleet
from magento2_sandbox import MagentoSandbox

VIEWS = {"default": 1, "fr": 2}


def most_at_once(intervals: Iterable[tuple[float, float]]) -> int:
    """The largest number of intervals open at one moment (an end before a start at a tie)."""
    spans = list(intervals)
    edges = sorted(
        [(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans],
        key=lambda edge: (edge[0], edge[1]),
    )
    running = peak = 0
    for _, change in edges:
        running += change
        peak = max(peak, running)
    return peak


def stored_orders(database_url: str) -> dict[str, list[int]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT source, order_id FROM fulfillment_orders")).all()
    finally:
        engine.dispose()
    found: dict[str, list[int]] = {}
    for source, order_id in rows:
        found.setdefault(source, []).append(int(order_id))
    return found


def check_orders(run: FleetRun, sandboxes: dict[str, MagentoSandbox], database_url: str) -> int:
    """Compare the store with each sandbox; returns the number of problems printed."""
    stored = stored_orders(database_url)
    problems = 0
    for name, sandbox in sandboxes.items():
        expected = {
            int(o["entity_id"])
            for o in sandbox.data.matching(["processing"], store_ids=list(VIEWS.values()))
        }
        got = stored.get(sandbox.base_url.rstrip("/"), [])
        if len(got) != len(set(got)):
            print(f"  {name}: an order is stored twice")  # noqa: T201
            problems += 1
        if set(got) != expected:
            missing, extra = len(expected - set(got)), len(set(got) - expected)
            print(f"  {name}: {missing} paid orders missing, {extra} unexpected")  # noqa: T201
            problems += 1
    for step in run.steps:
        if step.status not in ("loaded", "notified"):
            print(f"  {step.step_key}: {step.status} {step.reason}")  # noqa: T201
            problems += 1
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--orders", type=int, default=2000, help="orders per store")
    parser.add_argument("--max-concurrent", type=int, default=4, help="fleet-wide step limit")
    parser.add_argument("--per-store", type=int, default=1, help="steps of one store at once")
    args = parser.parse_args(argv)
    if not postgres_available():
        print("bench.fleet: PostgreSQL is not reachable on 127.0.0.1:5432", file=sys.stderr)  # noqa: T201
        return 2
    plugins = installed_plugins()
    with contextlib.ExitStack() as stack:
        sandboxes = {
            f"store_{i:02d}": stack.enter_context(
                MagentoSandbox(order_count=args.orders, seed=1000 + i)
            )
            for i in range(args.stores)
        }
        stores = [
            DemoStore(name, sb.base_url, list(VIEWS), sandbox_keys(sb))
            for name, sb in sandboxes.items()
        ]
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fleet-")))
        fleet_file = write_fleet_file(
            workdir / "fleet.yml",
            stores,
            plugins,
            max_concurrent=args.max_concurrent,
            defaults={"max_concurrent": args.per_store, "retries": 0},
        )
        databases = stack.enter_context(throwaway_databases("bench_fleet"))
        variables = dict(databases)
        for store in stores:
            variables.update(store.environment())
        stack.enter_context(environment(variables))
        run = run_fleet(fleet_file, console_log=workdir / "steps.log")
        problems = check_orders(run, sandboxes, databases["DROPSTREAM_DATABASE_URL"])
        loaded = sum(len(v) for v in stored_orders(databases["DROPSTREAM_DATABASE_URL"]).values())
    every = [interval for step in run.steps for interval in step.intervals]
    fleet_peak = most_at_once(every)
    store_peaks = {
        name: most_at_once(i for s in run.steps if s.store == name for i in s.intervals)
        for name in sandboxes
    }
    worst_store = max(store_peaks.values(), default=0)
    steps = sum(len(step.intervals) for step in run.steps)
    print(  # noqa: T201
        f"fleet: {args.stores} stores x {args.orders} orders, {len(VIEWS)} store views each; "
        f"{steps} step runs\n"
        f"wall {run.seconds:.1f} s; {loaded} paid orders in the store "
        f"({loaded / run.seconds:.1f} orders/s)\n"
        f"most steps at once: fleet {fleet_peak} (limit {args.max_concurrent}), "
        f"one store {worst_store} (limit {args.per_store})\n"
        f"orders check: {'every paid order once' if problems == 0 else f'{problems} problem(s)'}"
    )
    over = fleet_peak > args.max_concurrent or worst_store > args.per_store
    if over:
        print("a concurrency limit was exceeded", file=sys.stderr)  # noqa: T201
    return 1 if problems or over else 0


if __name__ == "__main__":
    sys.exit(main())
