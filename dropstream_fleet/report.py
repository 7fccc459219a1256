"""Print a fleet run as an operator reads it: one line per store view, failures with reasons.

The orders figures come from the assets' materialization metadata (what the target
committed), the bookmark from Meltano's state table; nothing here is computed twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dropstream_fleet.runner import FleetRun, StepResult
from dropstream_fleet.state_ids import orders_bookmark

HEADER = ("store", "view", "result", "orders in", "new", "tries", "secs", "state ID / bookmark")


def format_run(run: FleetRun, states: Mapping[str, dict] | None = None) -> str:
    """The per-store table of one run, then the reasons of the failures."""
    states = states or {}
    rows = [HEADER]
    for step in run.steps:
        rows.append(_row(step, states))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(HEADER))]
    cells = [[str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)] for row in rows]
    lines = ["  ".join(row).rstrip() for row in cells]
    failed = [step for step in run.steps if step.status == "failed"]
    if failed:
        lines.append("")
        lines.append("Failures:")
        for step in failed:
            where = f"{step.store}/{step.view}" if step.view else f"{step.store} (notify)"
            lines.append(f"  {where}: {step.reason}")
    loaded = sum(int(s.metadata.get("orders_received", 0)) for s in run.steps)
    stores = sorted({s.store for s in run.steps})
    bad = sorted(run.failed_stores())
    lines.append("")
    lines.append(
        f"Run {run.run_id}: {len(stores)} stores, {len(bad)} failing"
        + (f" ({', '.join(bad)})" if bad else "")
        + f"; {loaded} orders received in {run.seconds:.1f} s."
    )
    return "\n".join(lines)


def _row(step: StepResult, states: Mapping[str, dict]) -> tuple[str, ...]:
    meta = step.metadata
    secs = f"{meta['seconds']:.1f}" if "seconds" in meta else "-"
    if step.view is None:
        summary = str(meta.get("summary", step.reason if step.status != "notified" else ""))
        return (step.store, "(notify)", step.status, "-", "-", str(step.attempts), secs, summary)
    state = states.get(step.state_id or "", {})
    bookmark = orders_bookmark(state) or "no bookmark"
    return (
        step.store,
        step.view,
        step.status,
        str(meta.get("orders_received", "-")),
        str(meta.get("orders_new", "-")),
        str(step.attempts),
        secs,
        f"{step.state_id} @ {bookmark}",
    )


def state_ids_of(steps: Sequence[StepResult]) -> list[str]:
    return [step.state_id for step in steps if step.state_id]
