"""TapMagento2: the settings users configure and the streams the tap offers."""

from __future__ import annotations

import sys
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError

from magerest.connection import parse_flag
from magerest.connection_schema import STATUS_LIST_SCHEMA, with_connection_settings
from tap_magento2.catalog_streams import CustomersStream, ProductsStream
from tap_magento2.client import AccessDeniedError
from tap_magento2.inventory_streams import StockStream
from tap_magento2.order_streams import OrdersStream
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
from tap_magento2.store_views import StoreViewsStream
from tap_magento2.streams import DEFAULT_CONCURRENT_REQUESTS, MAX_CONCURRENT_REQUESTS

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override


class SingerLineWriter(MsgSpecWriter):
    """singer-sdk's msgspec writer (several times faster than ``json``) for any stdout.

    Writes bytes when stdout has a binary buffer, text otherwise (stdout redirected to a
    StringIO, as in-process runs do).
    """

    def write_message(self, message: Any) -> None:
        line = self.format_message(message)
        out = sys.stdout
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            buffer.write(line)
        else:
            out.write(line.decode("utf-8"))
        out.flush()


class TapMagento2(Tap):
    """Singer tap for the Magento 2 REST API, incremental on updated_at.

    Streams: orders and their items, shipments, invoices, credit memos, products,
    customers, stock (MSI source items) and store views.
    """

    name = "tap-magento2"
    package_name = "magento2-dropstream"
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
        """Sync the selected streams; a stream refused by Magento's ACL stops only itself.

        With ``strict_mode`` the first refusal stops the run. Otherwise the refused stream
        is logged as an error naming the ACL resource, the other streams finish, and the
        refusals are raised together at the end so the run still exits non-zero.
        """
        if parse_flag(self.config.get("strict_mode"), "strict_mode"):
            super().sync_all()
            return
        refused: list[tuple[str, AccessDeniedError]] = []
        wrapped = [s for s in self.streams.values() if s.parent_stream_type is None]
        for stream in wrapped:
            stream.sync = _refusal_catcher(stream, refused, self.logger)  # type: ignore[method-assign]
        try:
            super().sync_all()
        finally:
            for stream in wrapped:
                del stream.sync  # back to the class's method
        if refused:
            names = ", ".join(f"{name} ({error.resource})" for name, error in refused)
            details = " | ".join(str(error) for _, error in refused)
            msg = f"Magento refused these streams (missing ACL resource): {names}. {details}"
            raise AccessDeniedError(msg, ", ".join(e.resource for _, e in refused))


def _refusal_catcher(
    stream: Stream, refused: list[tuple[str, AccessDeniedError]], logger: Any
) -> Any:
    """Wrap ``stream.sync`` so an ACL refusal is recorded and logged instead of raised."""
    sync = stream.sync

    def sync_or_record(context: Any = None) -> None:
        try:
            sync(context)
        except AccessDeniedError as error:
            logger.error(
                "Stream %r skipped: the integration lacks the ACL resource %s. %s",
                stream.name,
                error.resource,
                error,
            )
            refused.append((stream.name, error))

    return sync_or_record


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
