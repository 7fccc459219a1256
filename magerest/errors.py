"""Turn Magento's error answers into one readable sentence and a retry decision.

Magento sends the raw template (``"... %resources."`` or ``"... %1"``) with its
``parameters`` separately; the reader needs them filled in. A few answers deserve a hint
(the 2.4.4 bearer-token setting, a wrong store URL, an HTML page instead of JSON).
Pure functions over a finished response: no logging, no I/O. Shared by the tap streams,
``api.MagentoClient`` and the target's ship notifications.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
NO_ROUTE = "Request does not match any route."
BEARER_SETTING = (
    "Stores > Configuration > Services > OAuth > Consumer Settings > "
    "Allow OAuth Access Tokens to be used as standalone Bearer tokens"
)
RETRIABLE_STATUSES = frozenset({408, 425, 429})
#: Failures without a usable answer; worth another try for a GET.
TRANSPORT_ERRORS = (
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_PLACEHOLDER = re.compile(r"%(\w+)")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def fill_placeholders(template: str, parameters: Any) -> str:
    """Fill ``%name`` (parameters is an object) or ``%1`` (a list, 1-based) placeholders.

    Unknown placeholders stay as they are, so nothing Magento said is lost.
    """
    if isinstance(parameters, dict):
        lookup = {str(key): value for key, value in parameters.items()}
    elif isinstance(parameters, list):
        lookup = {str(index): value for index, value in enumerate(parameters, start=1)}
    else:
        return template

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        return _as_text(lookup[key]) if key in lookup else match.group(0)

    return _PLACEHOLDER.sub(replace, template)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(_as_text(item) for item in value)
    return json.dumps(value) if isinstance(value, dict) else str(value)


@dataclass(frozen=True)
class MagentoMessage:
    """Magento's own error: the readable text and what it was built from."""

    text: str
    template: str
    parameters: Any = None


def parse_error_body(body: str) -> MagentoMessage | None:
    """Read ``{"message", "parameters", "errors"}``; None when the body is not such JSON."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), str):
        return None
    template = payload["message"]
    parameters = payload.get("parameters")
    text = fill_placeholders(template, parameters)
    details = [
        fill_placeholders(item["message"], item.get("parameters"))
        for item in payload.get("errors") or []
        if isinstance(item, dict) and isinstance(item.get("message"), str)
    ]
    if details:
        text = "; ".join([text, *details])
    return MagentoMessage(text=text, template=template, parameters=parameters)


def looks_like_html(response: requests.Response) -> bool:
    """True when the answer is a web page (maintenance, firewall, login) rather than JSON."""
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type:
        return True
    head = response.content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body"))


def html_title(response: requests.Response) -> str | None:
    """The page's <title>, to tell the user which page came back."""
    match = _TITLE.search(response.text[:20000])
    if not match:
        return None
    title = " ".join(match.group(1).split())
    return title[:200] or None


def magento_at(response: requests.Response) -> str:
    """``Magento at https://shop.example.com``: which store answered (scheme and host only)."""
    parts = urlsplit(response.url or "")
    return f"Magento at {parts.scheme}://{parts.netloc}" if parts.netloc else "Magento"


def endpoint_of(response: requests.Response) -> str:
    """``GET /rest/V1/orders``: method and path, without the query string."""
    method = response.request.method if response.request is not None else "GET"
    return f"{method} {urlsplit(response.url).path}"


@dataclass(frozen=True)
class Failure:
    """A failed answer: what to tell the user and whether trying again can help."""

    message: str
    status: int
    endpoint: str
    retriable: bool
    magento_message: str | None = None
    parameters: Any = None
    template: str | None = None

    @property
    def not_authorized(self) -> bool:
        """Magento's ACL 401: a refused token or a missing resource."""
        return self.status == HTTPStatus.UNAUTHORIZED and self.template == NOT_AUTHORIZED


def classify(response: requests.Response, *, signed: bool = False) -> Failure | None:
    """Return the failure an answer represents, or None for a usable JSON answer.

    ``signed`` says whether the request was OAuth-signed (it changes the 401 advice).
    A 2xx answer counts as a failure only when it is an HTML page.
    """
    status = response.status_code
    endpoint = endpoint_of(response)
    if status < HTTPStatus.BAD_REQUEST:
        if looks_like_html(response):
            return Failure(
                message=_html_message(response, endpoint),
                status=status,
                endpoint=endpoint,
                retriable=False,
            )
        return None
    retriable = status in RETRIABLE_STATUSES or status >= HTTPStatus.INTERNAL_SERVER_ERROR
    if looks_like_html(response):
        return Failure(
            message=_html_message(response, endpoint),
            status=status,
            endpoint=endpoint,
            retriable=retriable,
        )
    magento = parse_error_body(response.text)
    said = magento.text if magento else _short_body(response)
    message = f"{magento_at(response)} answered {endpoint} with HTTP {status}: {said}"
    if status == HTTPStatus.UNAUTHORIZED and magento and magento.template == NOT_AUTHORIZED:
        message = _not_authorized_message(response, magento, signed=signed)
    elif status == HTTPStatus.UNAUTHORIZED:
        message += ". " + _credentials_advice(signed=signed)
    elif status == HTTPStatus.NOT_FOUND and magento and magento.template == NO_ROUTE:
        message += (
            ". The store URL (or store view code) looks wrong: store_url must be the store's "
            "base URL (REST lives at <store_url>/rest/V1/...); check it in a browser and "
            "check store_view_code against Stores > All Stores"
        )
    return Failure(
        message=message,
        status=status,
        endpoint=endpoint,
        retriable=retriable,
        magento_message=magento.text if magento else None,
        parameters=magento.parameters if magento else None,
        template=magento.template if magento else None,
    )


def _credentials_advice(*, signed: bool) -> str:
    """What to check when Magento refused the credentials themselves (not an ACL resource)."""
    if signed:
        return (
            "Magento refused the OAuth 1.0a credentials: copy consumer_key, consumer_secret, "
            "access_token and access_token_secret again from the integration (System > "
            "Extensions > Integrations > Edit > Integration Details) and check that it is "
            "active"
        )
    return (
        "Magento refused the access token: copy access_token again from the integration "
        "(System > Extensions > Integrations > Edit > Integration Details)"
    )


def _not_authorized_message(
    response: requests.Response, magento: MagentoMessage, *, signed: bool
) -> str:
    resources = ""
    if isinstance(magento.parameters, dict):
        resources = _as_text(magento.parameters.get("resources", ""))
    resource_text = resources or "the API resource of this endpoint"
    message = (
        f"{magento_at(response)} answered {endpoint_of(response)} with HTTP 401: {magento.text} "
        f"The {'OAuth credentials were' if signed else 'access token was'} refused, or its "
        f"integration lacks the ACL resource {resource_text} "
        f"(System > Extensions > Integrations > API)."
    )
    if signed:
        return message + (
            " Requests were signed with OAuth 1.0a: check consumer_key, consumer_secret, "
            "access_token and access_token_secret."
        )
    return message + (
        f" On Magento 2.4.4 and later an Integration access token is accepted as a Bearer "
        f"token only when {BEARER_SETTING} is set to Yes; alternatively set consumer_key, "
        f"consumer_secret and access_token_secret so requests are signed with OAuth 1.0a."
    )


def _html_message(response: requests.Response, endpoint: str) -> str:
    title = html_title(response)
    page = f" (page title: {title!r})" if title else ""
    if response.status_code == HTTPStatus.SERVICE_UNAVAILABLE:
        cause = "the store is probably in maintenance mode"
    elif response.status_code < HTTPStatus.BAD_REQUEST:
        cause = (
            "a firewall, a login or a CDN page answered instead of Magento's REST API; "
            "check store_url"
        )
    else:
        cause = "a proxy, firewall or error page answered instead of Magento's REST API"
    return (
        f"{magento_at(response)} answered {endpoint} with HTTP {response.status_code} and an "
        f"HTML page instead of JSON{page}: {cause}"
    )


def _short_body(response: requests.Response) -> str:
    text = " ".join(response.text.split())
    if not text:
        return response.reason or "no details"
    return text[:300] + ("..." if len(text) > 300 else "")


def describe_transport_error(exc: BaseException | None) -> str:
    """Name the kind of transport failure without echoing URLs (they carry the query)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return describe_tls_error(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out waiting for the answer"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut off before its end (connection closed or reset mid-body)"
    if isinstance(exc, ConnectionResetError):
        return "connection reset while reading the answer"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "could not connect (connection refused, reset or DNS failure)"
    return type(exc).__name__ if exc is not None else "unknown error"


_TLS_REASON = re.compile(r"certificate verify failed: ([^(\\'\")]+)", re.IGNORECASE)
TLS_ADVICE = (
    "set ca_bundle to the path of the PEM file of the certificate authority that signed "
    "the store's certificate (or fix the store's certificate)"
)


def is_tls_error(exc: BaseException | None) -> bool:
    """True for a failed TLS handshake (certificate refused): retrying cannot help."""
    return isinstance(exc, requests.exceptions.SSLError)


def describe_tls_error(exc: BaseException) -> str:
    """Say that the certificate was refused, why, and which setting fixes it."""
    match = _TLS_REASON.search(str(exc))
    if match:
        reason = match.group(1).strip().rstrip(".")
        return (
            f"TLS certificate verification failed ({reason}): the store's certificate is not "
            f"trusted; {TLS_ADVICE}"
        )
    return (
        "TLS handshake failed (the store's certificate could not be verified or the "
        f"connection is not TLS): {TLS_ADVICE}"
    )
