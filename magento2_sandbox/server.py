"""HTTP front of the sandbox: a threading server on the loopback interface, HTTP or HTTPS.

Each request is answered by ``handler.SandboxHandler`` (Magento's order of checks and the
injected faults) from the shared ``app.SandboxApp``; the route table is ``routes.py``.
"""

from __future__ import annotations

import ssl
import threading
import traceback
from http.server import ThreadingHTTPServer
from typing import Any

from .app import SandboxApp
from .handler import SandboxHandler


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], app: SandboxApp, tls: ssl.SSLContext | None = None
    ) -> None:
        if address[0] not in ("127.0.0.1", "::1"):
            raise ValueError("the sandbox only binds to the loopback interface (127.0.0.1)")
        self.app = app
        self.tls = tls  # serve HTTPS with this server-side context
        super().__init__(address, SandboxHandler)

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def get_request(self) -> tuple[Any, Any]:
        conn, address = super().get_request()
        if self.tls is not None:
            # The handshake runs in the handler thread (see SandboxHandler.setup), so a
            # client that refuses the certificate never blocks the accept loop.
            conn = self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client disconnects (e.g. after an injected reset) are normal here.
        self.app.errors.append(traceback.format_exc())


def serve_in_background(
    app: SandboxApp, *, port: int = 0, tls: ssl.SSLContext | None = None
) -> tuple[SandboxHTTPServer, threading.Thread]:
    """Start a server for ``app`` on 127.0.0.1 in a daemon thread (HTTPS when ``tls``).

    Stop it with ``server.shutdown(); server.server_close()``.
    """
    server = SandboxHTTPServer(("127.0.0.1", port), app, tls=tls)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name="magento2-sandbox-tls" if tls else "magento2-sandbox",
        daemon=True,
    )
    thread.start()
    return server, thread
