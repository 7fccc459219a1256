"""Magento2Stream: the HTTP policy every tap stream shares.

URL (``<store_url>/rest`` + ``/V1/...``), authentication, JSON decoding, turning Magento's
failures into the SDK's fatal/retriable errors with readable messages, and retrying
429/5xx/timeouts/connection resets with exponential backoff that honours Retry-After.
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from functools import cached_property
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import backoff
import requests
from singer_sdk import RESTStream, SchemaDirectory, StreamSchema
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.jsonpath import extract_jsonpath

from magerest.auth import auth_from_config, is_signed, new_session
from magerest.bearer_scope import scope_note
from magerest.connection import normalize_store_url
from magerest.errors import (
    TRANSPORT_ERRORS,
    classify,
    describe_tls_error,
    describe_transport_error,
    endpoint_of,
    is_tls_error,
    magento_at,
)
from magerest.retry import RetryPolicy
from magerest.search import decode_json
from tap_magento2 import schemas
from tap_magento2.batch_files import write_jsonl_batches
from tap_magento2.failures import (
    SDK_STREAM_FAILED,
    AccessDeniedError,
    CredentialsError,
    handling_expected_failure,
)

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Generator

    from backoff.types import Details
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

SCHEMAS_DIR = SchemaDirectory(schemas)


class TransientAnswerError(ValueError):
    """The answer is self-contradictory in a way a second try may fix."""


__all__ = ["AccessDeniedError", "CredentialsError", "Magento2Stream", "TransientAnswerError"]


def _acl_resource(parameters: Any) -> str | None:
    if isinstance(parameters, dict) and parameters.get("resources"):
        return str(parameters["resources"])
    return None


class Magento2Stream(RESTStream[Any]):
    """Base class for Magento 2 REST streams."""

    schema: ClassVar[StreamSchema] = StreamSchema(SCHEMAS_DIR)
    records_jsonpath = "$[*]"

    #: Attempts and waits for 429, 5xx, timeouts and connection resets.
    retry_policy: ClassVar[RetryPolicy] = RetryPolicy()
    #: Seconds to wait for Magento's answer (getList of large pages can be slow).
    request_timeout_seconds: ClassVar[float] = 120.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._payloads: weakref.WeakKeyDictionary[requests.Response, Any] = (
            weakref.WeakKeyDictionary()
        )
        self._sessions = threading.local()

    @override
    @property
    def requests_session(self) -> requests.Session:
        """One session (and connection pool) per thread: requests run on fetch threads too."""
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = new_session(self.config)
        return session

    @override
    @property
    def url_base(self) -> str:
        return normalize_store_url(self.config["store_url"]) + "/rest"

    @override
    @cached_property
    def authenticator(self) -> requests.auth.AuthBase:
        return auth_from_config(self.config)

    @override
    @property
    def http_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    @override
    @property
    def timeout(self) -> float:  # type: ignore[override]
        return self.request_timeout_seconds

    # Answers

    def payload(self, response: requests.Response) -> Any:
        """The decoded JSON body, decoded once per response."""
        if response not in self._payloads:
            self._payloads[response] = decode_json(response)
        return self._payloads[response]

    def check_payload(self, payload: Any) -> None:
        """Raise ValueError when the JSON is not shaped as this endpoint answers.

        Raise TransientAnswerError when it is shaped right but contradicts itself.
        """

    @override
    def validate_response(self, response: requests.Response) -> None:
        self.raise_for_failure(response)
        self.check_answer(response)

    def raise_for_failure(self, response: requests.Response) -> None:
        """Raise the SDK's retriable/fatal error for Magento's failure answers.

        A 401 that is not the ACL refusal is Magento refusing the credentials (OAuth
        signature, consumer key or token): ``CredentialsError``, which stops the run.
        """
        signed = is_signed(self.authenticator)
        failure = classify(response, signed=signed)
        if failure is None:
            return
        if failure.retriable:
            raise RetriableAPIError(failure.message, response)
        message = failure.message
        if failure.not_authorized and not signed:
            message += self._bearer_scope_note(response)
        if failure.status == HTTPStatus.UNAUTHORIZED and not failure.not_authorized:
            raise CredentialsError(message)
        resource = _acl_resource(failure.parameters) if failure.status == 401 else None
        if resource is not None:
            raise AccessDeniedError(message, resource)
        raise FatalAPIError(message)

    def get_json(self, path: str, params: dict[str, str]) -> Any:
        """One ``GET <path>`` beside the stream's pages (a count, a probe), decoded.

        Retried and refused like a page; only the page checks are left out.
        """
        prepared = self.build_prepared_request(
            method="GET", url=self.url_base + path, params=params, headers=self.http_headers
        )

        def send(request: requests.PreparedRequest, context: Any) -> requests.Response:
            response = self.requests_session.send(self.authenticator(request), timeout=self.timeout)
            self.raise_for_failure(response)
            return response

        response = self.retrying(send)(prepared, None)
        try:
            return self.payload(response)
        except ValueError:
            msg = f"{magento_at(response)} answered {endpoint_of(response)} with a non-JSON body"
            raise FatalAPIError(msg) from None

    def _bearer_scope_note(self, response: requests.Response) -> str:
        """Why ``/rest/V1`` refused a token ``/rest/<store_view_code>/V1`` accepts, if so."""
        code = (self.config.get("store_view_code") or "").strip() or None
        note = scope_note(self.requests_session, response.request, code, timeout=self.timeout)
        return note or ""

    def check_answer(self, response: requests.Response) -> None:
        """Raise the SDK's retriable/fatal error when a 2xx body is unusable."""
        endpoint = f"{magento_at(response)} answered {endpoint_of(response)}"
        try:
            payload = self.payload(response)
        except ValueError:
            # A body cut off in transit is worth another try; it is never "no orders".
            msg = (
                f"{endpoint} with HTTP {response.status_code} but the JSON "
                f"body is cut off or invalid ({len(response.content)} bytes)"
            )
            raise RetriableAPIError(msg, response) from None
        try:
            self.check_payload(payload)
        except TransientAnswerError as exc:
            msg = f"{endpoint} inconsistently: {exc}"
            raise RetriableAPIError(msg, response) from None
        except ValueError as exc:
            msg = f"{endpoint} with unexpected JSON: {exc}"
            raise FatalAPIError(msg) from None

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        yield from extract_jsonpath(self.records_jsonpath, input=self.payload(response))

    # Retries

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        return self.retry_policy.wait_generator()

    @override
    def backoff_max_tries(self) -> int:
        return self.retry_policy.max_tries

    @override
    def backoff_jitter(self, value: float) -> float:
        return value  # RetryPolicy already jitters and must not undercut Retry-After

    @override
    def backoff_handler(self, details: Details) -> None:
        exc = details.get("exception")
        args = details.get("args") or ()
        prepared = args[0] if args and isinstance(args[0], requests.PreparedRequest) else None
        what = f"{prepared.method} {_store_of(prepared)}{_path_of(prepared)}" if prepared else ""
        self.logger.warning(
            "Retrying in %.1f s: %s, attempt %d of %d failed: %s",
            details.get("wait") or 0.0,
            what or "the request",
            details.get("tries") or 0,
            self.retry_policy.max_tries,
            exc if isinstance(exc, RetriableAPIError) else describe_transport_error(exc),
        )

    @override
    def request_decorator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return self.retrying(func)

    def retrying(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func(prepared, context)`` retried per ``retry_policy``; what it gives up on
        becomes a ``FatalAPIError`` naming the store, the endpoint and the attempts."""

        def refuse_untrusted_store(prepared: requests.PreparedRequest, context: Any) -> Any:
            # A refused certificate cannot get better by waiting: fail before the retries.
            try:
                return func(prepared, context)
            except requests.exceptions.SSLError as exc:
                if not is_tls_error(exc):
                    raise
                msg = f"{prepared.method} {_path_of(prepared)}: {describe_tls_error(exc)}"
                raise FatalAPIError(msg) from exc

        # backoff's own log lines name the wrapped function; backoff_handler says it in words.
        retried = backoff.on_exception(
            self.backoff_wait_generator,
            (RetriableAPIError, *TRANSPORT_ERRORS),
            max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
            logger=None,
        )(refuse_untrusted_store)
        tries = self.retry_policy.max_tries

        def request_or_fail(prepared: requests.PreparedRequest, context: Any) -> Any:
            endpoint = f"{prepared.method} {_path_of(prepared)}"
            try:
                return retried(prepared, context)
            except RetriableAPIError as exc:
                msg = f"{exc} (gave up after {tries} attempts)"
                raise FatalAPIError(msg) from exc
            except TRANSPORT_ERRORS as exc:
                msg = (
                    f"No usable answer from Magento at {_store_of(prepared)} for {endpoint} "
                    f"after {tries} attempts: {describe_transport_error(exc)}. Check that "
                    "store_url is right and that this machine can reach the store"
                )
                raise FatalAPIError(msg) from exc

        return request_or_fail

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """JSON Lines files written as RECORD lines are (``batch_files``); others by the SDK."""
        if batch_config.encoding.format != "jsonl":
            yield from super().get_batches(batch_config, context)
            return
        # Private SDK method, the one its own get_batches reads records from
        # (tests/tap/test_batch_files.py fails if it goes).
        records = self._sync_records(context, write_messages=False)
        for manifest in write_jsonl_batches(
            records, batch_config, tap_name=self.tap_name, stream_name=self.name
        ):
            yield batch_config.encoding, manifest

    @override
    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        if message == SDK_STREAM_FAILED and handling_expected_failure():
            level = logging.DEBUG  # the run's final error line says what failed and why
        super().log(message, *args, level=level, **kwargs)


def _store_of(prepared: requests.PreparedRequest) -> str:
    parts = urlsplit(prepared.url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def _path_of(prepared: requests.PreparedRequest) -> str:
    return (prepared.path_url or "").split("?", 1)[0]
