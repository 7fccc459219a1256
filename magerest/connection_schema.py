"""The connection settings as one JSON-schema fragment that both plugins' config schemas extend.

Both plugins reach the same store with the same credentials, so these settings are
described once: a user reads the same words in ``--about``, in the README tables and in
``meltano.yml`` whichever plugin they configure. Plain JSON Schema (draft 7); no Singer here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from magerest.connection import DEFAULT_STATUSES

_STRING = {"type": ["string"]}
_SECRET = {"type": ["string"], "secret": True, "writeOnly": True}
#: A status, or a list of them (also for plugin settings that take statuses). A type list,
#: not ``anyOf``: singer-sdk appends a bare ``"null"`` to an optional ``anyOf``, which
#: is not JSON Schema.
STATUS_LIST_SCHEMA = {"type": ["string", "array"], "items": {"type": "string"}}

#: Every connection setting, in the order the plugins list them.
CONNECTION_PROPERTIES: dict[str, dict[str, Any]] = {
    "store_url": {
        **_STRING,
        "description": (
            "Base URL of the store, e.g. https://shop.example.com (or "
            "https://shop.example.com/index.php); REST lives at <store_url>/rest/V1"
        ),
    },
    "access_token": {
        **_SECRET,
        "description": (
            "Integration access token (System > Extensions > Integrations); signed with "
            "OAuth 1.0a when consumer_key, consumer_secret and access_token_secret are set, "
            "else sent as 'Authorization: Bearer' (which Magento 2.4.4+ refuses unless the "
            "store allows it)"
        ),
    },
    "consumer_key": {
        **_SECRET,
        "description": "Integration consumer key (OAuth 1.0a signing, HMAC-SHA256)",
    },
    "consumer_secret": {
        **_SECRET,
        "description": "Integration consumer secret (OAuth 1.0a signing)",
    },
    "access_token_secret": {
        **_SECRET,
        "description": "Integration access token secret (OAuth 1.0a signing)",
    },
    "order_import_status": {
        **STATUS_LIST_SCHEMA,
        "type": [*STATUS_LIST_SCHEMA["type"], "null"],  # null: the default
        "default": DEFAULT_STATUSES[0],
        "description": (
            "Magento order status(es) to fulfil, a status or a list: the tap imports orders "
            "with one of them, the target releases an order only while it still has one"
        ),
    },
    "ca_bundle": {
        **_STRING,
        "description": (
            "Path of a PEM file with the certificate authority that signed the store's "
            "TLS certificate (a private CA or a self-signed certificate); certificates "
            "are always verified, by default against the system's trusted CAs"
        ),
    },
    "allow_insecure_http": {
        "type": ["boolean", "null"],
        "default": False,
        "description": (
            "Accept a plain http:// store_url that is not loopback (the access token "
            "and customer data then travel unencrypted); off by default"
        ),
    },
}


def with_connection_settings(
    plugin_schema: Mapping[str, Any], *, required: Iterable[str] = ()
) -> dict[str, Any]:
    """``plugin_schema`` (an object schema) with the connection settings listed before its own.

    ``required`` names the connection settings this plugin cannot run without. A plugin
    property of the same name would silently shadow the shared words, so it is refused.
    """
    schema = copy.deepcopy(dict(plugin_schema))
    own = schema.setdefault("properties", {})
    shared = sorted(set(own) & set(CONNECTION_PROPERTIES))
    if shared:
        msg = f"described in magerest.connection_schema already: {', '.join(shared)}"
        raise ValueError(msg)
    schema["properties"] = {**copy.deepcopy(CONNECTION_PROPERTIES), **own}
    needed = [name for name in required if name not in schema.get("required", [])]
    unknown = [name for name in needed if name not in CONNECTION_PROPERTIES]
    if unknown:
        msg = f"not connection settings: {', '.join(unknown)}"
        raise ValueError(msg)
    if needed:
        schema["required"] = [*schema.get("required", []), *needed]
    return schema


def repair_bare_nulls(schema: Any) -> None:
    """Turn each bare ``"null"`` inside an ``anyOf``/``oneOf`` into ``{"type": "null"}``, in place.

    singer-sdk builds some optional settings (its own ``stream_maps`` among them) that way;
    a bare string is not a schema, and jsonschema then crashes with ``AttributeError``
    on a wrong value instead of naming the setting.
    """
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("anyOf", "oneOf") and isinstance(value, list):
                schema[key] = [{"type": "null"} if part == "null" else part for part in value]
            repair_bare_nulls(schema[key])
    elif isinstance(schema, list):
        for part in schema:
            repair_bare_nulls(part)
