"""Thread-safe in-memory store: seeded order index, changed orders, shipments, and test hooks."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from .catalog import STORE_VIEWS, store_name
from .clock import SandboxClock, format_ts, parse_ts
from .order_json import build_order
from .product_store import ProductStore
from .seed import STATE_FOR_STATUS, OrderIndex, build_index
from .wire import Encoded, EncodedOrders

SortSpec = tuple[tuple[str, bool], ...]
BUILT_CACHE_SIZE = 512
_SEEDED = object()  # the encoding's source when an order is still as seeded


class OrdersView(Mapping[int, dict[str, Any]]):
    """Read-only ``entity_id -> order JSON`` mapping; orders are built when looked up."""

    def __init__(self, data: SandboxData) -> None:
        self._data = data

    def __getitem__(self, entity_id: int) -> dict[str, Any]:
        return self._data.get_order(entity_id)

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, len(self._data.index) + 1))

    def __len__(self) -> int:
        return len(self._data.index)


class SandboxData:
    """Orders and shipments of one sandbox. All public methods are safe to call from any thread."""

    def __init__(self, *, seed: int | str, order_count: int, clock: SandboxClock) -> None:
        self.seed = seed
        self.clock = clock
        self.lock = threading.RLock()
        self.index: OrderIndex = build_index(seed, order_count, int(clock.start.timestamp()))
        self._changed: dict[int, dict[str, Any]] = {}  # position -> order JSON (added or updated)
        # Recently built seed orders (never mutated: edits go through copies into _changed).
        self._built: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._increment_override: dict[int, str] = {}
        self._encoded = EncodedOrders()
        self.version = 0
        self._caches: dict[Any, Any] = {}
        self._cache_version = -1
        self.shipments: dict[int, dict[str, Any]] = {}
        self.catalog = ProductStore()  # seeded products plus those saved through the API
        self.carts: dict[str, Any] = {}  # masked guest cart id -> guest_checkout.Cart
        self.order_shipment_lock = threading.Lock()

    # -- read access -----------------------------------------------------------------------------
    @property
    def orders(self) -> OrdersView:
        return OrdersView(self)

    @property
    def store_views(self) -> list[dict[str, Any]]:
        return copy.deepcopy(STORE_VIEWS)

    def increment_id(self, pos: int) -> str:
        return self._increment_override.get(pos) or self.index.increment_id(pos)

    def order_json(self, pos: int) -> dict[str, Any]:
        """The live order JSON (not a copy): callers must hold the lock and not mutate it."""
        changed = self._changed.get(pos)
        if changed is not None:
            return changed
        cached = self._built.get(pos)
        if cached is not None:
            self._built.move_to_end(pos)
            return cached
        row = self.index.row(pos)
        row["increment_id"] = self.increment_id(pos)
        order = build_order(self.seed, row)
        self._built[pos] = order
        if len(self._built) > BUILT_CACHE_SIZE:
            self._built.popitem(last=False)
        return order

    def order_encoded(self, pos: int) -> Encoded:
        """The order's JSON text, encoded once per version of the order."""
        changed = self._changed.get(pos)
        source = _SEEDED if changed is None else changed
        return self._encoded.get(pos, source) or self._encoded.put(
            pos, source, self.order_json(pos)
        )

    def get_order(self, entity_id: int) -> dict[str, Any]:
        with self.lock:
            pos = self._position(entity_id)
            return copy.deepcopy(self.order_json(pos))

    def exists(self, entity_id: int) -> bool:
        return 1 <= entity_id <= len(self.index)

    def _position(self, entity_id: int) -> int:
        if not self.exists(entity_id):
            raise KeyError(f"order {entity_id} does not exist")
        return entity_id - 1

    # -- caches used by the query engine (rebuilt after any change) --------------------------------
    def _cache(self, key: Any, build: Callable[[], Any]) -> Any:
        if self._cache_version != self.version:
            self._caches.clear()
            self._cache_version = self.version
        if key not in self._caches:
            self._caches[key] = build()
        return self._caches[key]

    def buckets(self, field: str) -> dict[int, list[int]]:
        column = {"status": self.index.status, "state": self.index.state}.get(
            field, self.index.store
        )

        def build() -> dict[int, list[int]]:
            out: dict[int, list[int]] = {}
            for pos, value in enumerate(column):
                out.setdefault(value, []).append(pos)
            return out

        return self._cache(("buckets", field), build)

    def sorted_column(self, field: str) -> tuple[list[int], list[int]]:
        column = self.index.created if field == "created_at" else self.index.updated

        def build() -> tuple[list[int], list[int]]:
            perm = sorted(range(len(column)), key=column.__getitem__)
            return perm, [column[p] for p in perm]

        return self._cache(("sorted", field), build)

    def sorted_positions(self, spec: SortSpec, build: Callable[[], list[int]]) -> list[int]:
        return self._cache(("perm", spec), build)

    def sorted_ranks(self, spec: SortSpec, build: Callable[[], list[int]]) -> list[int]:
        return self._cache(("rank", spec), build)

    # -- mutation hooks --------------------------------------------------------------------------
    def _sync_index(self, pos: int, order: dict[str, Any]) -> None:
        idx = self.index
        idx.created[pos] = parse_ts(order["created_at"])
        idx.updated[pos] = parse_ts(order["updated_at"])
        idx.status[pos] = idx.code(idx.status_names, str(order.get("status")))
        idx.state[pos] = idx.code(idx.state_names, str(order.get("state")))
        idx.store[pos] = int(order.get("store_id", 1))
        if order.get("increment_id") != idx.increment_id(pos):
            self._increment_override[pos] = str(order.get("increment_id"))
        self.version += 1

    def add_order(self, **overrides: Any) -> dict[str, Any]:
        """Place a new order now (created_at = updated_at = clock.now()); returns its JSON."""
        with self.lock:
            now = self.clock.now_epoch()
            status = str(overrides.get("status", "pending"))
            state = str(overrides.get("state", STATE_FOR_STATUS.get(status, "new")))
            store_id = int(overrides.get("store_id", 1))
            entity_id = self.index.append(now, now, status, state, store_id)
            pos = entity_id - 1
            row = self.index.row(pos)
            order = build_order(self.seed, row)
            order["store_name"] = store_name(store_id) if store_id else order["store_name"]
            order.update(copy.deepcopy(overrides))
            self._changed[pos] = order
            self._sync_index(pos, order)
            return copy.deepcopy(order)

    def place_order(
        self, store_id: int, build: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Place a pending order now in ``store_id``, numbered in that store view's sequence.

        ``build(row)`` makes the order JSON from its index row (entity_id, increment_id,
        created_at, updated_at, status, state, store_id).
        """
        with self.lock:
            now = self.clock.now_epoch()
            entity_id = self.index.append(now, now, "pending", "new", store_id)
            pos = entity_id - 1
            order = build(self.index.row(pos))
            self._changed[pos] = order
            self._sync_index(pos, order)
            return copy.deepcopy(order)

    def update_order(self, entity_id: int, **fields: Any) -> dict[str, Any]:
        """Change top-level fields; updated_at becomes clock.now() unless given explicitly."""
        with self.lock:
            order = self.editable_order(entity_id)
            order.update(copy.deepcopy(fields))
            if "status" in fields and "state" not in fields:
                order["state"] = STATE_FOR_STATUS.get(str(fields["status"]), order.get("state"))
            self.commit_order(entity_id, order, touch="updated_at" not in fields)
            return copy.deepcopy(order)

    def editable_order(self, entity_id: int) -> dict[str, Any]:
        """A private deep copy of an order to edit and then pass to ``commit_order``.

        Orders are copy-on-write so responses being encoded on other threads never see a
        half-applied change.
        """
        with self.lock:
            return copy.deepcopy(self.order_json(self._position(entity_id)))

    def commit_order(self, entity_id: int, order: dict[str, Any], *, touch: bool = True) -> None:
        """Store an edited order (updated_at = clock.now() when ``touch``) and refresh the index."""
        with self.lock:
            pos = self._position(entity_id)
            if touch:
                order["updated_at"] = self.clock.now_text()
            self._changed[pos] = order
            self._sync_index(pos, order)

    # -- admin edits that write other tables than sales_order -------------------------------------
    def save_order_address(self, entity: dict[str, Any]) -> dict[str, Any]:
        """``OrderAddressRepositoryInterface::save``: overwrite one address of an order.

        Only ``sales_order_address`` is written, so the order's ``updated_at`` stays as it
        was (magento-rest.md §9.4). The address is ``entity.entity_id`` of order
        ``entity.parent_id`` (Magento ignores the ``parent_id`` of the URL).

        Raises:
            LookupError: no such address on that order.
        """
        with self.lock:
            parent_id = _as_int(entity.get("parent_id"))
            if parent_id is None or not self.exists(parent_id):
                raise LookupError("no such order")
            order = self.editable_order(parent_id)
            wanted = _as_int(entity.get("entity_id"))
            found = [a for a in _addresses(order) if a.get("entity_id") == wanted]
            if wanted is None or not found:
                raise LookupError("no such address")
            for address in found:
                keys = set(address) | set(entity)
                merged = {k: entity.get(k, address.get(k)) for k in sorted(keys)}
                merged["entity_id"], merged["parent_id"] = wanted, parent_id
                address.clear()
                address.update(merged)
            self.commit_order(parent_id, order, touch=False)
            return copy.deepcopy(found[0])

    def add_order_comment(self, entity_id: int, history: dict[str, Any]) -> None:
        """``OrderManagementInterface::addComment``: the order takes the comment's status.

        ``Order::addStatusHistory`` copies the comment's status to the order, so a comment
        without one sets the status to NULL (omitted from the order JSON). ``updated_at``
        moves only when the status changes: a comment that keeps it writes only
        ``sales_order_status_history`` (magento-rest.md §9.4).
        """
        with self.lock:
            order = self.editable_order(entity_id)
            status = history.get("status") or None
            histories = order.get("status_histories") or []
            entry: dict[str, Any] = {
                "comment": history.get("comment"),
                "created_at": self.clock.now_text(),
                "entity_id": entity_id * 10 + len(histories) + 1,
                "entity_name": "order",
                "is_customer_notified": int(bool(history.get("is_customer_notified"))),
                "is_visible_on_front": int(bool(history.get("is_visible_on_front"))),
                "parent_id": entity_id,
            }
            if status is not None:
                entry["status"] = str(status)
            order["status_histories"] = [entry, *histories]
            changed = order.get("status") != status
            if status is None:
                order.pop("status", None)
            else:
                order["status"] = str(status)
            self.commit_order(entity_id, order, touch=changed)

    # -- ground truth for tests ----------------------------------------------------------------
    def matching(
        self,
        statuses: list[str] | str | None = None,
        store_ids: list[int] | None = None,
        updated_from: str | datetime | None = None,
        updated_to: str | datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Orders a correct client should get, in ascending (updated_at, entity_id) order.

        Status and store filters are exact; ``updated_from``/``updated_to`` are inclusive bounds.
        """
        if isinstance(statuses, str):
            statuses = [statuses]
        lo = _epoch(updated_from) if updated_from is not None else None
        hi = _epoch(updated_to) if updated_to is not None else None
        with self.lock:
            idx = self.index
            want = None if statuses is None else set(statuses)
            stores = None if store_ids is None else set(store_ids)
            hits = []
            for pos in range(len(idx)):
                if want is not None and idx.status_names[idx.status[pos]] not in want:
                    continue
                if stores is not None and idx.store[pos] not in stores:
                    continue
                up = idx.updated[pos]
                if (lo is not None and up < lo) or (hi is not None and up > hi):
                    continue
                hits.append((up, pos))
            hits.sort()
            return [copy.deepcopy(self.order_json(pos)) for _, pos in hits]


def _addresses(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's address objects (billing, and each shipping assignment's), live."""
    found = [order["billing_address"]] if isinstance(order.get("billing_address"), dict) else []
    extension = order.get("extension_attributes") or {}
    for assignment in extension.get("shipping_assignments") or []:
        address = (assignment.get("shipping") or {}).get("address")
        if isinstance(address, dict):
            found.append(address)
    return found


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _epoch(value: str | datetime) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return parse_ts(value)


__all__ = ["OrdersView", "SandboxData", "format_ts"]
