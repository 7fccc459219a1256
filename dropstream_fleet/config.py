"""Read ``fleet.yml``: the stores as data, checked before Dagster sees any of them.

Adding a store is one entry in the file, never code. A bad entry stops the whole file from
loading with a message naming the store and the field, because a half-understood fleet is
worse than none. Credentials are never in the file: it names the environment variables
that hold them, and a variable missing at run time fails that store's runs only (see
``StoreConfig.credentials``), since one merchant's missing token must not stop the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from dagster import DagsterInvalidDefinitionError, ScheduleDefinition

DEFAULT_SCHEDULE = "*/15 * * * *"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
STORE_VIEW = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$")
CREDENTIALS = ("access_token", "consumer_key", "consumer_secret", "access_token_secret")
OAUTH_TRIO = CREDENTIALS[1:]
#: Extra settings a store may pass to the plugins (``env:``), never secrets.
PLUGIN_ENV_PREFIXES = ("TAP_MAGENTO2_", "TARGET_DROPSTREAM_")
SECRET_WORDS = ("TOKEN", "SECRET", "KEY", "PASSWORD", "DATABASE_URL")

STORE_FIELDS = {
    "name",
    "url",
    "store_views",
    "credentials",
    "schedule",
    "notify_schedule",
    "max_concurrent",
    "retries",
    "retry_delay_seconds",
    "delay_minutes",
    "include_bundle_parent",
    "use_compact_shipment",
    "order_import_status",
    "start_date",
    "timeout_minutes",
    "env",
}
DEFAULT_FIELDS = STORE_FIELDS - {"name", "url", "store_views", "credentials", "env"}
FLEET_FIELDS = {
    "meltano_project",
    "meltano_executable",
    "meltano_sys_dir",
    "work_dir",
    "meltano_environment",
    "database_url_env",
    "meltano_database_uri_env",
    "max_concurrent",
    "schedules_running",
}


class FleetConfigError(ValueError):
    """The fleet file is wrong; the message names the store (or section) and the field."""


class MissingCredentialError(RuntimeError):
    """A variable the fleet file names is not set where the run happens (that store fails)."""


@dataclass(frozen=True)
class StoreConfig:
    """One merchant's Magento store and how its pipelines run."""

    name: str
    url: str
    store_views: tuple[str, ...]
    credential_env: Mapping[str, str]
    schedule: str = DEFAULT_SCHEDULE
    notify_schedule: str | None = None
    max_concurrent: int = 2
    retries: int = 2
    retry_delay_seconds: float = 60.0
    delay_minutes: int = 0
    include_bundle_parent: bool = False
    use_compact_shipment: bool = True
    order_import_status: tuple[str, ...] = ("processing",)
    start_date: str | None = None
    timeout_minutes: int = 60
    env: Mapping[str, str] = field(default_factory=dict)

    def credentials(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The credential values, read from ``environ`` by the names the file gives.

        Raises:
            MissingCredentialError: naming the store, the setting and the variable (never a value).
        """
        values = {}
        for setting, variable in self.credential_env.items():
            value = environ.get(variable, "")
            if not value:
                msg = (
                    f"store {self.name!r}: environment variable {variable} "
                    f"(its {setting}) is not set on this worker"
                )
                raise MissingCredentialError(msg)
            values[setting] = value
        return values


@dataclass(frozen=True)
class FleetConfig:
    """The whole fleet: where Meltano lives, the shared databases, the limits and the stores."""

    source: Path
    stores: tuple[StoreConfig, ...]
    meltano_project: Path
    meltano_executable: str
    meltano_sys_dir: Path | None = None
    work_dir: Path | None = None
    meltano_environment: str = "prod"
    database_url_env: str = "DROPSTREAM_DATABASE_URL"
    meltano_database_uri_env: str = "MELTANO_DATABASE_URI"
    max_concurrent: int = 4
    schedules_running: bool = True

    @property
    def plugins_dir(self) -> Path:
        """Meltano's system directory holding the installed plugins (``meltano install``)."""
        return self.meltano_sys_dir or self.meltano_project / ".meltano"

    @property
    def pipelines_dir(self) -> Path:
        """Where each pipeline gets a system directory of its own (see ``pipeline``)."""
        return self.work_dir or self.plugins_dir / "fleet"

    def store(self, name: str) -> StoreConfig:
        for store in self.stores:
            if store.name == name:
                return store
        known = ", ".join(s.name for s in self.stores)
        raise FleetConfigError(f"no store named {name!r} in {self.source} (stores: {known})")


def load_fleet(path: str | Path) -> FleetConfig:
    """Read and check the fleet file at ``path``.

    Raises:
        FleetConfigError: for a file that cannot be read or any wrong entry.
    """
    source = Path(path).resolve()
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FleetConfigError(f"cannot read the fleet file {source}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise FleetConfigError(f"{source} is not valid YAML: {exc}") from exc
    return parse_fleet(document, source)


def parse_fleet(document: Any, source: Path) -> FleetConfig:
    """Check a parsed fleet document; ``source`` anchors the relative paths in it."""
    if not isinstance(document, dict):
        raise FleetConfigError(f"{source}: expected a mapping with 'fleet', 'defaults', 'stores'")
    _no_unknown("the file", document, {"fleet", "defaults", "stores"})
    fleet = _section(document, "fleet")
    _no_unknown("fleet", fleet, FLEET_FIELDS)
    defaults = _section(document, "defaults")
    _no_unknown("defaults", defaults, DEFAULT_FIELDS)
    entries = document.get("stores")
    if not isinstance(entries, list) or not entries:
        raise FleetConfigError(f"{source}: 'stores' must be a non-empty list of stores")
    stores = tuple(_store(entry, defaults, index) for index, entry in enumerate(entries))
    seen: set[str] = set()
    for store in stores:
        if store.name in seen:
            raise FleetConfigError(f"store {store.name!r}: name: used by two stores")
        seen.add(store.name)
    base = source.parent
    project = base / str(fleet.get("meltano_project", "."))
    sys_dir = fleet.get("meltano_sys_dir")
    work_dir = fleet.get("work_dir")
    return FleetConfig(
        source=source,
        stores=stores,
        meltano_project=project.resolve(),
        meltano_executable=_executable(fleet.get("meltano_executable"), project),
        meltano_sys_dir=(base / str(sys_dir)).resolve() if sys_dir else None,
        work_dir=(base / str(work_dir)).resolve() if work_dir else None,
        meltano_environment=_text("fleet", "meltano_environment", fleet, "prod"),
        database_url_env=_env_name("fleet", "database_url_env", fleet, "DROPSTREAM_DATABASE_URL"),
        meltano_database_uri_env=_env_name(
            "fleet", "meltano_database_uri_env", fleet, "MELTANO_DATABASE_URI"
        ),
        max_concurrent=_int("fleet", "max_concurrent", fleet.get("max_concurrent", 4), 1),
        schedules_running=_bool("fleet", "schedules_running", fleet.get("schedules_running", True)),
    )


def _store(entry: Any, defaults: Mapping[str, Any], index: int) -> StoreConfig:
    if not isinstance(entry, dict):
        raise FleetConfigError(f"stores[{index}]: expected a mapping (name, url, store_views...)")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise FleetConfigError(
            f"stores[{index}]: name: {name!r} must be 1-40 lower-case letters, digits or '_', "
            "starting with a letter (it names Dagster assets and Meltano state IDs)"
        )
    where = f"store {name!r}"
    _no_unknown(where, entry, STORE_FIELDS)
    merged = {**defaults, **entry}
    views = merged.get("store_views")
    if not isinstance(views, list) or not views:
        raise FleetConfigError(f"{where}: store_views: a non-empty list of store view codes")
    for view in views:
        if not isinstance(view, str) or not STORE_VIEW.match(view):
            raise FleetConfigError(
                f"{where}: store_views: {view!r} is not a Magento store view code "
                "(lower-case letters, digits, '_', starting with a letter)"
            )
    if len(set(views)) != len(views):
        raise FleetConfigError(f"{where}: store_views: a store view is listed twice")
    statuses = merged.get("order_import_status", ["processing"])
    if isinstance(statuses, str):
        statuses = [statuses]
    if (
        not isinstance(statuses, list)
        or not statuses
        or not all(isinstance(s, str) for s in statuses)
    ):
        raise FleetConfigError(f"{where}: order_import_status: a status or a list of statuses")
    if not statuses:
        raise FleetConfigError(f"{where}: order_import_status: the list is empty")
    start = merged.get("start_date")
    if start is not None and not DATE.match(str(start)):
        raise FleetConfigError(f"{where}: start_date: {start!r} is not an ISO 8601 date")
    return StoreConfig(
        name=name,
        url=_url(where, merged.get("url")),
        store_views=tuple(views),
        credential_env=_credentials(where, merged.get("credentials")),
        schedule=_cron(where, "schedule", merged.get("schedule", DEFAULT_SCHEDULE)),
        notify_schedule=(
            _cron(where, "notify_schedule", merged["notify_schedule"])
            if merged.get("notify_schedule")
            else None
        ),
        max_concurrent=_int(where, "max_concurrent", merged.get("max_concurrent", 2), 1),
        retries=_int(where, "retries", merged.get("retries", 2), 0),
        retry_delay_seconds=_number(
            where, "retry_delay_seconds", merged.get("retry_delay_seconds", 60)
        ),
        delay_minutes=_int(where, "delay_minutes", merged.get("delay_minutes", 0), 0),
        include_bundle_parent=_bool(
            where, "include_bundle_parent", merged.get("include_bundle_parent", False)
        ),
        use_compact_shipment=_bool(
            where, "use_compact_shipment", merged.get("use_compact_shipment", True)
        ),
        order_import_status=tuple(statuses),
        start_date=str(start) if start is not None else None,
        timeout_minutes=_int(where, "timeout_minutes", merged.get("timeout_minutes", 60), 1),
        env=_plugin_env(where, entry.get("env", {})),
    )


def _credentials(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise FleetConfigError(
            f"{where}: credentials: a mapping such as access_token_env: ACME_MAGENTO_TOKEN "
            "(names of environment variables, never the secrets themselves)"
        )
    found: dict[str, str] = {}
    for key, variable in value.items():
        setting = str(key).removesuffix("_env")
        if not str(key).endswith("_env") or setting not in CREDENTIALS:
            allowed = ", ".join(f"{c}_env" for c in CREDENTIALS)
            raise FleetConfigError(f"{where}: credentials: unknown key {key!r} (known: {allowed})")
        if not isinstance(variable, str) or not ENV_NAME.match(variable):
            raise FleetConfigError(
                f"{where}: credentials.{key}: must name an environment variable "
                "(upper-case letters, digits, '_'); the secret itself never goes in this file"
            )
        found[setting] = variable
    if "access_token" not in found:
        raise FleetConfigError(f"{where}: credentials.access_token_env: required")
    oauth = [name for name in OAUTH_TRIO if name in found]
    if oauth and len(oauth) != len(OAUTH_TRIO):
        raise FleetConfigError(
            f"{where}: credentials: OAuth 1.0a needs all of consumer_key_env, "
            "consumer_secret_env and access_token_secret_env (or none, for a Bearer token)"
        )
    return found


def _plugin_env(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise FleetConfigError(
            f"{where}: env: a mapping of TAP_MAGENTO2_*/TARGET_DROPSTREAM_* names"
        )
    env = {}
    for name, setting in value.items():
        if not isinstance(name, str) or not name.startswith(PLUGIN_ENV_PREFIXES):
            raise FleetConfigError(
                f"{where}: env: {name!r} is not a plugin setting "
                "(TAP_MAGENTO2_* or TARGET_DROPSTREAM_*)"
            )
        if any(word in name for word in SECRET_WORDS):
            raise FleetConfigError(
                f"{where}: env: {name} looks like a secret; name its variable under credentials"
            )
        env[name] = str(setting).lower() if isinstance(setting, bool) else str(setting)
    return env


def _url(where: str, value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise FleetConfigError(f"{where}: url: {value!r} is not an http(s):// store URL")
    if "@" in value.split("/")[2]:
        raise FleetConfigError(f"{where}: url: must not carry a user or password")
    return value.rstrip("/")


def _executable(value: Any, project: Path) -> str:
    if value is None:
        return str((project / ".venv" / "meltano" / "bin" / "meltano").resolve())
    text = str(value)
    return str((project / text).resolve()) if "/" in text else text


def _section(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = document.get(name) or {}
    if not isinstance(value, dict):
        raise FleetConfigError(f"{name}: expected a mapping")
    return value


def _no_unknown(where: str, mapping: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise FleetConfigError(f"{where}: unknown field {unknown[0]!r} (known: {sorted(known)})")


def _text(where: str, name: str, mapping: Mapping[str, Any], default: str) -> str:
    value = mapping.get(name, default)
    if not isinstance(value, str) or not value:
        raise FleetConfigError(f"{where}: {name}: expected a non-empty string")
    return value


def _env_name(where: str, name: str, mapping: Mapping[str, Any], default: str) -> str:
    value = _text(where, name, mapping, default)
    if not ENV_NAME.match(value):
        raise FleetConfigError(f"{where}: {name}: {value!r} is not an environment variable name")
    return value


def _int(where: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FleetConfigError(
            f"{where}: {name}: expected a whole number >= {minimum}, got {value!r}"
        )
    return value


def _number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FleetConfigError(f"{where}: {name}: expected a number of seconds >= 0, got {value!r}")
    return float(value)


def _bool(where: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FleetConfigError(f"{where}: {name}: expected true or false, got {value!r}")
    return value


def _cron(where: str, name: str, value: Any) -> str:
    if isinstance(value, str):
        try:  # Dagster's own check, so the file fails here rather than when Dagster loads it
            ScheduleDefinition(name="check", cron_schedule=value, job_name="check")
        except DagsterInvalidDefinitionError:
            pass
        else:
            return value
    raise FleetConfigError(f"{where}: {name}: {value!r} is not a cron schedule")
