"""``make bench``: tap-magento2 and target-dropstream against their raw limits, in one run.

A sandbox store (separate process, so its CPU is never counted) serves N orders with a
latency model (default 50 ms per request + 1 ms per order on the page); a second one serves
the same orders at a flat latency (default 20 ms per request). One uncounted pass first lets
each encode every order once, so its own CPU stays small while the rows run (it shares the
machine's cores with what is measured). Each row runs as a child process; wall time, CPU
time (child rusage) and peak RSS are measured, every row ``--runs`` times (rows
interleaved, so a noisy moment hits all rows alike), and the median is reported with its
ratio to the row's raw limit:

* the parse-only loop (requests + ``json.loads`` per page, no output) and the raw fetch
  (also writes each order as a JSON line), sequential and with N requests in flight
  (``bench.raw_fetch``);
* tap-magento2 to /dev/null (N = ``--concurrency``, the tap's default), on both sandboxes;
* target-dropstream loading the tap's output into SQLite and PostgreSQL, against the raw
  store limit (``bench.raw_store``: one executemany per batch of the same rows);
* ``tap-magento2 | target-dropstream`` and ``meltano run`` (skipped with a reason when
  Meltano or PostgreSQL are not available);
* the end-of-run re-check of 10,000 open orders (``bench.recheck``).

Then each performance goal (``bench.goals``) is printed with its measured ratio and PASS or
MISS. ``--large`` adds one run of the tap and the targets at 200,000 orders, for peak RSS.
Results go to ``bench-results/<timestamp>.json``; ``--compare FILE`` prints the change
against an earlier result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import goals, names
from bench.measure import Measurement, run_measured
from scripts.meltano_venv import MeltanoInstallError, ensure_meltano, install_plugins

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
RESULTS = ROOT / "bench-results"
STATUSES = "pending,processing,holded,complete,canceled"  # every seeded order
START = "2000-01-01 00:00:00"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@dataclass
class Row:
    """One benchmark row: how to run it once, and which row is its raw limit."""

    name: str
    run: Callable[[int], Measurement]
    limit: str | None = None
    results: list[Measurement] = field(default_factory=list)
    skipped: str | None = None


# -- environment ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sandbox:
    """``magento2-sandbox`` in its own process."""

    def __init__(self, orders: int, latency_ms: float, per_order_ms: float) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "magento2-sandbox"),
                "--port",
                str(self.port),
                "--orders",
                str(orders),
                "--latency-ms",
                str(latency_ms),
                "--latency-per-order-ms",
                str(per_order_ms),
                # Bearer on (a store whose admin allowed it), so the raw loop and the
                # plugins authenticate the same cheap way.
                "--bearer",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if "access_token=" not in line:
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line.strip()}")
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = re.search(r"\baccess_token=(\S+)", line).group(1)  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def postgres_problem() -> str | None:
    """None when PostgreSQL at 127.0.0.1:5432 (user postgres, trust) can be used."""
    try:
        import psycopg

        with psycopg.connect(**PG, dbname="postgres", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL at 127.0.0.1:5432 is not usable ({exc.__class__.__name__})"
    return None


class ThrowawayDatabase:
    """A PostgreSQL database created for one run and dropped after it."""

    counter = 0

    def __init__(self) -> None:
        import psycopg

        ThrowawayDatabase.counter += 1
        self.name = f"dropstream_bench_{os.getpid()}_{ThrowawayDatabase.counter}"
        with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def prepare_meltano() -> tuple[Path | None, Path | None, str | None]:
    """Meltano and the plugins installed from this checkout, or why they cannot be."""
    say("  Meltano and the plugins: checking the install (.venv/meltano; a minute the first time)")
    try:
        meltano = ensure_meltano()
        return meltano, install_plugins(meltano), None
    except MeltanoInstallError as exc:
        return None, None, f"Meltano could not be installed: {str(exc).splitlines()[0]}"


def orders_only(catalog: dict[str, Any]) -> dict[str, Any]:
    """The discovered catalog with only the orders stream selected (as meltano.yml does)."""
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "orders"
    return catalog


def check_records(singer_file: Path, orders: int) -> None:
    """Fail the bench unless the tap wrote every order, once, and nothing else."""
    counts: dict[str, int] = {}
    ids = set()
    with singer_file.open("rb") as lines:
        for line in lines:
            message = json.loads(line)
            if message.get("type") == "RECORD":
                counts[message["stream"]] = counts.get(message["stream"], 0) + 1
                ids.add(message["record"]["entity_id"])
    if counts != {"orders": orders} or len(ids) != orders:
        msg = f"the tap wrote {counts} ({len(ids)} distinct orders); expected {orders} orders"
        raise RuntimeError(msg)


# -- rows ----------------------------------------------------------------------------------


class Bench:
    def __init__(
        self, args: argparse.Namespace, orders: int, work: Path, *, large: bool = False
    ) -> None:
        self.args = args
        self.orders = orders
        self.work = work
        #: Only the peak-RSS rows (tap and targets) at this size: see ``rows``.
        self.large = large
        self.sandbox = Sandbox(orders, args.latency_ms, args.latency_per_order_ms)
        #: The same orders behind a flat per-request latency (goal 2 at 20 ms), or None.
        self.flat: Sandbox | None = None
        if args.flat_latency_ms > 0 and not large:
            self.flat = Sandbox(orders, args.flat_latency_ms, 0.0)
        self.meltano_executable, self.meltano_plugins, self.meltano_problem = (
            (None, None, "not run at this size") if large else prepare_meltano()
        )
        self.singer_file = work / "orders.singer"
        self.tap_config = self._write_tap_config(work / "tap.json", self.sandbox)
        self.flat_tap_config = (
            self._write_tap_config(work / "tap-flat.json", self.flat) if self.flat else None
        )
        self.catalog = work / "catalog.json"
        self.catalog.write_text(json.dumps(orders_only(self._discover())))

    def _write_tap_config(self, path: Path, sandbox: Sandbox) -> Path:
        path.write_text(
            json.dumps(
                {
                    "store_url": sandbox.url,
                    "access_token": sandbox.token,
                    "order_import_status": STATUSES.split(","),
                    "start_date": START.replace(" ", "T") + "Z",
                    "page_size": self.args.page_size,
                    "max_concurrent_requests": self.args.concurrency,
                }
            )
        )
        return path

    def _discover(self) -> dict[str, Any]:
        done = subprocess.run(
            [str(VENV_BIN / "tap-magento2"), "--config", str(self.tap_config), "--discover"],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)

    def tap_command(self, config: Path | None = None) -> list[str]:
        """tap-magento2 as ``meltano run`` starts it: orders only, from a catalog."""
        config = config or self.tap_config
        return [
            str(VENV_BIN / "tap-magento2"),
            "--config",
            str(config),
            "--catalog",
            str(self.catalog),
        ]

    def close(self) -> None:
        self.sandbox.stop()
        if self.flat:
            self.flat.stop()

    def raw_fetch(
        self, concurrency: int, *, parse_only: bool = False, sandbox: Sandbox | None = None
    ) -> Callable[[int], Measurement]:
        """The raw loop; ``parse_only``: requests + ``json.loads`` per page, no output."""
        sandbox = sandbox or self.sandbox

        def run(_: int) -> Measurement:
            return run_measured(
                [
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
                    str(self.args.page_size),
                    "--concurrency",
                    str(concurrency),
                    *(["--parse-only"] if parse_only else []),
                ],
                cwd=ROOT,
            )

        return run

    def tap(self, index: int) -> Measurement:
        # The first run's output is the prepared Singer file the target rows load.
        if index > 0:
            return run_measured(self.tap_command())
        measurement = run_measured(self.tap_command(), stdout=self.singer_file)
        if measurement.returncode == 0:
            check_records(self.singer_file, self.orders)
        return measurement

    def flat_tap(self, _: int) -> Measurement:
        assert self.flat_tap_config is not None
        return run_measured(self.tap_command(self.flat_tap_config))

    def _target_config(self, database_url: str) -> Path:
        path = self.work / f"target-{abs(hash(database_url))}.json"
        path.write_text(json.dumps({"database_url": database_url, "store_url": self.sandbox.url}))
        return path

    def _database(self, backend: str) -> tuple[str, Callable[[], None]]:
        if backend == "sqlite":
            path = Path(tempfile.mkdtemp(dir=self.work)) / "store.db"
            return f"sqlite:///{path}", lambda: shutil.rmtree(path.parent, ignore_errors=True)
        database = ThrowawayDatabase()
        return database.url, database.drop

    def target(self, backend: str) -> Callable[[int], Measurement]:
        def run(_: int) -> Measurement:
            url, cleanup = self._database(backend)
            try:
                return run_measured(
                    [
                        str(VENV_BIN / "target-dropstream"),
                        "--config",
                        str(self._target_config(url)),
                    ],
                    stdin=self.singer_file,
                )
            finally:
                cleanup()

        return run

    def raw_store(self, backend: str) -> Callable[[int], Measurement]:
        def run(_: int) -> Measurement:
            url, cleanup = self._database(backend)
            try:
                return run_measured(
                    [
                        str(PYTHON),
                        "-m",
                        "bench.raw_store",
                        str(self.singer_file),
                        url,
                        self.sandbox.url,
                    ],
                    cwd=ROOT,
                )
            finally:
                cleanup()

        return run

    def pipe(self, _: int) -> Measurement:
        url, cleanup = self._database("sqlite")
        try:
            command = (
                f"set -o pipefail; {shlex.join(self.tap_command())} | "
                f"'{VENV_BIN / 'target-dropstream'}' --config '{self._target_config(url)}'"
            )
            return run_measured(["bash", "-c", command])
        finally:
            cleanup()

    def meltano(self, index: int) -> Measurement:
        """``meltano run`` as a scheduled run makes it: in a project that exists already.

        Its system database is created once, uncounted (every run after a project's first
        finds it); ``--full-refresh`` makes each run load every order, like the bare pipe,
        into a store of its own.
        """
        project, env = self._meltano_project()
        env = {
            **env,
            "TARGET_DROPSTREAM_DATABASE_URL": f"sqlite:///{project / f'store-{index}.db'}",
        }
        command = [str(self.meltano_executable), "run", "--full-refresh"]
        return run_measured([*command, "tap-magento2", "target-dropstream"], env=env, cwd=project)

    def _meltano_project(self) -> tuple[Path, dict[str, str]]:
        project = self.work / "meltano"
        system = project / ".meltano"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MELTANO_", "TAP_MAGENTO2", "TARGET_DROPSTREAM", "MAGENTO_"))
        }
        env.update(
            {
                "MELTANO_PROJECT_ROOT": str(project),
                "MELTANO_DATABASE_URI": f"sqlite:///{system / 'meltano.db'}",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "NO_COLOR": "1",
                # The plugins' own variables win over the environment's values in meltano.yml.
                "TAP_MAGENTO2_STORE_URL": self.sandbox.url,
                "TAP_MAGENTO2_ACCESS_TOKEN": self.sandbox.token,
                # Like the bare pipe's target: no token, so no end-of-run re-check (one read-back
                # request per 100 loaded orders; goal 5 measures it alone).
                "TARGET_DROPSTREAM_STORE_URL": self.sandbox.url,
                "TARGET_DROPSTREAM_ACCESS_TOKEN": "",  # empty = unset; beats meltano.yml's
                # An array setting in meltano.yml: Meltano reads it from JSON.
                "TAP_MAGENTO2_ORDER_IMPORT_STATUS": json.dumps(STATUSES.split(",")),
                "TAP_MAGENTO2_START_DATE": START.replace(" ", "T") + "Z",
                "TAP_MAGENTO2_PAGE_SIZE": str(self.args.page_size),
            }
        )
        if not project.exists():
            system.mkdir(parents=True)
            shutil.copy2(ROOT / "meltano.yml", project / "meltano.yml")
            for kind in ("extractors", "loaders"):
                (system / kind).symlink_to(self.meltano_plugins / kind, target_is_directory=True)
            subprocess.run(
                [str(self.meltano_executable), "state", "list"],
                env=env,
                cwd=project,
                capture_output=True,
                check=True,
            )
        return project, env

    def rows(self) -> list[Row]:
        n = self.args.concurrency
        pg_problem = postgres_problem()
        tap = Row(names.TAP, self.tap, limit=names.RAW_FETCH_N)
        targets = [
            Row(names.RAW_STORE_SQLITE, self.raw_store("sqlite")),
            Row(names.TARGET_SQLITE, self.target("sqlite"), limit=names.RAW_STORE_SQLITE),
            Row(names.RAW_STORE_PG, self.raw_store("postgresql"), skipped=pg_problem),
            Row(
                names.TARGET_PG,
                self.target("postgresql"),
                limit=names.RAW_STORE_PG,
                skipped=pg_problem,
            ),
        ]
        if self.large:
            # Peak RSS at scale: the tap (its output feeds the targets) and the targets, once.
            tap.limit = None
            return [tap, targets[1], targets[3]]
        rows = [
            Row(names.PARSE_ONLY_1, self.raw_fetch(1, parse_only=True)),
            Row(names.RAW_FETCH_1, self.raw_fetch(1)),
            Row(names.RAW_FETCH_N, self.raw_fetch(n), limit=names.RAW_FETCH_1),
            tap,
        ]
        if self.args.sequential_tap:
            rows.append(Row(names.TAP_1, self._sequential_tap, limit=names.RAW_FETCH_1))
        if self.flat:
            rows += [
                Row(names.FLAT_PARSE_ONLY_1, self.raw_fetch(1, parse_only=True, sandbox=self.flat)),
                Row(names.FLAT_TAP, self.flat_tap, limit=names.FLAT_PARSE_ONLY_1),
            ]
        rows += [
            *targets,
            Row(names.PIPE, self.pipe, limit=names.RAW_FETCH_N),
            Row(names.MELTANO, self.meltano, limit=names.PIPE, skipped=self.meltano_problem),
        ]
        return rows

    def _sequential_tap(self, _: int) -> Measurement:
        config = json.loads(self.tap_config.read_text())
        config["max_concurrent_requests"] = 1
        path = self.work / "tap-sequential.json"
        path.write_text(json.dumps(config))
        return run_measured(self.tap_command(path))


# -- reporting -----------------------------------------------------------------------------


def say(text: str = "") -> None:
    """One line on stdout, at once (runs are long; progress must show)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def summarize(rows: list[Row], orders: int) -> list[dict[str, Any]]:
    medians: dict[str, dict[str, Any]] = {}
    out = []
    for row in rows:
        entry: dict[str, Any] = {"row": row.name, "orders": orders, "limit": row.limit}
        if row.skipped or not row.results:
            entry["skipped"] = row.skipped or "not run"
            out.append(entry)
            continue
        failed = [m for m in row.results if m.returncode != 0]
        wall = statistics.median(m.wall_s for m in row.results)
        cpu = statistics.median(m.cpu_s for m in row.results)
        rss = statistics.median(m.peak_rss_mb for m in row.results)
        entry.update(
            wall_s=wall,
            cpu_s=cpu,
            orders_per_s=orders / wall if wall else None,
            cpu_ms_per_order=1000 * cpu / orders,
            peak_rss_mb=rss,
            runs=[asdict(m) for m in row.results],
            failed_runs=len(failed),
        )
        base = medians.get(row.limit or "")
        if base:
            entry["wall_ratio"] = wall / base["wall_s"]
            entry["cpu_ratio"] = cpu / base["cpu_s"]
        medians[row.name] = entry
        out.append(entry)
    return out


def print_table(entries: list[dict[str, Any]], previous: dict[str, Any] | None) -> None:
    header = (
        f"{'row':<44} {'orders':>7} {'wall s':>8} {'CPU s':>8} {'orders/s':>9} "
        f"{'RSS MB':>7} {'wall/lim':>8} {'CPU/lim':>8}"
    )
    if previous:
        header += f" {'wall vs prev':>12} {'CPU vs prev':>11}"
    say(header)
    say("-" * len(header))
    for e in entries:
        if "skipped" in e:
            say(f"{e['row']:<44} {e['orders']:>7}  skipped: {e['skipped']}")
            continue
        line = (
            f"{e['row']:<44} {e['orders']:>7} {e['wall_s']:>8.2f} {e['cpu_s']:>8.2f} "
            f"{e['orders_per_s']:>9.0f} {e['peak_rss_mb']:>7.1f} "
            f"{_ratio(e.get('wall_ratio')):>8} {_ratio(e.get('cpu_ratio')):>8}"
        )
        if previous:
            old = previous.get((e["row"], e["orders"]))
            line += f" {_change(e, old, 'wall_s'):>12} {_change(e, old, 'cpu_s'):>11}"
        if e.get("failed_runs"):
            line += f"  ({e['failed_runs']} run(s) FAILED, see JSON)"
        say(line)
    say("wall/lim, CPU/lim: this row's median over the median of its raw limit:")
    for e in entries:
        if e.get("limit") and "skipped" not in e:
            say(f"  {e['row']} ({e['orders']})  vs  {e['limit']}")


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _change(entry: dict[str, Any], old: dict[str, Any] | None, key: str) -> str:
    if not old or key not in old or not old[key]:
        return ""
    return f"{100 * (entry[key] / old[key] - 1):+.0f}%"


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--large", action="store_true", help="also 200,000 orders, once: peak RSS of tap and target"
    )
    parser.add_argument("--orders", type=int, default=20_000, help="orders (default 20000)")
    parser.add_argument("--large-orders", type=int, default=200_000, help="orders with --large")
    parser.add_argument("--runs", type=int, default=3, help="runs per row (median reported)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (N)")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--latency-per-order-ms", type=float, default=1.0)
    parser.add_argument(
        "--flat-latency-ms",
        type=float,
        default=20.0,
        help="a second sandbox at this flat latency for goal 2 (0: not run)",
    )
    parser.add_argument(
        "--recheck-orders",
        type=int,
        default=10_000,
        help="open orders for the re-check measurement, goal 5 (0: not run)",
    )
    parser.add_argument("--sequential-tap", action="store_true", help="add the tap at 1 in flight")
    parser.add_argument("--compare", type=Path, help="an earlier bench-results/*.json")
    parser.add_argument("--results-dir", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args(argv)
    sizes = [(args.orders, False)] + ([(args.large_orders, True)] if args.large else [])
    previous = None
    if args.compare:
        old = json.loads(args.compare.read_text())
        previous = {(e["row"], e["orders"]): e for e in old["rows"]}
    started = datetime.now(UTC)
    say(
        f"bench {started:%Y-%m-%d %H:%M} UTC, {machine()['nproc']} CPUs ({machine()['cpu']}), "
        f"latency model {args.latency_ms:g} ms/request + {args.latency_per_order_ms:g} ms/order, "
        f"flat latency {args.flat_latency_ms:g} ms/request, N = {args.concurrency} in flight, "
        f"page size {args.page_size}, {args.runs} run(s) per row"
    )
    all_entries: list[dict[str, Any]] = []
    for orders, large in sizes:
        all_entries += run_size(args, orders, large=large)
    recheck = None
    if args.recheck_orders > 0:
        say(f"  re-check of {args.recheck_orders} open orders (bench.recheck)")
        recheck = measure_recheck(args)
    outcomes = goals.evaluate(all_entries, recheck)
    say()
    print_table(all_entries, previous)
    say()
    for line in goals.render(outcomes):
        say(line)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(
        json.dumps(
            {
                "started": started.isoformat(),
                "seconds": time.time() - started.timestamp(),
                "machine": machine(),
                "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "rows": all_entries,
                "recheck": recheck,
                "goals": goals.as_json(outcomes),
            },
            indent=2,
        )
    )
    say(f"\nresults: {path}")
    return 1 if any(e.get("failed_runs") for e in all_entries) else 0


def run_size(args: argparse.Namespace, orders: int, *, large: bool) -> list[dict[str, Any]]:
    """Every row at one size, ``--runs`` times interleaved (once for the large size)."""
    runs = 1 if large else args.runs
    with tempfile.TemporaryDirectory(prefix="dropstream-bench-") as tmp:
        bench = Bench(args, orders, Path(tmp), large=large)
        try:
            rows = bench.rows()
            for sandbox in filter(None, (bench.sandbox, bench.flat)):
                warm = bench.raw_fetch(args.concurrency, parse_only=True, sandbox=sandbox)(0)
                say(f"  [{orders} orders] warm-up pass (not counted): {warm.wall_s:.2f} s wall")
            for index in range(runs):
                for row in rows:
                    if row.skipped:
                        continue
                    measurement = row.run(index)
                    row.results.append(measurement)
                    status = "" if measurement.returncode == 0 else "  FAILED"
                    say(
                        f"  [{orders} orders, run {index + 1}/{runs}] {row.name}: "
                        f"{measurement.wall_s:.2f} s wall, {measurement.cpu_s:.2f} s CPU, "
                        f"{measurement.peak_rss_mb:.0f} MB{status}"
                    )
                    if measurement.returncode != 0:
                        sys.stderr.write(measurement.stderr_tail + "\n")
        finally:
            bench.close()
    return summarize(rows, orders)


def measure_recheck(args: argparse.Namespace) -> dict[str, Any]:
    """Goal 5: one re-check of ``--recheck-orders`` open orders, in this process."""
    from bench import recheck

    result = recheck.measure(
        args.recheck_orders, args.page_size, args.latency_ms, args.latency_per_order_ms
    )
    result["pages"] = -(-args.recheck_orders // args.page_size)
    say(
        f"  re-check: {result['requests']} request(s) for {result['orders']} open orders, "
        f"{result['seconds']:.1f} s"
    )
    return result


if __name__ == "__main__":
    sys.exit(main())
