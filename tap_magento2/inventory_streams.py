"""Stock: MSI source items (quantity and status per product and source), full table."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.pagination import PageNumberPaginator

from magerest.search import read_search_page, search_criteria_params
from tap_magento2.client import Magento2Stream, TransientAnswerError
from tap_magento2.settings import DEFAULT_PAGE_SIZE

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SOURCE_ITEMS_SORT = (("sku", "ASC"), ("source_code", "ASC"))


class PageCountPaginator(PageNumberPaginator):
    """``currentPage`` 1, 2, ... until the pages hold ``total_count`` rows.

    Never asks past the last page: Magento 2.3 answers that with the last page again.
    """

    def __init__(self, page_size: int, decode: Any) -> None:
        super().__init__(1)
        self._page_size = page_size
        self._decode = decode

    @override
    def has_more(self, response: requests.Response) -> bool:
        page = read_search_page(self._decode(response))
        return bool(page.items) and self.current_value * self._page_size < page.total_count


class StockStream(Magento2Stream):
    """``GET /V1/inventory/source-items``: every source item, as a full table each run.

    Source items have no ``updated_at``, so there is no bookmark; pages are read by number
    in (sku, source_code) order. A row added or removed while the sync runs can shift the
    pages: a row may then be read twice (emitted once) or be missing until the next run.
    """

    name = "stock"
    path = "/V1/inventory/source-items"
    primary_keys = ("sku", "source_code")
    replication_key = None
    records_jsonpath = "$.items[*]"

    @property
    def page_size(self) -> int:
        """Rows per request (``page_size``; Magento allows at most 300)."""
        return int(self.config.get("page_size") or DEFAULT_PAGE_SIZE)

    @override
    def get_new_paginator(self) -> PageCountPaginator:
        return PageCountPaginator(self.page_size, self.payload)

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        return search_criteria_params(
            [],
            sort=SOURCE_ITEMS_SORT,
            page_size=self.page_size,
            current_page=int(next_page_token or 1),
        )

    @override
    def check_payload(self, payload: Any) -> None:
        page = read_search_page(payload)
        if not page.items and page.total_count > 0:
            # Only the first page is asked without knowing total_count.
            msg = f"total_count is {page.total_count} but the page holds no source items"
            raise TransientAnswerError(msg)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        seen: set[tuple[Any, Any]] = set()
        for record in super().get_records(context):
            key = (record.get("sku"), record.get("source_code"))
            if key not in seen:
                seen.add(key)
                yield record
