"""Helpers for the tap tests: canned responses and running the tap in-process."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

import requests

from tap_magento2.tap import TapMagento2


def make_response(
    status: int = 200,
    body: Any = None,
    *,
    text: str | None = None,
    headers: dict[str, str] | None = None,
    url: str = "https://shop.example.com/rest/V1/orders?searchCriteria=",
    method: str = "GET",
) -> requests.Response:
    """A finished ``requests.Response`` as Magento (or something in front of it) sends it."""
    response = requests.Response()
    response.status_code = status
    response.reason = "Reason"
    content = text if text is not None else json.dumps(body)
    response._content = content.encode()
    response.headers.update(headers or {"Content-Type": "application/json"})
    response.url = url
    response.request = requests.Request(method, url).prepare()
    return response


@dataclass
class TapRun:
    """Singer messages written by one in-process run of the tap."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    def records(self, stream: str = "orders") -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1]

    def bookmark(self, stream: str = "orders") -> str:
        return self.final_state["bookmarks"][stream]["replication_key_value"]


def run_tap(
    config: dict[str, Any], state: dict[str, Any] | None = None, *, streams: tuple[str, ...] = ()
) -> TapRun:
    """Run ``TapMagento2.sync_all()`` in-process and parse what it wrote to stdout."""
    tap = TapMagento2(config=dict(config), state=state, parse_env_config=False)
    if streams:
        for name, stream in tap.streams.items():
            stream.selected = name in streams
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return TapRun([json.loads(line) for line in out.getvalue().splitlines() if line.strip()])
