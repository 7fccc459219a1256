"""Which Magento the contract suite runs against, and the small REST transport it uses.

A real store is chosen with the ``MAGENTO_CONTRACT_*`` environment variables (all of them);
without any, the suite starts a MagentoSandbox in-process. Everything else in the suite is
the same for both: the fixtures and every assertion go through ``MagentoRest`` and the
plugins' own executables, never through the sandbox's Python objects.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from magerest.auth import OAuth1Auth
from magerest.errors import parse_error_body

#: The variables that select a real store, in the order the README lists them.
ENV_NAMES = (
    "MAGENTO_CONTRACT_URL",
    "MAGENTO_CONTRACT_ADMIN_USER",
    "MAGENTO_CONTRACT_ADMIN_PASSWORD",
    "MAGENTO_CONTRACT_CONSUMER_KEY",
    "MAGENTO_CONTRACT_CONSUMER_SECRET",
    "MAGENTO_CONTRACT_ACCESS_TOKEN",
    "MAGENTO_CONTRACT_ACCESS_TOKEN_SECRET",
    "MAGENTO_CONTRACT_STORE_VIEWS",
)
SANDBOX_VIEWS = ("default", "de")
TIMEOUT_SECONDS = 60


class ContractSetupError(RuntimeError):
    """The store the suite was given cannot be used as it is; the message says why."""


@dataclass(frozen=True)
class ContractStore:
    """A Magento store to prove the plugins against: URL, admin account, Integration keys."""

    url: str
    admin_user: str
    admin_password: str = field(repr=False)
    oauth: Mapping[str, str] = field(repr=False)
    store_views: tuple[str, str]
    is_sandbox: bool

    def describe(self) -> str:
        views = ",".join(self.store_views)
        if self.is_sandbox:
            return f"the sandbox (MagentoSandbox in-process at {self.url}, store views {views})"
        return f"{self.url} store views {views}"


def requested_store(environ: Mapping[str, str] | None = None) -> ContractStore | None:
    """The real store the environment names, None for the sandbox.

    Raises:
        ContractSetupError: only some of the variables are set (names the missing ones),
            or MAGENTO_CONTRACT_STORE_VIEWS is not two codes.
    """
    env = os.environ if environ is None else environ
    present = [name for name in ENV_NAMES if env.get(name, "").strip()]
    if not present:
        return None
    missing = [name for name in ENV_NAMES if name not in present]
    if missing:
        raise ContractSetupError(
            "the contract suite needs all MAGENTO_CONTRACT_* variables to run against a real "
            f"store (or none, for the sandbox); set: {', '.join(present)}; missing: "
            f"{', '.join(missing)}"
        )
    views = tuple(v.strip() for v in env["MAGENTO_CONTRACT_STORE_VIEWS"].split(",") if v.strip())
    if len(views) != 2 or views[0] == views[1]:
        raise ContractSetupError(
            "MAGENTO_CONTRACT_STORE_VIEWS must be two different store view codes, e.g. "
            f"'default,de'; got {env['MAGENTO_CONTRACT_STORE_VIEWS']!r}"
        )
    return ContractStore(
        url=env["MAGENTO_CONTRACT_URL"].strip().rstrip("/"),
        admin_user=env["MAGENTO_CONTRACT_ADMIN_USER"],
        admin_password=env["MAGENTO_CONTRACT_ADMIN_PASSWORD"],
        oauth={
            "consumer_key": env["MAGENTO_CONTRACT_CONSUMER_KEY"],
            "consumer_secret": env["MAGENTO_CONTRACT_CONSUMER_SECRET"],
            "access_token": env["MAGENTO_CONTRACT_ACCESS_TOKEN"],
            "access_token_secret": env["MAGENTO_CONTRACT_ACCESS_TOKEN_SECRET"],
        },
        store_views=(views[0], views[1]),
        is_sandbox=False,
    )


def describe_target(environ: Mapping[str, str] | None = None) -> str:
    """One line for the pytest header: which Magento this run proves the plugins against."""
    try:
        store = requested_store(environ)
    except ContractSetupError as exc:
        return f"contract suite: cannot run ({exc})"
    if store is None:
        views = ",".join(SANDBOX_VIEWS)
        return f"contract suite against the sandbox (started in-process, store views {views})"
    return f"contract suite against {store.describe()}"


def run_prefix(now: datetime | None = None) -> str:
    """A prefix no earlier run used: ``ct-<UTC date>-<time>-<random>-``."""
    moment = now or datetime.now(UTC)
    return f"ct-{moment:%Y%m%d-%H%M}-{secrets.token_hex(2)}-"


class MagentoCallError(AssertionError):
    """A REST call of the suite failed; the message has the call, the status and Magento's words."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MagentoRest:
    """requests against one store: as its admin, as a guest shopper, or as the Integration.

    The Integration signs with the plugins' own OAuth1Auth; the admin sends its token as
    ``Authorization: Bearer`` (always accepted for admin tokens).
    """

    def __init__(self, store: ContractStore) -> None:
        self.store = store
        self.session = requests.Session()
        self.signer = OAuth1Auth(**store.oauth)
        self._admin_token: str | None = None
        self.last_date: datetime | None = None

    # -- callers ---------------------------------------------------------------------------
    def admin(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """A call with the admin token (fixtures and read-backs)."""
        headers = {"Authorization": f"Bearer {self.admin_token()}"}
        return self.call(method, path, body, headers=headers, who="admin", **kwargs)

    def guest(self, method: str, path: str, body: Any = None, *, view: str) -> Any:
        """A storefront call without credentials, under ``/rest/<view>/V1``."""
        return self.call(method, path, body, who="guest", view=view)

    def integration(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """A call signed with the Integration's four OAuth 1.0a keys (as the plugins sign)."""
        return self.call(method, path, body, auth=self.signer, who="integration", **kwargs)

    def admin_token(self) -> str:
        if self._admin_token is None:
            body = {"username": self.store.admin_user, "password": self.store.admin_password}
            try:
                token = self.call("POST", "/integration/admin/token", body, who="anonymous")
            except MagentoCallError as exc:
                raise ContractSetupError(
                    "the admin account cannot sign in (MAGENTO_CONTRACT_ADMIN_USER / "
                    f"MAGENTO_CONTRACT_ADMIN_PASSWORD): {exc}"
                ) from None
            if not isinstance(token, str) or not token:
                raise ContractSetupError(f"POST /V1/integration/admin/token answered {token!r}")
            self._admin_token = token
        return self._admin_token

    # -- transport ---------------------------------------------------------------------------
    def url(self, path: str, view: str | None = None) -> str:
        scope = f"/rest/{view}/V1" if view else "/rest/V1"
        return f"{self.store.url}{scope}{path}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        who: str,
        view: str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | None = None,
    ) -> Any:
        """One request; the decoded JSON answer, or MagentoCallError naming what failed."""
        where = f"{method} {'/rest/' + view if view else '/rest'}/V1{path}"
        try:
            response = self.session.request(
                method,
                self.url(path, view),
                params=params,
                json=body,
                headers=dict(headers or {}),
                auth=auth,
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise MagentoCallError(f"{who} {where}: no answer ({exc.__class__.__name__})") from None
        self._note_clock(response)
        if response.status_code >= 400:
            raise MagentoCallError(explain(who, where, response), response.status_code)
        try:
            return response.json()
        except ValueError:
            raise MagentoCallError(
                f"{who} {where} answered {response.status_code} with no JSON "
                f"({response.headers.get('Content-Type', 'no Content-Type')})"
            ) from None

    def _note_clock(self, response: requests.Response) -> None:
        stamp = response.headers.get("Date")
        if stamp:
            with contextlib.suppress(TypeError, ValueError):
                self.last_date = parsedate_to_datetime(stamp).astimezone(UTC)

    def server_now(self) -> datetime:
        """The store's clock (its last ``Date`` header), else the local one."""
        return self.last_date or datetime.now(UTC)

    # -- reading back -------------------------------------------------------------------------
    def search(self, path: str, field_name: str, values: list[Any] | tuple[Any, ...]) -> list[Any]:
        """Every row of a search endpoint (``/orders``, ``/shipments``...) whose field is in
        ``values``, read with the admin token."""
        if not values:
            return []
        prefix = "searchCriteria[filter_groups][0][filters][0]"
        params = {
            f"{prefix}[field]": field_name,
            f"{prefix}[value]": ",".join(str(v) for v in values),
            f"{prefix}[condition_type]": "in",
            "searchCriteria[pageSize]": 300,
            "searchCriteria[currentPage]": 1,
        }
        answer = self.admin("GET", path, params=params)
        items = answer.get("items") or []
        if int(answer.get("total_count") or 0) > len(items):
            raise MagentoCallError(f"GET {path}: more than 300 rows for {field_name} in {values}")
        return items


def explain(who: str, where: str, response: requests.Response) -> str:
    """The failed call, the status and Magento's message with placeholders filled in; a 401
    of the Integration names the ACL resource to grant."""
    magento = parse_error_body(response.text)
    said = magento.text if magento else response.text[:300].strip() or "(empty body)"
    text = f"{who} {where} answered {response.status_code}: {said}"
    if who == "integration" and response.status_code == 401 and magento is not None:
        resources = (magento.parameters or {}) if isinstance(magento.parameters, dict) else {}
        if resources.get("resources"):
            text += (
                f" -- the Integration lacks the ACL resource {resources['resources']}: grant it "
                "under System > Extensions > Integrations > API"
            )
    if response.status_code == 404 and magento and "does not match any route" in magento.text:
        text += " -- this store does not serve that call (is MAGENTO_CONTRACT_URL its base URL?)"
    return text
