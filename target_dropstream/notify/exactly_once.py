"""Exactly once: what happens when Magento's answer to a post is lost.

Each attempt is counted in the store BEFORE the request leaves, with its time. When the
answer is lost (timeout, dropped connection, gateway 502/504), Magento may still be running
the request under its order lock and commit later: the shipment stays pending, and no later
run posts it again before a look-up (``GET /V1/shipments`` for the order, matched on a
tracking number not yet claimed by another of our shipments) made
``ship_lookup_delay_seconds`` after the failed attempt finds nothing. An earlier look-up
that finds it records it; one that does not leaves the shipment pending.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from magerest import sales
from magerest.client import MagentoAPIError
from target_dropstream.notify.report import NotifyRunError
from target_dropstream.notify.session import Session
from target_dropstream.notify.store_views import explain
from target_dropstream.shipment_models import OutgoingShipment

MAX_UNCERTAIN_POSTS = 3  # posts answered 5xx/429 (or lost) before the run gives up


def answer_lost(session: Session, shipment: OutgoingShipment, exc: MagentoAPIError) -> None:
    """No answer: Magento may still commit it. Pending, looked up after the delay."""
    settings = session.settings
    now = session.clock()
    after = now + timedelta(seconds=settings.ship_lookup_delay_seconds)
    message = (
        f"the answer was lost ({exc}); Magento may still be creating the shipment under "
        f"its order lock, so it is not posted again before a look-up at or after "
        f"{_when(after)} (ship_lookup_delay_seconds="
        f"{settings.ship_lookup_delay_seconds}) finds no shipment with its tracking "
        "number: run notify again then"
    )
    session.store.shipments.note_lost_answer(shipment.id, message, now)
    session.report.notes.append(f"{shipment.label}: {message}")
    session.lost += 1
    if session.lost >= MAX_UNCERTAIN_POSTS:
        text = f"{session.lost} answers lost in this run: Magento looks unreachable; {exc}"
        raise NotifyRunError(text)


def safe_to_post_again(session: Session, shipment: OutgoingShipment) -> bool:
    """A look-up found nothing: is it late enough to trust it (or leave it pending)?"""
    if shipment.last_attempt_at is None:  # attempted before attempt times were kept
        return True
    delay = session.settings.ship_lookup_delay_seconds
    safe = shipment.last_attempt_at + timedelta(seconds=delay)
    if session.clock() >= safe:
        return True
    message = (
        f"not in Magento yet, but the attempt of {_when(shipment.last_attempt_at)} may "
        f"still commit under Magento's order lock: it is looked up again, and posted only "
        f"if still absent, by a run at or after {_when(safe)} (ship_lookup_delay_seconds="
        f"{delay})"
    )
    session.store.shipments.note_error(shipment.id, message, session.clock())
    session.report.notes.append(f"{shipment.label}: {message}")
    return False


def found_in_magento(session: Session, shipment: OutgoingShipment, after: str) -> bool:
    """Look for our shipment in Magento by tracking number; record it when found."""
    try:
        magento_id = _lookup(session, shipment)
    except MagentoAPIError as exc:
        reason = explain(session, exc, session.settings.store_view_code)
        session.stop(shipment, f"cannot check whether Magento already has it: {reason}")
    if magento_id is None:
        return False
    session.notified(shipment, magento_id, f" (found after {after}, not posted again)")
    return True


def _lookup(session: Session, shipment: OutgoingShipment) -> int | None:
    taken = session.store.shipments.claimed_magento_ids(shipment.source, shipment.order_id)
    return sales.find_shipment_by_tracking(
        session.reader,
        shipment.order_id,
        (track.track_number for track in shipment.tracks),
        skip=taken,
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
