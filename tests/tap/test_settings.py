"""Settings are checked before any request, and every message names the setting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from singer_sdk.exceptions import ConfigValidationError

from magerest.connection import normalize_store_url, parse_statuses
from tap_magento2.settings import STOPPING_STATUSES, parse_start_date, validate_settings
from tap_magento2.tap import TapMagento2

VALID = {"store_url": "https://shop.example.com", "access_token": "tok-123"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("https://shop.example.com/", "https://shop.example.com"),
        ("  https://shop.example.com//  ", "https://shop.example.com"),
        ("HTTPS://shop.example.com", "https://shop.example.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("https://shop.example.com/index.php", "https://shop.example.com/index.php"),
        ("https://shop.example.com/index.php/", "https://shop.example.com/index.php"),
        ("https://shop.example.com/rest", "https://shop.example.com"),
        ("https://shop.example.com/rest/", "https://shop.example.com"),
        ("https://shop.example.com/rest/V1", "https://shop.example.com"),
        ("https://shop.example.com/rest/V1/", "https://shop.example.com"),
        ("https://shop.example.com/index.php/rest/V1", "https://shop.example.com/index.php"),
        ("https://shop.example.com/magento/rest", "https://shop.example.com/magento"),
    ],
)
def test_store_url_is_normalised(raw: str, expected: str) -> None:
    assert normalize_store_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "shop.example.com",
        "shop.example.com/rest",
        "ftp://shop.example.com",
        "https://",
        "",
        "https://shop.example.com/?a=1",
        "https://shop.example.com/rest/default/V1",
    ],
)
def test_unusable_store_url_names_the_setting(raw: str) -> None:
    with pytest.raises(ValueError, match="store_url"):
        normalize_store_url(raw)


def test_store_code_in_pasted_rest_url_points_to_store_view_code() -> None:
    with pytest.raises(ValueError, match="store_view_code"):
        normalize_store_url("https://shop.example.com/rest/fr/V1")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ["processing"]),
        ("processing", ["processing"]),
        ("processing, complete", ["processing", "complete"]),
        (["processing", "holded", "processing"], ["processing", "holded"]),
        (["pending,processing"], ["pending", "processing"]),
    ],
)
def test_order_import_status_accepts_a_string_or_a_list(raw: object, expected: list[str]) -> None:
    assert parse_statuses(raw) == expected


@pytest.mark.parametrize("raw", ["", " , ", [], [""], 5, [1]])
def test_empty_or_wrong_order_import_status_names_the_setting(raw: object) -> None:
    with pytest.raises(ValueError, match="order_import_status"):
        parse_statuses(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-31T10:00:00Z", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T12:00:00+02:00", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T10:00:00", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31", datetime(2024, 1, 31, tzinfo=UTC)),
    ],
)
def test_start_date_is_read_as_utc(raw: str, expected: datetime) -> None:
    assert parse_start_date(raw) == expected


@pytest.mark.parametrize("empty", ["", [], " , "])
def test_an_empty_follow_list_is_valid_and_follows_nothing(empty: object) -> None:
    """Unlike order_import_status, order_follow_status may be empty: that turns following off."""
    assert validate_settings({**VALID, "order_follow_status": empty}) == []
    tap = TapMagento2(config={**VALID, "order_follow_status": empty}, parse_env_config=False)
    assert tap.streams["orders"].statuses == ["processing"]


def test_the_follow_default_is_every_status_that_stops_fulfillment() -> None:
    schema = TapMagento2.config_jsonschema["properties"]["order_follow_status"]
    assert schema["default"] == "holded,payment_review,fraud,canceled,closed,complete"
    tap = TapMagento2(config=VALID, parse_env_config=False)
    assert tap.streams["orders"].statuses == ["processing", *STOPPING_STATUSES]


def test_valid_settings_have_no_errors() -> None:
    assert validate_settings(VALID) == []
    assert validate_settings({**VALID, "page_size": 300, "order_import_status": ["a", "b"]}) == []


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"store_url": "shop.example.com"}, "store_url"),
        ({"access_token": ""}, "access_token"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 301}, "page_size"),
        ({"page_size": True}, "page_size"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"order_import_status": ""}, "order_import_status"),
        ({"store_view_code": " "}, "store_view_code"),
        ({"consumer_key": "ck"}, "consumer_secret, access_token_secret"),
        ({"consumer_key": "ck", "consumer_secret": "cs"}, "access_token_secret"),
        ({"strict_mode": "sometimes"}, "strict_mode"),
    ],
)
def test_each_invalid_setting_is_named(overrides: dict[str, object], setting: str) -> None:
    errors = validate_settings({**VALID, **overrides})
    assert len(errors) == 1
    assert setting in errors[0]


def test_tap_refuses_bad_settings_before_any_request() -> None:
    # Port 9 on loopback has no server: if the tap sent anything it would fail differently.
    config = {"store_url": "127.0.0.1:9", "access_token": "t", "page_size": 500}
    with pytest.raises(ConfigValidationError) as caught:
        TapMagento2(config=config, parse_env_config=False)
    text = " ".join(caught.value.errors)
    assert "store_url" in text
    assert "page_size" in text


def test_missing_required_settings_are_named() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TapMagento2(config={}, parse_env_config=False)
    text = " ".join(caught.value.errors)
    assert "store_url" in text
    assert "access_token" in text


def test_secrets_are_marked_secret_in_the_settings_schema() -> None:
    properties = TapMagento2.config_jsonschema["properties"]
    for name in ("access_token", "consumer_key", "consumer_secret", "access_token_secret"):
        assert properties[name].get("secret") is True, name
    assert properties["store_url"].get("secret") is not True
    assert properties["page_size"]["maximum"] == 300
    assert properties["page_size"]["default"] == 100
    assert properties["order_import_status"]["default"] == "processing"
