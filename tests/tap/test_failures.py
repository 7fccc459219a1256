"""Failures over real HTTP: auth, wrong URLs, HTML pages, retries and broken answers."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from singer_sdk.exceptions import FatalAPIError

from magerest.errors import BEARER_SETTING
from tap_magento2.client import Magento2Stream
from tests.conftest import bearer_config, sandbox_config
from tests.tap.support import run_tap

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def ids(records: list[dict[str, Any]]) -> list[int]:
    return [r["entity_id"] for r in records]


def order_requests(sb: Any) -> list[Any]:
    return [r for r in sb.requests if r.route == "/V1/orders"]


def oauth_config(sb: Any, **overrides: Any) -> dict[str, Any]:
    creds = sb.oauth
    return sandbox_config(
        sb,
        access_token=creds.access_token,
        consumer_key=creds.consumer_key,
        consumer_secret=creds.consumer_secret,
        access_token_secret=creds.access_token_secret,
        **overrides,
    )


def secrets_of(sb: Any) -> list[str]:
    creds = sb.oauth
    return [sb.access_token, creds.access_token, creds.consumer_secret, creds.access_token_secret]


@pytest.fixture
def no_bearer(make_sandbox: Any) -> Any:
    return make_sandbox(order_count=60, seed=3, now=NOW, bearer_enabled=False)


def test_refused_bearer_token_names_resource_and_the_2_4_4_setting(
    no_bearer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(FatalAPIError) as caught:
        run_tap(bearer_config(no_bearer))
    message = str(caught.value)
    assert "HTTP 401" in message
    assert "GET /rest/V1/orders" in message
    assert "Magento_Sales::actions_view" in message
    assert "%resources" not in message
    assert BEARER_SETTING in message
    assert "OAuth 1.0a" in message
    assert len(order_requests(no_bearer)) == 1  # a 401 is not retried
    for secret in secrets_of(no_bearer):
        assert secret not in message
        assert secret not in caplog.text


def test_refused_token_on_store_views_names_that_resource(no_bearer: Any) -> None:
    with pytest.raises(FatalAPIError, match="Magento_Backend::store"):
        run_tap(bearer_config(no_bearer, store_view_code="fr"))


def test_bearer_allowed_for_one_store_view_only_is_explained(make_sandbox: Any) -> None:
    """The flag is read per store view: /rest/de/V1 accepts the token, the tap's /rest/V1 not."""
    sb = make_sandbox(order_count=20, seed=3, now=NOW, bearer_by_store_view={"de": True})
    with pytest.raises(FatalAPIError) as caught:
        run_tap(bearer_config(sb, store_view_code="de"))
    message = str(caught.value)
    assert BEARER_SETTING in message
    assert "accepted the same Bearer request under /rest/de/V1 but refused it under /rest/V1" in (
        message
    )
    assert "read per store view" in message
    assert sb.access_token not in message


def test_oauth_pages_with_an_updated_at_filter_are_signed_as_magento_checks_them(
    no_bearer: Any,
) -> None:
    """Every incremental page filters on updated_at ('2026-01-01 00:00:00' has a space):
    sent as '+', Magento reads a plus and answers 401 "The signature is invalid"."""
    run = run_tap(oauth_config(no_bearer, page_size=7, start_date="2025-01-01T00:00:00Z"))
    assert ids(run.records()) == ids(no_bearer.data.matching(statuses=["processing"]))
    pages = order_requests(no_bearer)
    assert len(pages) > 2
    assert all(r.status == 200 for r in pages)
    timestamps = [
        value
        for r in pages
        for key, value in r.query
        if key.endswith("[value]") and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value)
    ]
    assert len(timestamps) >= len(pages)  # every page carried a timestamp with a space


def test_oauth_signed_requests_are_accepted_when_bearer_is_disabled(no_bearer: Any) -> None:
    run = run_tap(oauth_config(no_bearer, page_size=7, store_view_code="default"))
    expected = no_bearer.data.matching(statuses=["processing"], store_ids=[1])
    assert ids(run.records()) == ids(expected)
    assert {r.auth_scheme for r in no_bearer.requests} == {"OAuth"}
    assert all(r.status == 200 for r in no_bearer.requests)


def test_oauth_retry_is_signed_again_with_a_fresh_nonce(no_bearer: Any, fast_retries: Any) -> None:
    no_bearer.faults.add(path="/V1/orders", status=503, times=2)
    run = run_tap(oauth_config(no_bearer, page_size=20))
    assert ids(run.records()) == ids(no_bearer.data.matching(statuses=["processing"]))
    assert [r.status for r in order_requests(no_bearer)][:3] == [503, 503, 200]


def test_wrong_oauth_secret_is_refused_with_magentos_message(no_bearer: Any) -> None:
    config = oauth_config(no_bearer)
    config["consumer_secret"] = "x" * 32
    with pytest.raises(FatalAPIError) as caught:
        run_tap(config)
    assert "HTTP 401" in str(caught.value)
    assert "signature is invalid" in str(caught.value)
    assert "x" * 32 not in str(caught.value)


def test_wrong_store_url_says_so(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=10, seed=1, now=NOW)
    with pytest.raises(FatalAPIError) as caught:
        run_tap(sandbox_config(sb, store_url=sb.base_url + "/shop"))
    message = str(caught.value)
    assert "HTTP 404" in message
    assert "Request does not match any route." in message
    assert "store URL" in message


def test_index_php_base_url_works(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=30, seed=1, now=NOW)
    run = run_tap(sandbox_config(sb, store_url=sb.base_url + "/index.php/rest/V1/"))
    assert ids(run.records()) == ids(sb.data.matching(statuses=["processing"]))
    assert all(r.path.startswith("/index.php/rest/V1/") for r in sb.requests)


def test_maintenance_page_is_retried_then_the_sync_completes(
    make_sandbox: Any, fast_retries: Any
) -> None:
    sb = make_sandbox(order_count=40, seed=1, now=NOW)
    sb.faults.add(path="/V1/orders", kind="html", times=2)
    run = run_tap(sandbox_config(sb, page_size=10))
    assert ids(run.records()) == ids(sb.data.matching(statuses=["processing"]))
    assert [r.status for r in order_requests(sb)][:3] == [503, 503, 200]


def test_lasting_maintenance_fails_with_a_clear_message(
    make_sandbox: Any, fast_retries: Any
) -> None:
    sb = make_sandbox(order_count=10, seed=1, now=NOW)
    sb.faults.add(path="/V1/orders", kind="html", times=50)
    with pytest.raises(FatalAPIError) as caught:
        run_tap(sandbox_config(sb))
    message = str(caught.value)
    assert "HTML page instead of JSON" in message
    assert "maintenance" in message
    assert "HTTP 503" in message
    assert f"gave up after {fast_retries.max_tries} attempts" in message
    assert len(order_requests(sb)) == fast_retries.max_tries


def test_waf_login_page_with_200_is_an_error_not_an_empty_result(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=10, seed=1, now=NOW)
    sb.faults.add(path="/V1/orders", kind="waf", times=1)
    with pytest.raises(FatalAPIError) as caught:
        run_tap(sandbox_config(sb))
    message = str(caught.value)
    assert "HTTP 200 and an HTML page instead of JSON" in message
    assert "Access check" in message
    assert len(order_requests(sb)) == 1


def test_rate_limit_honours_retry_after(make_sandbox: Any, fast_retries: Any) -> None:
    sb = make_sandbox(order_count=30, seed=1, now=NOW)
    sb.faults.add(
        path="/V1/orders",
        status=429,
        body={"message": "Too Many Requests", "trace": None},
        headers={"Retry-After": "1"},
        times=1,
    )
    arrivals: list[float] = []
    sb.on_request(
        lambda info: arrivals.append(time.monotonic()) if info.route == "/V1/orders" else None
    )
    run = run_tap(sandbox_config(sb, page_size=100))
    assert ids(run.records()) == ids(sb.data.matching(statuses=["processing"]))
    assert [r.status for r in order_requests(sb)] == [429, 200]
    assert arrivals[1] - arrivals[0] >= 1.0


def test_server_errors_are_retried_then_fail_naming_endpoint_status_and_message(
    make_sandbox: Any, fast_retries: Any
) -> None:
    sb = make_sandbox(order_count=10, seed=1, now=NOW)
    sb.faults.add(
        path="/V1/orders",
        status=500,
        body={
            "message": "Internal Error. Details are available in Magento log file. Report ID: %1",
            "parameters": ["webapi-6655aa"],
        },
        times=50,
    )
    with pytest.raises(FatalAPIError) as caught:
        run_tap(sandbox_config(sb))
    message = str(caught.value)
    assert "GET /rest/V1/orders" in message
    assert "HTTP 500" in message
    assert "Report ID: webapi-6655aa" in message
    # The retries, then one page that selects no order (it fails too, so no order is to blame).
    assert len(order_requests(sb)) == fast_retries.max_tries + 1


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_resets_and_cut_off_bodies_are_retried(
    make_sandbox: Any, fast_retries: Any, kind: str
) -> None:
    sb = make_sandbox(order_count=60, seed=1, now=NOW)
    sb.faults.add(path="/V1/orders", kind=kind, times=2)
    run = run_tap(sandbox_config(sb, page_size=10))
    assert ids(run.records()) == ids(sb.data.matching(statuses=["processing"]))
    assert len(order_requests(sb)) >= 3


def test_timeouts_are_retried(
    make_sandbox: Any, fast_retries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Magento2Stream, "request_timeout_seconds", 0.5)
    sb = make_sandbox(order_count=30, seed=1, now=NOW)
    sb.faults.add(path="/V1/orders", kind="timeout", times=1, delay=3)
    run = run_tap(sandbox_config(sb))
    assert ids(run.records()) == ids(sb.data.matching(statuses=["processing"]))


def test_lasting_cut_off_bodies_fail_and_never_look_like_an_empty_page(
    make_sandbox: Any, fast_retries: Any
) -> None:
    sb = make_sandbox(order_count=30, seed=1, now=NOW)
    sb.faults.add(path="/V1/orders", kind="truncate", times=50)
    with pytest.raises(FatalAPIError) as caught:
        run_tap(sandbox_config(sb))
    assert "GET /rest/V1/orders" in str(caught.value)
    assert f"after {fast_retries.max_tries} attempts" in str(caught.value)


def test_wrongly_shaped_json_is_an_error(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=10, seed=1, now=NOW)
    sb.faults.add(path="/V1/orders", kind="wrong_shape", times=1)
    with pytest.raises(FatalAPIError, match="unexpected JSON"):
        run_tap(sandbox_config(sb))


def test_empty_page_with_orders_announced_is_retried_not_taken_as_the_end(
    make_sandbox: Any, fast_retries: Any
) -> None:
    sb = make_sandbox(order_count=30, seed=1, now=NOW)
    sb.faults.add(
        path="/V1/orders",
        kind="wrong_shape",
        body={"items": [], "search_criteria": {}, "total_count": 12},
        times=1,
    )
    run = run_tap(sandbox_config(sb))
    assert ids(run.records()) == ids(sb.data.matching(statuses=["processing"]))
    assert len(order_requests(sb)) == 2


def test_secrets_stay_out_of_logs_and_output(
    make_sandbox: Any, fast_retries: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sb = make_sandbox(order_count=20, seed=1, now=NOW, bearer_enabled=False)
    sb.faults.add(path="/V1/orders", status=502, times=1)
    caplog.set_level(logging.DEBUG)
    run = run_tap(oauth_config(sb))
    output = repr(run.messages)
    for secret in secrets_of(sb):
        assert secret not in caplog.text
        assert secret not in output
