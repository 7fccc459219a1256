"""tap-magento2 against the store: filters, incremental state, keyset paging, every stream."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.fixtures import Fixtures, invoice
from tests.contract.processes import EVERY_STATUS, Workspace, settle
from tests.contract.readback import documents, our_orders
from tests.contract.store import MagentoRest


def ours(records: list[dict[str, Any]], fixtures: Fixtures) -> list[int]:
    """The entity ids of the run's own orders among ``records``, in emitted order."""
    own = set(fixtures.entity_ids)
    return [record["entity_id"] for record in records if record["entity_id"] in own]


@pytest.mark.parametrize(
    ("status", "view_index"),
    [("pending", 1), ("processing", 0), ("pending", None)],
    ids=["pending-second-view", "processing-first-view", "pending-every-view"],
)
def test_status_and_store_view_filters(
    work: Workspace,
    rest: MagentoRest,
    fixtures: Fixtures,
    status: str,
    view_index: int | None,
) -> None:
    """Exactly the run's orders with that status (in that store view) come out."""
    view = None if view_index is None else fixtures.views[view_index]
    run = work.tap(order_import_status=status, order_follow_status="", store_view_code=view)
    magento = our_orders(rest, fixtures)
    expected = {
        entity_id
        for entity_id, order in magento.items()
        if order["status"] == status
        and (view is None or int(order["store_id"]) == fixtures.view_ids[view])
    }
    assert expected, f"the run has no {status} order in {view or 'any store view'}"
    assert set(ours(run.records(), fixtures)) == expected
    assert {r["status"] for r in run.records()} == {status}
    if view is not None:
        assert {r["store_id"] for r in run.records()} == {fixtures.view_ids[view]}


def test_incremental_rerun_reads_only_what_changed_since_the_state(
    work: Workspace, rest: MagentoRest, fixtures: Fixtures
) -> None:
    """A rerun from the first run's state emits the order invoiced since, and no order
    updated before the bookmark."""
    settings = {
        "order_import_status": "processing",
        "order_follow_status": "",
        "lookback_seconds": 0,
    }
    first = work.tap(**settings)
    state = first.final_state()
    bookmark = state["bookmarks"]["orders"]["replication_key_value"]
    changed = fixtures.order("incremental").entity_id
    assert changed not in ours(first.records(), fixtures)

    invoice(rest, changed)  # pending -> processing, updated_at moves on
    settle()
    again = work.tap(state=state, **settings)
    emitted = again.records()
    assert changed in ours(emitted, fixtures)
    assert all(record["updated_at"] >= bookmark for record in emitted)
    older = {
        entity_id
        for entity_id, order in our_orders(rest, fixtures).items()
        if _as_iso(order["updated_at"]) < bookmark
    }
    assert not older & set(ours(emitted, fixtures))
    assert again.final_state()["bookmarks"]["orders"]["replication_key_value"] >= bookmark


def test_keyset_paging_with_page_size_two(
    work: Workspace, rest: MagentoRest, fixtures: Fixtures
) -> None:
    """Two orders per request: each order once, ascending by (updated_at, entity_id), none
    of the run's orders missing."""
    run = work.tap(
        order_import_status=EVERY_STATUS,
        order_follow_status="",
        page_size=2,
        max_concurrent_requests=1,
    )
    records = run.records()
    keys = [(r["updated_at"], r["entity_id"]) for r in records]
    assert len({r["entity_id"] for r in records}) == len(records), "an order came twice"
    assert keys == sorted(keys)
    assert sorted(ours(records, fixtures)) == sorted(our_orders(rest, fixtures))


def test_every_selected_stream_matches_magento(
    work: Workspace, rest: MagentoRest, fixtures: Fixtures
) -> None:
    """orders, order_items, shipments, invoices and creditmemos of the run's orders: the
    tap's rows are exactly what Magento lists."""
    streams = ("orders", "order_items", "shipments", "invoices", "creditmemos")
    run = work.tap(streams, order_import_status=EVERY_STATUS, order_follow_status="")
    own = fixtures.entity_ids
    magento = our_orders(rest, fixtures)

    assert sorted(ours(run.records("orders"), fixtures)) == sorted(magento)
    emitted_items = sorted(r["item_id"] for r in run.records("order_items") if r["order_id"] in own)
    magento_items = sorted(item["item_id"] for o in magento.values() for item in o["items"])
    assert emitted_items == magento_items
    for kind in ("shipments", "invoices", "creditmemos"):
        listed = sorted(d["entity_id"] for d in documents(rest, kind, own))
        emitted = sorted(r["entity_id"] for r in run.records(kind) if r["order_id"] in own)
        assert listed, f"the run made no {kind} (the documents order has one of each)"
        assert emitted == listed, kind


def _as_iso(magento_time: str) -> str:
    """Magento's ``YYYY-MM-DD HH:MM:SS`` (UTC) as the tap writes it."""
    return magento_time.replace(" ", "T") + "+00:00"
