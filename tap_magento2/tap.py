"""TapMagento2: the settings users configure and the streams the tap offers."""

from __future__ import annotations

import sys
from typing import Any

import click
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import SingerMessageType

from magerest.connection import parse_flag
from magerest.connection_schema import (
    STATUS_LIST_SCHEMA,
    repair_bare_nulls,
    with_connection_settings,
)
from magerest.heap import streaming_heap
from magerest.version import __version__, distribution_name
from tap_magento2.catalog_streams import CustomersStream, ProductsStream
from tap_magento2.failures import EXPECTED_FAILURES, report
from tap_magento2.inventory_streams import StockStream
from tap_magento2.order_streams import OrdersStream
from tap_magento2.refusals import RefusalGuard
from tap_magento2.sales_streams import (
    CreditmemosStream,
    InvoicesStream,
    OrderItemsStream,
    ShipmentsStream,
)
from tap_magento2.settings import (
    DEFAULT_LOOKBACK_SECONDS,
    DEFAULT_PAGE_SIZE,
    MAX_LOOKBACK_SECONDS,
    MAX_PAGE_SIZE,
    STOPPING_STATUSES,
    validate_settings,
)
from tap_magento2.status_check import check_statuses
from tap_magento2.store_views import StoreViewsStream
from tap_magento2.streams import DEFAULT_CONCURRENT_REQUESTS, MAX_CONCURRENT_REQUESTS

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override


class SingerLineWriter(MsgSpecWriter):
    """singer-sdk's msgspec writer (several times faster than ``json``), in blocks.

    RECORD lines wait in a block of about 256 KB (some 17 orders) and go out together, so
    whoever reads the tap (Meltano's relay, a target) wakes once per block rather than once
    per order: Meltano's relay used half the CPU in the bench. Any other message (SCHEMA,
    STATE...) goes out at once with the block before it, so a STATE never reaches the reader
    ahead of the records it covers; ``flush`` sends what is left when the sync ends.
    Writes bytes when stdout has a binary buffer, text otherwise (stdout redirected to a
    StringIO, as in-process runs do).
    """

    #: RECORD lines are held until this many bytes are waiting.
    BLOCK_BYTES = 256 * 1024

    def __init__(self) -> None:
        super().__init__()
        self._block = bytearray()

    def write_message(self, message: Any) -> None:
        self._block += self.format_message(message)
        if message.type is SingerMessageType.RECORD and len(self._block) < self.BLOCK_BYTES:
            return
        self.flush()

    def flush(self) -> None:
        """Write the waiting lines to stdout."""
        if not self._block:
            return
        out = sys.stdout
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            buffer.write(self._block)
        else:
            out.write(self._block.decode("utf-8"))
        out.flush()
        self._block.clear()


class TapMagento2(Tap):
    """Singer tap for the Magento 2 REST API, incremental on updated_at.

    Streams: orders and their items, shipments, invoices, credit memos, products,
    customers, stock (MSI source items) and store views.
    """

    name = "tap-magento2"
    package_name = distribution_name("tap-magento2")
    message_writer_class = SingerLineWriter

    config_jsonschema = with_connection_settings(
        th.PropertiesList(
            th.Property(
                "store_view_code",
                th.StringType,
                description=(
                    "Only orders (and shipments, invoices, credit memos, customers) of this "
                    "store view (its code, e.g. 'default'); unset = all"
                ),
            ),
            th.Property(
                "order_follow_status",
                th.CustomType(STATUS_LIST_SCHEMA),
                default=",".join(STOPPING_STATUSES),
                description=(
                    "Statuses an imported order can move to, streamed too so a fulfillment "
                    "target can stop that order; the default follows every status that stops "
                    'fulfillment; an empty list ([] or "") follows none'
                ),
            ),
            th.Property(
                "start_date",
                th.DateTimeType,
                description=(
                    "Import orders updated at or after this time (ISO 8601; UTC if no offset)"
                ),
            ),
            th.Property(
                "page_size",
                th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
                default=DEFAULT_PAGE_SIZE,
                description=(
                    f"Orders per request, 1 to {MAX_PAGE_SIZE} (Magento's maximum page size)"
                ),
            ),
            th.Property(
                "lookback_seconds",
                th.IntegerType(minimum=0, maximum=MAX_LOOKBACK_SECONDS),
                default=DEFAULT_LOOKBACK_SECONDS,
                description=(
                    "Incremental runs read again this many seconds before the bookmark, so an "
                    "order whose save committed late is not passed by it; 0 = from the bookmark"
                ),
            ),
            th.Property(
                "max_concurrent_requests",
                th.IntegerType(minimum=1, maximum=MAX_CONCURRENT_REQUESTS),
                default=DEFAULT_CONCURRENT_REQUESTS,
                description=(
                    "Order pages requested at once on large syncs (the updated_at range is cut "
                    "into time slices, records still come out in order); 1 = one request at a "
                    f"time. 1 to {MAX_CONCURRENT_REQUESTS}, default {DEFAULT_CONCURRENT_REQUESTS}"
                ),
            ),
            th.Property(
                "strict_mode",
                th.BooleanType,
                default=False,
                description=(
                    "Stop the whole run at the first stream whose endpoint the integration may "
                    "not use (missing ACL resource). Off by default: that stream fails with an "
                    "error naming the resource, the other streams finish, and the run exits "
                    "non-zero at the end"
                ),
            ),
        ).to_dict(),
        required=("store_url", "access_token"),
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

    def __init__(self, *args: Any, validate_config: bool = True, **kwargs: Any) -> None:
        # The SDK's JSON-schema check stops at its first complaint and words it for
        # schemas; ours reports every invalid setting by name, so it decides (the SDK
        # still logs its own findings as warnings).
        super().__init__(*args, validate_config=False, **kwargs)
        if validate_config:
            errors = validate_settings(self.config) + _concurrency_errors(self.config)
            if errors:
                raise ConfigValidationError(
                    "Config validation failed: " + "; ".join(errors), errors=errors
                )

    @override
    def discover_streams(self) -> list[Stream]:
        store_views = StoreViewsStream(self)
        return [
            store_views,
            OrdersStream(self, store_views=store_views),
            OrderItemsStream(self),
            ShipmentsStream(self, store_views=store_views),
            InvoicesStream(self, store_views=store_views),
            CreditmemosStream(self, store_views=store_views),
            ProductsStream(self, store_views=store_views),
            CustomersStream(self, store_views=store_views),
            StockStream(self),
        ]

    @override
    def sync_all(self) -> None:
        """Check the order statuses, then sync the selected streams.

        A stream refused by Magento's ACL stops only itself: it is logged as an error
        naming the resource, the other streams finish, and the refusals are raised together
        at the end so the run still exits non-zero; with ``strict_mode`` the first refusal
        stops the run. Refused credentials always stop the run (see ``refusals``).
        """
        orders = self.streams["orders"]
        if orders.selected or orders.has_selected_descendents:
            check_statuses(orders)  # type: ignore[arg-type]
        strict = parse_flag(self.config.get("strict_mode"), "strict_mode")
        guard = RefusalGuard(self.streams, self.logger, strict=strict)
        wrapped = [s for s in self.streams.values() if s.parent_stream_type is None]
        for stream in wrapped:
            stream.sync = guard.wrap(stream)  # type: ignore[method-assign]
        try:
            with streaming_heap():
                super().sync_all()
        finally:
            self.message_writer.flush()  # type: ignore[attr-defined]
            for stream in wrapped:
                del stream.sync  # back to the class's method
        guard.raise_refusals()

    @override
    def run_sync_dry_run(self, *args: Any, **kwargs: Any) -> bool:
        """``--test``: the SDK's dry run, then the records still waiting in the block."""
        try:
            return super().run_sync_dry_run(*args, **kwargs)
        finally:
            self.message_writer.flush()  # type: ignore[attr-defined]

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """The command line run: a failure the user can fix ends in one line, exit code 1.

        Its traceback is logged at debug level; bugs keep the SDK's full report.
        """
        try:
            super().invoke(*args, **kwargs)
        except ConfigValidationError:
            raise  # the SDK lists each setting's problem itself
        except EXPECTED_FAILURES as error:
            report(cls.logger, error)
            raise click.exceptions.Exit(1) from None


def _concurrency_errors(config: Any) -> list[str]:
    value = config.get("max_concurrent_requests", DEFAULT_CONCURRENT_REQUESTS)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_CONCURRENT_REQUESTS
    ):
        return [
            f"max_concurrent_requests must be a whole number from 1 to "
            f"{MAX_CONCURRENT_REQUESTS}, got {value!r}"
        ]
    return []


if __name__ == "__main__":
    TapMagento2.cli()
