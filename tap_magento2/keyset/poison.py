"""Get past one order that makes Magento's list endpoint answer HTTP 500.

``getList`` loads every order of a page (twice); a single order with odd data (payment,
address) throws and the whole page answers a masked HTTP 500 (magento/magento2#36213,
#2069, #7526). Retrying cannot help, so without this every run would fail on the same
page. When a keyset page still answers 500 after the normal retries, :class:`PoisonHunt`
works on the same cursor, filters and ``until`` bound (``page_isolation`` hands it the
failed page and builds the page that replaces it):

0. One request that selects no row must work (else the endpoint fails as a whole).
1. The page size is halved (the prefix before the bad order reads fine) and every order
   before the bad one is read, in order, in about ``log2(page_size)`` requests.
2. At page size 1 the bad order is the first one after the cursor; its ``entity_id`` is
   found by bisection with an extra filter ``entity_id lteq M`` (pageSize 1): the answer
   is a 500 exactly when the bad order's id is <= M. The upper bound comes from one
   request sorted by ``entity_id DESC`` (or an exponential search if that request is the
   bad order itself).
3. ``GET /V1/orders/{id}`` reads it. One more list request checks that no order of the
   window lies between the cursor and it, so emitting it and continuing after it skips
   nothing (if one does, it is the first bad order and the search repeats before it).

If the per-id GET fails too, the orders before it are emitted and the sync stops naming
the order: nothing is ever skipped. Requests carry the retries of every other failure;
only a 500 is taken as an answer here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from singer_sdk.exceptions import FatalAPIError

from magerest.search import Filter, SearchPage
from tap_magento2.keyset.pagination import Cursor, PagingError, check_page_order, cursor_of

#: How many bad orders in a row before the cursor the search untangles before giving up.
MAX_ROUNDS = 8
_HIGHEST_ID = 2**53


class PoisonOrderError(FatalAPIError):
    """An order Magento can neither list nor read; every order before it was synced."""

    def __init__(self, message: str, entity_id: int) -> None:
        super().__init__(message)
        self.entity_id = entity_id


#: ``page(cursor, size, extra_groups, sort)``: one list request on the failed window;
#: the response and its page, or None for the page when Magento answered HTTP 500.
PageProbe = Callable[
    [Cursor | None, int, Sequence[Sequence[Filter]], Sequence[tuple[str, str]] | None],
    tuple[requests.Response, SearchPage | None],
]


@dataclass
class HuntResult:
    """What replaces the failed page.

    ``items`` are the orders read, in order (the recovered bad order last). ``remaining``
    is how many rows of the window Magento counted after them (``None``: unknown).
    ``bad_id`` is the bad order found, ``recovered`` whether it is in ``items``.
    ``failure`` is the error to raise once ``items`` are emitted.
    """

    items: list[dict[str, Any]] = field(default_factory=list)
    remaining: int | None = None
    bad_id: int | None = None
    recovered: bool = False
    failure: Exception | None = None
    last_response: requests.Response | None = None


@dataclass
class PoisonHunt:
    """Find and read the order that fails a list page; see the module docstring."""

    page: PageProbe
    get_one: Callable[[int], tuple[requests.Response | None, Any]]
    page_size: int
    after: Cursor | None  # the failed request's cursor (None: from ``start``)
    start: str | None  # inclusive lower bound when there is no cursor
    until: str | None  # exclusive upper bound of the window
    id_key: str = "entity_id"
    id_field: str = "entity_id"
    requests: int = 0
    window_total: int | None = None  # rows after the cursor, from the DESC request

    def run(self) -> HuntResult | None:
        """The rows that replace the failed page; None when no row is to blame.

        A page that selects no row must work: if it answers 500 too, the list endpoint
        is failing as a whole (not on one order) and the caller's error stands.
        """
        if self._fails(self.after, [], 0):
            return None
        result = HuntResult()
        cursor = self.after
        width = self.page_size
        while True:
            size = max(1, width // 2)
            response, page = self._page(cursor, size)
            result.last_response = response
            if page is None:
                if size == 1:
                    break  # the first order after the cursor is the bad one
                width = size
                continue
            if not page.items:
                result.remaining = page.total_count
                return result  # nothing left: the failure did not come back
            check_page_order(page.items, cursor, self.id_key)
            result.items.extend(page.items)
            cursor = cursor_of(page.items[-1], self.id_key)
            result.remaining = page.total_count - len(page.items)
            width -= size
            if result.remaining <= 0 or width <= 0:
                return result  # read past where the page failed: it was not one order
        self._recover(cursor, result)
        return result

    # -- locating ------------------------------------------------------------------------------
    def _recover(self, cursor: Cursor | None, result: HuntResult) -> None:
        window: list[list[Filter]] = []
        for _ in range(MAX_ROUNDS):
            bad_id = self._locate(cursor, window)
            if bad_id is None:
                return  # the failure went away while searching; paging goes on
            result.bad_id = bad_id
            response, order = self.get_one(bad_id)
            result.last_response = response or result.last_response
            if order is None:
                return  # the caller reports it; the orders read so far are emitted first
            key = cursor_of(order, self.id_key)
            if not self._inside(key, cursor):
                msg = (
                    f"order {bad_id} changed while its list page was failing (now "
                    f"updated_at {key.updated_at}); run the sync again"
                )
                raise PagingError(msg)
            before = [*window, *_before(key, self.id_field)]
            _, page = self._page(cursor, 1, before)
            if page is not None and not page.items:
                result.items.append(order)
                result.recovered = True
                if result.remaining is None:
                    result.remaining = self.window_total
                if result.remaining is not None:
                    result.remaining = max(0, result.remaining - 1)
                return
            if page is not None:
                msg = (
                    f"Magento's answers about order {bad_id} contradict each other (an order "
                    "it did not list comes first); run the sync again"
                )
                raise PagingError(msg)
            window = before  # another bad order comes first: search before this one
        msg = f"more than {MAX_ROUNDS} orders in a row fail Magento's order list"
        raise PagingError(msg)

    def _locate(self, cursor: Cursor | None, window: list[list[Filter]]) -> int | None:
        """The id of the first order after the cursor (in ``window``), which fails."""
        _, page = self._page(cursor, 1, window, ((self.id_field, "DESC"),))
        lo = 0
        if page is None:  # the highest id is a bad order: search upward instead
            hi = 1
            while True:
                if self._fails(cursor, window, hi):
                    break
                lo, hi = hi, hi * 2
                if hi > _HIGHEST_ID:
                    return None
        elif not page.items:
            return None
        else:
            hi = cursor_of(page.items[0], self.id_key).entity_id
            if not window:
                self.window_total = page.total_count
        while hi - lo > 1:
            middle = (lo + hi) // 2
            if self._fails(cursor, window, middle):
                hi = middle
            else:
                lo = middle
        return hi

    def _fails(self, cursor: Cursor | None, window: list[list[Filter]], highest: int) -> bool:
        _, page = self._page(cursor, 1, [*window, [(self.id_field, highest, "lteq")]])
        return page is None

    def _inside(self, key: Cursor, cursor: Cursor | None) -> bool:
        if cursor is not None and not key > cursor:
            return False
        if cursor is None and self.start is not None and key.updated_at < self.start:
            return False
        return self.until is None or key.updated_at < self.until

    def _page(
        self,
        cursor: Cursor | None,
        size: int,
        extra: Sequence[Sequence[Filter]] = (),
        sort: Sequence[tuple[str, str]] | None = None,
    ) -> tuple[requests.Response, SearchPage | None]:
        self.requests += 1
        return self.page(cursor, size, extra, sort)


def _before(key: Cursor, id_field: str) -> list[list[Filter]]:
    """Filter groups for rows before ``key`` in (updated_at, id) order."""
    return [
        [("updated_at", key.updated_at, "lteq")],
        [("updated_at", key.updated_at, "lt"), (id_field, key.entity_id, "lt")],
    ]
