"""Read what matters out of ``meltano run``'s output: Magento's words, and what was loaded.

A failed pipeline's last line is Meltano's own ("Extractor failed"), which tells an
operator nothing. The plugins log the real cause one level up: the tap writes Magento's
answer ("Magento at https://... answered GET /rest/V1/... with HTTP 401: The consumer isn't
authorized...") or why the store could not be reached. ``failure_reason`` picks those
plugin error lines so the Dagster failure carries them; Meltano's own error lines are the
fallback (a database that is down, a pipeline already running).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: ``2026-01-15T12:00:00.000000Z [error    ] tap-magento2 <message>`` (Meltano's console format)
LOG_LINE = re.compile(
    r"^\S+\s+\[(?P<level>[a-z]+)\s*\]\s+(?P<source>\S+)\s+(?P<message>.*)$", re.IGNORECASE
)
PLUGINS = ("tap-magento2", "target-dropstream", "dropstream")
COMMITTED = re.compile(
    r"Committed (?P<records>\d+) 'orders' records: (?P<new>\d+) new, (?P<updated>\d+) updated"
)
NOTIFIED = re.compile(r"\b(?P<count>\d+) (?:shipment\(s\) )?notified\b", re.IGNORECASE)
MAX_REASON_LINES = 3
MAX_REASON_CHARS = 1500


@dataclass(frozen=True)
class LogLine:
    level: str
    source: str
    message: str


@dataclass(frozen=True)
class LoadCounts:
    """Orders the target committed in one run (summed over its batches)."""

    received: int = 0
    new: int = 0
    updated: int = 0


def parse(lines: Iterable[str]) -> list[LogLine]:
    """The lines in Meltano's log format; traceback boxes and other lines are left out."""
    parsed = []
    for raw in lines:
        match = LOG_LINE.match(ANSI.sub("", raw).strip())
        if match:
            parsed.append(
                LogLine(match["level"].lower(), match["source"], match["message"].strip())
            )
    return parsed


def failure_reason(lines: Sequence[str]) -> str:
    """The plugins' error messages (Magento's words first), else Meltano's, else the tail."""
    parsed = parse(lines)
    errors = [line for line in parsed if line.level in ("error", "critical")]
    chosen = _unique(line.message for line in errors if line.source in PLUGINS)
    if not chosen:
        chosen = _unique(line.message for line in errors)
        chosen = [m for m in chosen if not m.endswith(("failed", "Block run completed"))] or chosen
    if not chosen:
        tail = [ANSI.sub("", line).strip() for line in lines if line.strip()]
        chosen = tail[-MAX_REASON_LINES:]
    text = "\n".join(chosen[:MAX_REASON_LINES])
    return text[:MAX_REASON_CHARS] or "meltano failed without output"


def load_counts(lines: Iterable[str]) -> LoadCounts:
    received = new = updated = 0
    for line in lines:
        match = COMMITTED.search(line)
        if match:
            received += int(match["records"])
            new += int(match["new"])
            updated += int(match["updated"])
    return LoadCounts(received=received, new=new, updated=updated)


def _unique(messages: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for message in messages:
        short = message.split(" plugin_exc_message=")[0].strip()
        if short and short not in seen:
            seen.append(short)
    return seen
