"""searchCriteria semantics over HTTP, checked against a brute-force read of the seed orders."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from magento2_sandbox import MagentoSandbox

from .helpers import bearer, criteria, get_orders, ids, search


@pytest.fixture(scope="module")
def sandbox() -> Iterator[MagentoSandbox]:
    """One read-only sandbox for this module (these tests never change data).

    Bearer requests allowed and input limits on (a store whose admin turned them on), so the
    page-size caps and defaults are exercised; ``test_input_limits_off`` has the store default.
    """
    with MagentoSandbox(
        order_count=200,
        seed=1,
        now=datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
        bearer_enabled=True,
        input_limits=True,
    ) as sb:
        yield sb


@pytest.fixture(scope="module")
def all_orders(sandbox: MagentoSandbox) -> list[dict[str, Any]]:
    return [sandbox.data.orders[i] for i in range(1, 201)]


def test_missing_search_criteria_is_400(sandbox: MagentoSandbox) -> None:
    resp = requests.get(f"{sandbox.base_url}/rest/V1/orders", headers=bearer(sandbox), timeout=10)
    assert resp.status_code == 400
    assert resp.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "searchCriteria"},
    }


@pytest.mark.parametrize("snake", [True, False])
def test_both_key_spellings(sandbox: MagentoSandbox, snake: bool) -> None:
    body = search(
        sandbox, [[("status", "holded", "eq")]], [("entity_id", "ASC")], 5, 1, snake=snake
    )
    assert body["items"]
    assert all(o["status"] == "holded" for o in body["items"])
    assert len(body["items"]) <= 5
    assert body["search_criteria"] == {
        "filter_groups": [
            {"filters": [{"field": "status", "value": "holded", "condition_type": "eq"}]}
        ],
        "sort_orders": [{"field": "entity_id", "direction": "ASC"}],
        "page_size": 5,
        "current_page": 1,
    }


def test_groups_are_and_filters_in_group_are_or(sandbox: MagentoSandbox, all_orders) -> None:  # type: ignore[no-untyped-def]
    # (status = canceled OR store_id = 3) AND (store_id = 2 OR store_id = 3)
    body = search(
        sandbox,
        [
            [("status", "canceled", None), ("store_id", "3", "eq")],
            [("store_id", "2", "eq"), ("store_id", "3", "eq")],
        ],
        [("entity_id", "ASC")],
        300,
    )
    expected = [
        o["entity_id"]
        for o in all_orders
        if (o["status"] == "canceled" or o["store_id"] == 3) and o["store_id"] in (2, 3)
    ]
    assert ids(body) == expected
    assert body["total_count"] == len(expected)
    assert any(o["store_id"] == 2 for o in body["items"])  # OR across different fields
    assert any(o["status"] != "canceled" for o in body["items"])


def _num(v: Any) -> float:
    return float(v)


CASES = [
    ("status", "processing", "neq", lambda o: o["status"] != "processing"),
    ("status", "PROCESSING", "eq", lambda o: o["status"] == "processing"),
    ("status", "pending,holded", "in", lambda o: o["status"] in ("pending", "holded")),
    ("status", "pending,holded", "nin", lambda o: o["status"] not in ("pending", "holded")),
    ("customer_email", "%garcia%", "like", lambda o: "garcia" in o["customer_email"]),
    ("customer_email", "%garcia%", "nlike", lambda o: "garcia" not in o["customer_email"]),
    ("increment_id", "2%", "like", lambda o: fnmatch.fnmatch(o["increment_id"], "2*")),
    ("customer_id", "", "null", lambda o: "customer_id" not in o),
    ("customer_id", "", "notnull", lambda o: "customer_id" in o),
    ("grand_total", "200", "gt", lambda o: o["grand_total"] > 200),
    ("grand_total", "100.5", "lteq", lambda o: o["grand_total"] <= 100.5),
    ("entity_id", "150", "gteq", lambda o: o["entity_id"] >= 150),
    ("entity_id", "10", "lt", lambda o: o["entity_id"] < 10),
    ("entity_id", "3,5,8", "in", lambda o: o["entity_id"] in (3, 5, 8)),
    (
        "updated_at",
        "2026-01-01 00:00:00",
        "gteq",
        lambda o: o["updated_at"] >= "2026-01-01 00:00:00",
    ),
    ("updated_at", "2026-01-01", "from", lambda o: o["updated_at"] >= "2026-01-01"),
    ("created_at", "2025-12-20 10:00:00", "to", lambda o: o["created_at"] <= "2025-12-20 10:00:00"),
    ("created_at", "2025-12-2%", "like", lambda o: o["created_at"].startswith("2025-12-2")),
    ("status", "complete", "finset", lambda o: o["status"] == "complete"),
    ("status", "complete", "nfinset", lambda o: o["status"] != "complete"),
    ("status", "holded", "moreq", lambda o: o["status"] == "holded"),  # unknown -> eq
    ("entity_id", "100", "gte", lambda o: o["entity_id"] == 100),  # typo -> eq, no error
    (
        "shipping_method",
        "flatrate_flatrate",
        "eq",
        lambda o: (
            o["extension_attributes"]["shipping_assignments"][0]["shipping"].get("method")
            == "flatrate_flatrate"
        ),
    ),
]


@pytest.mark.parametrize(("field", "value", "cond", "expect"), CASES, ids=lambda c: str(c))
def test_condition_types(sandbox: MagentoSandbox, all_orders, field, value, cond, expect) -> None:  # type: ignore[no-untyped-def]
    body = search(sandbox, [[(field, value, cond)]], [("entity_id", "ASC")], 300)
    expected = [o["entity_id"] for o in all_orders if expect(o)]
    assert ids(body) == expected
    assert body["total_count"] == len(expected)
    assert 0 < len(expected) < 200 or cond in ("gte",)


def test_from_to_in_one_group_is_a_range(sandbox: MagentoSandbox, all_orders) -> None:  # type: ignore[no-untyped-def]
    body = search(
        sandbox,
        [[("entity_id", "20", "from"), ("entity_id", "30", "to")]],
        [("entity_id", "ASC")],
        300,
    )
    assert ids(body) == list(range(20, 31))


def test_timestamp_equality_is_string_equality(sandbox: MagentoSandbox, all_orders) -> None:  # type: ignore[no-untyped-def]
    stamp = all_orders[50]["updated_at"]
    body = search(sandbox, [[("updated_at", stamp, "eq")]], None, 300)
    assert 50 + 1 in ids(body)
    assert all(o["updated_at"] == stamp for o in body["items"])
    date_only = search(sandbox, [[("updated_at", stamp[:10], "eq")]], None, 300)
    assert date_only["total_count"] == 0


def test_unknown_field_is_masked_500(sandbox: MagentoSandbox) -> None:
    for pairs in (
        criteria([[("items.sku", "SIM-MUG", "eq")]]),
        criteria([[("nope", "1", None)]]),
        criteria(sort=[("nope", "ASC")]),
    ):
        resp = get_orders(sandbox, pairs)
        assert resp.status_code == 500
        assert re.fullmatch(
            r"Internal Error\. Details are available in Magento log file\. "
            r"Report ID: webapi-[0-9a-f]{13}",
            resp.json()["message"],
        )


def test_sort_directions(sandbox: MagentoSandbox, all_orders) -> None:  # type: ignore[no-untyped-def]
    asc = search(sandbox, None, [("grand_total", "asc"), ("entity_id", "ASC")], 300)
    want = sorted(all_orders, key=lambda o: (o["grand_total"], o["entity_id"]))
    assert ids(asc) == [o["entity_id"] for o in want]
    assert asc["search_criteria"]["sort_orders"][0] == {"field": "grand_total", "direction": "ASC"}
    missing = search(sandbox, None, [("entity_id", None)], 5)  # no direction -> DESC
    assert ids(missing) == [200, 199, 198, 197, 196]
    desc_then_asc = search(
        sandbox, None, [("store_id", "DESC"), ("updated_at", "ASC"), ("entity_id", "ASC")], 300
    )
    want = sorted(all_orders, key=lambda o: (-o["store_id"], o["updated_at"], o["entity_id"]))
    assert ids(desc_then_asc) == [o["entity_id"] for o in want]


def test_natural_order_without_sort(sandbox: MagentoSandbox) -> None:
    assert ids(search(sandbox, None, None, 5)) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("direction", "status"), [("up", 400), ("", 400), ("Desc", 200)])
def test_invalid_sort_direction(sandbox: MagentoSandbox, direction: str, status: int) -> None:
    resp = get_orders(sandbox, criteria(sort=[("entity_id", direction)], page_size=3))
    assert resp.status_code == status
    if status == 400:
        assert resp.json() == {
            "message": "The sort order has to be specified as %1 for ascending order or %2 for "
            "descending order.",
            "parameters": ["ASC", "DESC"],
        }


def test_sort_field_with_restricted_symbols(sandbox: MagentoSandbox) -> None:
    resp = get_orders(sandbox, criteria(sort=[("entity_id;drop", "ASC")]))
    assert resp.status_code == 400
    assert resp.json() == {
        "message": "Sort order field %1 contains restricted symbols",
        "parameters": ["entity_id;drop"],
    }


def test_paging_and_total_count(sandbox: MagentoSandbox) -> None:
    pages = [search(sandbox, None, [("entity_id", "ASC")], 60, p) for p in (1, 2, 3, 4)]
    assert [ids(p) for p in pages] == [
        list(range(1, 61)),
        list(range(61, 121)),
        list(range(121, 181)),
        list(range(181, 201)),
    ]
    assert {p["total_count"] for p in pages} == {200}
    assert ids(search(sandbox, None, [("entity_id", "ASC")], 60, 0)) == list(range(1, 61))
    assert ids(search(sandbox, None, [("entity_id", "ASC")], 60, -2)) == list(range(1, 61))


def test_page_past_the_end_by_version(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    new = sandbox_factory(order_count=50, magento_version="2.4")
    old = sandbox_factory(order_count=50, magento_version="2.3")
    past_new = search(new, None, [("entity_id", "ASC")], 20, 9)
    assert past_new["items"] == []
    assert past_new["total_count"] == 50
    past_old = search(old, None, [("entity_id", "ASC")], 20, 9)
    assert ids(past_old) == list(range(41, 51))
    assert past_old["total_count"] == 50
    assert past_old["search_criteria"]["current_page"] == 9


def test_input_limits_on(sandbox: MagentoSandbox) -> None:
    resp = get_orders(sandbox, criteria(page_size=301))
    assert resp.status_code == 400
    assert resp.json() == {
        "message": "Maximum SearchCriteria pageSize is %max",
        "parameters": {"max": 300},
    }
    assert len(search(sandbox, None, None, 300)["items"]) == 200
    default = search(sandbox, [[("entity_id", "0", "gt")]])
    assert len(default["items"]) == 20
    assert default["total_count"] == 200
    assert default["search_criteria"]["page_size"] == 20


def test_input_limits_off(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(order_count=400, input_limits=False)
    assert len(search(sb, None, None, None)["items"]) == 400
    assert len(search(sb, None, None, 0)["items"]) == 400
    assert len(search(sb, None, None, 350)["items"]) == 350


def test_search_criteria_echo_omits_unset_parts(sandbox: MagentoSandbox) -> None:
    body = search(sandbox, [[("status", "pending", None)]], None, 3)
    assert body["search_criteria"] == {
        "filter_groups": [{"filters": [{"field": "status", "value": "pending"}]}],
        "page_size": 3,
    }
    assert list(body) == ["items", "search_criteria", "total_count"]


def test_bad_page_size_type(sandbox: MagentoSandbox) -> None:
    resp = get_orders(sandbox, [("searchCriteria[pageSize]", "ten")])
    assert resp.status_code == 400
    assert resp.json()["parameters"] == {"value": "ten", "type": "int"}


def test_fields_projection(sandbox: MagentoSandbox) -> None:
    pairs = criteria([[("status", "pending", None)]], [("increment_id", "ASC")], 3)
    body = get_orders(sandbox, [*pairs, ("fields", "items[increment_id,entity_id]")]).json()
    assert set(body) == {"items"}
    assert all(list(o) == ["entity_id", "increment_id"] for o in body["items"])
    nested = get_orders(
        sandbox,
        [
            *pairs,
            (
                "fields",
                "items[entity_id,extension_attributes[shipping_assignments[shipping[method]]]],total_count",
            ),
        ],
    ).json()
    assert set(nested) == {"items", "total_count"}
    first = nested["items"][0]
    assert set(first) == {"entity_id", "extension_attributes"}
    assert set(first["extension_attributes"]["shipping_assignments"][0]) == {"shipping"}
    assert set(first["extension_attributes"]["shipping_assignments"][0]["shipping"]) <= {"method"}
    whole = get_orders(sandbox, [*pairs, ("fields", "items[billing_address]")]).json()
    assert "street" in whole["items"][0]["billing_address"]


@pytest.mark.parametrize("spec", ["items[entity_id", "items]entity_id[", "items[entity_id]]"])
def test_malformed_fields_give_empty_array(sandbox: MagentoSandbox, spec: str) -> None:
    resp = get_orders(sandbox, [*criteria(page_size=2), ("fields", spec)])
    assert resp.status_code == 200
    assert resp.json() == []


def test_is_condition_breaks_like_magento_sql(sandbox: MagentoSandbox) -> None:
    # "IS ?" receives a quoted string, which MySQL rejects; Magento masks it as a 500.
    resp = get_orders(sandbox, criteria([[("customer_id", "NULL", "is")]]))
    assert resp.status_code == 500
    assert resp.json()["message"].startswith("Internal Error.")
