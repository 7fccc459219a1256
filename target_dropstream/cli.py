"""``dropstream``: the operator CLI over the fulfillment store.

The database comes from ``--database-url``, else ``--config FILE`` (the target's JSON
config), else ``TARGET_DROPSTREAM_DATABASE_URL`` (as Meltano passes it), else
``sqlite:///dropstream.db``. Magento settings (store_url, access_token, OAuth ones,
store_view_code, use_compact_shipment) come from the same places. Passwords in URLs and
secrets are never printed. How ``status`` renders the store is in ``status_view``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from magerest.version import __version__
from target_dropstream.clock import utc_now
from target_dropstream.csv_import import CsvImportError, read_shipment_file
from target_dropstream.notify import notify_pending
from target_dropstream.release import release_due_orders
from target_dropstream.settings import SettingsError, TargetSettings, load_cli_config
from target_dropstream.shipment_models import ShipmentError, ShipmentRequest, Track
from target_dropstream.status_view import shipments_text, status_json, status_text
from target_dropstream.store import FulfillmentStore, StoreError


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
@click.version_option(__version__, prog_name="dropstream")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Operate the target-dropstream fulfillment store."""
    ctx.ensure_object(dict)
    ctx.obj.setdefault("clock", utc_now)


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
        report = store.orders.status(limit=limit)
        shipment_counts = store.shipments.counts()
        failed = store.shipments.failed(limit=limit)
        stuck = store.shipments.failed(limit=limit, pending=True)
    finally:
        store.close()
    if as_json:
        body = status_json(report, shipment_counts, failed, stuck)
        click.echo(json.dumps(body, indent=2, sort_keys=True))
    else:
        click.echo(status_text(report, now))
        click.echo("")
        click.echo(shipments_text(shipment_counts, failed, stuck))


@main.command()
@_common
@click.option(
    "--all",
    "read_all",
    is_flag=True,
    help="Read every ready and partially shipped order back now, whatever "
    "recheck_interval_minutes says.",
)
@click.pass_context
def release(
    ctx: click.Context, database_url: str | None, config_file: Path | None, *, read_all: bool
) -> None:
    """Release held orders that are due now, after reading them back from Magento.

    With Magento configured, ready and partially shipped orders last read back
    recheck_interval_minutes ago or more are read back too (address, item quantities,
    status): changes Magento makes without bumping updated_at are never streamed.
    """
    settings = _settings(database_url, config_file)
    if read_all:
        settings = dataclasses.replace(settings, recheck_interval_minutes=0)
    now = ctx.obj["clock"]()
    store = _open(settings, now)
    try:
        report = release_due_orders(store, settings, now=now)
    finally:
        store.close()
    click.echo(report.summary())
    if report.errors:
        raise click.exceptions.Exit(1)


# Shipments ---------------------------------------------------------------------------------


def _record_source(settings: TargetSettings) -> str | None:
    """Orders of the configured store only; any store when no store_url is set."""
    return settings.source if settings.store_url else None


def _parse_line(spec: str) -> tuple[str, Decimal]:
    sku, sep, qty_text = spec.rpartition("=")
    if not sep or not sku.strip():
        raise click.BadParameter(
            f"{spec!r}: expected SKU=QTY, e.g. MH01-S-Gray=2", param_hint="--line"
        )
    try:
        qty = Decimal(qty_text.strip())
    except InvalidOperation:
        raise click.BadParameter(
            f"{spec!r}: {qty_text!r} is not a number", param_hint="--line"
        ) from None
    if not qty.is_finite() or qty <= 0:
        raise click.BadParameter(f"{spec!r}: the quantity must be above 0", param_hint="--line")
    return sku.strip(), qty


@main.command()
@_common
@click.argument("order")
@click.option(
    "--carrier-code", required=True, help="Magento carrier code, e.g. ups, fedex, custom."
)
@click.option("--title", help="Carrier title shown to the customer (default: the carrier code).")
@click.option(
    "--track", "tracks", multiple=True, required=True, help="Tracking number (repeat for several)."
)
@click.option(
    "--line",
    "lines",
    multiple=True,
    metavar="SKU=QTY",
    help="Shipped line (repeat); without --line everything still left on the order ships.",
)
@click.option(
    "--key",
    help="Warehouse shipment id (idempotency key); derived from the content when omitted.",
)
@click.pass_context
def ship(
    ctx: click.Context,
    database_url: str | None,
    config_file: Path | None,
    order: str,
    carrier_code: str,
    title: str | None,
    tracks: tuple[str, ...],
    lines: tuple[str, ...],
    key: str | None,
) -> None:
    """Record a shipment of ORDER (increment_id or Magento order id) to notify Magento of.

    Recording the same shipment again (same --key, or the same command without --key)
    records nothing new. Run `dropstream notify` to tell Magento.
    """
    settings = _settings(database_url, config_file)
    request = ShipmentRequest(
        order_ref=order,
        tracks=tuple(Track(carrier_code, title or carrier_code, number) for number in tracks),
        lines=tuple(_parse_line(spec) for spec in lines) if lines else None,
        key=key,
    )
    now = ctx.obj["clock"]()
    store = _open(settings, now)
    try:
        outcome = store.shipments.record([request], source=_record_source(settings), now=now)[0]
    except ShipmentError as exc:
        raise click.ClickException(exc.reason) from None
    finally:
        store.close()
    click.echo(outcome.describe())
    click.echo(f"key: {outcome.key}")


@main.command("import-shipments")
@_common
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_shipments(
    ctx: click.Context, database_url: str | None, config_file: Path | None, file: Path
) -> None:
    """Record the shipments of a CSV FILE (all or nothing).

    Header row, then one row per shipped line: order (increment_id or order id), sku, qty,
    carrier_code, title, track_number, shipment_key. Rows sharing a shipment_key are one
    shipment (several tracking numbers allowed); importing the same file again records
    nothing new.
    """
    settings = _settings(database_url, config_file)
    try:
        parsed = read_shipment_file(file)
    except CsvImportError as exc:
        raise click.ClickException(f"{file}: nothing imported\n" + "\n".join(exc.errors)) from None
    now = ctx.obj["clock"]()
    store = _open(settings, now)
    try:
        outcomes = store.shipments.record(parsed.requests, source=_record_source(settings), now=now)
    except ShipmentError as exc:
        raise click.ClickException(f"{file}: nothing imported\n{parsed.explain(exc)}") from None
    finally:
        store.close()
    for outcome in outcomes:
        click.echo(outcome.describe())
    new = sum(1 for outcome in outcomes if outcome.action != "unchanged")
    click.echo(f"{new} shipment(s) recorded, {len(outcomes) - new} already recorded")


@main.command()
@_common
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Also re-send shipments Magento refused before (after fixing the cause).",
)
@click.pass_context
def notify(
    ctx: click.Context, database_url: str | None, config_file: Path | None, *, retry_failed: bool
) -> None:
    """Tell Magento about every pending shipment, exactly once.

    With use_compact_shipment (the default) each shipment is posted to
    POST /rest/<view>/V1/order/{order_id}/ship with its tracking numbers and notify: true, so
    Magento ships the items, updates the order and emails the customer. With
    use_compact_shipment false, POST /rest/<view>/V1/shipment is used instead: it only
    records the shipment document; Magento does NOT advance the items' qty_shipped or the
    order's state, so keep the compact default unless you only want the document.
    <view> is store_view_code, else the code of the order's store view.

    Bundles: whether a bundle ships together (the bundle is named) or separately (its
    options are) is read from the catalog (GET /V1/products); without the ACL resource
    Magento_Catalog::products such a shipment fails, naming it.

    Before posting, the order's quantities are read from Magento: a shipment Magento would
    trim (shipped, refunded or canceled outside the warehouse) or refuse (shipped in full)
    fails with the reason and is not posted. The created shipment is read back; other
    quantities than recorded are reported.

    A shipment whose answer was lost stays pending and is looked up in Magento (by tracking
    number) before any new attempt; it is posted again only when a look-up made
    ship_lookup_delay_seconds after the failed attempt finds nothing. Refusals (HTTP 400)
    and orders Magento no longer has (HTTP 404) are marked failed with Magento's message
    (see `dropstream status`); other errors stop the run and leave the shipment pending.
    """
    settings = _settings(database_url, config_file)
    if not settings.magento_configured:
        raise click.UsageError(
            "notify needs store_url and access_token (in --config, or "
            "TARGET_DROPSTREAM_STORE_URL and TARGET_DROPSTREAM_ACCESS_TOKEN)"
        )
    clock = ctx.obj["clock"]
    store = _open(settings, clock())
    try:
        report = notify_pending(
            store,
            settings,
            clock=clock,
            retry_failed=retry_failed,
            sleep=ctx.obj.get("sleep", time.sleep),
        )
    finally:
        store.close()
    for line in report.lines():
        click.echo(line)
    if report.error:
        raise click.exceptions.Exit(1)


@main.command()
@_common
@click.argument("keys", nargs=-1, required=True)
@click.pass_context
def retry(
    ctx: click.Context, database_url: str | None, config_file: Path | None, keys: tuple[str, ...]
) -> None:
    """Queue failed shipments (by KEY) again; the next `dropstream notify` sends them."""
    settings = _settings(database_url, config_file)
    now = ctx.obj["clock"]()
    store = _open(settings, now)
    try:
        changed = store.shipments.retry_failed(keys, source=_record_source(settings), now=now)
    except LookupError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    finally:
        store.close()
    for key in keys:
        click.echo(f"{key}: {'queued again' if key in changed else 'not failed, unchanged'}")
