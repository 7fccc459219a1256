"""Target settings: one parsed, validated view of the config shared by the target and the CLI.

Every problem names the setting and the expected form. Secrets and database passwords are
never part of a message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from magerest.connection import (
    ALLOW_INSECURE_HTTP,
    CA_BUNDLE,
    OAUTH_SETTINGS,
    check_transport,
    normalize_store_url,
    parse_ca_bundle,
    parse_flag,
    parse_statuses,
)

DEFAULT_DATABASE_URL = "sqlite:///dropstream.db"
DEFAULT_SOURCE = "default"
#: Open orders are read back from Magento at most this often (see README "Known limits").
DEFAULT_RECHECK_INTERVAL_MINUTES = 15
DEFAULT_RECHECK_PAGE_SIZE = 100
MAX_RECHECK_PAGE_SIZE = 300  # Magento's default Maximum Page Size when input limits are on
#: A ship request whose answer was lost may still hold Magento's order lock and commit later
#: (reference §9.8): it is never posted again before a look-up this long after it finds nothing.
DEFAULT_SHIP_LOOKUP_DELAY_SECONDS = 120
ENV_PREFIX = "TARGET_DROPSTREAM_"
_SUPPORTED_DIALECTS = ("sqlite", "postgresql")

if TYPE_CHECKING:
    from magerest.client import MagentoClient

#: Builds the client for one store view (None: Magento's default scope); the default
#: everywhere is ``MagentoClient.from_settings``, tests pass their own.
ClientFactory = Callable[["TargetSettings", "str | None"], "MagentoClient"]


class SettingsError(ValueError):
    """One or more settings are invalid; the message lists each one."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class TargetSettings:
    """The target's settings after validation (secrets kept, never printed)."""

    database_url: str = DEFAULT_DATABASE_URL
    delay_minutes: int = 0
    include_bundle_parent: bool = False
    use_compact_shipment: bool = True
    notify_on_run: bool = False
    import_statuses: tuple[str, ...] = ("processing",)
    store_url: str | None = None
    access_token: str | None = None
    store_view_code: str | None = None
    source_code: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None
    access_token_secret: str | None = None
    ca_bundle: str | None = None
    allow_insecure_http: bool = False
    recheck_interval_minutes: int = DEFAULT_RECHECK_INTERVAL_MINUTES
    recheck_page_size: int = DEFAULT_RECHECK_PAGE_SIZE
    ship_lookup_delay_seconds: int = DEFAULT_SHIP_LOOKUP_DELAY_SECONDS
    allow_missing_orders_stream: bool = False

    @property
    def source(self) -> str:
        """The ``source`` column value: the normalised store URL, or ``default``."""
        return self.store_url or DEFAULT_SOURCE

    @property
    def magento_configured(self) -> bool:
        """True when Magento can be called (store URL and access token are both set)."""
        return bool(self.store_url and self.access_token)

    def __repr__(self) -> str:
        """Show what matters for debugging without any secret or database password."""
        return (
            f"TargetSettings(database_url={redact_url(self.database_url)!r}, "
            f"delay_minutes={self.delay_minutes}, source={self.source!r})"
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TargetSettings:
        """Validate a target config dict.

        Raises:
            SettingsError: listing every invalid setting with the expected form.
        """
        errors: list[str] = []
        database_url = _database_url(config.get("database_url"), errors)
        delay = config.get("delay_minutes", 0)
        if delay is None:
            delay = 0
        if isinstance(delay, str) and delay.strip().isdigit():
            delay = int(delay.strip())
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            errors.append(f"delay_minutes must be a whole number of minutes >= 0, got {delay!r}")
            delay = 0
        include_parent = _flag(config, "include_bundle_parent", default=False, errors=errors)
        recheck_interval = _whole_number(
            config,
            "recheck_interval_minutes",
            default=DEFAULT_RECHECK_INTERVAL_MINUTES,
            low=0,
            high=None,
            errors=errors,
        )
        recheck_page = _whole_number(
            config,
            "recheck_page_size",
            default=DEFAULT_RECHECK_PAGE_SIZE,
            low=1,
            high=MAX_RECHECK_PAGE_SIZE,
            errors=errors,
        )
        lookup_delay = _whole_number(
            config,
            "ship_lookup_delay_seconds",
            default=DEFAULT_SHIP_LOOKUP_DELAY_SECONDS,
            low=0,
            high=None,
            errors=errors,
        )
        compact = _flag(config, "use_compact_shipment", default=True, errors=errors)
        notify_on_run = _flag(config, "notify_on_run", default=False, errors=errors)
        allow_missing = _flag(config, "allow_missing_orders_stream", default=False, errors=errors)
        try:
            statuses = tuple(parse_statuses(config.get("order_import_status")))
        except ValueError as exc:
            errors.append(str(exc))
            statuses = ("processing",)
        insecure_ok = False
        try:
            insecure_ok = parse_flag(config.get(ALLOW_INSECURE_HTTP), ALLOW_INSECURE_HTTP)
        except ValueError as exc:
            errors.append(str(exc))
        ca_bundle = None
        try:
            ca_bundle = parse_ca_bundle(config.get(CA_BUNDLE))
        except ValueError as exc:
            errors.append(str(exc))
        store_url = None
        if config.get("store_url") not in (None, ""):
            try:
                store_url = normalize_store_url(config["store_url"])
                check_transport(store_url, allow_insecure_http=insecure_ok)
            except ValueError as exc:
                errors.append(str(exc))
        strings: dict[str, str | None] = {}
        for name in ("access_token", "store_view_code", "source_code", *OAUTH_SETTINGS):
            value = config.get(name)
            if value in (None, ""):
                strings[name] = None
            elif isinstance(value, str) and value.strip():
                strings[name] = value.strip()
            else:
                errors.append(f"{name} must be a non-empty string")  # value may be a secret
                strings[name] = None
        present = [name for name in OAUTH_SETTINGS if strings[name]]
        if present and len(present) != len(OAUTH_SETTINGS):
            missing = ", ".join(name for name in OAUTH_SETTINGS if not strings[name])
            errors.append(
                "OAuth 1.0a signing needs consumer_key, consumer_secret and "
                f"access_token_secret together: {missing} missing"
            )
        if errors:
            raise SettingsError(errors)
        return cls(
            database_url=database_url,
            delay_minutes=delay,
            include_bundle_parent=include_parent,
            use_compact_shipment=compact,
            notify_on_run=notify_on_run,
            import_statuses=statuses,
            store_url=store_url,
            access_token=strings["access_token"],
            store_view_code=strings["store_view_code"],
            source_code=strings["source_code"],
            consumer_key=strings["consumer_key"],
            consumer_secret=strings["consumer_secret"],
            access_token_secret=strings["access_token_secret"],
            ca_bundle=ca_bundle,
            allow_insecure_http=insecure_ok,
            recheck_interval_minutes=recheck_interval,
            recheck_page_size=recheck_page,
            ship_lookup_delay_seconds=lookup_delay,
            allow_missing_orders_stream=allow_missing,
        )


def _whole_number(
    config: Mapping[str, Any],
    name: str,
    *,
    default: int,
    low: int,
    high: int | None,
    errors: list[str],
) -> int:
    value = config.get(name, default)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    bounds = f">= {low}" if high is None else f"from {low} to {high}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        errors.append(f"{name} must be a whole number {bounds}, got {value!r}")
        return default
    return value


def _flag(config: Mapping[str, Any], name: str, *, default: bool, errors: list[str]) -> bool:
    """``parse_flag``, collecting its error with the others."""
    try:
        return parse_flag(config.get(name, default), name, default=default)
    except ValueError as exc:
        errors.append(str(exc))
        return default


def _database_url(value: Any, errors: list[str]) -> str:
    if value in (None, ""):
        return DEFAULT_DATABASE_URL
    expected = (
        "a SQLAlchemy URL such as sqlite:///dropstream.db or "
        "postgresql+psycopg://user@host:5432/dbname"
    )
    if not isinstance(value, str):
        errors.append(f"database_url must be {expected}")
        return DEFAULT_DATABASE_URL
    try:
        url = make_url(value)
    except ArgumentError:
        # The text is not echoed: it may hold a password.
        errors.append(f"database_url is not a valid URL: expected {expected}")
        return DEFAULT_DATABASE_URL
    if url.get_backend_name() not in _SUPPORTED_DIALECTS:
        errors.append(
            f"database_url uses {url.get_backend_name()!r}: expected {expected} "
            "(SQLite and PostgreSQL are supported)"
        )
    elif url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
        errors.append(
            "database_url for PostgreSQL must use the psycopg 3 driver: "
            "postgresql+psycopg://user@host:5432/dbname"
        )
    return value


def redact_url(url: str | URL) -> str:
    """The database URL with any password replaced by ``***``."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<invalid database URL>"
    return parsed.render_as_string(hide_password=True)


def load_cli_config(
    *,
    database_url: str | None = None,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> TargetSettings:
    """Settings for the ``dropstream`` CLI.

    Precedence: ``--database-url`` flag, then ``--config FILE``, then
    ``TARGET_DROPSTREAM_*`` environment variables (as Meltano passes them), then defaults.

    Raises:
        SettingsError: when the file cannot be read or a setting is invalid.
    """
    env = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for name in (
        "database_url",
        "delay_minutes",
        "include_bundle_parent",
        "use_compact_shipment",
        "recheck_interval_minutes",
        "recheck_page_size",
        "ship_lookup_delay_seconds",
        "order_import_status",
        "store_url",
        "access_token",
        "store_view_code",
        "source_code",
        *OAUTH_SETTINGS,
        CA_BUNDLE,
        ALLOW_INSECURE_HTTP,
    ):
        value = env.get(ENV_PREFIX + name.upper())
        if value not in (None, ""):
            config[name] = _env_value(name, value)
    if config_file is not None:
        try:
            loaded = json.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"--config {config_file}: cannot read a JSON object ({exc.__class__.__name__})"
            raise SettingsError([msg]) from None
        if not isinstance(loaded, dict):
            raise SettingsError([f"--config {config_file}: expected a JSON object"])
        config.update(loaded)
    if database_url:
        config["database_url"] = database_url
    return TargetSettings.from_config(config)


def _env_value(name: str, value: str) -> Any:
    if name == "order_import_status" and value.strip().startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
