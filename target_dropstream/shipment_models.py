"""Shipments as plain immutable values: what the warehouse says it shipped, and what to send.

A :class:`ShipmentRequest` comes from the warehouse (``dropstream ship``, a CSV file); an
:class:`OutgoingShipment` is a recorded shipment as notify posts it to Magento. The checks on
a request's own content (tracking numbers, the key derived from it) live with the request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from target_dropstream.models import LineType


class ShipmentError(ValueError):
    """A shipment cannot be recorded; ``index`` is the request it came from."""

    def __init__(self, reason: str, index: int = 0, sku: str | None = None) -> None:
        self.reason = reason
        self.index = index
        self.sku = sku  # the SKU the problem is about, when there is one
        super().__init__(reason)


@dataclass(frozen=True)
class Track:
    """One tracking number (a shipment may carry several)."""

    carrier_code: str
    title: str
    track_number: str


@dataclass(frozen=True)
class ShipmentRequest:
    """What the warehouse says it shipped.

    ``lines`` is None for "everything still left on the order"; otherwise (SKU, qty) pairs.
    ``key`` is the warehouse's shipment id; None derives one from the content.
    """

    order_ref: str
    tracks: tuple[Track, ...]
    lines: tuple[tuple[str, Decimal], ...] | None = None
    key: str | None = None

    def derived_key(self, source: str, order_id: int) -> str:
        """A stable key from the content, so repeating a command records one shipment."""
        content = {
            "source": source,
            "order_id": order_id,
            "lines": "*"
            if self.lines is None
            else sorted([sku, qty_text(qty)] for sku, qty in self.lines),
            "tracks": sorted([t.carrier_code, t.title, t.track_number] for t in self.tracks),
        }
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()
        return f"auto-{digest[:20]}"


def checked_tracks(tracks: Sequence[Track], label: str) -> list[Track]:
    """The tracking numbers trimmed and without repeats (a title defaults to the carrier).

    Raises:
        ShipmentError: none at all, an empty number, or a number without carrier code.
    """
    if not tracks:
        raise ShipmentError(f"order {label}: a shipment needs at least one tracking number")
    seen: list[Track] = []
    for track in tracks:
        number = (track.track_number or "").strip()
        if not number:
            raise ShipmentError(f"order {label}: empty tracking number")
        carrier = (track.carrier_code or "").strip()
        if not carrier:
            raise ShipmentError(f"order {label}: tracking number {number} has no carrier code")
        clean = Track(carrier, (track.title or "").strip() or carrier, number)
        if clean not in seen:
            seen.append(clean)
    return seen


def qty_text(qty: Decimal | int) -> str:
    """A quantity as people write it: ``2``, ``1.5`` (no exponent, no trailing zeros)."""
    value = Decimal(qty).normalize()
    return f"{value:f}"


@dataclass(frozen=True)
class ShippedLine:
    """One line of a shipment, with what the order line says about it."""

    item_id: int
    order_item_id: int
    qty: Decimal
    sku: str
    name: str | None
    line_type: str
    parent_item_id: int | None
    product_id: int | None
    ship_item_id: int | None

    @property
    def is_bundle_component(self) -> bool:
        """A bundle option: referenced by itself or its bundle, depending on the bundle."""
        return self.line_type == LineType.BUNDLE_COMPONENT.value


@dataclass(frozen=True)
class OutgoingShipment:
    """A shipment to tell Magento about."""

    id: int
    source: str
    order_id: int
    increment_id: str | None
    store_id: int | None
    key: str
    state: str
    attempts: int
    lines: tuple[ShippedLine, ...]
    tracks: tuple[Track, ...]
    last_attempt_at: datetime | None = None

    @property
    def label(self) -> str:
        """``KEY (order #100000123)`` for messages."""
        order = f"#{self.increment_id}" if self.increment_id else f"id {self.order_id}"
        return f"{self.key} (order {order})"
