"""Bad input: odd but valid Magento orders load, broken ones are rejected with a reason,
broken Singer streams stop the run clearly without passing on an uncommitted STATE, and bad
settings stop every command before any work starts, naming the setting.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from target_dropstream.target import TargetDropstream
from tests.conftest import bearer_config
from tests.reliability.conftest import DROPSTREAM, TAP, TARGET, run_cli, write_json
from tests.target.conftest import (
    NOW,
    item,
    order,
    pg_database_url,  # noqa: F401 (fixture)
    record_message,
    schema_message,
    singer_text,
    state_message,
)

QUICK = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MAX_QTY = 99_999_999  # Magento stores quantities as decimal(12,4)

# Text as customers type it: any printable Unicode (accents, CJK, RTL, emoji), and
# control characters except NUL.
odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    max_size=30,
)
maybe_text = st.one_of(st.none(), odd_text)
quantity = st.one_of(
    st.integers(1, MAX_QTY),
    st.decimals(min_value="0.0001", max_value=MAX_QTY, places=4).map(float),
    st.integers(1, 1000).map(lambda n: f"{n}.0000"),  # numbers as strings also arrive
)


@st.composite
def odd_valid_order(draw: st.DrawFn, entity_id: int) -> dict[str, Any]:
    """A Magento order that is strange but correct: it must load."""
    count = draw(st.integers(0, 6))
    items = [
        item(
            entity_id * 1000 + n,
            draw(odd_text.filter(lambda s: s.strip() != "")),
            qty=draw(quantity),
            name=draw(maybe_text),
        )
        for n in range(count)
    ]
    record = order(entity_id, items=items, created_at="2026-01-15 09:30:00")
    address = record["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]
    address.update(
        firstname=draw(odd_text),
        lastname=draw(maybe_text),
        city=draw(maybe_text),
        street=draw(st.lists(odd_text, max_size=3)),
        region=draw(maybe_text),
        postcode=draw(maybe_text),
        telephone=draw(maybe_text),
    )
    dropped = draw(
        st.sets(st.sampled_from(["billing_address", "extension_attributes", "customer_email"]))
    )
    for key in dropped:
        if draw(st.booleans()):
            record.pop(key)
        else:
            record[key] = None
    return record


BREAKAGES = {
    "no entity_id": lambda r: r.pop("entity_id"),
    "entity_id not a number": lambda r: r.update(entity_id="12abc"),
    "items not a list": lambda r: r.update(items="three boxes"),
    "quantity not a number": lambda r: r["items"][0].update(qty_ordered="lots"),
    "created_at not a date": lambda r: r.update(created_at="yesterday"),
    "item without sku": lambda r: r["items"][0].pop("sku"),
    "item id twice": lambda r: r["items"].append(copy.deepcopy(r["items"][0])),
}


@st.composite
def broken_order(draw: st.DrawFn, entity_id: int) -> tuple[str, Any]:
    how = draw(st.sampled_from(sorted(BREAKAGES)))
    record = order(entity_id, items=[item(entity_id * 1000, "SKU-X", qty=2)])
    BREAKAGES[how](record)
    return how, record


def load(url: str, messages: list[dict[str, Any]]) -> list[str]:
    target = TargetDropstream(config={"database_url": url}, clock=lambda: NOW)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        target.listen(file_input=io.StringIO(singer_text(messages)))
    return [line for line in out.getvalue().splitlines() if line.strip()]


def rows(url: str, sql: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


@QUICK
@given(data=st.data())
def test_odd_valid_orders_load_and_broken_ones_are_rejected_with_a_reason(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('odd') / 'store.db'}"
    valid_count = data.draw(st.integers(0, 8), label="valid")
    broken_count = data.draw(st.integers(0, 4), label="broken")
    valid = [data.draw(odd_valid_order(n)) for n in range(1, valid_count + 1)]
    broken = [data.draw(broken_order(100 + n)) for n in range(broken_count)]
    records: list[Any] = valid + [record for _, record in broken]
    order_of = data.draw(st.permutations(range(len(records))), label="order")
    messages = [schema_message()]
    messages += [record_message(records[i]) for i in order_of]
    messages.append(state_message("end"))

    states = load(url, messages)

    assert len(states) == 1  # the run finished and passed its STATE on
    loaded = {r.order_id: r for r in rows(url, "SELECT * FROM fulfillment_orders")}
    assert set(loaded) == {r["entity_id"] for r in valid}
    for record in valid:
        row = loaded[record["entity_id"]]
        expected_state = "skipped" if not record["items"] else "ready"
        assert row.state == expected_state, (row.state, row.state_reason)
        ext = record.get("extension_attributes")
        if ext:
            city = ext["shipping_assignments"][0]["shipping"]["address"]["city"]
            if city and city.strip():  # kept as typed (outer whitespace may be trimmed)
                assert (row.ship_to_city or "").strip() == city.strip()
            else:
                assert row.ship_to_city in (None, city)
    lines = rows(url, "SELECT order_id, sku, qty FROM fulfillment_lines")
    assert len(lines) == sum(len(r["items"]) for r in valid)
    rejected = rows(url, "SELECT order_id, reason, record_json FROM rejected_records")
    assert len(rejected) == len(broken)
    assert all(reason.strip() for _, reason, _ in rejected)
    for (how, record), row in zip(
        sorted(broken, key=lambda b: json.dumps(b[1], sort_keys=True)),
        sorted(rejected, key=lambda r: json.dumps(json.loads(r.record_json), sort_keys=True)),
        strict=True,
    ):
        assert json.loads(row.record_json) == record, how  # kept as received


def test_zero_and_five_hundred_items_and_huge_quantities(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    many = order(1, items=[item(10_000 + n, f"SKU-{n}", qty=1 + n % 7) for n in range(500)])
    empty = order(2, items=[])
    huge = order(3, items=[item(30, "BULK", qty=MAX_QTY + 0.9999)])
    unicode_order = order(4, items=[item(40, "ÅÄÖ-漢字-🚚", name="Ünïcödé ✓ שלום")])
    ship = unicode_order["extension_attributes"]["shipping_assignments"][0]["shipping"]
    ship["address"].update(firstname="Zoë", lastname="Ødegård-李", city="Zürich 🏔")
    load(url, [schema_message(), *map(record_message, [many, empty, huge, unicode_order])])
    by_id = {r.order_id: r for r in rows(url, "SELECT * FROM fulfillment_orders")}
    assert by_id[1].state == "ready"
    assert by_id[2].state == "skipped"
    assert by_id[2].state_reason
    assert by_id[4].ship_to_city == "Zürich 🏔"
    assert "Zoë" in by_id[4].ship_to_name
    assert "Ødegård-李" in by_id[4].ship_to_name
    counts = dict(rows(url, "SELECT order_id, COUNT(*) FROM fulfillment_lines GROUP BY order_id"))
    assert counts[1] == 500
    [(qty,)] = rows(url, "SELECT qty FROM fulfillment_lines WHERE order_id = 3")
    assert float(qty) == pytest.approx(MAX_QTY + 0.9999)
    [(sku, name)] = rows(url, "SELECT sku, name FROM fulfillment_lines WHERE order_id = 4")
    assert (sku, name) == ("ÅÄÖ-漢字-🚚", "Ünïcödé ✓ שלום")


# Values the database cannot hold must be rejected, not crash every rerun -----------------

POISON = {
    "quantity beyond decimal(12,4)": order(7, items=[item(70, "BULK", qty=1e9)]),
    "entity_id beyond 64 bits": order(2**63, items=[item(71, "BIG")]),
    "item_id beyond 64 bits": order(8, items=[item(2**63, "BIG")]),
    "NUL character in a name": order(9, items=[item(72, "NUL", name="a\x00b")]),
}


@pytest.mark.parametrize("name", list(POISON))
def test_values_postgresql_cannot_store_are_rejected_not_fatal(
    pg_database_url: str,  # noqa: F811
    name: str,
) -> None:
    engine = create_engine(pg_database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    good = order(1)
    load(pg_database_url, [schema_message(), record_message(good), record_message(POISON[name])])
    assert [r.order_id for r in rows(pg_database_url, "SELECT * FROM fulfillment_orders")] == [1]
    assert len(rows(pg_database_url, "SELECT * FROM rejected_records")) == 1


# Broken Singer streams ----------------------------------------------------------------

GARBAGE = [
    "this is not JSON",
    '{"type": "RECORD", "stream": "ord',  # cut off mid-line
    "[1, 2, 3]",
    '{"stream": "orders", "record": {}}',
    '{"type": "BOGUS"}',
    '{"type": "RECORD", "stream": "orders"}',
    '{"type": "RECORD", "stream": "orders", "record": [1]}',
    '{"type": "RECORD", "stream": "undeclared", "record": {"a": 1}}',
    '{"type": "SCHEMA", "stream": "orders", "schema": "x", "key_properties": []}',
]


def committed_ids(url: str) -> set[int]:
    try:
        return {r.order_id for r in rows(url, "SELECT order_id FROM fulfillment_orders")}
    except OperationalError:  # stopped before the store was created
        return set()


@settings(QUICK, max_examples=15)
@given(
    garbage=st.sampled_from(GARBAGE),
    position=st.integers(0, 30),
    state_every=st.integers(1, 6),
)
def test_a_broken_singer_line_stops_the_run_clearly_and_a_rerun_completes(
    tmp_path_factory: pytest.TempPathFactory, garbage: str, position: int, state_every: int
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('garbage') / 'store.db'}"
    records = [order(n, updated_at=f"2026-01-15 10:{n:02d}:00") for n in range(1, 31)]
    messages: list[dict[str, Any]] = [schema_message()]
    for n, record in enumerate(records, start=1):
        messages.append(record_message(record))
        if n % state_every == 0:
            messages.append(state_message(n))
    lines = singer_text(messages).splitlines(keepends=True)
    spot = min(position + 1, len(lines))
    broken = [*lines[:spot], garbage + "\n", *lines[spot:]]

    class Eager(TargetDropstream):
        _MAX_RECORD_AGE_IN_MINUTES = 0.0  # pass STATE on as soon as possible

    target = Eager(config={"database_url": url, "batch_size_rows": 4}, clock=lambda: NOW)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(Exception) as caught:  # noqa: PT011
        target.listen(file_input=io.StringIO("".join(broken)))
    error = caught.value
    assert not isinstance(error, KeyError | AttributeError | IndexError), repr(error)
    assert len(str(error)) > 15  # says what is wrong
    committed = committed_ids(url)
    passed_on = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    for state in passed_on:  # every STATE passed on covers only committed orders
        upto = state["bookmarks"]["orders"]["replication_key_value"]
        assert set(range(1, upto + 1)) <= committed
    # The tap reruns from the last STATE the target passed on; the store ends complete.
    resume_from = passed_on[-1]["bookmarks"]["orders"]["replication_key_value"] if passed_on else 0
    rerun = [schema_message()] + [record_message(r) for r in records[resume_from:]]
    load(url, rerun)
    assert committed_ids(url) == set(range(1, 31))


# Bad settings -------------------------------------------------------------------------

TAP_BAD = {
    "store_url": ({"store_url": "shop.example.com"}, "store_url"),
    "store_url with password": ({"store_url": "https://u:s3cr3t@shop.example.com"}, "store_url"),
    "plain http": ({"store_url": "http://shop.example.com"}, "allow_insecure_http"),
    "page_size": ({"page_size": 5000}, "page_size"),
    "order_import_status": ({"order_import_status": ""}, "order_import_status"),
    "start_date": ({"start_date": "last tuesday"}, "start_date"),
    "oauth half set": ({"consumer_key": "ck"}, "access_token_secret"),
    "ca_bundle missing": ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle"),
    "allow_insecure_http": ({"allow_insecure_http": "maybe"}, "allow_insecure_http"),
}


@pytest.mark.parametrize("name", list(TAP_BAD))
def test_bad_tap_setting_fails_before_any_request(
    sandbox_factory: Any, tmp_path: Path, name: str
) -> None:
    sb = sandbox_factory(order_count=5)
    change, setting = TAP_BAD[name]
    config = {**bearer_config(sb), **change}  # only the setting under test is wrong
    run = run_cli([TAP, "--config", str(write_json(tmp_path / "tap.json", config))])
    assert run.returncode != 0
    assert setting in run.stderr
    assert "s3cr3t" not in run.stderr
    assert run.stdout == ""  # not even a SCHEMA message
    assert sb.requests == []  # nothing was sent to Magento


def test_ca_bundle_that_is_not_a_certificate_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    config = {"store_url": "https://shop.example.com", "access_token": "t", "ca_bundle": str(bogus)}
    run = run_cli([TAP, "--config", str(write_json(tmp_path / "tap.json", config))])
    assert run.returncode != 0
    assert "ca_bundle" in run.stderr
    assert "PEM" in run.stderr


TARGET_BAD = {
    "database_url dialect": ({"database_url": "mysql://user@host/db"}, "database_url"),
    "database_url driver": ({"database_url": "postgresql+psycopg2://user@host/db"}, "psycopg"),
    "delay_minutes": ({"delay_minutes": "soon"}, "delay_minutes"),
    "plain http store": ({"store_url": "http://shop.example.com"}, "allow_insecure_http"),
    "ca_bundle": ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle"),
    "oauth half set": ({"consumer_secret": "cs"}, "consumer_key"),
}


@pytest.mark.parametrize("name", list(TARGET_BAD))
def test_bad_target_setting_fails_before_reading_input(tmp_path: Path, name: str) -> None:
    change, setting = TARGET_BAD[name]
    db = tmp_path / "store.db"
    config = write_json(tmp_path / "target.json", {"database_url": f"sqlite:///{db}", **change})
    stream = singer_text([schema_message(), record_message(order(1))])
    run = run_cli([TARGET, "--config", str(config)], stdin=stream, cwd=tmp_path)
    assert run.returncode != 0
    assert setting in run.stderr
    assert not db.exists()  # no store was created, nothing loaded
    command = run_cli([DROPSTREAM, "status", "--config", str(config)], cwd=tmp_path)
    assert command.returncode == 2  # a usage error
    assert setting in command.stderr


def test_plain_http_is_accepted_when_the_user_says_so(tmp_path: Path) -> None:
    from tap_magento2.settings import validate_settings
    from target_dropstream.settings import TargetSettings

    remote = {"store_url": "http://shop.example.com", "access_token": "t"}
    assert any("allow_insecure_http" in e for e in validate_settings(remote))
    assert validate_settings({**remote, "allow_insecure_http": True}) == []
    for loopback in ("http://127.0.0.1:8080", "http://localhost", "http://[::1]:9000"):
        assert validate_settings({**remote, "store_url": loopback}) == []
    settings_ = TargetSettings.from_config({**remote, "allow_insecure_http": "true"})
    assert settings_.allow_insecure_http is True


def test_bad_retry_environment_variable_is_named(sandbox_factory: Any, tmp_path: Path) -> None:
    sb = sandbox_factory(order_count=5)
    config = write_json(tmp_path / "tap.json", {"store_url": sb.base_url, "access_token": "t"})
    run = run_cli([TAP, "--config", str(config)], env={"TAP_MAGENTO2_RETRY_MAX_TRIES": "zero"})
    assert run.returncode != 0
    assert "TAP_MAGENTO2_RETRY_MAX_TRIES must be a whole number >= 1, got 'zero'" in run.stderr
    assert sb.requests == []
