"""TargetDropstream: settings, sink wiring and the end-of-run release of held orders.

singer-sdk passes a STATE message on only from ``drain_all``, after every sink has
committed its batch (see ``tests/target/test_delivery.py``); a failed commit raises before
the STATE is written. After the last STATE, held orders that have come due are released.
A run that has received no ``orders`` stream passes no STATE on and fails at its end
(``stream_names``), unless ``allow_missing_orders_stream`` is set.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.target_base import Target

from magerest.connection_schema import repair_bare_nulls, with_connection_settings
from magerest.version import __version__, distribution_name
from target_dropstream.batch_files import batch_records
from target_dropstream.clock import Clock, utc_now
from target_dropstream.notify import notify_pending
from target_dropstream.release import load_policy, release_due_orders
from target_dropstream.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_RECHECK_INTERVAL_MINUTES,
    DEFAULT_RECHECK_PAGE_SIZE,
    DEFAULT_SHIP_LOOKUP_DELAY_SECONDS,
    MAX_RECHECK_PAGE_SIZE,
    SettingsError,
    TargetSettings,
)
from target_dropstream.sinks import IgnoredStreamSink, LoadContext, OrdersSink, RunCounters
from target_dropstream.store import FulfillmentStore
from target_dropstream.stream_names import (
    ALLOW_MISSING_SETTING,
    ORDERS_STREAM,
    NoOrdersStreamError,
    missing_orders_error,
    missing_orders_note,
)

if t.TYPE_CHECKING:
    from singer_sdk.sinks import Sink


class SingerObjectReader(MsgSpecReader):
    """singer-sdk's msgspec reader (decimals as Decimal, parsed faster), refusing a line
    that is not a JSON object or a RECORD whose ``record`` is not one.

    The SDK would otherwise fail deep inside with an unrelated TypeError. Nothing read
    after the last STATE this target wrote is confirmed; rerun from that STATE.
    """

    def deserialize_json(self, line: str) -> dict:
        message = super().deserialize_json(line)
        if not isinstance(message, dict):
            msg = (
                f"A line holds {type(message).__name__} instead of a Singer message (a JSON "
                "object): stopping; rerun from the last STATE this target wrote."
            )
            raise InvalidInputLine(msg)
        if message.get("type") == "RECORD" and not isinstance(message.get("record"), dict):
            record = message.get("record")
            msg = (
                f"A RECORD message for stream {message.get('stream')!r} carries "
                f"{type(record).__name__} instead of a JSON object: the input is not valid "
                "Singer. Stopping; rerun from the last STATE this target wrote."
            )
            raise InvalidInputLine(msg)
        return message


class TargetDropstream(Target):
    """Applies the fulfillment rules to Magento orders and keeps exactly-once records."""

    name = "target-dropstream"
    package_name = distribution_name("target-dropstream")
    message_reader_class = SingerObjectReader

    config_jsonschema = with_connection_settings(
        th.PropertiesList(
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
                    "seconds after the failed attempt finds no shipment with its tracking "
                    "number; earlier runs only look it up (Magento may still commit it under "
                    "its order lock)"
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
                ALLOW_MISSING_SETTING,
                th.BooleanType,
                default=False,
                description=(
                    "Let a run that receives no stream named 'orders' succeed; by default it "
                    "fails, passing no STATE on, since the tap may be sending orders under "
                    "another name (alias it with stream_maps). A run with the orders SCHEMA "
                    "and no records always succeeds"
                ),
            ),
        ).to_dict()
    )

    @classmethod
    def get_plugin_version(cls) -> str:
        """The project's one version (``magerest.version``), whichever distribution installed it."""
        return __version__

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        """singer-sdk's built-in settings, made valid JSON Schema (see ``repair_bare_nulls``)."""
        super().append_builtin_config(config_jsonschema)
        repair_bare_nulls(config_jsonschema)

    def __init__(self, *, clock: Clock | None = None, **kwargs: t.Any) -> None:
        """Create the target; ``clock`` (UTC) is injectable for tests."""
        self.now: Clock = clock or utc_now
        self._store: FulfillmentStore | None = None
        super().__init__(**kwargs)
        try:
            self.settings = TargetSettings.from_config(self.config)
        except SettingsError as exc:
            raise ConfigValidationError(
                "Invalid target-dropstream settings", errors=exc.errors
            ) from None
        #: All the sinks see of this target.
        self.load_context = LoadContext(
            open_store=lambda: self.store,
            policy=load_policy(self.settings),
            clock=self.now,
            counters=RunCounters(),
        )

    @property
    def store(self) -> FulfillmentStore:
        """The fulfillment store, created or upgraded on first use."""
        if self._store is None:
            self._store = FulfillmentStore.open(self.settings.database_url, now=self.now())
        return self._store

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """``orders`` is loaded; any other stream is accepted and ignored, with a warning."""
        return OrdersSink if stream_name == ORDERS_STREAM else IgnoredStreamSink

    def _process_batch_message(self, message_dict: dict) -> None:
        """Each record in a BATCH message's files goes down the RECORD path (``batch_files``).

        singer-sdk would hand each sink a file's records at once, which this target's sinks
        would count and drop. Private SDK hook (the reader calls it for every BATCH line);
        tests/target/test_batch_messages.py fails if the SDK stops calling it.
        """
        self._assert_line_requires(message_dict, requires={"stream", "encoding", "manifest"})
        stream = message_dict["stream"]
        for record in batch_records(message_dict):
            self._process_record_message({"type": "RECORD", "stream": stream, "record": record})

    def _write_state_message(self, state: dict) -> None:
        """Pass STATE on only once an ``orders`` stream has arrived (or may be missing).

        A STATE from a run that loaded no orders would move the tap's bookmark past orders
        it sent under another stream name. Private SDK hook (``drain_all`` calls it);
        tests/target/test_sdk_hooks.py fails if the SDK stops calling it.
        """
        if self._orders_stream_missing():
            self.logger.warning(
                "STATE not passed on: no '%s' stream has arrived yet", ORDERS_STREAM
            )
            return
        super()._write_state_message(state)

    def _orders_stream_missing(self) -> bool:
        counters = self.load_context.counters
        return not counters.orders_stream_seen and not self.settings.allow_missing_orders_stream

    def _check_orders_stream(self) -> None:
        """Fail a run that received no ``orders`` stream, unless that is allowed."""
        counters = self.load_context.counters
        if counters.orders_stream_seen:
            return
        if self.settings.allow_missing_orders_stream:
            self.logger.info(missing_orders_note(counters.ignored_streams))
            return
        message = missing_orders_error(counters.ignored_streams)
        self.logger.error(message)
        raise NoOrdersStreamError(message)

    def process_endofpipe(self) -> None:
        """Commit everything and pass the last STATE on, then release due held orders.

        Raises:
            NoOrdersStreamError: no ``orders`` stream arrived and none is allowed to miss;
                nothing is committed or passed on.
        """
        try:
            self._check_orders_stream()
            super().process_endofpipe()
            rejected = self.load_context.counters.rejected
            if rejected:
                self.logger.warning(
                    "%d record(s) were rejected this run: see `dropstream status`", rejected
                )
            report = release_due_orders(self.store, self.settings, now=self.now())
            log = self.logger.warning if report.errors else self.logger.info
            log("End-of-run release: %s", report.summary())
            if self.settings.notify_on_run:
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


if __name__ == "__main__":
    TargetDropstream.cli()
