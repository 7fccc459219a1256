"""Fixtures for target-dropstream: Magento order builders, stores on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from target_dropstream.store import FulfillmentStore
from target_dropstream.target import TargetDropstream

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
PG_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

ORDERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "entity_id": {"type": "integer"},
        "increment_id": {"type": ["string", "null"]},
        "status": {"type": ["string", "null"]},
        "state": {"type": ["string", "null"]},
        "store_id": {"type": ["integer", "null"]},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "items": {"type": ["array", "null"], "items": {"type": "object"}},
        "billing_address": {"type": ["object", "null"]},
        "extension_attributes": {"type": ["object", "null"]},
    },
}


# Magento order JSON -------------------------------------------------------------------


def item(
    item_id: int,
    sku: str,
    *,
    product_type: str = "simple",
    qty: float = 1,
    parent: dict[str, Any] | None = None,
    is_virtual: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    """One order item shaped as Magento serialises it (children embed their parent)."""
    body: dict[str, Any] = {
        "item_id": item_id,
        "order_id": 0,
        "sku": sku,
        "name": extra.pop("name", f"Product {sku}"),
        "product_id": extra.pop("product_id", 1000 + item_id),
        "product_type": product_type,
        "is_virtual": is_virtual,
        "qty_ordered": qty,
        "qty_canceled": 0,
        "qty_invoiced": qty,
        "qty_refunded": 0,
        "qty_shipped": 0,
        "price": extra.pop("price", 10),
    }
    if parent is not None:
        body["parent_item_id"] = parent["item_id"]
        body["parent_item"] = copy.deepcopy(parent)
    body.update(extra)
    return body


def order(
    entity_id: int,
    *,
    items: list[dict[str, Any]] | None = None,
    created_at: str = "2026-01-15 10:00:00",
    updated_at: str | None = None,
    status: str = "processing",
    state: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Magento order record (timestamps in Magento's raw UTC form unless given)."""
    lines = items if items is not None else [item(entity_id * 10, f"SKU-{entity_id}")]
    for line in lines:
        line["order_id"] = entity_id
    address = {
        "address_type": "shipping",
        "firstname": "Veronica",
        "lastname": "Costello",
        "street": ["6146 Honey Bluff Parkway", "Building 2"],
        "city": "Calder",
        "region": "Michigan",
        "region_code": "MI",
        "postcode": "49628-7978",
        "country_id": "US",
        "telephone": "(555) 229-3326",
        "email": "roni_cost@example.com",
    }
    body: dict[str, Any] = {
        "entity_id": entity_id,
        "increment_id": f"{entity_id:09d}",
        "status": status,
        "state": state or status,
        "store_id": 1,
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        "customer_email": "roni_cost@example.com",
        "items": lines,
        "billing_address": {**address, "address_type": "billing"},
        "extension_attributes": {
            "shipping_assignments": [
                {"shipping": {"address": address, "method": "flatrate_flatrate"}, "items": lines}
            ]
        },
    }
    body.update(extra)
    return body


def tutorial_order(entity_id: int = 3) -> dict[str, Any]:
    """The REST tutorial order (magento-rest.md §4.4).

    Item 3 simple, 4 downloadable, 5 dynamic bundle with components 6-9, 10 configurable
    with its simple child 11.
    """
    bundle = item(
        5,
        "24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086",
        product_type="bundle",
        price=68,
        name="Sprite Yoga Companion Kit",
    )
    configurable = item(
        10, "MH01-S-Gray", product_type="configurable", price=52, name="Chaz Kangeroo Hoodie"
    )
    items = [
        item(3, "24-MB01", name="Joust Duffle Bag", price=34),
        item(
            4,
            "240-LV04",
            product_type="downloadable",
            is_virtual=1,
            name="Beginner's Yoga",
            price=32,
        ),
        bundle,
        item(6, "24-WG084", parent=bundle, price=27, name="Sprite Foam Yoga Brick"),
        item(7, "24-WG088", parent=bundle, price=5, name="Sprite Foam Roller"),
        item(8, "24-WG082-blue", parent=bundle, price=17, name="Sprite Stasis Ball 65 cm"),
        item(9, "24-WG086", parent=bundle, price=19, name="Sprite Yoga Strap 8 foot"),
        configurable,
        item(11, "MH01-S-Gray", parent=configurable, price=0, name="Chaz Kangeroo Hoodie-S-Gray"),
    ]
    return order(entity_id, items=items, created_at="2017-08-21 22:22:19")


# Singer messages ----------------------------------------------------------------------


def schema_message(stream: str = "orders") -> dict[str, Any]:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": ORDERS_SCHEMA,
        "key_properties": ["entity_id"],
        "bookmark_properties": ["updated_at"],
    }


def record_message(record: dict[str, Any], stream: str = "orders") -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": record}


def state_message(value: Any) -> dict[str, Any]:
    return {"type": "STATE", "value": {"bookmarks": {"orders": {"replication_key_value": value}}}}


def no_new_orders() -> list[dict[str, Any]]:
    """A tap run that found nothing new: the orders SCHEMA and no records.

    A run with no orders SCHEMA at all fails (the tap may be sending orders under another
    stream name); this one succeeds and only does the end-of-run work.
    """
    return [schema_message()]


def singer_text(messages: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(message) + "\n" for message in messages)


def imported_first(record: dict[str, Any]) -> list[dict[str, Any]]:
    """``record`` preceded by the same order as first imported (status processing).

    An order the store has never seen is stored only with an import status; tests of
    later states (canceled, on hold) start from an imported order, as real orders do.
    """
    return [{**record, "status": "processing", "state": "processing"}, record]


def orders_stream(
    records: Iterable[dict[str, Any]], *, state_every: int = 0
) -> list[dict[str, Any]]:
    """SCHEMA, the records, and a STATE after every ``state_every`` records and at the end."""
    messages = [schema_message()]
    count = 0
    last: Any = None
    for record in records:
        messages.append(record_message(record))
        count += 1
        last = record.get("updated_at")
        if state_every and count % state_every == 0:
            messages.append(state_message(f"{last}#{count}"))
    messages.append(state_message(f"{last}#{count}#end"))
    return messages


def run_target(
    config: dict[str, Any], messages: Iterable[dict[str, Any]] | str, *, now: datetime = NOW
) -> list[dict[str, Any]]:
    """Run TargetDropstream in-process; return the STATE values it wrote to stdout."""
    text_input = messages if isinstance(messages, str) else singer_text(messages)
    target = TargetDropstream(config=config, clock=lambda: now)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        target.listen(file_input=io.StringIO(text_input))
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


# Stores -------------------------------------------------------------------------------


def _pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session, dropped afterwards."""
    if not _pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (trust auth, user postgres)")
    name = f"dropstream_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"cannot create a PostgreSQL test database: {exc.__class__.__name__}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store URL on each supported database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dropstream.db'}"
    url = request.getfixturevalue("pg_database_url")
    _reset_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dropstream.db'}"


@pytest.fixture
def store(database_url: str) -> Iterator[FulfillmentStore]:
    opened = FulfillmentStore.open(database_url, now=NOW)
    yield opened
    opened.close()


def dump_store(url: str, *, ignore: Iterable[str] = ()) -> dict[str, list[tuple]]:
    """Every row of the fulfillment tables, sorted, without row-bookkeeping timestamps."""
    skip = {"created_at", "updated_at", "received_at", "applied_at", "released_at", *ignore}
    engine = create_engine(url)
    result: dict[str, list[tuple]] = {}
    tables = ["fulfillment_orders", "fulfillment_lines", "rejected_records", "shipments"]
    with engine.connect() as conn:
        for table in tables:
            rows = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()
            result[table] = sorted(
                tuple(
                    (k, str(v))
                    for k, v in sorted(row.items())
                    if k not in skip and not (table == "rejected_records" and k == "id")
                )
                for row in rows
            )
    engine.dispose()
    return result


def pipe_tap_to_target(
    tap_args: list[str], target_config: Path, *, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``tap-magento2 ARGS | target-dropstream --config FILE`` through a real OS pipe.

    Checks that the tap exited 0; returns the target's result (its stdout is the STATE).
    """
    bin_dir = Path(sys.executable).parent
    tap = subprocess.Popen(
        [str(bin_dir / "tap-magento2"), *tap_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    target = subprocess.run(
        [str(bin_dir / "target-dropstream"), "--config", str(target_config)],
        stdin=tap.stdout,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert tap.wait(timeout=60) == 0
    return target
