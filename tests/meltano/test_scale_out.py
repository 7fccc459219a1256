"""One pipeline per store view, running at the same time, sharing PostgreSQL.

The deployment shape for many store views: each is its own Meltano pipeline (an inherited
extractor with its own state ID), all load into ONE fulfillment store, and Meltano keeps
its state in PostgreSQL too, so any worker can run any pipeline.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from magento2_sandbox import MagentoSandbox
from tests.meltano.conftest import sandbox_env
from tests.meltano.meltano_project import MeltanoProject
from tests.meltano.observe import newest_streamed, order_ids, parse_time, read_store

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
STORE_VIEWS = {"default": 1, "fr": 2}


def _admin_execute(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def saved_state_ids(system_db: str) -> set[str]:
    """State IDs in Meltano's system database, read straight from PostgreSQL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(system_db)
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT state_id FROM state")).scalars())
    finally:
        engine.dispose()


@pytest.fixture
def pg_database() -> Iterator[Callable[[str], str]]:
    """Make throwaway databases on the local PostgreSQL; drop them afterwards."""
    from sqlalchemy.exc import OperationalError

    made: list[str] = []

    def make(label: str) -> str:
        name = f"dropstream_test_{label}_{uuid.uuid4().hex[:10]}"
        _admin_execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{PG_SERVER}/{name}"

    try:
        _admin_execute("SELECT 1")
    except OperationalError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (trust auth, user postgres)")
    yield make
    for name in made:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_store_view_pipelines_side_by_side_into_one_postgresql_store(
    tmp_path: Path,
    meltano_executable: Path,
    plugin_cache: Path,
    sandbox: MagentoSandbox,
    pg_database: Callable[[str], str],
) -> None:
    store_url = pg_database("store")
    system_db = pg_database("meltano")
    project = MeltanoProject.create(
        meltano_executable,
        tmp_path / "project",
        plugin_cache,
        database_uri=system_db,
        env=sandbox_env(sandbox, store_url),
    )
    project.run("state", "list")  # creates Meltano's tables once, before the runs race

    runs = {
        code: project.start("run", f"tap-magento2-{code}", "target-dropstream")
        for code in STORE_VIEWS
    }
    outputs = {code: run.communicate(timeout=300)[0] for code, run in runs.items()}
    for code, run in runs.items():
        assert run.returncode == 0, f"{code} pipeline failed:\n{outputs[code][-4000:]}"

    expected = {
        code: sandbox.data.matching(["processing"], store_ids=[store_id])
        for code, store_id in STORE_VIEWS.items()
    }
    store = read_store(store_url)
    assert set(store.orders) == set().union(*(order_ids(o) for o in expected.values()))
    assert store.order_rows == len(store.orders)
    keys = store.line_keys()
    assert len(keys) == len(set(keys))
    for code, store_id in STORE_VIEWS.items():
        assert {i for i, row in store.orders.items() if row["store_id"] == store_id} == order_ids(
            expected[code]
        )
        state_id = f"dev:tap-magento2-{code}-to-target-dropstream"
        newest = parse_time(newest_streamed(sandbox, store_ids=[store_id]))
        assert parse_time(project.bookmark(state_id)) == newest, f"{code} bookmark"
    assert saved_state_ids(system_db) >= {
        f"dev:tap-magento2-{code}-to-target-dropstream" for code in STORE_VIEWS
    }, "Meltano did not keep its state in PostgreSQL"
    listed = project.run("state", "list").stdout.split()
    assert sorted(s for s in listed if s.startswith("dev:")) == sorted(
        f"dev:tap-magento2-{code}-to-target-dropstream" for code in STORE_VIEWS
    )
