"""Orders whose items say too little for the rules go to rejected_records, never to the warehouse.

Magento's order JSON always gives each item its ``product_type`` and each child item its
``parent_item_id`` (with the parent embedded as ``parent_item``); a top-level item has no
``parent_item_id`` at all. Records from another source that dropped these fields used to
load a configurable's child as a second line, or turn a downloadable-only order (nothing
to ship) into a ready one.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from target_dropstream.models import Order, RecordRejected
from tests.target.conftest import item, order, orders_stream, run_target, tutorial_order

Record = dict[str, Any]


def _items_by_id(record: Record) -> dict[int, Record]:
    return {line["item_id"]: line for line in record["items"]}


def without(record: Record, item_id: int, *fields: str) -> Record:
    """``record`` with ``fields`` removed from item ``item_id``."""
    changed = copy.deepcopy(record)
    for name in fields:
        _items_by_id(changed)[item_id].pop(name, None)
    return changed


def tutorial_without_parent_links() -> Record:
    """The tutorial order as a flattening tap sends it: no parent_item_id, no parent_item."""
    record = tutorial_order()
    for line in record["items"]:
        line.pop("parent_item_id", None)
        line.pop("parent_item", None)
    return record


def configurable_child_pointing_elsewhere() -> Record:
    record = tutorial_order()
    _items_by_id(record)[11]["parent_item_id"] = 99
    _items_by_id(record)[11].pop("parent_item")
    return record


def parent_links_that_disagree() -> Record:
    record = tutorial_order()
    _items_by_id(record)[11]["parent_item_id"] = 5  # parent_item still says item 10
    return record


REJECTED: list[tuple[str, Callable[[], Record], str]] = [
    (
        "no product_type",
        lambda: without(order(1), 10, "product_type"),
        "item 10 (SKU SKU-1) has no product_type",
    ),
    (
        "no parent links at all",
        tutorial_without_parent_links,
        "bundle item 5 (SKU 24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086) has no child item",
    ),
    (
        "configurable child without its parent link",
        lambda: without(tutorial_order(), 11, "parent_item_id", "parent_item"),
        "configurable item 10 (SKU MH01-S-Gray) has no child item: Magento lists its chosen "
        "simple product as items with parent_item_id 10",
    ),
    (
        "parent not in the order",
        configurable_child_pointing_elsewhere,
        "item 11 (SKU MH01-S-Gray) has parent_item_id 99, but the order has no other item 99",
    ),
    (
        "parent_item_id and parent_item disagree",
        parent_links_that_disagree,
        "item 11 has parent_item_id 5 but its parent_item is item 10",
    ),
]


@pytest.mark.parametrize(
    ("record", "reason"),
    [pytest.param(build, reason, id=name) for name, build, reason in REJECTED],
)
def test_items_too_incomplete_for_the_rules_are_rejected_with_the_reason(
    record: Callable[[], Record], reason: str
) -> None:
    with pytest.raises(RecordRejected) as caught:
        Order.from_magento(record())
    assert reason in caught.value.reason


def test_magentos_own_shape_loads_top_level_items_need_no_parent_item_id() -> None:
    record = tutorial_order()
    assert all("parent_item_id" not in line for line in record["items"][:3])
    parents = {line.item_id: line.parent_item_id for line in Order.from_magento(record).items}
    assert parents == {3: None, 4: None, 5: None, 6: 5, 7: 5, 8: 5, 9: 5, 10: None, 11: 10}


def test_the_embedded_parent_item_names_the_parent_when_parent_item_id_is_missing() -> None:
    record = without(tutorial_order(), 11, "parent_item_id")  # parent_item still there
    child = [line for line in Order.from_magento(record).items if line.item_id == 11]
    assert child[0].parent_item_id == 10


def test_a_fields_filtered_read_without_parent_item_loads() -> None:
    """Magento's ``fields=`` read-back (release, re-check) has parent_item_id, no parent_item."""
    record = tutorial_order()
    for line in record["items"]:
        line.pop("parent_item", None)
    assert len(Order.from_magento(record).items) == 9


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_another_taps_incomplete_orders_go_to_rejected_records_not_the_warehouse(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    downloadable_only = order(
        7, items=[item(70, "240-LV04", product_type="downloadable", is_virtual=1)]
    )
    flattened = {**tutorial_without_parent_links(), "entity_id": 8}
    records = [
        order(1),
        without(downloadable_only, 70, "product_type", "is_virtual"),  # was: ready, 1 line
        without({**tutorial_order(), "entity_id": 9}, 11, "parent_item_id", "parent_item"),
        flattened,
    ]
    with caplog.at_level(logging.WARNING):
        run_target({"database_url": database_url}, orders_stream(records))
    assert query(database_url, "SELECT order_id, state FROM fulfillment_orders") == [(1, "ready")]
    assert query(database_url, "SELECT DISTINCT order_id FROM fulfillment_lines") == [(1,)]
    rejected = dict(query(database_url, "SELECT order_id, reason FROM rejected_records"))
    assert sorted(rejected) == [7, 8, 9]
    assert rejected[7].startswith("item 70 (SKU 240-LV04) has no product_type")
    assert rejected[8].startswith("bundle item 5 ")
    assert rejected[9].startswith("configurable item 10 (SKU MH01-S-Gray) has no child item")
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Rejected")]
    assert any("(order 9): configurable item 10" in m for m in logged)


def test_an_incomplete_newer_version_leaves_the_stored_order_as_it_was(sqlite_url: str) -> None:
    config = {"database_url": sqlite_url}
    run_target(config, orders_stream([tutorial_order()]))
    lines = "SELECT item_id, qty FROM fulfillment_lines ORDER BY item_id"
    before = query(sqlite_url, lines)
    newer = {**tutorial_without_parent_links(), "updated_at": "2026-01-15 11:00:00"}
    run_target(config, orders_stream([newer]))
    assert query(sqlite_url, lines) == before
    assert query(sqlite_url, "SELECT order_id FROM rejected_records") == [(3,)]
