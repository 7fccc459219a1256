"""Release held orders that have come due, and read open orders back from Magento.

Used at the end of every target run and by ``dropstream release``. Without Magento
credentials every due held order becomes ready. With them, this store's orders are read
back from Magento first, in ONE ``GET /V1/orders`` per page of orders (``entity_id in
…``, ``recheck_page_size`` per page, only the fields the rules need):

- held orders coming due, always, before they become ready;
- ready and partially shipped orders never read back, or last read
  ``recheck_interval_minutes`` or more ago (0: every run).

Magento does not bump ``updated_at`` for an address edit, a partial shipment the merchant
makes, or a comment that keeps or clears the status, so the stream never brings those
changes; this read does. What changes is decided by ``recheck.plan_change``: the current
address, lines from Magento's quantities left to ship, canceled/held/shipped from its
status and quantities. If Magento cannot be reached the orders stay as they are, the
error is reported, and the next run tries again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import requests

from magerest import sales
from magerest.client import MagentoAPIError, MagentoClient
from target_dropstream.models import OpenOrder, Order, RecordRejected
from target_dropstream.rules import OrderState
from target_dropstream.settings import DEFAULT_RECHECK_PAGE_SIZE, ClientFactory, TargetSettings
from target_dropstream.store import FulfillmentStore, LoadPolicy, RecheckResult

RECHECK_BATCH = DEFAULT_RECHECK_PAGE_SIZE
#: Every field ``Order.from_magento`` and the rules read, nothing else (Magento applies
#: ``fields`` to each element of a list, nested lists included).
RECHECK_FIELDS = (
    "items[entity_id,increment_id,store_id,state,status,created_at,updated_at,"
    "items[item_id,sku,name,product_id,product_type,parent_item_id,is_virtual,"
    "qty_ordered,qty_shipped,qty_refunded,qty_canceled],"
    "extension_attributes[shipping_assignments[shipping[address,method]]]],total_count"
)


@dataclass
class ReleaseReport:
    """What a release pass did."""

    released: int = 0
    canceled: int = 0
    still_held: int = 0
    rechecked: int = 0
    shipped: int = 0
    new_address: int = 0
    lines_reduced: int = 0
    not_found: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = f"{self.released} released to ready"
        if self.rechecked:
            text += (
                f", {self.rechecked} re-checked with Magento in {self.requests} request(s) "
                f"({self.canceled} canceled, {self.still_held} still held, {self.shipped} "
                f"shipped in Magento, {self.new_address} new address(es), "
                f"{self.lines_reduced} with lines reduced, {self.not_found} not found)"
            )
        if self.errors:
            text += f"; Magento re-check failed: {' | '.join(self.errors)}"
        return text

    def count(self, result: RecheckResult) -> None:
        """Add one order's outcome."""
        change, before = result.change, result.before["state"]
        if change is None:
            return
        after = change.state
        if after == OrderState.READY.value and before == OrderState.HELD.value:
            self.released += 1
        elif after == OrderState.CANCELED.value:
            self.canceled += 1
        elif after == OrderState.HELD.value:
            self.still_held += 1
        elif after == OrderState.SHIPPED.value:
            self.shipped += 1
        self.new_address += change.address_changed
        self.lines_reduced += change.lines_reduced


def load_policy(settings: TargetSettings) -> LoadPolicy:
    """The load rules of these settings (the re-check rebuilds orders with them)."""
    return LoadPolicy(
        source=settings.source,
        delay_minutes=settings.delay_minutes,
        include_bundle_parent=settings.include_bundle_parent,
        import_statuses=settings.import_statuses,
    )


def release_due_orders(
    store: FulfillmentStore,
    settings: TargetSettings,
    *,
    now: datetime,
    client_factory: ClientFactory = MagentoClient.from_settings,
) -> ReleaseReport:
    """Release every due held order; read this store's open orders back when configured."""
    report = ReleaseReport()
    statuses = settings.import_statuses
    if not settings.magento_configured:
        report.released = store.orders.release_due(now, import_statuses=statuses)
        return report
    # Orders of other stores in the same database cannot be re-checked with these credentials.
    report.released = store.orders.release_due(
        now, import_statuses=statuses, except_source=settings.source
    )
    due = store.orders.orders_to_recheck(
        now,
        import_statuses=statuses,
        source=settings.source,
        interval_minutes=settings.recheck_interval_minutes,
    )
    if not due:
        return report
    client = client_factory(settings, settings.store_view_code)
    try:
        _recheck(client, store, due, report, settings=settings, now=now)
    finally:
        client.close()
    return report


def _recheck(
    client: MagentoClient,
    store: FulfillmentStore,
    due: Sequence[OpenOrder],
    report: ReleaseReport,
    *,
    settings: TargetSettings,
    now: datetime,
) -> None:
    policy = load_policy(settings)
    for chunk in _chunks(due, settings.recheck_page_size):
        report.requests += 1
        try:
            found = _fetch(client, chunk, settings.recheck_page_size)
        except MagentoAPIError as exc:  # Magento's message, never a secret
            report.errors.append(str(exc))
            continue
        except requests.RequestException as exc:
            report.errors.append(f"{exc.__class__.__name__} calling Magento")
            continue
        views = _views(chunk, found, report)
        for result in store.orders.apply_magento_view(
            settings.source, views, policy=policy, now=now
        ):
            report.count(result)
        report.rechecked += len(views)
        report.not_found += sum(1 for view in views.values() if view is None)


def _views(
    chunk: Sequence[OpenOrder], found: Mapping[int, dict], report: ReleaseReport
) -> dict[int, Order | None]:
    """Magento's answer per order (None: not returned); an unreadable one is left alone."""
    views: dict[int, Order | None] = {}
    for order in chunk:
        raw = found.get(order.order_id)
        if raw is None:
            views[order.order_id] = None
            continue
        try:
            views[order.order_id] = Order.from_magento(raw)
        except RecordRejected as exc:
            label = order.increment_id or order.order_id
            report.errors.append(f"order {label}: Magento's answer cannot be used: {exc.reason}")
    return views


def _fetch(client: MagentoClient, chunk: Sequence[OpenOrder], page_size: int) -> dict[int, dict]:
    ids = [order.order_id for order in chunk]
    return sales.read_orders(client, ids, RECHECK_FIELDS, page_size)


def _chunks(items: Sequence[OpenOrder], size: int) -> Iterator[Sequence[OpenOrder]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
