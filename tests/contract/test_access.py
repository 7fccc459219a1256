"""The Integration's access: the ACL the plugins need, OAuth 1.0a signing, Bearer refused."""

from __future__ import annotations

from magerest.errors import BEARER_SETTING
from tests.contract.fixtures import Fixtures
from tests.contract.processes import Workspace
from tests.contract.readback import our_orders
from tests.contract.store import MagentoCallError, MagentoRest

#: What the plugins read, and the ACL resource each read needs.
READS = {
    "/orders": "Magento_Sales::actions_view (orders, re-checks, notify's quantity check)",
    "/shipments": "Magento_Sales::shipment (shipments stream, notify's look-up and read-back)",
    "/invoices": "Magento_Sales::sales_invoice (invoices stream)",
    "/creditmemos": "Magento_Sales::sales_creditmemo (creditmemos stream)",
    "/products": "Magento_Catalog::products (bundle shipment types)",
}


def test_the_integration_has_every_acl_resource_the_plugins_read(
    rest: MagentoRest, fixtures: Fixtures
) -> None:
    """Each read the plugins make, signed with the Integration's keys, is allowed."""
    refused = []
    first = {"searchCriteria[pageSize]": 1, "searchCriteria[currentPage]": 1}
    calls = [(path, first) for path in READS]
    calls.append(("/store/storeViews", None))
    for path, params in calls:
        try:
            rest.integration("GET", path, params=params)
        except MagentoCallError as exc:
            refused.append(f"{READS.get(path, 'Magento_Backend::store (store views)')}: {exc}")
    order_id = fixtures.order("kinds_lines").entity_id
    try:
        rest.integration("GET", f"/orders/{order_id}")
    except MagentoCallError as exc:
        refused.append(f"Magento_Sales::actions_view: {exc}")
    assert not refused, "the Integration cannot make these reads:\n" + "\n".join(refused)


def test_oauth_signed_tap_reads_the_runs_orders(
    work: Workspace, rest: MagentoRest, fixtures: Fixtures
) -> None:
    """The four Integration keys sign every page (date filter included) as Magento checks."""
    run = work.tap(order_import_status="processing", order_follow_status="")
    ours = {r["entity_id"] for r in run.records() if r["entity_id"] in fixtures.entity_ids}
    expected = {i for i, o in our_orders(rest, fixtures).items() if o["status"] == "processing"}
    assert expected, "the run has no processing order to read"
    assert ours == expected


def test_bearer_token_alone_is_refused_naming_the_setting(work: Workspace) -> None:
    """A default 2.4.4+ store refuses the access token as a Bearer token; the tap says which
    admin setting decides it, and never prints the token."""
    run = work.tap(
        check=False,
        consumer_key=None,
        consumer_secret=None,
        access_token_secret=None,
        order_follow_status="",
    )
    assert run.returncode != 0, (
        "this store accepts the Integration's access token as a standalone Bearer token: its "
        f"admin set '{BEARER_SETTING}' to Yes. The contract proves a store with Magento's "
        "default (No); set it back to No for this suite (the plugins sign with OAuth 1.0a)."
    )
    assert "Allow OAuth Access Tokens to be used as standalone Bearer tokens" in run.stderr, (
        run.describe()
    )
    assert "401" in run.stderr
    assert work.store.oauth["access_token"] not in run.stderr + run.stdout
