"""Orders encoded once: the bytes on the wire are what encoding the whole answer gives,
and an edited order is never served from its old encoding."""

from __future__ import annotations

import json

import requests

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.wire import Encoded, decoded, encode_body

from .helpers import bearer, criteria, get_orders


def test_list_body_is_exactly_json_dumps_of_the_answer(sandbox: MagentoSandbox) -> None:
    resp = get_orders(sandbox, criteria(sort=[("entity_id", "ASC")], page_size=7))
    assert resp.status_code == 200
    answer = resp.json()
    assert resp.content == json.dumps(answer).encode()
    assert [o["entity_id"] for o in answer["items"]] == list(range(1, 8))
    assert answer["items"] == [sandbox.data.orders[i] for i in range(1, 8)]


def test_single_order_body_is_exactly_json_dumps(sandbox: MagentoSandbox) -> None:
    resp = requests.get(f"{sandbox.base_url}/rest/V1/orders/5", headers=bearer(sandbox), timeout=10)
    assert resp.content == json.dumps(sandbox.data.orders[5]).encode()


def test_an_edited_order_is_served_in_its_new_version(sandbox: MagentoSandbox) -> None:
    pairs = criteria([[("entity_id", "3", "eq")]])
    before = get_orders(sandbox, pairs).json()["items"][0]  # now encoded and kept
    sandbox.data.update_order(3, status="holded", customer_note="call first")
    after = get_orders(sandbox, pairs).json()["items"][0]
    assert "customer_note" not in before or before["customer_note"] != "call first"
    assert (after["status"], after["customer_note"]) == ("holded", "call first")
    assert after["updated_at"] >= before["updated_at"]
    assert after == sandbox.data.orders[3]
    single = requests.get(
        f"{sandbox.base_url}/rest/V1/orders/3", headers=bearer(sandbox), timeout=10
    ).json()
    assert single == after


def test_fields_filter_still_applies_to_encoded_orders(sandbox: MagentoSandbox) -> None:
    pairs = [*criteria(page_size=2), ("fields", "items[entity_id,status],total_count")]
    answer = get_orders(sandbox, pairs).json()
    assert set(answer) == {"items", "total_count"}
    assert all(set(item) == {"entity_id", "status"} for item in answer["items"])
    one = requests.get(
        f"{sandbox.base_url}/rest/V1/orders/9",
        params={"fields": "entity_id,increment_id"},
        headers=bearer(sandbox),
        timeout=10,
    ).json()
    assert set(one) == {"entity_id", "increment_id"}


def test_encode_body_matches_json_dumps_in_every_shape() -> None:
    a, b = {"entity_id": 1, "x": [1.5, None]}, {"entity_id": 2, "name": "é \u2028"}
    encoded = [Encoded(json.dumps(a).encode()), b]
    for payload in (
        {"items": encoded, "search_criteria": {"page_size": 2}, "total_count": 2},
        {"items": encoded},
        {"total_count": 2, "items": encoded},  # items not first
        {"items": []},
    ):
        plain = decoded(payload)
        assert plain["items"] == [a, b] if payload["items"] else plain["items"] == []
        assert encode_body(payload) == json.dumps(plain).encode()
    assert encode_body(Encoded(b'{"a": 1}')) == b'{"a": 1}'
    assert decoded(Encoded(b'{"a": 1}')) == {"a": 1}
