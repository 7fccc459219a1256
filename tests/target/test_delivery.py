"""Delivery guarantees: STATE only after commit, and a SIGKILL at any point loses nothing.

singer-sdk 0.54 writes STATE only from ``Target.drain_all`` (end of input, the 5-minute
record-age check, SIGTERM), after every sink's ``process_batch`` returned; a full sink is
drained by ``drain_one``, which commits but never writes STATE. ``OrdersSink.process_batch``
commits one transaction and raises if that fails, so no STATE can pass a lost batch.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from target_dropstream.target import TargetDropstream
from tests.target.conftest import (
    NOW,
    dump_store,
    imported_first,
    item,
    order,
    orders_stream,
    singer_text,
)

ROOT = Path(__file__).resolve().parents[2]
TARGET_EXE = Path(sys.executable).with_name("target-dropstream")


class EagerTarget(TargetDropstream):
    """Drains (and so writes STATE) after every record: makes mid-stream STATE observable."""

    _MAX_RECORD_AGE_IN_MINUTES = 0.0


def committed_ids(url: str) -> set[int]:
    if not Path(url.removeprefix("sqlite:///")).exists():
        return set()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(text("SELECT order_id FROM fulfillment_orders"))}
    except OperationalError:  # tables not created yet
        return set()
    finally:
        engine.dispose()


class StateSpy(io.StringIO):
    """Stands in for stdout; on every STATE line checks what the store has committed."""

    def __init__(self, url: str, expected_by_state: dict[str, set[int]]) -> None:
        super().__init__()
        self.url = url
        self.expected = expected_by_state
        self.seen: list[str] = []

    def write(self, line: str) -> int:
        if line.strip():
            marker = json.loads(line)["bookmarks"]["orders"]["replication_key_value"]
            self.seen.append(marker)
            missing = self.expected[marker] - committed_ids(self.url)
            assert not missing, f"STATE {marker} written before orders {missing} were committed"
        return super().write(line)


def _records(count: int) -> list[dict[str, Any]]:
    return [
        order(n, updated_at=f"2026-01-15 10:{n:02d}:00", created_at="2026-01-15 09:00:00")
        for n in range(1, count + 1)
    ]


def _expected_by_state(messages: list[dict[str, Any]]) -> dict[str, set[int]]:
    expected: dict[str, set[int]] = {}
    seen: set[int] = set()
    for message in messages:
        if message["type"] == "RECORD":
            seen.add(message["record"]["entity_id"])
        elif message["type"] == "STATE":
            expected[message["value"]["bookmarks"]["orders"]["replication_key_value"]] = set(seen)
    return expected


@pytest.mark.parametrize("target_class", [TargetDropstream, EagerTarget])
def test_state_is_written_only_after_the_records_before_it_are_committed(
    sqlite_url: str, target_class: type[TargetDropstream]
) -> None:
    messages = orders_stream(_records(10), state_every=3)
    spy = StateSpy(sqlite_url, _expected_by_state(messages))
    target = target_class(
        config={"database_url": sqlite_url, "batch_size_rows": 2}, clock=lambda: NOW
    )
    with contextlib.redirect_stdout(spy):
        target.listen(file_input=io.StringIO(singer_text(messages)))
    assert committed_ids(sqlite_url) == set(range(1, 11))
    if target_class is EagerTarget:
        assert len(set(spy.seen)) == 4  # every STATE passed on mid-stream, each checked
    else:
        assert spy.seen == ["2026-01-15 10:10:00#10#end"]  # SDK: only at the end of input


@pytest.mark.parametrize("target_class", [TargetDropstream, EagerTarget])
def test_a_failed_commit_lets_no_state_through(
    sqlite_url: str, target_class: type[TargetDropstream]
) -> None:
    messages = orders_stream(_records(10), state_every=2)
    # create the store, then make the database refuse order 5 (a real failing commit)
    TargetDropstream(config={"database_url": sqlite_url}).store.close()
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse_5 BEFORE INSERT ON fulfillment_orders "
                "WHEN NEW.order_id = 5 BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
            )
        )
    engine.dispose()
    spy = StateSpy(sqlite_url, _expected_by_state(messages))
    target = target_class(
        config={"database_url": sqlite_url, "batch_size_rows": 2}, clock=lambda: NOW
    )
    with contextlib.redirect_stdout(spy), pytest.raises(Exception, match="disk says no"):
        target.listen(file_input=io.StringIO(singer_text(messages)))
    # no STATE covering order 5 (or anything after it) was written
    assert all(5 not in _expected_by_state(messages)[marker] for marker in spy.seen)
    if target_class is EagerTarget:
        # STATE #4 arrived after order 4 was committed, but the SDK passes it on at the
        # next drain, which is the one that fails on order 5: it never gets through.
        assert spy.seen[-1] == "2026-01-15 10:02:00#2"
    else:
        assert spy.seen == []
    assert 5 not in committed_ids(sqlite_url)


# The crash test ------------------------------------------------------------------------


def _crash_stream() -> list[dict[str, Any]]:
    """40 orders, some updated again later, two bad records; STATE every 3 records."""
    records: list[dict[str, Any]] = []
    for n in range(1, 41):
        record = order(
            n,
            items=[item(n * 10, f"SKU-{n}", qty=1 + n % 3)],
            created_at="2026-01-15 09:00:00",
            updated_at=f"2026-01-15 10:{n:02d}:00",
            status="holded" if n % 11 == 0 else "processing",
        )
        records.extend(imported_first(record) if n % 11 == 0 else [record])
        if n % 7 == 0:  # a later update of an earlier order
            records.append(
                order(
                    n - 3,
                    items=[item((n - 3) * 10, f"SKU-{n - 3}", qty=5), item(9000 + n, "EXTRA")],
                    created_at="2026-01-15 09:00:00",
                    updated_at=f"2026-01-15 11:{n:02d}:00",
                )
            )
        if n in (13, 29):
            bad = order(1000 + n)
            bad["items"][0]["qty_ordered"] = "lots"
            records.append(bad)
    return orders_stream(records, state_every=3)


def _command(eager: bool) -> list[str]:
    if eager:
        code = (
            "from target_dropstream.target import TargetDropstream as T\n"
            "T._MAX_RECORD_AGE_IN_MINUTES = 0.0\n"
            "T.cli()\n"
        )
        return [sys.executable, "-c", code]
    return [str(TARGET_EXE)]


def _run(
    command: list[str],
    config: Path,
    lines: list[str],
    kill_after: int | None,
    *,
    url: str = "",
    wait_for: int = 0,
) -> list[str]:
    """Feed lines to the target; SIGKILL it after ``kill_after`` lines. Returns STATE lines.

    Before the kill, wait until at least ``wait_for`` orders are committed, so the kill
    lands while the target is loading (not while it is still starting up).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [*command, "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=config.parent,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        for index, line in enumerate(lines):
            if kill_after is not None and index == kill_after:
                deadline = time.monotonic() + 60
                while len(committed_ids(url)) < wait_for and time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(random.uniform(0.0, 0.05))
                proc.send_signal(signal.SIGKILL)
                break
            proc.stdin.write(line)
            proc.stdin.flush()
        proc.stdin.close()
    except BrokenPipeError:
        pass
    out = proc.stdout.read()
    proc.wait(timeout=60)
    if kill_after is None:
        assert proc.returncode == 0
    else:
        assert proc.returncode == -signal.SIGKILL
    return [line for line in out.splitlines() if line.strip()]


def _resume_lines(lines: list[str], states: list[str]) -> list[str]:
    """The tap's rerun from the last STATE: SCHEMA again, then every message after it."""
    if not states:
        return lines
    last = states[-1].strip()
    positions = [
        i
        for i, line in enumerate(lines)
        if json.loads(line)["type"] == "STATE"
        and json.dumps(json.loads(line)["value"]) == json.dumps(json.loads(last))
    ]
    assert positions, "the target emitted a STATE it never received"
    return [lines[0], *lines[positions[-1] + 1 :]]


@pytest.mark.parametrize("eager", [False, True], ids=["sdk-defaults", "state-every-record"])
def test_sigkill_at_several_points_loses_and_duplicates_nothing(
    tmp_path: Path,
    eager: bool,
) -> None:
    random.seed(7)
    lines = [json.dumps(m) + "\n" for m in _crash_stream()]

    def config_for(name: str) -> tuple[Path, str]:
        url = f"sqlite:///{tmp_path / name}.db"
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"database_url": url, "batch_size_rows": 4}))
        return path, url

    reference_config, reference_url = config_for("reference")
    _run(_command(eager), reference_config, lines, kill_after=None)
    reference = dump_store(reference_url)
    assert len(reference["fulfillment_orders"]) == 40
    assert len(reference["rejected_records"]) == 2

    crash_config, crash_url = config_for("crashed")
    remaining = lines
    kill_points = [9, 17, 25]  # lines into what is fed on each attempt
    committed_before_kill = []
    for attempt, point in enumerate(kill_points, start=1):
        states = _run(
            _command(eager),
            crash_config,
            remaining,
            kill_after=point,
            url=crash_url,
            wait_for=4 * attempt,
        )
        committed_before_kill.append(len(committed_ids(crash_url)))
        remaining = _resume_lines(remaining, states)
    _run(_command(eager), crash_config, remaining, kill_after=None)

    assert committed_before_kill[-1] > 0  # commits did happen between kills
    assert dump_store(crash_url) == reference
