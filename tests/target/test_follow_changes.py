"""An imported order that Magento later holds, cancels or closes is stopped in the store.

The tap streams only ``order_import_status``; with ``order_follow_status`` it also streams
orders that moved to the listed statuses, and the target stores a new order only with an
import status while following every later change of an order it has.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.run import orders_only
from tap_magento2.sandbox import MagentoSandbox
from target_dropstream.models import Order
from target_dropstream.rules import shippable_lines
from tests.target.conftest import NOW, pipe_tap_to_target

BIN = Path(sys.executable).parent
FOLLOW = "holded,canceled,closed,complete"


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


def _shippable(sandbox: MagentoSandbox) -> list[dict[str, Any]]:
    return [
        o
        for o in sandbox.data.matching(statuses=["processing"])
        if shippable_lines(Order.from_magento(o).items, include_bundle_parent=False)[0]
    ]


def _scenario(tmp_path: Path, follow: str | None) -> tuple[dict, dict, list[int]]:
    with MagentoSandbox(order_count=150, seed=11, now=NOW) as sandbox:
        tap = {
            "store_url": sandbox.base_url,
            "access_token": sandbox.access_token,
            "start_date": "2000-01-01T00:00:00Z",
        }
        if follow:
            tap["order_follow_status"] = follow
        url = f"sqlite:///{tmp_path / 'store.db'}"
        target = {"database_url": url}
        state = _run_pipe(tmp_path, tap, target, {})
        before = _states(url)
        held, canceled, closed = (o["entity_id"] for o in _shippable(sandbox)[:3])
        sandbox.data.clock.advance(5)
        sandbox.data.update_order(held, status="holded", state="holded")
        sandbox.data.update_order(canceled, status="canceled", state="canceled")
        sandbox.data.update_order(closed, status="closed", state="closed")
        sandbox.data.clock.advance(5)  # the changes now lie before Magento's current second
        _run_pipe(tmp_path, tap, target, state)
        never_imported = {
            o["entity_id"] for o in sandbox.data.matching(statuses=FOLLOW.split(","))
        } - {held, canceled, closed}
        return before, _states(url), [held, canceled, closed, *sorted(never_imported)]


def test_followed_changes_stop_imported_orders_and_add_no_others(tmp_path: Path) -> None:
    before, after, (held, canceled, closed, *never_imported) = _scenario(tmp_path, FOLLOW)
    assert {before[i][0] for i in (held, canceled, closed)} == {"ready"}
    assert after[held] == ("held", "holded")
    assert after[canceled] == ("canceled", "canceled")
    assert after[closed] == ("canceled", "closed")
    assert never_imported, "the seed has orders in followed statuses"
    assert not set(never_imported) & set(after)  # streamed, but never imported: not stored
    assert set(after) == set(before)


def test_without_follow_statuses_the_store_cannot_see_the_change(tmp_path: Path) -> None:
    before, after, (held, canceled, closed, *_) = _scenario(tmp_path, None)
    assert after == before  # why meltano.yml sets order_follow_status for the pipeline
    assert {after[i][0] for i in (held, canceled, closed)} == {"ready"}
