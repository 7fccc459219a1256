"""Tap settings: normalise the store URL and check settings before any request is sent.

Each problem is reported as a sentence that names the setting, so a user can fix the
config without reading code. Nothing here talks to Magento.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from magerest.connection import (
    ALLOW_INSECURE_HTTP,
    CA_BUNDLE,
    OAUTH_SETTINGS,
    check_transport,
    normalize_store_url,
    parse_ca_bundle,
    parse_flag,
    parse_statuses,
    status_list,
)

#: Every status an imported order can move to that stops its fulfillment (on hold, payment
#: review, suspected fraud, canceled, closed = refunded, complete = shipped elsewhere).
#: ``order_follow_status`` streams them by default so a fulfillment target can stop the order.
STOPPING_STATUSES = ("holded", "payment_review", "fraud", "canceled", "closed", "complete")
#: Seconds before the bookmark that each incremental run reads again (see parse_lookback).
DEFAULT_LOOKBACK_SECONDS = 60
MAX_LOOKBACK_SECONDS = 86_400
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 300  # Magento's default "Maximum Page Size" (webapi/validation/maximum_page_size)

# "/rest", "/rest/V1", "/rest/<store code>", "/rest/<store code>/V1" at the end of a pasted URL.


def parse_follow_statuses(value: Any) -> list[str]:
    """``order_follow_status``: statuses streamed besides the import statuses.

    Unset follows every status that stops fulfillment (``STOPPING_STATUSES``), so a plain
    ``tap-magento2 | target-dropstream`` stops an order Magento holds or cancels after
    import; an explicit empty list (``[]`` or ``""``) follows none.
    """
    if value is None:
        return list(STOPPING_STATUSES)
    return status_list(value, "order_follow_status")


def parse_lookback(value: Any) -> int:
    """``lookback_seconds``: how far before the bookmark an incremental run starts reading.

    Magento stamps ``updated_at`` when an order is saved, but other connections see the
    order only once its transaction commits, which a slow payment step can delay by
    seconds. A sync that ran in between moved its bookmark past that second; reading the
    last minute again on the next run picks such an order up (targets upsert by key, and
    target-dropstream re-applies a version it already has without change).

    Raises:
        ValueError: naming ``lookback_seconds``.
    """
    if value is None:
        return DEFAULT_LOOKBACK_SECONDS
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            value = -1
    if not 0 <= value <= MAX_LOOKBACK_SECONDS:
        msg = f"lookback_seconds must be a whole number from 0 to {MAX_LOOKBACK_SECONDS}"
        raise ValueError(msg)
    return value


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

    insecure_ok = False
    try:
        insecure_ok = parse_flag(config.get(ALLOW_INSECURE_HTTP), ALLOW_INSECURE_HTTP)
    except ValueError as exc:
        errors.append(str(exc))
    check(parse_ca_bundle, config.get(CA_BUNDLE))
    check(lambda value: parse_flag(value, "strict_mode"), config.get("strict_mode"))
    if "store_url" in config:
        try:
            check_transport(
                normalize_store_url(config["store_url"]), allow_insecure_http=insecure_ok
            )
        except ValueError as exc:
            errors.append(str(exc))
    else:
        errors.append("store_url is required: the store's base URL, e.g. https://shop.example.com")
    token = config.get("access_token")
    if not isinstance(token, str) or not token.strip():
        errors.append(
            "access_token is required: the Integration access token "
            "(System > Extensions > Integrations in the Magento admin)"
        )
    check(parse_statuses, config.get("order_import_status"))
    check(parse_follow_statuses, config.get("order_follow_status"))
    check(parse_lookback, config.get("lookback_seconds"))
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
