"""Catalog reads a ship notifier needs: find a bundle by product id and read its shipment type."""

from __future__ import annotations

import requests

from magento2_sandbox import MagentoSandbox

from .helpers import bearer


def _shipment_type(product: dict) -> str | None:
    for attribute in product["custom_attributes"]:
        if attribute["attribute_code"] == "shipment_type":
            return attribute["value"]
    return None


def test_bundle_found_by_product_id_not_by_its_order_sku(sandbox: MagentoSandbox) -> None:
    order = next(
        sandbox.data.orders[i]
        for i in range(1, 201)
        if any(item["sku"].startswith("BND-DESK-") for item in sandbox.data.orders[i]["items"])
    )
    bundle = next(item for item in order["items"] if item["product_type"] == "bundle")
    by_sku = requests.get(
        f"{sandbox.base_url}/rest/V1/products/{bundle['sku']}", headers=bearer(sandbox), timeout=10
    )
    assert by_sku.status_code == 404  # the order's bundle SKU is the dynamic concatenation
    params = {
        "searchCriteria[filter_groups][0][filters][0][field]": "entity_id",
        "searchCriteria[filter_groups][0][filters][0][value]": str(bundle["product_id"]),
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "eq",
    }
    found = requests.get(
        f"{sandbox.base_url}/rest/V1/products", params=params, headers=bearer(sandbox), timeout=10
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["total_count"] == 1
    [product] = body["items"]
    assert (product["id"], product["sku"], product["type_id"]) == (40, "BND-DESK", "bundle")
    assert _shipment_type(product) == "1"
    assert "entity_id" not in product


def test_product_search_pages_and_needs_a_token(sandbox: MagentoSandbox) -> None:
    params = {
        "searchCriteria[filter_groups][0][filters][0][field]": "type_id",
        "searchCriteria[filter_groups][0][filters][0][value]": "bundle",
        "searchCriteria[sortOrders][0][field]": "entity_id",
        "searchCriteria[sortOrders][0][direction]": "DESC",
        "searchCriteria[pageSize]": "1",
    }
    url = f"{sandbox.base_url}/rest/V1/products"
    page = requests.get(url, params=params, headers=bearer(sandbox), timeout=10).json()
    assert page["total_count"] == 3
    assert [(p["sku"], _shipment_type(p)) for p in page["items"]] == [("BND-TRAVEL", "0")]
    params["searchCriteria[currentPage]"] = "2"
    page = requests.get(url, params=params, headers=bearer(sandbox), timeout=10).json()
    assert [(p["sku"], _shipment_type(p)) for p in page["items"]] == [("BND-DESK", "1")]
    params["searchCriteria[currentPage]"] = "3"
    page = requests.get(url, params=params, headers=bearer(sandbox), timeout=10).json()
    assert [(p["sku"], _shipment_type(p)) for p in page["items"]] == [("BND-CAMP", "0")]
    anonymous = requests.get(url, params=params, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["parameters"] == {"resources": "Magento_Catalog::products"}
