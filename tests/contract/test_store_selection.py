"""Which Magento the suite runs against: all MAGENTO_CONTRACT_* variables, or none."""

from __future__ import annotations

import pytest

from tests.contract.store import ENV_NAMES, ContractSetupError, describe_target, requested_store

REAL = {
    "MAGENTO_CONTRACT_URL": "https://staging.example.com/",
    "MAGENTO_CONTRACT_ADMIN_USER": "contract",
    "MAGENTO_CONTRACT_ADMIN_PASSWORD": "admin-secret-1",
    "MAGENTO_CONTRACT_CONSUMER_KEY": "ck",
    "MAGENTO_CONTRACT_CONSUMER_SECRET": "cs",
    "MAGENTO_CONTRACT_ACCESS_TOKEN": "at",
    "MAGENTO_CONTRACT_ACCESS_TOKEN_SECRET": "ats",
    "MAGENTO_CONTRACT_STORE_VIEWS": "default, de",
}


def test_no_variable_means_the_sandbox() -> None:
    assert requested_store({}) is None
    assert describe_target({}).startswith("contract suite against the sandbox")


def test_every_variable_names_a_real_store() -> None:
    store = requested_store(REAL)
    assert store is not None
    assert store.url == "https://staging.example.com"
    assert store.store_views == ("default", "de")
    assert store.oauth["access_token_secret"] == "ats"
    header = describe_target(REAL)
    assert header == "contract suite against https://staging.example.com store views default,de"
    assert "admin-secret-1" not in header + repr(store)


def test_a_half_set_group_fails_naming_what_is_missing() -> None:
    half = {name: REAL[name] for name in ENV_NAMES[:3]}
    with pytest.raises(ContractSetupError) as refused:
        requested_store(half)
    message = str(refused.value)
    for name in ENV_NAMES[3:]:
        assert name in message
    assert "admin-secret-1" not in message


def test_store_views_must_be_two_codes() -> None:
    with pytest.raises(ContractSetupError, match="two different store view codes"):
        requested_store({**REAL, "MAGENTO_CONTRACT_STORE_VIEWS": "default"})
