"""``order_follow_status``: statuses streamed besides the import statuses, in the same filter."""

from __future__ import annotations

import pytest

from tap_magento2.settings import STOPPING_STATUSES, parse_follow_statuses, validate_settings
from tap_magento2.tap import TapMagento2
from target_dropstream.rules import CANCELED_MAGENTO, HOLD_STATUSES, OrderState, recheck_decision
from tests.tap.keyset.test_paging_params import groups, orders_stream

BASE = {"store_url": "https://shop.example.com", "access_token": "tok"}


def test_follow_statuses_join_the_import_statuses_in_one_in_filter() -> None:
    stream = orders_stream(
        order_import_status="processing,pending", order_follow_status=["canceled,pending", "closed"]
    )
    params = stream.get_url_params(None, None)
    assert groups(params)[0] == [("status", "processing,pending,canceled,closed", "in")]


def test_unset_follows_every_status_that_stops_fulfillment() -> None:
    stream = TapMagento2(config=BASE, parse_env_config=False).streams["orders"]
    params = stream.get_url_params(None, None)
    assert groups(params)[0] == [
        ("status", "processing,holded,payment_review,fraud,canceled,closed,complete", "in")
    ]


@pytest.mark.parametrize("empty", ["", [], " , "])
def test_an_explicit_empty_list_requests_only_the_import_statuses(empty) -> None:
    params = orders_stream(order_follow_status=empty).get_url_params(None, None)
    assert groups(params)[0] == [("status", "processing", "in")]


def test_the_default_covers_every_status_the_target_stops_an_order_for() -> None:
    """The tap's default and the target's rules name the same statuses."""
    assert set(STOPPING_STATUSES) == {*HOLD_STATUSES, *CANCELED_MAGENTO, "complete"}
    for status in {*HOLD_STATUSES, *CANCELED_MAGENTO}:  # even listed as import statuses
        decision = recheck_decision(
            magento_state=None, magento_status=status, import_statuses=STOPPING_STATUSES
        )
        assert decision.state is not OrderState.READY, status


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, list(STOPPING_STATUSES)),
        ("", []),
        (" holded , canceled,,holded", ["holded", "canceled"]),
        ([], []),
    ],
)
def test_follow_statuses_parse_like_import_statuses_and_may_be_empty(value, expected) -> None:
    assert parse_follow_statuses(value) == expected


@pytest.mark.parametrize("value", [5, {"a": 1}, ["canceled", 3]])
def test_a_bad_follow_status_setting_is_named(value) -> None:
    errors = validate_settings({**BASE, "order_follow_status": value})
    assert errors == ["order_follow_status must be a status code or a list of status codes"]
