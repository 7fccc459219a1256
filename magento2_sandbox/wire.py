"""Response bodies, with orders encoded once and reused.

A page of 100 orders is ~1.5 MB of JSON. Encoding it on every request made the sandbox spend
more CPU per page than the client reading it, and on a 2-core machine that CPU is taken from
the client being measured. Orders are copy-on-write (an edit stores a new object), so an
order's encoding stays valid for as long as that object is the order: ``EncodedOrders``
keeps each order's bytes beside the object they were made from. The body is byte for byte
what ``json.dumps`` of the whole answer gives (tests/sandbox check this).
"""

from __future__ import annotations

import json
import threading
from typing import Any

#: Upper bound on the bytes kept (100,000 sandbox orders take about 1.5 GB).
DEFAULT_BUDGET_BYTES = 2 * 1024**3


class Encoded(bytes):
    """One value already encoded as JSON (``json.dumps`` default separators)."""


class EncodedOrders:
    """``position -> (order object, its JSON)``; an entry is used only for that same object."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._entries: dict[int, tuple[object, Encoded]] = {}
        self._lock = threading.Lock()
        self._bytes = 0
        self._budget = budget_bytes

    def get(self, position: int, source: object) -> Encoded | None:
        entry = self._entries.get(position)
        return entry[1] if entry is not None and entry[0] is source else None

    def put(self, position: int, source: object, order: dict[str, Any]) -> Encoded:
        encoded = Encoded(json.dumps(order).encode())
        with self._lock:
            old = self._entries.get(position)
            if old is not None:
                self._bytes -= len(old[1])
            if self._bytes + len(encoded) <= self._budget:
                self._entries[position] = (source, encoded)
                self._bytes += len(encoded)
            elif old is not None:
                del self._entries[position]
        return encoded


def encode_body(payload: Any) -> bytes:
    """``json.dumps(payload)``, also for answers whose ``items`` hold ``Encoded`` orders."""
    if isinstance(payload, Encoded):
        return bytes(payload)
    if not _has_encoded_items(payload):
        return json.dumps(payload).encode()
    if next(iter(payload)) != "items":  # the splice below needs "items" first
        return json.dumps(decoded(payload)).encode()
    parts = [i if isinstance(i, Encoded) else json.dumps(i).encode() for i in payload["items"]]
    rest = {k: v for k, v in payload.items() if k != "items"}
    tail = b", " + json.dumps(rest).encode()[1:] if rest else b"}"
    return b'{"items": [' + b", ".join(parts) + b"]" + tail


def _has_encoded_items(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    items = payload.get("items")
    return isinstance(items, list) and any(isinstance(i, Encoded) for i in items)


def decoded(payload: Any) -> Any:
    """The answer as plain JSON values (for ``fields`` filtering, which edits values)."""
    if isinstance(payload, Encoded):
        return json.loads(payload)
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        items = [json.loads(i) if isinstance(i, Encoded) else i for i in payload["items"]]
        return {**payload, "items": items}
    return payload
