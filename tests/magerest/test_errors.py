"""Magento's error answers become readable messages with the right retry decision."""

from __future__ import annotations

import pytest

from magerest.errors import (
    BEARER_SETTING,
    classify,
    fill_placeholders,
    parse_error_body,
)
from tests.tap.support import make_response


@pytest.mark.parametrize(
    ("template", "parameters", "expected"),
    [
        (
            "The consumer isn't authorized to access %resources.",
            {"resources": "Magento_Sales::actions_view"},
            "The consumer isn't authorized to access Magento_Sales::actions_view.",
        ),
        (
            "Invalid product data: %1",
            ["bad attribute set"],
            "Invalid product data: bad attribute set",
        ),
        ("%1 of %2 (%10)", list("abcdefghij"), "a of b (j)"),
        (
            "Maximum SearchCriteria pageSize is %max",
            {"max": 300},
            "Maximum SearchCriteria pageSize is 300",
        ),
        ("%res and %resources", {"resources": "R", "res": "r"}, "r and R"),
        ("Nothing to fill: %1", None, "Nothing to fill: %1"),
        ("Unknown %other stays", {"name": "x"}, "Unknown %other stays"),
    ],
)
def test_placeholders_are_filled_from_parameters(
    template: str, parameters: object, expected: str
) -> None:
    assert fill_placeholders(template, parameters) == expected


def test_aggregate_errors_are_listed() -> None:
    body = (
        '{"message":"Validation failed","errors":[{"message":"%fieldName is required",'
        '"parameters":{"fieldName":"sku"}},{"message":"qty %1","parameters":["< 0"]}]}'
    )
    parsed = parse_error_body(body)
    assert parsed is not None
    assert parsed.text == "Validation failed; sku is required; qty < 0"


def test_bearer_401_names_the_resource_the_setting_and_oauth() -> None:
    response = make_response(
        401,
        {
            "message": "The consumer isn't authorized to access %resources.",
            "parameters": {"resources": "Magento_Sales::actions_view"},
        },
    )
    failure = classify(response)
    assert failure is not None
    assert not failure.retriable
    assert "GET /rest/V1/orders" in failure.message
    assert "Magento_Sales::actions_view" in failure.message
    assert "refused" in failure.message
    assert BEARER_SETTING in failure.message
    assert "2.4.4" in failure.message
    assert "OAuth 1.0a" in failure.message
    assert "%resources" not in failure.message


def test_signed_401_does_not_blame_the_bearer_setting() -> None:
    response = make_response(
        401,
        {
            "message": "The consumer isn't authorized to access %resources.",
            "parameters": {"resources": "Magento_Backend::store"},
        },
    )
    failure = classify(response, signed=True)
    assert failure is not None
    assert "Magento_Backend::store" in failure.message
    assert BEARER_SETTING not in failure.message
    assert "consumer_secret" in failure.message


def test_no_route_404_says_the_store_url_looks_wrong() -> None:
    failure = classify(make_response(404, {"message": "Request does not match any route."}))
    assert failure is not None
    assert not failure.retriable
    assert "Request does not match any route." in failure.message
    assert "store URL" in failure.message


def test_html_page_with_200_is_a_clear_fatal_error() -> None:
    page = "<!DOCTYPE html><html><head><title>Sign in - Access denied</title></head></html>"
    failure = classify(make_response(200, text=page, headers={"Content-Type": "text/html"}))
    assert failure is not None
    assert not failure.retriable
    assert "HTML page instead of JSON" in failure.message
    assert "Sign in - Access denied" in failure.message


def test_maintenance_503_html_is_retriable_and_explained() -> None:
    page = "<html><head><title>Service Temporarily Unavailable</title></head><body></body></html>"
    failure = classify(make_response(503, text=page, headers={"Content-Type": "text/html"}))
    assert failure is not None
    assert failure.retriable
    assert "maintenance" in failure.message


@pytest.mark.parametrize(
    ("status", "retriable"),
    [(400, False), (403, False), (404, False), (408, True), (429, True), (500, True), (502, True)],
)
def test_retry_decision_by_status(status: int, retriable: bool) -> None:
    failure = classify(make_response(status, {"message": "Nope %1", "parameters": ["x"]}))
    assert failure is not None
    assert failure.retriable is retriable
    assert failure.status == status
    assert failure.magento_message == "Nope x"
    assert f"HTTP {status}: Nope x" in failure.message


def test_json_success_is_not_a_failure() -> None:
    assert classify(make_response(200, {"items": [], "total_count": 0})) is None


def test_non_json_error_body_is_still_shown() -> None:
    failure = classify(make_response(502, text="upstream connect error", headers={}))
    assert failure is not None
    assert "upstream connect error" in failure.message


def test_a_401_that_is_not_the_acl_refusal_says_which_credentials_to_check() -> None:
    response = make_response(401, {"message": "Specified token does not exist"})
    signed = classify(response, signed=True)
    assert signed is not None
    assert "HTTP 401: Specified token does not exist" in signed.message
    assert "consumer_key, consumer_secret, access_token and access_token_secret" in signed.message
    bearer = classify(response)
    assert bearer is not None
    assert "copy access_token again" in bearer.message


def test_failures_name_the_store_that_answered() -> None:
    failure = classify(make_response(503, {"message": "down"}))
    assert failure is not None
    assert failure.message.startswith("Magento at https://shop.example.com answered GET ")
