"""How each store view's Meltano state ID is named, and reading bookmarks back.

Meltano names a pipeline's state ``<environment>:<extractor>-to-<loader>:<suffix>`` when
``meltano run`` gets ``--state-id-suffix`` (Meltano 4.4). The fleet runs the same two
plugins for every store and tells the pipelines apart by the suffix alone, so adding a
store never means adding plugins to ``meltano.yml``:

- production load of a store view: ``<store>-<view>``, e.g.
  ``prod:tap-magento2-to-target-dropstream:acme-default``;
- backfill from a date: ``<store>-<view>-backfill-<YYYYMMDD>``, a state ID of its own, so
  a backfill never moves the production bookmark.

Reading state goes straight to Meltano's system database (the ``state`` table), which is
what the fleet shares between workers anyway; it needs no ``meltano`` process.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

EXTRACTOR = "tap-magento2"
LOADER = "target-dropstream"


def load_suffix(store: str, view: str) -> str:
    return f"{store}-{view}"


def backfill_suffix(store: str, view: str, start_date: str) -> str:
    day = start_date[:10].replace("-", "")
    return f"{store}-{view}-backfill-{day}"


def state_id(environment: str, suffix: str) -> str:
    return f"{environment}:{EXTRACTOR}-to-{LOADER}:{suffix}"


def read_states(database_uri: str, state_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The saved state of each of ``state_ids`` that has one (as ``meltano state get``)."""
    from sqlalchemy import bindparam, create_engine, text

    wanted = list(state_ids)
    if not wanted:
        return {}
    engine = create_engine(database_uri)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT state_id, completed_state, partial_state FROM state"
                    " WHERE state_id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": wanted},
            ).all()
    finally:
        engine.dispose()
    states = {}
    for found_id, completed, partial in rows:
        # A run that ignored saved state (--full-refresh) leaves its progress as partial state.
        newest = _json(partial) or _json(completed)
        states[found_id] = newest
    return states


def _json(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) and value else value
    return loaded if isinstance(loaded, dict) and loaded.get("singer_state") else {}


def orders_bookmark(state: dict[str, Any]) -> str | None:
    """The ``orders`` stream's replication key value in a Meltano state payload."""
    bookmarks = state.get("singer_state", {}).get("bookmarks", {})
    value = bookmarks.get("orders", {}).get("replication_key_value")
    return str(value) if value is not None else None
