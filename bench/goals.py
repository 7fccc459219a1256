"""Issue-level performance goals, read off one bench run's medians: PASS or MISS each.

Every goal is a ratio of two rows measured side by side in the same run (or a peak RSS, or
the re-check's request count), so a noisy machine moves both sides alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bench import names

RSS_LIMIT_MB = 150.0
#: Peak RSS at the largest size over the smallest: "flat" allows this much growth.
RSS_FLAT = 1.10


@dataclass(frozen=True)
class Outcome:
    goal: str
    measured: str
    target: str
    passed: bool | None  # None: not measured in this run (row skipped or failed)
    detail: str = ""


def evaluate(entries: list[dict[str, Any]], recheck: dict[str, Any] | None) -> list[Outcome]:
    """Each goal against the medians of ``entries`` (the smallest size; RSS at every size)."""
    sizes = sorted({e["orders"] for e in entries})
    at = {(e["row"], e["orders"]): e for e in entries if "wall_s" in e and not e["failed_runs"]}
    base = sizes[0] if sizes else 0

    def value(row: str, key: str, orders: int = base) -> float | None:
        entry = at.get((row, orders))
        return None if entry is None else float(entry[key])

    out = [
        _ratio(
            "1. tap CPU / parse-only loop CPU",
            value(names.TAP, "cpu_s"),
            value(names.PARSE_ONLY_1, "cpu_s"),
            at_most=1.3,
        ),
        _ratio(
            "2. speed-up at flat latency: parse-only loop wall / tap wall",
            value(names.FLAT_PARSE_ONLY_1, "wall_s"),
            value(names.FLAT_TAP, "wall_s"),
            at_least=1.5,
        ),
        _ratio(
            "2. speed-up, latency model: parse-only loop wall / tap wall",
            value(names.PARSE_ONLY_1, "wall_s"),
            value(names.TAP, "wall_s"),
            at_least=3.5,
        ),
        _ratio(
            "3. meltano run wall / bare pipe wall",
            value(names.MELTANO, "wall_s"),
            value(names.PIPE, "wall_s"),
            at_most=1.1,
        ),
        _ratio(
            "3. meltano run CPU / bare pipe CPU",
            value(names.MELTANO, "cpu_s"),
            value(names.PIPE, "cpu_s"),
            at_most=1.1,
        ),
        _ratio(
            "4. target CPU / executemany CPU, SQLite",
            value(names.TARGET_SQLITE, "cpu_s"),
            value(names.RAW_STORE_SQLITE, "cpu_s"),
            at_most=1.2,
        ),
        _ratio(
            "4. target CPU / executemany CPU, PostgreSQL",
            value(names.TARGET_PG, "cpu_s"),
            value(names.RAW_STORE_PG, "cpu_s"),
            at_most=1.2,
        ),
    ]
    for row, label in (
        (names.TAP, "tap"),
        (names.TARGET_SQLITE, "target SQLite"),
        (names.TARGET_PG, "target PostgreSQL"),
    ):
        for orders in sizes:
            rss = value(row, "peak_rss_mb", orders)
            out.append(
                Outcome(
                    f"4. peak RSS, {label}, {orders:,} orders",
                    "" if rss is None else f"{rss:.0f} MB",
                    f"< {RSS_LIMIT_MB:.0f} MB",
                    None if rss is None else rss < RSS_LIMIT_MB,
                )
            )
        if len(sizes) > 1:
            out.append(
                _ratio(
                    f"4. peak RSS flat, {label}: {sizes[-1]:,} / {sizes[0]:,} orders",
                    value(row, "peak_rss_mb", sizes[-1]),
                    value(row, "peak_rss_mb", sizes[0]),
                    at_most=RSS_FLAT,
                )
            )
    if recheck is not None:
        out.append(
            Outcome(
                f"5. re-check requests, {recheck['orders']:,} open orders",
                f"{recheck['requests']} ({recheck['seconds']:.1f} s)",
                f"<= {recheck['pages']} (one per page)",
                recheck["requests"] <= recheck["pages"],
            )
        )
    return out


def _ratio(
    goal: str,
    numerator: float | None,
    denominator: float | None,
    *,
    at_most: float | None = None,
    at_least: float | None = None,
) -> Outcome:
    target = f"<= {at_most:.2f}x" if at_most is not None else f">= {at_least:.2f}x"
    if numerator is None or not denominator:
        return Outcome(goal, "", target, None, "a row was skipped or failed")
    ratio = numerator / denominator
    passed = ratio <= at_most if at_most is not None else ratio >= (at_least or 0.0)
    return Outcome(goal, f"{ratio:.2f}x", target, passed)


def render(outcomes: list[Outcome]) -> list[str]:
    """The goals table, one line per goal."""
    width = max((len(o.goal) for o in outcomes), default=4)
    lines = [f"{'goal':<{width}} {'measured':>16} {'target':>22}  result"]
    lines.append("-" * len(lines[0]))
    for o in outcomes:
        result = {True: "PASS", False: "MISS", None: "not measured"}[o.passed]
        detail = f" ({o.detail})" if o.detail else ""
        lines.append(f"{o.goal:<{width}} {o.measured:>16} {o.target:>22}  {result}{detail}")
    return lines


def as_json(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [asdict(o) for o in outcomes]
