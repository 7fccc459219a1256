"""The fleet file: a wrong entry fails fast naming the store and the field; secrets stay out."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from dropstream_fleet.config import (
    DEFAULT_SCHEDULE,
    FleetConfigError,
    MissingCredentialError,
    load_fleet,
    parse_fleet,
)
from dropstream_fleet.pipeline import Pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
GOOD: dict[str, Any] = {
    "fleet": {"max_concurrent": 3},
    "defaults": {"max_concurrent": 1},
    "stores": [
        {
            "name": "acme",
            "url": "https://shop.acme.example/",
            "store_views": ["default", "fr"],
            "credentials": {"access_token_env": "ACME_TOKEN"},
        },
        {
            "name": "bolt",
            "url": "https://bolt.example",
            "store_views": ["default"],
            "credentials": {"access_token_env": "BOLT_TOKEN"},
            "schedule": "*/5 * * * *",
            "max_concurrent": 3,
        },
    ],
}


def with_change(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(GOOD)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def test_the_example_fleet_file_loads():
    fleet = load_fleet(REPO_ROOT / "fleet.yml")
    assert [store.name for store in fleet.stores] == ["acme", "bolt_bikes"]
    assert fleet.meltano_project == REPO_ROOT
    assert fleet.store("bolt_bikes").env == {"TAP_MAGENTO2_PAGE_SIZE": "100"}


def test_defaults_apply_and_stores_override_them():
    fleet = parse_fleet(GOOD, Path("/srv/fleet/fleet.yml"))
    acme, bolt = fleet.stores
    assert acme.url == "https://shop.acme.example"
    assert (acme.schedule, acme.max_concurrent) == (DEFAULT_SCHEDULE, 1)
    assert (bolt.schedule, bolt.max_concurrent) == ("*/5 * * * *", 3)
    assert fleet.max_concurrent == 3
    assert fleet.meltano_project == Path("/srv/fleet")


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("stores", 0, "name"), "Acme Store", "stores[0]: name:"),
        (("stores", 1, "url"), "ftp://bolt.example", "store 'bolt': url:"),
        (("stores", 1, "url"), "https://admin:hunter22@bolt.example", "store 'bolt': url:"),
        (("stores", 1, "store_views"), [], "store 'bolt': store_views:"),
        (("stores", 1, "store_views"), ["default", "default"], "store 'bolt': store_views:"),
        (("stores", 1, "store_views"), ["Default View"], "store 'bolt': store_views:"),
        (("stores", 1, "schedule"), "every five minutes", "store 'bolt': schedule:"),
        (("stores", 1, "max_concurrent"), 0, "store 'bolt': max_concurrent:"),
        (("stores", 1, "retries"), "3", "store 'bolt': retries:"),
        (("stores", 1, "start_date"), "last week", "store 'bolt': start_date:"),
        (("stores", 1, "colour"), "blue", "store 'bolt': unknown field 'colour'"),
        (("stores", 1, "name"), "acme", "store 'acme': name: used by two stores"),
        (("stores", 1, "env"), {"TAP_MAGENTO2_ACCESS_TOKEN": "x"}, "store 'bolt': env:"),
        (("stores", 1, "env"), {"HTTP_PROXY": "x"}, "store 'bolt': env:"),
        (("fleet", "max_concurrent"), 0, "fleet: max_concurrent:"),
        (("fleet", "database_url_env"), "postgresql://x", "fleet: database_url_env:"),
        (("defaults", "url"), "https://x.example", "defaults: unknown field 'url'"),
    ],
)
def test_a_wrong_entry_names_the_store_and_the_field(path, value, expected):
    with pytest.raises(FleetConfigError) as caught:
        parse_fleet(with_change(path, value), Path("fleet.yml"))
    assert str(caught.value).startswith(expected), str(caught.value)


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        ({"access_token_env": "98f18fe07914b836ab5f686167654825"}, "credentials.access_token_env"),
        ({"access_token": "ACME_TOKEN"}, "unknown key 'access_token'"),
        ({"consumer_key_env": "ACME_CK"}, "credentials.access_token_env: required"),
        ({"access_token_env": "T", "consumer_key_env": "CK"}, "OAuth 1.0a needs all of"),
        ("ACME_TOKEN", "credentials: a mapping"),
    ],
)
def test_credentials_are_variable_names_never_secrets(credentials, expected):
    document = with_change(("stores", 0, "credentials"), credentials)
    with pytest.raises(FleetConfigError) as caught:
        parse_fleet(document, Path("fleet.yml"))
    message = str(caught.value)
    assert message.startswith("store 'acme': ")
    assert expected in message
    assert "98f18fe07914b836ab5f686167654825" not in message


def test_a_missing_variable_fails_its_store_only_naming_the_variable(tmp_path: Path):
    fleet = parse_fleet(GOOD, tmp_path / "fleet.yml")
    environ = {
        "BOLT_TOKEN": "bolt-secret-token",
        "DROPSTREAM_DATABASE_URL": "postgresql+psycopg://u:pw-123456@db/f",
        "MELTANO_DATABASE_URI": "postgresql+psycopg://u:pw-123456@db/m",
    }
    with pytest.raises(MissingCredentialError) as caught:
        Pipeline(fleet, fleet.store("acme"), "load", "fr").environment(environ)
    assert "ACME_TOKEN" in str(caught.value)
    assert "store 'acme'" in str(caught.value)
    assert "bolt-secret-token" not in str(caught.value)
    env = Pipeline(fleet, fleet.store("bolt"), "load", "default").environment(environ)
    assert env["TAP_MAGENTO2_ACCESS_TOKEN"] == "bolt-secret-token"
    assert env["TAP_MAGENTO2_STORE_VIEW_CODE"] == "default"


def test_a_pipeline_never_inherits_another_stores_settings(tmp_path: Path):
    fleet = parse_fleet(GOOD, tmp_path / "fleet.yml")
    environ = {
        "BOLT_TOKEN": "bolt-secret-token",
        "DROPSTREAM_DATABASE_URL": "postgresql+psycopg://db/f",
        "MELTANO_DATABASE_URI": "postgresql+psycopg://db/m",
        "MAGENTO_CONSUMER_KEY": "someone-elses-key",
        "TAP_MAGENTO2_CONSUMER_SECRET": "leftover",
    }
    pipeline = Pipeline(fleet, fleet.store("bolt"), "load", "default")
    env = pipeline.environment(environ)
    assert "MAGENTO_CONSUMER_KEY" not in env
    assert "TAP_MAGENTO2_CONSUMER_SECRET" not in env
    assert not any("bolt-secret-token" in part for part in pipeline.command())
    assert "--state-id-suffix" in pipeline.command()
    assert pipeline.state_id == "prod:tap-magento2-to-target-dropstream:bolt-default"
