"""A child stream's logging per run instead of per parent record.

singer-sdk syncs a child stream once per parent record (``order_items``: once per order)
and each time logs "Beginning sync of ..." plus two METRIC lines that carry the order's
items as a tag: three lines per order, most of a run's log. ``ChildRunLog`` keeps the
first "Beginning sync" line (the others go to debug level) and meters that count across
the per-order syncs, logged once when the parent's sync ends. Records are untouched.
"""

from __future__ import annotations

import logging
from time import time
from types import TracebackType
from typing import Any

from singer_sdk import metrics

BEGINNING_SYNC = "Beginning sync of "


class RunRecordCounter(metrics.Counter):
    """Records of every per-parent sync of a run, one METRIC line per run."""

    def __init__(self, stream: str) -> None:
        super().__init__(metrics.Metric.RECORD_COUNT, {metrics.Tag.STREAM: stream})
        self.syncs = 0

    def with_context(self, value: Any) -> None:
        """Ignored: the parent record's context (an order's items) is no useful tag."""

    def __enter__(self) -> RunRecordCounter:
        self.syncs += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """Counting goes on across the run's syncs; ``flush`` logs it."""

    def flush(self) -> None:
        """Log the run's count (if the stream synced at all) and start again."""
        if self.syncs:
            self._pop()
            self.syncs = 0


class RunSyncTimer(metrics.Timer):
    """Seconds spent in every per-parent sync of a run, one METRIC line per run."""

    def __init__(self, stream: str) -> None:
        super().__init__(metrics.Metric.SYNC_DURATION, {metrics.Tag.STREAM: stream})
        self.seconds = 0.0
        self.syncs = 0
        self.failed = False

    def with_context(self, value: Any) -> None:
        """Ignored, as for ``RunRecordCounter``."""

    def __enter__(self) -> RunSyncTimer:
        self.start_time = time()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.seconds += self.elapsed()
        self.syncs += 1
        self.failed = self.failed or exc_type is not None

    def flush(self) -> None:
        """Log the run's total (if the stream synced at all) and start again."""
        if not self.syncs:
            return
        status = metrics.Status.FAILED if self.failed else metrics.Status.SUCCEEDED
        tags = {**self.tags, metrics.Tag.STATUS: status}
        metrics.log(self.logger, metrics.Point("timer", self.metric, self.seconds, tags))
        self.seconds, self.syncs, self.failed = 0.0, 0, False


class ChildRunLog:
    """What a child stream logs in one run: one "Beginning sync" line, one set of meters."""

    def __init__(self, stream: str) -> None:
        self.records = RunRecordCounter(stream)
        self.timer = RunSyncTimer(stream)
        self._announced = False

    def level_of(self, message: str, level: int) -> int:
        """The level to log ``message`` at: later "Beginning sync" lines go to debug."""
        if not message.startswith(BEGINNING_SYNC):
            return level
        if self._announced:
            return logging.DEBUG
        self._announced = True
        return level

    def end_run(self) -> None:
        """The parent's sync ended: log the meters; the next run announces itself again."""
        self.records.flush()
        self.timer.flush()
        self._announced = False
