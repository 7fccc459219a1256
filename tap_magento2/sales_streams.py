"""Sales documents (shipments, invoices, credit memos) and order items as their own streams.

The documents are read like orders (keyset on updated_at, entity_id; the configured store
view); order items come from the orders pages, so they cost no request of their own.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream, StreamSchema, metrics

from tap_magento2.client import SCHEMAS_DIR
from tap_magento2.order_streams import OrdersStream
from tap_magento2.run_meters import ChildRunLog
from tap_magento2.streams import KeysetSearchStream

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class ShipmentsStream(KeysetSearchStream):
    """``GET /V1/shipments``: shipments with their items, tracks and comments."""

    name = "shipments"
    path = "/V1/shipments"
    noun = "shipments"


class InvoicesStream(KeysetSearchStream):
    """``GET /V1/invoices``: invoices with their items and comments."""

    name = "invoices"
    path = "/V1/invoices"
    noun = "invoices"


class CreditmemosStream(KeysetSearchStream):
    """``GET /V1/creditmemos``: credit memos (refunds) with their items and comments."""

    name = "creditmemos"
    path = "/V1/creditmemos"
    noun = "credit memos"


class OrderItemsStream(Stream):
    """One row per order item (parents and children), read from the orders pages.

    A child of ``orders``: it follows the orders' bookmark and filters (status, store
    view), so a rerun emits the items of the orders changed since. When only this stream
    is selected the orders are still fetched, but not emitted.
    """

    name = "order_items"
    schema: ClassVar[StreamSchema] = StreamSchema(SCHEMAS_DIR)
    primary_keys = ("item_id",)
    replication_key = None
    parent_stream_type = OrdersStream
    #: One state for the stream, not one partition per order.
    state_partitioning_keys: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schema_written = False
        #: One "Beginning sync" line and one set of METRIC lines per run, not per order.
        self.run_log = ChildRunLog(self.name)

    @override
    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        super().log(message, *args, level=self.run_log.level_of(message, level), **kwargs)

    @override
    def get_record_counter(self, **kwargs: Any) -> metrics.Counter:
        return self.run_log.records

    @override
    def get_sync_timer(self) -> metrics.Timer:
        return self.run_log.timer

    @property
    @override
    def emit_activate_version_messages(self) -> bool:
        # Each sync covers only the orders changed since the bookmark, never the table.
        return False

    @override
    def _write_schema_message(self) -> None:
        # The SDK syncs a child once per parent record; one SCHEMA per run is enough.
        if not self._schema_written:
            self._schema_written = True
            super()._write_schema_message()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        for item in (context or {}).get("items") or ():
            if isinstance(item, dict):
                yield item
