"""Look at both ends of a pipeline: what the sandbox was asked for, what the store holds."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text

from magento2_sandbox import MagentoSandbox, RequestInfo
from tap_magento2.settings import STOPPING_STATUSES

PIPELINE = ("run", "tap-magento2", "target-dropstream")
_FILTER_PARAM = re.compile(
    r"searchCriteria\[filter_?groups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(\w+)\]", re.IGNORECASE
)


@dataclass(frozen=True)
class StoreSnapshot:
    """The fulfillment store's orders and lines at one moment."""

    orders: dict[int, dict[str, Any]]
    lines: list[dict[str, Any]]
    order_rows: int
    line_rows: int

    def lines_of(self, order_id: int) -> list[dict[str, Any]]:
        return sorted(
            (line for line in self.lines if line["order_id"] == order_id),
            key=lambda line: line["item_id"],
        )

    def line_keys(self) -> list[tuple[Any, ...]]:
        return sorted((ln["source"], ln["order_id"], ln["item_id"]) for ln in self.lines)


def read_store(database_url: str) -> StoreSnapshot:
    """Every order and line in the store, keyed by Magento order id."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            orders = [
                dict(r) for r in conn.execute(text("SELECT * FROM fulfillment_orders")).mappings()
            ]
            lines = [
                dict(r) for r in conn.execute(text("SELECT * FROM fulfillment_lines")).mappings()
            ]
    finally:
        engine.dispose()
    by_id = {int(row["order_id"]): row for row in orders}
    return StoreSnapshot(orders=by_id, lines=lines, order_rows=len(orders), line_rows=len(lines))


def mark_shipped(database_url: str, order_id: int) -> None:
    """What the warehouse does when it ships an order (no ship command exists yet)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            updated = conn.execute(
                text("UPDATE fulfillment_orders SET state = 'shipped' WHERE order_id = :id"),
                {"id": order_id},
            ).rowcount
    finally:
        engine.dispose()
    assert updated == 1, f"order {order_id} is not in the store"


def order_ids(orders: Iterable[Mapping[str, Any]]) -> set[int]:
    return {int(order["entity_id"]) for order in orders}


def filters_of(request: RequestInfo) -> list[tuple[str, str, str]]:
    """(field, condition, value) of every searchCriteria filter in a request."""
    parts: dict[tuple[str, str], dict[str, str]] = {}
    for key, value in request.query:
        match = _FILTER_PARAM.fullmatch(key)
        if match:
            group, index, attr = match.groups()
            parts.setdefault((group, index), {})[attr.lower()] = value
    return [
        (
            f.get("field", ""),
            f.get("condition_type", f.get("conditiontype", "eq")),
            f.get("value", ""),
        )
        for f in parts.values()
    ]


def window_starts(requests: Iterable[RequestInfo]) -> list[str | None]:
    """For each sync of orders (its first page), the ``updated_at gteq`` value it asked from.

    A first page has at most one updated_at filter; later pages add the keyset cursor.
    None means the sync asked for every order (no bookmark, no start_date).
    """
    starts: list[str | None] = []
    for request in requests:
        if request.method != "GET" or (request.route or request.path).rstrip("/") != "/V1/orders":
            continue
        if any(f[0] == "entity_id" for f in filters_of(request)):
            continue  # target-dropstream reading its open orders back, not a sync
        updated = [f for f in filters_of(request) if f[0] == "updated_at"]
        if len(updated) > 1 or any(f[1] != "gteq" for f in updated):
            continue  # a following page
        starts.append(updated[0][2] if updated else None)
    return starts


def magento_time(value: str | datetime) -> str:
    """Any UTC timestamp as Magento prints it: ``YYYY-MM-DD HH:MM:SS``."""
    return parse_time(value).strftime("%Y-%m-%d %H:%M:%S")


def parse_time(value: str | datetime) -> datetime:
    """RFC 3339 or Magento's zone-less UTC text as an aware UTC datetime."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


#: meltano.yml's lookback_seconds: each incremental run starts this long before the bookmark.
LOOKBACK = timedelta(seconds=60)

#: What the pipeline's tap requests: order_import_status, then order_follow_status (meltano.yml).
STREAMED_STATUSES = ["processing", *STOPPING_STATUSES]


def streamed_orders(sandbox: MagentoSandbox, **kwargs: Any) -> list[dict[str, Any]]:
    """The orders the pipeline's tap streams (imported, or in a status it follows)."""
    return sandbox.data.matching(STREAMED_STATUSES, **kwargs)


def newest_streamed(sandbox: MagentoSandbox, **kwargs: Any) -> str:
    """Where a complete run leaves the bookmark: the newest order the tap streams."""
    return str(streamed_orders(sandbox, **kwargs)[-1]["updated_at"])


def paid_orders(sandbox: MagentoSandbox, **kwargs: Any) -> list[dict[str, Any]]:
    """The orders a correct run imports (status processing), oldest update first."""
    return sandbox.data.matching(["processing"], **kwargs)


def assert_store_matches(snapshot: StoreSnapshot, expected: set[int]) -> None:
    """Exactly the expected orders, one row each, and one row per line."""
    assert set(snapshot.orders) == expected
    assert snapshot.order_rows == len(expected), "an order is in the store twice"
    keys = snapshot.line_keys()
    assert len(keys) == len(set(keys)), "a line is in the store twice"
