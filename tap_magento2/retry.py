"""How long to wait before trying a failed request again.

Exponential backoff with jitter so many clients do not retry in lockstep, never shorter
than the server's ``Retry-After`` and never longer than a cap. Used by the SDK streams
(as a backoff wait generator) and by ``api.MagentoClient``.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests


def retry_after_seconds(
    response: requests.Response | None, *, now: datetime | None = None
) -> float:
    """Seconds the server asked us to wait (``Retry-After``: seconds or an HTTP date), or 0."""
    if response is None:
        return 0.0
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and waits: ``base * 2**(n-1)`` with +-25% jitter, at least Retry-After."""

    max_tries: int = 5
    base_seconds: float = 1.0
    cap_seconds: float = 120.0

    def wait(self, attempt: int, response: requests.Response | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        backoff = self.base_seconds * 2 ** max(0, attempt - 1)
        jittered = backoff * random.uniform(0.75, 1.25)  # jitter, not security
        return min(self.cap_seconds, max(jittered, retry_after_seconds(response)))

    def wait_generator(self) -> Generator[float, Any, None]:
        """A ``backoff`` wait generator; it is sent the exception of each failed try."""
        exception = yield 0.0  # primed by backoff with send(None); this value is discarded
        attempt = 0
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            exception = yield self.wait(
                attempt, response if isinstance(response, requests.Response) else None
            )
