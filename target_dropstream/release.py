"""Release held orders that have come due, optionally re-checking them against Magento.

Used at the end of every target run and by ``dropstream release``. Without Magento
credentials every due held order becomes ready. With them, the due orders of this store
are first asked about in ONE ``GET /V1/orders`` per 100 orders (``entity_id in …``,
fields limited): an order whose status left the import statuses becomes canceled
(canceled/closed) or stays held (e.g. holded), never ready. If Magento cannot be reached
the orders stay held and the next run tries again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import requests

from tap_magento2.api import MagentoAPIError, MagentoClient
from target_dropstream import rules
from target_dropstream.rules import Decision, OrderState
from target_dropstream.settings import TargetSettings
from target_dropstream.store import FulfillmentStore, HeldOrder

RECHECK_BATCH = 100
RECHECK_FIELDS = "items[entity_id,increment_id,state,status,updated_at],total_count"


class OrderSearch(Protocol):
    """The part of ``tap_magento2.api.MagentoClient`` the re-check uses."""

    def search(
        self,
        path: str,
        filter_groups: Any = None,
        sort: Any = None,
        page_size: int = 100,
        fields: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield the items of a searchCriteria query."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass
class ReleaseReport:
    """What a release pass did."""

    released: int = 0
    canceled: int = 0
    still_held: int = 0
    rechecked: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = f"{self.released} released to ready"
        if self.rechecked:
            text += (
                f", {self.rechecked} re-checked with Magento ({self.canceled} canceled, "
                f"{self.still_held} still held)"
            )
        if self.errors:
            text += f"; Magento re-check failed: {' | '.join(self.errors)}"
        return text


def release_due_orders(
    store: FulfillmentStore,
    settings: TargetSettings,
    *,
    now: datetime,
    client_factory: Callable[[TargetSettings], OrderSearch] | None = None,
) -> ReleaseReport:
    """Release every due held order; re-check this store's orders when Magento is configured."""
    report = ReleaseReport()
    statuses = settings.import_statuses
    if not settings.magento_configured:
        report.released = store.release_due(now, import_statuses=statuses)
        return report
    # Orders of other stores in the same database cannot be re-checked with these credentials.
    report.released = store.release_due(
        now, import_statuses=statuses, except_source=settings.source
    )
    due = store.due_held_orders(now, import_statuses=statuses, source=settings.source)
    if not due:
        return report
    client = (client_factory or magento_client)(settings)
    try:
        _recheck(client, store, due, report, statuses=statuses, now=now)
    finally:
        client.close()
    return report


def _recheck(
    client: OrderSearch,
    store: FulfillmentStore,
    due: Sequence[HeldOrder],
    report: ReleaseReport,
    *,
    statuses: tuple[str, ...],
    now: datetime,
) -> None:
    for chunk in _chunks(due, RECHECK_BATCH):
        try:
            current = _fetch_statuses(client, chunk)
        except MagentoAPIError as exc:  # Magento's message, never a secret
            report.errors.append(str(exc))
            continue
        except requests.RequestException as exc:
            report.errors.append(f"{exc.__class__.__name__} calling Magento")
            continue
        decisions = []
        for order in chunk:
            found = current.get(order.order_id)
            if found is None:
                decision = Decision(OrderState.HELD, "not found in Magento on re-check")
                decisions.append((order, decision, None, None))
                continue
            status, state = _text(found.get("status")), _text(found.get("state"))
            decision = rules.recheck_decision(
                magento_state=state, magento_status=status, import_statuses=statuses
            )
            decisions.append((order, decision, status, state))
        counts = store.apply_recheck(decisions, now)
        report.rechecked += len(chunk)
        report.released += counts.get(OrderState.READY.value, 0)
        report.canceled += counts.get(OrderState.CANCELED.value, 0)
        report.still_held += counts.get(OrderState.HELD.value, 0)


def magento_client(settings: TargetSettings) -> OrderSearch:
    """A ``tap_magento2.api.MagentoClient`` built from the target settings."""
    if not (settings.store_url and settings.access_token):
        msg = "store_url and access_token are both needed to call Magento"
        raise ValueError(msg)
    return MagentoClient.from_settings(settings, settings.store_view_code)


def _fetch_statuses(client: OrderSearch, chunk: Sequence[HeldOrder]) -> dict[int, dict]:
    ids = ",".join(str(order.order_id) for order in chunk)
    found: dict[int, dict] = {}
    for item in client.search(
        "/V1/orders",
        filter_groups=[[("entity_id", ids, "in")]],
        sort=[("entity_id", "ASC")],
        page_size=RECHECK_BATCH,
        fields=RECHECK_FIELDS,
    ):
        try:
            found[int(item["entity_id"])] = item
        except (KeyError, TypeError, ValueError):
            continue
    return found


def _chunks(items: Sequence[HeldOrder], size: int) -> Iterator[Sequence[HeldOrder]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
