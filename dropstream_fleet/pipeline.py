"""One ``meltano`` command for one store view (a load or a backfill) or one store (notify).

Meltano runs as a subprocess from its own virtualenv (``.venv/meltano``: it pins
SQLAlchemy below 2.1, the plugins need 2.1), so the fleet only builds the command line and
the environment. Every setting reaches the plugins as Meltano's own environment variables
(``TAP_MAGENTO2_STORE_URL``, ``TARGET_DROPSTREAM_DATABASE_URL``, ...), never on the command
line where ``ps`` would show a token. The worker's own Magento and plugin variables are
dropped first, so one store's settings can never leak into another store's pipeline.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dropstream_fleet import meltano_log, state_ids
from dropstream_fleet.config import FleetConfig, MissingCredentialError, StoreConfig
from dropstream_fleet.redaction import Redactor

#: Variables a worker may have that would change what a store's pipeline reads.
FOREIGN_PREFIXES = ("TAP_MAGENTO2", "TARGET_DROPSTREAM", "MAGENTO_", "DROPSTREAM_")
NOTIFY = "target-dropstream:notify"
PLUGIN_KINDS = ("extractors", "loaders", "mappers", "utilities")
LOG_TAIL_LINES = 40
#: Lines worth forwarding to Dagster's log as they happen (the rest stays in Meltano's logs).
INTERESTING = ("Committed ", "End-of-run", "notified", "Retrying")


class PipelineError(RuntimeError):
    """A pipeline failed; ``reason`` is the plugins' own message, already redacted."""

    def __init__(self, reason: str, outcome: Outcome | None = None, *, retryable: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome
        self.retryable = retryable


@dataclass(frozen=True)
class Outcome:
    """What one meltano command did (its output already redacted)."""

    returncode: int
    seconds: float
    lines: list[str] = field(repr=False)
    counts: meltano_log.LoadCounts = field(default_factory=meltano_log.LoadCounts)

    @property
    def tail(self) -> str:
        return "\n".join(self.lines[-LOG_TAIL_LINES:])


@dataclass(frozen=True)
class Pipeline:
    """What to run for a store: ``kind`` is ``load``, ``backfill`` or ``notify``."""

    fleet: FleetConfig
    store: StoreConfig
    kind: str = "load"
    view: str | None = None
    start_date: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("load", "backfill", "notify"):
            raise ValueError(f"unknown pipeline kind {self.kind!r}")
        if self.kind != "notify" and self.view not in self.store.store_views:
            raise ValueError(f"store {self.store.name!r} has no store view {self.view!r}")
        if self.kind == "backfill" and not self.start_date:
            raise ValueError("a backfill needs a start date")

    @property
    def state_id(self) -> str | None:
        """The Meltano state ID this pipeline reads and writes (notify has none)."""
        if self.kind == "notify" or self.view is None:
            return None
        if self.kind == "backfill":
            suffix = state_ids.backfill_suffix(self.store.name, self.view, self.start_date or "")
        else:
            suffix = state_ids.load_suffix(self.store.name, self.view)
        return state_ids.state_id(self.fleet.meltano_environment, suffix)

    @property
    def name(self) -> str:
        """``<store>-<view>``, ``<store>-<view>-backfill-<day>`` or ``<store>-notify``."""
        if self.state_id is None:
            return f"{self.store.name}-notify"
        return self.state_id.rsplit(":", 1)[-1]

    def system_dir(self) -> Path:
        """A Meltano system directory for this pipeline alone, sharing the installed plugins.

        Meltano keeps an extractor's catalog and the state it hands the tap in one run
        folder per plugin (``.meltano/run/tap-magento2/``), so two store views running
        at once in one system directory would read each other's state file. Each pipeline
        gets its own folder whose plugin folders link to the installed ones.
        """
        return system_dir(self.fleet, self.name)

    def command(self) -> list[str]:
        meltano = [self.fleet.meltano_executable, "--environment", self.fleet.meltano_environment]
        if self.kind == "notify":
            return [*meltano, "invoke", NOTIFY]
        run = [*meltano, "run", "--state-id-suffix", self.name]
        run += ["--timeout", str(self.store.timeout_minutes * 60)]
        if self.kind == "backfill":
            run.append("--full-refresh")  # from start_date, whatever an earlier backfill saved
        return [*run, state_ids.EXTRACTOR, state_ids.LOADER]

    def environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The subprocess environment.

        Raises:
            MissingCredentialError: a variable the fleet file names is not set on this worker.
        """
        fleet, store = self.fleet, self.store
        env = meltano_environment(fleet, environ, self.system_dir())
        credentials = store.credentials(environ)
        statuses = json.dumps(list(store.order_import_status))
        target = {
            "DATABASE_URL": _required(environ, fleet.database_url_env, "the fulfillment store"),
            "STORE_URL": store.url,
            "DELAY_MINUTES": str(store.delay_minutes),
            "INCLUDE_BUNDLE_PARENT": str(store.include_bundle_parent).lower(),
            "USE_COMPACT_SHIPMENT": str(store.use_compact_shipment).lower(),
            "ORDER_IMPORT_STATUS": statuses,
        }
        tap = {"STORE_URL": store.url, "ORDER_IMPORT_STATUS": statuses}
        if self.view is not None:
            tap["STORE_VIEW_CODE"] = self.view
        start = self.start_date if self.kind == "backfill" else store.start_date
        if start:
            tap["START_DATE"] = start
        for setting, value in credentials.items():
            tap[setting.upper()] = target[setting.upper()] = value
        env.update({f"TAP_MAGENTO2_{k}": v for k, v in tap.items()})
        env.update({f"TARGET_DROPSTREAM_{k}": v for k, v in target.items()})
        env.update(store.env)
        return env

    def redactor(self, environ: Mapping[str, str]) -> Redactor:
        """Masks this store's credentials and the two database URLs' passwords."""
        names = [*self.store.credential_env.values()]
        names += [self.fleet.database_url_env, self.fleet.meltano_database_uri_env]
        return Redactor(environ.get(name) for name in names)


def system_dir(fleet: FleetConfig, name: str) -> Path:
    """``<pipelines_dir>/<name>``, its plugin folders linked to the installed plugins."""
    folder = fleet.pipelines_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    for kind in PLUGIN_KINDS:
        installed = fleet.plugins_dir / kind
        link = folder / kind
        if installed.is_dir() and not link.exists():
            with contextlib.suppress(FileExistsError):  # another worker made it first
                link.symlink_to(installed, target_is_directory=True)
    return folder


def meltano_environment(
    fleet: FleetConfig, environ: Mapping[str, str], sys_dir: Path
) -> dict[str, str]:
    """The worker's environment less other stores' settings, plus Meltano's own."""
    env = {k: v for k, v in environ.items() if not k.startswith(FOREIGN_PREFIXES)}
    env.update(
        MELTANO_PROJECT_ROOT=str(fleet.meltano_project),
        MELTANO_DATABASE_URI=_required(environ, fleet.meltano_database_uri_env, "Meltano state"),
        MELTANO_SYS_DIR_ROOT=str(sys_dir),
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        NO_COLOR="1",
    )
    return env


def upgrade_state_database(fleet: FleetConfig, environ: Mapping[str, str] | None = None) -> None:
    """``meltano upgrade database``: create or migrate Meltano's tables in PostgreSQL.

    Run once before pipelines start together on a new database; otherwise the first
    pipelines race to create the same tables and all but one fail (Dagster would retry
    them, but a first run should not need that).

    Raises:
        PipelineError: with Meltano's message, redacted.
    """
    environ = os.environ if environ is None else environ
    redact = Redactor([environ.get(fleet.meltano_database_uri_env)])
    try:
        env = meltano_environment(fleet, environ, system_dir(fleet, "_upgrade"))
    except MissingCredentialError as exc:
        raise PipelineError(str(exc), retryable=False) from None
    command = [fleet.meltano_executable, "upgrade", "database"]
    try:
        done = subprocess.run(
            command,
            cwd=fleet.meltano_project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PipelineError(redact(f"meltano upgrade database: {exc}")) from None
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).splitlines()
        raise PipelineError(redact(meltano_log.failure_reason(lines)))


def run(
    pipeline: Pipeline,
    environ: Mapping[str, str] | None = None,
    log: Callable[[str], None] | None = None,
) -> Outcome:
    """Run the pipeline to the end; return its outcome or raise ``PipelineError``.

    ``log`` receives the interesting lines as they come, redacted.
    """
    environ = os.environ if environ is None else environ
    redact = pipeline.redactor(environ)
    try:
        env = pipeline.environment(environ)
    except MissingCredentialError as exc:
        raise PipelineError(redact(str(exc)), retryable=False) from None
    timeout = pipeline.store.timeout_minutes * 60 + 120  # meltano's own --timeout comes first
    started = time.monotonic()
    lines: list[str] = []
    try:
        process = subprocess.Popen(
            pipeline.command(),
            cwd=pipeline.fleet.meltano_project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        msg = f"cannot start {pipeline.fleet.meltano_executable}: {exc.strerror}"
        raise PipelineError(msg, retryable=False) from None
    watchdog = threading.Timer(timeout, process.kill)  # a hung process without output too
    watchdog.start()
    try:
        with process:
            assert process.stdout is not None
            for raw in process.stdout:
                line = redact(raw.rstrip("\n"))
                lines.append(line)
                if log is not None and (" [error" in line or any(w in line for w in INTERESTING)):
                    log(meltano_log.ANSI.sub("", line))
            returncode = process.wait()
    finally:
        watchdog.cancel()
    if returncode < 0 and time.monotonic() - started >= timeout:
        now = datetime.now(UTC).isoformat()
        lines.append(f"{now} [error    ] dropstream-fleet stopped after {timeout} s, unfinished")
    outcome = Outcome(
        returncode=returncode,
        seconds=round(time.monotonic() - started, 2),
        lines=lines,
        counts=meltano_log.load_counts(lines),
    )
    if returncode != 0:
        raise PipelineError(redact(meltano_log.failure_reason(lines)), outcome)
    return outcome


def _required(environ: Mapping[str, str], name: str, what: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise MissingCredentialError(
            f"environment variable {name} ({what}) is not set on this worker"
        )
    return value
