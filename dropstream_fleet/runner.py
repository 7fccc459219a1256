"""Run the fleet (or one store's backfill) once, in this process, and read back what happened.

``dropstream-fleet run``, ``make fleet-demo``, the tests and the load test all go through
``run_fleet``: Dagster's ``execute_job`` with the multiprocess executor (one process per
step, the fleet's limits applied by Dagster), then the run's event log is read into one
``StepResult`` per step. With ``DAGSTER_HOME`` set the run is recorded in that Dagster
instance, so it shows in the UI next to the scheduled runs; otherwise a throwaway
instance is used.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import DagsterEventType

from dropstream_fleet import jobs
from dropstream_fleet.assets import BackfillConfig
from dropstream_fleet.config import FleetConfig, load_fleet
from dropstream_fleet.pipeline import Pipeline, upgrade_state_database

_STARTS = {DagsterEventType.STEP_START, DagsterEventType.STEP_RESTARTED}
_ENDS = {
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_UP_FOR_RETRY,
}


@dataclass
class StepResult:
    """One step of a fleet run: a store view's load, or a store's notify."""

    store: str
    view: str | None
    step_key: str
    state_id: str | None
    status: str = "not run"
    reason: str = ""
    attempts: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    intervals: list[tuple[float, float]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "notify" if self.view is None else "load"


@dataclass
class FleetRun:
    run_id: str
    success: bool
    seconds: float
    steps: list[StepResult]

    def failed_stores(self) -> set[str]:
        return {step.store for step in self.steps if step.status == "failed"}


@contextlib.contextmanager
def fleet_instance() -> Iterator[dg.DagsterInstance]:
    """The deployment's Dagster instance when ``DAGSTER_HOME`` is set, else a throwaway one."""
    if os.environ.get("DAGSTER_HOME"):
        with dg.DagsterInstance.get() as instance:
            yield instance
        return
    with (
        tempfile.TemporaryDirectory(prefix="dropstream-fleet-") as home,
        dg.DagsterInstance.local_temp(home) as instance,
    ):
        yield instance


def expected_steps(fleet: FleetConfig) -> list[StepResult]:
    """Every step the ``fleet`` job has, in file order."""
    steps = []
    for store in fleet.stores:
        for view in store.store_views:
            pipeline = Pipeline(fleet, store, "load", view)
            key = f"{store.name}__orders_{view}"
            steps.append(StepResult(store.name, view, key, pipeline.state_id))
        steps.append(StepResult(store.name, None, f"{store.name}__ship_notifications", None))
    return steps


def run_fleet(
    config_path: str | Path,
    *,
    instance: dg.DagsterInstance | None = None,
    tags: Mapping[str, str] | None = None,
    log_level: str = "CRITICAL",
    console_log: Path | None = None,
) -> FleetRun:
    """Run every store once with the multiprocess executor; never raises for a store.

    ``log_level`` is for Dagster's console log only; the event log keeps everything. With
    ``console_log``, what the step processes write to stderr goes to that file instead.

    Raises:
        PipelineError: Meltano's system database cannot be prepared (it is down, say).
    """
    fleet = load_fleet(config_path)
    upgrade_state_database(fleet)
    job = jobs.reconstructable_fleet_job(config_path)
    with contextlib.ExitStack() as stack:
        if instance is None:
            instance = stack.enter_context(fleet_instance())
        if console_log is not None:
            stack.enter_context(_stderr_to(console_log))
        started = time.monotonic()
        run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
        with dg.execute_job(
            job, instance=instance, run_config=run_config, tags=dict(tags or {})
        ) as result:
            run_id, success = result.run_id, result.success
        seconds = time.monotonic() - started
        steps = read_steps(instance, run_id, expected_steps(fleet))
    return FleetRun(run_id=run_id, success=success, seconds=round(seconds, 2), steps=steps)


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Point file descriptor 2 (inherited by the step processes) at ``path`` for a while."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as target:
        os.dup2(target.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run_backfill(
    config_path: str | Path,
    store: str,
    start_date: str,
    views: Sequence[str] = (),
    *,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "CRITICAL",
) -> tuple[bool, dict[str, Any], str]:
    """Run ``backfill_<store>`` once: (success, per-view figures, failure reason)."""
    load_fleet(config_path).store(store)  # a clear error for an unknown store
    job = jobs.backfill_job_for(str(Path(config_path).resolve()), store)
    config = BackfillConfig(start_date=start_date, store_views=list(views))
    run_config = dg.RunConfig(
        ops={f"backfill_views_{store}": config},
        loggers={"console": {"config": {"log_level": log_level}}},
    )
    with contextlib.ExitStack() as stack:
        if instance is None:
            instance = stack.enter_context(fleet_instance())
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False
        )
        figures: dict[str, Any] = {}
        reason = ""
        for event in result.all_events:
            if event.event_type == DagsterEventType.STEP_OUTPUT:
                data = event.event_specific_data
                figures.update({k: v.value for k, v in (data.metadata or {}).items()})
            elif event.event_type == DagsterEventType.STEP_FAILURE:
                reason = failure_text(event)
    return result.success, figures, reason


def read_steps(
    instance: dg.DagsterInstance, run_id: str, steps: list[StepResult]
) -> list[StepResult]:
    """Fill ``steps`` from the run's event log: outcome, reason, attempts, timings."""
    by_key = {step.step_key: step for step in steps}
    open_since: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key not in by_key:
            continue
        step = by_key[event.step_key]
        kind = event.event_type
        if kind in _STARTS:
            open_since[step.step_key] = record.timestamp
            step.attempts += 1
        elif kind in _ENDS:
            begun = open_since.pop(step.step_key, record.timestamp)
            step.intervals.append((begun, record.timestamp))
        if kind == DagsterEventType.ASSET_MATERIALIZATION:
            metadata = event.event_specific_data.materialization.metadata
            step.metadata = {k: v.value for k, v in metadata.items()}
        elif kind == DagsterEventType.STEP_SUCCESS:
            step.status = "notified" if step.view is None else "loaded"
        elif kind == DagsterEventType.STEP_FAILURE:
            step.status = "failed"
            step.reason = failure_text(event)
        elif kind == DagsterEventType.STEP_SKIPPED:
            step.status = "skipped"
    for step in steps:
        if step.status == "not run" and step.view is None:
            step.reason = "a load of this store failed, so Magento was not notified"
    return steps


def failure_text(event: dg.DagsterEvent) -> str:
    """The ``Failure`` description a step raised, through Dagster's retry wrapper."""
    data = event.event_specific_data
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        return user.description
    error = getattr(data, "error", None)
    first = error.message.strip() if error is not None else ""
    while error is not None:
        if error.cls_name == "Failure":
            return error.message.strip()
        error = error.cause or error.context
    return first
