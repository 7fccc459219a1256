"""The searchCriteria the orders stream sends, page by page (no server needed)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from magerest.search import read_search_page, search_criteria_params
from tap_magento2.keyset.pagination import (
    Cursor,
    KeysetPaginator,
    PageToken,
    PagingError,
    check_page_order,
)
from tap_magento2.order_streams import orders_search_params
from tap_magento2.tap import TapMagento2
from tests.tap.support import make_response

BASE = {"store_url": "https://shop.example.com", "access_token": "tok", "order_follow_status": ""}


def orders_stream(state: dict[str, Any] | None = None, **config: Any) -> Any:
    tap = TapMagento2(config={**BASE, **config}, state=state, parse_env_config=False)
    return tap.streams["orders"]


def groups(params: dict[str, str]) -> list[list[tuple[str, str, str]]]:
    """Decode searchCriteria filter groups back into [(field, value, condition)] lists."""
    found: dict[int, dict[int, dict[str, str]]] = {}
    for key, value in params.items():
        if not key.startswith("searchCriteria[filter_groups]"):
            continue
        parts = key.replace("]", "").split("[")
        group, index, attr = int(parts[2]), int(parts[4]), parts[5]
        found.setdefault(group, {}).setdefault(index, {})[attr] = value
    return [
        [(f["field"], f["value"], f["condition_type"]) for _, f in sorted(filters.items())]
        for _, filters in sorted(found.items())
    ]


def test_first_page_without_bookmark_filters_status_and_sorts_ascending() -> None:
    params = orders_stream().get_url_params(None, None)
    assert groups(params) == [[("status", "processing", "in")]]
    assert params["searchCriteria[sortOrders][0][field]"] == "updated_at"
    assert params["searchCriteria[sortOrders][0][direction]"] == "ASC"
    assert params["searchCriteria[sortOrders][1][field]"] == "entity_id"
    assert params["searchCriteria[sortOrders][1][direction]"] == "ASC"
    assert params["searchCriteria[pageSize]"] == "100"
    assert params["searchCriteria[currentPage]"] == "1"


def test_statuses_go_in_one_in_filter() -> None:
    params = orders_stream(order_import_status=["processing", "complete"]).get_url_params(
        None, None
    )
    assert groups(params)[0] == [("status", "processing,complete", "in")]


def test_start_is_sent_inclusive_on_the_first_page_only() -> None:
    first = orders_search_params(
        statuses=["processing"],
        store_id=None,
        start="2024-03-01 10:30:15",
        token=None,
        page_size=300,
    )
    assert groups(first)[1:] == [[("updated_at", "2024-03-01 10:30:15", "gteq")]]
    assert first["searchCriteria[pageSize]"] == "300"
    later = orders_search_params(
        statuses=["processing"],
        store_id=None,
        start="2024-03-01 10:30:15",
        token=PageToken(Cursor("2024-03-02 00:00:00", 7)),
        page_size=300,
    )
    assert [("updated_at", "2024-03-01 10:30:15", "gteq")] not in groups(later)


def test_store_view_is_its_own_filter_group() -> None:
    params = orders_search_params(
        statuses=["processing", "pending"], store_id=2, start=None, token=None, page_size=10
    )
    assert groups(params) == [
        [("status", "processing,pending", "in")],
        [("store_id", "2", "eq")],
    ]


def test_next_pages_ask_for_rows_after_the_cursor_in_seconds_that_have_ended() -> None:
    token = PageToken(
        Cursor(updated_at="2025-06-01 08:00:05", entity_id=42), until="2025-06-01 09:00:00"
    )
    params = orders_stream(start_date="2024-01-01T00:00:00Z").get_url_params(None, token)
    assert groups(params) == [
        [("status", "processing", "in")],
        [("updated_at", "2025-06-01 08:00:05", "gteq")],
        [("updated_at", "2025-06-01 08:00:05", "gt"), ("entity_id", "42", "gt")],
        [("updated_at", "2025-06-01 09:00:00", "lt")],
    ]
    assert params["searchCriteria[currentPage]"] == "1"


def test_params_survive_url_encoding() -> None:
    token = PageToken(Cursor(updated_at="2025-06-01 08:00:05", entity_id=42))
    stream = orders_stream()
    request = stream.get_http_request(
        page=type("Page", (), {"stream_context": None, "next_page_token": token})()
    )
    decoded = dict(parse_qsl(request.encode_params()))
    assert decoded == {k: str(v) for k, v in request.params.items()}
    assert "2025-06-01+08%3A00%3A05" in request.encode_params()


def test_empty_search_criteria_is_still_sent() -> None:
    assert search_criteria_params([]) == {"searchCriteria": ""}


def page(items: list[tuple[str, int]], total: int) -> Any:
    body = {
        "items": [{"entity_id": i, "updated_at": ts} for ts, i in items],
        "total_count": total,
        "search_criteria": {},
    }
    return make_response(200, body)


def test_paginator_follows_the_last_row_and_stops_when_the_page_holds_the_rest() -> None:
    paginator = KeysetPaginator()
    first = page([("2025-01-01 00:00:00", 5), ("2025-01-01 00:00:00", 9)], total=3)
    paginator.advance(first)
    assert not paginator.finished
    assert paginator.current_value is not None
    assert paginator.current_value.after == Cursor("2025-01-01 00:00:00", 9)
    paginator.advance(page([("2025-01-01 00:00:01", 1)], total=1))
    assert paginator.finished


def test_paginator_refuses_a_page_that_does_not_move_past_the_cursor() -> None:
    paginator = KeysetPaginator()
    paginator.advance(page([("2025-01-01 00:00:00", 5), ("2025-01-01 00:00:00", 9)], total=4))
    with pytest.raises(PagingError, match="no order is skipped or repeated"):
        # Magento ignored the cursor filter and sent the same page again.
        paginator.advance(page([("2025-01-01 00:00:00", 5), ("2025-01-01 00:00:00", 9)], total=4))


def test_paginator_refuses_an_empty_page_while_orders_remain() -> None:
    paginator = KeysetPaginator()
    paginator.advance(page([("2025-01-01 00:00:00", 5)], total=2))
    with pytest.raises(PagingError, match="empty page"):
        paginator.advance(page([], total=7))


def test_descending_page_is_refused() -> None:
    with pytest.raises(PagingError):
        check_page_order(
            [
                {"entity_id": 2, "updated_at": "2025-01-01 00:00:02"},
                {"entity_id": 1, "updated_at": "2025-01-01 00:00:01"},
            ],
            None,
        )


def test_same_second_rows_are_ordered_by_entity_id() -> None:
    last = check_page_order(
        [
            {"entity_id": 3, "updated_at": "2025-01-01 00:00:00"},
            {"entity_id": 7, "updated_at": "2025-01-01 00:00:00"},
            {"entity_id": 1, "updated_at": "2025-01-01 00:00:01"},
        ],
        Cursor("2024-12-31 23:59:59", 99),
    )
    assert last == Cursor("2025-01-01 00:00:01", 1)


@pytest.mark.parametrize(
    "payload",
    [[], {"items": {}, "total_count": 1}, {"items": [], "total_count": "3"}, {"total_count": 2}],
)
def test_wrongly_shaped_search_results_are_errors(payload: Any) -> None:
    with pytest.raises(ValueError, match="expected"):
        read_search_page(payload)


def test_the_next_page_stays_before_the_second_magento_answered_in() -> None:
    paginator = KeysetPaginator()
    first = page([("2025-01-01 00:00:00", 5)], total=3)
    first.headers["Date"] = "Wed, 01 Jan 2025 00:00:07 GMT"
    paginator.advance(first)
    assert paginator.current_value == PageToken(
        Cursor("2025-01-01 00:00:00", 5), until="2025-01-01 00:00:07"
    )
