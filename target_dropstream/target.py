"""TargetDropstream: settings, sink wiring and the end-of-run release of held orders.

singer-sdk passes a STATE message on only from ``drain_all``, after every sink has
committed its batch (see ``tests/target/test_delivery.py``); a failed commit raises before
the STATE is written. After the last STATE, held orders that have come due are released.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.target_base import Target

from target_dropstream.clock import Clock, utc_now
from target_dropstream.notify import notify_pending
from target_dropstream.release import release_due_orders
from target_dropstream.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_RECHECK_INTERVAL_MINUTES,
    DEFAULT_RECHECK_PAGE_SIZE,
    DEFAULT_SHIP_LOOKUP_DELAY_SECONDS,
    MAX_RECHECK_PAGE_SIZE,
    SettingsError,
    TargetSettings,
)
from target_dropstream.sinks import IgnoredStreamSink, OrdersSink
from target_dropstream.store import FulfillmentStore, LoadPolicy

if t.TYPE_CHECKING:
    from singer_sdk.sinks import Sink

ORDERS_STREAM = "orders"
_STATUS_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


class TargetDropstream(Target):
    """Applies the fulfillment rules to Magento orders and keeps exactly-once records."""

    name = "target-dropstream"
    package_name = "magento2-dropstream"
    #: singer-sdk's msgspec reader: the same messages (decimals as Decimal), parsed faster.
    message_reader_class = MsgSpecReader

    config_jsonschema = th.PropertiesList(
        th.Property(
            "database_url",
            th.StringType,
            default=DEFAULT_DATABASE_URL,
            secret=True,  # a PostgreSQL URL may carry a password
            description=(
                "SQLAlchemy URL of the fulfillment store: sqlite:///path.db (default "
                "dropstream.db in the working directory) or postgresql+psycopg://user@host/db"
            ),
        ),
        th.Property(
            "delay_minutes",
            th.IntegerType(minimum=0),
            default=0,
            description="Hold each order until this many minutes after it was placed (UTC)",
        ),
        th.Property(
            "include_bundle_parent",
            th.BooleanType,
            default=False,
            description="Also send the bundle parent SKU as a line (components always are)",
        ),
        th.Property(
            "use_compact_shipment",
            th.BooleanType,
            default=True,
            description="Notify Magento with POST /V1/order/{id}/ship instead of /V1/shipment",
        ),
        th.Property(
            "order_import_status",
            th.CustomType(
                {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
            ),
            default="processing",
            description=(
                "Magento status(es) an order must have to be released (a status or a list)"
            ),
        ),
        th.Property(
            "store_url",
            th.StringType,
            description="Magento base URL, e.g. https://store.example.com (the `source` column)",
        ),
        th.Property(
            "access_token",
            th.StringType,
            secret=True,
            description="Magento Integration access token (re-check before release, notifications)",
        ),
        th.Property(
            "source_code",
            th.StringType,
            description=(
                "MSI source ship notifications deduct stock from; unset = Magento's choice "
                "(the stock's only source, else the default source)"
            ),
        ),
        th.Property(
            "store_view_code",
            th.StringType,
            description=(
                "Store view code to post ship notifications under; unset = each order's own "
                "store view, else /rest/V1"
            ),
        ),
        th.Property(
            "notify_on_run",
            th.BooleanType,
            default=False,
            description=(
                "At the end of every run, post pending shipments to Magento "
                "(as `dropstream notify` does; needs store_url and access_token)"
            ),
        ),
        th.Property(
            "ship_lookup_delay_seconds",
            th.IntegerType(minimum=0),
            default=DEFAULT_SHIP_LOOKUP_DELAY_SECONDS,
            description=(
                "After a ship notification's answer is lost (timeout, dropped connection, "
                "502/504), it is posted again only once a look-up made at least this many "
                "seconds after the failed attempt finds no shipment with its tracking number; "
                "earlier runs only look it up (Magento may still commit it under its order lock)"
            ),
        ),
        th.Property(
            "recheck_interval_minutes",
            th.IntegerType(minimum=0),
            default=DEFAULT_RECHECK_INTERVAL_MINUTES,
            description=(
                "Read ready and partially shipped orders back from Magento (address, item "
                "quantities, status) at the end of a run when their last read is at least this "
                "many minutes old; 0 = every run. Held orders are always read back before "
                "release. Needs store_url and access_token"
            ),
        ),
        th.Property(
            "recheck_page_size",
            th.IntegerType(minimum=1, maximum=MAX_RECHECK_PAGE_SIZE),
            default=DEFAULT_RECHECK_PAGE_SIZE,
            description="Orders read back per GET /V1/orders request (one request per page)",
        ),
        th.Property(
            "consumer_key", th.StringType, secret=True, description="OAuth 1.0a consumer key"
        ),
        th.Property(
            "consumer_secret", th.StringType, secret=True, description="OAuth 1.0a consumer secret"
        ),
        th.Property(
            "access_token_secret",
            th.StringType,
            secret=True,
            description="OAuth 1.0a access token secret",
        ),
        th.Property(
            "ca_bundle",
            th.StringType,
            description=(
                "Path of a PEM file with the certificate authority that signed the store's "
                "TLS certificate; certificates are always verified (default: system CAs)"
            ),
        ),
        th.Property(
            "allow_insecure_http",
            th.BooleanType,
            default=False,
            description=(
                "Accept a plain http:// store_url that is not loopback (token and data then "
                "travel unencrypted); off by default"
            ),
        ),
    ).to_dict()

    def __init__(self, *, clock: Clock | None = None, **kwargs: t.Any) -> None:
        """Create the target; ``clock`` (UTC) is injectable for tests."""
        self.now: Clock = clock or utc_now
        self._store: FulfillmentStore | None = None
        self._ignored_streams: set[str] = set()
        self.rejected_count = 0
        super().__init__(**kwargs)
        try:
            self.settings = TargetSettings.from_config(self.config)
        except SettingsError as exc:
            raise ConfigValidationError(
                "Invalid target-dropstream settings", errors=exc.errors
            ) from None
        self.load_policy = LoadPolicy(
            source=self.settings.source,
            delay_minutes=self.settings.delay_minutes,
            include_bundle_parent=self.settings.include_bundle_parent,
            import_statuses=self.settings.import_statuses,
        )

    @property
    def store(self) -> FulfillmentStore:
        """The fulfillment store, created or upgraded on first use."""
        if self._store is None:
            self._store = FulfillmentStore.open(self.settings.database_url, now=self.now())
        return self._store

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """``orders`` is loaded; any other stream is accepted and ignored."""
        return OrdersSink if stream_name == ORDERS_STREAM else IgnoredStreamSink

    def note_ignored_stream(self, stream_name: str) -> None:
        """Log once per stream that its records are ignored."""
        if stream_name not in self._ignored_streams:
            self._ignored_streams.add(stream_name)
            self.logger.info(
                "Ignoring stream '%s': target-dropstream loads only the '%s' stream",
                stream_name,
                ORDERS_STREAM,
            )

    def _process_record_message(self, message_dict: dict) -> None:
        """Refuse a RECORD whose ``record`` is not a JSON object with a clear message.

        The SDK would otherwise fail deep inside with an unrelated TypeError. Nothing read
        after the last STATE this target wrote is confirmed; rerun from that STATE.
        """
        record = message_dict.get("record")
        if not isinstance(record, dict):
            stream = message_dict.get("stream")
            msg = (
                f"A RECORD message for stream {stream!r} carries "
                f"{type(record).__name__} instead of a JSON object: the input is not valid "
                "Singer. Stopping; rerun from the last STATE this target wrote."
            )
            raise InvalidInputLine(msg)
        super()._process_record_message(message_dict)

    def process_endofpipe(self) -> None:
        """Commit everything and pass the last STATE on, then release due held orders."""
        try:
            super().process_endofpipe()
            if self.rejected_count:
                self.logger.warning(
                    "%d record(s) were rejected this run: see `dropstream status`",
                    self.rejected_count,
                )
            report = release_due_orders(self.store, self.settings, now=self.now())
            log = self.logger.warning if report.errors else self.logger.info
            log("End-of-run release: %s", report.summary())
            if _is_true(self.config.get("notify_on_run")):
                self._notify()
        finally:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _notify(self) -> None:
        """Post pending shipments; a Magento problem is logged, the loaded data stays."""
        if not self.settings.magento_configured:
            self.logger.warning(
                "notify_on_run is set but store_url and access_token are not: "
                "no ship notifications sent"
            )
            return
        report = notify_pending(self.store, self.settings, clock=self.now)
        for line in report.lines():
            self.logger.info("Ship notifications: %s", line)
        if report.error:
            self.logger.error(
                "Ship notifications stopped (pending shipments are retried next run): %s",
                report.error,
            )


def _is_true(value: t.Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return value is True


if __name__ == "__main__":
    TargetDropstream.cli()
