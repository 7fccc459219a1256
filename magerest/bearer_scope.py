"""Say when Magento's Bearer setting differs between store views.

Magento reads "Allow OAuth Access Tokens to be used as standalone Bearer tokens" at store view
scope, for the store code in the URL: ``/rest/V1`` takes the default store view's value and
``/rest/<code>/V1`` that view's. An admin who set it on one store view only sees the tap (which
calls ``/rest/V1``) refused while notifications under ``/rest/<code>/V1`` pass, or the other way
round. After a refused Bearer GET, the same GET is sent once under the other scope; if Magento
accepts it there, the error says so instead of leaving the user to guess.
"""

from __future__ import annotations

import re

import requests

from magerest.errors import BEARER_SETTING

_REST_SCOPE = re.compile(r"/rest(?:/(?P<code>[A-Za-z0-9_]+))?/V1/")


def other_scope_url(url: str, store_view_code: str | None) -> str | None:
    """``/rest/V1/`` <-> ``/rest/<store_view_code>/V1/``; None when there is no other scope."""
    match = _REST_SCOPE.search(url)
    if match is None or not store_view_code:
        return None
    code = match.group("code")
    if code is None:
        replacement = f"/rest/{store_view_code}/V1/"
    elif code == store_view_code:
        replacement = "/rest/V1/"
    else:
        return None
    return url[: match.start()] + replacement + url[match.end() :]


def scope_note(
    session: requests.Session,
    refused: requests.PreparedRequest,
    store_view_code: str | None,
    *,
    timeout: float,
) -> str | None:
    """Re-send a refused Bearer GET under the other REST scope; a sentence when it passes there."""
    if refused.method != "GET" or not refused.url:
        return None
    other = other_scope_url(refused.url, store_view_code)
    if other is None:
        return None
    probe = refused.copy()
    probe.url = other
    try:
        answer = session.send(probe, timeout=timeout, allow_redirects=False)
    except requests.RequestException:
        return None
    if not answer.ok:
        return None
    here, there = _scope(refused.url), _scope(other)
    return (
        f" Magento accepted the same Bearer request under {there} but refused it under {here}: "
        f"{BEARER_SETTING} is read per store view and is Yes for one and No for the other. "
        "Set it at Default Config scope (or for every store view), or sign requests with "
        "OAuth 1.0a (consumer_key, consumer_secret, access_token_secret)."
    )


def _scope(url: str) -> str:
    match = _REST_SCOPE.search(url)
    return match.group(0).rstrip("/") if match else url
