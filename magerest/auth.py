"""Authenticate Magento REST requests with an Integration's credentials.

Two ways, both plain ``requests`` auth objects so the SDK streams and any
``requests.Session`` can use them:

* ``BearerAuth``: ``Authorization: Bearer <access token>``. Magento 2.4.4+ accepts an
  Integration token this way only when the admin allows it (see ``errors.BEARER_SETTING``).
* ``OAuth1Auth``: OAuth 1.0a with HMAC-SHA256 (the only method Magento supports), using
  the four Integration credentials. Every call signs afresh, so a retried request gets a
  new nonce and timestamp (Magento rejects a reused nonce with 401 ``nonce_used``).

  Magento builds the signature base string from the raw query string, decoding it with
  PHP's ``rawurldecode``: a ``+`` stays a plus. ``requests`` writes spaces as ``+`` while
  the signer reads them as spaces, so every query with a space (each ``updated_at``
  filter) was refused as "The signature is invalid". Queries therefore go out with
  spaces as ``%20`` (RFC 3986) and are signed as sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER
from requests_oauthlib import OAuth1

from magerest.connection import tls_verify
from magerest.http_session import WholeBodySession


class BearerAuth(requests.auth.AuthBase):
    """Send the Integration access token as a Bearer token."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(access_token=<hidden>)"


class OAuth1Auth(requests.auth.AuthBase):
    """Sign each request with OAuth 1.0a HMAC-SHA256 (Integration consumer + access token)."""

    signed = True

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        access_token: str,
        access_token_secret: str,
    ) -> None:
        _quiet_oauth_debug_logs()
        self._signer = OAuth1(
            client_key=consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=access_token,
            resource_owner_secret=access_token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # A retry hands us the already-signed request: drop the old header so the new
        # signature (fresh nonce and timestamp) is computed from the request alone.
        request.headers.pop("Authorization", None)
        request.url = rfc3986_query(request.url)
        signed: requests.PreparedRequest = self._signer(request)
        header = signed.headers.get("Authorization")
        if isinstance(header, bytes):  # requests-oauthlib hands back bytes
            signed.headers["Authorization"] = header.decode("ascii")
        return signed

    def __repr__(self) -> str:
        return "OAuth1Auth(<credentials hidden>)"


def rfc3986_query(url: str | None) -> str | None:
    """Write the query's spaces as ``%20``: Magento's OAuth check reads ``+`` as a plus.

    ``requests`` form-encodes ``params`` (space -> ``+``, a literal plus -> ``%2B``), so
    every ``+`` left in its query stands for a space.
    """
    if not url or "?" not in url:
        return url
    base, _, rest = url.partition("?")
    query, hash_mark, fragment = rest.partition("#")
    return f"{base}?{query.replace('+', '%20')}{hash_mark}{fragment}"


def _quiet_oauth_debug_logs() -> None:
    """oauthlib and requests-oauthlib print the access token and signatures at DEBUG."""
    for name in ("oauthlib", "requests_oauthlib"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


def is_signed(auth: requests.auth.AuthBase) -> bool:
    """True when ``auth`` signs requests with OAuth 1.0a."""
    return bool(getattr(auth, "signed", False))


def build_auth(
    access_token: str,
    *,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    access_token_secret: str | None = None,
) -> requests.auth.AuthBase:
    """OAuth 1.0a signing when all three extra credentials are given, else Bearer."""
    if consumer_key and consumer_secret and access_token_secret:
        return OAuth1Auth(
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
        )
    return BearerAuth(access_token)


def new_session(config: Mapping[str, Any]) -> requests.Session:
    """A session (``WholeBodySession``) that verifies TLS against ``ca_bundle`` when it is set.

    Verification is always on: without ``ca_bundle`` the system's trusted CAs are used,
    so a self-signed store certificate is refused.
    """
    session = WholeBodySession()
    session.verify = tls_verify(config)
    return session


def auth_from_config(config: Mapping[str, Any]) -> requests.auth.AuthBase:
    """``build_auth`` from tap settings."""
    return build_auth(
        config["access_token"],
        consumer_key=config.get("consumer_key"),
        consumer_secret=config.get("consumer_secret"),
        access_token_secret=config.get("access_token_secret"),
    )
