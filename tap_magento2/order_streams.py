"""The orders stream: orders with the chosen statuses (and store view), read by keyset."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from magerest.connection import parse_statuses
from magerest.search import Filter
from tap_magento2.keyset.pagination import PageToken
from tap_magento2.settings import parse_follow_statuses
from tap_magento2.streams import KeysetSearchStream, keyset_search_params

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


def orders_search_params(
    *,
    statuses: Sequence[str],
    store_id: int | None,
    start: str | None,
    token: PageToken | None,
    page_size: int,
    until: str | None = None,
) -> dict[str, str]:
    """searchCriteria for one page of orders: status (and store view) scope, keyset paged."""
    scope: list[list[Filter]] = [[("status", ",".join(statuses), "in")]]
    if store_id is not None:
        scope.append([("store_id", store_id, "eq")])
    return keyset_search_params(
        scope=scope, start=start, token=token, page_size=page_size, until=until
    )


class OrdersStream(KeysetSearchStream):
    """``GET /V1/orders``: orders with the chosen statuses (and store view), incrementally.

    The ``order_items`` child stream reads each order's ``items`` from these pages, so
    it costs no request of its own.
    """

    name = "orders"
    path = "/V1/orders"
    noun = "orders"
    noun_one = "order"
    get_path = "/V1/orders/{id}"

    @cached_property
    def statuses(self) -> list[str]:
        """``order_import_status`` then ``order_follow_status``: the statuses requested."""
        statuses = parse_statuses(self.config.get("order_import_status"))
        follow = parse_follow_statuses(self.config.get("order_follow_status"))
        return statuses + [s for s in follow if s not in statuses]

    @override
    def scope_filters(self) -> list[list[Filter]]:
        return [[("status", ",".join(self.statuses), "in")], *super().scope_filters()]

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        try:
            yield from super().request_records(context)
        finally:
            for child in self.child_streams:
                run_log = getattr(child, "run_log", None)
                if run_log is not None:
                    run_log.end_run()  # order_items logs once per run, not per order
        if self.progress.rows == 0:
            self._log_no_match(context)

    def _log_no_match(self, context: Context | None) -> None:
        """Say which filters matched no order: a warning on a first run, else an info line."""
        bookmark = self.get_context_state(context).get("replication_key_value")
        start = self.window_start(context)
        if start is None:
            since = "updated at any time"
        else:
            since = f"updated at or after {start:%Y-%m-%d %H:%M:%S} UTC"
            if bookmark is not None:
                since += " (the bookmark less lookback_seconds)"
        code = (self.config.get("store_view_code") or "").strip()
        view = f"store view {code!r} (id {self.store_id})" if code else "every store view"
        self.logger.log(
            logging.INFO if bookmark is not None else logging.WARNING,
            "orders: no order matched (status in %s; %s; %s)",
            ", ".join(self.statuses),
            view,
            since,
        )

    @override
    def get_child_context(
        self, record: dict[str, Any], context: Context | None
    ) -> dict[str, Any] | None:
        return {"order_id": record.get("entity_id"), "items": record.get("items") or []}
