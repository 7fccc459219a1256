"""The one clock of the target and the CLI: a function returning an aware UTC datetime.

Everything that decides by time (release, re-check, ship look-up delays) takes a ``Clock``,
so tests pass a fixed one instead of waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock (UTC)."""
    return datetime.now(tz=UTC)
