"""Progress of a long sync, against what Magento says there is to read.

A first sync of a large store runs for many minutes; without a sign of life it looks hung.
Every ``every_pages`` pages one line says how far it got, e.g.
``orders: 12,400 of 80,000, 3,100/s``. The total is the first answer's ``total_count``
(everything from the start), raised when later answers show more (orders updated while
the sync runs join its end).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class SyncProgress:
    """Rows read so far by one stream's sync, logged every ``every_pages`` pages."""

    def __init__(
        self,
        noun: str,
        logger: logging.Logger,
        *,
        every_pages: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.noun = noun
        self.rows = 0
        self.pages = 0
        self.total: int | None = None
        self._logger = logger
        self._every = max(1, every_pages)
        self._clock = clock
        self._started = clock()
        self._logged = False

    def page(self, rows: int, total_count: int) -> None:
        """Count one page of ``rows`` rows whose answer said ``total_count`` remain.

        ``total_count`` counts from the page's cursor (within its time slice when pages
        are read in parallel), so the rows read before it plus it never exceed the total.
        """
        before = self.rows
        self.rows += rows
        self.pages += 1
        self.total = max(self.total or 0, before + total_count, self.rows)
        if self.pages % self._every == 0:
            self._logger.info("%s", self.line())
            self._logged = True

    def finish(self) -> None:
        """Log the final count, if the sync was long enough to log progress at all."""
        if self._logged:
            self._logger.info("%s", self.line(final=True))

    def line(self, *, final: bool = False) -> str:
        """``orders: 12,400 of 80,000, 3,100/s`` (``... read in 26 s, ...`` when final)."""
        elapsed = max(self._clock() - self._started, 1e-6)
        rate = f"{self.rows / elapsed:,.0f}/s"
        if final:
            return f"{self.noun}: {self.rows:,} read in {elapsed:,.0f} s, {rate}"
        return f"{self.noun}: {self.rows:,} of {self.total or self.rows:,}, {rate}"
