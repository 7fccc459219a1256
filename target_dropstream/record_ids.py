"""The order id a rejected record names, as the tap sent it.

A record can be rejected before it is read as an order (it fails the stream's schema, e.g.
``"entity_id": "123"`` under an integer schema); its rejection and log line must still say
which order it is, and never "without id" while the id is there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_dropstream.models import MAX_ID, is_digit_string

ORDER_ID_FIELD = "entity_id"


def rejected_order_id(record: Any) -> int | None:
    """The order id to store with a rejection: an integer id, or a digit string's value."""
    value = record.get(ORDER_ID_FIELD) if isinstance(record, Mapping) else None
    if isinstance(value, str) and is_digit_string(value):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        return None
    return value


def order_id_as_given(record: Any) -> str:
    """How a log line names the record's order: ``123``, ``'123'`` for a string, or
    ``without entity_id``."""
    value = record.get(ORDER_ID_FIELD) if isinstance(record, Mapping) else None
    if value is None:
        return f"without {ORDER_ID_FIELD}"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return repr(value)[:80]
