"""Two details clients trip over: the server's clock and the order of tied rows."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import requests

from tests.sandbox.helpers import bearer, criteria


def get_orders(sb: Any, pairs: list[tuple[str, str]]) -> requests.Response:
    return requests.get(
        f"{sb.base_url}/rest/V1/orders", params=pairs, headers=bearer(sb), timeout=10
    )


def test_date_header_follows_the_sandbox_clock(sandbox: Any) -> None:
    sandbox.clock.advance(3600)
    response = get_orders(sandbox, criteria(page_size=1))
    served_at = parsedate_to_datetime(response.headers["Date"])
    assert abs((served_at - sandbox.clock.now()).total_seconds()) < 2


def test_rows_tied_on_every_sort_field_come_in_no_particular_order(sandbox: Any) -> None:
    by_second: dict[str, int] = {}
    for order in sandbox.data.orders.values():
        by_second[order["updated_at"]] = by_second.get(order["updated_at"], 0) + 1
    busiest = max(by_second, key=lambda second: by_second[second])
    assert by_second[busiest] >= 5
    pairs = criteria([[("updated_at", busiest, "eq")]], sort=[("updated_at", "ASC")])
    ids = [item["entity_id"] for item in get_orders(sandbox, pairs).json()["items"]]
    assert sorted(ids) == sorted(set(ids))
    # Like MySQL, sorting on updated_at alone says nothing about entity_id order:
    # a client must add its own tie-break to page stably.
    assert ids != sorted(ids)
    full = criteria(
        [[("updated_at", busiest, "eq")]], sort=[("updated_at", "ASC"), ("entity_id", "ASC")]
    )
    assert [item["entity_id"] for item in get_orders(sandbox, full).json()["items"]] == sorted(ids)
