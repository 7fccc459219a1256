"""``dropstream-fleet``: check the fleet file, run the fleet once, backfill a store.

Scheduled runs belong to Dagster (``dagster dev -m dropstream_fleet.definitions`` or a
deployment); this command is for the operator at a terminal and for scripts:

    dropstream-fleet check                     # the file, state IDs, which variables are set
    dropstream-fleet run                       # every store once (multiprocess executor)
    dropstream-fleet backfill acme --since 2025-01-01 [--view default]
    dropstream-fleet run-queue                 # dagster.yaml run_queue block for the limits

``--config`` (or ``DROPSTREAM_FLEET_CONFIG``) names the fleet file, ``fleet.yml`` by
default. Exit status 1 when any store failed, 2 for a wrong file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from dropstream_fleet import STORE_TAG
from dropstream_fleet.config import FleetConfig, FleetConfigError, load_fleet
from dropstream_fleet.pipeline import Pipeline, PipelineError, upgrade_state_database
from dropstream_fleet.redaction import Redactor

CONFIG_ENV = "DROPSTREAM_FLEET_CONFIG"


def config_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: os.environ.get(CONFIG_ENV, "fleet.yml"),
        show_default=f"${CONFIG_ENV} or fleet.yml",
        help="The fleet file.",
    )(func)


def _load(config_path: Path) -> FleetConfig:
    try:
        return load_fleet(config_path)
    except FleetConfigError as exc:
        click.echo(f"dropstream-fleet: {exc}", err=True)
        raise SystemExit(2) from None


@click.group()
def main() -> None:
    """Many Magento stores, one Meltano pipeline per store view, orchestrated by Dagster."""


@main.command()
@config_option
def check(config_path: Path) -> None:
    """Check the fleet file; list store views, state IDs and which variables are set."""
    fleet = _load(config_path)
    missing = 0
    for name in (fleet.database_url_env, fleet.meltano_database_uri_env):
        state = "set" if os.environ.get(name) else "NOT SET"
        missing += state != "set"
        click.echo(f"fleet: {name} {state}")
    for store in fleet.stores:
        click.echo(
            f"store {store.name}: {store.url}, schedule {store.schedule!r}, "
            f"at most {store.max_concurrent} at once, {store.retries} retries"
        )
        for view in store.store_views:
            click.echo(f"  {view}: {Pipeline(fleet, store, 'load', view).state_id}")
        for setting, variable in store.credential_env.items():
            state = "set" if os.environ.get(variable) else "NOT SET"
            missing += state != "set"
            click.echo(f"  {setting}: {variable} {state}")
    click.echo(f"{len(fleet.stores)} stores, fleet limit {fleet.max_concurrent} pipelines at once")
    if missing:
        click.echo(
            f"{missing} variable(s) not set here: those stores fail until they are", err=True
        )


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Per-step results as JSON.")
@click.option("--verbose", is_flag=True, help="Show Dagster's log (steps, retries, failures).")
def run(config_path: Path, *, as_json: bool, verbose: bool) -> None:
    """Run every store once, within the fleet's limits, and print per-store results."""
    from dropstream_fleet.report import format_run, state_ids_of
    from dropstream_fleet.runner import run_fleet
    from dropstream_fleet.state_ids import read_states

    fleet = _load(config_path)
    log = None if verbose else Path(tempfile.gettempdir()) / "dropstream-fleet-steps.log"
    try:
        result = run_fleet(
            config_path, log_level="INFO" if verbose else "CRITICAL", console_log=log
        )
    except PipelineError as exc:
        click.echo(f"dropstream-fleet: {exc.reason}", err=True)
        raise SystemExit(1) from None
    states = _states(fleet, state_ids_of(result.steps), read_states)
    if as_json:
        steps = [
            {
                "store": s.store,
                "view": s.view,
                "status": s.status,
                "state_id": s.state_id,
                "reason": s.reason,
                "attempts": s.attempts,
                "metadata": s.metadata,
                "state": states.get(s.state_id or ""),
            }
            for s in result.steps
        ]
        click.echo(json.dumps({"run_id": result.run_id, "steps": steps}, indent=2, default=str))
    else:
        click.echo(format_run(result, states))
    if not result.success:
        if log is not None:
            click.echo(f"(Dagster's step log: {log}; the event log has every event)", err=True)
        raise SystemExit(1)


@main.command()
@config_option
def init(config_path: Path) -> None:
    """Create or migrate Meltano's tables in its PostgreSQL database (once per deployment)."""
    fleet = _load(config_path)
    try:
        upgrade_state_database(fleet)
    except PipelineError as exc:
        click.echo(f"dropstream-fleet: {exc.reason}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Meltano's system database (${fleet.meltano_database_uri_env}) is ready.")


@main.command()
@config_option
@click.argument("store")
@click.option(
    "--since", "start_date", required=True, help="Start date (ISO 8601), e.g. 2025-01-01."
)
@click.option("--view", "views", multiple=True, help="Store view(s) to backfill (default: all).")
def backfill(config_path: Path, store: str, start_date: str, views: tuple[str, ...]) -> None:
    """Load STORE again from a date under backfill state IDs (production state untouched)."""
    from dropstream_fleet.runner import run_backfill

    fleet = _load(config_path)
    try:
        fleet.store(store)
    except FleetConfigError as exc:
        raise click.UsageError(str(exc)) from None
    success, figures, reason = run_backfill(config_path, store, start_date, views)
    for name, value in sorted(figures.items()):
        click.echo(f"{name}: {value}")
    if not success:
        click.echo(f"backfill of {store} failed: {reason}", err=True)
        raise SystemExit(1)


@main.command("run-queue")
@config_option
def run_queue(config_path: Path) -> None:
    """Print the dagster.yaml run_queue block that applies the fleet's limits to runs."""
    fleet = _load(config_path)
    click.echo("run_coordinator:")
    click.echo("  module: dagster.core.run_coordinator")
    click.echo("  class: QueuedRunCoordinator")
    click.echo("run_queue:")
    click.echo(f"  max_concurrent_runs: {fleet.max_concurrent}")
    click.echo("  tag_concurrency_limits:")
    click.echo(f"    - key: {STORE_TAG}")
    click.echo("      value: {applyLimitPerUniqueValue: true}")
    click.echo("      limit: 1")


def _states(fleet: FleetConfig, ids: list[str], read_states) -> dict:  # type: ignore[no-untyped-def]
    uri = os.environ.get(fleet.meltano_database_uri_env)
    if not uri:
        return {}
    try:
        return read_states(uri, ids)
    except Exception as exc:  # the table is missing before the first run, or the DB is down
        click.echo(f"(state not read: {Redactor([uri])(str(exc)).splitlines()[0]})", err=True)
        return {}


if __name__ == "__main__":
    sys.exit(main())
