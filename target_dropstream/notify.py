"""Tell Magento about recorded shipments, exactly once.

Each attempt is counted in the store BEFORE the request leaves. A shipment with an earlier
attempt (an answer lost to a timeout, a reset or a 5xx, in this run or a crashed one) is
first looked up in Magento (``GET /V1/shipments`` for the order, matched on a tracking
number not yet claimed by another of our shipments); if Magento has it, its id is recorded
and nothing is posted. Magento's refusals (HTTP 400) and "this order does not exist" (HTTP 404
with Magento's own message on an existing route: the order was deleted, so nothing was
created) mark that shipment failed with Magento's message and the run goes on with the
others. Anything else (401, 404 "Request does not match any route." = wrong store_url or
store_view_code, 5xx after retries) stops the run and leaves the shipment pending.

Store view: each shipment is posted under ``store_view_code`` when it is set, else under
the code of the order's own store view (read from ``GET /V1/store/storeViews``, ACL
Magento_Backend::store), else to ``/rest/V1/...``, which Magento serves as its default
store view. A code is never guessed: an unknown one makes every route answer 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from tap_magento2.api import MagentoAPIError, MagentoClient
from tap_magento2.errors import NO_ROUTE
from target_dropstream import bundle_types, shipment_store
from target_dropstream.payloads import PayloadError, compact_payload, full_payload, ship_items
from target_dropstream.settings import TargetSettings
from target_dropstream.shipment_store import OutgoingShipment
from target_dropstream.store import FulfillmentStore

Clock = Callable[[], datetime]
ClientFactory = Callable[[TargetSettings, "str | None"], MagentoClient]
MAX_UNCERTAIN_POSTS = 3  # posts whose outcome is unknown before the run gives up
MAX_BUNDLE_RETRIES = 2  # re-posts after Magento named a bundle's shipment type
_UNCERTAIN_STATUSES = frozenset({408, 425, 429})
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
        self._order_skus: dict[int, str] = {}

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
        if shipment.attempts > 0 and self._found_in_magento(shipment, "an earlier attempt"):
            return
        order_items: dict[int, Mapping[str, Any]] | None = {}
        if any(line.is_bundle_component for line in shipment.lines):
            order_items = self._order_items(shipment)
            if order_items is None:  # the order is gone from Magento: marked failed
                return
        separately, guessed = self._bundle_types(shipment, order_items)
        if not shipment.lines:
            self._refused(shipment, "the shipment has no lines in the fulfillment store")
            return
        uncertain = 0
        bundle_retries = 0
        attempts = shipment.attempts
        while True:
            try:
                items = ship_items(shipment, separately, order_items)
            except PayloadError as exc:
                # Guessed "together" cannot express a partial kit: guess "separately"
                # instead and let Magento's validation say which is right.
                flip = {parent for parent in guessed if not separately[parent]}
                if not flip:
                    self._refused(shipment, str(exc))
                    return
                separately.update(dict.fromkeys(flip, True))
                continue
            path, body = self._request(shipment, items)
            view = self._view(shipment.store_id)
            client = self.client(view)
            if not shipment_store.mark_attempt(self.store, shipment.id, attempts, self.clock()):
                self.report.notes.append(f"{shipment.label}: being sent by another run, skipped")
                return
            attempts += 1
            try:
                answer = client.post(path, body)
            except MagentoAPIError as exc:
                if exc.status == 400:
                    learned = self._learn(shipment, exc.magento_message, separately, guessed)
                    if learned and bundle_retries < MAX_BUNDLE_RETRIES:
                        bundle_retries += 1
                        continue
                    # An earlier attempt whose answer was lost (this run's, or a killed
                    # run's request that Magento finished after our first look-up) may be
                    # what Magento refuses to repeat: look again before calling it refused.
                    earlier = uncertain or shipment.attempts > 0
                    if earlier and self._found_in_magento(shipment, "a lost answer"):
                        return
                    self._refused(shipment, str(exc))
                    return
                if _order_missing(exc):
                    # Magento looked the order up and has none: nothing was created, so
                    # only this shipment fails; the others still go out.
                    self._refused(shipment, _missing_message(shipment, exc))
                    return
                if exc.status is None or exc.status >= 500 or exc.status in _UNCERTAIN_STATUSES:
                    uncertain += 1
                    self._sleep(min(2.0**uncertain, 30.0))
                    if self._found_in_magento(shipment, "a lost answer"):
                        return
                    if uncertain < MAX_UNCERTAIN_POSTS:
                        continue
                self._stop(shipment, self._explain(exc, view))
            else:
                if self.settings.use_compact_shipment and guessed:
                    # Magento validated the bundle parents we named: the guesses were right.
                    confirmed = {parent: separately[parent] for parent in guessed}
                    shipment_store.cache_bundle_types(
                        self.store, shipment.source, shipment.order_id, confirmed
                    )
                self._notified(shipment, _shipment_id(answer), "")
                return

    def _request(self, shipment: OutgoingShipment, items: list[Any]) -> tuple[str, Any]:
        source = self.settings.source_code
        if self.settings.use_compact_shipment:
            return f"/V1/order/{shipment.order_id}/ship", compact_payload(items, shipment, source)
        return "/V1/shipment", full_payload(items, shipment, shipment.store_id, source)

    def _notified(self, shipment: OutgoingShipment, magento_id: int | None, how: str) -> None:
        shipment_store.mark_notified(self.store, shipment.id, magento_id, self.clock())
        shown = f"Magento shipment {magento_id}" if magento_id is not None else "Magento"
        line = f"{shipment.label} -> {shown}{how}"
        (self.report.found if how else self.report.notified).append(line)

    def _refused(self, shipment: OutgoingShipment, message: str) -> None:
        shipment_store.mark_failed(self.store, shipment.id, message, self.clock())
        self.report.failed.append(f"{shipment.label}: {message}")

    def _stop(self, shipment: OutgoingShipment, message: str) -> NoReturn:
        text = f"shipment {shipment.label} stays pending: {message}"
        shipment_store.note_error(self.store, shipment.id, message, self.clock())
        raise NotifyRunError(text)

    # Exactly once ---------------------------------------------------------------------------

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
        numbers = {track.track_number for track in shipment.tracks}
        for document in self.reader.search(
            "/V1/shipments",
            filter_groups=[[("order_id", str(shipment.order_id), "eq")]],
            sort=[("entity_id", "ASC")],
        ):
            magento_id = _as_int(document.get("entity_id"))
            if magento_id is None or magento_id in taken:
                continue
            tracks = document.get("tracks")
            if tracks is None:  # a list without tracks: read the shipment itself
                tracks = (self.reader.get(f"/V1/shipment/{magento_id}") or {}).get("tracks")
            if any(str(t.get("track_number")) in numbers for t in tracks or [] if t):
                return magento_id
        return None

    # Where and how to post ------------------------------------------------------------------

    def _view(self, store_id: int | None) -> str | None:
        """The store code to post under; None posts to /rest/V1 (Magento's default view)."""
        if self.settings.store_view_code:
            return self.settings.store_view_code
        if self._views is None:
            self._views = {}
            try:
                for view in self.reader.get("/V1/store/storeViews") or []:
                    view_id = _as_int(view.get("id"))
                    if view_id and view.get("code"):
                        self._views[view_id] = str(view["code"])
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
                f"Magento answered {exc.endpoint} with HTTP 404 {NO_ROUTE!r}: store_view_code "
                f"{configured!r} is not a store view code of this store. Set store_view_code "
                f"to one of this store's codes{listed}, see Stores > All Stores, or remove it "
                "to post to Magento's default store view (/rest/V1/...)"
            )
        if view:
            return f"{exc} (store view code {view!r} as listed by GET /V1/store/storeViews)"
        return str(exc)

    def _store_codes(self) -> list[str] | None:
        """This store's view codes read without a store code; [] if not readable.

        None when even ``/rest/V1`` has no such route (store_url is wrong, not the code).
        """
        try:
            views = self.client(None).get("/V1/store/storeViews") or []
        except MagentoAPIError as exc:
            return None if _no_route(exc) else []
        return [
            str(view["code"])
            for view in views
            if isinstance(view, Mapping) and _as_int(view.get("id")) and view.get("code")
        ]

    def _order_items(self, shipment: OutgoingShipment) -> dict[int, Mapping[str, Any]] | None:
        """The order's items by item id; None (shipment marked failed) if Magento has no order."""
        try:
            order = self.reader.get(f"/V1/orders/{shipment.order_id}")
        except MagentoAPIError as exc:
            if _order_missing(exc):
                self._refused(shipment, _missing_message(shipment, exc))
                return None
            reason = self._explain(exc, self.settings.store_view_code)
            self._stop(shipment, f"cannot read the order from Magento: {reason}")
        items = order.get("items") if isinstance(order, Mapping) else None
        out: dict[int, Mapping[str, Any]] = {}
        for item in items or []:
            item_id = _as_int(item.get("item_id")) if isinstance(item, Mapping) else None
            if item_id is not None:
                out[item_id] = item
        self._order_skus = {item_id: str(item.get("sku")) for item_id, item in out.items()}
        return out

    def _bundle_types(
        self, shipment: OutgoingShipment, order_items: Mapping[int, Mapping[str, Any]]
    ) -> tuple[dict[int, bool], set[int]]:
        """Whether each bundle in the shipment ships separately, and which were guesses."""
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
            return separately, set()
        product_of = {
            parent: _as_int(order_items.get(parent, {}).get("product_id")) for parent in unknown
        }
        types, problem = bundle_types.from_catalog(
            self.reader, [pid for pid in product_of.values() if pid is not None]
        )
        if problem:
            self.report.notes.append(
                f"{shipment.label}: bundle shipment type not read from the catalog ({problem}); "
                "learning it from Magento's answer"
            )
        resolved = {
            parent: types[pid] == bundle_types.SEPARATELY
            for parent, pid in product_of.items()
            if pid in types
        }
        shipment_store.cache_bundle_types(self.store, shipment.source, shipment.order_id, resolved)
        separately.update(resolved)
        guessed = unknown - set(resolved)
        for parent in guessed:
            separately[parent] = False  # Magento's default: ship together
        return separately, guessed

    def _learn(
        self,
        shipment: OutgoingShipment,
        message: str | None,
        separately: dict[int, bool],
        guessed: set[int],
    ) -> bool:
        """Apply the bundle types Magento named in a refusal; True when something changed."""
        named = bundle_types.from_message(message)
        if not named:
            return False
        parents = {
            line.parent_item_id
            for line in shipment.lines
            if line.is_bundle_component and line.parent_item_id is not None
        }
        skus = self._order_skus
        learned: dict[int, bool] = {}
        for sku, kind in named:
            apart = kind == bundle_types.SEPARATELY
            matches = [parent for parent in parents if skus.get(parent) == sku]
            for parent in matches or sorted(guessed):
                learned[parent] = apart
        changed = {
            parent: apart for parent, apart in learned.items() if separately.get(parent) != apart
        }
        if not changed:
            return False
        separately.update(changed)
        guessed.difference_update(changed)
        shipment_store.cache_bundle_types(self.store, shipment.source, shipment.order_id, changed)
        return True


def _no_route(exc: MagentoAPIError) -> bool:
    """Magento has no such route: a wrong store code in the URL, or a wrong store_url."""
    return exc.status == 404 and exc.magento_message == NO_ROUTE


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


def _shipment_id(answer: Any) -> int | None:
    """The new shipment's id: a bare scalar (often a JSON string) or a shipment document."""
    if isinstance(answer, Mapping):
        return _as_int(answer.get("entity_id"))
    return _as_int(answer)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
