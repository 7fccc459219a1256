"""Magento (and whatever stands in front of it) failing: every run ends complete or loud.

Each fault is injected mid-sync into the sandbox and run in-process and through the real
``tap-magento2`` CLI. A run either emits exactly the orders the sandbox's own ground truth
lists, or exits non-zero naming the endpoint, the status and Magento's message; any STATE
it wrote before failing never points past an order it did not emit.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import FatalAPIError

from magento2_sandbox import MagentoSandbox, RequestInfo
from magerest.client import MagentoAPIError, MagentoClient
from magerest.retry import RetryPolicy
from tap_magento2.client import Magento2Stream
from tap_magento2.tap import TapMagento2
from tests.conftest import oauth_keys, sandbox_config
from tests.reliability.conftest import (
    MAX_TRIES,
    TAP,
    order_ids,
    run_cli,
    write_json,
)

ORDERS = "/V1/orders"
TOO_MANY = {"message": "Too Many Requests", "trace": None}
INTERNAL = {
    "message": "Internal Error. Details are available in Magento log file. Report ID: %1",
    "parameters": ["webapi-65f1e2a9"],
}

#: Faults a store recovers from; (fault settings, status the sandbox logs for it).
TRANSIENT: dict[str, tuple[dict[str, Any], int]] = {
    "429-with-retry-after": (
        {"status": 429, "body": TOO_MANY, "headers": {"Retry-After": "1"}},
        429,
    ),
    "429-without-retry-after": ({"status": 429, "body": TOO_MANY}, 429),
    "500-internal-error": ({"status": 500, "body": INTERNAL}, 500),
    "502-gateway-html": ({"kind": "gateway", "status": 502}, 502),
    "503-maintenance-html": ({"kind": "html"}, 503),
    "504-gateway-html": ({"kind": "gateway", "status": 504}, 504),
    "connection-reset": ({"kind": "reset"}, 0),
    "truncated-json": ({"kind": "truncate"}, 200),
    "stalled-then-hung-up": ({"kind": "timeout", "delay": 0.3}, 0),
}

#: Lasting faults: what the final error must say besides the endpoint.
LASTING: dict[str, tuple[dict[str, Any], list[str]]] = {
    "429": ({"status": 429, "body": TOO_MANY}, ["HTTP 429", "Too Many Requests"]),
    "500": ({"status": 500, "body": INTERNAL}, ["HTTP 500", "Report ID: webapi-65f1e2a9"]),
    "502": ({"kind": "gateway", "status": 502}, ["HTTP 502", "HTML page", "502 Bad Gateway"]),
    "503": ({"kind": "html"}, ["HTTP 503", "maintenance"]),
    "504": ({"kind": "gateway", "status": 504}, ["HTTP 504", "HTML page"]),
    "reset": ({"kind": "reset"}, ["No usable answer", "connection"]),
    "truncated": ({"kind": "truncate"}, ["No usable answer", "cut off"]),
    "stalled": ({"kind": "timeout", "delay": 0.2}, ["No usable answer"]),
}

#: Answers that are wrong, not unlucky: no retry, a clear error at once.
WRONG: dict[str, tuple[dict[str, Any], list[str]]] = {
    "valid-json-wrong-shape": (
        {"kind": "wrong_shape", "body": {"orders": [], "count": 3}},
        ["unexpected JSON"],
    ),
    "waf-login-page-200": (
        {"kind": "waf"},
        ["HTTP 200 and an HTML page instead of JSON", "Access check"],
    ),
    "400-with-named-placeholder": (
        {
            "status": 400,
            "body": {
                "message": '"%fieldName" is required. Enter and try again.',
                "parameters": {"fieldName": "searchCriteria"},
            },
        },
        ["HTTP 400", '"searchCriteria" is required. Enter and try again.'],
    ),
}


def order_requests(sb: MagentoSandbox) -> list[RequestInfo]:
    return [r for r in sb.requests if r.route == ORDERS and r.method == "GET"]


def fault_from_request(sb: MagentoSandbox, number: int, times: int, **fault: Any) -> None:
    """From the ``number``-th orders request on, the next ``times`` orders requests fail."""
    seen = 0

    def on_request(info: RequestInfo) -> None:
        nonlocal seen
        if info.route == ORDERS and info.method == "GET":
            seen += 1
            if seen == number:
                sb.faults.add(path=ORDERS, times=times, **fault)

    sb.on_request(on_request)


def run_in_process(
    config: dict[str, Any], state: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """Run the tap in-process; return every message written and the error, if any."""
    tap = TapMagento2(config=dict(config), state=state, parse_env_config=False)
    out = io.StringIO()
    error: BaseException | None = None
    with contextlib.redirect_stdout(out):
        try:
            tap.sync_all()
        except Exception as exc:  # the error is what the test examines
            error = exc
    messages = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return messages, error


def records_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "orders"]


def assert_states_are_safe(sb: MagentoSandbox, messages: list[dict[str, Any]]) -> None:
    """No STATE lets a resumed run skip an order: all before its bookmark were emitted."""
    emitted: set[int] = set()
    for message in messages:
        if message["type"] == "RECORD" and message["stream"] == "orders":
            emitted.add(message["record"]["entity_id"])
        if message["type"] != "STATE":
            continue
        mark = message["value"].get("bookmarks", {}).get("orders", {})
        value = mark.get("replication_key_value")
        if not value:
            continue
        bookmark = value.replace("T", " ")[:19]
        behind = {
            o["entity_id"]
            for o in sb.data.matching(statuses=["processing"])
            if o["updated_at"] < bookmark
        }
        assert behind <= emitted, f"STATE {value} passes orders {sorted(behind - emitted)[:5]}"


# In-process ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(TRANSIENT))
def test_transient_fault_mid_sync_is_retried_and_the_sync_completes(
    sandbox_factory: Any, fast_retries: RetryPolicy, name: str
) -> None:
    fault, logged_status = TRANSIENT[name]
    sb = sandbox_factory(order_count=150, seed=5)
    fault_from_request(sb, 2, times=2, **fault)
    messages, error = run_in_process(sandbox_config(sb, page_size=10))
    assert error is None, error
    expected = order_ids(sb.data.matching(statuses=["processing"]))
    assert order_ids(records_of(messages)) == expected  # all, once, in order
    statuses = [r.status for r in order_requests(sb)]
    if logged_status == 200:  # a cut-off body is logged as a 200
        assert len(statuses) >= 3
    else:
        assert statuses.count(logged_status) == 2
    assert_states_are_safe(sb, messages)


@pytest.mark.parametrize("kind", ["timeout", "stall_body"])
def test_read_timeouts_are_retried_and_the_sync_completes(
    sandbox_factory: Any,
    fast_retries: RetryPolicy,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """A real read timeout: no answer at all, or headers and half a body, then silence."""
    monkeypatch.setattr(Magento2Stream, "request_timeout_seconds", 0.4)
    sb = sandbox_factory(order_count=80, seed=2)
    fault_from_request(sb, 2, times=1, kind=kind, delay=3)
    messages, error = run_in_process(sandbox_config(sb, page_size=10))
    assert error is None, error
    assert order_ids(records_of(messages)) == order_ids(sb.data.matching(statuses=["processing"]))


def test_lasting_read_timeout_fails_naming_the_endpoint(
    sandbox_factory: Any, fast_retries: RetryPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Magento2Stream, "request_timeout_seconds", 0.3)
    sb = sandbox_factory(order_count=30, seed=2)
    sb.faults.add(path=ORDERS, kind="stall_body", times=100, delay=2)
    messages, error = run_in_process(sandbox_config(sb))
    assert isinstance(error, FatalAPIError)
    assert "GET /rest/V1/orders" in str(error)
    assert f"after {MAX_TRIES} attempts" in str(error)
    assert records_of(messages) == []


@pytest.mark.parametrize("name", list(LASTING))
def test_lasting_fault_mid_sync_fails_loudly_and_states_stay_safe(
    sandbox_factory: Any, fast_retries: RetryPolicy, name: str
) -> None:
    fault, phrases = LASTING[name]
    sb = sandbox_factory(order_count=150, seed=5)
    fault_from_request(sb, 3, times=1000, **fault)
    messages, error = run_in_process(sandbox_config(sb, page_size=10, max_concurrent_requests=1))
    assert isinstance(error, FatalAPIError), error
    message = str(error)
    assert "GET /rest/V1/orders" in message
    for phrase in phrases:
        assert phrase in message
    assert f"{MAX_TRIES} attempts" in message
    emitted = order_ids(records_of(messages))
    expected = order_ids(sb.data.matching(statuses=["processing"]))
    assert emitted == expected[: len(emitted)]  # a prefix: nothing skipped, nothing doubled
    assert len(emitted) < len(expected)
    assert_states_are_safe(sb, messages)


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_answers_fail_at_once_with_magentos_words(
    sandbox_factory: Any, fast_retries: RetryPolicy, name: str
) -> None:
    fault, phrases = WRONG[name]
    sb = sandbox_factory(order_count=40, seed=5)
    sb.faults.add(path=ORDERS, times=1000, **fault)
    messages, error = run_in_process(sandbox_config(sb))
    assert isinstance(error, FatalAPIError), error
    for phrase in phrases:
        assert phrase in str(error)
    assert "%fieldName" not in str(error)
    assert len(order_requests(sb)) == 1  # not retried: a second try cannot help
    assert records_of(messages) == []
    assert_states_are_safe(sb, messages)


def test_retries_back_off_with_jitter_and_stop_within_the_bound(
    sandbox_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAP_MAGENTO2_RETRY_MAX_TRIES", "5")
    monkeypatch.setenv("TAP_MAGENTO2_RETRY_BASE_SECONDS", "0.1")
    monkeypatch.setenv("TAP_MAGENTO2_RETRY_CAP_SECONDS", "0.5")
    policy = RetryPolicy()
    monkeypatch.setattr(Magento2Stream, "retry_policy", policy)
    sb = sandbox_factory(order_count=20, seed=1)
    # Retry-After asks for an hour: the cap still bounds every wait.
    sb.faults.add(path=ORDERS, status=503, body=INTERNAL, headers={"Retry-After": "3600"}, times=99)
    arrivals: list[float] = []
    sb.on_request(lambda info: arrivals.append(time.monotonic()) if info.route == ORDERS else None)
    started = time.monotonic()
    _, error = run_in_process(sandbox_config(sb))
    elapsed = time.monotonic() - started
    assert isinstance(error, FatalAPIError)
    assert "HTTP 503" in str(error)
    assert "Report ID: webapi-65f1e2a9" in str(error)
    assert len(arrivals) == 5
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert all(0.5 * 0.99 <= gap < 0.5 + 0.4 for gap in gaps), gaps  # capped, not an hour
    assert elapsed < policy.longest_total_wait + 3

    # Without Retry-After the waits grow exponentially with jitter.
    monkeypatch.setenv("TAP_MAGENTO2_RETRY_CAP_SECONDS", "5")
    monkeypatch.setattr(Magento2Stream, "retry_policy", RetryPolicy())
    sb.faults.clear()
    sb.faults.add(path=ORDERS, status=502, times=99)
    arrivals.clear()
    run_in_process(sandbox_config(sb))
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    for attempt, gap in enumerate(gaps, start=1):
        nominal = 0.1 * 2 ** (attempt - 1)
        assert 0.75 * nominal * 0.98 <= gap <= 1.25 * nominal + 0.35, (attempt, gaps)


@pytest.mark.parametrize("name", ["503-maintenance-html", "504-gateway-html", "connection-reset"])
def test_the_targets_magento_client_retries_the_same_faults(
    sandbox_factory: Any, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    fault, _ = TRANSIENT[name]
    sb = sandbox_factory(order_count=30, seed=5)
    monkeypatch.setenv("TAP_MAGENTO2_RETRY_BASE_SECONDS", "0.01")
    client = MagentoClient(sb.base_url, **oauth_keys(sb))
    assert client.retry_policy.base_seconds == 0.01  # env var read by the policy
    sb.faults.add(path=ORDERS, times=2, **fault)
    found = list(client.search(ORDERS, [[("status", "processing", "eq")]], page_size=50))
    assert order_ids(found) == sorted(order_ids(sb.data.matching(statuses=["processing"])))
    sb.faults.add(path=ORDERS, times=100, **fault)
    with pytest.raises(MagentoAPIError) as caught:
        client.get(ORDERS, {"searchCriteria[pageSize]": 5})
    assert "GET /rest/V1/orders" in str(caught.value)
    assert f"gave up after {client.retry_policy.max_tries} attempts" in str(caught.value)


# Mid-sync changes ---------------------------------------------------------------------


def test_orders_updated_and_added_during_the_sync_are_all_emitted(
    sandbox_factory: Any, fast_retries: RetryPolicy
) -> None:
    """Guarantee: a run plus one follow-up run started after Magento's clock has moved past
    the last change emit every order that matches at the end, in its latest version.

    The tap reads only seconds of Magento's clock that have ended, so an order changed in
    the second the run ends is left to the follow-up run (its bookmark stays before it).
    """
    sb = sandbox_factory(order_count=800, seed=11)
    rng = random.Random(3)
    changes = {"requests": 0}
    ids = list(sb.data.orders)

    def mutate(info: RequestInfo) -> None:
        if info.route != ORDERS or changes["requests"] >= 40:
            return
        changes["requests"] += 1
        for entity_id in rng.sample(ids, 3):  # some leave, some join, some just change
            sb.data.update_order(entity_id, status=rng.choice(["processing", "complete"]))
        sb.data.add_order(status="processing")
        sb.data.add_order(status="pending")
        sb.clock.advance(rng.choice([0, 1, 1, 2]))  # Magento's clock moves on

    stop_mutating = sb.on_request(mutate)
    first, error = run_in_process(sandbox_config(sb, page_size=25))
    assert error is None, error
    assert changes["requests"] >= 10  # the data really moved under the sync
    stop_mutating()  # changes during the follow-up run are the run after it's business
    sb.clock.advance(2)  # as real time passes before the next scheduled run
    state = next(m["value"] for m in reversed(first) if m["type"] == "STATE")
    second, error = run_in_process(sandbox_config(sb, page_size=25), state=state)
    assert error is None, error

    latest: dict[int, str] = {}
    for record in records_of(first) + records_of(second):
        latest[record["entity_id"]] = record["updated_at"]
    truth = sb.data.matching(statuses=["processing"])
    missing = {o["entity_id"] for o in truth} - set(latest)
    assert not missing, f"orders never emitted: {sorted(missing)}"
    for order in truth:
        assert latest[order["entity_id"]].replace("T", " ")[:19] == order["updated_at"]
    # the first run alone is complete up to its own bookmark
    assert_states_are_safe(sb, first)


# Through the real CLI -----------------------------------------------------------------


def test_cli_survives_every_transient_fault_in_one_run(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    """One real ``tap-magento2`` run meets each transient fault once, mid-sync, and ends
    with exit 0 and every order."""
    sb = sandbox_factory(order_count=400, seed=7)
    pending = [fault for fault, _ in TRANSIENT.values()]
    seen = 0

    def every_other_request(info: RequestInfo) -> None:
        nonlocal seen
        if info.route == ORDERS:
            seen += 1
            if seen % 2 == 0 and pending:
                sb.faults.add(path=ORDERS, times=1, **pending.pop(0))

    sb.on_request(every_other_request)
    config = write_json(tmp_path / "tap.json", sandbox_config(sb, page_size=10))
    run = run_cli([TAP, "--config", str(config)])
    assert run.returncode == 0, run.stderr[-2000:]
    assert not pending  # every fault was served
    assert order_ids(run.records()) == order_ids(sb.data.matching(statuses=["processing"]))
    assert "Retrying in" in run.stderr


@pytest.mark.parametrize("name", [*LASTING, *WRONG])
def test_cli_exits_non_zero_naming_endpoint_status_and_message(
    sandbox_factory: Any, tmp_path: Path, name: str
) -> None:
    fault, phrases = LASTING.get(name) or WRONG[name]
    sb = sandbox_factory(order_count=120, seed=5)
    fault_from_request(sb, 2, times=1000, **fault)
    config = write_json(
        tmp_path / "tap.json", sandbox_config(sb, page_size=10, max_concurrent_requests=1)
    )
    run = run_cli([TAP, "--config", str(config)])
    assert run.returncode != 0
    last_lines = run.stderr.strip().splitlines()[-1]
    assert "GET /rest/V1/orders" in last_lines
    for phrase in phrases:
        assert phrase in last_lines
    emitted = order_ids(run.records())
    expected = order_ids(sb.data.matching(statuses=["processing"]))
    assert emitted == expected[: len(emitted)]
    assert len(emitted) < len(expected)
    assert_states_are_safe(sb, run.messages)
