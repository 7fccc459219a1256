"""A keyset list page that still answers HTTP 500 after the retries: read around its row.

One row with odd data fails every list page that holds it (see ``poison``). A
:class:`PageIsolation` belongs to one keyset stream and takes over that stream's failing
page: it checks that the failed request is the page the thread asked for, lets
:class:`~tap_magento2.keyset.poison.PoisonHunt` read the same window in smaller pages (a 500 is
then an answer, not retried), reads the row Magento cannot list by id, and answers with
a page built from the rows read. When that row cannot be read either, the built page
holds the rows before it and :class:`~tap_magento2.keyset.poison.PoisonOrderError` is raised
once they are emitted.

The stream keeps thin hooks: it reports each page it asks for (:meth:`note_page`), wraps
its request with :meth:`wrap`, and asks here how to treat an answer while the search runs.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from magerest.errors import classify, endpoint_of
from magerest.search import Filter, SearchPage, read_search_page, search_criteria_params
from tap_magento2.keyset.pagination import (
    Cursor,
    PageToken,
    cursor_of,
    keyset_filter_groups,
    keyset_sort,
    server_second,
)
from tap_magento2.keyset.poison import HuntResult, PoisonHunt, PoisonOrderError

#: Re-encodes decoded rows (money as Decimal) for a page built from several answers.
_PAGE_ENCODER = msgspec.json.Encoder(decimal_format="number")
_Spec = tuple[str | None, PageToken | None, str | None]  # start, token, until of a page
#: ``request(prepared, context)``: the stream's request with its retries.
Request = Callable[[requests.PreparedRequest, Any], Any]


class PageIsolation:
    """Replaces a keyset page that answers HTTP 500 with the rows around the one to blame.

    Built by the stream with what it needs of it: the one-row ``GET`` path, names for
    messages, the id key and column, and callables for the scope filters, page size,
    URLs, building a ``GET`` request and decoding a payload.
    """

    def __init__(
        self,
        *,
        get_path: str | None,
        noun: str,
        noun_one: str,
        id_key: str,
        id_field: str,
        scope: Callable[[], Sequence[Sequence[Filter]]],
        page_size: Callable[[], int],
        url_base: Callable[[], str],
        get_url: Callable[[Any], str],
        build_get: Callable[[str, dict[str, str] | None], requests.PreparedRequest],
        payload: Callable[[requests.Response], Any],
        logger: logging.Logger,
    ) -> None:
        self.get_path = get_path
        self.noun = noun
        self.noun_one = noun_one
        self.id_key = id_key
        self.id_field = id_field
        self.scope = scope
        self.page_size = page_size
        self.url_base = url_base
        self.get_url = get_url
        self.build_get = build_get
        self.payload = payload
        self.logger = logger
        #: False when rows go to batch files (``batch_config``): rows read since the last
        #: file are not sent when the sync stops, so the messages must not say they were.
        self.rows_sent_as_read = True
        self._page_spec = threading.local()  # what the thread's current page request asks
        self._probing = threading.local()  # set while searching for a row Magento cannot list
        self._page_failures: weakref.WeakKeyDictionary[requests.Response, Exception] = (
            weakref.WeakKeyDictionary()
        )

    # What the stream asks ------------------------------------------------------------------

    def note_page(self, start: str | None, token: PageToken | None, until: str | None) -> None:
        """Remember the page this thread asks for next (its searchCriteria's inputs)."""
        self._page_spec.value = (start, token, until)

    @property
    def probing(self) -> str | None:
        """``"list"`` or ``"get"`` while this thread searches, else None."""
        return getattr(self._probing, "mode", None)

    def takes_as_answer(self, response: requests.Response) -> bool:
        """Whether this answer is the search's to read as it is: a 500 while searching."""
        return bool(self.probing) and response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR

    def check_one(self, response: requests.Response) -> None:
        """Fail unless a ``GET`` of one row answered that row."""
        payload = self.payload(response) if response.content.strip() else None
        if not isinstance(payload, dict) or self.id_key not in payload:
            msg = f"Magento answered {endpoint_of(response)} without a {self.noun_one}"
            raise FatalAPIError(msg)

    def raise_pending(self, response: requests.Response) -> None:
        """Raise the error a built page holds, once its rows are emitted."""
        failure = self._page_failures.pop(response, None)
        if failure is not None:
            raise failure

    def window_params(
        self,
        *,
        start: str | None,
        cursor: Cursor | None,
        until: str | None,
        page_size: int,
        extra: Sequence[Sequence[Filter]] = (),
        sort: Sequence[tuple[str, str]] | None = None,
    ) -> dict[str, str]:
        """searchCriteria for a page of a window (after ``cursor``, else from ``start``,
        before ``until``), narrowed by ``extra`` groups and sorted by ``sort``.

        Without ``extra`` and ``sort`` these are the parameters of the normal page.
        """
        token = None if cursor is None else PageToken(after=cursor, until=until)
        groups = [list(group) for group in self.scope()]
        groups += keyset_filter_groups(None if token else start, token, self.id_field)
        if token is None and until is not None:
            groups.append([("updated_at", until, "lt")])
        groups += [list(group) for group in extra]
        return search_criteria_params(
            groups,
            sort=sort or keyset_sort(self.id_field),
            page_size=page_size,
            current_page=1,
        )

    # Taking over a failed page -------------------------------------------------------------

    def wrap(self, request: Request) -> Request:
        """``request``, except that a page it gives up on with a 500 is isolated."""

        def request_or_isolate(prepared: requests.PreparedRequest, context: Any) -> Any:
            spec: _Spec | None = getattr(self._page_spec, "value", None)
            try:
                return request(prepared, context)
            except FatalAPIError as exc:
                failed = _answered_500(exc)
                if failed is None or spec is None or self.probing:
                    raise
                start, token, until = spec
                if token is not None:
                    start, until = None, token.until
                expected = self.window_params(
                    start=start,
                    cursor=token.after if token else None,
                    until=until,
                    page_size=self.page_size(),
                )
                if sorted(parse_qsl(urlsplit(prepared.url).query)) != sorted(expected.items()):
                    raise  # not the page this thread asked for last: do not guess
                return self._isolate(request, prepared, context, failed, exc, token, start, until)

        return request_or_isolate

    def _probe(
        self,
        mode: str,
        request: Request,
        prepared: requests.PreparedRequest,
        context: Any,
    ) -> requests.Response:
        """Send with the usual retries, except that a 500 is returned, not retried."""
        self._probing.mode = mode
        try:
            return request(prepared, context)  # type: ignore[no-any-return]
        finally:
            self._probing.mode = None

    def _isolate(
        self,
        request: Request,
        prepared: requests.PreparedRequest,
        context: Any,
        failed: requests.Response,
        error: FatalAPIError,
        token: PageToken | None,
        start: str | None,
        until: str | None,
    ) -> requests.Response:
        """Replace a page that answers 500: read around the row Magento cannot list."""
        assert self.get_path is not None
        imposed = until is None  # the window gets a bound so the search reads a fixed set
        bound = until if until is not None else server_second(failed)
        list_endpoint = endpoint_of(failed)
        url = prepared.url.split("?", 1)[0] if prepared.url else self.get_url(context)
        self.logger.warning(
            "%s; reading that page in smaller pages to find the %s Magento cannot list "
            "(a single %s with odd data fails every list page that holds it)",
            error,
            self.noun_one,
            self.noun_one,
        )

        def page(
            cursor: Cursor | None,
            size: int,
            extra: Sequence[Sequence[Filter]],
            sort: Sequence[tuple[str, str]] | None,
        ) -> tuple[requests.Response, SearchPage | None]:
            params = self.window_params(
                start=start, cursor=cursor, until=bound, page_size=size, extra=extra, sort=sort
            )
            response = self._probe("list", request, self.build_get(url, params), context)
            if response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR:
                return response, None
            return response, read_search_page(self.payload(response))

        failure: list[str] = []

        def get_one(entity_id: int) -> tuple[requests.Response | None, Any]:
            assert self.get_path is not None
            one = self.build_get(self.url_base() + self.get_path.format(id=entity_id), None)
            try:
                response = self._probe("get", request, one, context)
            except FatalAPIError as exc:
                failure.append(str(exc))
                return None, None
            if response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR:
                answer = classify(response)
                failure.append(answer.message if answer else f"HTTP {response.status_code}")
                return response, None
            return response, self.payload(response)

        hunt = PoisonHunt(
            page=page,
            get_one=get_one,
            page_size=self.page_size(),
            after=token.after if token else None,
            start=start,
            until=bound,
            id_key=self.id_key,
            id_field=self.id_field,
        )
        result = hunt.run()
        if result is None:
            self.logger.warning(
                "Magento answers HTTP 500 even for a %s page that selects no %s: the list "
                "endpoint fails as a whole, not on one %s",
                self.noun,
                self.noun_one,
                self.noun_one,
            )
            raise error
        last = result.last_response or failed
        self.logger.info("Searched the failing %s page with %d requests", self.noun, hunt.requests)
        if result.bad_id is not None and not result.recovered:
            problem = self._unreadable(result, hunt.after, list_endpoint, failure)
            if not result.items:
                raise problem
            return self._page_response(result.items, len(result.items), last, problem)
        if result.recovered:
            self._warn_recovered(result.items[-1], list_endpoint)
        elif not result.items:
            raise error  # the failure went away and nothing is left to read
        remaining = 1 if result.remaining is None else result.remaining
        total = len(result.items) + remaining + (1 if imposed else 0)
        return self._page_response(result.items, total, last)

    def _warn_recovered(self, row: dict[str, Any], list_endpoint: str) -> None:
        assert self.get_path is not None
        entity_id = row.get(self.id_key)
        increment = row.get("increment_id")
        named = f" (increment_id {increment})" if increment is not None else ""
        self.logger.warning(
            "Magento's list endpoint %s fails with HTTP 500 on %s entity_id %s%s: read it "
            "with GET %s instead and emitted it in its place. Fix this %s in Magento (usually "
            "odd payment or address data); until then every sync searches for it again",
            list_endpoint,
            self.noun_one,
            entity_id,
            named,
            "/rest" + self.get_path.format(id=entity_id),
            self.noun_one,
        )

    def _unreadable(
        self,
        result: HuntResult,
        after: Cursor | None,
        list_endpoint: str,
        failure: list[str],
    ) -> PoisonOrderError:
        assert self.get_path is not None
        assert result.bad_id is not None
        last = cursor_of(result.items[-1], self.id_key) if result.items else after
        where = (
            f"the bookmark is at updated_at {last.updated_at}, entity_id {last.entity_id}"
            if last is not None
            else "the bookmark is unchanged"
        )
        said = failure[-1] if failure else "no usable answer"
        path = "/rest" + self.get_path.format(id=result.bad_id)
        synced = (
            f"Every {self.noun_one} before it was synced ({where})"
            if self.rows_sent_as_read
            else (
                f"The {self.noun} before it in batch files already sent were synced; the "
                "bookmark stays at the last of those files, and the next run reads the others "
                "again"
            )
        )
        msg = (
            f"Magento cannot return {self.noun_one} entity_id {result.bad_id}: every page of "
            f"{list_endpoint} that holds it answers HTTP 500, and GET {path} failed too: "
            f"{said}. {synced}; the sync stops "
            f"here so that this {self.noun_one} is not skipped. Fix {self.noun_one} "
            f"{result.bad_id} in Magento (usually odd payment or address data; the report "
            f"id above points to the details in Magento's var/log/exception.log), then run "
            f"the sync again"
        )
        return PoisonOrderError(msg, result.bad_id)

    def _page_response(
        self,
        items: list[dict[str, Any]],
        total: int,
        like: requests.Response,
        failure: Exception | None = None,
    ) -> requests.Response:
        """A page built from the rows the search read, answered "like" Magento's last one.

        Its ``Date`` is that answer's, so the next page stays before a second Magento
        reported; ``failure`` is raised once its rows are emitted.
        """
        response = requests.Response()
        response.status_code = HTTPStatus.OK
        response.reason = "OK"
        response._content = _PAGE_ENCODER.encode({"items": items, "total_count": total})
        response.encoding = "utf-8"
        response.headers["Content-Type"] = "application/json; charset=utf-8"
        if like.headers.get("Date"):
            response.headers["Date"] = like.headers["Date"]
        response.url = like.url
        response.request = like.request
        if failure is not None:
            self._page_failures[response] = failure
        return response


def _answered_500(error: FatalAPIError) -> requests.Response | None:
    """The HTTP 500 answer a request gave up on, if that is why it failed."""
    cause = error.__cause__
    response = getattr(cause, "response", None)
    if (
        isinstance(cause, RetriableAPIError)
        and isinstance(response, requests.Response)
        and response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    ):
        return response
    return None
