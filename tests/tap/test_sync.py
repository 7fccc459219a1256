"""Orders and store views synced from a local Magento sandbox over real HTTP."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_magento2.timestamps import convert_timestamps
from tests.conftest import sandbox_config
from tests.tap.support import run_tap

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def ids(records: list[dict[str, Any]]) -> list[int]:
    return [r["entity_id"] for r in records]


def keys(records: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["updated_at"], r["entity_id"]) for r in records]


def as_json(value: Any) -> Any:
    """Compare what a target reads: JSON numbers, no Decimal/float distinction."""
    return json.loads(json.dumps(value, default=str), parse_float=float)


def rfc3339(magento_ts: str) -> str:
    return magento_ts.replace(" ", "T") + "+00:00"


@pytest.fixture(scope="module")
def shared_sandbox() -> Any:
    """One read-only sandbox for the tests in this module that do not change data."""
    from magento2_sandbox import MagentoSandbox

    with MagentoSandbox(order_count=150, seed=11, now=NOW) as sb:
        yield sb


@pytest.fixture(scope="module")
def default_run(shared_sandbox: Any) -> Any:
    return run_tap(sandbox_config(shared_sandbox, page_size=20))


def test_default_run_emits_exactly_the_processing_orders(
    shared_sandbox: Any, default_run: Any
) -> None:
    expected = shared_sandbox.data.matching(statuses=["processing"])
    assert expected, "the seed must contain processing orders"
    assert ids(default_run.records()) == ids(expected)


def test_orders_are_ascending_and_each_emitted_once(default_run: Any) -> None:
    records = default_run.records()
    assert keys(records) == sorted(keys(records))
    assert len(set(keys(records))) == len(records)
    assert max(Counter(ids(records)).values()) == 1


def test_final_state_bookmarks_the_last_updated_at(shared_sandbox: Any, default_run: Any) -> None:
    expected = shared_sandbox.data.matching(statuses=["processing"])
    assert default_run.final_state["bookmarks"]["orders"] == {
        "replication_key": "updated_at",
        "replication_key_value": rfc3339(expected[-1]["updated_at"]),
    }


def test_records_are_magento_json_with_rfc3339_timestamps(
    shared_sandbox: Any, default_run: Any
) -> None:
    for record in default_run.records():
        source = shared_sandbox.data.orders[record["entity_id"]]
        assert as_json(record) == as_json(convert_timestamps(source))
        assert record["created_at"] == rfc3339(source["created_at"])
        for item, source_item in zip(record["items"], source["items"], strict=True):
            assert item["created_at"] == rfc3339(source_item["created_at"])
            if "parent_item" in source_item:
                assert item["parent_item"]["created_at"] == rfc3339(
                    source_item["parent_item"]["created_at"]
                )
        for history, source_history in zip(
            record.get("status_histories", []), source.get("status_histories", []), strict=True
        ):
            assert history["created_at"] == rfc3339(source_history["created_at"])


def test_nested_shapes_reach_the_target(default_run: Any) -> None:
    records = default_run.records()
    assert any(
        r["extension_attributes"]["shipping_assignments"][0]["shipping"].get("address")
        for r in records
    )
    assert any(item.get("parent_item") for r in records for item in r["items"])
    assert all("billing_address" in r and "payment" in r for r in records)


@pytest.mark.parametrize(
    "statuses", [["processing", "complete"], "pending", "holded,canceled"], ids=str
)
def test_status_filter(shared_sandbox: Any, statuses: Any) -> None:
    run = run_tap(sandbox_config(shared_sandbox, order_import_status=statuses, page_size=50))
    wanted = statuses if isinstance(statuses, list) else statuses.split(",")
    expected = shared_sandbox.data.matching(statuses=wanted)
    assert expected
    assert ids(run.records()) == ids(expected)
    order_requests = [r for r in shared_sandbox.requests if r.route == "/V1/orders"]
    query = dict(order_requests[-1].query)
    status_value = next(
        query[k.replace("[field]", "[value]")]
        for k, v in query.items()
        if k.endswith("[field]") and v == "status"
    )
    assert status_value == ",".join(wanted)


@pytest.mark.parametrize("code", ["fr", "de", "default"])
def test_store_view_filter(shared_sandbox: Any, code: str) -> None:
    view = next(v for v in shared_sandbox.data.store_views if v["code"] == code)
    run = run_tap(
        sandbox_config(
            shared_sandbox,
            store_view_code=code,
            order_import_status=["processing", "complete"],
            page_size=30,
        )
    )
    expected = shared_sandbox.data.matching(
        statuses=["processing", "complete"], store_ids=[view["id"]]
    )
    assert expected, f"the seed must contain orders of store view {code}"
    assert ids(run.records()) == ids(expected)
    assert {r["store_id"] for r in run.records()} == {view["id"]}


def test_store_view_code_is_resolved_once_per_run(shared_sandbox: Any) -> None:
    before = len(shared_sandbox.requests)
    run_tap(sandbox_config(shared_sandbox, store_view_code="fr", page_size=5))
    routes = [r.route for r in shared_sandbox.requests[before:]]
    assert routes.count("/V1/store/storeViews") == 1
    assert routes.count("/V1/orders") > 1
    # The store filter is in the query; the store code is not relied on in the URL.
    assert all(r.store_code == "default" for r in shared_sandbox.requests[before:])


def test_unknown_store_view_code_fails_fast_listing_existing_codes(shared_sandbox: Any) -> None:
    before = len(shared_sandbox.requests)
    with pytest.raises(ConfigValidationError) as caught:
        run_tap(sandbox_config(shared_sandbox, store_view_code="nl"))
    message = str(caught.value)
    assert "store_view_code 'nl'" in message
    for view in shared_sandbox.data.store_views:
        if view["code"] != "admin":
            assert view["code"] in message
    assert "admin" not in message.split("exist:")[1]
    routes = [r.route for r in shared_sandbox.requests[before:]]
    assert "/V1/orders" not in routes


def test_admin_is_not_a_store_view_code(shared_sandbox: Any) -> None:
    with pytest.raises(ConfigValidationError, match="store_view_code 'admin'"):
        run_tap(sandbox_config(shared_sandbox, store_view_code="admin"))


def test_store_views_stream_is_the_full_table(shared_sandbox: Any, default_run: Any) -> None:
    records = default_run.records("store_views")
    assert as_json(records) == as_json(shared_sandbox.data.store_views)
    assert 0 in {r["id"] for r in records}


def test_start_date_is_inclusive_and_sent_as_utc(shared_sandbox: Any) -> None:
    expected_all = shared_sandbox.data.matching(statuses=["processing"])
    pivot = expected_all[len(expected_all) // 2]["updated_at"]
    start = datetime.strptime(pivot, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    # Same instant written with a +02:00 offset.
    local = start.astimezone(timezone(timedelta(hours=2)))
    before = len(shared_sandbox.requests)
    run = run_tap(sandbox_config(shared_sandbox, start_date=local.isoformat(), page_size=300))
    expected = shared_sandbox.data.matching(statuses=["processing"], updated_from=pivot)
    assert ids(run.records()) == ids(expected)
    first = dict(shared_sandbox.requests[before].query)
    assert pivot in first.values()


def test_incremental_rerun_emits_only_orders_updated_since(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=120, seed=5, now=NOW)
    config = sandbox_config(sb, page_size=25)
    first = run_tap(config)
    bookmark = first.bookmark()
    assert ids(first.records()) == ids(sb.data.matching(statuses=["processing"]))

    # Later: two orders change, one order is placed, one order stops matching.
    sb.clock.advance(60)
    untouched = sb.data.matching(statuses=["processing"])
    sb.data.update_order(untouched[0]["entity_id"], customer_note="changed")
    pending = sb.data.matching(statuses=["pending"])[0]
    sb.data.update_order(pending["entity_id"], status="processing")
    added = sb.data.add_order(status="processing")
    sb.data.update_order(untouched[1]["entity_id"], status="complete")

    second = run_tap(config, state=first.final_state)
    magento_bookmark = bookmark.replace("T", " ").replace("+00:00", "")
    expected = sb.data.matching(statuses=["processing"], updated_from=magento_bookmark)
    assert ids(second.records()) == ids(expected)
    assert {untouched[0]["entity_id"], pending["entity_id"], added["entity_id"]} <= set(
        ids(second.records())
    )
    # Only what changed (plus the bookmark's own second, which targets upsert).
    assert all(r["updated_at"] >= bookmark for r in second.records())
    assert len(second.records()) < len(first.records())
    assert second.bookmark() == rfc3339(sb.data.orders[added["entity_id"]]["updated_at"])

    third = run_tap(config, state=second.final_state)
    assert all(r["updated_at"] == second.bookmark() for r in third.records())


def test_bookmark_second_is_read_again_so_late_writes_in_it_are_kept(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=40, seed=8, now=NOW)
    config = sandbox_config(sb, page_size=10)
    first = run_tap(config)
    last = sb.data.matching(statuses=["processing"])[-1]
    # An order written later in the same second as the bookmark, with a lower entity_id.
    low = next(
        o for o in sb.data.matching(statuses=["pending"]) if o["entity_id"] < last["entity_id"]
    )
    sb.data.update_order(low["entity_id"], status="processing", updated_at=last["updated_at"])
    second = run_tap(config, state=first.final_state)
    assert low["entity_id"] in ids(second.records())


def test_fields_unknown_to_the_schema_are_kept(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=20, seed=2, now=NOW)
    target = sb.data.matching(statuses=["processing"])[0]["entity_id"]
    order = sb.data.editable_order(target)
    order["vendor_channel"] = {"name": "pos", "terminal": 7}
    order["items"][0]["vendor_flag"] = "gift"
    sb.data.commit_order(target, order)
    run = run_tap(sandbox_config(sb))
    record = next(r for r in run.records() if r["entity_id"] == target)
    assert record["vendor_channel"] == {"name": "pos", "terminal": 7}
    assert record["items"][0]["vendor_flag"] == "gift"
