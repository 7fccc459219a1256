"""Whether each bundle in a shipment ships together or separately, before it is posted.

The type comes from the catalog (``GET /V1/products``, ACL Magento_Catalog::products, see
:mod:`target_dropstream.bundle_types`), never from Magento's (translated) messages, and is
cached on the shipment's lines. When the catalog cannot tell, the shipment is marked failed
and nothing is posted; when Magento refuses a post, the catalog is read again in case a
product edit changed the type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from magerest.client import MagentoAPIError
from target_dropstream import bundle_types
from target_dropstream.notify.session import Session
from target_dropstream.notify.store_views import explain
from target_dropstream.shipment_models import OutgoingShipment

MAX_BUNDLE_RETRIES = 1  # re-posts after the catalog changed a bundle's shipment type


def shipped_separately(
    session: Session, shipment: OutgoingShipment, order_items: Mapping[int, Mapping[str, Any]]
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
        resolved = bundle_types.separately_by_parent(session.reader, unknown, order_items)
    except MagentoAPIError as exc:
        if exc.status in (401, 403):
            message = _catalog_refused(exc, unknown, order_items)
            session.refused(shipment, message, posted=False)
            return None
        reason = explain(session, exc, session.settings.store_view_code)
        session.stop(shipment, f"cannot read the bundle's shipment type: {reason}")
    missing = sorted(unknown - set(resolved))
    if missing:
        names = ", ".join(_bundle_name(parent, order_items) for parent in missing)
        session.refused(
            shipment,
            f"Magento's catalog has no bundle product for {names} (GET /V1/products by "
            "product id): whether it ships together or separately is unknown, so nothing "
            "was posted",
            posted=False,
        )
        return None
    session.store.shipments.cache_bundle_types(shipment.source, shipment.order_id, resolved)
    separately.update(resolved)
    return separately


def types_changed(
    session: Session,
    shipment: OutgoingShipment,
    order_items: Mapping[int, Mapping[str, Any]],
    separately: dict[int, bool],
) -> bool:
    """After a refusal: re-read the shipment's bundles from the catalog (a cached type
    can be stale after a product edit); True when one changed, so the post is retried."""
    if not separately:
        return False
    try:
        fresh = bundle_types.separately_by_parent(session.reader, set(separately), order_items)
    except MagentoAPIError:
        return False
    changed = {parent: apart for parent, apart in fresh.items() if separately.get(parent) != apart}
    if not changed:
        return False
    separately.update(changed)
    session.store.shipments.cache_bundle_types(shipment.source, shipment.order_id, changed)
    return True


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
