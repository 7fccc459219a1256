"""``order_follow_status``: statuses streamed besides the import statuses, in the same filter."""

from __future__ import annotations

import pytest

from tap_magento2.settings import parse_follow_statuses, validate_settings
from tests.tap.test_paging_params import groups, orders_stream

BASE = {"store_url": "https://shop.example.com", "access_token": "tok"}


def test_follow_statuses_join_the_import_statuses_in_one_in_filter() -> None:
    stream = orders_stream(
        order_import_status="processing,pending", order_follow_status=["canceled,pending", "closed"]
    )
    params = stream.get_url_params(None, None)
    assert groups(params)[0] == [("status", "processing,pending,canceled,closed", "in")]


def test_without_follow_statuses_only_the_import_statuses_are_requested() -> None:
    params = orders_stream().get_url_params(None, None)
    assert groups(params)[0] == [("status", "processing", "in")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, []), ("", []), (" holded , canceled,,holded", ["holded", "canceled"]), ([], [])],
)
def test_follow_statuses_parse_like_import_statuses_and_may_be_empty(value, expected) -> None:
    assert parse_follow_statuses(value) == expected


@pytest.mark.parametrize("value", [5, {"a": 1}, ["canceled", 3]])
def test_a_bad_follow_status_setting_is_named(value) -> None:
    errors = validate_settings({**BASE, "order_follow_status": value})
    assert errors == ["order_follow_status must be a status code or a list of status codes"]
