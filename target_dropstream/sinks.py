"""Sinks: glue between singer-sdk and the store. No rules and no SQL here.

``OrdersSink`` keeps each record as it arrived (before singer-sdk turns date-time strings
into datetimes), maps the batch to :class:`~target_dropstream.models.Order` values, and
hands orders plus rejected records to the store in ONE transaction per batch.

Records that fail the stream's JSON schema, lack ``entity_id`` or carry unparsable dates
never stop the run: they go to ``rejected_records`` with the reason. To make that
possible the sink checks the key property itself (it passes no key properties to the SDK,
which would raise ``MissingKeyPropertiesError``), validates the schema through its own
validator (which never raises; a compiled check from ``record_check`` first, jsonschema
for the wording of an error), and leaves date parsing to ``Order.from_magento`` (the SDK's
own parsing is turned off, so a bad date is rejected with its raw text).

Each record is mapped to an ``Order`` as it arrives and only that is kept until the batch
commits, so a batch of large orders does not hold every record in memory.

The sinks see the run only through :class:`LoadContext` (store, load policy, clock,
counters), never the target object, so the target and its sinks do not call each other.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import jsonschema
from singer_sdk.helpers.conform import DatetimeErrorTreatmentEnum
from singer_sdk.sinks import BatchSink, RecordSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR

from target_dropstream.models import Order, RecordRejected, Rejection
from target_dropstream.record_check import compile_check
from target_dropstream.record_ids import order_id_as_given, rejected_order_id
from target_dropstream.stream_names import ignored_stream_warning

if t.TYPE_CHECKING:
    from singer_sdk.target_base import Target

    from target_dropstream.clock import Clock
    from target_dropstream.store import FulfillmentStore, LoadPolicy

_REASON_LIMIT = 500


@dataclass
class RunCounters:
    """What the sinks count during a run, for the target's end-of-run summary."""

    rejected: int = 0
    #: An ``orders`` SCHEMA arrived (a run without one fails unless allowed).
    orders_stream_seen: bool = False
    #: Records received per ignored stream, in the order the streams arrived.
    ignored_streams: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadContext:
    """Everything a sink may use of the run; the target offers it as ``load_context``."""

    open_store: Callable[[], FulfillmentStore]  # the run's store, opened on first use
    policy: LoadPolicy
    clock: Clock
    counters: RunCounters


def load_context_of(target: Target) -> LoadContext:
    """The run's :class:`LoadContext`: singer-sdk builds sinks with the target, this is
    the one thing a sink reads from it."""
    return t.cast("LoadContext", target.load_context)  # type: ignore[attr-defined]


class RecordInspector(BaseJSONSchemaValidator):
    """The first hook that sees each record: keeps a copy and any schema error.

    singer-sdk calls the validator before it parses timestamps in place, so the copy taken
    here is the record as the tap sent it. It never raises: a schema error becomes a
    rejection reason instead of a crash.
    """

    def __init__(self, schema: dict[str, t.Any], *, check_schema: bool) -> None:
        super().__init__(schema)
        self._validator: jsonschema.protocols.Validator | None = None
        self._is_valid: t.Callable[[t.Any], bool] | None = None
        if check_schema:
            DEFAULT_JSONSCHEMA_VALIDATOR.check_schema(schema)
            self._validator = DEFAULT_JSONSCHEMA_VALIDATOR(
                schema, format_checker=jsonschema.FormatChecker(formats=())
            )
            # Compiled yes/no check; jsonschema still words every error (record_check).
            self._is_valid = compile_check(schema, DEFAULT_JSONSCHEMA_VALIDATOR.TYPE_CHECKER)
        self._last: tuple[dict[str, t.Any], dict[str, t.Any], str | None] | None = None

    def validate(self, record: dict[str, t.Any]) -> None:
        """Remember the record as received and whether it matches the schema."""
        error: str | None = None
        if self._validator is not None and not (
            self._is_valid is not None and self._is_valid(record)
        ):
            found = jsonschema.exceptions.best_match(self._validator.iter_errors(record))
            if found is not None:
                where = "/".join(str(part) for part in found.absolute_path) or "(record)"
                error = f"does not match the stream schema at {where}: {found.message}"
        self._last = (record, dict(record), error)

    def take(self, record: dict[str, t.Any]) -> tuple[dict[str, t.Any], str | None]:
        """The received copy of ``record`` and its schema error (None when it is valid)."""
        last, self._last = self._last, None
        if last is not None and last[0] is record:
            return last[1], last[2]
        # Not seen by validate (should not happen): undo the SDK's date parsing.
        return {k: _plain(v) for k, v in record.items()}, None


def _plain(value: t.Any) -> t.Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


class OrdersSink(BatchSink):
    """Loads Magento orders; one store transaction per batch."""

    #: Orders per transaction unless ``batch_size_rows`` is set. Mapped orders are kept
    #: until the commit; 2,500 keeps the target well under 150 MB with large orders while
    #: a commit still covers thousands of rows (the SDK's default is 10,000).
    MAX_SIZE_DEFAULT = 2500

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
    ) -> None:
        self._load = load_context_of(target)
        self._load.counters.orders_stream_seen = True
        self.declared_key_properties = list(key_properties or [])
        # Keys are checked by Order.from_magento, which rejects instead of failing the run.
        super().__init__(target, stream_name, schema, key_properties=None)

    @property
    def datetime_error_treatment(self) -> DatetimeErrorTreatmentEnum:
        """Unparsable dates are nulled in the SDK's copy; the raw text is rejected later."""
        return DatetimeErrorTreatmentEnum.NULL

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Always inspect records; schema checks follow the ``validate_records`` setting."""
        return RecordInspector(self.schema, check_schema=self.validate_schema)

    def _parse_timestamps_in_record(
        self, record: dict, schema: dict, treatment: DatetimeErrorTreatmentEnum
    ) -> None:
        """Leave date-time strings alone: the SDK's parsed copy is never loaded.

        Private SDK hook, kept for speed (no public switch turns the parsing off): it saves
        parsing every top-level date-time of every record for nothing.
        ``Order.from_magento`` parses the dates it needs and rejects bad ones with their
        raw text. tests/target/test_sdk_hooks.py fails if the SDK stops calling it.
        """

    def process_record(self, record: dict, context: dict) -> None:
        """Map the record as received now (or keep it as a rejection with its reason).

        Only the mapped order is kept until the batch commits, not the record: a batch of
        large Magento orders would otherwise hold hundreds of megabytes.
        """
        inspector = t.cast("RecordInspector", self._validator)
        raw, schema_error = inspector.take(record)
        orders: list[Order] = context.setdefault("orders", [])
        rejections: list[Rejection] = context.setdefault("rejections", [])
        if schema_error is not None:
            rejections.append(self._rejection(raw, schema_error))
            return
        try:
            orders.append(Order.from_magento(raw))
        except RecordRejected as exc:
            rejections.append(self._rejection(raw, exc.reason))

    def process_batch(self, context: dict) -> None:
        """Commit the batch's orders and rejections in one transaction (raises on failure)."""
        orders: list[Order] = context.get("orders", [])
        rejections: list[Rejection] = context.get("rejections", [])
        result = self._load.open_store().orders.save_batch(
            orders, rejections, policy=self._load.policy, now=self._load.clock()
        )
        self._load.counters.rejected += result.rejected
        self.logger.info(
            "Committed %d '%s' records: %d new, %d updated, %d older than stored, %d rejected, "
            "%d not imported (new orders whose status is not in order_import_status)",
            len(orders) + len(rejections),
            self.stream_name,
            result.inserted,
            result.updated,
            result.stale,
            result.rejected,
            result.not_imported,
        )
        for rejection in rejections:
            self.logger.warning(
                "Rejected a '%s' record (order %s): %s",
                self.stream_name,
                order_id_as_given(rejection.record),
                rejection.reason,
            )

    def _rejection(self, raw: Mapping[str, t.Any], reason: str) -> Rejection:
        if len(reason) > _REASON_LIMIT:
            reason = reason[: _REASON_LIMIT - 1] + "…"
        return Rejection(
            stream=self.stream_name, record=raw, reason=reason, order_id=rejected_order_id(raw)
        )


class IgnoredStreamSink(RecordSink):
    """Accepts any other stream and drops its records, with one warning per stream.

    The warning names the stream map that would load it as orders: a tap that calls its
    orders stream something else must not look like a run with nothing to load.
    """

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties=None)
        self._seen = load_context_of(target).counters.ignored_streams
        if stream_name not in self._seen:
            self._seen[stream_name] = 0
            self.logger.warning(ignored_stream_warning(stream_name))

    @property
    def datetime_error_treatment(self) -> DatetimeErrorTreatmentEnum:
        """Dates of ignored records do not matter; never fail on them."""
        return DatetimeErrorTreatmentEnum.NULL

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """Ignored records are not validated."""
        return None

    def process_record(self, record: dict, context: dict) -> None:
        """Count the record and drop it."""
        self._seen[self.stream_name] += 1
