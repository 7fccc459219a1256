"""One HTTP request through the sandbox: Magento's answer, or the injected fault instead.

Order of checks follows Magento's REST controller: route match (404) -> authentication and ACL
(401) -> input parsing and validation (400) -> service call (404/400/500) -> ``fields`` filter on
the result.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import struct
import traceback
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import endpoints
from .app import RequestInfo
from .errors import MagentoError, internal_error, not_authorized, route_not_found
from .faults import GATEWAY_PAGE, MAINTENANCE_PAGE, WAF_LOGIN_PAGE, Fault
from .fields import apply_fields, parse_fields
from .routes import ANONYMOUS, NO_PROCESSOR, Route, is_rest_path, match, resolve_path
from .wire import decoded, encode_body

if TYPE_CHECKING:
    from .server import SandboxHTTPServer


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer
    server_version = "Apache"
    sys_version = ""

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()  # a refused certificate ends the connection here
            self.request.settimeout(None)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay quiet: the request log is kept in memory instead."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header follows the sandbox clock, as Magento's follows its server's."""
        if timestamp is None:
            timestamp = self.server.app.data.clock.now().timestamp()
        return formatdate(timestamp, usegmt=True)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- main flow ---------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        app = self.server.app
        split = urlsplit(self.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        authorization = self.headers.get("Authorization")
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        scheme = None
        if authorization:
            scheme = authorization.strip().split(" ", 1)[0]
            headers["Authorization"] = f"{scheme} ***"
        store_code, route_path = resolve_path(split.path)
        info = RequestInfo(
            method,
            split.path,
            pairs,
            headers,
            route=route_path,
            store_code=store_code,
            body=body,
            auth_scheme=scheme,
        )
        with app.log_lock:
            app.log.append(info)
        for callback in list(app.callbacks):
            try:
                callback(info)
            except Exception:  # a broken test hook must not hang the client
                app.errors.append(traceback.format_exc())
                err = internal_error()
                info.status = err.status
                self._send(err.status, json.dumps(err.body()).encode())
                return
        now = app.data.clock.now().timestamp()
        app.faults.release_commits(now, _locked_order(method, route_path, body))
        fault = app.faults.take(method, route_path or split.path)
        if fault is not None and fault.kind == "slow_commit":
            self._hold(fault, info, route_path, split, pairs, body, authorization)
            return
        if fault is not None and fault.kind not in ("truncate", "commit_reset", "stall_body"):
            self._apply_fault(fault, info)
            return
        status, payload, extra = self._dispatch(
            method, route_path, split, pairs, body, authorization
        )
        data = b"" if payload is None else encode_body(payload)
        if fault is not None and fault.kind == "commit_reset":
            info.status = 0
            self._reset()
            return
        if fault is not None and fault.kind == "stall_body":
            info.status = status
            self._send_stalled(status, data, fault.delay, extra_headers=extra)
            return
        if fault is not None and fault.kind == "truncate":
            info.status = status
            self._send(status, data, extra_headers=extra, truncate=True)
            return
        info.status = status
        self._send(status, data, extra_headers=extra)

    def _authorized_call(
        self,
        method: str,
        route_path: str | None,
        split: Any,
        pairs: list[tuple[str, str]],
        body: bytes,
        authorization: str | None,
    ) -> tuple[Route, endpoints.Call]:
        """Route match (400/404), then authentication and ACL (401), like Magento."""
        app = self.server.app
        if route_path is None:
            if is_rest_path(split.path):
                raise MagentoError(400, NO_PROCESSOR)  # unknown store code
            raise route_not_found()
        route, params = match(method, route_path)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        url = f"{self.server.scheme}://{host}{split.path}"
        store_code = resolve_path(split.path)[0]
        if route.acl != ANONYMOUS and not (
            (app.admins is not None and app.admins.is_admin(authorization))
            or app.auth.is_integration(authorization, method, url, split.query, store_code)
        ):
            raise not_authorized(route.acl)
        call = endpoints.Call(
            app=app,
            params=params,
            pairs=pairs,
            body=body,
            headers=self.headers,
            method=method,
            store_code=store_code,
        )
        return route, call

    def _dispatch(
        self,
        method: str,
        route_path: str | None,
        split: Any,
        pairs: list[tuple[str, str]],
        body: bytes,
        authorization: str | None,
    ) -> tuple[int, Any, dict[str, str]]:
        app = self.server.app
        try:
            route, call = self._authorized_call(
                method, route_path, split, pairs, body, authorization
            )
            status, payload = route.handler(call)
            if "fields" in dict(pairs) and method == "GET":
                spec = parse_fields(dict(pairs)["fields"])
                payload = [] if spec is None else apply_fields(decoded(payload), spec)
            return status, payload, {}
        except MagentoError as err:
            return err.status, err.body(), {}
        except Exception:  # unexpected: masked like a production store
            app.errors.append(traceback.format_exc())
            err = internal_error()
            return err.status, err.body(), {}

    def _hold(
        self,
        fault: Fault,
        info: RequestInfo,
        route_path: str | None,
        split: Any,
        pairs: list[tuple[str, str]],
        body: bytes,
        authorization: str | None,
    ) -> None:
        """A "slow_commit" ship request: keep it running, drop the client without an answer.

        Another ship request for the same order first waits for this one (Magento's order
        lock), so it is committed before that one runs.
        """
        app = self.server.app
        try:
            route, call = self._authorized_call(
                "POST", route_path, split, pairs, body, authorization
            )
        except MagentoError as err:  # refused before the service runs: answered at once
            info.status = err.status
            self._send(err.status, json.dumps(err.body()).encode())
            return
        due = app.data.clock.now().timestamp() + fault.delay
        order_id = _locked_order("POST", route_path, body)
        app.faults.hold_commit(due, order_id, lambda: route.handler(call))
        info.status = 0
        self._reset()

    # -- responses ---------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        data: bytes,
        *,
        content_type: str = "application/json; charset=utf-8",
        extra_headers: dict[str, str] | None = None,
        truncate: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra_headers or {}).items():
            self.send_header(key, value)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if truncate else data)
        self.wfile.flush()

    def _send_stalled(
        self, status: int, data: bytes, delay: float, *, extra_headers: dict[str, str]
    ) -> None:
        """Send the headers and half the body, stall ``delay`` seconds, then hang up."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra_headers.items():
            self.send_header(key, value)
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.server.app.stopping.wait(delay)

    def _reset(self) -> None:
        """Abort the TCP connection (RST) without answering."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _apply_fault(self, fault: Fault, info: RequestInfo) -> None:
        app = self.server.app
        headers = dict(fault.headers)
        if fault.kind == "reset":
            info.status = 0
            self._reset()
            return
        if fault.kind == "timeout":
            info.status = 0
            app.stopping.wait(fault.delay)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault.kind == "gateway":
            status = fault.status or 504
            reason = {502: "Bad Gateway", 504: "Gateway Time-out"}.get(status, "Error")
            info.status = status
            page = GATEWAY_PAGE.format(status=status, reason=reason)
            self._send(status, page.encode(), content_type="text/html", extra_headers=headers)
            return
        if fault.kind in ("html", "waf"):
            page = MAINTENANCE_PAGE if fault.kind == "html" else WAF_LOGIN_PAGE
            status = fault.status or (503 if fault.kind == "html" else 200)
            text = fault.body if isinstance(fault.body, str) else page
            info.status = status
            self._send(
                status,
                text.encode(),
                content_type="text/html; charset=UTF-8",
                extra_headers=headers,
            )
            return
        if fault.kind == "wrong_shape":
            body = fault.body if fault.body is not None else [{"unexpected": "shape"}]
            info.status = fault.status or 200
            self._send(info.status, json.dumps(body).encode(), extra_headers=headers)
            return
        status = fault.status or 500
        info.status = status
        body = fault.body
        if isinstance(body, (dict, list)) or body is None:
            data = json.dumps(body if body is not None else {"message": "Injected fault"}).encode()
            ctype = "application/json; charset=utf-8"
        else:
            data = body.encode() if isinstance(body, str) else bytes(body)
            ctype = headers.pop("Content-Type", "text/plain; charset=UTF-8")
        self._send(status, data, content_type=ctype, extra_headers=headers)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()


_SHIP_PATH = re.compile(r"^/V1/order/(?P<id>\d+)/ship$")


def _locked_order(method: str, route_path: str | None, body: bytes) -> int | None:
    """The order whose lock a ship request takes (URL id, or /V1/shipment's entity.order_id)."""
    if method != "POST" or route_path is None:
        return None
    match = _SHIP_PATH.match(route_path)
    if match:
        return int(match["id"])
    if route_path.rstrip("/") != "/V1/shipment":
        return None
    try:
        entity = json.loads(body or b"{}").get("entity") or {}
        return int(entity.get("order_id"))
    except (ValueError, TypeError, AttributeError):
        return None
