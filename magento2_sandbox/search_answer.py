"""A searchResults answer over small in-memory rows (products, customers, source items).

Magento runs every list endpoint through the same searchCriteria machinery, so these
endpoints share it too: input limits, the query itself and the echoed criteria.
"""

from __future__ import annotations

from typing import Any

from .errors import MAX_PAGE_SIZE, MagentoError
from .query import run_rows_query
from .search_criteria import parse_php_query, parse_search_criteria


def search_answer(
    call: Any, rows: list[dict[str, Any]], columns: frozenset[str], *, hidden: str | None = None
) -> tuple[int, dict[str, Any]]:
    """HTTP status and body for a list request; ``hidden`` is a filter-only column to drop."""
    settings = call.app.settings
    criteria = parse_search_criteria(parse_php_query(call.pairs))
    if settings.input_limits:
        if criteria.page_size is not None and criteria.page_size > settings.max_page_size:
            raise MagentoError(400, MAX_PAGE_SIZE, {"max": settings.max_page_size})
        if criteria.page_size is None:
            criteria.page_size = settings.default_page_size
    items, total = run_rows_query(
        rows,
        criteria,
        columns,
        input_limits=settings.input_limits,
        default_page_size=settings.default_page_size,
        version=settings.magento_version,
    )
    if hidden is not None:
        for item in items:
            item.pop(hidden, None)
    return 200, {"items": items, "search_criteria": criteria.echo(), "total_count": total}
