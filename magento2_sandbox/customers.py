"""Registered customers of the sandbox's orders and ``GET /V1/customers/search``.

Every ``customer_id`` of an order is a customer account: its details and address come
from its first order (lowest entity_id), and it was created (and last updated) when that
order was placed. Guest orders have no account. The search answers searchCriteria with
the same semantics as ``GET /V1/orders``.
"""

from __future__ import annotations

import copy
import threading
import weakref
from typing import TYPE_CHECKING, Any

from .catalog import store_name
from .search_answer import search_answer

if TYPE_CHECKING:
    from .data import SandboxData
    from .endpoints import Call

#: customer_entity columns a search may filter or sort by (``entity_id`` is the ``id``).
CUSTOMER_COLUMNS = frozenset(
    """
    entity_id website_id email group_id store_id created_at updated_at is_active
    disable_auto_group_change created_in prefix firstname middlename lastname suffix dob
    default_billing default_shipping taxvat gender
    """.split()  # noqa: SIM905
)
_ADDRESS_FIELDS = (
    "city",
    "company",
    "country_id",
    "firstname",
    "lastname",
    "postcode",
    "region",
    "region_id",
    "street",
    "telephone",
)

_CACHE: weakref.WeakKeyDictionary[Any, tuple[Any, list[dict[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_LOCK = threading.Lock()


def _customer(order: dict[str, Any]) -> dict[str, Any]:
    customer_id = int(order["customer_id"])
    billing = order.get("billing_address") or {}
    address: dict[str, Any] = {
        k: copy.deepcopy(billing[k]) for k in _ADDRESS_FIELDS if k in billing
    }
    if isinstance(address.get("region"), str):
        address["region"] = {
            "region": address["region"],
            "region_code": billing.get("region_code"),
            "region_id": billing.get("region_id", 0),
        }
    address.update(
        {
            "id": customer_id,
            "customer_id": customer_id,
            "default_billing": True,
            "default_shipping": True,
        }
    )
    return {
        "id": customer_id,
        "group_id": order.get("customer_group_id", 1),
        "default_billing": str(customer_id),
        "default_shipping": str(customer_id),
        "created_at": order["created_at"],
        "updated_at": order["created_at"],
        "created_in": store_name(int(order.get("store_id") or 1)).split("\n")[-1],
        "email": order.get("customer_email"),
        "firstname": order.get("customer_firstname"),
        "lastname": order.get("customer_lastname"),
        "store_id": order.get("store_id"),
        "website_id": 1,
        "addresses": [address],
        "disable_auto_group_change": 0,
        "extension_attributes": {"is_subscribed": customer_id % 3 == 0},
    }


def customers(data: SandboxData) -> list[dict[str, Any]]:
    """Every customer account, ascending (updated_at, id)."""
    with data.lock:
        key = (data.version, len(data.index))
        with _CACHE_LOCK:
            cached = _CACHE.get(data)
        if cached is None or cached[0] != key:
            found: dict[int, dict[str, Any]] = {}
            for pos in range(len(data.index)):
                order = data.order_json(pos)
                customer_id = order.get("customer_id")
                if customer_id is not None and int(customer_id) not in found:
                    found[int(customer_id)] = _customer(order)
            cached = (key, sorted(found.values(), key=lambda c: (c["updated_at"], c["id"])))
            with _CACHE_LOCK:
                _CACHE[data] = cached
        return copy.deepcopy(cached[1])


def customers_search(call: Call) -> tuple[int, Any]:
    """``GET /V1/customers/search`` (CustomerRepositoryInterface::getList)."""
    rows = [{**c, "entity_id": c["id"]} for c in customers(call.app.data)]
    return search_answer(call, rows, CUSTOMER_COLUMNS, hidden="entity_id")
