"""Refuse order statuses that match no order before the sync reads nothing and exits 0.

Magento accepts any text as a status filter and answers a misspelt one with no orders,
which a scheduled run reports as success. Statuses every store has are trusted as they
are; each other one is looked up once per run (``magerest.order_statuses``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import ConfigValidationError

from magerest.connection import parse_statuses
from magerest.order_statuses import is_built_in, status_count_params, unknown_status_message
from tap_magento2.failures import AccessDeniedError
from tap_magento2.settings import parse_follow_statuses

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_magento2.client import Magento2Stream


class UnknownStatusError(ConfigValidationError):
    """A configured order status is neither built in nor on any order of the store."""


def configured_statuses(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(setting, status) for every status the orders stream filters on."""
    pairs = [("order_import_status", s) for s in parse_statuses(config.get("order_import_status"))]
    follow = parse_follow_statuses(config.get("order_follow_status"))
    return pairs + [("order_follow_status", s) for s in follow]


def check_statuses(orders: Magento2Stream) -> None:
    """Raise UnknownStatusError naming each configured status that no order has.

    Sends one count per status that is not built in, none when all are. A refused count
    is left to the orders stream, which reports the refusal the way every stream does.
    """
    errors: list[str] = []
    counted: dict[str, int] = {}
    for setting, status in configured_statuses(orders.config):
        if is_built_in(status):
            continue
        if status not in counted:
            try:
                answer = orders.get_json(orders.path or "/V1/orders", status_count_params(status))
            except AccessDeniedError:
                return
            counted[status] = _total_count(answer)
        if counted[status] == 0:
            errors.append(unknown_status_message(setting, status))
    if errors:
        raise UnknownStatusError("; ".join(errors), errors=errors)


def _total_count(answer: Any) -> int:
    total = answer.get("total_count") if isinstance(answer, dict) else None
    if isinstance(total, bool) or not isinstance(total, int):
        return 1  # an answer we cannot read is no proof the status is wrong
    return total
