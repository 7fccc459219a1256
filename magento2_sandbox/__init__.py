"""Local Magento 2 REST sandbox: seeded orders behind Magento's URLs, auth, quirks and failures.

Used by the demo (``magento2-sandbox``) and by every test suite. Binds to 127.0.0.1 only.
It behaves like an untouched Magento 2.4.6 store and is written from Magento's own source,
never from the plugins' code: it imports only the standard library and oauthlib, nothing of
``tap_magento2`` or ``target_dropstream`` (``tests/architecture`` checks it), so it cannot
share a misunderstanding with the client it tests.

Layout: ``server`` (HTTP), ``handler`` (one request), ``app`` (what the request threads share)
and ``routes`` (the route table) in front; one module per group of endpoints (``endpoints``,
``catalog_routes``, ``guest_checkout``, ``order_actions``, ``shipping``, ``shipment_documents``,
``sales_documents``, ...); ``data`` holds the orders, built by ``seed`` (which orders exist),
``order_json`` (one order's document) and ``order_items`` (its lines).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType

from .admin_auth import DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_USER, AdminAccounts
from .app import RequestInfo, SandboxApp, SandboxSettings
from .auth import Authenticator, OAuthCredentials, make_credentials
from .clock import SandboxClock
from .data import SandboxData
from .faults import Fault, FaultRegistry
from .server import SandboxHTTPServer

__all__ = [
    "Fault",
    "FaultRegistry",
    "MagentoSandbox",
    "OAuthCredentials",
    "RequestInfo",
    "SandboxClock",
]


class MagentoSandbox:
    """A started-on-demand fake Magento 2 store. Use as a context manager or call start()/stop().

    It starts with an untouched 2.4.6 store's defaults: the integration token is refused as a
    Bearer token (``bearer_enabled``, per store view with ``bearer_by_store_view``) and Web API
    input limits are off (``input_limits``). OAuth 1.0a with the four keys always works.
    ``admin_user``/``admin_password`` is the admin account behind
    ``POST /V1/integration/admin/token``; admin tokens always work as Bearer tokens.
    """

    def __init__(
        self,
        order_count: int = 200,
        seed: int | str = 1,
        now: datetime | None = None,
        magento_version: str = "2.4",
        bearer_enabled: bool = False,
        bearer_by_store_view: Mapping[str, bool] | None = None,
        input_limits: bool = False,
        latency_ms: float = 0,
        latency_per_order_ms: float = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        max_page_size: int = 300,
        default_page_size: int = 20,
        ship_commit_delay: float = 0,
        admin_user: str = DEFAULT_ADMIN_USER,
        admin_password: str = DEFAULT_ADMIN_PASSWORD,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox only binds to the loopback interface (127.0.0.1)")
        if magento_version not in ("2.3", "2.4"):
            raise ValueError('magento_version must be "2.3" or "2.4"')
        self.clock = SandboxClock(now)
        self.oauth: OAuthCredentials = make_credentials(seed)
        self.data = SandboxData(seed=seed, order_count=order_count, clock=self.clock)
        self.settings = SandboxSettings(
            magento_version=magento_version,
            input_limits=input_limits,
            max_page_size=max_page_size,
            default_page_size=default_page_size,
            latency_ms=latency_ms,
            latency_per_order_ms=latency_per_order_ms,
        )
        self.auth = Authenticator(
            self.oauth, bearer_enabled=bearer_enabled, bearer_by_store_view=bearer_by_store_view
        )
        self.admins = AdminAccounts(admin_user, admin_password, self.clock, seed)
        self.faults = FaultRegistry()
        if ship_commit_delay > 0:  # ship answers are lost; shipments commit this much later
            self.faults.slow_ship_commits(ship_commit_delay)
        self._app = SandboxApp(
            data=self.data,
            auth=self.auth,
            settings=self.settings,
            faults=self.faults,
            admins=self.admins,
        )
        self._host = "127.0.0.1" if host == "localhost" else host
        self._port = port
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> MagentoSandbox:
        if self._server is not None:
            return self
        self._app.stopping.clear()
        self._server = SandboxHTTPServer((self._host, self._port), self._app)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="magento2-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._app.stopping.set()  # wakes stalled "timeout" faults and latency sleeps
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MagentoSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- public surface -----------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_token(self) -> str:
        return self.oauth.access_token

    @property
    def admin_user(self) -> str:
        return self.admins.username

    @property
    def admin_password(self) -> str:
        return self.admins.password

    @property
    def bearer_enabled(self) -> bool:
        return self.auth.bearer_enabled

    @bearer_enabled.setter
    def bearer_enabled(self, value: bool) -> None:
        self.auth.bearer_enabled = value

    @property
    def requests(self) -> list[RequestInfo]:
        with self._app.log_lock:
            return list(self._app.log)

    def clear_requests(self) -> None:
        with self._app.log_lock:
            self._app.log.clear()

    @property
    def errors(self) -> list[str]:
        """Tracebacks of unexpected server-side failures (answered as masked 500s)."""
        return list(self._app.errors)

    def on_request(self, callback: Callable[[RequestInfo], None]) -> Callable[[], None]:
        """Call ``callback(info)`` before each request is handled; returns a remover."""
        self._app.callbacks.append(callback)
        return lambda: self._app.callbacks.remove(callback)

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"MagentoSandbox({where}, orders={len(self.data.index)})"
