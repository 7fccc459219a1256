"""The store views: a stream of their own, and how ``store_view_code`` picks one."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import ConfigValidationError

from tap_magento2.client import Magento2Stream

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

ADMIN_STORE_ID = 0


class StoreViewsStream(Magento2Stream):
    """``GET /V1/store/storeViews``: every store view (admin included), full table."""

    name = "store_views"
    path = "/V1/store/storeViews"
    primary_keys = ("id",)
    replication_key = None

    @override
    def get_new_paginator(self) -> None:
        return None  # one bare JSON array, no paging

    @override
    def check_payload(self, payload: Any) -> None:
        if not isinstance(payload, list) or not all(isinstance(v, dict) for v in payload):
            msg = "expected a JSON array of store views"
            raise ValueError(msg)

    @cached_property
    def all_views(self) -> list[dict[str, Any]]:
        """The store views, fetched once per run and shared with the orders stream."""
        return list(self.request_records(None))

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        yield from self.all_views


def resolve_store_id(code: str, views: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The store view with this code; admin (id 0) is not a store view orders belong to.

    Raises:
        ConfigValidationError: naming ``store_view_code`` and listing the codes that exist.
    """
    usable = [
        view
        for view in views
        if view.get("id") != ADMIN_STORE_ID and str(view.get("code")) != "admin"
    ]
    for view in usable:
        if view.get("code") == code:
            return view
    known = ", ".join(sorted(str(view.get("code")) for view in usable)) or "none"
    msg = (
        f"store_view_code {code!r} is not a store view of this store. "
        f"Store view codes that exist: {known}"
    )
    raise ConfigValidationError(msg, errors=[msg])
