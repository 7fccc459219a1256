"""Read a warehouse shipment file: one row per shipped line, grouped into shipments by key.

Columns (header row required, any order, extra columns ignored): ``order`` (increment_id or
order id), ``sku``, ``qty``, ``carrier_code``, ``title``, ``track_number``, ``shipment_key``.
Rows sharing a ``shipment_key`` are one shipment (several tracking numbers allowed); rows
without a key are grouped by order and tracking number and get a key derived from their
content. A row with a tracking number but no SKU adds a tracking number only. The whole file
is read and checked before anything is recorded; problems name the line number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from target_dropstream.shipment_models import ShipmentError, ShipmentRequest, Track

COLUMNS = ("order", "sku", "qty", "carrier_code", "title", "track_number", "shipment_key")
REQUIRED = ("order", "sku", "qty", "carrier_code", "track_number")
ALIASES = {
    "increment_id": "order",
    "order_id": "order",
    "order_increment_id": "order",
    "key": "shipment_key",
    "warehouse_shipment_id": "shipment_key",
    "tracking_number": "track_number",
    "carrier": "carrier_code",
    "quantity": "qty",
}
MAX_REPORTED = 20


class CsvImportError(ValueError):
    """The file cannot be imported; every message names its line."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass
class _Group:
    order: str
    key: str | None
    first_line: int
    lines: dict[str, tuple[Decimal, int]] = field(default_factory=dict)
    tracks: list[Track] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ShipmentFile:
    """The shipments of a file and, for each, the file lines it came from."""

    requests: list[ShipmentRequest]
    line_numbers: list[list[int]]
    sku_lines: list[dict[str, int]]

    def explain(self, error: ShipmentError) -> str:
        """A recording error, located in the file."""
        by_sku = self.sku_lines[error.index]
        if error.sku is not None and error.sku in by_sku:
            return f"line {by_sku[error.sku]}: {error.reason}"
        return f"{_where(self.line_numbers[error.index])}: {error.reason}"


def read_shipment_file(path: Path) -> ShipmentFile:
    """Parse and check the whole file.

    Raises:
        CsvImportError: listing the bad lines (nothing is recorded).
    """
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            return parse_rows(csv.reader(handle))
    except OSError as exc:
        raise CsvImportError([f"{path}: cannot read the file ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise CsvImportError([f"{path}: not UTF-8 text (save the file as CSV UTF-8)"]) from None
    except csv.Error as exc:
        raise CsvImportError([f"{path}: not a readable CSV file ({exc})"]) from None


def parse_rows(reader: Iterable[list[str]]) -> ShipmentFile:
    """Group CSV rows (the first is the header) into shipment requests."""
    rows = iter(reader)
    header = next(rows, None)
    if header is None:
        raise CsvImportError(["line 1: the file is empty (a header row is required)"])
    columns = _columns(header)
    errors: list[str] = []
    groups: dict[tuple[str, ...], _Group] = {}
    line_no = 1
    for row in rows:
        line_no += 1
        if not any(cell.strip() for cell in row):
            continue
        values = {name: (row[i].strip() if i < len(row) else "") for name, i in columns.items()}
        problem = _add_row(groups, values, line_no)
        if problem:
            errors.append(f"line {line_no}: {problem}")
    if not groups and not errors:
        errors.append("the file has a header but no shipment rows")
    for group in groups.values():
        if not group.tracks:
            errors.append(f"{_where(group.line_numbers)}: shipment has no tracking number")
        if not group.lines:
            errors.append(f"{_where(group.line_numbers)}: shipment has no SKU with a quantity")
    if errors:
        extra = len(errors) - MAX_REPORTED
        shown = errors[:MAX_REPORTED] + ([f"... and {extra} more"] if extra > 0 else [])
        raise CsvImportError(shown)
    ordered = sorted(groups.values(), key=lambda g: g.first_line)
    return ShipmentFile(
        requests=[
            ShipmentRequest(
                order_ref=g.order,
                tracks=tuple(g.tracks),
                lines=tuple((sku, qty) for sku, (qty, _) in g.lines.items()),
                key=g.key,
            )
            for g in ordered
        ],
        line_numbers=[g.line_numbers for g in ordered],
        sku_lines=[{sku: n for sku, (_, n) in g.lines.items()} for g in ordered],
    )


def _where(lines: Sequence[int]) -> str:
    if len(lines) == 1:
        return f"line {lines[0]}"
    return "lines " + ", ".join(str(n) for n in lines)


def _columns(header: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = raw.strip().lower().replace(" ", "_")
        name = ALIASES.get(name, name)
        if name in COLUMNS and name not in columns:
            columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        found = ", ".join(cell.strip() for cell in header) or "nothing"
        hint = " (the file must be comma-separated)" if len(header) == 1 else ""
        msg = (
            f"line 1: header lacks {', '.join(missing)}{hint}; expected columns "
            f"{', '.join(COLUMNS)}, found {found}"
        )
        raise CsvImportError([msg])
    return columns


def _add_row(groups: dict[tuple[str, ...], _Group], values: dict[str, str], line: int) -> str:
    order = values.get("order", "")
    if not order:
        return "order is empty"
    key = values.get("shipment_key", "")
    number = values.get("track_number", "")
    group_id = ("key", key) if key else ("auto", order, number)
    group = groups.get(group_id)
    if group is None:
        group = groups[group_id] = _Group(order=order, key=key or None, first_line=line)
    elif group.order != order:
        return (
            f"shipment key {key} is used for order {group.order} on line {group.first_line}, "
            f"not for order {order}"
        )
    group.line_numbers.append(line)
    if number:
        carrier = values.get("carrier_code", "")
        if not carrier:
            return f"carrier_code is empty for tracking number {number}"
        track = Track(carrier, values.get("title", "") or carrier, number)
        if track not in group.tracks:
            group.tracks.append(track)
    sku, qty_text = values.get("sku", ""), values.get("qty", "")
    if not sku and not qty_text:
        return "" if number else "neither a SKU nor a tracking number"
    if not sku:
        return "sku is empty"
    try:
        qty = Decimal(qty_text)
    except InvalidOperation:
        return f"qty {qty_text!r} is not a number"
    if not qty.is_finite() or qty <= 0:
        return f"qty {qty_text!r} must be a number above 0"
    if sku in group.lines:
        first = group.lines[sku][1]
        return f"SKU {sku} is already listed for this shipment on line {first}"
    group.lines[sku] = (qty, line)
    return ""
