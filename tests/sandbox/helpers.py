"""Small request helpers for the sandbox tests."""

from __future__ import annotations

from typing import Any

import requests

from magento2_sandbox import MagentoSandbox


def bearer(sb: MagentoSandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {sb.access_token}"}


def criteria(
    groups: list[list[tuple[str, str, str | None]]] | None = None,
    sort: list[tuple[str, str | None]] | None = None,
    page_size: int | None = None,
    current_page: int | None = None,
    *,
    snake: bool = False,
) -> list[tuple[str, str]]:
    """Build searchCriteria query pairs (camelCase keys, or snake_case with snake=True)."""
    fg, so, ps, cp = (
        ("filter_groups", "sort_orders", "page_size", "current_page")
        if snake
        else ("filterGroups", "sortOrders", "pageSize", "currentPage")
    )
    ct = "condition_type" if snake else "conditionType"
    pairs: list[tuple[str, str]] = []
    for g, group in enumerate(groups or []):
        for f, (field, value, cond) in enumerate(group):
            base = f"searchCriteria[{fg}][{g}][filters][{f}]"
            pairs += [(f"{base}[field]", field), (f"{base}[value]", value)]
            if cond is not None:
                pairs.append((f"{base}[{ct}]", cond))
    for i, (field, direction) in enumerate(sort or []):
        pairs.append((f"searchCriteria[{so}][{i}][field]", field))
        if direction is not None:
            pairs.append((f"searchCriteria[{so}][{i}][direction]", direction))
    if page_size is not None:
        pairs.append((f"searchCriteria[{ps}]", str(page_size)))
    if current_page is not None:
        pairs.append((f"searchCriteria[{cp}]", str(current_page)))
    if not pairs:
        pairs.append(("searchCriteria", ""))
    return pairs


def get_orders(sb: MagentoSandbox, pairs: list[tuple[str, str]], **kw: Any) -> requests.Response:
    return requests.get(
        f"{sb.base_url}/rest/V1/orders", params=pairs, headers=bearer(sb), timeout=30, **kw
    )


def search(sb: MagentoSandbox, *args: Any, **kwargs: Any) -> dict[str, Any]:
    resp = get_orders(sb, criteria(*args, **kwargs))
    assert resp.status_code == 200, resp.text
    return resp.json()


def ids(body: dict[str, Any]) -> list[int]:
    return [o["entity_id"] for o in body["items"]]
