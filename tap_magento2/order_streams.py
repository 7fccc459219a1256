"""The orders stream: orders with the chosen statuses (and store view), read by keyset."""

from __future__ import annotations

import sys
from collections.abc import Sequence
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
    def get_child_context(
        self, record: dict[str, Any], context: Context | None
    ) -> dict[str, Any] | None:
        return {"order_id": record.get("entity_id"), "items": record.get("items") or []}
