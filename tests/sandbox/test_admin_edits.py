"""Admin edits that never bump ``sales_order.updated_at`` (magento-rest.md §9.4).

``PUT /V1/orders/{parent_id}`` (OrderAddressRepositoryInterface::save) writes only the
address; ``POST /V1/orders/{id}/comments`` (OrderManagementInterface::addComment) copies the
comment's status to the order: NULL without one, and ``updated_at`` moves only when the
status changes.
"""

from __future__ import annotations

from typing import Any

import requests

from magento2_sandbox import MagentoSandbox
from tests.sandbox.helpers import bearer


def _call(sb: MagentoSandbox, method: str, path: str, body: Any) -> requests.Response:
    return requests.request(
        method, f"{sb.base_url}/rest/V1{path}", json=body, headers=bearer(sb), timeout=10
    )


def _processing(sb: MagentoSandbox) -> dict[str, Any]:
    return next(o for o in sb.data.matching(statuses=["processing"]) if not o["is_virtual"])


def _shipping(order: dict[str, Any]) -> dict[str, Any]:
    return order["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]


def test_address_save_changes_the_address_and_keeps_updated_at(sandbox: MagentoSandbox) -> None:
    order = _processing(sandbox)
    sandbox.clock.advance(3600)
    entity = {**_shipping(order), "city": "Springfield", "street": ["1 Elm Street"]}
    answer = _call(sandbox, "PUT", f"/orders/{order['entity_id']}", {"entity": entity})
    assert answer.status_code == 200, answer.text
    assert answer.json()["city"] == "Springfield"

    now = sandbox.data.get_order(order["entity_id"])
    assert now["updated_at"] == order["updated_at"]
    assert _shipping(now)["city"] == "Springfield"
    assert _shipping(now)["street"] == ["1 Elm Street"]
    assert now["billing_address"] == order["billing_address"]  # another address id


def test_address_save_refusals(sandbox: MagentoSandbox) -> None:
    order = _processing(sandbox)
    path = f"/orders/{order['entity_id']}"
    missing = _call(sandbox, "PUT", path, {})
    assert (missing.status_code, missing.json()["parameters"]) == (400, {"fieldName": "entity"})
    partial = {"entity_id": _shipping(order)["entity_id"], "city": "Nowhere"}
    refused = _call(sandbox, "PUT", path, {"entity": partial})
    assert refused.status_code == 400
    assert refused.json()["message"] == "The order address couldn't be saved."
    unknown = {**_shipping(order), "entity_id": 999_999_999}
    assert _call(sandbox, "PUT", path, {"entity": unknown}).status_code == 400
    assert sandbox.data.get_order(order["entity_id"]) == order


def test_comment_without_status_clears_it(sandbox: MagentoSandbox) -> None:
    order = _processing(sandbox)
    answer = _call(
        sandbox,
        "POST",
        f"/orders/{order['entity_id']}/comments",
        {"statusHistory": {"comment": "x"}},
    )
    assert (answer.status_code, answer.json()) == (200, True)
    now = sandbox.data.get_order(order["entity_id"])
    assert "status" not in now  # NULL: a nullable getter is omitted
    assert now["state"] == order["state"]
    assert now["status_histories"][0]["comment"] == "x"
    assert order["entity_id"] not in {o["entity_id"] for o in sandbox.data.matching(["processing"])}


def test_comment_keeping_the_status_keeps_updated_at_and_a_new_status_moves_it(
    sandbox: MagentoSandbox,
) -> None:
    order = _processing(sandbox)
    path = f"/orders/{order['entity_id']}/comments"
    sandbox.clock.advance(3600)
    same = {"statusHistory": {"comment": "packed", "status": "processing"}}
    assert _call(sandbox, "POST", path, same).status_code == 200
    assert sandbox.data.get_order(order["entity_id"])["updated_at"] == order["updated_at"]

    other = {"statusHistory": {"comment": "check stock", "status": "holded"}}
    assert _call(sandbox, "POST", path, other).status_code == 200
    now = sandbox.data.get_order(order["entity_id"])
    assert now["status"] == "holded"
    assert now["updated_at"] != order["updated_at"]


def test_comment_refusals(sandbox: MagentoSandbox) -> None:
    order = _processing(sandbox)
    missing = _call(sandbox, "POST", f"/orders/{order['entity_id']}/comments", {})
    assert (missing.status_code, missing.json()["parameters"]) == (
        400,
        {"fieldName": "statusHistory"},
    )
    unknown = _call(sandbox, "POST", "/orders/999999/comments", {"statusHistory": {"comment": "x"}})
    assert unknown.status_code == 404
