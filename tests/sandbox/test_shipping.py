"""Shipment endpoints: validation texts, silent clamping, bundle/configurable rules, effects."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from magento2_sandbox import MagentoSandbox

from .helpers import bearer

PREFIX = "Shipment Document Validation Error(s):\n"


def ship(sb: MagentoSandbox, entity_id: int, body: Any, **headers: str) -> requests.Response:
    hdrs = {**bearer(sb), "Content-Type": "application/json", **headers}
    data = body if isinstance(body, (str, bytes)) else __import__("json").dumps(body)
    return requests.post(
        f"{sb.base_url}/rest/default/V1/order/{entity_id}/ship", data=data, headers=hdrs, timeout=10
    )


def find_order(sb: MagentoSandbox, status: str, want: set[str]) -> dict[str, Any]:
    """First seeded order with the status whose lines include all wanted kinds."""
    for i in range(1, len(sb.data.orders) + 1):
        o = sb.data.orders[i]
        if o["status"] != status or o["is_virtual"]:
            continue
        kinds = set()
        for item in o["items"]:
            if item["product_type"] == "bundle":
                kinds.add("separately" if item["sku"].startswith("BND-DESK") else "together")
            elif item["product_type"] in ("configurable", "virtual", "downloadable"):
                kinds.add(item["product_type"])
            elif "parent_item_id" not in item:
                kinds.add("simple")
        if want <= kinds:
            return o
    raise AssertionError(f"no {status} order with {want}")


def line(order: dict[str, Any], product_type: str, sku_prefix: str = "") -> dict[str, Any]:
    return next(
        i
        for i in order["items"]
        if i["product_type"] == product_type
        and "parent_item_id" not in i
        and i["sku"].startswith(sku_prefix)
    )


def kids(order: dict[str, Any], parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in order["items"] if i.get("parent_item_id") == parent["item_id"]]


def test_ship_everything_completes_invoiced_order(sandbox: MagentoSandbox) -> None:
    order = find_order(sandbox, "processing", {"configurable", "simple"})
    sandbox.clock.advance(60)
    resp = ship(
        sandbox,
        order["entity_id"],
        {"tracks": [{"track_number": "1Z999", "title": "UPS", "carrier_code": "ups"}]},
    )
    assert resp.status_code == 200, resp.text
    shipment_id = resp.json()
    assert isinstance(shipment_id, str)
    assert shipment_id.isdigit()
    after = sandbox.data.orders[order["entity_id"]]
    assert after["state"] == "complete"
    assert after["status"] == "complete"
    assert after["updated_at"] == sandbox.clock.now_text()
    cfg = line(after, "configurable")
    assert cfg["qty_shipped"] == cfg["qty_ordered"]
    assert all(c["qty_shipped"] == 0 for c in kids(after, cfg))  # configurable child stays 0
    doc = requests.get(
        f"{sandbox.base_url}/rest/V1/shipment/{shipment_id}", headers=bearer(sandbox), timeout=10
    ).json()
    assert doc["order_id"] == order["entity_id"]
    assert doc["tracks"][0]["track_number"] == "1Z999"
    again = ship(sandbox, order["entity_id"], {})
    assert again.status_code == 400
    assert again.json() == {
        "message": PREFIX + "The order does not allow a shipment to be created.\n"
        "You can't create a shipment without products."
    }


def test_partial_ship_clamps_silently(sandbox: MagentoSandbox) -> None:
    order = find_order(sandbox, "processing", {"simple", "configurable"})
    simple = line(order, "simple")
    resp = ship(
        sandbox,
        order["entity_id"],
        {
            "items": [
                {"order_item_id": simple["item_id"], "qty": 99},
                {"order_item_id": 987654, "qty": 1},
            ]
        },
    )
    assert resp.status_code == 200, resp.text
    after = sandbox.data.orders[order["entity_id"]]
    shipped = next(i for i in after["items"] if i["item_id"] == simple["item_id"])
    assert shipped["qty_shipped"] == simple["qty_ordered"]
    assert after["state"] == "processing"
    doc = sandbox.data.shipments[int(resp.json())]
    assert [(i["order_item_id"], i["qty"]) for i in doc["items"]] == [
        (simple["item_id"], simple["qty_ordered"])
    ]


def test_configurable_child_only_ships_nothing(sandbox: MagentoSandbox) -> None:
    order = find_order(sandbox, "processing", {"configurable"})
    child = kids(order, line(order, "configurable"))[0]
    resp = ship(
        sandbox, order["entity_id"], {"items": [{"order_item_id": child["item_id"], "qty": 1}]}
    )
    assert resp.status_code == 400
    assert resp.json() == {"message": PREFIX + "You can't create a shipment without products."}


def test_bundle_together_rules(sandbox: MagentoSandbox) -> None:
    order = find_order(sandbox, "processing", {"together"})
    parent = line(order, "bundle", "BND-CAMP")
    child = kids(order, parent)[0]
    wrong = ship(
        sandbox, order["entity_id"], {"items": [{"order_item_id": child["item_id"], "qty": 1}]}
    )
    assert wrong.status_code == 400
    assert wrong.json()["message"].endswith(
        f'Cannot create shipment as bundle product "{parent["sku"]}" has shipment type '
        '"Together". Bundle product itself should be shipped instead.'
    )
    ok = ship(
        sandbox, order["entity_id"], {"items": [{"order_item_id": parent["item_id"], "qty": 1}]}
    )
    assert ok.status_code == 200, ok.text
    after = sandbox.data.orders[order["entity_id"]]
    new_parent = next(i for i in after["items"] if i["item_id"] == parent["item_id"])
    assert new_parent["qty_shipped"] == 1
    for c in kids(after, new_parent):
        assert c["qty_shipped"] == c["qty_ordered"] / parent["qty_ordered"]
        assert c["parent_item"]["qty_shipped"] == 1


def test_bundle_separately_rules_and_parent_quirk(sandbox: MagentoSandbox) -> None:
    order = find_order(sandbox, "processing", {"separately"})
    parent = line(order, "bundle", "BND-DESK")
    children = kids(order, parent)
    wrong = ship(
        sandbox, order["entity_id"], {"items": [{"order_item_id": parent["item_id"], "qty": 1}]}
    )
    assert wrong.status_code == 400
    assert wrong.json()["message"] == (
        PREFIX + "You can't create a shipment without products.\n"
        f'Cannot create shipment as bundle product "{parent["sku"]}" has shipment type '
        '"Separately". Bundle product options should be shipped instead.'
    )
    for child in children[:2]:
        resp = ship(
            sandbox,
            order["entity_id"],
            {"items": [{"order_item_id": child["item_id"], "qty": child["qty_ordered"]}]},
        )
        assert resp.status_code == 200, resp.text
    after = sandbox.data.orders[order["entity_id"]]
    new_parent = next(i for i in after["items"] if i["item_id"] == parent["item_id"])
    assert new_parent["qty_shipped"] == 2  # +1 per shipment holding any of its children


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("holded", "A shipment cannot be created when an order has a status of holded"),
        ("canceled", "A shipment cannot be created when an order has a status of canceled"),
    ],
)
def test_order_state_blocks_shipment(sandbox: MagentoSandbox, status: str, message: str) -> None:
    entity_id = next(
        i
        for i in range(1, 201)
        if sandbox.data.orders[i]["status"] == status and not sandbox.data.orders[i]["is_virtual"]
    )
    resp = ship(sandbox, entity_id, {})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith(PREFIX + message)


def test_virtual_order_cannot_ship(sandbox: MagentoSandbox) -> None:
    entity_id = next(i for i in range(1, 201) if sandbox.data.orders[i]["is_virtual"])
    resp = ship(sandbox, entity_id, {})
    assert resp.status_code == 400
    assert "A shipment cannot be created when an order has a status of" in resp.json()["message"]


def test_track_without_number(sandbox: MagentoSandbox) -> None:
    order = find_order(sandbox, "processing", {"simple"})
    resp = ship(sandbox, order["entity_id"], {"tracks": [{"title": "UPS", "carrier_code": "ups"}]})
    assert resp.status_code == 400
    assert resp.json() == {"message": PREFIX + "Please enter a tracking number."}
    assert sandbox.data.orders[order["entity_id"]] == order  # nothing changed


def test_content_type_and_decoding_errors(sandbox: MagentoSandbox) -> None:
    order = find_order(sandbox, "processing", {"simple"})
    url = f"{sandbox.base_url}/rest/V1/order/{order['entity_id']}/ship"
    empty = requests.post(url, data=b"{}", headers=bearer(sandbox), timeout=10)
    assert empty.status_code == 400
    assert empty.json() == {"message": "Content-Type header is empty."}
    bad = ship(sandbox, order["entity_id"], "{not json")
    assert bad.status_code == 400
    assert bad.json() == {"message": "Decoding error."}


def test_ship_auth_and_unknown_order(sandbox: MagentoSandbox) -> None:
    resp = requests.post(f"{sandbox.base_url}/rest/V1/order/1/ship", json={}, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["parameters"] == {"resources": "Magento_Sales::ship"}
    missing = ship(sandbox, 99999, {})
    assert missing.status_code == 404
    assert missing.json()["message"].startswith("The entity that was requested doesn't exist.")


def test_commit_then_drop_response(sandbox: MagentoSandbox) -> None:
    order = find_order(sandbox, "processing", {"simple"})
    sandbox.faults.add(path="/V1/order/*/ship", method="POST", kind="commit_reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        ship(sandbox, order["entity_id"], {})
    assert len(sandbox.data.shipments) == 1  # committed although the client saw no answer
    listed = requests.get(
        f"{sandbox.base_url}/rest/V1/shipments",
        headers=bearer(sandbox),
        params={
            "searchCriteria[filter_groups][0][filters][0][field]": "order_id",
            "searchCriteria[filter_groups][0][filters][0][value]": str(order["entity_id"]),
        },
        timeout=10,
    ).json()
    assert listed["total_count"] == 1
    assert listed["items"][0]["order_id"] == order["entity_id"]


def test_post_shipment_stores_document_only(sandbox: MagentoSandbox) -> None:
    order = find_order(sandbox, "processing", {"simple"})
    simple = line(order, "simple")
    resp = requests.post(
        f"{sandbox.base_url}/rest/V1/shipment",
        headers=bearer(sandbox),
        json={
            "entity": {
                "order_id": order["entity_id"],
                "items": [{"order_item_id": simple["item_id"], "qty": 1}],
                "tracks": [{"track_number": "TRK1", "title": "DHL", "carrier_code": "dhl"}],
            }
        },
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["order_id"] == order["entity_id"]
    assert doc["tracks"][0]["track_number"] == "TRK1"
    assert sandbox.data.orders[order["entity_id"]] == order  # qty_shipped and state untouched
    track = requests.post(
        f"{sandbox.base_url}/rest/V1/shipment/track",
        headers=bearer(sandbox),
        json={
            "entity": {
                "parent_id": doc["entity_id"],
                "track_number": "TRK2",
                "title": "DHL",
                "carrier_code": "dhl",
            }
        },
        timeout=10,
    )
    assert track.status_code == 200
    got = requests.get(
        f"{sandbox.base_url}/rest/V1/shipment/{doc['entity_id']}",
        headers=bearer(sandbox),
        timeout=10,
    ).json()
    assert [t["track_number"] for t in got["tracks"]] == ["TRK1", "TRK2"]
    assert (
        requests.get(
            f"{sandbox.base_url}/rest/V1/shipment/999", headers=bearer(sandbox), timeout=10
        ).status_code
        == 404
    )


def test_shipments_search(sandbox: MagentoSandbox) -> None:
    made, orders = [], []
    for status in ("processing", "pending"):
        order = find_order(sandbox, status, {"simple"})
        resp = ship(sandbox, order["entity_id"], {"tracks": [{"track_number": f"T-{status}"}]})
        assert resp.status_code == 200, resp.text
        made.append(int(resp.json()))
        orders.append(str(order["entity_id"]))
    body = requests.get(
        f"{sandbox.base_url}/rest/V1/shipments",
        headers=bearer(sandbox),
        params={  # the seeded shipments of complete orders are listed too
            "searchCriteria[filter_groups][0][filters][0][field]": "order_id",
            "searchCriteria[filter_groups][0][filters][0][value]": ",".join(orders),
            "searchCriteria[filter_groups][0][filters][0][condition_type]": "in",
            "searchCriteria[sortOrders][0][field]": "entity_id",
            "searchCriteria[sortOrders][0][direction]": "DESC",
            "searchCriteria[pageSize]": "1",
        },
        timeout=10,
    ).json()
    assert body["total_count"] == 2
    assert [s["entity_id"] for s in body["items"]] == [made[1]]
    assert body["items"][0]["tracks"][0]["track_number"] == "T-pending"
    pending = sandbox.data.orders[body["items"][0]["order_id"]]
    assert pending["state"] == "processing"  # shipped but not invoiced: not complete
