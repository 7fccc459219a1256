"""Connection settings every Magento caller shares: the store URL, TLS, flags, status lists.

Each problem is reported as a sentence that names the setting, so a user can fix the
config without reading code. Nothing here talks to Magento.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_STATUSES = ("processing",)
OAUTH_SETTINGS = ("consumer_key", "consumer_secret", "access_token_secret")
ALLOW_INSECURE_HTTP = "allow_insecure_http"
CA_BUNDLE = "ca_bundle"

_REST_SUFFIX = re.compile(r"/rest(?:/(?P<code>[^/]+))?(?:/V1)?$", re.IGNORECASE)


def normalize_store_url(url: str) -> str:
    """Return the store's base URL in one canonical form, e.g. ``https://shop.example.com``.

    Trailing slashes go, a pasted ``/rest`` or ``/rest/V1`` suffix is removed, and a base
    ending in ``/index.php`` is kept (REST then lives at ``<base>/rest/...``).

    Raises:
        ValueError: naming ``store_url`` when the URL cannot be used.
    """
    if not isinstance(url, str) or not url.strip():
        msg = "store_url is empty: set it to the store's base URL, e.g. https://shop.example.com"
        raise ValueError(msg)
    text = url.strip()
    parts = urlsplit(text)
    if "@" in parts.netloc:
        # Not echoed: the text holds a password. Magento's REST API is authenticated by
        # the access token, which a URL's basic-auth credentials would collide with.
        msg = (
            "store_url must not contain a user name or password (user:password@host): "
            "give the bare base URL, e.g. https://shop.example.com"
        )
        raise ValueError(msg)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        msg = (
            f"store_url {text!r} needs a scheme and a host, "
            "e.g. https://shop.example.com (http:// or https://)"
        )
        raise ValueError(msg)
    if parts.query or parts.fragment:
        msg = f"store_url {text!r} must not contain a query string or fragment"
        raise ValueError(msg)
    path = parts.path.rstrip("/")
    suffix = _REST_SUFFIX.search(path)
    if suffix:
        code = suffix.group("code")
        if code and code.upper() != "V1":
            msg = (
                f"store_url {text!r} ends in a REST path with the store code {code!r}: "
                "set store_url to the store's base URL and the code in store_view_code"
            )
            raise ValueError(msg)
        path = path[: suffix.start()].rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, "", ""))


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): traffic stays local."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_transport(url: str, *, allow_insecure_http: bool = False) -> None:
    """Refuse a plain ``http://`` store URL unless it is loopback or explicitly allowed.

    Over plain HTTP the access token (or OAuth signature) and every customer's address
    cross the network readable by anyone on the way.

    Raises:
        ValueError: naming ``store_url`` and ``allow_insecure_http``.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or allow_insecure_http:
        return
    if is_loopback_host(parts.hostname):
        return
    msg = (
        f"store_url {url!r} uses plain http://, which would send the access token and "
        "customer data unencrypted: use https://, or set allow_insecure_http to true to "
        "accept that risk"
    )
    raise ValueError(msg)


def parse_flag(value: Any, name: str, *, default: bool = False) -> bool:
    """A boolean setting given as true/false (JSON) or "true"/"false" (environment).

    Raises:
        ValueError: naming the setting.
    """
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    msg = f"{name} must be true or false, got {value!r}"
    raise ValueError(msg)


def parse_ca_bundle(value: Any) -> str | None:
    """``ca_bundle``: a readable PEM file (or a directory of them) holding trusted CAs.

    Raises:
        ValueError: naming ``ca_bundle`` and the expected form.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    expected = "the path of a PEM file with the certificate authority that signed the store"
    if not isinstance(value, str):
        msg = f"ca_bundle must be {expected}, got {type(value).__name__}"
        raise ValueError(msg)
    path = os.path.expanduser(value.strip())
    if os.path.isdir(path):
        return path
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 20)
    except OSError as exc:
        msg = f"ca_bundle {value!r} cannot be read ({exc.strerror or exc.__class__.__name__}): "
        msg += f"expected {expected}"
        raise ValueError(msg) from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        msg = f"ca_bundle {value!r} holds no PEM certificate: expected {expected}"
        raise ValueError(msg)
    return path


def tls_verify(config: Mapping[str, Any]) -> str | bool:
    """What ``requests`` should verify certificates against: the CA bundle, else the defaults.

    Certificate verification is never turned off.
    """
    return parse_ca_bundle(config.get(CA_BUNDLE)) or True


def parse_statuses(value: Any, setting: str = "order_import_status") -> list[str]:
    """Return the order statuses to import from a string (``"a"`` or ``"a,b"``) or a list.

    Magento splits an ``in`` filter value on commas, so a status can never contain one.

    Raises:
        ValueError: naming ``setting`` when no usable status is given.
    """
    if value is None:
        return list(DEFAULT_STATUSES)
    statuses = status_list(value, setting)
    if not statuses:
        msg = f"{setting} is empty: give at least one Magento status, e.g. processing"
        raise ValueError(msg)
    return statuses


def status_list(value: Any, setting: str) -> list[str]:
    """A status, a comma list, a JSON array (as text) or a list of them, de-duplicated in order.

    Meltano and environment variables hand an array setting over as the text
    ``["processing","complete"]``; read as a comma list it would become two statuses that
    exist nowhere, and the run would quietly import nothing.

    Raises:
        ValueError: naming ``setting`` when the value is none of these, or asks for ``*``.
    """
    if isinstance(value, str) and value.strip().startswith("["):
        value = _json_status_array(value, setting)
    if isinstance(value, str):
        raw = value.split(",")
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        raw = [piece for v in value for piece in v.split(",")]
    else:
        msg = f"{setting} must be a status code or a list of status codes"
        raise ValueError(msg)
    statuses: list[str] = []
    for status in (s.strip() for s in raw):
        if status and status not in statuses:
            statuses.append(status)
    if any("*" in status for status in statuses):
        msg = (
            f"{setting} cannot be {value!r}: Magento has no status wildcard, an order "
            f"status filter with '*' matches no order. List the statuses instead, "
            f'e.g. ["processing","complete"]'
        )
        raise ValueError(msg)
    return statuses


def _json_status_array(text: str, setting: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        msg = (
            f"{setting} {text!r} starts like a JSON array but is not valid JSON: "
            'write ["processing","complete"] or processing,complete'
        )
        raise ValueError(msg) from None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    msg = f"{setting} must be a status code or a list of status codes, got {text!r}"
    raise ValueError(msg)
