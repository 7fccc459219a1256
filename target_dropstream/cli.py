"""``dropstream``: the operator CLI over the fulfillment store.

The database comes from ``--database-url``, else ``--config FILE`` (the target's JSON
config), else ``TARGET_DROPSTREAM_DATABASE_URL`` (as Meltano passes it), else
``sqlite:///dropstream.db``. Passwords in URLs are never printed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from target_dropstream.release import release_due_orders
from target_dropstream.settings import SettingsError, TargetSettings, load_cli_config
from target_dropstream.store import FulfillmentStore, StatusReport, StoreError

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(tz=UTC)


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The target's JSON config file (database_url and Magento settings).",
    )(func)
    return click.option(
        "--database-url",
        help="SQLAlchemy URL of the store (overrides --config and the environment).",
    )(func)


def _settings(database_url: str | None, config_file: Path | None) -> TargetSettings:
    try:
        return load_cli_config(database_url=database_url, config_file=config_file)
    except SettingsError as exc:
        raise click.UsageError("; ".join(exc.errors)) from None


def _open(settings: TargetSettings, now: datetime) -> FulfillmentStore:
    try:
        return FulfillmentStore.open(settings.database_url, now=now, create=False)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Operate the target-dropstream fulfillment store."""
    ctx.ensure_object(dict)
    ctx.obj.setdefault("clock", _utc_now)


@main.command()
@_common
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--limit", default=100, show_default=True, help="Held/rejected rows to list.")
@click.pass_context
def status(
    ctx: click.Context,
    database_url: str | None,
    config_file: Path | None,
    *,
    as_json: bool,
    limit: int,
) -> None:
    """Counts by state, held orders with release time, rejected records with reasons."""
    settings = _settings(database_url, config_file)
    now = ctx.obj["clock"]()
    store = _open(settings, now)
    try:
        report = store.status(limit=limit)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(_status_json(report), indent=2, sort_keys=True))
    else:
        click.echo(_status_text(report, now))


@main.command()
@_common
@click.pass_context
def release(ctx: click.Context, database_url: str | None, config_file: Path | None) -> None:
    """Release held orders that are due now (re-checked with Magento when configured)."""
    settings = _settings(database_url, config_file)
    now = ctx.obj["clock"]()
    store = _open(settings, now)
    try:
        report = release_due_orders(store, settings, now=now)
    finally:
        store.close()
    click.echo(report.summary())
    if report.errors:
        raise click.exceptions.Exit(1)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _status_json(report: StatusReport) -> dict[str, Any]:
    return {
        "database": report.database,
        "schema_version": report.schema_version,
        "counts": report.counts,
        "held": [
            {
                "source": held.source,
                "order_id": held.order_id,
                "increment_id": held.increment_id,
                "magento_status": held.magento_status,
                "release_at": _iso(held.release_at),
                "reason": held.reason,
            }
            for held in report.held
        ],
        "rejected_total": report.rejected_total,
        "rejected": [
            {
                "id": rejected.id,
                "source": rejected.source,
                "stream": rejected.stream,
                "order_id": rejected.order_id,
                "reason": rejected.reason,
                "received_at": _iso(rejected.received_at),
                "record": json.loads(rejected.record_json),
            }
            for rejected in report.rejected
        ],
    }


def _status_text(report: StatusReport, now: datetime) -> str:
    lines = [f"Fulfillment store: {report.database} (schema v{report.schema_version})", ""]
    lines.append("Orders by state:")
    width = max(len(state) for state in report.counts)
    lines += [f"  {state:<{width}}  {count}" for state, count in report.counts.items()]
    lines.append("")
    if report.held:
        lines.append(f"Held orders ({report.counts.get('held', 0)}):")
        for held in report.held:
            due = "due now" if held.release_at <= now else "waiting"
            label = held.increment_id or "-"
            text = f"  {held.source} order {held.order_id} (#{label})  release at "
            text += f"{_iso(held.release_at)}  [{due}]"
            if held.reason:
                text += f"  {held.reason}"
            lines.append(text)
    else:
        lines.append("Held orders: none")
    lines.append("")
    if report.rejected:
        lines.append(f"Rejected records ({report.rejected_total}):")
        for rejected in report.rejected:
            order = rejected.order_id if rejected.order_id is not None else "no id"
            lines.append(
                f"  #{rejected.id} {rejected.stream} order {order} at "
                f"{_iso(rejected.received_at)}: {rejected.reason}"
            )
    else:
        lines.append("Rejected records: none")
    return "\n".join(lines)
