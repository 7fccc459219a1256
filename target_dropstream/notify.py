"""Tell Magento about recorded shipments, exactly once, and only what Magento will ship.

Before posting, the order is read from Magento (``GET /V1/orders/{id}``, its items' quantities
only): Magento silently trims a shipment to what is left and refuses one for an order shipped
in full, so a shipment naming more than is left (shipped, refunded or canceled outside the
warehouse) is marked failed with the reason and never posted. Bundle types (together or
separately) come from the catalog (``GET /V1/products``, ACL Magento_Catalog::products), never
from Magento's (translated) messages. After a post, the created shipment is read back
(``GET /V1/shipment/{id}``) and a difference from what was recorded is kept as a warning.

Each attempt is counted in the store BEFORE the request leaves, with its time. When the answer
is lost (timeout, dropped connection, gateway 502/504), Magento may still be running the request
under its order lock and commit later: the shipment stays pending, and no later run posts it
again before a look-up (``GET /V1/shipments`` for the order, matched on a tracking number not
yet claimed by another of our shipments) made ``ship_lookup_delay_seconds`` after the failed
attempt finds nothing. An earlier look-up that finds it records it; one that does not leaves
the shipment pending. Magento's refusals (HTTP 400) and "this order does not exist" (HTTP 404
with Magento's own message on an existing route: the order was deleted, so nothing was
created) mark that shipment failed with Magento's message and the run goes on with the
others. Anything else (401, a wrong store_url or store_view_code: 404 "Request does not match
any route." or 400 "Specified request cannot be processed.", 5xx after retries) stops the run
and leaves the shipment pending.

Store view: each shipment is posted under ``store_view_code`` when it is set, else under
the code of the order's own store view (read from ``GET /V1/store/storeViews``, ACL
Magento_Backend::store), else to ``/rest/V1/...``, which Magento serves as its default
store view. A code is never guessed: an unknown one makes every request fail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn

from magerest import sales
from magerest.client import MagentoAPIError, MagentoClient
from magerest.errors import NO_ROUTE
from magerest.sales import as_id
from target_dropstream import bundle_types, shipment_store
from target_dropstream.clock import Clock
from target_dropstream.payloads import (
    PayloadError,
    ShipItem,
    Shortfall,
    as_qty,
    compact_payload,
    full_payload,
    nothing_left_to_ship,
    ship_items,
    shortfalls,
)
from target_dropstream.settings import TargetSettings
from target_dropstream.shipment_store import OutgoingShipment
from target_dropstream.store import FulfillmentStore

ClientFactory = Callable[[TargetSettings, "str | None"], MagentoClient]
MAX_UNCERTAIN_POSTS = 3  # posts answered 5xx/429 (or lost) before the run gives up
MAX_BUNDLE_RETRIES = 1  # re-posts after the catalog changed a bundle's shipment type
_UNCERTAIN_STATUSES = frozenset({408, 425, 429})
#: A gateway gave up waiting (504) or lost the backend (502): Magento may still commit.
_LOST_STATUSES = frozenset({502, 504})
#: Magento's answer under /rest/<code>/... when <code> is no store code (no REST processor).
NO_PROCESSOR = "Specified request cannot be processed."
#: The fields of ``GET /V1/orders/{id}`` the pre-post check reads.
ORDER_FIELDS = (
    "entity_id,state,status,items[item_id,parent_item_id,product_id,product_type,sku,name,"
    "is_virtual,qty_ordered,qty_shipped,qty_refunded,qty_canceled]"
)
#: NoSuchEntityException texts (2.4 OrderRepository::get; older default), reference §5.1.
_NO_SUCH_ENTITY = ("The entity that was requested doesn't exist", "No such entity")


class NotifyRunError(RuntimeError):
    """The run cannot go on (auth, routing, Magento down); the shipment stays pending."""


@dataclass
class NotifyReport:
    """What a notify run did, one line per shipment."""

    notified: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = (
            f"{len(self.notified)} notified, {len(self.found)} already in Magento, "
            f"{len(self.failed)} refused"
        )
        if self.error:
            text += f"; stopped: {self.error}"
        return text

    def lines(self) -> list[str]:
        """Per-shipment lines, then the summary."""
        out = [f"notified  {line}" for line in self.notified]
        out += [f"found     {line}" for line in self.found]
        out += [f"refused   {line}" for line in self.failed]
        out += [f"note      {line}" for line in self.notes]
        return [*out, self.summary()]


def magento_client(settings: TargetSettings, store_view_code: str | None) -> MagentoClient:
    """A client for the store in ``settings``, scoped to one store view (None: the default)."""
    if not (settings.store_url and settings.access_token):
        msg = (
            "store_url and access_token are needed to notify Magento: set them in --config or "
            "TARGET_DROPSTREAM_STORE_URL / TARGET_DROPSTREAM_ACCESS_TOKEN"
        )
        raise NotifyRunError(msg)
    return MagentoClient.from_settings(settings, store_view_code)


def notify_pending(
    store: FulfillmentStore,
    settings: TargetSettings,
    *,
    clock: Clock,
    retry_failed: bool = False,
    client_factory: ClientFactory | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> NotifyReport:
    """Post every pending shipment of this store (and failed ones with ``retry_failed``)."""
    notifier = _Notifier(store, settings, clock, client_factory or magento_client, sleep)
    try:
        for shipment in shipment_store.to_notify(
            store, settings.source, include_failed=retry_failed
        ):
            notifier.send(shipment)
    except NotifyRunError as exc:
        notifier.report.error = str(exc)
    finally:
        notifier.close()
    return notifier.report


class _Notifier:
    def __init__(
        self,
        store: FulfillmentStore,
        settings: TargetSettings,
        clock: Clock,
        client_factory: ClientFactory,
        sleep: Callable[[float], None],
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.report = NotifyReport()
        self._factory = client_factory
        self._sleep = sleep
        self._clients: dict[str | None, MagentoClient] = {}
        self._views: dict[int, str] | None = None
        self._lost = 0  # answers lost in this run

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def client(self, view: str | None) -> MagentoClient:
        if view not in self._clients:
            self._clients[view] = self._factory(self.settings, view)
        return self._clients[view]

    @property
    def reader(self) -> MagentoClient:
        """Client for look-ups (the configured store view, else Magento's default scope)."""
        return self.client(self.settings.store_view_code)

    # One shipment --------------------------------------------------------------------------

    def send(self, shipment: OutgoingShipment) -> None:
        if shipment.attempts > 0:
            if self._found_in_magento(shipment, "an earlier attempt"):
                return
            if not self._safe_to_post_again(shipment):
                return
        if not shipment.lines:
            self._refused(
                shipment, "the shipment has no lines in the fulfillment store", posted=False
            )
            return
        order = self._magento_order(shipment)
        if order is None:  # the order is gone from Magento: marked failed
            return
        order_items = _items_by_id(order)
        if nothing_left_to_ship(order_items):
            self._nothing_left(shipment, order, None, posted=False)
            return
        separately = self._bundle_types(shipment, order_items)
        if separately is None:  # the catalog cannot tell: marked failed
            return
        bundle_retries = 0
        uncertain = 0
        attempts = shipment.attempts
        while True:
            try:
                items = ship_items(shipment, separately, order_items)
            except PayloadError as exc:
                self._refused(shipment, str(exc), posted=attempts != shipment.attempts)
                return
            short = shortfalls(items, order_items)
            if short:
                reason = self._trim_reason(shipment, short)
                self._refused(shipment, reason, posted=attempts != shipment.attempts)
                return
            body = self._payload(shipment, items)
            view = self._view(shipment.store_id)
            if not shipment_store.mark_attempt(self.store, shipment.id, attempts, self.clock()):
                self.report.notes.append(f"{shipment.label}: being sent by another run, skipped")
                return
            attempts += 1
            try:
                magento_id = self._post(self.client(view), shipment, body)
            except MagentoAPIError as exc:
                if exc.status == 400 and not _no_route(exc):
                    if bundle_retries < MAX_BUNDLE_RETRIES and self._types_changed(
                        shipment, order_items, separately
                    ):
                        bundle_retries += 1
                        continue
                    # An earlier attempt whose answer was lost (a killed run's request
                    # that Magento finished after our first look-up) may be what Magento
                    # refuses to repeat: look again before calling it refused.
                    if shipment.attempts > 0 and self._found_in_magento(shipment, "a lost answer"):
                        return
                    self._refused_by_magento(shipment, exc)
                    return
                if _order_missing(exc):
                    # Magento looked the order up and has none: nothing was created, so
                    # only this shipment fails; the others still go out.
                    self._refused(shipment, _missing_message(shipment, exc))
                    return
                if exc.status is None or exc.status in _LOST_STATUSES:
                    self._answer_lost(shipment, exc)
                    return
                if exc.status >= 500 or exc.status in _UNCERTAIN_STATUSES:
                    # Answered by Magento (or a proxy in front of it) without running or
                    # after rolling back: look, then post again.
                    uncertain += 1
                    self._sleep(min(2.0**uncertain, 30.0))
                    if self._found_in_magento(shipment, "an error answer"):
                        return
                    if uncertain < MAX_UNCERTAIN_POSTS:
                        continue
                self._stop(shipment, self._explain(exc, view), answered=True)
            else:
                warning = self._check_created(shipment, magento_id, items)
                self._notified(shipment, magento_id, "", warning)
                return

    def _payload(self, shipment: OutgoingShipment, items: list[Any]) -> dict[str, Any]:
        source = self.settings.source_code
        if self.settings.use_compact_shipment:
            return compact_payload(items, shipment, source)
        return full_payload(items, shipment, shipment.store_id, source)

    def _post(
        self, client: MagentoClient, shipment: OutgoingShipment, body: dict[str, Any]
    ) -> int | None:
        """Post once (``/V1/order/{id}/ship`` or ``/V1/shipment``): the new shipment's id."""
        if self.settings.use_compact_shipment:
            return sales.ship_order(client, shipment.order_id, body)
        return sales.create_shipment(client, body)

    def _notified(
        self,
        shipment: OutgoingShipment,
        magento_id: int | None,
        how: str,
        warning: str | None = None,
    ) -> None:
        shipment_store.mark_notified(self.store, shipment.id, magento_id, self.clock(), warning)
        shown = f"Magento shipment {magento_id}" if magento_id is not None else "Magento"
        line = f"{shipment.label} -> {shown}{how}"
        (self.report.found if how else self.report.notified).append(line)
        if warning:
            self.report.notes.append(f"{shipment.label}: {warning}")

    def _refused(self, shipment: OutgoingShipment, message: str, *, posted: bool = True) -> bool:
        """Mark the shipment failed; ``posted=False`` (refused before any post of this run):
        only if no other run posted it meanwhile. Returns whether it was marked."""
        attempts = None if posted else shipment.attempts
        if not shipment_store.mark_failed(
            self.store, shipment.id, message, self.clock(), attempts=attempts
        ):
            self.report.notes.append(f"{shipment.label}: being sent by another run, skipped")
            return False
        self.report.failed.append(f"{shipment.label}: {message}")
        return True

    def _stop(
        self, shipment: OutgoingShipment, message: str, *, answered: bool = False
    ) -> NoReturn:
        """Stop the run; ``answered``: the last post got an answer (none is outstanding)."""
        text = f"shipment {shipment.label} stays pending: {message}"
        shipment_store.note_error(self.store, shipment.id, message, self.clock(), answered=answered)
        raise NotifyRunError(text)

    # What Magento has left -----------------------------------------------------------------

    def _magento_order(self, shipment: OutgoingShipment) -> Mapping[str, Any] | None:
        """The order's current state and item quantities; None (marked failed) if it is gone."""
        try:
            order = sales.get_order(self.reader, shipment.order_id, ORDER_FIELDS)
        except MagentoAPIError as exc:
            if _order_missing(exc):
                self._refused(shipment, _missing_message(shipment, exc), posted=False)
                return None
            reason = self._explain(exc, self.settings.store_view_code)
            self._stop(shipment, f"cannot read the order from Magento: {reason}")
        if order is None:
            self._stop(shipment, "cannot read the order from Magento: the answer is not an order")
        return order

    def _trim_reason(self, shipment: OutgoingShipment, short: list[Shortfall]) -> str:
        """Why Magento would ship less than recorded, item by item; nothing is posted."""
        ours = shipment_store.notified_quantities(self.store, shipment.source, shipment.order_id)
        parts = [_shortfall_text(gap, ours.get(gap.item_id, Decimal(0))) for gap in short]
        return (
            f"{'; '.join(parts)}. Magento would ship less than recorded (it trims a shipment "
            "to what is left), so nothing was posted: record the shipment again under the "
            "same --key with what is left, or leave it failed if Magento is right"
        )

    def _nothing_left(
        self,
        shipment: OutgoingShipment,
        order: Mapping[str, Any],
        refusal: str | None,
        *,
        posted: bool,
    ) -> None:
        """Magento has nothing left to ship on the order: fail the shipment and say why."""
        items = _items_by_id(order)
        shipped = any(
            Decimal(str(item.get("qty_shipped") or 0)) > 0
            for item in items.values()
            if item.get("product_type") != "bundle"
        )
        said = f" (Magento answered: {refusal})" if refusal else ""
        if not shipped:
            self._refused(
                shipment,
                "Magento has nothing left to ship on this order: every item is refunded or "
                f"canceled in Magento{said}",
                posted=posted,
            )
            return
        reason = "already shipped in Magento: every item is shipped (or refunded/canceled) there"
        message = (
            f"{reason}, outside this warehouse's notifications{said}; the order is now "
            "marked shipped in the fulfillment store"
        )
        if not self._refused(shipment, message, posted=posted):
            return
        shipment_store.mark_order_shipped_in_magento(
            self.store,
            shipment.source,
            shipment.order_id,
            magento_status=_text_or_none(order.get("status")),
            magento_state=_text_or_none(order.get("state")),
            reason=reason,
            now=self.clock(),
        )

    def _refused_by_magento(self, shipment: OutgoingShipment, exc: MagentoAPIError) -> None:
        """A 400 on the post: when Magento now shows the order shipped in full, say so."""
        try:
            order = sales.get_order(self.reader, shipment.order_id, ORDER_FIELDS)
        except MagentoAPIError:
            order = None
        if order is not None and nothing_left_to_ship(_items_by_id(order)):
            self._nothing_left(shipment, order, str(exc), posted=True)
            return
        self._refused(shipment, str(exc))

    def _check_created(
        self, shipment: OutgoingShipment, magento_id: int | None, items: list[ShipItem]
    ) -> str | None:
        """Read the new shipment back; a warning when it holds other quantities than sent."""
        if magento_id is None:
            return "Magento's answer carried no shipment id; the shipment was not read back"
        try:
            document = sales.get_shipment(self.reader, magento_id)
        except MagentoAPIError as exc:
            said = exc.magento_message or str(exc)
            return (
                f"Magento shipment {magento_id} could not be read back to check its items "
                f"(HTTP {exc.status}: {said}); grant Magento_Sales::shipment to check it"
            )
        held: dict[int, Decimal] = {}
        for entry in document.get("items") or []:
            item_id = as_id(entry.get("order_item_id")) if isinstance(entry, Mapping) else None
            if item_id is not None:
                held[item_id] = held.get(item_id, Decimal(0)) + as_qty(entry.get("qty"))
        differences = [
            f"{item.sku} {_qty_text(held.get(item.order_item_id, Decimal(0)))} "
            f"(recorded {_qty_text(item.qty)})"
            for item in items
            if held.get(item.order_item_id, Decimal(0)) != item.qty
        ]
        if not differences:
            return None
        return (
            f"Magento shipment {magento_id} holds other quantities than recorded: "
            f"{', '.join(differences)}; Magento shipped what it holds"
        )

    # Exactly once ---------------------------------------------------------------------------

    def _answer_lost(self, shipment: OutgoingShipment, exc: MagentoAPIError) -> None:
        """No answer: Magento may still commit it. Pending, looked up after the delay."""
        now = self.clock()
        after = now + timedelta(seconds=self.settings.ship_lookup_delay_seconds)
        message = (
            f"the answer was lost ({exc}); Magento may still be creating the shipment under "
            f"its order lock, so it is not posted again before a look-up at or after "
            f"{_when(after)} (ship_lookup_delay_seconds="
            f"{self.settings.ship_lookup_delay_seconds}) finds no shipment with its tracking "
            "number: run notify again then"
        )
        shipment_store.note_lost_answer(self.store, shipment.id, message, now)
        self.report.notes.append(f"{shipment.label}: {message}")
        self._lost += 1
        if self._lost >= MAX_UNCERTAIN_POSTS:
            text = f"{self._lost} answers lost in this run: Magento looks unreachable; {exc}"
            raise NotifyRunError(text)

    def _safe_to_post_again(self, shipment: OutgoingShipment) -> bool:
        """A look-up found nothing: is it late enough to trust it (or leave it pending)?"""
        if shipment.last_attempt_at is None:  # attempted before attempt times were kept
            return True
        safe = shipment.last_attempt_at + timedelta(seconds=self.settings.ship_lookup_delay_seconds)
        if self.clock() >= safe:
            return True
        message = (
            f"not in Magento yet, but the attempt of {_when(shipment.last_attempt_at)} may "
            f"still commit under Magento's order lock: it is looked up again, and posted only "
            f"if still absent, by a run at or after {_when(safe)} (ship_lookup_delay_seconds="
            f"{self.settings.ship_lookup_delay_seconds})"
        )
        shipment_store.note_error(self.store, shipment.id, message, self.clock())
        self.report.notes.append(f"{shipment.label}: {message}")
        return False

    def _found_in_magento(self, shipment: OutgoingShipment, after: str) -> bool:
        """Look for our shipment in Magento by tracking number; record it when found."""
        try:
            magento_id = self._lookup(shipment)
        except MagentoAPIError as exc:
            reason = self._explain(exc, self.settings.store_view_code)
            self._stop(shipment, f"cannot check whether Magento already has it: {reason}")
        if magento_id is None:
            return False
        self._notified(shipment, magento_id, f" (found after {after}, not posted again)")
        return True

    def _lookup(self, shipment: OutgoingShipment) -> int | None:
        taken = shipment_store.claimed_magento_ids(self.store, shipment.source, shipment.order_id)
        return sales.find_shipment_by_tracking(
            self.reader,
            shipment.order_id,
            (track.track_number for track in shipment.tracks),
            skip=taken,
        )

    # Where and how to post ------------------------------------------------------------------

    def _view(self, store_id: int | None) -> str | None:
        """The store code to post under; None posts to /rest/V1 (Magento's default view)."""
        if self.settings.store_view_code:
            return self.settings.store_view_code
        if self._views is None:
            self._views = {}
            try:
                self._views = sales.store_view_codes(self.reader)
            except MagentoAPIError as exc:
                said = exc.magento_message or str(exc)
                reason = f"HTTP {exc.status}: {said}" if exc.status else said
                self.report.notes.append(
                    f"store views not readable (GET /V1/store/storeViews answered {reason}): "
                    "posting to /rest/V1/..., Magento's default store view, instead of each "
                    "order's own store view; grant the integration Magento_Backend::store "
                    "or set store_view_code"
                )
        return self._views.get(store_id or 0)

    def _explain(self, exc: MagentoAPIError, view: str | None) -> str:
        """The error as text, naming the setting to fix when Magento has no such route."""
        if not _no_route(exc):
            return str(exc)
        configured = self.settings.store_view_code
        if configured and view == configured:
            codes = self._store_codes()
            if codes is None or configured in codes:
                return str(exc)  # /rest/V1 has no route either: store_url is what is wrong
            listed = f" ({', '.join(codes)})" if codes else ""
            return (
                f"Magento answered {exc.endpoint} with HTTP {exc.status} "
                f"{exc.magento_message!r}: store_view_code {configured!r} is not a store view "
                f"code of this store. Set store_view_code to one of this store's codes{listed}, "
                "see Stores > All Stores, or remove it to post to Magento's default store view "
                "(/rest/V1/...)"
            )
        if view:
            return f"{exc} (store view code {view!r} as listed by GET /V1/store/storeViews)"
        return str(exc)

    def _store_codes(self) -> list[str] | None:
        """This store's view codes read without a store code; [] if not readable.

        None when even ``/rest/V1`` has no such route (store_url is wrong, not the code).
        """
        try:
            codes = sales.store_view_codes(self.client(None))
        except MagentoAPIError as exc:
            return None if _no_route(exc) else []
        return list(codes.values())

    # Bundles --------------------------------------------------------------------------------

    def _bundle_types(
        self, shipment: OutgoingShipment, order_items: Mapping[int, Mapping[str, Any]]
    ) -> dict[int, bool] | None:
        """Whether each bundle in the shipment ships separately; None when it cannot be told.

        Known types are cached on the lines; the others are read from the catalog. When
        the catalog cannot be read or no longer has the bundle, the shipment is marked
        failed (naming the ACL resource to grant) and nothing is posted.
        """
        separately: dict[int, bool] = {}
        unknown: set[int] = set()
        for line in shipment.lines:
            if not line.is_bundle_component or line.parent_item_id is None:
                continue
            if line.ship_item_id is not None:
                separately[line.parent_item_id] = line.ship_item_id == line.item_id
            else:
                unknown.add(line.parent_item_id)
        unknown -= set(separately)
        if not unknown:
            return separately
        try:
            resolved = self._catalog_types(unknown, order_items)
        except MagentoAPIError as exc:
            if exc.status in (401, 403):
                message = _catalog_refused(exc, unknown, order_items)
                self._refused(shipment, message, posted=False)
                return None
            reason = self._explain(exc, self.settings.store_view_code)
            self._stop(shipment, f"cannot read the bundle's shipment type: {reason}")
        missing = sorted(unknown - set(resolved))
        if missing:
            names = ", ".join(_bundle_name(parent, order_items) for parent in missing)
            self._refused(
                shipment,
                f"Magento's catalog has no bundle product for {names} (GET /V1/products by "
                "product id): whether it ships together or separately is unknown, so nothing "
                "was posted",
                posted=False,
            )
            return None
        shipment_store.cache_bundle_types(self.store, shipment.source, shipment.order_id, resolved)
        separately.update(resolved)
        return separately

    def _catalog_types(
        self, parents: set[int], order_items: Mapping[int, Mapping[str, Any]]
    ) -> dict[int, bool]:
        """Separately (True) or together (False) by bundle parent item id, from the catalog."""
        product_of = {
            parent: as_id(order_items.get(parent, {}).get("product_id")) for parent in parents
        }
        types = bundle_types.from_catalog(
            self.reader, [pid for pid in product_of.values() if pid is not None]
        )
        return {
            parent: types[pid] == bundle_types.SEPARATELY
            for parent, pid in product_of.items()
            if pid in types
        }

    def _types_changed(
        self,
        shipment: OutgoingShipment,
        order_items: Mapping[int, Mapping[str, Any]],
        separately: dict[int, bool],
    ) -> bool:
        """After a refusal: re-read the shipment's bundles from the catalog (a cached type
        can be stale after a product edit); True when one changed, so the post is retried."""
        if not separately:
            return False
        try:
            fresh = self._catalog_types(set(separately), order_items)
        except MagentoAPIError:
            return False
        changed = {
            parent: apart for parent, apart in fresh.items() if separately.get(parent) != apart
        }
        if not changed:
            return False
        separately.update(changed)
        shipment_store.cache_bundle_types(self.store, shipment.source, shipment.order_id, changed)
        return True


def _no_route(exc: MagentoAPIError) -> bool:
    """Magento has no such route: a wrong store code in the URL, or a wrong store_url.

    An unknown store code answers 400 "Specified request cannot be processed." on a real
    store (no REST processor takes ``/<code>/V1/...``); a wrong path 404 "Request does not
    match any route.".
    """
    if exc.status == 404:
        return exc.magento_message == NO_ROUTE
    return exc.status == 400 and exc.magento_message == NO_PROCESSOR


def _order_missing(exc: MagentoAPIError) -> bool:
    """A route that exists answered 404 with Magento's own message: no such order.

    Magento maps NoSuchEntityException to 404 ("The entity that was requested doesn't
    exist. ..." from OrderRepository::get). A 404 without Magento's JSON body (a proxy's
    page) or with the no-route message says nothing about the order.
    """
    return exc.status == 404 and bool(exc.magento_message) and not _no_route(exc)


def _missing_message(shipment: OutgoingShipment, exc: MagentoAPIError) -> str:
    said = exc.magento_message or ""
    if said.startswith(_NO_SUCH_ENTITY):
        what = f"Magento has no order with id {shipment.order_id} (deleted in Magento?)"
    else:
        what = "Magento did not find something this shipment names"
    return f"{what}, nothing was shipped: {exc}"


def _qty_text(qty: Decimal) -> str:
    return f"{qty.normalize():f}"


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _items_by_id(order: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    out: dict[int, Mapping[str, Any]] = {}
    for item in order.get("items") or []:
        item_id = as_id(item.get("item_id")) if isinstance(item, Mapping) else None
        if item_id is not None:
            out[item_id] = item
    return out


def _shortfall_text(gap: Shortfall, ours: Decimal) -> str:
    """``Magento already shipped 1 of MH01-S-Gray outside the warehouse`` and the numbers."""
    if not gap.item:
        return f"{gap.sku}: Magento's order has no item {gap.item_id} any more"
    shipped = as_qty(gap.item.get("qty_shipped"))
    refunded = as_qty(gap.item.get("qty_refunded"))
    canceled = as_qty(gap.item.get("qty_canceled"))
    causes = []
    if shipped > ours:
        causes.append(
            f"Magento already shipped {_qty_text(shipped - ours)} of {gap.sku} "
            "outside the warehouse"
        )
    if refunded > shipped:
        causes.append(f"Magento refunded {_qty_text(refunded)} of {gap.sku}")
    if canceled > 0:
        causes.append(f"Magento canceled {_qty_text(canceled)} of {gap.sku}")
    if not causes:
        causes.append(f"Magento has less of {gap.sku} left to ship than recorded")
    numbers = (
        f"this shipment names {_qty_text(gap.wanted)}, Magento has {_qty_text(gap.left)} left "
        f"(ordered {_qty_text(as_qty(gap.item.get('qty_ordered')))}, shipped "
        f"{_qty_text(shipped)}, refunded {_qty_text(refunded)}, canceled {_qty_text(canceled)})"
    )
    return f"{'; '.join(causes)}: {numbers}"


def _bundle_name(parent: int, order_items: Mapping[int, Mapping[str, Any]]) -> str:
    item = order_items.get(parent, {})
    return f"bundle {item.get('sku', parent)} (product id {item.get('product_id')})"


def _catalog_refused(
    exc: MagentoAPIError, parents: set[int], order_items: Mapping[int, Mapping[str, Any]]
) -> str:
    names = ", ".join(_bundle_name(parent, order_items) for parent in sorted(parents))
    return (
        f"cannot tell whether {names} ships together or separately: the catalog is not "
        f"readable ({exc}). Grant "
        f"the integration the ACL resource {bundle_types.CATALOG_RESOURCE} (System > "
        "Extensions > Integrations > API: Catalog > Inventory > Products), then "
        "`dropstream retry KEY`; nothing was posted"
    )
