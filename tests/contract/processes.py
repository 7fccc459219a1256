"""Run the product as a user runs it: ``tap-magento2``, ``target-dropstream`` and ``dropstream``
as processes of this virtualenv, with JSON config files in a per-test folder."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.contract.fixtures import Fixtures
from tests.contract.store import ContractStore
from tests.meltano.meltano_project import clean_environ

BIN = Path(sys.executable).parent
TIMEOUT_SECONDS = 300
#: Every status the suite's orders can reach, for runs that must see all of them.
EVERY_STATUS = "pending,processing,complete,closed,canceled,holded"


def settle() -> None:
    """Let the store's clock leave the second of the last change.

    The tap reads a second of Magento's clock only once it has ended (an order saved in the
    current second waits for the next run), so a run right after a change waits this long.
    """
    time.sleep(1.1)


@dataclass
class Finished:
    """One finished process: its command, exit code and output."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        tail = "\n".join(self.stderr.strip().splitlines()[-30:])
        return f"{' '.join(self.command)} exited {self.returncode}:\n{tail}\n{self.stdout[-2000:]}"

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def records(self, stream: str = "orders") -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages()
            if m.get("type") == "RECORD" and m.get("stream") == stream
        ]

    def final_state(self) -> dict[str, Any]:
        """The last state: a tap's last STATE message, or the last state a target passed on
        (a target writes the bare state value)."""
        states = [
            m["value"] if m.get("type") == "STATE" else m
            for m in self.messages()
            if m.get("type") in ("STATE", None)
        ]
        assert states, f"no STATE message in the output of {self.describe()}"
        return states[-1]


def run(command: list[str], *, cwd: Path, check: bool = True, stdin: Any = None) -> Finished:
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=clean_environ(),
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    finished = Finished(command, completed.returncode, completed.stdout, completed.stderr)
    if check and finished.returncode != 0:
        raise AssertionError(finished.describe())
    return finished


class Workspace:
    """One test's folder: config files, state files and its own fulfillment store (SQLite)."""

    def __init__(
        self, root: Path, store: ContractStore, fixtures: Fixtures, catalog: dict[str, Any]
    ) -> None:
        self.root = root
        self.store = store
        self.fixtures = fixtures
        self.catalog = catalog
        self.database_url = f"sqlite:///{root / 'fulfillment.db'}"
        self._files = 0

    # -- settings ---------------------------------------------------------------------------
    def tap_settings(self, **overrides: Any) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "store_url": self.store.url,
            **self.store.oauth,
            "start_date": self.fixtures.start_date,
        }
        settings.update(overrides)
        return {key: value for key, value in settings.items() if value is not None}

    def target_settings(self, **overrides: Any) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "database_url": self.database_url,
            "store_url": self.store.url,
            **self.store.oauth,
        }
        settings.update(overrides)
        return {key: value for key, value in settings.items() if value is not None}

    def write(self, stem: str, body: Any) -> Path:
        self._files += 1
        path = self.root / f"{self._files:02d}-{stem}.json"
        path.write_text(json.dumps(body, indent=2), encoding="utf-8")
        return path

    def selected_catalog(self, streams: tuple[str, ...]) -> Path:
        """The tap's discovered catalog with exactly ``streams`` selected."""
        catalog = copy.deepcopy(self.catalog)
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if metadata["breadcrumb"] == []:
                    metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
        return self.write("catalog", catalog)

    # -- processes -----------------------------------------------------------------------------
    def tap_command(
        self,
        settings: dict[str, Any],
        streams: tuple[str, ...] = ("orders",),
        state: dict[str, Any] | None = None,
    ) -> list[str]:
        command = [
            str(BIN / "tap-magento2"),
            "--config",
            str(self.write("tap", settings)),
            "--catalog",
            str(self.selected_catalog(streams)),
        ]
        if state is not None:
            command += ["--state", str(self.write("state", state))]
        return command

    def tap(
        self,
        streams: tuple[str, ...] = ("orders",),
        state: dict[str, Any] | None = None,
        *,
        check: bool = True,
        **settings: Any,
    ) -> Finished:
        """``tap-magento2 --config --catalog [--state]`` with this run's start_date."""
        command = self.tap_command(self.tap_settings(**settings), streams, state)
        return run(command, cwd=self.root, check=check)

    def pipeline(
        self,
        state: dict[str, Any] | None = None,
        *,
        tap: dict[str, Any] | None = None,
        target: dict[str, Any] | None = None,
    ) -> Finished:
        """``tap-magento2 | target-dropstream`` through an OS pipe; the target's output."""
        tap_command = self.tap_command(self.tap_settings(**(tap or {})), ("orders",), state)
        target_config = self.write("target", self.target_settings(**(target or {})))
        tap_err = self.root / f"{self._files:02d}-tap.stderr"
        with tap_err.open("w", encoding="utf-8") as err:
            producer = subprocess.Popen(
                tap_command, cwd=self.root, env=clean_environ(), stdout=subprocess.PIPE, stderr=err
            )
            try:
                loaded = run(
                    [str(BIN / "target-dropstream"), "--config", str(target_config)],
                    cwd=self.root,
                    stdin=producer.stdout,
                    check=False,
                )
            finally:
                assert producer.stdout is not None
                producer.stdout.close()
                tap_code = producer.wait(timeout=TIMEOUT_SECONDS)
        if tap_code != 0:
            raise AssertionError(
                f"tap-magento2 exited {tap_code}:\n{tap_err.read_text(encoding='utf-8')[-3000:]}"
            )
        if loaded.returncode != 0:
            raise AssertionError(loaded.describe())
        return loaded

    def dropstream(self, *args: str, check: bool = True, **target: Any) -> Finished:
        """``dropstream ARGS --config target.json`` (the target's settings, as an operator)."""
        config = self.write("dropstream", self.target_settings(**target))
        command = [str(BIN / "dropstream"), args[0], "--config", str(config), *args[1:]]
        return run(command, cwd=self.root, check=check)

    # -- the fulfillment store -----------------------------------------------------------------
    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [dict(row) for row in conn.execute(text(sql), params).mappings()]
        finally:
            engine.dispose()

    def order_row(self, order_id: int) -> dict[str, Any]:
        rows = self.rows("SELECT * FROM fulfillment_orders WHERE order_id = :id", id=order_id)
        assert len(rows) == 1, f"order {order_id} is not in the fulfillment store once: {rows}"
        return rows[0]

    def lines(self, order_id: int) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT * FROM fulfillment_lines WHERE order_id = :id ORDER BY item_id", id=order_id
        )

    def shipments(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM shipments ORDER BY id")


def discover(root: Path, store: ContractStore) -> dict[str, Any]:
    """``tap-magento2 --discover``: the catalog every run selects its streams from."""
    config = root / "discover.json"
    config.write_text(json.dumps({"store_url": store.url, **store.oauth}), encoding="utf-8")
    found = run([str(BIN / "tap-magento2"), "--config", str(config), "--discover"], cwd=root)
    return json.loads(found.stdout)
