"""Fetch keyset-paged orders with several requests in flight, emitted in exact order.

Keyset paging is sequential inside one range: the next page starts after the last row of
the previous one. To have several requests in flight, the ``updated_at`` range is cut into
slices that are paged independently by a small pool of threads; pages are handed to the
caller strictly in slice order, so records still come out in ascending
(``updated_at``, ``entity_id``) order and the bookmark logic is unchanged.

How the range is cut:

* The first request is exactly the sequential one (from ``start``, no upper bound). Its
  ``Date`` header gives Magento's current second ``S``.
* While a slice's answer says that more than ``pages_per_slice`` pages remain, the rest of
  the slice is cut by time into slices of about ``pages_per_slice`` pages (the estimate
  assumes orders are spread evenly in time; each new slice is checked and cut again when
  its first answer shows it is still too big). A slice cannot be cut below one second.
* Fixed slices end at ``S`` at the latest: every second before ``S`` had ended before any
  of their requests was sent, so the "stay before Magento's current second" rule of
  ``pagination`` holds for each of them.
* After the fixed slices comes the tail ``[S, ...)``, paged like the sequential path: each
  request stays before the latest second Magento has reported. It picks up orders changed
  while the sync runs, as the sequential path does.

When the first answer shows only a few pages, nothing is cut and the requests are exactly
the sequential path's (with the next page fetched while the current one is emitted).

Buffering is bounded: only the ``window`` slices nearest the consumer may be fetched, and
at most ``2 * workers`` pages wait in total (the slice being emitted may always add one);
the buffer holds undecoded bodies (the orders are decoded once, by the consumer).
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import requests

from tap_magento2.keyset.pagination import (
    Cursor,
    PageHead,
    PageToken,
    PagingError,
    check_key_order,
    server_second,
)

MAGENTO_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Below this many remaining pages the sync stays one sequential stream (with prefetch):
#: cutting costs about one extra request per slice and pays only on large syncs.
MIN_PAGES_TO_SPLIT = 32
_DONE = object()


@dataclass(frozen=True)
class SliceRequest:
    """What one request of a slice asks for (turned into searchCriteria by the stream)."""

    start: str | None  # inclusive lower bound, first request of a slice only
    token: PageToken | None  # continue after token.after, before token.until
    until: str | None = None  # exclusive upper bound of a slice's first request


@dataclass(eq=False)
class _Slice:
    lower: str | None  # inclusive, Magento text; None = no lower bound
    upper: str | None  # exclusive; None = the tail (stays before Magento's latest second)
    after: Cursor | None = None
    next: _Slice | None = None
    started: bool = False
    pages: queue.Queue[Any] = field(default_factory=queue.Queue)


def _epoch(text: str) -> int:
    moment = datetime.strptime(text, MAGENTO_FORMAT).replace(tzinfo=UTC)
    return int(moment.timestamp())


def _text(epoch: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=epoch)).strftime(MAGENTO_FORMAT)


def split_points(lower: str, upper: str, parts: int) -> list[str]:
    """Up to ``parts - 1`` whole seconds strictly between ``lower`` and ``upper``, ascending.

    The first point is after ``lower``'s second, so the slice that keeps ``lower`` still
    holds every row of that second after its cursor.
    """
    try:
        lo, hi = _epoch(lower), _epoch(upper)
    except ValueError:
        return []  # not Magento's format: do not cut
    if parts < 2 or hi - lo < 2:
        return []
    points: list[int] = []
    for j in range(1, parts):
        point = lo + math.ceil(j * (hi - lo) / parts)
        if lo < point < hi and (not points or point > points[-1]):
            points.append(point)
    return [_text(p) for p in points]


class SliceFetcher:
    """Runs the slices on ``workers`` threads and yields responses in order.

    ``fetch(request)`` sends one request (with retries) and returns the checked response;
    ``head(response)`` reads the page's keys and ``total_count``.
    """

    def __init__(
        self,
        *,
        fetch: Callable[[SliceRequest], requests.Response],
        head: Callable[[requests.Response], PageHead],
        start: str | None,
        page_size: int,
        workers: int,
        pages_per_slice: int = 4,
        min_pages_to_split: int = MIN_PAGES_TO_SPLIT,
    ) -> None:
        self._fetch = fetch
        self._head = head
        self._page_size = page_size
        self._workers = max(1, workers)
        self._pages_per_slice = max(1, pages_per_slice)
        self._min_pages_to_split = min_pages_to_split
        self._window = self._workers + 2
        self._max_buffered = self._pages_per_slice + 2
        self._max_buffered_total = 2 * self._workers
        self._buffered = 0
        self._head_slice = _Slice(lower=start, upper=None)
        self._first = True
        self._latest_second: str | None = None
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self.slices = 1  # how many slices the range ended up cut into
        self.requests = 0

    # -- consumer ----------------------------------------------------------------------------
    def responses(self) -> Iterator[requests.Response]:
        """Every page, in (updated_at, entity_id) order; raises what a worker raised."""
        threads = [
            threading.Thread(target=self._work, name=f"orders-fetch-{i}", daemon=True)
            for i in range(self._workers)
        ]
        for thread in threads:
            thread.start()
        try:
            current: _Slice | None = self._head_slice
            while current is not None:
                while True:
                    item = self._get(current)
                    if item is _DONE:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    self._taken()
                    yield item
                with self._lock:
                    current = current.next
                    self._head_slice = current  # type: ignore[assignment]
                    self._lock.notify_all()
        finally:
            self._stop.set()
            with self._lock:
                self._lock.notify_all()
            for thread in threads:
                thread.join(timeout=5)

    def _get(self, piece: _Slice) -> Any:
        while True:
            try:
                return piece.pages.get(timeout=0.5)
            except queue.Empty:
                if self._stop.is_set():
                    return _DONE

    # -- workers -----------------------------------------------------------------------------
    def _work(self) -> None:
        # A failure is handed to the consumer through its slice and raised there, in order,
        # so nothing after a gap is ever emitted; the worker goes on with other slices.
        while True:
            piece = self._claim()
            if piece is None:
                return
            try:
                self._run(piece)
            except BaseException as exc:
                piece.pages.put(exc)
            finally:
                piece.pages.put(_DONE)

    def _claim(self) -> _Slice | None:
        """The first unstarted slice within the window; None once the consumer is done."""
        with self._lock:
            while not self._stop.is_set():
                piece: _Slice | None = self._head_slice
                distance = 0
                while piece is not None and distance < self._window:
                    if not piece.started:
                        piece.started = True
                        return piece
                    piece, distance = piece.next, distance + 1
                self._lock.wait(0.5)
            return None

    def _run(self, piece: _Slice) -> None:
        cursor = piece.after
        while not self._stop.is_set():
            response = self._fetch(self._request_for(piece, cursor))
            page = self._head(response)
            first_of_run = self._note(response)
            if not page.keys:
                if page.total_count:
                    msg = (
                        f"Magento reported {page.total_count} more orders after "
                        f"{cursor or 'the start'} but returned an empty page; "
                        "stopping instead of guessing the end"
                    )
                    raise PagingError(msg)
                return
            last = check_key_order(page.keys, cursor)
            self._check_bounds(piece, page)
            self._put(piece, response)
            remaining = page.total_count - len(page.keys)
            if remaining <= 0:
                return
            cursor = last
            if first_of_run:
                # The fixed slices end at Magento's current second; the tail goes on.
                second = server_second(response)
                if remaining > self._page_size * self._min_pages_to_split and second > (
                    last.updated_at
                ):
                    tail = _Slice(lower=second, upper=None)
                    with self._lock:
                        piece.upper = second
                        tail.next, piece.next = piece.next, tail
                        self.slices += 1
                        self._lock.notify_all()
            if piece.upper is not None:
                self._split(piece, cursor, remaining)

    def _split(self, piece: _Slice, cursor: Cursor, remaining: int) -> None:
        assert piece.upper is not None
        pages = math.ceil(remaining / self._page_size)
        if pages <= self._pages_per_slice:
            return
        points = split_points(
            cursor.updated_at, piece.upper, math.ceil(pages / self._pages_per_slice)
        )
        if not points:
            return
        bounds = [*points, piece.upper]
        with self._lock:
            follower = piece.next
            new = [_Slice(lower=a, upper=b) for a, b in pairwise(bounds)]
            for left, right in zip(new, [*new[1:], follower], strict=True):
                left.next = right
            piece.upper = points[0]
            piece.next = new[0]
            self.slices += len(new)
            self._lock.notify_all()

    def _request_for(self, piece: _Slice, cursor: Cursor | None) -> SliceRequest:
        with self._lock:
            if self._first:
                self._first = False
                return SliceRequest(start=piece.lower, token=None)
            until = piece.upper if piece.upper is not None else self._latest_second
        if cursor is None:
            return SliceRequest(start=piece.lower, token=None, until=until)
        return SliceRequest(start=None, token=PageToken(after=cursor, until=until))

    def _note(self, response: requests.Response) -> bool:
        """Record Magento's second; True for the answer to the very first request."""
        second = server_second(response)
        with self._lock:
            self.requests += 1
            first = self._latest_second is None
            if first or second > (self._latest_second or ""):
                self._latest_second = second
            return first

    def _check_bounds(self, piece: _Slice, page: PageHead) -> None:
        low, high = page.keys[0].updated_at, page.keys[-1].updated_at
        if (piece.lower is not None and low < piece.lower) or (
            piece.upper is not None and high >= piece.upper
        ):
            msg = (
                f"Magento returned orders updated {low}..{high} for the range "
                f"[{piece.lower}, {piece.upper}); the filters were not applied, stopping so "
                "that no order is skipped or repeated"
            )
            raise PagingError(msg)

    def _put(self, piece: _Slice, response: requests.Response) -> None:
        """Buffer a page: at most ``max_buffered`` per slice and in all slices but the head.

        The slice being emitted may always add a page, so the consumer never waits for a
        worker that is waiting for buffer space.
        """
        with self._lock:
            while not self._stop.is_set():
                is_head = piece is self._head_slice
                if piece.pages.qsize() < self._max_buffered and (
                    is_head or self._buffered < self._max_buffered_total
                ):
                    piece.pages.put(response)
                    self._buffered += 1
                    return
                self._lock.wait(0.05)

    def _taken(self) -> None:
        with self._lock:
            self._buffered -= 1
            self._lock.notify_all()
