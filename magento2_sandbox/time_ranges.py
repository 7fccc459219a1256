"""Magento timestamp filters as intervals of epoch seconds, so an index can bisect them.

Magento compares ``created_at``/``updated_at`` as text (``YYYY-MM-DD HH:MM:SS``); the epoch
intervals here select exactly the rows whose text would compare true.
"""

from __future__ import annotations

from collections.abc import Callable

from .clock import format_ts

MAX_EPOCH = 253402300799  # 9999-12-31 23:59:59


def _first_epoch(test: Callable[[str], bool]) -> int:
    """Smallest epoch whose Magento-formatted text satisfies a monotonic ``test``."""
    lo, hi = 0, MAX_EPOCH + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if test(format_ts(mid)):
            hi = mid
        else:
            lo = mid + 1
    return lo


def ts_intervals(condition: str, value: str) -> list[tuple[int, int]] | None:
    """Epoch intervals [a, b) equivalent to comparing Magento timestamp strings, or None."""
    full = [(0, MAX_EPOCH + 1)]

    def bounds(v: str) -> tuple[int, int]:
        v = v.lower()
        return _first_epoch(lambda s: s >= v), _first_epoch(lambda s: s > v)

    def complement(parts: list[tuple[int, int]]) -> list[tuple[int, int]]:
        out, cur = [], 0
        for a, b in sorted(parts):
            if a > cur:
                out.append((cur, a))
            cur = max(cur, b)
        if cur <= MAX_EPOCH:
            out.append((cur, MAX_EPOCH + 1))
        return out

    if condition == "notnull":
        return full
    if condition == "null":
        return []
    if condition in ("in", "nin"):
        parts = [bounds(v) for v in value.split(",")]
        return parts if condition == "in" else complement(parts)
    simple = {"eq", "neq", "gt", "gteq", "from", "lt", "lteq", "to", "ntoa"}
    if condition not in simple:
        return None
    lo, hi = bounds(value)
    return {
        "eq": [(lo, hi)],
        "ntoa": [(lo, hi)],
        "neq": complement([(lo, hi)]),
        "gt": [(hi, MAX_EPOCH + 1)],
        "gteq": [(lo, MAX_EPOCH + 1)],
        "from": [(lo, MAX_EPOCH + 1)],
        "lt": [(0, lo)],
        "lteq": [(0, hi)],
        "to": [(0, hi)],
    }[condition]
