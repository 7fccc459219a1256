"""The one stream the target loads, and what it says about the streams it does not.

Another tap may send Magento orders under another name (``sales_order``, ...). Ignored
quietly, such a run would store nothing, pass the tap's STATE on and exit 0, and the
orders would never be loaded once the bookmark moved past them. So every ignored stream
is named in a warning with the stream map that aliases it, and a run that gets no
``orders`` stream at all fails (unless ``allow_missing_orders_stream`` says it may).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from singer_sdk.exceptions import FatalSyncError

ORDERS_STREAM = "orders"
ALLOW_MISSING_SETTING = "allow_missing_orders_stream"


class NoOrdersStreamError(FatalSyncError):
    """The run received no ``orders`` stream; the message names what it received."""


def alias_example(stream: str) -> str:
    """The ``stream_maps`` setting that loads ``stream`` as the orders stream."""
    return json.dumps({"stream_maps": {stream: {"__alias__": ORDERS_STREAM}}})


def ignored_stream_warning(stream: str) -> str:
    """What the target logs, once, for a stream it does not load."""
    return (
        f"Ignoring stream '{stream}': target-dropstream loads only the stream named "
        f"'{ORDERS_STREAM}'. If '{stream}' holds Magento orders, alias it in the target's "
        f"(or the tap's) config: {alias_example(stream)}"
    )


def _received(ignored: Mapping[str, int]) -> str:
    if not ignored:
        return "none (the input held no SCHEMA message)"
    return ", ".join(
        f"'{name}' ({count} record{'' if count == 1 else 's'})" for name, count in ignored.items()
    )


def missing_orders_error(ignored: Mapping[str, int]) -> str:
    """Why a run without the orders stream fails, naming the streams it did receive."""
    alias = alias_example(next(iter(ignored), "sales_order"))
    return (
        f"No '{ORDERS_STREAM}' stream in this run, so nothing was loaded and no STATE is "
        f"passed on. Streams received: {_received(ignored)}. If one of them holds Magento "
        f"orders, alias it in the target's (or the tap's) config, e.g. {alias}; if the tap "
        f"sends no orders stream on purpose, set {ALLOW_MISSING_SETTING} to true."
    )


def missing_orders_note(ignored: Mapping[str, int]) -> str:
    """What a run without the orders stream logs when that is allowed."""
    return (
        f"No '{ORDERS_STREAM}' stream in this run ({ALLOW_MISSING_SETTING} is set). "
        f"Streams received: {_received(ignored)}."
    )
