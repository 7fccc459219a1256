"""``lookback_seconds``: an order whose save committed late is not passed by the bookmark.

Magento stamps ``updated_at`` when the save starts; other connections see the order only
after its transaction commits. The sandbox models a late commit by adding an order whose
``updated_at`` lies before the bookmark a run already saved.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tap_magento2.settings import parse_lookback, validate_settings
from tap_magento2.timestamps import to_magento
from tests.conftest import sandbox_config
from tests.tap.support import run_tap

BASE = {"store_url": "https://shop.example.com", "access_token": "tok"}


def _late_commit(make_sandbox: Any, lookback: int | None) -> tuple[Any, Any, dict[str, Any]]:
    sb = make_sandbox(order_count=80, seed=12)
    config = sandbox_config(sb, lookback_seconds=lookback)
    first = run_tap(config)
    bookmark = datetime.fromisoformat(first.bookmark())
    sb.clock.advance(5)
    late = sb.data.add_order(
        status="processing", updated_at=to_magento(bookmark - timedelta(seconds=20))
    )
    sb.clock.advance(2)
    second = run_tap(config, state=first.final_state)
    return first, second, late


def test_an_order_committed_late_is_read_by_the_next_run(make_sandbox: Any) -> None:
    first, second, late = _late_commit(make_sandbox, None)  # the default, 60 s
    again = [r["entity_id"] for r in second.records()]
    assert late["entity_id"] in again
    window = datetime.fromisoformat(first.bookmark()) - timedelta(seconds=60)
    read_again = {
        r["entity_id"] for r in first.records() if datetime.fromisoformat(r["updated_at"]) >= window
    }
    assert set(again) == read_again | {late["entity_id"]}  # the window, nothing older
    assert second.bookmark() == first.bookmark()  # it ends at the newest order again


def test_without_lookback_such_an_order_is_passed(make_sandbox: Any) -> None:
    _, second, late = _late_commit(make_sandbox, 0)
    assert late["entity_id"] not in [r["entity_id"] for r in second.records()]


def test_the_first_run_starts_at_start_date(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=60, seed=13)
    start = sb.data.matching(statuses=["processing"])[10]["updated_at"]
    run = run_tap(sandbox_config(sb, start_date=start.replace(" ", "T") + "Z"))
    assert min(r["updated_at"] for r in run.records()) == start.replace(" ", "T") + "+00:00"


@pytest.mark.parametrize(("value", "expected"), [(None, 60), (0, 0), (300, 300), ("45", 45)])
def test_lookback_setting_values(value: Any, expected: int) -> None:
    assert parse_lookback(value) == expected


@pytest.mark.parametrize("value", [-1, 86_401, "soon", 1.5])
def test_a_bad_lookback_is_named(value: Any) -> None:
    assert validate_settings({**BASE, "lookback_seconds": value}) == [
        "lookback_seconds must be a whole number from 0 to 86400"
    ]
