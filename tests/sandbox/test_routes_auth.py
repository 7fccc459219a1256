"""URL forms, route 404s, and authentication exactly as Magento answers them."""

from __future__ import annotations

import time

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

from magento2_sandbox import MagentoSandbox

from .helpers import bearer

ROUTE_404 = {"message": "Request does not match any route."}
ORDERS_401 = {
    "message": "The consumer isn't authorized to access %resources.",
    "parameters": {"resources": "Magento_Sales::actions_view"},
}


def oauth1(sb: MagentoSandbox, **kw: object) -> OAuth1:
    o = sb.oauth
    kw.setdefault("signature_method", SIGNATURE_HMAC_SHA256)
    return OAuth1(
        o.consumer_key,
        o.consumer_secret,
        o.access_token,
        o.access_token_secret,
        signature_type="auth_header",
        **kw,
    )


@pytest.mark.parametrize(
    "prefix",
    [
        "/rest/V1",
        "/rest/default/V1",
        "/rest/all/V1",
        "/rest/fr/V1",
        "/index.php/rest/V1",
        "/index.php/rest/de/V1",
    ],
)
def test_store_code_routes_return_every_store(sandbox: MagentoSandbox, prefix: str) -> None:
    resp = requests.get(
        f"{sandbox.base_url}{prefix}/orders",
        params={"searchCriteria": ""},
        headers=bearer(sandbox),
        timeout=10,
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["total_count"] == 200  # the store code in the URL does not filter orders
    assert {o["store_id"] for o in body["items"]} >= {1, 2, 3}


@pytest.mark.parametrize(
    "path",
    [
        "/rest/V1/order",
        "/rest/V2/orders",
        "/rest/V1/orders/5/items",
        "/V1/orders",
    ],
)
def test_unknown_route_is_404_before_auth(sandbox: MagentoSandbox, path: str) -> None:
    resp = requests.get(f"{sandbox.base_url}{path}", params={"searchCriteria": ""}, timeout=10)
    assert resp.status_code == 404
    assert resp.json() == ROUTE_404


def test_wrong_method_is_404(sandbox: MagentoSandbox) -> None:
    resp = requests.delete(
        f"{sandbox.base_url}/rest/V1/orders/1", headers=bearer(sandbox), timeout=10
    )
    assert resp.status_code == 404
    assert resp.json() == ROUTE_404


def test_store_views_bare_array_with_admin_and_inactive(sandbox: MagentoSandbox) -> None:
    resp = requests.get(
        f"{sandbox.base_url}/rest/all/V1/store/storeViews", headers=bearer(sandbox), timeout=10
    )
    views = resp.json()
    assert isinstance(views, list)
    assert list(views[0]) == [
        "id",
        "code",
        "name",
        "website_id",
        "store_group_id",
        "is_active",
    ]
    by_id = {v["id"]: v for v in views}
    assert by_id[0]["code"] == "admin"
    assert by_id[0]["website_id"] == 0
    assert any(v["is_active"] == 0 for v in views)
    assert [v["id"] for v in views] != sorted(by_id)  # configuration order, not id order
    assert views == sandbox.data.store_views


def test_single_order_and_unknown_id(sandbox: MagentoSandbox) -> None:
    ok = requests.get(f"{sandbox.base_url}/rest/V1/orders/7", headers=bearer(sandbox), timeout=10)
    assert ok.json() == sandbox.data.orders[7]
    missing = requests.get(
        f"{sandbox.base_url}/rest/V1/orders/999999", headers=bearer(sandbox), timeout=10
    )
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "The entity that was requested doesn't exist. Verify the entity and try again."
    }


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong-token",
        "Bearer",
        "Bearer  {token}",
        "Token {token}",
        "{token}",
        "Bearer {token} extra",
    ],
)
def test_unauthorized_bodies(sandbox: MagentoSandbox, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header.format(token=sandbox.access_token)}
    orders = requests.get(f"{sandbox.base_url}/rest/V1/orders/1", headers=headers, timeout=10)
    assert orders.status_code == 401
    assert orders.json() == ORDERS_401
    views = requests.get(
        f"{sandbox.base_url}/rest/V1/store/storeViews", headers=headers, timeout=10
    )
    assert views.status_code == 401
    assert views.json()["parameters"] == {"resources": "Magento_Backend::store"}


def test_bearer_scheme_is_case_insensitive(sandbox: MagentoSandbox) -> None:
    resp = requests.get(
        f"{sandbox.base_url}/rest/V1/orders/1",
        headers={"Authorization": f"bEaReR {sandbox.access_token}"},
        timeout=10,
    )
    assert resp.status_code == 200


def test_a_new_sandbox_has_an_untouched_stores_defaults() -> None:
    """2.4.4+: Bearer refused for the integration token; Web API input limits off."""
    with MagentoSandbox(order_count=400, seed=2) as sb:
        refused = requests.get(f"{sb.base_url}/rest/V1/orders/1", headers=bearer(sb), timeout=10)
        assert refused.status_code == 401
        assert refused.json() == ORDERS_401
        everything = requests.get(
            f"{sb.base_url}/rest/V1/orders",
            params={"searchCriteria[pageSize]": "500"},
            auth=oauth1(sb),
            timeout=30,
        )
        assert everything.status_code == 200, everything.text
        assert len(everything.json()["items"]) == 400  # no pageSize cap


def test_bearer_flag_is_read_per_store_view(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    """Set for store view "de" only: /rest/de/V1 accepts what /rest/V1 refuses."""
    sb = sandbox_factory(order_count=20, bearer_enabled=False, bearer_by_store_view={"de": True})
    under = {
        prefix: requests.get(f"{sb.base_url}{prefix}/orders/1", headers=bearer(sb), timeout=10)
        for prefix in ("/rest/V1", "/rest/default/V1", "/rest/de/V1")
    }
    assert {prefix: r.status_code for prefix, r in under.items()} == {
        "/rest/V1": 401,
        "/rest/default/V1": 401,
        "/rest/de/V1": 200,
    }


SPACED_FILTER = (
    "searchCriteria[filter_groups][0][filters][0][field]=updated_at"
    "&searchCriteria[filter_groups][0][filters][0][value]=2026-01-01{space}00:00:00"
    "&searchCriteria[filter_groups][0][filters][0][condition_type]=gteq"
)


@pytest.mark.parametrize(("space", "status"), [("%20", 200), ("+", 401)])
def test_oauth_base_string_reads_the_raw_query(
    sandbox: MagentoSandbox, space: str, status: int
) -> None:
    """Magento decodes the query with rawurldecode: a '+' is a plus, so a request signed
    with a space but sent with '+' fails, as on a real 2.4.6 store; '%20' passes."""
    url = f"{sandbox.base_url}/rest/V1/orders?{SPACED_FILTER.format(space=space)}"
    signed_with_a_space = url.replace("+", "%20")
    headers = _signed_headers(sandbox, signed_with_a_space)
    resp = requests.get(url, headers=headers, timeout=10)
    assert resp.status_code == status, resp.text
    if status == 401:
        assert resp.json() == {"message": "The signature is invalid. Verify and try again."}


def test_oauth_parameters_sort_in_natural_order(sandbox: MagentoSandbox) -> None:
    """Laminas sorts the base string's keys with strnatcmp: [10] after [2]. A signer that
    sorts bytewise ([10] before [2]) is refused when both indexes are in the query."""
    query = (
        "&".join(f"searchCriteria[sortOrders][{i}][field]=entity_id" for i in (2, 10))
        + "&searchCriteria[pageSize]=1"
    )
    url = f"{sandbox.base_url}/rest/V1/orders?{query}"
    bytewise = requests.get(url, headers=_signed_headers(sandbox, url), timeout=10)
    assert bytewise.status_code == 401
    assert bytewise.json() == {"message": "The signature is invalid. Verify and try again."}
    one_digit = url.replace("[10]", "[3]")
    natural = requests.get(one_digit, headers=_signed_headers(sandbox, one_digit), timeout=10)
    assert natural.status_code == 200, natural.text


def test_bearer_switch_off_gives_401_but_oauth_works(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(order_count=20, bearer_enabled=False)
    resp = requests.get(f"{sb.base_url}/rest/V1/orders/1", headers=bearer(sb), timeout=10)
    assert resp.status_code == 401
    assert resp.json() == ORDERS_401
    signed = requests.get(f"{sb.base_url}/rest/V1/orders/1", auth=oauth1(sb), timeout=10)
    assert signed.status_code == 200
    assert signed.json()["entity_id"] == 1


def test_oauth_signed_search_with_brackets_in_query(sandbox: MagentoSandbox) -> None:
    params = {
        "searchCriteria[filter_groups][0][filters][0][field]": "status",
        "searchCriteria[filter_groups][0][filters][0][value]": "processing,complete",
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "in",
        "searchCriteria[pageSize]": "5",
        "fields": "items[entity_id,status],total_count",
    }
    resp = requests.get(
        f"{sandbox.base_url}/rest/default/V1/orders",
        params=params,
        auth=oauth1(sandbox),
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    assert {o["status"] for o in resp.json()["items"]} <= {"processing", "complete"}


def _signed_headers(sb: MagentoSandbox, url: str, **kw: object) -> dict[str, str]:
    req = requests.Request("GET", url, auth=oauth1(sb, **kw)).prepare()
    return {"Authorization": req.headers["Authorization"]}


def test_tampered_oauth_request_rejected(sandbox: MagentoSandbox) -> None:
    url = f"{sandbox.base_url}/rest/V1/orders/1"
    headers = _signed_headers(sandbox, url)
    resp = requests.get(f"{sandbox.base_url}/rest/V1/orders/2", headers=headers, timeout=10)
    assert resp.status_code == 401
    assert resp.json() == {"message": "The signature is invalid. Verify and try again."}


def test_wrong_secret_rejected(sandbox: MagentoSandbox) -> None:
    o = sandbox.oauth
    auth = OAuth1(
        o.consumer_key,
        "x" * 32,
        o.access_token,
        o.access_token_secret,
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    resp = requests.get(f"{sandbox.base_url}/rest/V1/orders/1", auth=auth, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["message"] == "The signature is invalid. Verify and try again."


def test_reused_nonce_rejected(sandbox: MagentoSandbox) -> None:
    url = f"{sandbox.base_url}/rest/V1/orders/1"
    headers = _signed_headers(sandbox, url)
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    again = requests.get(url, headers=headers, timeout=10)
    assert again.status_code == 401
    assert again.json() == {
        "message": "The nonce is already being used by the consumer with ID %1",
        "parameters": ["1"],
    }


@pytest.mark.parametrize("offset", [-3600, 3600])
def test_stale_or_future_timestamp_rejected(sandbox: MagentoSandbox, offset: int) -> None:
    url = f"{sandbox.base_url}/rest/V1/orders/1"
    headers = _signed_headers(sandbox, url, timestamp=str(int(time.time()) + offset))
    resp = requests.get(url, headers=headers, timeout=10)
    assert resp.status_code == 401
    assert resp.json() == {"message": "An error occurred validating the nonce"}


def test_only_hmac_sha256_accepted(sandbox: MagentoSandbox) -> None:
    url = f"{sandbox.base_url}/rest/V1/orders/1"
    headers = _signed_headers(sandbox, url, signature_method=SIGNATURE_HMAC_SHA1)
    resp = requests.get(url, headers=headers, timeout=10)
    assert resp.status_code == 400
    assert resp.json() == {
        "message": "Signature method %1 is not supported",
        "parameters": ["HMAC-SHA1"],
    }


def test_request_log_masks_credentials(sandbox: MagentoSandbox) -> None:
    requests.get(f"{sandbox.base_url}/rest/V1/orders/3", headers=bearer(sandbox), timeout=10)
    info = sandbox.requests[-1]
    assert info.route == "/V1/orders/3"
    assert info.status == 200
    assert info.auth_scheme == "Bearer"
    assert sandbox.access_token not in repr(info)
    assert sandbox.access_token not in repr(sandbox.oauth)
