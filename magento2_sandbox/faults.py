"""Fault injection: make the next N matching requests fail the way real stores and their proxies
do, and "poison" orders that Magento's order list cannot load.

A poison order mimics magento/magento2#36213, #2069, #7526: ``getList`` loads every order of
the page (twice), and one order with odd data (payment, address) throws, so **every** list
page that would include it answers HTTP 500 with the masked production body
(``Internal Error. Details are available in Magento log file. Report ID: webapi-...``).
``GET /V1/orders/{id}`` of that order either works (``get_fails=False``) or fails the same
way (``get_fails=True``).

A "slow_commit" fault mimics ``/V1/order/{id}/ship`` under Magento's order lock (§9.8): the
request is taken, the client's connection is dropped with no answer (its timeout), and the
shipment is committed ``delay`` seconds of the sandbox clock later, or as soon as another
ship request for the same order arrives (it waits on the lock, so the first one finishes
first). Until then no read shows the shipment.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = (
    "response",
    "html",
    "waf",
    "reset",
    "timeout",
    "truncate",
    "wrong_shape",
    "commit_reset",
    "gateway",
    "stall_body",
    "slow_commit",
)
#: Routes a "slow_commit" fault holds (Magento's two ways to create a shipment).
SHIP_ROUTES = ("/V1/order/*/ship", "/V1/shipment")


@dataclass
class HeldCommit:
    """A ship request still running inside Magento: it commits at ``due`` (epoch seconds)."""

    due: float
    order_id: int | None
    commit: Callable[[], object]


# Content block of pub/errors/default/503.phtml, wrapped in the error page layout.
MAINTENANCE_PAGE = """<!doctype html>
<html xmlns="http://www.w3.org/1999/xhtml" >
<head>
    <title>Error 503: Service Unavailable</title>
    <meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>
</head>
<body>
    <main class="page-main">
<h1>Service Temporarily Unavailable</h1>
<p>
    The server is temporarily unable to service your request due to maintenance downtime or
    capacity problems.
    Please try again later.
</p>
    </main>
</body>
</html>
"""

WAF_LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Access check</title></head>
<body>
<h1>Please verify you are a human</h1>
<form method="post" action="/__challenge">
  <label>Username <input name="login[username]"></label>
  <label>Password <input type="password" name="login[password]"></label>
  <button type="submit">Sign in</button>
</form>
</body>
</html>
"""


# What nginx in front of PHP-FPM answers when Magento is too slow (504) or down (502).
GATEWAY_PAGE = """<html>
<head><title>{status} {reason}</title></head>
<body>
<center><h1>{status} {reason}</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


@dataclass
class Fault:
    """One injected failure: applies to ``times`` requests whose method and route match."""

    path: str
    method: str = "GET"
    times: int = 1
    kind: str = "response"
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 35.0  # seconds "timeout" and "stall_body" stall before closing
    used: int = 0

    def matches(self, method: str, route: str) -> bool:
        if self.method not in ("*", method.upper()):
            return False
        return route == self.path or fnmatch.fnmatchcase(route, self.path)


class FaultRegistry:
    """Thread-safe list of pending faults; the first matching fault with uses left wins."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._poison: dict[int, bool] = {}  # order entity_id -> its per-id GET fails too
        self._held: list[HeldCommit] = []
        self._lock = threading.Lock()

    def poison_order(self, entity_id: int, *, get_fails: bool = False) -> None:
        """Make every orders list page holding this order answer a masked HTTP 500.

        ``get_fails``: ``GET /V1/orders/{entity_id}`` fails the same way (else it works).
        Stays until :meth:`clear` or :meth:`cure_order`.
        """
        with self._lock:
            self._poison[int(entity_id)] = get_fails

    def cure_order(self, entity_id: int) -> None:
        """The order was fixed in Magento: list pages holding it work again."""
        with self._lock:
            self._poison.pop(int(entity_id), None)

    @property
    def poisoned(self) -> dict[int, bool]:
        """Poison order ids, each with whether its per-id GET fails too."""
        with self._lock:
            return dict(self._poison)

    def list_fails(self, entity_ids: list[int]) -> bool:
        """True when a list page holding these orders fails (one of them is poison)."""
        with self._lock:
            return any(entity_id in self._poison for entity_id in entity_ids)

    def get_fails(self, entity_id: int) -> bool:
        """True when ``GET /V1/orders/{entity_id}`` fails (a poison order with get_fails)."""
        with self._lock:
            return self._poison.get(entity_id, False)

    def add(
        self,
        path: str = "/V1/orders",
        method: str = "GET",
        times: int = 1,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        kind: str = "response",
        delay: float = 35.0,
    ) -> Fault:
        """Register a fault for a route path as Magento sees it, e.g. ``/V1/order/*/ship``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if kind == "response" and status is None:
            raise ValueError("a 'response' fault needs a status")
        fault = Fault(
            path=path,
            method=method.upper(),
            times=times,
            kind=kind,
            status=status,
            body=body,
            headers=dict(headers or {}),
            delay=delay,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, route: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.used < fault.times and fault.matches(method, route):
                    fault.used += 1
                    return fault
        return None

    def slow_ship_commits(self, delay: float, times: int = 1_000_000) -> list[Fault]:
        """Ship requests lose their answer and commit ``delay`` sandbox seconds later."""
        return [
            self.add(path=path, method="POST", times=times, kind="slow_commit", delay=delay)
            for path in SHIP_ROUTES
        ]

    def hold_commit(self, due: float, order_id: int | None, commit: Callable[[], object]) -> None:
        """Keep a taken ship request running until ``due`` (see "slow_commit")."""
        with self._lock:
            self._held.append(HeldCommit(due, order_id, commit))

    def release_commits(self, now: float, order_id: int | None = None) -> int:
        """Commit held ship requests that are due, and every one of ``order_id``.

        Returns how many were committed. A commit that fails (Magento's validation) simply
        creates nothing, as the real request would have.
        """
        with self._lock:
            ready = [
                held
                for held in self._held
                if held.due <= now or (order_id is not None and held.order_id == order_id)
            ]
            taken = {id(held) for held in ready}
            self._held = [held for held in self._held if id(held) not in taken]
        for held in sorted(ready, key=lambda held: held.due):
            try:
                held.commit()
            except Exception:  # a refused request commits nothing
                continue
        return len(ready)

    @property
    def held_commits(self) -> int:
        """Ship requests still running inside the sandbox's Magento."""
        with self._lock:
            return len(self._held)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._poison.clear()

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.used < f.times]
