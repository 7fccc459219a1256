"""An imported order that Magento later holds, reviews, cancels or closes is stopped.

The tap streams ``order_import_status`` and, by default, every status that stops
fulfillment (``order_follow_status``; an explicit empty list turns that off); the target
stores a new order only with an import status while following every later change of an
order it has.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.run import orders_only
from magento2_sandbox import MagentoSandbox
from tap_magento2.settings import STOPPING_STATUSES
from target_dropstream.models import Order
from target_dropstream.rules import shippable_lines
from tests.conftest import sandbox_config
from tests.target.conftest import NOW, pipe_tap_to_target

BIN = Path(sys.executable).parent


def _run_pipe(tmp_path: Path, tap: dict[str, Any], target: dict[str, Any], state: dict) -> dict:
    """tap-magento2 (orders only, as meltano.yml selects) | target-dropstream; the last STATE."""
    tap_config, target_config, state_file = (tmp_path / n for n in ("t.json", "d.json", "s.json"))
    tap_config.write_text(json.dumps(tap))
    target_config.write_text(json.dumps(target))
    state_file.write_text(json.dumps(state))
    discovered = subprocess.run(
        [str(BIN / "tap-magento2"), "--config", str(tap_config), "--discover"],
        capture_output=True,
        check=True,
    ).stdout
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(orders_only(json.loads(discovered))))
    done = pipe_tap_to_target(
        ["--config", str(tap_config), "--catalog", str(catalog), "--state", str(state_file)],
        target_config,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def _states(url: str) -> dict[int, tuple[str, str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT order_id, state, magento_status FROM fulfillment_orders"))
        found = {row[0]: (row[1], row[2]) for row in rows}
    engine.dispose()
    return found


def _reason(tmp_path: Path, order_id: int) -> str:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as conn:
        query = text("SELECT state_reason FROM fulfillment_orders WHERE order_id = :id")
        reason = conn.execute(query, {"id": order_id}).scalar_one()
    engine.dispose()
    return reason


def _shippable(sandbox: MagentoSandbox) -> list[dict[str, Any]]:
    return [
        o
        for o in sandbox.data.matching(statuses=["processing"])
        if shippable_lines(Order.from_magento(o).items, include_bundle_parent=False)[0]
    ]


def _scenario(tmp_path: Path, follow: str | None) -> tuple[dict, dict, list[int], set[int]]:
    """Import, then Magento stops five imported orders; ``follow`` None = the tap's default.

    Returns the store before and after, the stopped orders (as in STOPS) and the orders in
    a followed status that were never imported.
    """
    with MagentoSandbox(order_count=150, seed=11, now=NOW) as sandbox:
        tap = sandbox_config(sandbox, start_date="2000-01-01T00:00:00Z", order_follow_status=follow)
        url = f"sqlite:///{tmp_path / 'store.db'}"
        target = {"database_url": url}
        state = _run_pipe(tmp_path, tap, target, {})
        before = _states(url)
        stopped = [o["entity_id"] for o in _shippable(sandbox)[: len(STOPS)]]
        sandbox.data.clock.advance(5)
        for entity_id, (status, mstate) in zip(stopped, STOPS, strict=True):
            sandbox.data.update_order(entity_id, status=status, state=mstate)
        sandbox.data.clock.advance(5)  # the changes now lie before Magento's current second
        _run_pipe(tmp_path, tap, target, state)
        never_imported = {
            o["entity_id"] for o in sandbox.data.matching(statuses=list(STOPPING_STATUSES))
        } - set(stopped)
        return before, _states(url), stopped, never_imported


#: (status, state) Magento moves an imported order to, in the order of the checks below.
STOPS = [
    ("holded", "holded"),
    ("payment_review", "payment_review"),
    ("fraud", "payment_review"),
    ("canceled", "canceled"),
    ("closed", "closed"),
]


def test_by_default_the_tap_follows_every_status_that_stops_an_imported_order(
    tmp_path: Path,
) -> None:
    """No order_follow_status: a plain tap | target pipe stops the order like meltano.yml's."""
    before, after, stopped, never_imported = _scenario(tmp_path, None)
    held, review, fraud, canceled, closed = stopped
    assert {before[i][0] for i in stopped} == {"ready"}
    assert after[held] == ("held", "holded")
    assert after[review] == ("held", "payment_review")
    assert after[fraud] == ("held", "fraud")
    assert _reason(tmp_path, review) == (
        "Magento status is 'payment_review': payment under review; held until Magento moves it back"
    )
    assert after[canceled] == ("canceled", "canceled")
    assert after[closed] == ("canceled", "closed")
    assert never_imported, "the seed has orders in followed statuses"
    assert not never_imported & set(after)  # streamed, but never imported: not stored
    assert set(after) == set(before)


def test_an_explicit_empty_follow_list_follows_nothing(tmp_path: Path) -> None:
    before, after, stopped, _ = _scenario(tmp_path, "")
    assert after == before  # the store cannot see the change
    assert {after[i][0] for i in stopped} == {"ready"}
