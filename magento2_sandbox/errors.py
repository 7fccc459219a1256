"""Magento-shaped REST error bodies, so clients meet the same texts and statuses as on a real
store.

Magento keeps the raw message template (placeholders like ``%fieldName`` or ``%1`` unreplaced) and
sends the values separately in ``parameters``: an object for named placeholders, an array for
positional ones.
"""

from __future__ import annotations

import os
import time
from typing import Any

ROUTE_NOT_FOUND = "Request does not match any route."
ENTITY_NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
PRODUCT_NOT_FOUND = (
    "The product that was requested doesn't exist. Verify the product and try again."
)
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
FIELD_REQUIRED = '"%fieldName" is required. Enter and try again.'
MAX_PAGE_SIZE = "Maximum SearchCriteria pageSize is %max"
SORT_DIRECTION = (
    "The sort order has to be specified as %1 for ascending order or %2 for descending order."
)
SORT_FIELD_RESTRICTED = "Sort order field %1 contains restricted symbols"
INTERNAL_ERROR = "Internal Error. Details are available in Magento log file. Report ID: %s"
MULTIPLE_INPUT_ERRORS = "One or more input exceptions have occurred."


class MagentoError(Exception):
    """An error the sandbox answers with Magento's JSON error body and HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        parameters: dict[str, Any] | list[Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """Return the body in Magento's key order: message, errors, parameters."""
        out: dict[str, Any] = {"message": self.message}
        if self.errors:
            out["errors"] = self.errors
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def route_not_found() -> MagentoError:
    return MagentoError(404, ROUTE_NOT_FOUND)


def entity_not_found() -> MagentoError:
    return MagentoError(404, ENTITY_NOT_FOUND)


def product_not_found() -> MagentoError:
    return MagentoError(404, PRODUCT_NOT_FOUND)


def not_authorized(resource: str) -> MagentoError:
    return MagentoError(401, NOT_AUTHORIZED, {"resources": resource})


def field_required(field: str) -> MagentoError:
    return MagentoError(400, FIELD_REQUIRED, {"fieldName": field})


def input_errors(messages: list[tuple[str, dict[str, Any] | list[Any] | None]]) -> MagentoError:
    """Mimic Magento's aggregate InputException: one error is the message, several are listed."""
    if len(messages) == 1:
        message, params = messages[0]
        return MagentoError(400, message, params)
    errors = [{"message": m, "parameters": p or []} for m, p in messages]
    return MagentoError(400, MULTIPLE_INPUT_ERRORS, errors=errors)


def report_id() -> str:
    """Return an id shaped like PHP's ``uniqid("webapi-")`` (13 hex digits from the clock)."""
    now = time.time()
    sec = int(now)
    usec = int((now - sec) * 1_000_000) ^ (os.getpid() & 0xFFFF)
    return f"webapi-{sec:08x}{usec % 0x100000:05x}"


def internal_error() -> MagentoError:
    """Masked 500 of a production-mode store; the real cause only goes to the store's log."""
    return MagentoError(500, INTERNAL_ERROR % report_id())
