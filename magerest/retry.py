"""How long to wait before trying a failed request again.

Exponential backoff with jitter so many clients do not retry in lockstep, never shorter
than the server's ``Retry-After`` and never longer than a cap. Used by the SDK streams
(as a backoff wait generator) and by ``api.MagentoClient``.

The defaults can be changed without touching code through environment variables (read
when a policy is created; the tap's streams create theirs at import time):
``TAP_MAGENTO2_RETRY_MAX_TRIES`` (attempts, default 5), ``TAP_MAGENTO2_RETRY_BASE_SECONDS``
(first wait, default 1) and ``TAP_MAGENTO2_RETRY_CAP_SECONDS`` (longest single wait,
default 120). So a failing request gives up after at most
``(max_tries - 1) * cap_seconds`` seconds of waiting plus the request timeouts.
"""

from __future__ import annotations

import os
import random
from collections.abc import Generator
from dataclasses import dataclass, field
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


ENV_MAX_TRIES = "TAP_MAGENTO2_RETRY_MAX_TRIES"
ENV_BASE_SECONDS = "TAP_MAGENTO2_RETRY_BASE_SECONDS"
ENV_CAP_SECONDS = "TAP_MAGENTO2_RETRY_CAP_SECONDS"


def _env_number(name: str, default: float, *, whole: bool = False, minimum: float = 0) -> Any:
    """A number from the environment; a bad value is an error that names the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value: float = int(raw) if whole else float(raw)
    except ValueError:
        value = float("nan")
    if not value >= minimum:  # also catches NaN
        kind = "a whole number" if whole else "a number of seconds"
        msg = f"{name} must be {kind} >= {minimum:g}, got {raw!r}"
        raise ValueError(msg)
    return value


def _default_max_tries() -> int:
    return int(_env_number(ENV_MAX_TRIES, 5, whole=True, minimum=1))


def _default_base_seconds() -> float:
    return float(_env_number(ENV_BASE_SECONDS, 1.0))


def _default_cap_seconds() -> float:
    return float(_env_number(ENV_CAP_SECONDS, 120.0))


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and waits: ``base * 2**(n-1)`` with +-25% jitter, at least Retry-After.

    Fields left out take their value from the ``TAP_MAGENTO2_RETRY_*`` environment
    variables, else the defaults above.
    """

    max_tries: int = field(default_factory=_default_max_tries)
    base_seconds: float = field(default_factory=_default_base_seconds)
    cap_seconds: float = field(default_factory=_default_cap_seconds)

    @property
    def longest_total_wait(self) -> float:
        """Upper bound of the seconds spent waiting between the attempts of one request."""
        return max(0, self.max_tries - 1) * self.cap_seconds

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
