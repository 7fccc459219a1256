"""Convert between Magento's UTC timestamps and RFC 3339.

Magento stores ``created_at``/``updated_at`` as UTC and prints them as
``YYYY-MM-DD HH:MM:SS`` without a zone; its filters compare in the same form. Records leave
the tap as ``YYYY-MM-DDTHH:MM:SS+00:00`` so no consumer has to guess the zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

MAGENTO_FORMAT = "%Y-%m-%d %H:%M:%S"
_MAGENTO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_MAGENTO_LENGTH = len("2024-01-31 23:59:59")


def is_timestamp_key(key: str) -> bool:
    """Magento names its timestamp fields ``*_at`` (created_at, updated_at, ...)."""
    return key.endswith("_at")


def magento_to_rfc3339(value: str) -> str | None:
    """``"2024-01-31 23:59:59"`` -> ``"2024-01-31T23:59:59+00:00"``.

    MySQL's zero date (``0000-00-00 00:00:00``) means "not set" and becomes None.
    """
    try:
        if len(value) == _MAGENTO_LENGTH and value.isascii() and _MAGENTO_TIMESTAMP.match(value):
            # Exactly Magento's form: read in C, ~10x faster than strptime, same result.
            moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
        else:
            moment = datetime.strptime(value, MAGENTO_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.isoformat()


def to_magento(moment: datetime) -> str:
    """An aware datetime as a Magento filter value (UTC, whole seconds rounded down)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(MAGENTO_FORMAT)


def convert_timestamps(value: Any) -> Any:
    """Return ``value`` with every Magento timestamp under a ``*_at`` key in RFC 3339.

    Walks nested objects and lists (items, addresses, status histories, extension
    attributes). Values that are not in Magento's format are left untouched.
    """
    if isinstance(value, dict):
        return {
            key: (
                magento_to_rfc3339(item)
                if is_timestamp_key(key)
                and isinstance(item, str)
                and _MAGENTO_TIMESTAMP.match(item)
                else convert_timestamps(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [convert_timestamps(item) for item in value]
    return value
