"""A storefront and an admin talking to the sandbox over HTTP, as the contract suite does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from magento2_sandbox import MagentoSandbox

ADDRESS = {
    "firstname": "Ada",
    "lastname": "Lovelace",
    "street": ["Invalidenstraße 43"],
    "city": "Berlin",
    "region": "Berlin",
    "region_id": 82,
    "postcode": "10115",
    "country_id": "DE",
    "telephone": "+49 30 1234567",
}


@dataclass
class Admin:
    """Calls made with an admin token (``POST /V1/integration/admin/token``)."""

    sb: MagentoSandbox
    token: str = ""

    def __post_init__(self) -> None:
        resp = requests.post(
            f"{self.sb.base_url}/rest/V1/integration/admin/token",
            json={"username": self.sb.admin_user, "password": self.sb.admin_password},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        self.token = resp.json()

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return requests.request(
            method,
            f"{self.sb.base_url}/rest/V1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
            **kw,
        )

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        resp = self.call(method, path, body, **kw)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def order(self, entity_id: int | str) -> dict[str, Any]:
        return self.ok("GET", f"/orders/{entity_id}")

    def product(self, sku: str, **fields: Any) -> dict[str, Any]:
        """Save a product (simple unless ``type_id`` says otherwise) with 100 in stock."""
        product: dict[str, Any] = {
            "sku": sku,
            "name": sku.replace("-", " ").title(),
            "attribute_set_id": 4,
            "price": 10,
            "status": 1,
            "visibility": 4,
            "type_id": "simple",
            "weight": 1,
            "extension_attributes": {
                "website_ids": [1],
                "stock_item": {"qty": 100, "is_in_stock": True},
            },
        }
        extension = fields.pop("extension_attributes", {})
        product.update(fields)
        product["extension_attributes"].update(extension)
        if product["type_id"] == "virtual":
            product.pop("weight")
        return self.ok("POST", "/products", {"product": product})

    def colour(self, label: str) -> int:
        return int(
            self.ok("POST", "/products/attributes/color/options", {"option": {"label": label}})
        )

    def configurable(self, sku: str, children: dict[str, int]) -> dict[str, Any]:
        """A configurable over new simple children, one per colour option id."""
        ids = [
            self.product(child, price=20 + k, custom_attributes=[_attr("color", value)])["id"]
            for k, (child, value) in enumerate(children.items())
        ]
        options = [
            {
                "attribute_id": "93",
                "label": "Color",
                "position": 0,
                "values": [{"value_index": value} for value in children.values()],
            }
        ]
        return self.product(
            sku,
            type_id="configurable",
            price=0,
            extension_attributes={
                "configurable_product_options": options,
                "configurable_product_links": ids,
            },
        )

    def bundle(self, sku: str, options: dict[str, str], shipment_type: str) -> dict[str, Any]:
        """A fixed-price bundle with one required select option per ``title -> sku``."""
        bundle_options = [
            {
                "title": title,
                "type": "select",
                "required": True,
                "product_links": [
                    {"sku": child, "qty": 1, "is_default": True, "can_change_quantity": 0}
                ],
            }
            for title, child in options.items()
        ]
        return self.product(
            sku,
            type_id="bundle",
            price=50,
            extension_attributes={"bundle_product_options": bundle_options},
            custom_attributes=[_attr("shipment_type", shipment_type), _attr("price_type", "1")],
        )


def _attr(code: str, value: Any) -> dict[str, Any]:
    return {"attribute_code": code, "value": str(value)}


@dataclass
class GuestCart:
    """A guest cart in one store view (``/rest/<code>/V1``), no Authorization header."""

    sb: MagentoSandbox
    store_code: str = "default"
    cart_id: str = ""
    email: str = "ada@example.com"
    answers: list[requests.Response] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cart_id = self.ok("POST", "")

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        url = f"{self.sb.base_url}/rest/{self.store_code}/V1/guest-carts"
        if self.cart_id:
            url += f"/{self.cart_id}"
        resp = requests.request(method, url + path, json=body, timeout=10)
        self.answers.append(resp)
        return resp

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        resp = self.call(method, path, body)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def add(self, sku: str, qty: float = 1, **extension: Any) -> requests.Response:
        item: dict[str, Any] = {"sku": sku, "qty": qty, "quote_id": self.cart_id}
        if extension:
            item["product_option"] = {"extension_attributes": extension}
        return self.call("POST", "/items", {"cartItem": item})

    def add_configurable(self, sku: str, colour: int, qty: float = 1) -> requests.Response:
        return self.add(
            sku, qty, configurable_item_options=[{"option_id": "93", "option_value": colour}]
        )

    def add_bundle(self, bundle: dict[str, Any], qty: float = 1) -> requests.Response:
        chosen = [
            {
                "option_id": option["option_id"],
                "option_qty": 1,
                "option_selections": [int(option["product_links"][0]["id"])],
            }
            for option in bundle["extension_attributes"]["bundle_product_options"]
        ]
        return self.add(bundle["sku"], qty, bundle_options=chosen)

    def ship_flat_rate(self) -> requests.Response:
        address = {**ADDRESS, "email": self.email}
        info = {
            "shipping_address": address,
            "billing_address": address,
            "shipping_carrier_code": "flatrate",
            "shipping_method_code": "flatrate",
        }
        return self.call("POST", "/shipping-information", {"addressInformation": info})

    def pay(self) -> requests.Response:
        body = {
            "email": self.email,
            "paymentMethod": {"method": "checkmo"},
            "billingAddress": {**ADDRESS, "email": self.email},
        }
        return self.call("POST", "/payment-information", body)

    def place(self) -> int:
        """Flat rate shipping, then check / money order: the new order's id."""
        assert self.ship_flat_rate().status_code == 200, self.answers[-1].text
        resp = self.pay()
        assert resp.status_code == 200, resp.text
        return int(resp.json())
