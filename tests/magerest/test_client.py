"""MagentoClient, the plain client other tools use, against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from magerest.client import MagentoAPIError, MagentoClient, MagentoTransportError
from magerest.errors import BEARER_SETTING
from magerest.retry import RetryPolicy
from tests.conftest import oauth_keys

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def client_for(sb: Any, waits: list[float] | None = None, **kwargs: Any) -> MagentoClient:
    recorded = waits if waits is not None else []
    for name, value in oauth_keys(sb).items():
        kwargs.setdefault(name, value)
    return MagentoClient(
        sb.base_url + "/",
        retry_policy=RetryPolicy(max_tries=3, base_seconds=0.01),
        sleep=recorded.append,
        **kwargs,
    )


@pytest.fixture
def sb(make_sandbox: Any) -> Any:
    return make_sandbox(order_count=80, seed=12, now=NOW)


def test_get_decodes_json_and_normalises_the_store_url(sb: Any) -> None:
    client = client_for(sb)
    assert client.store_url == sb.base_url
    assert client.get("/V1/store/storeViews") == sb.data.store_views
    assert sb.requests[-1].path == "/rest/V1/store/storeViews"


def test_store_view_code_scopes_the_url(sb: Any) -> None:
    client = client_for(sb, store_view_code="fr")
    order_id = next(iter(sb.data.orders))
    assert client.get(f"/V1/orders/{order_id}")["entity_id"] == order_id
    assert sb.requests[-1].path == f"/rest/fr/V1/orders/{order_id}"


@pytest.mark.parametrize("version", ["2.3", "2.4"])
def test_search_reads_every_page_once(make_sandbox: Any, version: str) -> None:
    sb = make_sandbox(order_count=90, seed=12, now=NOW, magento_version=version)
    client = client_for(sb)
    items = list(
        client.search(
            "/V1/orders",
            filter_groups=[[("status", "processing,complete", "in")], [("store_id", 1, "eq")]],
            sort=[("entity_id", "ASC")],
            page_size=7,
        )
    )
    expected = sorted(
        o["entity_id"] for o in sb.data.matching(statuses=["processing", "complete"], store_ids=[1])
    )
    assert [i["entity_id"] for i in items] == expected
    pages = [r for r in sb.requests if r.route == "/V1/orders"]
    assert len(pages) == -(-len(expected) // 7)


def test_search_with_fields_still_stops_by_total_count(sb: Any) -> None:
    client = client_for(sb)
    items = list(
        client.search(
            "/V1/orders",
            filter_groups=[[("status", "processing", "in")]],
            sort=[("entity_id", "ASC")],
            page_size=5,
            fields="items[entity_id,increment_id]",
        )
    )
    expected = sorted(o["entity_id"] for o in sb.data.matching(statuses=["processing"]))
    assert [i["entity_id"] for i in items] == expected
    assert all(set(i) == {"entity_id", "increment_id"} for i in items)


def test_get_retries_transient_failures_honouring_retry_after(sb: Any) -> None:
    waits: list[float] = []
    sb.faults.add(path="/V1/store/storeViews", status=429, headers={"Retry-After": "2"}, times=1)
    sb.faults.add(path="/V1/store/storeViews", kind="html", times=1)
    client = client_for(sb, waits)
    assert client.get("/V1/store/storeViews") == sb.data.store_views
    assert len(waits) == 2
    assert waits[0] >= 2
    assert waits[1] < 1


def test_get_gives_up_naming_endpoint_status_and_magento_message(sb: Any) -> None:
    sb.faults.add(
        path="/V1/store/storeViews",
        status=500,
        body={"message": "Internal Error. Report ID: %1", "parameters": ["webapi-77"]},
        times=10,
    )
    with pytest.raises(MagentoAPIError) as caught:
        client_for(sb).get("/V1/store/storeViews")
    error = caught.value
    assert error.status == 500
    assert error.endpoint == "GET /rest/V1/store/storeViews"
    assert error.magento_message == "Internal Error. Report ID: webapi-77"
    assert error.parameters == ["webapi-77"]
    assert "gave up after 3 attempts" in str(error)
    assert sb.access_token not in str(error)


def test_refused_bearer_token_is_explained(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=5, seed=1)  # a new store: Bearer refused
    bearer_only = {"consumer_key": None, "consumer_secret": None, "access_token_secret": None}
    with pytest.raises(MagentoAPIError) as caught:
        client_for(sb, **bearer_only).get("/V1/orders", {"searchCriteria": ""})
    assert caught.value.status == 401
    assert caught.value.parameters == {"resources": "Magento_Sales::actions_view"}
    assert BEARER_SETTING in str(caught.value)
    assert len(sb.requests) == 1


def test_bearer_refused_for_one_store_view_only_is_explained(make_sandbox: Any) -> None:
    """Notifications call /rest/<code>/V1: the flag set to No on that view alone is named."""
    sb = make_sandbox(
        order_count=5, seed=1, bearer_enabled=True, bearer_by_store_view={"de": False}
    )
    bearer_only = {"consumer_key": None, "consumer_secret": None, "access_token_secret": None}
    client = client_for(sb, store_view_code="de", **bearer_only)
    with pytest.raises(MagentoAPIError) as caught:
        client.get("/V1/orders/1")
    message = str(caught.value)
    assert caught.value.status == 401
    assert "accepted the same Bearer request under /rest/V1 but refused it under /rest/de/V1" in (
        message
    )
    assert BEARER_SETTING in message
    assert sb.access_token not in message


def test_oauth_client_works_when_bearer_is_disabled(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=20, seed=1, bearer_enabled=False)
    creds = sb.oauth
    client = client_for(
        sb,
        access_token=creds.access_token,
        consumer_key=creds.consumer_key,
        consumer_secret=creds.consumer_secret,
        access_token_secret=creds.access_token_secret,
    )
    items = list(client.search("/V1/orders", [[("status", "processing", "in")]], page_size=4))
    assert len(items) == len(sb.data.matching(statuses=["processing"]))
    assert creds.consumer_secret not in repr(client)


def test_post_is_never_retried(sb: Any) -> None:
    waits: list[float] = []
    sb.faults.add(path="/V1/order/*/ship", method="POST", status=503, times=5)
    with pytest.raises(MagentoAPIError) as caught:
        client_for(sb, waits).post("/V1/order/1/ship", {"items": []})
    assert caught.value.status == 503
    assert waits == []
    assert len([r for r in sb.requests if r.method == "POST"]) == 1


def test_post_without_answer_reports_an_unknown_outcome(sb: Any) -> None:
    sb.faults.add(path="/V1/order/*/ship", method="POST", kind="reset", times=1)
    with pytest.raises(MagentoTransportError) as caught:
        client_for(sb).post("/V1/order/1/ship", {"items": []})
    assert caught.value.status is None
    assert "POST /rest/V1/order/1/ship" in str(caught.value)
