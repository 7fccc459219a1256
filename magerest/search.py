"""Magento's searchCriteria: building the query parameters and reading the answers.

``GET /V1/<entity>?searchCriteria[...]`` is how every Magento list endpoint is searched:
filters inside a filter group are OR-ed, groups are AND-ed, sort orders apply in turn.
Answers are ``{"items": [...], "search_criteria": {...}, "total_count": n}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import requests

Filter = tuple[str, Any, str]  # (field, value, condition_type)


def search_criteria_params(
    filter_groups: Iterable[Sequence[Filter]],
    *,
    sort: Iterable[tuple[str, str]] = (),
    page_size: int | None = None,
    current_page: int | None = None,
) -> dict[str, str]:
    """Build ``searchCriteria[...]`` query parameters (a dict for ``requests`` to encode).

    Always spell out the sort direction: Magento sorts DESC when it is missing.
    """
    params: dict[str, str] = {}
    group_index = 0
    for group in filter_groups:
        if not group:
            continue
        for filter_index, (field, value, condition) in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{group_index}][filters][{filter_index}]"
            params[f"{prefix}[field]"] = field
            params[f"{prefix}[value]"] = str(value)
            params[f"{prefix}[condition_type]"] = condition
        group_index += 1
    for index, (field, direction) in enumerate(sort):
        params[f"searchCriteria[sortOrders][{index}][field]"] = field
        params[f"searchCriteria[sortOrders][{index}][direction]"] = direction
    if page_size is not None:
        params["searchCriteria[pageSize]"] = str(page_size)
    if current_page is not None:
        params["searchCriteria[currentPage]"] = str(current_page)
    if not params:
        params["searchCriteria"] = ""  # required by getList; empty means "everything"
    return params


@dataclass(frozen=True)
class SearchPage:
    """One decoded ``searchResults`` answer."""

    items: list[dict[str, Any]]
    total_count: int


def read_search_page(payload: Any) -> SearchPage:
    """Check the ``{"items": [...], "total_count": n}`` shape; raise ValueError if wrong."""
    if not isinstance(payload, dict):
        msg = f"expected a JSON object with items and total_count, got {type(payload).__name__}"
        raise ValueError(msg)
    items, total = payload.get("items"), payload.get("total_count")
    if items is None and total == 0:
        items = []  # some versions omit items when nothing matches
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        msg = "expected 'items' to be a list of objects"
        raise ValueError(msg)
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        msg = "expected 'total_count' to be a non-negative integer"
        raise ValueError(msg)
    return SearchPage(items=items, total_count=total)


_JSON_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def decode_json(response: requests.Response) -> Any:
    """Decode a JSON body (numbers with decimals as Decimal, to keep money exact).

    msgspec decodes UTF-8 bodies several times faster than ``json``; anything it refuses
    (another charset, NaN literals, invalid JSON) goes through ``json`` so the result and
    the errors stay what ``json.loads`` gives.
    """
    try:
        return _JSON_DECODER.decode(response.content)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return json.loads(response.text, parse_float=Decimal)
