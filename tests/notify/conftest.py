"""Ship-notification fixtures: a fulfillment store loaded from the sandbox's own orders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.errors import NOT_AUTHORIZED
from magerest.client import MagentoClient
from magerest.connection import normalize_store_url
from target_dropstream.cli import main
from target_dropstream.models import Order
from target_dropstream.notify import NotifyReport, notify_pending
from target_dropstream.settings import TargetSettings
from target_dropstream.store import FulfillmentStore, LoadPolicy
from tests.conftest import SANDBOX_NOW, oauth_keys
from tests.target.conftest import database_url, pg_database_url  # noqa: F401 (fixtures)

NOW = SANDBOX_NOW


@dataclass
class Shop:
    """A sandbox and a fulfillment store holding some of its orders."""

    sb: MagentoSandbox
    database_url: str
    compact: bool = True

    @property
    def source(self) -> str:
        return normalize_store_url(self.sb.base_url)

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {
            "database_url": self.database_url,
            "store_url": self.sb.base_url,
            **oauth_keys(self.sb),
            "use_compact_shipment": self.compact,
            **overrides,
        }

    def settings(self, **overrides: Any) -> TargetSettings:
        return TargetSettings.from_config(self.config(**overrides))

    def open(self) -> FulfillmentStore:
        return FulfillmentStore.open(self.database_url, now=NOW)

    def load(self, *entity_ids: int, include_bundle_parent: bool = False) -> None:
        """Load these sandbox orders as target-dropstream would."""
        orders = [self.sb.data.orders[i] for i in entity_ids]
        self.load_json(*orders, include_bundle_parent=include_bundle_parent)

    def load_json(self, *orders: dict[str, Any], include_bundle_parent: bool = False) -> None:
        """Load order JSON as target-dropstream would (also orders Magento does not have)."""
        store = self.open()
        try:
            store.orders.save_batch(
                [Order.from_magento(order) for order in orders],
                [],
                policy=LoadPolicy(source=self.source, include_bundle_parent=include_bundle_parent),
                now=NOW,
            )
        finally:
            store.close()

    def cli(self, *args: str, **env: str) -> Result:
        environment = {
            "TARGET_DROPSTREAM_DATABASE_URL": self.database_url,
            "TARGET_DROPSTREAM_STORE_URL": self.sb.base_url,
            **{f"TARGET_DROPSTREAM_{k.upper()}": v for k, v in oauth_keys(self.sb).items()},
            "TARGET_DROPSTREAM_USE_COMPACT_SHIPMENT": "true" if self.compact else "false",
            **env,
        }
        runner = CliRunner()
        return runner.invoke(
            main,
            list(args),
            obj={"clock": lambda: NOW, "sleep": lambda _seconds: None},
            env=environment,
        )

    def notify(
        self, *, at: datetime = NOW, settings: dict[str, Any] | None = None, **kwargs: Any
    ) -> NotifyReport:
        """``dropstream notify`` in-process at ``at``, without real waits between retries."""
        store = self.open()
        try:
            return notify_pending(
                store,
                self.settings(**(settings or {})),
                clock=lambda: at,
                client_factory=quick_client,
                sleep=lambda _seconds: None,
                **kwargs,
            )
        finally:
            store.close()

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return [dict(row) for row in conn.execute(text(sql), params).mappings()]
        finally:
            engine.dispose()

    def shipments(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM shipments ORDER BY id")

    def magento_shipments(self, order_id: int) -> list[dict[str, Any]]:
        """What the sandbox recorded for an order (its shipment documents)."""
        return [s for s in self.sb.data.shipments.values() if s["order_id"] == order_id]

    def posts(self) -> list[Any]:
        return [r for r in self.sb.requests if r.method == "POST"]


def quick_client(settings: TargetSettings, view: str | None) -> MagentoClient:
    """A MagentoClient that does not really sleep between GET retries."""
    assert settings.store_url
    assert settings.access_token
    return MagentoClient(
        settings.store_url,
        settings.access_token,
        consumer_key=settings.consumer_key,
        consumer_secret=settings.consumer_secret,
        access_token_secret=settings.access_token_secret,
        store_view_code=view,
        sleep=lambda _seconds: None,
    )


@pytest.fixture
def shop(sandbox: MagentoSandbox, tmp_path: Path) -> Shop:
    return Shop(sandbox, f"sqlite:///{tmp_path / 'dropstream.db'}")


@pytest.fixture
def full_shop(sandbox: MagentoSandbox, tmp_path: Path) -> Shop:
    return Shop(sandbox, f"sqlite:///{tmp_path / 'dropstream.db'}", compact=False)


def find_order(
    sb: MagentoSandbox,
    want: set[str],
    *,
    status: str = "processing",
    exclude: set[str] = frozenset(),
) -> dict[str, Any]:
    """First seeded order with this status whose top-level lines include the wanted kinds."""
    for entity_id in range(1, len(sb.data.orders) + 1):
        order = sb.data.orders[entity_id]
        if order["status"] != status:
            continue
        kinds = set()
        for item in order["items"]:
            if item["product_type"] == "bundle":
                kinds.add("separately" if item["sku"].startswith("BND-DESK") else "together")
            elif item["product_type"] in ("configurable", "virtual", "downloadable"):
                kinds.add(item["product_type"])
            elif "parent_item_id" not in item:
                kinds.add("simple")
        if want <= kinds and not (exclude & kinds):
            return order
    raise AssertionError(f"no {status} order with {want}")


def top(order: dict[str, Any], product_type: str, sku_prefix: str = "") -> dict[str, Any]:
    return next(
        i
        for i in order["items"]
        if i["product_type"] == product_type
        and "parent_item_id" not in i
        and i["sku"].startswith(sku_prefix)
    )


def children(order: dict[str, Any], parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in order["items"] if i.get("parent_item_id") == parent["item_id"]]


def item(sb: MagentoSandbox, order_id: int, item_id: int) -> dict[str, Any]:
    """The sandbox's current view of one order item."""
    return next(i for i in sb.data.orders[order_id]["items"] if i["item_id"] == item_id)


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, body: str) -> Path:
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        return path

    return write


def refuse(shop: Shop, path: str, resource: str) -> None:
    """The integration lacks ``resource``: every GET of ``path`` answers Magento's 401."""
    shop.sb.faults.add(
        path=path,
        method="GET",
        times=50,
        status=401,
        body={"message": NOT_AUTHORIZED, "parameters": {"resources": resource}},
    )
