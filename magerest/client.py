"""MagentoClient: a plain ``requests`` client for callers outside the tap's streams.

The target's ship notifications and tools need single GETs, searches and POSTs with the
same URL rules, authentication, error messages and retry policy as the tap. GETs are
retried (429, 5xx, timeouts, connection resets); POSTs are not, because Magento's write
endpoints are not idempotent: the caller decides what a lost answer means.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from magerest.auth import build_auth, is_signed, new_session
from magerest.bearer_scope import scope_note
from magerest.connection import check_transport, normalize_store_url
from magerest.errors import (
    TRANSPORT_ERRORS,
    classify,
    describe_transport_error,
    endpoint_of,
    is_tls_error,
)
from magerest.retry import RetryPolicy
from magerest.search import Filter, decode_json, read_search_page, search_criteria_params


class MagentoAPIError(Exception):
    """A Magento call failed; ``str()`` is a readable sentence and never holds a secret.

    ``status`` is None when no answer arrived (timeout, connection reset): the request
    may or may not have been applied.
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        endpoint: str | None = None,
        magento_message: str | None = None,
        parameters: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.endpoint = endpoint
        self.magento_message = magento_message
        self.parameters = parameters

    def __str__(self) -> str:
        return self.message


class MagentoTransportError(MagentoAPIError):
    """No usable answer arrived (timeout, reset, cut-off body); the outcome is unknown."""


class MagentoClient:
    """Call Magento's REST API: ``<store_url>/rest[/<store_view_code>]/V1/...``."""

    def __init__(
        self,
        store_url: str,
        access_token: str,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        access_token_secret: str | None = None,
        store_view_code: str | None = None,
        timeout: float = 30,
        max_tries: int | None = None,
        *,
        ca_bundle: str | None = None,
        allow_insecure_http: bool = False,
        session: requests.Session | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Check the URL and transport rules; no request is sent here.

        Raises:
            ValueError: naming ``store_url``, ``ca_bundle`` or ``allow_insecure_http``
                (plain http:// is refused unless loopback or explicitly allowed).
        """
        self.store_url = normalize_store_url(store_url)
        check_transport(self.store_url, allow_insecure_http=allow_insecure_http)
        self.store_view_code = store_view_code or None
        self.timeout = timeout
        if retry_policy is None:
            retry_policy = RetryPolicy() if max_tries is None else RetryPolicy(max_tries=max_tries)
        self.retry_policy = retry_policy
        self._auth = build_auth(
            access_token,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token_secret=access_token_secret,
        )
        self._session = session or new_session({"ca_bundle": ca_bundle})
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Any, store_view_code: str | None = None) -> MagentoClient:
        """A client from any settings object with the tap's attribute names.

        The one way the target and the ``dropstream`` CLI build a client: their
        ``TargetSettings`` carries ``store_url``, ``access_token``, the OAuth settings,
        ``ca_bundle`` and ``allow_insecure_http``.

        Raises:
            ValueError: naming ``store_url`` and ``access_token`` when either is unset.
        """
        if not (settings.store_url and settings.access_token):
            msg = "store_url and access_token are both needed to call Magento"
            raise ValueError(msg)
        return cls(
            settings.store_url,
            settings.access_token,
            consumer_key=getattr(settings, "consumer_key", None),
            consumer_secret=getattr(settings, "consumer_secret", None),
            access_token_secret=getattr(settings, "access_token_secret", None),
            store_view_code=store_view_code,
            ca_bundle=getattr(settings, "ca_bundle", None),
            allow_insecure_http=bool(getattr(settings, "allow_insecure_http", False)),
        )

    def __repr__(self) -> str:
        return f"MagentoClient({self.store_url!r}, store_view_code={self.store_view_code!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> MagentoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        """Full URL of a REST path such as ``/V1/orders``."""
        scope = f"/{self.store_view_code}" if self.store_view_code else ""
        return f"{self.store_url}/rest{scope}/{path.lstrip('/')}"

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET and decode JSON, retrying transient failures."""
        return self._call("GET", path, params=params, retry=True)

    def post(self, path: str, json_body: Any) -> Any:
        """POST JSON once (never retried automatically) and decode the answer."""
        return self._call("POST", path, json_body=json_body, retry=False)

    def search(
        self,
        path: str,
        filter_groups: Sequence[Sequence[Filter]] = (),
        sort: Sequence[tuple[str, str]] = (),
        page_size: int = 100,
        fields: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of a searchCriteria endpoint, page by page.

        Stops when ``total_count`` items were read (Magento 2.3 repeats the last page
        past the end and 2.4 returns an empty one, so neither is taken as the end).
        """
        seen = 0
        page_number = 1
        previous_first: Any = None
        while True:
            params: dict[str, Any] = search_criteria_params(
                filter_groups, sort=sort, page_size=page_size, current_page=page_number
            )
            if fields:
                params["fields"] = fields if "total_count" in fields else f"{fields},total_count"
            payload = self.get(path, params)
            try:
                page = read_search_page(payload)
            except ValueError as exc:
                msg = f"Magento answered GET {path} with unexpected JSON: {exc}"
                raise MagentoAPIError(msg, 200, f"GET {path}") from None
            if not page.items:
                if seen < page.total_count:
                    msg = (
                        f"Magento answered GET {path} page {page_number} with no items "
                        f"although {page.total_count - seen} more were announced"
                    )
                    raise MagentoAPIError(msg, 200, f"GET {path}")
                return
            if page_number > 1 and page.items[0] == previous_first:
                return  # a repeated last page: the end on Magento 2.3
            previous_first = page.items[0]
            yield from page.items
            seen += len(page.items)
            if seen >= page.total_count:
                return
            page_number += 1

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        retry: bool,
    ) -> Any:
        url = self.url(path)
        endpoint = f"{method} {urlsplit(url).path}"
        tries = self.retry_policy.max_tries if retry else 1
        attempt = 0
        while True:
            attempt += 1
            response: requests.Response | None = None
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers={"Accept": "application/json"},
                    auth=self._auth,
                    timeout=self.timeout,
                    # Explicit, so REQUESTS_CA_BUNDLE in the environment cannot replace
                    # the configured ca_bundle.
                    verify=self._session.verify,
                )
                return self._decode(response)
            except TRANSPORT_ERRORS as exc:
                error: MagentoAPIError = MagentoTransportError(
                    f"No usable answer from Magento for {endpoint}: "
                    f"{describe_transport_error(exc)}",
                    None,
                    endpoint,
                )
                # A refused certificate is refused again: fail at once, and the request
                # never reached Magento, so even a POST is known not to be applied.
                retriable = not is_tls_error(exc)
                if not retriable:
                    error = MagentoAPIError(error.message, None, endpoint)
            except _Retriable as exc:
                error, retriable = exc.error, True
            if not retriable or attempt >= tries:
                if attempt > 1:
                    error.message = f"{error.message} (gave up after {attempt} attempts)"
                raise error
            self._sleep(self.retry_policy.wait(attempt, response))

    def _decode(self, response: requests.Response) -> Any:
        signed = is_signed(self._auth)
        failure = classify(response, signed=signed)
        if failure is not None:
            message = failure.message
            if failure.not_authorized and not signed and response.request is not None:
                note = scope_note(
                    self._session, response.request, self.store_view_code, timeout=self.timeout
                )
                message += note or ""
            error = MagentoAPIError(
                message,
                failure.status,
                failure.endpoint,
                failure.magento_message,
                failure.parameters,
            )
            if failure.retriable:
                raise _Retriable(error)
            raise error
        if not response.content.strip():
            return None
        try:
            return decode_json(response)
        except ValueError:
            endpoint = endpoint_of(response)
            msg = (
                f"Magento answered {endpoint} with HTTP {response.status_code} "
                "but the JSON body is cut off or invalid"
            )
            raise _Retriable(MagentoTransportError(msg, response.status_code, endpoint)) from None


class _Retriable(Exception):  # noqa: N818 - internal signal, carries the public error
    def __init__(self, error: MagentoAPIError) -> None:
        super().__init__(error.message)
        self.error = error
