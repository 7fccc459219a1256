"""The notify run: every pending shipment in turn, each posted to Magento at most once.

One shipment's way: look up an earlier attempt, check the order's quantities and the
bundles' types, count the attempt, post (``/V1/order/{id}/ship`` or ``/V1/shipment``), and
sort the answer. A refusal fails only that shipment and the run goes on; anything else
(401, a wrong store_url or store_view_code, 5xx after retries) stops the run and leaves the
shipment pending.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from magerest import sales
from magerest.client import MagentoAPIError, MagentoClient
from target_dropstream.clock import Clock
from target_dropstream.notify import bundles, exactly_once, quantities
from target_dropstream.notify.exactly_once import MAX_UNCERTAIN_POSTS
from target_dropstream.notify.magento_errors import missing_message, no_route, order_missing
from target_dropstream.notify.report import NotifyReport, NotifyRunError
from target_dropstream.notify.session import Session
from target_dropstream.notify.store_views import explain, view
from target_dropstream.payloads import (
    PayloadError,
    compact_payload,
    full_payload,
    nothing_left_to_ship,
    ship_items,
    shortfalls,
)
from target_dropstream.settings import ClientFactory, TargetSettings
from target_dropstream.shipment_models import OutgoingShipment
from target_dropstream.store import FulfillmentStore

_UNCERTAIN_STATUSES = frozenset({408, 425, 429})
#: A gateway gave up waiting (504) or lost the backend (502): Magento may still commit.
_LOST_STATUSES = frozenset({502, 504})


def notify_pending(
    store: FulfillmentStore,
    settings: TargetSettings,
    *,
    clock: Clock,
    retry_failed: bool = False,
    client_factory: ClientFactory = MagentoClient.from_settings,
    sleep: Callable[[float], None] = time.sleep,
) -> NotifyReport:
    """Post every pending shipment of this store (and failed ones with ``retry_failed``)."""
    session = Session(store, settings, clock, client_factory, sleep)
    try:
        for shipment in store.shipments.to_notify(settings.source, include_failed=retry_failed):
            send(session, shipment)
    except NotifyRunError as exc:
        session.report.error = str(exc)
    finally:
        session.close()
    return session.report


def send(session: Session, shipment: OutgoingShipment) -> None:
    """One shipment's turn: recorded as notified, found, refused, or left pending."""
    if shipment.attempts > 0:
        if exactly_once.found_in_magento(session, shipment, "an earlier attempt"):
            return
        if not exactly_once.safe_to_post_again(session, shipment):
            return
    if not shipment.lines:
        session.refused(
            shipment, "the shipment has no lines in the fulfillment store", posted=False
        )
        return
    order = quantities.magento_order(session, shipment)
    if order is None:  # the order is gone from Magento: marked failed
        return
    order_items = quantities.items_by_id(order)
    if nothing_left_to_ship(order_items):
        quantities.nothing_left(session, shipment, order, None, posted=False)
        return
    separately = bundles.shipped_separately(session, shipment, order_items)
    if separately is None:  # the catalog cannot tell: marked failed
        return
    bundle_retries = 0
    uncertain = 0
    attempts = shipment.attempts
    while True:
        try:
            items = ship_items(shipment, separately, order_items)
        except PayloadError as exc:
            session.refused(shipment, str(exc), posted=attempts != shipment.attempts)
            return
        short = shortfalls(items, order_items)
        if short:
            reason = quantities.trim_reason(session, shipment, short)
            session.refused(shipment, reason, posted=attempts != shipment.attempts)
            return
        body = _payload(session, shipment, items)
        store_view = view(session, shipment.store_id)
        if not session.store.shipments.mark_attempt(shipment.id, attempts, session.clock()):
            session.report.notes.append(f"{shipment.label}: being sent by another run, skipped")
            return
        attempts += 1
        try:
            magento_id = _post(session, session.client(store_view), shipment, body)
        except MagentoAPIError as exc:
            if exc.status == 400 and not no_route(exc):
                if bundle_retries < bundles.MAX_BUNDLE_RETRIES and bundles.types_changed(
                    session, shipment, order_items, separately
                ):
                    bundle_retries += 1
                    continue
                # An earlier attempt whose answer was lost (a killed run's request
                # that Magento finished after our first look-up) may be what Magento
                # refuses to repeat: look again before calling it refused.
                if shipment.attempts > 0 and exactly_once.found_in_magento(
                    session, shipment, "a lost answer"
                ):
                    return
                quantities.refused_by_magento(session, shipment, exc)
                return
            if order_missing(exc):
                # Magento looked the order up and has none: nothing was created, so
                # only this shipment fails; the others still go out.
                session.refused(shipment, missing_message(shipment, exc))
                return
            if exc.status is None or exc.status in _LOST_STATUSES:
                exactly_once.answer_lost(session, shipment, exc)
                return
            if exc.status >= 500 or exc.status in _UNCERTAIN_STATUSES:
                # Answered by Magento (or a proxy in front of it) without running or
                # after rolling back: look, then post again.
                uncertain += 1
                session.sleep(min(2.0**uncertain, 30.0))
                if exactly_once.found_in_magento(session, shipment, "an error answer"):
                    return
                if uncertain < MAX_UNCERTAIN_POSTS:
                    continue
            session.stop(shipment, explain(session, exc, store_view), answered=True)
        else:
            warning = quantities.check_created(session, shipment, magento_id, items)
            session.notified(shipment, magento_id, "", warning)
            return


def _payload(session: Session, shipment: OutgoingShipment, items: list[Any]) -> dict[str, Any]:
    source = session.settings.source_code
    if session.settings.use_compact_shipment:
        return compact_payload(items, shipment, source)
    return full_payload(items, shipment, shipment.store_id, source)


def _post(
    session: Session, client: MagentoClient, shipment: OutgoingShipment, body: dict[str, Any]
) -> int | None:
    """Post once (``/V1/order/{id}/ship`` or ``/V1/shipment``): the new shipment's id."""
    if session.settings.use_compact_shipment:
        return sales.ship_order(client, shipment.order_id, body)
    return sales.create_shipment(client, body)
