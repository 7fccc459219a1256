"""How ``dropstream status`` shows the store: as text for an operator, as JSON for scripts.

Kept apart from the commands so the wording and the JSON shape, which operators and scripts
read, live in one place and the CLI module stays about arguments, the store and exit codes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from target_dropstream.record_ids import order_id_as_given
from target_dropstream.store import FailedShipment, RejectedRecord, StatusReport


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _rejected_order(rejected: RejectedRecord) -> str:
    """The stored order id, else the id as the record gave it (or "without entity_id")."""
    if rejected.order_id is not None:
        return str(rejected.order_id)
    try:
        return order_id_as_given(json.loads(rejected.record_json))
    except ValueError:
        return order_id_as_given(None)


def status_json(
    report: StatusReport,
    shipment_counts: dict[str, int],
    failed: list[FailedShipment],
    stuck: list[FailedShipment],
) -> dict[str, Any]:
    """The ``dropstream status --json`` body: orders, rejects, then a ``shipments`` section."""
    body = _orders_json(report)
    body["shipments"] = {
        "counts": shipment_counts,
        "failed": [failed_json(item) for item in failed],
        "pending_errors": [failed_json(item) for item in stuck],
    }
    return body


def _orders_json(report: StatusReport) -> dict[str, Any]:
    return {
        "database": report.database,
        "schema_version": report.schema_version,
        "counts": report.counts,
        "held": [
            {
                "source": held.source,
                "order_id": held.order_id,
                "increment_id": held.increment_id,
                "magento_status": held.magento_status,
                "release_at": _iso(held.release_at),
                "reason": held.reason,
            }
            for held in report.held
        ],
        "rejected_total": report.rejected_total,
        "rejected": [
            {
                "id": rejected.id,
                "source": rejected.source,
                "stream": rejected.stream,
                "order_id": rejected.order_id,
                "reason": rejected.reason,
                "received_at": _iso(rejected.received_at),
                "superseded": rejected.superseded,
                "record": json.loads(rejected.record_json),
            }
            for rejected in report.rejected
        ],
    }


def status_text(report: StatusReport, now: datetime) -> str:
    """Orders by state, held orders (due now or waiting) and rejected records, as text."""
    lines = [f"Fulfillment store: {report.database} (schema v{report.schema_version})", ""]
    lines.append("Orders by state:")
    width = max(len(state) for state in report.counts)
    lines += [f"  {state:<{width}}  {count}" for state, count in report.counts.items()]
    lines.append("")
    if report.held:
        lines.append(f"Held orders ({report.counts.get('held', 0)}):")
        for held in report.held:
            due = "due now" if held.release_at <= now else "waiting"
            label = held.increment_id or "-"
            text = f"  {held.source} order {held.order_id} (#{label})  release at "
            text += f"{_iso(held.release_at)}  [{due}]"
            if held.reason:
                text += f"  {held.reason}"
            lines.append(text)
    else:
        lines.append("Held orders: none")
    lines.append("")
    if report.rejected:
        lines.append(f"Rejected records ({report.rejected_total}):")
        for rejected in report.rejected:
            order = _rejected_order(rejected)
            mark = "  [superseded: a newer good version loaded]" if rejected.superseded else ""
            lines.append(
                f"  #{rejected.id} {rejected.stream} order {order} at "
                f"{_iso(rejected.received_at)}: {rejected.reason}{mark}"
            )
    else:
        lines.append("Rejected records: none")
    return "\n".join(lines)


def failed_json(item: FailedShipment) -> dict[str, Any]:
    """One failed (or stuck pending) shipment as ``status --json`` lists it."""
    return {
        "source": item.source,
        "key": item.key,
        "order_id": item.order_id,
        "increment_id": item.increment_id,
        "track_number": item.track_number,
        "attempts": item.attempts,
        "message": item.last_error,
        "updated_at": _iso(item.updated_at),
    }


def shipments_text(
    counts: dict[str, int], failed: list[FailedShipment], stuck: list[FailedShipment]
) -> str:
    """Shipment counts, failed notifications and shipments a notify run stopped on."""
    summary = ", ".join(f"{state} {count}" for state, count in counts.items())
    lines = [f"Shipments: {summary}"]
    if failed:
        lines.append(f"Failed notifications ({counts.get('failed', len(failed))}):")
        lines += _shipment_lines(failed)
        lines.append(
            "  Fix the cause, then `dropstream retry KEY` (or `dropstream notify --retry-failed`)."
        )
    else:
        lines.append("Failed notifications: none")
    if stuck:
        lines.append(f"Pending shipments a notify run stopped on ({len(stuck)}):")
        lines += _shipment_lines(stuck)
    return "\n".join(lines)


def _shipment_lines(items: list[FailedShipment]) -> list[str]:
    lines = []
    for item in items:
        order = f"#{item.increment_id}" if item.increment_id else f"id {item.order_id}"
        lines.append(
            f"  {item.key}  order {order}  track {item.track_number or '-'}  "
            f"at {_iso(item.updated_at)}"
        )
        lines += [f"      {text}" for text in (item.last_error or "no message").splitlines()]
    return lines
