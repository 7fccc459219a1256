"""Two ``target-dropstream`` runs against one store at the same time.

Writers serialise on the store-wide write lock (SQLite ``BEGIN IMMEDIATE`` with a busy
timeout, a PostgreSQL advisory lock), so both runs finish and the store ends exactly as
one run over all the records would leave it. If a run cannot get the lock it must fail
with a clear message and a non-zero exit; its rerun then completes the store.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import sandbox_config
from tests.reliability.conftest import TARGET, clean_env, run_cli, write_json
from tests.tap.support import run_tap
from tests.target.conftest import dump_store, pg_database_url  # noqa: F401 (fixture)


def singer_lines(messages: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


def split_overlapping(messages: list[dict[str, Any]]) -> tuple[str, str, str]:
    """All records, the first two thirds and the last two thirds (each with SCHEMA+STATE)."""
    schemas = [m for m in messages if m["type"] == "SCHEMA"]
    records = [m for m in messages if m["type"] == "RECORD"]
    state = [m for m in messages if m["type"] == "STATE"][-1:]
    third = len(records) // 3
    first = schemas + records[: 2 * third] + state
    second = schemas + records[third:] + state
    return singer_lines(messages), singer_lines(first), singer_lines(second)


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def singer_input(sandbox_factory: Any) -> tuple[str, str, str]:
    sb = sandbox_factory(order_count=900, seed=41)
    run = run_tap(sandbox_config(sb, store_url=sb.base_url))
    return split_overlapping(run.messages)


def load_concurrently(folder: Path, url: str, first: str, second: str) -> list[Any]:
    """Start two target runs on the same store at once; return (exit code, stderr) pairs."""
    config = write_json(folder / "target.json", {"database_url": url, "batch_size_rows": 50})
    procs = []
    for index, text_input in enumerate((first, second)):
        path = folder / f"input-{index}.singer"
        path.write_text(text_input)
        handle = path.open()
        procs.append(
            subprocess.Popen(
                [TARGET, "--config", str(config)],
                stdin=handle,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=clean_env(),
                cwd=folder,
            )
        )
    results = []
    for proc, text_input in zip(procs, (first, second), strict=True):
        _, err = proc.communicate(timeout=180)
        if proc.returncode != 0:
            # One run may give up waiting for the lock, but only loudly; its rerun completes.
            assert "lock" in err.lower() or "busy" in err.lower(), err[-2000:]
            rerun = run_cli([TARGET, "--config", str(config)], stdin=text_input, cwd=folder)
            assert rerun.returncode == 0, rerun.stderr[-2000:]
        results.append((proc.returncode, err))
    return results


def check_concurrent_loads(
    folder: Path, url: str, inputs: tuple[str, str, str], reset: Any
) -> None:
    everything, first, second = inputs
    load_concurrently(folder, url, first, second)
    concurrent = dump_store(url)
    reset()
    single = run_cli(
        [TARGET, "--config", str(write_json(folder / "one.json", {"database_url": url}))],
        stdin=everything,
        cwd=folder,
    )
    assert single.returncode == 0, single.stderr[-2000:]
    reference = dump_store(url)
    assert len(reference["fulfillment_orders"]) > 200
    assert concurrent == reference


def test_two_target_runs_on_one_sqlite_store(
    tmp_path: Path, singer_input: tuple[str, str, str]
) -> None:
    db = tmp_path / "store.db"

    def reset() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)

    check_concurrent_loads(tmp_path, f"sqlite:///{db}", singer_input, reset)


def test_two_target_runs_on_one_postgresql_store(
    tmp_path: Path,
    singer_input: tuple[str, str, str],
    pg_database_url: str,  # noqa: F811
) -> None:
    reset_postgres(pg_database_url)
    check_concurrent_loads(
        tmp_path, pg_database_url, singer_input, lambda: reset_postgres(pg_database_url)
    )
