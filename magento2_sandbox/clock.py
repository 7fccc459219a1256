"""Sandbox clock: starts at a chosen instant and ticks with real time, so tests control 'now'."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

MAGENTO_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_ts(epoch: int) -> str:
    """Format epoch seconds as Magento prints timestamps (UTC, no zone suffix)."""
    return time.strftime(MAGENTO_TIME_FORMAT, time.gmtime(epoch))


def parse_ts(text: str) -> int:
    """Parse Magento's ``YYYY-MM-DD HH:MM:SS`` (UTC) into epoch seconds."""
    dt = datetime.strptime(text, MAGENTO_TIME_FORMAT).replace(tzinfo=UTC)
    return int(dt.timestamp())


class SandboxClock:
    """UTC clock that starts at ``start`` and advances with wall time plus explicit jumps."""

    def __init__(self, start: datetime | None = None) -> None:
        if start is None:
            start = datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("SandboxClock needs a timezone-aware datetime (UTC)")
        self._start = start.astimezone(UTC).replace(microsecond=0)
        self._t0 = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def start(self) -> datetime:
        return self._start

    def now(self) -> datetime:
        with self._lock:
            elapsed = time.monotonic() - self._t0 + self._offset
        return self._start + timedelta(seconds=elapsed)

    def now_epoch(self) -> int:
        return int(self.now().timestamp())

    def now_text(self) -> str:
        return format_ts(self.now_epoch())

    def advance(self, seconds: float) -> datetime:
        """Jump forward (e.g. to make the next update land in a later second)."""
        with self._lock:
            self._offset += seconds
        return self.now()
