"""Crashes and restarts: SIGKILL the pipeline and the notifier at random moments.

The pipeline is the plain pipe ``tap-magento2 | target-dropstream`` that ``meltano run``
wraps (Meltano adds a process supervisor and state storage, not delivery logic; its own
suite lives in tests/meltano). After each kill it is rerun from the last STATE the target
emitted, as Meltano would. Two class settings shorten the timings so that kills land
between STATE messages: the tap emits STATE every 100 records instead of 10,000, and the
target drains (commits and passes STATE on) about every 0.3 s instead of every 5 minutes.

``RELIABILITY_KILLS`` sets how many kills the short runs use (default 3); the soaks marked
``slow`` (``--run-slow``) use at least 20.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from magento2_sandbox import MagentoSandbox
from tests.conftest import SANDBOX_NOW, sandbox_config
from tests.reliability.conftest import DROPSTREAM, TARGET, clean_env, run_cli, write_json
from tests.target.conftest import dump_store

KILLS = int(os.environ.get("RELIABILITY_KILLS", "3"))
SOAK_KILLS = max(20, KILLS)
SHIP_PATH = re.compile(r"/V1/order/(\d+)/ship$")

TAP_CMD = [
    sys.executable,
    "-c",
    "from tap_magento2.order_streams import OrdersStream\n"
    "OrdersStream.STATE_MSG_FREQUENCY = 100\n"
    "from tap_magento2.tap import TapMagento2\n"
    "TapMagento2.cli()\n",
]
TARGET_CMD = [
    sys.executable,
    "-c",
    "from target_dropstream.target import TargetDropstream\n"
    "TargetDropstream._MAX_RECORD_AGE_IN_MINUTES = 0.005\n"
    "TargetDropstream.cli()\n",
]


@dataclass
class PipelineRun:
    returncodes: tuple[int, int]
    states: list[dict[str, Any]]
    seconds: float


def run_pipeline(
    folder: Path,
    sb: MagentoSandbox,
    database_url: str,
    state: dict[str, Any] | None,
    *,
    kill_after: float | None = None,
    kill_once_loading: bool = False,
) -> PipelineRun:
    """``tap | target`` from ``state``; SIGKILL both after ``kill_after`` seconds.

    With ``kill_once_loading`` the kill instead waits until the store has orders
    committed, then lands a random fraction of a second later.
    """
    tap_config = write_json(
        folder / "tap.json",
        sandbox_config(sb, page_size=100),
    )
    target_config = write_json(folder / "target.json", {"database_url": database_url})
    tap_args = [*TAP_CMD, "--config", str(tap_config)]
    if state is not None:
        tap_args += ["--state", str(write_json(folder / "state.json", state))]
    out_path = folder / "target-out.jsonl"
    env = clean_env()
    started = time.monotonic()
    with out_path.open("w") as out:
        tap = subprocess.Popen(
            tap_args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=folder
        )
        target = subprocess.Popen(
            [*TARGET_CMD, "--config", str(target_config)],
            stdin=tap.stdout,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=folder,
        )
    assert tap.stdout is not None
    tap.stdout.close()  # the target holds the only reading end
    try:
        if kill_once_loading:
            deadline = time.monotonic() + 60
            while not committed_orders(database_url) and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(random.uniform(0.0, 0.3))
            if target.poll() is None:
                raise subprocess.TimeoutExpired(target.args, 0)
        else:
            target.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        for proc in (tap, target):
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
    target.wait(timeout=120)
    tap.wait(timeout=120)
    seconds = time.monotonic() - started
    lines = out_path.read_text().splitlines()
    states = [json.loads(line) for line in lines if line.strip()]  # a target's STATE lines
    return PipelineRun((tap.returncode, target.returncode), states, seconds)


def committed_orders(database_url: str) -> set[int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT order_id FROM fulfillment_orders"))
            return {int(row[0]) for row in rows}
    except Exception:  # the very first kill may land before the tables exist
        return set()
    finally:
        engine.dispose()


def assert_bookmark_is_covered(sb: MagentoSandbox, state: dict[str, Any], url: str) -> None:
    """Resuming from this STATE skips nothing: every order before it is committed."""
    value = state.get("bookmarks", {}).get("orders", {}).get("replication_key_value")
    if not value:
        return
    bookmark = value.replace("T", " ")[:19]
    before = {
        o["entity_id"]
        for o in sb.data.matching(statuses=["processing"])
        if o["updated_at"] < bookmark
    }
    missing = before - committed_orders(url)
    assert not missing, f"STATE {value} was passed on before orders {sorted(missing)[:5]}"


def kill_and_resume(
    tmp_path: Path, sb: MagentoSandbox, kills: int, rng: random.Random
) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]], list[int]]:
    """A fault-free reference load, then a load killed ``kills`` times; both dumps."""
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    reference_url = f"sqlite:///{reference_dir / 'store.db'}"
    reference = run_pipeline(reference_dir, sb, reference_url, None)
    assert reference.returncodes == (0, 0)
    crash_dir = tmp_path / "crashed"
    crash_dir.mkdir()
    crash_url = f"sqlite:///{crash_dir / 'store.db'}"
    state: dict[str, Any] | None = None
    committed_at_kill: list[int] = []
    for number in range(kills):
        moment = rng.uniform(0.2, max(0.5, reference.seconds * 0.95))
        # The first kill surely lands mid-load; the others anywhere, startup included.
        run = run_pipeline(
            crash_dir, sb, crash_url, state, kill_after=moment, kill_once_loading=number == 0
        )
        if run.states:
            state = run.states[-1]
            assert_bookmark_is_covered(sb, state, crash_url)
        committed_at_kill.append(len(committed_orders(crash_url)))
    final = run_pipeline(crash_dir, sb, crash_url, state)
    assert final.returncodes == (0, 0)
    return dump_store(reference_url), dump_store(crash_url), committed_at_kill


def check_kill_and_resume(tmp_path: Path, kills: int, order_count: int, seed: int) -> None:
    rng = random.Random(seed)
    with MagentoSandbox(order_count=order_count, seed=seed, now=SANDBOX_NOW) as sb:
        reference, crashed, committed = kill_and_resume(tmp_path, sb, kills, rng)
        expected = {o["entity_id"] for o in sb.data.matching(statuses=["processing"])}
    orders = reference["fulfillment_orders"]
    assert len(orders) == len(expected) > 300
    if kills:
        assert 0 < committed[0] < len(expected), committed  # the first kill was mid-load
    assert crashed == reference  # same orders, lines, states; nothing doubled


def test_sigkill_during_the_pipeline_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    check_kill_and_resume(tmp_path, KILLS, order_count=1500, seed=21)


@pytest.mark.slow
def test_sigkill_soak_many_kills_over_thousands_of_orders(tmp_path: Path) -> None:
    check_kill_and_resume(tmp_path, SOAK_KILLS, order_count=4000, seed=22)


# Ship notifications -------------------------------------------------------------------


def load_and_record_shipments(
    sb: MagentoSandbox, folder: Path, database_url: str, count: int
) -> int:
    """Load the sandbox's orders, then record one full shipment for ``count`` of them."""
    tap_config = write_json(folder / "tap.json", sandbox_config(sb))
    tap = run_cli([*TAP_CMD, "--config", str(tap_config)])
    assert tap.returncode == 0, tap.stderr[-1000:]
    target_config = write_json(
        folder / "target.json", {"database_url": database_url, "store_url": sb.base_url}
    )
    load = run_cli([TARGET, "--config", str(target_config)], stdin=tap.stdout, cwd=folder)
    assert load.returncode == 0, load.stderr[-1000:]
    engine = create_engine(database_url)
    with engine.connect() as conn:
        lines = conn.execute(
            text(
                "SELECT o.increment_id, o.order_id, l.sku, l.qty, l.line_type "
                "FROM fulfillment_orders o JOIN fulfillment_lines l "
                "ON l.source = o.source AND l.order_id = o.order_id "
                "WHERE o.state = 'ready' ORDER BY o.order_id, l.item_id"
            )
        ).all()
    engine.dispose()
    by_order: dict[str, list[Any]] = {}
    for line in lines:
        by_order.setdefault(line.increment_id, []).append(line)
    simple = [k for k, v in by_order.items() if all(x.line_type == "item" for x in v)][:count]
    path = folder / "shipped.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order", "sku", "qty", "carrier_code", "title", "track_number"])
        for increment_id in simple:
            for line in by_order[increment_id]:
                writer.writerow(
                    [increment_id, line.sku, line.qty, "ups", "UPS", f"1Z{increment_id}"]
                )
    recorded = run_cli([DROPSTREAM, "import-shipments", "--config", str(target_config), str(path)])
    assert recorded.returncode == 0, recorded.stderr + recorded.stdout
    return len(simple)


def posts_seen(sb: MagentoSandbox) -> int:
    return sum(1 for r in sb.requests if r.method == "POST" and SHIP_PATH.search(r.path))


def check_notify_kills(tmp_path: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    with MagentoSandbox(order_count=500, seed=seed, now=SANDBOX_NOW) as sb:
        count = load_and_record_shipments(sb, tmp_path, database_url, 120)
        assert count >= 100
        config = write_json(
            tmp_path / "notify.json",
            {
                "database_url": database_url,
                **sandbox_config(sb),
                # The sandbox commits a ship request before answering: a post a killed
                # run never sent may be sent again by the next run at once.
                "ship_lookup_delay_seconds": 0,
            },
        )
        env = clean_env()
        killed = 0
        notified_at_kill: list[int] = []
        for number in range(kills):
            proc = subprocess.Popen(
                [DROPSTREAM, "notify", "--config", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            try:
                if number == 0:  # the first kill surely lands while posting
                    deadline = time.monotonic() + 60
                    while not posts_seen(sb) and time.monotonic() < deadline:
                        time.sleep(0.01)
                    time.sleep(rng.uniform(0.0, 0.2))
                    if proc.poll() is None:
                        raise subprocess.TimeoutExpired(proc.args, 0)
                else:
                    proc.wait(timeout=rng.uniform(0.3, 2.0))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed += 1
                notified_at_kill.append(posts_seen(sb))
        if kills:
            assert 0 < notified_at_kill[0] < count, notified_at_kill
        final = run_cli([DROPSTREAM, "notify", "--config", str(config)])
        assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-2000:]
        assert "0 refused" in final.stdout
        assert killed >= min(1, kills)

        engine = create_engine(database_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT order_id, state, magento_shipment_id FROM shipments"))
            shipments = [tuple(row) for row in rows]
        engine.dispose()
        assert len(shipments) == count
        assert {state for _, state, _ in shipments} == {"notified"}
        documents: dict[int, list[int]] = {}
        for doc in sb.data.shipments.values():
            documents.setdefault(doc["order_id"], []).append(doc["entity_id"])
        for order_id, _, magento_id in shipments:
            assert documents.get(order_id) == [magento_id], (
                f"order {order_id}: {documents.get(order_id)}"
            )
        accepted: dict[int, int] = {}
        for request in sb.requests:
            shipped = SHIP_PATH.search(request.path)
            if request.method == "POST" and request.status == 200 and shipped:
                order_id = int(shipped.group(1))
                accepted[order_id] = accepted.get(order_id, 0) + 1
        assert len(accepted) == count
        assert set(accepted.values()) == {1}  # no notification reached Magento twice


def test_sigkill_during_notify_never_ships_twice(tmp_path: Path) -> None:
    check_notify_kills(tmp_path, KILLS, seed=31)


@pytest.mark.slow
def test_sigkill_soak_during_notify(tmp_path: Path) -> None:
    check_notify_kills(tmp_path, SOAK_KILLS, seed=32)
