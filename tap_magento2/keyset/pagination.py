"""searchCriteria for keyset pages and the checks that keep them gap-free (see the package
docstring for the design): the cursor, its filter groups, the ``until`` second, the page-order
check and the SDK paginator that carries the cursor from page to page.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import msgspec
import requests
from singer_sdk.pagination import BaseAPIPaginator

from magerest.search import Filter, decode_json, read_search_page

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override


class PagingError(RuntimeError):
    """Magento's answers would make the sync skip or repeat orders; stop instead."""


@dataclass(frozen=True, order=True)
class Cursor:
    """The last row seen: Magento's own ``updated_at`` text and the order's ``entity_id``."""

    updated_at: str
    entity_id: int


@dataclass(frozen=True)
class PageToken:
    """Where the next page starts (after ``after``) and the second it must stay before."""

    after: Cursor
    until: str | None = None


KEYSET_SORT = (("updated_at", "ASC"), ("entity_id", "ASC"))


def keyset_sort(id_field: str = "entity_id") -> tuple[tuple[str, str], ...]:
    """Sort by updated_at, then by the id column (``entity_id`` in every sales table)."""
    return (("updated_at", "ASC"), (id_field, "ASC"))


def keyset_filter_groups(
    start: str | None, token: PageToken | None, id_field: str = "entity_id"
) -> list[list[Filter]]:
    """The cursor filter groups: after the token's cursor if given, else from ``start``.

    ``id_field`` is the id column searchCriteria filters on (``entity_id`` even for
    products and customers, whose JSON calls it ``id``).
    """
    if token is None:
        return [[("updated_at", start, "gteq")]] if start is not None else []
    cursor = token.after
    groups: list[list[Filter]] = [
        [("updated_at", cursor.updated_at, "gteq")],
        [
            ("updated_at", cursor.updated_at, "gt"),
            (id_field, cursor.entity_id, "gt"),
        ],
    ]
    if token.until is not None:
        groups.append([("updated_at", token.until, "lt")])
    return groups


def server_second(response: requests.Response) -> str:
    """Magento's clock when it answered (``Date`` header), as a Magento filter value.

    Falls back to this machine's clock when a proxy stripped or garbled the header.
    """
    try:
        moment = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def cursor_of(item: dict[str, Any], id_key: str = "entity_id") -> Cursor:
    """The keyset position of one row (its id is ``item[id_key]``)."""
    updated_at, entity_id = item.get("updated_at"), item.get(id_key)
    if not isinstance(updated_at, str) or isinstance(entity_id, bool):
        msg = f"order without a usable updated_at/entity_id: {entity_id!r}, {updated_at!r}"
        raise PagingError(msg)
    try:
        return Cursor(updated_at=updated_at, entity_id=int(entity_id))
    except (TypeError, ValueError):
        msg = f"order with a non-numeric entity_id {entity_id!r}"
        raise PagingError(msg) from None


def check_page_order(
    items: Sequence[dict[str, Any]], after: Cursor | None, id_key: str = "entity_id"
) -> Cursor:
    """Verify a page is strictly ascending and past ``after``; return its last position.

    This is what guarantees that no order is skipped or repeated between pages: if
    Magento ignored a filter or the sort, the sync fails here instead of losing rows.
    """
    if not items:
        msg = "empty page where orders were expected"
        raise PagingError(msg)
    previous = after
    position = cursor_of(items[0], id_key)
    for item in items:
        position = cursor_of(item, id_key)
        if previous is not None and not position > previous:
            msg = (
                f"Magento returned orders out of (updated_at, entity_id) order or not after "
                f"the requested cursor: {position} follows {previous}. The sort or filters "
                "were not applied; stopping so that no order is skipped or repeated"
            )
            raise PagingError(msg)
        previous = position
    return position


class _OrderKey(msgspec.Struct):
    updated_at: str
    entity_id: int


class _PageHead(msgspec.Struct):
    items: list[_OrderKey] | None = None
    total_count: int | None = None


class _IdKey(msgspec.Struct):
    updated_at: str
    id: int


class _IdPageHead(msgspec.Struct):
    items: list[_IdKey] | None = None
    total_count: int | None = None


@dataclass(frozen=True)
class PageHead:
    """The keyset positions of a page's orders and ``total_count``, without the orders."""

    keys: list[Cursor]
    total_count: int


_HEAD_DECODER = msgspec.json.Decoder(_PageHead)
_HEAD_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "entity_id": _HEAD_DECODER,
    "id": msgspec.json.Decoder(_IdPageHead),
}


def read_page_head(content: bytes, id_key: str = "entity_id") -> PageHead | None:
    """Only what paging needs from a ``searchResults`` body, ~10x cheaper than decoding it.

    Returns None when the body is not a well-formed page with usable keys; the caller then
    decodes it fully, which gives the precise error.
    """
    decoder = _HEAD_DECODERS.get(id_key)
    if decoder is None:
        return None
    try:
        head = decoder.decode(content)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    total = head.total_count
    if total is None or total < 0 or (head.items is None and total != 0):
        return None
    items = head.items or []
    if id_key == "id":
        return PageHead([Cursor(k.updated_at, k.id) for k in items], total)
    return PageHead([Cursor(k.updated_at, k.entity_id) for k in items], total)


def check_key_order(keys: Sequence[Cursor], after: Cursor | None) -> Cursor:
    """Like :func:`check_page_order`, on keys read by :func:`read_page_head`."""
    if not keys:
        msg = "empty page where orders were expected"
        raise PagingError(msg)
    previous = after
    for position in keys:
        if previous is not None and not position > previous:
            msg = (
                f"Magento returned orders out of (updated_at, entity_id) order or not after "
                f"the requested cursor: {position} follows {previous}. The sort or filters "
                "were not applied; stopping so that no order is skipped or repeated"
            )
            raise PagingError(msg)
        previous = position
    return keys[-1]


class KeysetPaginator(BaseAPIPaginator[PageToken | None]):
    """Page through orders by cursor; the token is the last row seen (None = first page)."""

    def __init__(self, decode: Any = decode_json, id_key: str = "entity_id") -> None:
        super().__init__(None)
        self._decode = decode
        self._id_key = id_key

    @override
    def has_more(self, response: requests.Response) -> bool:
        """More pages remain unless this page held every remaining match."""
        page = read_search_page(self._decode(response))
        return len(page.items) < page.total_count

    @override
    def get_next(self, response: requests.Response) -> PageToken:
        """The last row of this page (checked to be past the cursor) and Magento's second."""
        page = read_search_page(self._decode(response))
        current = self.current_value
        if not page.items:
            msg = (
                f"Magento reported {page.total_count} more orders after "
                f"{current.after if current else 'the start'} but returned an empty page; "
                "stopping instead of guessing the end"
            )
            raise PagingError(msg)
        last = check_page_order(page.items, current.after if current else None, self._id_key)
        return PageToken(after=last, until=server_second(response))
