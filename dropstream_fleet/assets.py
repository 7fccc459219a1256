"""The Dagster side of one store: an asset per store view, a notify asset, a backfill job.

- ``<store>/orders_<view>``: ``meltano run tap-magento2 target-dropstream`` for that store
  view, with its own state ID. A failure raises ``dagster.Failure`` whose description is
  the plugins' own message (Magento's words), redacted; Dagster's ``RetryPolicy`` retries
  it, except when retrying cannot help (a credential variable missing on the worker).
- ``<store>/ship_notifications``: ``dropstream notify`` for the store, after its loads.
- ``backfill_<store>``: an op job (no asset is materialized, so the production asset's
  history stays the production loads) that loads the store's views from a start date
  under backfill state IDs, from the launchpad or ``dropstream-fleet backfill``.

Every step is tagged with its store (``dropstream/store``), which is what the per-store
concurrency limits key on.
"""

from typing import Any

import dagster as dg
from dagster import AssetExecutionContext, OpExecutionContext

from dropstream_fleet import STORE_TAG
from dropstream_fleet.config import FleetConfig, StoreConfig
from dropstream_fleet.pipeline import Outcome, Pipeline, PipelineError, run

KINDS = {"meltano", "magento", "postgres"}


def view_key(store: str, view: str) -> dg.AssetKey:
    return dg.AssetKey([store, f"orders_{view}"])


def notify_key(store: str) -> dg.AssetKey:
    return dg.AssetKey([store, "ship_notifications"])


def retry_policy(store: StoreConfig) -> dg.RetryPolicy | None:
    if store.retries == 0:
        return None
    return dg.RetryPolicy(
        max_retries=store.retries,
        delay=store.retry_delay_seconds,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


def failure(pipeline: Pipeline, exc: PipelineError) -> dg.Failure:
    """A Dagster failure that says which store failed and Magento's reason, nothing secret."""
    where = f"store {pipeline.store.name}"
    if pipeline.view:
        where += f", store view {pipeline.view}"
    metadata: dict[str, Any] = {
        "store": pipeline.store.name,
        "store_url": pipeline.store.url,
        "reason": dg.MetadataValue.text(exc.reason),
    }
    if pipeline.state_id:
        metadata["state_id"] = pipeline.state_id
    if exc.outcome is not None:
        metadata["exit_code"] = exc.outcome.returncode
        metadata["seconds"] = exc.outcome.seconds
        metadata["log_tail"] = dg.MetadataValue.md(f"```\n{exc.outcome.tail}\n```")
    return dg.Failure(
        description=f"{where} failed: {exc.reason}",
        metadata=metadata,
        allow_retries=exc.retryable,
    )


def load_metadata(pipeline: Pipeline, outcome: Outcome) -> dict[str, Any]:
    return {
        "store": pipeline.store.name,
        "store_view": pipeline.view or "",
        "state_id": pipeline.state_id or "",
        "orders_received": outcome.counts.received,
        "orders_new": outcome.counts.new,
        "orders_updated": outcome.counts.updated,
        "seconds": outcome.seconds,
    }


def store_view_asset(fleet: FleetConfig, store: StoreConfig, view: str) -> dg.AssetsDefinition:
    pipeline = Pipeline(fleet, store, "load", view)

    @dg.asset(
        key=view_key(store.name, view),
        group_name=store.name,
        description=(
            f"Orders of {store.url}, store view {view}, in the fulfillment store "
            f"(Meltano state ID {pipeline.state_id})."
        ),
        metadata={"store_url": store.url, "store_view": view, "state_id": pipeline.state_id},
        op_tags={STORE_TAG: store.name},
        retry_policy=retry_policy(store),
        kinds=KINDS,
    )
    def _load(context: AssetExecutionContext) -> dg.MaterializeResult:
        try:
            outcome = run(pipeline, log=context.log.info)
        except PipelineError as exc:
            raise failure(pipeline, exc) from None
        return dg.MaterializeResult(metadata=load_metadata(pipeline, outcome))

    return _load


def notify_asset(fleet: FleetConfig, store: StoreConfig) -> dg.AssetsDefinition:
    pipeline = Pipeline(fleet, store, "notify")

    @dg.asset(
        key=notify_key(store.name),
        group_name=store.name,
        deps=[view_key(store.name, view) for view in store.store_views],
        description=f"Pending shipments of {store.url} posted to Magento (dropstream notify).",
        metadata={"store_url": store.url},
        op_tags={STORE_TAG: store.name},
        retry_policy=retry_policy(store),
        kinds={"meltano", "magento"},
    )
    def _notify(context: AssetExecutionContext) -> dg.MaterializeResult:
        try:
            outcome = run(pipeline, log=context.log.info)
        except PipelineError as exc:
            raise failure(pipeline, exc) from None
        summary = [line for line in outcome.lines if " notified, " in line]
        return dg.MaterializeResult(
            metadata={
                "store": store.name,
                "summary": summary[-1] if summary else "nothing reported",
                "seconds": outcome.seconds,
            }
        )

    return _notify


class BackfillConfig(dg.Config):
    """Launchpad config of a backfill: from when, and which store views (all when empty)."""

    start_date: str
    store_views: list[str] = []


def backfill_job(fleet: FleetConfig, store: StoreConfig) -> dg.JobDefinition:
    @dg.op(
        name=f"backfill_views_{store.name}", tags={STORE_TAG: store.name}, out=dg.Out(dg.Nothing)
    )
    def _backfill(context: OpExecutionContext, config: BackfillConfig) -> dg.Output[None]:
        views = config.store_views or list(store.store_views)
        unknown = sorted(set(views) - set(store.store_views))
        if unknown:
            msg = f"store {store.name} has no store view {', '.join(unknown)}"
            raise dg.Failure(description=msg, allow_retries=False)
        results: dict[str, Any] = {}
        failures = []
        for view in views:
            pipeline = Pipeline(fleet, store, "backfill", view, config.start_date)
            try:
                outcome = run(pipeline, log=context.log.info)
            except PipelineError as exc:
                failures.append(failure(pipeline, exc))
                continue
            for name, value in load_metadata(pipeline, outcome).items():
                results[f"{view}.{name}"] = value
        if failures:
            first = failures[0]
            raise dg.Failure(
                description="\n".join(f.description or "" for f in failures),
                metadata=first.metadata,
            )
        return dg.Output(None, metadata=results)

    @dg.job(
        name=f"backfill_{store.name}",
        description=(
            f"Load {store.name} again from a start date under backfill state IDs "
            "(<store>-<view>-backfill-<YYYYMMDD>); production bookmarks are not touched."
        ),
        tags={STORE_TAG: store.name, "dropstream/kind": "backfill"},
        executor_def=dg.in_process_executor,
    )
    def _job() -> None:
        _backfill()

    return _job
