"""What every request handler thread shares: the store, its auth, settings and fault table,
and the log of requests as the sandbox saw them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .admin_auth import AdminAccounts
from .auth import Authenticator
from .data import SandboxData
from .faults import FaultRegistry


@dataclass
class RequestInfo:
    """One request as the sandbox saw it (the Authorization value is masked)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    status: int | None = None
    route: str | None = None
    store_code: str | None = None
    body: bytes = b""
    auth_scheme: str | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class SandboxSettings:
    magento_version: str = "2.4"
    input_limits: bool = False
    max_page_size: int = 300
    default_page_size: int = 20
    latency_ms: float = 0.0
    latency_per_order_ms: float = 0.0


@dataclass
class SandboxApp:
    """Everything a request handler needs; shared by all handler threads."""

    data: SandboxData
    auth: Authenticator
    settings: SandboxSettings
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    admins: AdminAccounts | None = None  # the store's admin account (admin tokens)
    callbacks: list[Callable[[RequestInfo], None]] = field(default_factory=list)
    log: list[RequestInfo] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # tracebacks of unexpected failures
    stopping: threading.Event = field(default_factory=threading.Event)
    log_lock: threading.Lock = field(default_factory=threading.Lock)
