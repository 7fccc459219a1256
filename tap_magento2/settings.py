"""Tap settings: normalise the store URL and check settings before any request is sent.

Each problem is reported as a sentence that names the setting, so a user can fix the
config without reading code. Nothing here talks to Magento.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_STATUSES = ("processing",)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 300  # Magento's default "Maximum Page Size" (webapi/validation/maximum_page_size)
OAUTH_SETTINGS = ("consumer_key", "consumer_secret", "access_token_secret")

# "/rest", "/rest/V1", "/rest/<store code>", "/rest/<store code>/V1" at the end of a pasted URL.
_REST_SUFFIX = re.compile(r"/rest(?:/(?P<code>[^/]+))?(?:/V1)?$", re.IGNORECASE)


def normalize_store_url(url: str) -> str:
    """Return the store's base URL in one canonical form, e.g. ``https://shop.example.com``.

    Trailing slashes go, a pasted ``/rest`` or ``/rest/V1`` suffix is removed, and a base
    ending in ``/index.php`` is kept (REST then lives at ``<base>/rest/...``).

    Raises:
        ValueError: naming ``store_url`` when the URL cannot be used.
    """
    if not isinstance(url, str) or not url.strip():
        msg = "store_url is empty: set it to the store's base URL, e.g. https://shop.example.com"
        raise ValueError(msg)
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        msg = (
            f"store_url {text!r} needs a scheme and a host, "
            "e.g. https://shop.example.com (http:// or https://)"
        )
        raise ValueError(msg)
    if parts.query or parts.fragment:
        msg = f"store_url {text!r} must not contain a query string or fragment"
        raise ValueError(msg)
    path = parts.path.rstrip("/")
    suffix = _REST_SUFFIX.search(path)
    if suffix:
        code = suffix.group("code")
        if code and code.upper() != "V1":
            msg = (
                f"store_url {text!r} ends in a REST path with the store code {code!r}: "
                "set store_url to the store's base URL and the code in store_view_code"
            )
            raise ValueError(msg)
        path = path[: suffix.start()].rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, "", ""))


def parse_statuses(value: Any) -> list[str]:
    """Return the order statuses to import from a string (``"a"`` or ``"a,b"``) or a list.

    Magento splits an ``in`` filter value on commas, so a status can never contain one.

    Raises:
        ValueError: naming ``order_import_status`` when no usable status is given.
    """
    if value is None:
        return list(DEFAULT_STATUSES)
    if isinstance(value, str):
        raw = value.split(",")
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        raw = [piece for v in value for piece in v.split(",")]
    else:
        msg = "order_import_status must be a status code or a list of status codes"
        raise ValueError(msg)
    statuses: list[str] = []
    for status in (s.strip() for s in raw):
        if status and status not in statuses:
            statuses.append(status)
    if not statuses:
        msg = "order_import_status is empty: give at least one Magento status, e.g. processing"
        raise ValueError(msg)
    return statuses


def parse_start_date(value: str) -> datetime:
    """Parse ``start_date`` (ISO 8601; no offset means UTC) into an aware UTC datetime.

    Raises:
        ValueError: naming ``start_date``.
    """
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        msg = f"start_date {value!r} is not an ISO 8601 date-time, e.g. 2024-01-31T00:00:00Z"
        raise ValueError(msg) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def oauth_enabled(config: Mapping[str, Any]) -> bool:
    """True when all three OAuth 1.0a settings are set (requests are then signed)."""
    return all(config.get(name) for name in OAUTH_SETTINGS)


def validate_settings(config: Mapping[str, Any]) -> list[str]:
    """Return one readable message per invalid setting (empty list when all is well)."""
    errors: list[str] = []

    def check(func: Any, value: Any) -> None:
        try:
            func(value)
        except ValueError as exc:
            errors.append(str(exc))

    if "store_url" in config:
        check(normalize_store_url, config["store_url"])
    else:
        errors.append("store_url is required: the store's base URL, e.g. https://shop.example.com")
    token = config.get("access_token")
    if not isinstance(token, str) or not token.strip():
        errors.append(
            "access_token is required: the Integration access token "
            "(System > Extensions > Integrations in the Magento admin)"
        )
    check(parse_statuses, config.get("order_import_status"))
    if config.get("start_date") is not None:
        check(parse_start_date, config["start_date"])
    page_size = config.get("page_size", DEFAULT_PAGE_SIZE)
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not 1 <= page_size <= MAX_PAGE_SIZE
    ):
        errors.append(
            f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE} "
            f"(Magento's maximum page size), got {page_size!r}"
        )
    code = config.get("store_view_code")
    if code is not None and (not isinstance(code, str) or not code.strip()):
        errors.append("store_view_code must be a store view code such as 'default', or unset")
    for name in OAUTH_SETTINGS:
        if config.get(name) is not None and not isinstance(config[name], str):
            errors.append(f"{name} must be a string")
    present = [name for name in OAUTH_SETTINGS if config.get(name)]
    if present and len(present) != len(OAUTH_SETTINGS):
        missing = ", ".join(name for name in OAUTH_SETTINGS if name not in present)
        errors.append(
            f"OAuth 1.0a signing needs consumer_key, consumer_secret and access_token_secret "
            f"together: {missing} missing"
        )
    return errors
