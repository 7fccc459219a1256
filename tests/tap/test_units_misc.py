"""Timestamps, retry waits and request signing (no server needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import requests

from magerest.auth import BearerAuth, OAuth1Auth, build_auth
from magerest.retry import RetryPolicy, retry_after_seconds
from tap_magento2.timestamps import convert_timestamps, magento_to_rfc3339, to_magento
from tests.tap.support import make_response


def test_magento_timestamps_become_rfc3339_utc() -> None:
    assert magento_to_rfc3339("2024-01-31 23:59:59") == "2024-01-31T23:59:59+00:00"
    assert magento_to_rfc3339("0000-00-00 00:00:00") is None


def test_nested_timestamps_are_converted_and_other_values_kept() -> None:
    order = {
        "created_at": "2024-01-31 10:00:00",
        "updated_at": "2024-02-01 11:12:13",
        "customer_dob": "1980-05-06 00:00:00",
        "increment_id": "2024-01-31 10:00:00",
        "items": [
            {
                "created_at": "2024-01-31 10:00:00",
                "parent_item": {"updated_at": "2024-01-31 10:00:01"},
            }
        ],
        "status_histories": [{"created_at": "2024-02-01 11:12:13", "comment": None}],
        "extension_attributes": {
            "shipping_assignments": [
                {
                    "shipping": {
                        "address": {"street": ["a", "b"], "updated_at": "2024-01-01 00:00:00"}
                    }
                }
            ]
        },
        "already": "2024-01-31T10:00:00+00:00",
    }
    converted = convert_timestamps(order)
    assert converted["created_at"] == "2024-01-31T10:00:00+00:00"
    assert converted["updated_at"] == "2024-02-01T11:12:13+00:00"
    assert converted["items"][0]["created_at"] == "2024-01-31T10:00:00+00:00"
    assert converted["items"][0]["parent_item"]["updated_at"] == "2024-01-31T10:00:01+00:00"
    assert converted["status_histories"][0]["created_at"] == "2024-02-01T11:12:13+00:00"
    shipping = converted["extension_attributes"]["shipping_assignments"][0]["shipping"]
    assert shipping["address"]["updated_at"] == "2024-01-01T00:00:00+00:00"
    assert shipping["address"]["street"] == ["a", "b"]
    # Not a timestamp field / not Magento's format: untouched.
    assert converted["customer_dob"] == "1980-05-06 00:00:00"
    assert converted["increment_id"] == "2024-01-31 10:00:00"
    assert converted["already"] == "2024-01-31T10:00:00+00:00"


def test_filter_values_are_utc_whole_seconds() -> None:
    moment = datetime.fromisoformat("2024-03-01T12:30:15.900+02:00")
    assert to_magento(moment) == "2024-03-01 10:30:15"


def test_retry_after_seconds_and_http_date() -> None:
    assert retry_after_seconds(make_response(429, {}, headers={"Retry-After": "7"})) == 7
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    dated = make_response(503, {}, headers={"Retry-After": "Wed, 01 Jan 2025 12:00:30 GMT"})
    assert retry_after_seconds(dated, now=now) == 30
    assert retry_after_seconds(make_response(503, {}, headers={"Retry-After": "soon"})) == 0
    assert retry_after_seconds(None) == 0


def test_waits_grow_exponentially_with_jitter_and_honour_retry_after() -> None:
    policy = RetryPolicy(max_tries=6, base_seconds=1.0, cap_seconds=60.0)
    for attempt, nominal in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)]:
        waits = {policy.wait(attempt) for _ in range(30)}
        assert all(0.75 * nominal <= w <= 1.25 * nominal for w in waits)
        assert len(waits) > 1  # jittered
    asked = make_response(429, {}, headers={"Retry-After": "20"})
    assert policy.wait(1, asked) >= 20
    assert policy.wait(1, make_response(429, {}, headers={"Retry-After": "9999"})) == 60


def test_wait_generator_reads_retry_after_from_the_exception() -> None:
    class FailedError(Exception):
        def __init__(self, response: requests.Response) -> None:
            self.response = response

    policy = RetryPolicy(base_seconds=0.01, cap_seconds=100.0)
    waits = policy.wait_generator()
    waits.send(None)  # primed as the backoff library does
    assert waits.send(FailedError(make_response(429, {}, headers={"Retry-After": "3"}))) >= 3
    assert waits.send(TimeoutError()) < 1


def _prepared() -> requests.PreparedRequest:
    params = {"searchCriteria[filter_groups][0][filters][0][field]": "status"}
    return requests.Request(
        "GET", "https://shop.example.com/rest/V1/orders", params=params
    ).prepare()


def test_bearer_auth_sets_the_header_and_hides_the_token() -> None:
    auth = build_auth("secret-token")
    assert isinstance(auth, BearerAuth)
    assert auth(_prepared()).headers["Authorization"] == "Bearer secret-token"
    assert "secret-token" not in repr(auth)


def test_oauth_is_used_only_with_all_three_credentials() -> None:
    assert isinstance(build_auth("t", consumer_key="k", consumer_secret="s"), BearerAuth)
    auth = build_auth("t", consumer_key="k", consumer_secret="s", access_token_secret="ts")
    assert isinstance(auth, OAuth1Auth)
    assert "ts" not in repr(auth)


def test_oauth_signs_hmac_sha256_and_re_signs_each_attempt_with_a_new_nonce() -> None:
    secret = "consumer-secret-value"
    auth = OAuth1Auth(
        consumer_key="ck", consumer_secret=secret, access_token="at", access_token_secret="ats"
    )
    request = _prepared()
    first = auth(request).headers["Authorization"]
    second = auth(request).headers["Authorization"]  # a retry of the same prepared request
    for header in (first, second):
        assert header.startswith("OAuth ")
        assert 'oauth_signature_method="HMAC-SHA256"' in header
        assert 'oauth_consumer_key="ck"' in header
        assert 'oauth_token="at"' in header
        assert secret not in header  # a long secret cannot turn up in base64 by chance
    nonce = re.compile(r'oauth_nonce="([^"]+)"')
    assert nonce.search(first).group(1) != nonce.search(second).group(1)  # type: ignore[union-attr]
    assert second.count("oauth_signature=") == 1


@pytest.mark.parametrize("secret", ["consumer-secret-value", "token-secret-value"])
def test_secrets_never_appear_in_the_signed_header(secret: str) -> None:
    auth = OAuth1Auth(
        consumer_key="key-1",
        consumer_secret="consumer-secret-value",
        access_token="tok-1",
        access_token_secret="token-secret-value",
    )
    header = auth(_prepared()).headers["Authorization"]
    assert secret not in header
