"""The stream every ``searchResults`` endpoint is read with: keyset paged on (updated_at, id),
scoped to the configured store view, pages fetched concurrently in time slices."""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk import singerlib
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel

from magerest.errors import endpoint_of, magento_at
from magerest.search import Filter, read_search_page, search_criteria_params
from tap_magento2.client import Magento2Stream, TransientAnswerError
from tap_magento2.conform import RecordConformer
from tap_magento2.keyset.page_isolation import PageIsolation
from tap_magento2.keyset.pagination import (
    KeysetPaginator,
    PageHead,
    PageToken,
    cursor_of,
    keyset_filter_groups,
    keyset_sort,
    read_page_head,
)
from tap_magento2.keyset.parallel import SliceFetcher, SliceRequest
from tap_magento2.keyset.poison import PoisonOrderError
from tap_magento2.progress import SyncProgress
from tap_magento2.settings import DEFAULT_PAGE_SIZE, parse_lookback, parse_start_date
from tap_magento2.store_views import StoreViewsStream, resolve_store_id
from tap_magento2.timestamps import to_magento

DEFAULT_CONCURRENT_REQUESTS = 4
MAX_CONCURRENT_REQUESTS = 16

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context


def keyset_search_params(
    *,
    scope: Sequence[Sequence[Filter]],
    start: str | None,
    token: PageToken | None,
    page_size: int,
    until: str | None = None,
    id_field: str = "entity_id",
) -> dict[str, str]:
    """searchCriteria for one keyset page: scope groups AND-ed with the cursor groups.

    ``start`` (Magento format, inclusive) applies to the first page only; later pages
    continue strictly after the token's cursor and before its ``until`` second. ``until``
    bounds a first page from above (the first page of a slice). Always page 1, sorted
    updated_at, then ``id_field``, ASC.
    """
    bound: list[list[Filter]] = []
    if token is None and until is not None:
        bound = [[("updated_at", until, "lt")]]
    return search_criteria_params(
        [list(group) for group in scope] + keyset_filter_groups(start, token, id_field) + bound,
        sort=keyset_sort(id_field),
        page_size=page_size,
        current_page=1,
    )


class KeysetSearchStream(Magento2Stream):
    """A ``searchResults`` endpoint read incrementally by keyset on (updated_at, id).

    Subclasses name the endpoint (``path``) and its id (``id_key``/``id_field``) and
    narrow it with ``scope_filters``; the
    configured store view applies to every endpoint with a ``store_id`` column. Records
    are Magento's JSON with every timestamp in RFC 3339 UTC, emitted in ascending
    (updated_at, id) order; see ``pagination`` for the keyset paging and its
    "stay before Magento's current second" rule.
    """

    primary_keys = ("entity_id",)
    replication_key = "updated_at"
    is_sorted = True
    #: The look-back window re-reads records older than the saved bookmark, which the SDK's
    #: sort check would reject; the order is checked on every page (``check_page_order``)
    #: and the bookmark ends at the newest record again once the window is read.
    check_sorted = False
    records_jsonpath = "$.items[*]"
    #: post_process conforms each record in the same walk as its timestamps (RecordConformer
    #: gives the SDK's result), so the SDK's second walk over every value is skipped.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: What the records are, for log messages.
    noun = "records"
    #: The id in the JSON (the primary key) and the column searchCriteria filters it by.
    id_key: ClassVar[str] = "entity_id"
    id_field: ClassVar[str] = "entity_id"
    #: Whether the endpoint's rows carry a store_id to filter by the configured store view.
    has_store_id: ClassVar[bool] = True
    #: ``GET`` path of one row (``{id}`` is its id): when a list page still answers HTTP 500
    #: after the retries, the row Magento cannot list is found and read with it (see
    #: ``page_isolation``). None: the sync stops on such a page.
    get_path: ClassVar[str | None] = None
    #: One row, for messages.
    noun_one: ClassVar[str] = "record"
    #: A STATE message after this many records, so a killed sync resumes near where it
    #: stopped. Safe mid-run: records come out in ascending (updated_at, id) order, also
    #: from parallel slices, so the bookmark never passes a record not yet emitted.
    STATE_MSG_FREQUENCY = 1_000
    #: A progress line every this many pages (see ``progress``).
    progress_every_pages: ClassVar[int] = 20

    def __init__(self, tap: Tap, *, store_views: StoreViewsStream | None = None) -> None:
        super().__init__(tap)
        #: ``read_page_head`` of each page, read once: ``check_answer`` and ``page_head`` need it.
        self._heads: weakref.WeakKeyDictionary[requests.Response, PageHead | None] = (
            weakref.WeakKeyDictionary()
        )
        self._heads_lock = threading.Lock()
        self._store_views = store_views or StoreViewsStream(tap)
        self.progress = SyncProgress(self.noun, self.logger, every_pages=self.progress_every_pages)
        #: Takes over a list page that still answers HTTP 500 after the retries.
        self.page_isolation = PageIsolation(
            get_path=self.get_path,
            noun=self.noun,
            noun_one=self.noun_one,
            id_key=self.id_key,
            id_field=self.id_field,
            scope=self.scope_filters,
            page_size=lambda: self.page_size,
            url_base=lambda: self.url_base,
            get_url=self.get_url,
            build_get=lambda url, params: self.build_prepared_request(
                method="GET", url=url, params=params, headers=self.http_headers
            ),
            payload=self.payload,
            logger=self.logger,
        )

    def scope_filters(self) -> list[list[Filter]]:
        """Filter groups (AND-ed) that select this stream's rows: the store view if set."""
        if not self.has_store_id or self.store_id is None:
            return []
        return [[("store_id", self.store_id, "eq")]]

    def search_params(
        self, *, start: str | None, token: PageToken | None, until: str | None = None
    ) -> dict[str, str]:
        """searchCriteria for one page of this stream."""
        self.page_isolation.note_page(start, token, until)  # so a failure of it is recognised
        return keyset_search_params(
            scope=self.scope_filters(),
            start=start,
            token=token,
            page_size=self.page_size,
            until=until,
            id_field=self.id_field,
        )

    @cached_property
    def store_id(self) -> int | None:
        """The id of ``store_view_code``, resolved once per run (None = all store views)."""
        code = self.config.get("store_view_code")
        if not code:
            return None
        view = resolve_store_id(code.strip(), self._store_views.all_views)
        if not view.get("is_active", 1):
            self.logger.warning(
                "Store view %r is inactive; importing its %s anyway", code, self.noun
            )
        return int(view["id"])

    @property
    def page_size(self) -> int:
        """Rows per request (``page_size``; Magento allows at most 300)."""
        return int(self.config.get("page_size") or DEFAULT_PAGE_SIZE)

    def window_start(self, context: Context | None) -> datetime | None:
        """Where this run reads from: the bookmark less ``lookback_seconds``, else start_date.

        Never before ``start_date``; the first run (no bookmark) starts at ``start_date``.
        """
        starting = self.get_starting_timestamp(context)  # max(bookmark, start_date)
        lookback = parse_lookback(self.config.get("lookback_seconds"))
        bookmark = self.get_context_state(context).get("replication_key_value")
        if starting is None or bookmark is None or not lookback:
            return starting
        earliest = self.config.get("start_date")
        floor = parse_start_date(earliest) if earliest else None
        moved = starting - timedelta(seconds=lookback)
        return moved if floor is None or moved > floor else floor

    @property
    def concurrent_requests(self) -> int:
        """Pages requested at once (``max_concurrent_requests``; 1 = sequential)."""
        value = self.config.get("max_concurrent_requests")
        return DEFAULT_CONCURRENT_REQUESTS if value is None else int(value)

    @override
    def get_new_paginator(self) -> KeysetPaginator:
        return KeysetPaginator(decode=self.payload, id_key=self.id_key)

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self.progress = SyncProgress(self.noun, self.logger, every_pages=self.progress_every_pages)
        in_files = self.get_batch_config(self.config) is not None
        self.page_isolation.rows_sent_as_read = not in_files
        try:
            yield from self._request_records(context)
        except PoisonOrderError:
            # Every record before the unreadable row was emitted: so says the bookmark. With
            # batch_config, the rows read since the last batch file are in no file: the STATE
            # written after that file stands, and the next run reads them again.
            if not in_files:
                self._write_state_message()
            raise
        self.progress.finish()

    def _request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if self.concurrent_requests <= 1:
            yield from super().request_records(context)
            return
        starting = self.window_start(context)
        decorated = self.request_decorator(self._request)
        url = self.get_url(context)

        def fetch(request: SliceRequest) -> requests.Response:
            params = self.search_params(
                start=request.start, token=request.token, until=request.until
            )
            prepared = self.build_prepared_request(
                method="GET", url=url, params=params, headers=self.http_headers
            )
            return decorated(prepared, context)

        fetcher = SliceFetcher(
            fetch=fetch,
            head=self.page_head,
            start=to_magento(starting) if starting else None,
            page_size=self.page_size,
            workers=self.concurrent_requests,
        )
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            for response in fetcher.responses():
                counter.increment()
                yield from self.parse_response(response)
        if fetcher.slices > 1:
            self.logger.info(
                "Fetched %s in %d time slices with %d requests, up to %d at once",
                self.noun,
                fetcher.slices,
                fetcher.requests,
                self.concurrent_requests,
            )

    def page_head(self, response: requests.Response) -> PageHead:
        """Keys and total_count of a checked page, decoding only those when possible."""
        head = self._read_head(response)
        if head is None:
            page = read_search_page(self.payload(response))
            head = PageHead([cursor_of(item, self.id_key) for item in page.items], page.total_count)
        return head

    def _read_head(self, response: requests.Response) -> PageHead | None:
        """``read_page_head`` of a page, decoded once (pages are checked on fetch threads)."""
        with self._heads_lock:
            if response in self._heads:
                return self._heads[response]
        head = read_page_head(response.content, self.id_key)
        with self._heads_lock:
            self._heads[response] = head
        return head

    @override
    def validate_response(self, response: requests.Response) -> None:
        if self.page_isolation.takes_as_answer(response):
            return  # while searching, a 500 is the answer (not retried, see page_isolation)
        super().validate_response(response)

    @override
    def check_answer(self, response: requests.Response) -> None:
        if self.page_isolation.probing == "get":
            self.page_isolation.check_one(response)  # one row by id, not a list page
            return
        # Decoding every order here would double the work: the keys are enough to check
        # the page; anything unusual takes the full path and its precise messages.
        head = self._read_head(response)
        if head is None:
            super().check_answer(response)
            return
        if not head.keys and head.total_count > 0:
            msg = (
                f"{magento_at(response)} answered {endpoint_of(response)} inconsistently: "
                f"total_count is {head.total_count} but the page holds no {self.noun}"
            )
            raise RetriableAPIError(msg, response)

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        token = next_page_token if isinstance(next_page_token, PageToken) else None
        start = None
        if token is None:
            starting = self.window_start(context)
            start = to_magento(starting) if starting else None
        return self.search_params(start=start, token=token)

    @override
    def check_payload(self, payload: Any) -> None:
        page = read_search_page(payload)
        if not page.items and page.total_count > 0:
            msg = f"total_count is {page.total_count} but the page holds no {self.noun}"
            raise TransientAnswerError(msg)

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        converted, unmapped = self.conformer(row)
        if unmapped:
            self.logger.warning(
                "Properties %s were present in the '%s' stream but not found in the catalog "
                "schema. Ignoring.",
                tuple(unmapped),
                self.name,
            )
        return converted

    @cached_property
    def every_property_selected(self) -> bool:
        """No property of the catalog is deselected (a breadcrumb left out inherits)."""
        return all(self.mask.values())

    @override
    def _generate_record_messages(self, record: dict[str, Any]) -> Iterator[Any]:
        # Private SDK method, for speed (tests/tap/test_sdk_hooks.py): its deselected-property
        # pass walks every object of every record even when nothing is deselected.
        if not self.every_property_selected or self.TYPE_CONFORMANCE_LEVEL is not (
            TypeConformanceLevel.NONE
        ):
            yield from super()._generate_record_messages(record)
            return
        # The SDK's messages without that pass (its conformance at level NONE is a no-op).
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield singerlib.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=datetime.now(UTC),
                )

    @cached_property
    def conformer(self) -> RecordConformer:
        """Timestamps to RFC 3339 and the SDK's type conformance, in one walk per record."""
        return RecordConformer(self.effective_schema)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        page = read_search_page(self.payload(response))
        self.progress.page(len(page.items), page.total_count)
        yield from page.items
        self.page_isolation.raise_pending(response)  # a built page's error, after its rows

    @override
    def request_decorator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """The retried request; with ``get_path``, a page that keeps failing is isolated."""
        request = super().request_decorator(func)
        if self.get_path is None:
            return request
        return self.page_isolation.wrap(request)
