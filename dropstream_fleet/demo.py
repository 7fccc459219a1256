"""``make fleet-demo``: three sandbox stores through the fleet on Dagster, twice.

1. Meltano gets its virtualenv and installs both plugins from this checkout.
2. Three stores start on free loopback ports: ``healthy`` (two store views), ``slow``
   (every orders request answered 300 ms late) and ``down`` (a port nothing listens on,
   as when a merchant's store is offline).
3. A throwaway PostgreSQL database holds the fulfillment store, another Meltano's state.
4. The fleet runs once with Dagster's multiprocess executor; a table shows each store
   view's result, orders, state ID and bookmark, and why ``down`` failed. ``down`` fails
   alone, after Dagster's retry; the others load.
5. The fleet runs again: the healthy stores' runs are incremental (few or no orders).

The sandboxes' OAuth keys are the sandbox's own demo keys, not secrets. Databases are
dropped at the end (``--keep`` keeps them and prints their URLs). The helpers here are
also what ``tests/fleet`` and ``bench/fleet.py`` use to build a fleet of sandboxes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("DROPSTREAM_FLEET_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
OAUTH_SETTINGS = ("access_token", "consumer_key", "consumer_secret", "access_token_secret")


@dataclass
class DemoStore:
    """A fleet entry backed by a sandbox (``keys``) or by nothing at all (``keys`` empty)."""

    name: str
    url: str
    store_views: Sequence[str]
    keys: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def variable(self, setting: str) -> str:
        return f"FLEET_DEMO_{self.name.upper()}_{setting.upper()}"

    def entry(self) -> dict[str, Any]:
        credentials = {f"{s}_env": self.variable(s) for s in OAUTH_SETTINGS}
        return {
            "name": self.name,
            "url": self.url,
            "store_views": list(self.store_views),
            "credentials": credentials,
            **self.extra,
        }

    def environment(self) -> dict[str, str]:
        """The credential variables; a store without keys gets a well-formed wrong token."""
        if not self.keys:
            return {self.variable(s): "0" * 32 for s in OAUTH_SETTINGS}
        return {self.variable(s): self.keys[s] for s in OAUTH_SETTINGS}


def sandbox_keys(sandbox: Any) -> dict[str, str]:
    return {name: getattr(sandbox.oauth, name) for name in OAUTH_SETTINGS}


def free_port() -> int:
    """A loopback port nothing listens on (a store that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_fleet_file(
    path: Path,
    stores: Sequence[DemoStore],
    plugins: Path,
    *,
    max_concurrent: int = 4,
    defaults: Mapping[str, Any] | None = None,
) -> Path:
    """A fleet file for ``stores`` running this checkout's Meltano project."""
    document = {
        "fleet": {
            "meltano_project": str(REPO_ROOT),
            "meltano_executable": str(REPO_ROOT / ".venv" / "meltano" / "bin" / "meltano"),
            "meltano_sys_dir": str(plugins),
            "work_dir": str(path.parent / "pipelines"),
            "max_concurrent": max_concurrent,
            "schedules_running": False,
        },
        "defaults": dict(defaults or {}),
        "stores": [store.entry() for store in stores],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def installed_plugins() -> Path:
    """Meltano and both plugins from this checkout (quick when already installed)."""
    sys.path.insert(0, str(REPO_ROOT))
    from scripts.meltano_venv import ensure_meltano, install_plugins

    return install_plugins(ensure_meltano(REPO_ROOT), REPO_ROOT)


def _admin(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def postgres_available() -> bool:
    try:
        _admin("SELECT 1")
    except Exception:
        return False
    return True


@contextlib.contextmanager
def throwaway_databases(label: str, *, keep: bool = False) -> Iterator[dict[str, str]]:
    """Two new PostgreSQL databases (fulfillment store, Meltano state), dropped on exit.

    Yields the fleet's variables: ``DROPSTREAM_DATABASE_URL`` and ``MELTANO_DATABASE_URI``.
    """
    tag = uuid.uuid4().hex[:8]
    names = {"DROPSTREAM_DATABASE_URL": f"{label}_store_{tag}"}
    names["MELTANO_DATABASE_URI"] = f"{label}_meltano_{tag}"
    made = []
    try:
        for name in names.values():
            _admin(f'CREATE DATABASE "{name}"')
            made.append(name)
        yield {variable: f"{PG_SERVER}/{name}" for variable, name in names.items()}
    finally:
        if not keep:
            for name in made:
                _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables for this process and the Dagster step processes it starts."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201 - the demo talks to the person running it


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fleet-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the two databases")
    args = parser.parse_args(argv)
    from dropstream_fleet.report import format_run, state_ids_of
    from dropstream_fleet.runner import run_fleet
    from dropstream_fleet.state_ids import read_states
    from magento2_sandbox import MagentoSandbox

    if not postgres_available():
        say(f"PostgreSQL is not reachable at {PG_SERVER} (set DROPSTREAM_FLEET_PG to another).")
        return 1
    say("==> [1/4] Meltano and the plugins (.venv/meltano)")
    plugins = installed_plugins()
    with contextlib.ExitStack() as stack:
        healthy = stack.enter_context(MagentoSandbox(order_count=300, seed=21))
        slow = stack.enter_context(MagentoSandbox(order_count=150, seed=22, latency_ms=300))
        stores = [
            DemoStore("healthy", healthy.base_url, ["default", "fr"], sandbox_keys(healthy)),
            DemoStore("slow", slow.base_url, ["default"], sandbox_keys(slow)),
            DemoStore(
                "down",
                f"http://127.0.0.1:{free_port()}",
                ["default"],
                extra={"env": {"TAP_MAGENTO2_RETRY_MAX_TRIES": 2}},
            ),
        ]
        say("==> [2/4] Three stores: " + ", ".join(f"{s.name} {s.url}" for s in stores))
        workdir = Path(stack.enter_context(_tempdir()))
        fleet_file = write_fleet_file(
            workdir / "fleet.yml",
            stores,
            plugins,
            max_concurrent=3,
            defaults={"retries": 1, "retry_delay_seconds": 1, "max_concurrent": 2},
        )
        databases = stack.enter_context(throwaway_databases("fleet_demo", keep=args.keep))
        variables = {**databases}
        for store in stores:
            variables.update(store.environment())
        stack.enter_context(environment(variables))
        say(f"    fleet file {fleet_file}; fulfillment store and Meltano state in PostgreSQL")
        for number, title in ((3, "First run (full loads)"), (4, "Second run (incremental)")):
            say(f"\n==> [{number}/4] {title}: dagster execute_job, multiprocess executor")
            result = run_fleet(fleet_file, console_log=workdir / "steps.log")
            states = read_states(databases["MELTANO_DATABASE_URI"], state_ids_of(result.steps))
            say(format_run(result, states))
        if args.keep:
            say("\nKept: " + ", ".join(f"{k}={v}" for k, v in databases.items()))
    say("\nThe 'down' store failed alone with the tap's own words; the others loaded, then ran")
    say("incrementally. In Dagster's UI: DROPSTREAM_FLEET_CONFIG=fleet.yml dagster dev -m")
    say("dropstream_fleet.definitions (README, 'Scaling out').")
    return 0


@contextlib.contextmanager
def _tempdir() -> Iterator[str]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fleet-demo-") as name:
        yield name


if __name__ == "__main__":
    raise SystemExit(main())
