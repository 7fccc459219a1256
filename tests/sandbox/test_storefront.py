"""Fixtures made the way a storefront and an admin make them: admin token, catalog writes,
guest checkout in two store views, and the order the tap and the target then read."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from magento2_sandbox import MagentoSandbox
from target_dropstream.models import Order
from target_dropstream.rules import LineType, shippable_lines
from tests.conftest import SANDBOX_NOW

from .storefront import ADDRESS, Admin, GuestCart

SIGN_IN = (
    "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
)


@pytest.fixture
def store() -> Iterator[MagentoSandbox]:
    """A sandbox on the real store's defaults (integration tokens refused as Bearer)."""
    with MagentoSandbox(order_count=30, seed=1, now=SANDBOX_NOW) as sb:
        yield sb


@pytest.fixture
def admin(store: MagentoSandbox) -> Admin:
    return Admin(store)


@pytest.fixture
def catalog(admin: Admin) -> dict[str, Any]:
    """One product of each type the contract suite orders."""
    red, blue = admin.colour("ct-Red"), admin.colour("ct-Blue")
    simple = admin.product("ct-mug")
    virtual = admin.product("ct-warranty", type_id="virtual", price=15)
    admin.product("ct-pot")
    admin.product("ct-lamp")
    admin.product("ct-mat")
    return {
        "simple": simple,
        "virtual": virtual,
        "red": red,
        "blue": blue,
        "configurable": admin.configurable(
            "ct-hoodie", {"ct-hoodie-red": red, "ct-hoodie-blue": blue}
        ),
        "together": admin.bundle("ct-kit", {"Pot": "ct-pot", "Plan": "ct-warranty"}, "0"),
        "separately": admin.bundle("ct-desk", {"Lamp": "ct-lamp", "Mat": "ct-mat"}, "1"),
    }


# -- admin token ----------------------------------------------------------------------------------


def test_admin_token_is_a_bearer_with_every_resource_while_integration_bearer_is_off(
    store: MagentoSandbox, admin: Admin
) -> None:
    assert isinstance(admin.token, str)
    assert admin.token.count(".") == 2
    assert admin.call("GET", "/orders", params={"searchCriteria[pageSize]": 1}).status_code == 200
    assert admin.call("GET", "/inventory/source-items", params={"searchCriteria": ""}).ok
    refused = requests.get(
        f"{store.base_url}/rest/V1/orders",
        params={"searchCriteria": ""},
        headers={"Authorization": f"Bearer {store.access_token}"},
        timeout=10,
    )
    assert refused.status_code == 401


def test_admin_token_refuses_wrong_credentials_with_magentos_message(store: MagentoSandbox) -> None:
    url = f"{store.base_url}/rest/V1/integration/admin/token"
    wrong = requests.post(url, json={"username": "admin", "password": "nope"}, timeout=10)
    assert wrong.status_code == 401
    assert wrong.json() == {"message": SIGN_IN}
    missing = requests.post(url, json={"username": "admin"}, timeout=10)
    assert missing.status_code == 400
    assert missing.json()["parameters"] == {"fieldName": "password"}


def test_admin_account_is_configurable_and_tokens_expire_after_four_hours() -> None:
    with MagentoSandbox(
        order_count=1, now=SANDBOX_NOW, admin_user="ops", admin_password="s3"
    ) as sb:
        assert (sb.admin_user, sb.admin_password) == ("ops", "s3")
        admin = Admin(sb)
        assert admin.call("GET", "/store/storeViews").status_code == 200
        sb.clock.advance(4 * 3600 + 1)
        expired = admin.call("GET", "/store/storeViews")
        assert expired.status_code == 401
        assert expired.json()["parameters"] == {"resources": "Magento_Backend::store"}


def test_catalog_writes_need_the_catalog_resource(store: MagentoSandbox) -> None:
    resp = requests.post(f"{store.base_url}/rest/V1/products", json={"product": {}}, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["parameters"] == {"resources": "Magento_Catalog::products"}


def test_sales_actions_need_their_resources(store: MagentoSandbox) -> None:
    for path, resource in [
        ("/order/1/invoice", "Magento_Sales::invoice"),
        ("/order/1/refund", "Magento_Sales::creditmemo"),
        ("/orders/1/hold", "Magento_Sales::hold"),
        ("/orders/1/unhold", "Magento_Sales::unhold"),
        ("/orders/1/cancel", "Magento_Sales::cancel"),
    ]:
        resp = requests.post(f"{store.base_url}/rest/V1{path}", json={}, timeout=10)
        assert resp.status_code == 401, path
        assert resp.json()["parameters"] == {"resources": resource}


# -- catalog --------------------------------------------------------------------------------------


def test_products_of_each_type_read_back_with_their_ids(
    admin: Admin, catalog: dict[str, Any]
) -> None:
    virtual = admin.ok("GET", "/products/ct-warranty")
    assert virtual["type_id"] == "virtual"
    assert "weight" not in virtual
    assert virtual["extension_attributes"]["stock_item"]["qty"] == 100

    bundle = admin.ok("GET", "/products/CT-KIT")  # SKUs match whatever their case
    options = bundle["extension_attributes"]["bundle_product_options"]
    assert [o["title"] for o in options] == ["Pot", "Plan"]
    assert all(isinstance(o["option_id"], int) for o in options)
    assert [link["sku"] for o in options for link in o["product_links"]] == [
        "ct-pot",
        "ct-warranty",
    ]
    assert all(
        link["id"] and link["option_id"] == o["option_id"]
        for o in options
        for link in o["product_links"]
    )
    assert {"attribute_code": "shipment_type", "value": "0"} in bundle["custom_attributes"]

    hoodie = admin.ok("GET", "/products/ct-hoodie")
    [option] = hoodie["extension_attributes"]["configurable_product_options"]
    assert option["attribute_id"] == "93"
    assert isinstance(option["id"], int)
    assert option["values"] == [{"value_index": catalog["red"]}, {"value_index": catalog["blue"]}]
    assert len(hoodie["extension_attributes"]["configurable_product_links"]) == 2


def test_saved_products_are_found_by_id_in_the_product_search(
    admin: Admin, catalog: dict[str, Any]
) -> None:
    separately = catalog["separately"]
    found = admin.ok(
        "GET",
        "/products",
        params={
            "searchCriteria[filterGroups][0][filters][0][field]": "entity_id",
            "searchCriteria[filterGroups][0][filters][0][value]": str(separately["id"]),
        },
    )
    assert [p["sku"] for p in found["items"]] == ["ct-desk"]
    assert {"attribute_code": "shipment_type", "value": "1"} in found["items"][0][
        "custom_attributes"
    ]
    everything = admin.ok("GET", "/products", params={"searchCriteria": ""})
    assert {"SIM-MUG", "ct-mug", "ct-hoodie-red"} <= {p["sku"] for p in everything["items"]}


def test_saving_an_existing_sku_updates_that_product(admin: Admin, catalog: dict[str, Any]) -> None:
    again = admin.product("ct-mug", price=12.5, name="Camp Mug")
    assert again["id"] == catalog["simple"]["id"]
    assert admin.ok("GET", "/products/ct-mug")["price"] == 12.5


def test_colour_options_refuse_a_taken_label_and_an_unknown_attribute(admin: Admin) -> None:
    admin.colour("ct-Green")
    taken = admin.call(
        "POST", "/products/attributes/color/options", {"option": {"label": "ct-Green"}}
    )
    assert taken.status_code == 400
    assert taken.json() == {
        "message": 'Admin store attribute option label "%1" is already exists.',
        "parameters": ["ct-Green"],
    }
    unknown = admin.call("POST", "/products/attributes/flavour/options", {"option": {"label": "x"}})
    assert unknown.status_code == 404


def test_a_product_without_a_name_is_invalid_product_data(admin: Admin) -> None:
    resp = admin.call("POST", "/products", {"product": {"sku": "ct-x", "price": 1}})
    assert resp.status_code == 400
    assert resp.json()["message"] == "Invalid product data: %1"


# -- guest checkout -------------------------------------------------------------------------------


def _place_everything(store: MagentoSandbox, catalog: dict[str, Any], code: str) -> int:
    cart = GuestCart(store, code)
    assert len(cart.cart_id) == 32
    assert cart.add("ct-mug", 2).status_code == 200
    assert cart.add_configurable("ct-hoodie", catalog["blue"]).json()["sku"] == "ct-hoodie-blue"
    assert cart.add_bundle(catalog["together"]).status_code == 200
    assert cart.add_bundle(catalog["separately"]).status_code == 200
    assert cart.add("ct-warranty").status_code == 200
    return cart.place()


def test_guest_order_has_the_lines_the_target_ships(
    store: MagentoSandbox, admin: Admin, catalog: dict[str, Any]
) -> None:
    order = admin.order(_place_everything(store, catalog, "de"))
    assert (order["status"], order["state"], order["store_id"]) == ("pending", "new", 3)
    assert order["customer_is_guest"] == 1
    assert "customer_id" not in order
    assert order["payment"]["method"] == "checkmo"
    shipping = order["extension_attributes"]["shipping_assignments"][0]["shipping"]
    assert shipping["method"] == "flatrate_flatrate"
    assert shipping["address"]["city"] == "Berlin"
    assert order["shipping_amount"] == 5 * (2 + 1 + 1 + 1)  # per shipped top-level unit

    by_sku = {(i["sku"], i["product_type"]): i for i in order["items"]}
    parent = by_sku[("ct-hoodie-blue", "configurable")]
    child = by_sku[("ct-hoodie-blue", "simple")]
    assert child["parent_item_id"] == parent["item_id"]
    assert child["price"] == 0
    assert parent["price"] == 21
    kit = by_sku[("ct-kit-ct-pot-ct-warranty", "bundle")]
    plan = next(
        i for i in order["items"] if i.get("parent_item_id") == kit["item_id"] and i["is_virtual"]
    )
    assert plan["product_type"] == "virtual"

    lines, reason = shippable_lines(Order.from_magento(order).items, include_bundle_parent=True)
    assert reason is None
    shipped = {(line.sku, line.line_type, line.ship_item_id) for line in lines}
    assert ("ct-hoodie-blue", LineType.ITEM, parent["item_id"]) in shipped  # one line, child SKU
    assert ("ct-mug", LineType.ITEM, by_sku[("ct-mug", "simple")]["item_id"]) in shipped
    assert ("ct-pot", LineType.BUNDLE_COMPONENT, None) in shipped
    assert ("ct-lamp", LineType.BUNDLE_COMPONENT, None) in shipped
    assert not any(line.sku == "ct-warranty" for line in lines)  # virtual: never shipped
    assert sum(line.qty for line in lines if line.sku == "ct-mug") == Decimal(2)


def test_each_store_view_numbers_its_own_orders(
    store: MagentoSandbox, admin: Admin, catalog: dict[str, Any]
) -> None:
    de = [admin.order(_place_everything(store, catalog, "de")) for _ in range(2)]
    default = admin.order(_place_everything(store, catalog, "default"))
    assert [o["store_id"] for o in de] == [3, 3]
    assert default["store_id"] == 1
    assert all(o["increment_id"].startswith("3") for o in de)
    assert int(de[1]["increment_id"]) == int(de[0]["increment_id"]) + 1
    assert default["increment_id"].startswith("0")
    assert (
        store.data.matching(statuses=["pending"], store_ids=[3])[-1]["entity_id"]
        == de[1]["entity_id"]
    )


def test_virtual_only_order_uses_the_billing_address_and_completes_when_invoiced(
    store: MagentoSandbox, admin: Admin, catalog: dict[str, Any]
) -> None:
    cart = GuestCart(store)
    assert cart.add("ct-warranty").status_code == 200
    address = {**ADDRESS, "email": cart.email}
    assert cart.ok("POST", "/billing-address", {"address": address})
    order_id = int(cart.pay().json())
    order = admin.order(order_id)
    assert order["is_virtual"] == 1
    assert order["shipping_amount"] == 0
    assert "address" not in order["extension_attributes"]["shipping_assignments"][0]["shipping"]
    assert admin.ok("POST", f"/order/{order_id}/invoice", {"capture": True}) == order_id
    assert admin.order(order_id)["status"] == "complete"


def test_cart_errors_are_magentos(
    store: MagentoSandbox, admin: Admin, catalog: dict[str, Any]
) -> None:
    admin.product("ct-gone", extension_attributes={"stock_item": {"qty": 0, "is_in_stock": False}})
    cart = GuestCart(store)
    unknown = cart.add("ct-nothing")
    assert unknown.status_code == 404
    assert unknown.json()["message"] == (
        "The product that was requested doesn't exist. Verify the product and try again."
    )
    gone = cart.add("ct-gone")
    assert (gone.status_code, gone.json()["message"]) == (
        400,
        "Product that you are trying to add is not available.",
    )
    too_many = cart.add("ct-mug", 101)
    assert (too_many.status_code, too_many.json()["message"]) == (
        400,
        "The requested qty is not available",
    )
    no_choice = cart.add("ct-hoodie")
    assert no_choice.json()["message"] == "You need to choose options for your item."

    assert cart.add("ct-mug").status_code == 200
    unshipped = cart.pay()  # no shipping information yet
    assert unshipped.status_code == 400
    assert "shipping" in unshipped.json()["message"]
    assert cart.ship_flat_rate().status_code == 200
    cheque_only = cart.call(
        "POST",
        "/payment-information",
        {"email": cart.email, "paymentMethod": {"method": "paypal_express"}},
    )
    assert cheque_only.json()["message"] == "The requested Payment Method is not available."
    assert cart.pay().status_code == 200
    after = cart.add("ct-mug")  # the cart was converted into an order
    assert after.status_code == 404
    assert after.json()["parameters"] == {"fieldName": "cartId", "fieldValue": None}


def test_placed_orders_reserve_stock_like_msi(store: MagentoSandbox, admin: Admin) -> None:
    admin.product("ct-last", extension_attributes={"stock_item": {"qty": 3, "is_in_stock": True}})
    first = GuestCart(store)
    assert first.add("ct-last", 2).status_code == 200
    order_id = first.place()
    second = GuestCart(store)
    assert second.add("ct-last", 2).json()["message"] == "The requested qty is not available"
    assert admin.ok("GET", "/products/ct-last")["extension_attributes"]["stock_item"]["qty"] == 3
    assert admin.ok("POST", f"/orders/{order_id}/cancel") is True  # gives the reservation back
    assert second.add("ct-last", 2).status_code == 200


# -- admin sales actions --------------------------------------------------------------------------


def test_invoice_moves_a_pending_order_to_processing(
    store: MagentoSandbox, admin: Admin, catalog: dict[str, Any]
) -> None:
    order_id = _place_everything(store, catalog, "default")
    placed = admin.order(order_id)
    store.clock.advance(5)
    invoice_id = admin.ok("POST", f"/order/{order_id}/invoice", {"capture": True})
    order = admin.order(order_id)
    assert order["status"] == order["state"] == "processing"
    assert order["updated_at"] > placed["updated_at"]
    assert order["total_paid"] == order["grand_total"]
    assert order["total_due"] == 0
    top = [i for i in order["items"] if "parent_item_id" not in i]
    assert all(i["qty_invoiced"] == i["qty_ordered"] for i in top)
    assert admin.ok("GET", f"/invoices/{invoice_id}")["order_id"] == order_id
    again = admin.call("POST", f"/order/{order_id}/invoice", {"capture": True})
    assert again.status_code == 400
    assert again.json()["message"] == (
        "Invoice Document Validation Error(s):\n"
        "The order does not allow an invoice to be created.\n"
        "You can't create an invoice without products."
    )


def test_refund_sets_quantities_and_a_full_refund_closes_the_order(
    store: MagentoSandbox, admin: Admin, catalog: dict[str, Any]
) -> None:
    cart = GuestCart(store)
    cart.add("ct-mug", 3)
    order_id = cart.place()
    pending = admin.call("POST", f"/order/{order_id}/refund", {"items": []})
    assert pending.json()["message"] == (
        "Creditmemo Document Validation Error(s):\n"
        "The order does not allow a creditmemo to be created."
    )
    admin.ok("POST", f"/order/{order_id}/invoice", {"capture": True})
    mug = admin.order(order_id)["items"][0]
    store.clock.advance(5)
    before = admin.order(order_id)["updated_at"]
    memo = admin.ok(
        "POST",
        f"/order/{order_id}/refund",
        {"items": [{"order_item_id": mug["item_id"], "qty": 1}], "notify": False},
    )
    order = admin.order(order_id)
    assert order["items"][0]["qty_refunded"] == 1
    assert order["status"] == "processing"
    assert order["updated_at"] > before
    assert admin.ok("GET", f"/creditmemo/{memo}")["order_id"] == order_id
    too_many = admin.call(
        "POST",
        f"/order/{order_id}/refund",
        {"items": [{"order_item_id": mug["item_id"], "qty": 5}]},
    )
    assert too_many.status_code == 400
    assert 'unrefunded quantity for product SKU "ct-mug"' in too_many.json()["message"]
    admin.ok(
        "POST",
        f"/order/{order_id}/refund",
        {"items": [{"order_item_id": mug["item_id"], "qty": 2}]},
    )
    closed = admin.order(order_id)
    assert closed["status"] == closed["state"] == "closed"
    assert closed["total_refunded"] == closed["total_paid"]


def test_hold_unhold_and_cancel(
    store: MagentoSandbox, admin: Admin, catalog: dict[str, Any]
) -> None:
    order_id = _place_everything(store, catalog, "de")
    store.clock.advance(5)
    placed = admin.order(order_id)["updated_at"]
    assert admin.ok("POST", f"/orders/{order_id}/hold") is True
    held = admin.order(order_id)
    assert (held["status"], held["state"]) == ("holded", "holded")
    assert held["updated_at"] > placed
    twice = admin.call("POST", f"/orders/{order_id}/hold")
    assert (twice.status_code, twice.json()) == (
        400,
        {"message": "A hold action is not available."},
    )
    assert (
        admin.ok("POST", f"/orders/{order_id}/cancel") is False
    )  # a held order cannot be canceled
    assert admin.ok("POST", f"/orders/{order_id}/unhold") is True
    assert admin.order(order_id)["status"] == "pending"
    unheld = admin.call("POST", f"/orders/{order_id}/unhold")
    assert unheld.json() == {"message": "You cannot remove the hold."}
    assert admin.ok("POST", f"/orders/{order_id}/cancel") is True
    canceled = admin.order(order_id)
    assert canceled["status"] == canceled["state"] == "canceled"
    by_id = {i["item_id"]: i for i in canceled["items"]}
    for item in canceled["items"]:
        parent = by_id.get(item.get("parent_item_id"))
        dummy = parent is not None and parent["product_type"] == "configurable"
        assert item["qty_canceled"] == (0 if dummy else item["qty_ordered"])
    lines, reason = shippable_lines(Order.from_magento(canceled).items, include_bundle_parent=True)
    assert lines == []
    assert reason
    assert admin.ok("POST", f"/orders/{order_id}/cancel") is False


def test_ship_rules_know_the_shipment_type_of_a_saved_bundle(
    store: MagentoSandbox, admin: Admin, catalog: dict[str, Any]
) -> None:
    cart = GuestCart(store)
    cart.add_bundle(catalog["separately"])
    order_id = cart.place()
    admin.ok("POST", f"/order/{order_id}/invoice", {"capture": True})
    parent = next(i for i in admin.order(order_id)["items"] if i["product_type"] == "bundle")
    resp = admin.call(
        "POST",
        f"/order/{order_id}/ship",
        {"items": [{"order_item_id": parent["item_id"], "qty": 1}]},
    )
    assert resp.status_code == 400
    assert 'has shipment type "Separately"' in resp.json()["message"]
    assert admin.call("POST", f"/order/{order_id}/ship", {}).status_code == 200
    assert admin.order(order_id)["status"] == "complete"


def test_cli_admin_password_works_and_is_never_printed() -> None:
    script = Path(sys.executable).with_name("magento2-sandbox")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "magento2_sandbox"]
    secret = "ct-admin-pass-9"
    proc = subprocess.Popen(
        [*cmd, "--port", "0", "--orders", "5", "--admin-password", secret],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert secret not in line
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        token = requests.post(
            f"{url}/rest/V1/integration/admin/token",
            json={"username": "admin", "password": secret},
            timeout=10,
        )
        assert token.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
