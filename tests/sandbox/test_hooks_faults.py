"""Test hooks (mutations, ground truth, callbacks, latency), fault injection and the CLI."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from magento2_sandbox import MagentoSandbox, RequestInfo

from .helpers import bearer, criteria, get_orders, ids, search


def test_add_order_is_served_and_filterable(sandbox: MagentoSandbox) -> None:
    sandbox.clock.advance(120)
    new = sandbox.data.add_order(status="processing", store_id=2)
    assert new["entity_id"] == 201
    assert new["created_at"] == new["updated_at"]
    assert new["updated_at"] == sandbox.clock.now_text()
    assert new["state"] == "processing"
    assert new["store_id"] == 2
    body = search(sandbox, [[("updated_at", new["updated_at"], "gteq")]], None, 10)
    assert ids(body) == [201]
    served = requests.get(
        f"{sandbox.base_url}/rest/V1/orders/201", headers=bearer(sandbox), timeout=10
    ).json()
    assert served == new


def test_update_order_moves_updated_at_and_index(sandbox: MagentoSandbox) -> None:
    sandbox.clock.advance(3600)
    updated = sandbox.data.update_order(5, status="holded")
    assert updated["state"] == "holded"
    assert updated["updated_at"] == sandbox.clock.now_text()
    body = search(
        sandbox,
        [[("updated_at", updated["updated_at"], "gteq")], [("status", "holded", "eq")]],
        None,
        10,
    )
    assert ids(body) == [5]
    assert sandbox.data.orders[5]["status"] == "holded"
    with pytest.raises(KeyError):
        sandbox.data.update_order(99999, status="complete")


def test_matching_is_ground_truth(sandbox: MagentoSandbox) -> None:
    truth = sandbox.data.matching(statuses=["processing"], store_ids=[1, 3])
    pairs = criteria(
        [[("status", "processing", "eq")], [("store_id", "1,3", "in")]],
        [("updated_at", "ASC"), ("entity_id", "ASC")],
        300,
    )
    served = get_orders(sandbox, pairs).json()["items"]
    assert served == truth
    assert truth
    keys = [(o["updated_at"], o["entity_id"]) for o in truth]
    assert keys == sorted(keys)


def test_on_request_can_mutate_mid_sync(sandbox: MagentoSandbox) -> None:
    seen: list[RequestInfo] = []

    def bump(info: RequestInfo) -> None:
        seen.append(info)
        if info.route == "/V1/orders" and len(seen) == 2:
            sandbox.clock.advance(5)
            sandbox.data.update_order(1, status="processing")

    remove = sandbox.on_request(bump)
    first = search(sandbox, [[("status", "processing", None)]], [("updated_at", "ASC")], 10, 1)
    second = search(sandbox, [[("status", "processing", None)]], [("updated_at", "ASC")], 10, 1)
    remove()
    assert second["total_count"] == first["total_count"] + (0 if 1 in ids(first) else 1)
    assert seen[0].query
    assert seen[0].method == "GET"
    search(sandbox, None, None, 1)
    assert len(seen) == 2


def test_latency_model(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(order_count=30, latency_ms=100, latency_per_order_ms=10)
    started = time.perf_counter()
    search(sb, None, None, 20)
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    requests.get(f"{sb.base_url}/rest/V1/orders/1", headers=bearer(sb), timeout=10)
    assert time.perf_counter() - started < 0.1  # only list calls pay the latency


def test_fault_status_body_headers_for_n_times(sandbox: MagentoSandbox) -> None:
    sandbox.faults.add(
        path="/V1/orders",
        times=2,
        status=429,
        body={"message": "Too Many Requests", "trace": None},
        headers={"Retry-After": "3"},
    )
    for _ in range(2):
        resp = get_orders(sandbox, criteria(page_size=1))
        assert resp.status_code == 429
        assert resp.headers["Retry-After"] == "3"
        assert resp.json() == {"message": "Too Many Requests", "trace": None}
    assert get_orders(sandbox, criteria(page_size=1)).status_code == 200
    assert [r.status for r in sandbox.requests] == [429, 429, 200]


def test_fault_matches_method_and_pattern(sandbox: MagentoSandbox) -> None:
    sandbox.faults.add(path="/V1/orders/*", method="GET", status=502, body="Bad Gateway")
    assert get_orders(sandbox, criteria(page_size=1)).status_code == 200
    resp = requests.get(
        f"{sandbox.base_url}/rest/default/V1/orders/3", headers=bearer(sandbox), timeout=10
    )
    assert resp.status_code == 502
    assert resp.text == "Bad Gateway"


def test_maintenance_and_waf_pages(sandbox: MagentoSandbox) -> None:
    sandbox.faults.add(path="/V1/orders", kind="html")
    sandbox.faults.add(path="/V1/orders", kind="waf")
    maint = get_orders(sandbox, criteria(page_size=1))
    assert maint.status_code == 503
    assert maint.headers["Content-Type"].startswith("text/html")
    assert "<h1>Service Temporarily Unavailable</h1>" in maint.text
    waf = get_orders(sandbox, criteria(page_size=1))
    assert waf.status_code == 200
    assert waf.headers["Content-Type"].startswith("text/html")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        waf.json()


def test_connection_reset(sandbox: MagentoSandbox) -> None:
    sandbox.faults.add(path="/V1/orders", kind="reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        get_orders(sandbox, criteria(page_size=1))
    assert get_orders(sandbox, criteria(page_size=1)).status_code == 200


def test_read_timeout(sandbox: MagentoSandbox) -> None:
    sandbox.faults.add(path="/V1/orders", kind="timeout", delay=2)
    started = time.perf_counter()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(
            f"{sandbox.base_url}/rest/V1/orders",
            params=criteria(page_size=1),
            headers=bearer(sandbox),
            timeout=0.5,
        )
    assert time.perf_counter() - started < 1.5
    assert get_orders(sandbox, criteria(page_size=1)).status_code == 200


def test_truncated_json_body(sandbox: MagentoSandbox) -> None:
    sandbox.faults.add(path="/V1/orders", kind="truncate")
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        get_orders(sandbox, criteria(page_size=5))


def test_wrong_shape_json(sandbox: MagentoSandbox) -> None:
    sandbox.faults.add(
        path="/V1/orders", kind="wrong_shape", body={"items": None, "total_count": "x"}
    )
    resp = get_orders(sandbox, criteria(page_size=5))
    assert resp.status_code == 200
    assert resp.json() == {"items": None, "total_count": "x"}


def test_stop_is_clean_even_with_a_stalled_request() -> None:
    sb = MagentoSandbox(order_count=5).start()
    sb.faults.add(path="/V1/orders", kind="timeout", delay=30)
    t = threading.Thread(target=lambda: _swallow(sb), daemon=True)
    t.start()
    time.sleep(0.2)
    started = time.perf_counter()
    sb.stop()
    assert time.perf_counter() - started < 3
    with pytest.raises(RuntimeError):
        _ = sb.base_url


def _swallow(sb: MagentoSandbox) -> None:
    with contextlib.suppress(requests.RequestException):
        requests.get(f"{sb.base_url}/rest/V1/orders", params={"searchCriteria": ""}, timeout=5)


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("magento2-sandbox")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "magento2_sandbox"]
    proc = subprocess.Popen(
        [
            *cmd,
            "--port",
            "0",
            "--orders",
            "40",
            "--seed",
            "2",
            "--magento-version",
            "2.3",
            "--bearer-store-view",
            "de=yes",
            "--fault",
            "/V1/store/storeViews=503x1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        keys = dict(re.findall(r"(\w+)=(\w+)", line))
        assert set(keys) >= {"consumer_key", "consumer_secret", "access_token_secret"}
        views = requests.get(f"{url}/rest/V1/store/storeViews", timeout=10)
        assert views.status_code == 503
        bearer = {"Authorization": f"Bearer {keys['access_token']}"}
        resp = requests.get(f"{url}/rest/V1/orders/1", headers=bearer, timeout=10)
        assert resp.status_code == 401  # Bearer is off by default, as on a new 2.4.4+ store
        resp = requests.get(f"{url}/rest/de/V1/orders/1", headers=bearer, timeout=10)
        assert resp.status_code == 200  # ... and on for store view "de" only
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_cli_rejects_bad_fault_spec() -> None:
    from magento2_sandbox.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["--fault", "orders:503"])
    assert exc.value.code == 2


def test_broken_callback_answers_500_and_is_recorded(sandbox: MagentoSandbox) -> None:
    def broken(info: RequestInfo) -> None:
        raise RuntimeError("hook failed")

    remove = sandbox.on_request(broken)
    resp = get_orders(sandbox, criteria(page_size=1))
    remove()
    assert resp.status_code == 500
    assert any("hook failed" in e for e in sandbox.errors)
    assert get_orders(sandbox, criteria(page_size=1)).status_code == 200
