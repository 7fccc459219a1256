"""The order list query narrows by the cheapest filter first and walks the smaller side; the
rows and their order must be exactly those of reading every filter from the full index."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from magento2_sandbox.clock import SandboxClock, format_ts
from magento2_sandbox.data import SandboxData
from magento2_sandbox.query import OrderQuery
from magento2_sandbox.search_criteria import Filter, SearchCriteria, SortOrder

ORDERS = 600
CONDITIONS = ("eq", "neq", "gt", "gteq", "lt", "lteq", "in", "nin", "from", "to")


@pytest.fixture(scope="module")
def data() -> SandboxData:
    clock = SandboxClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    return SandboxData(seed=7, order_count=ORDERS, clock=clock)


def _value(data: SandboxData, field: str, rng: random.Random) -> str:
    idx = data.index
    row = rng.randrange(ORDERS)
    if field == "entity_id":
        return str(row + 1)
    if field in ("updated_at", "created_at"):
        column = idx.updated if field == "updated_at" else idx.created
        return format_ts(column[row] + rng.choice((-1, 0, 0, 1)))
    if field == "status":
        return idx.status_names[idx.status[row]]
    if field == "store_id":
        return str(idx.store[row])
    return data.increment_id(row)


def _random_filter(data: SandboxData, rng: random.Random) -> Filter:
    field = rng.choice(("entity_id", "updated_at", "created_at", "status", "store_id"))
    condition = rng.choice(CONDITIONS)
    values = [_value(data, field, rng) for _ in range(3 if condition in ("in", "nin") else 1)]
    return Filter(field, ",".join(values), condition)


def _full_index_rows(query: OrderQuery, criteria: SearchCriteria) -> set[int]:
    """Every filter read from the whole index, groups AND-ed in the order sent."""
    rows = set(range(query.n))
    for group in criteria.filter_groups:
        hits: set[int] = set()
        for f in group:
            hits |= query._index_positions(f, f.field, None)
        rows &= hits
    return rows


def _built_above() -> list[int]:
    raise AssertionError("ordered() builds the sorted rows")


def test_narrowed_query_returns_the_full_index_answer(data: SandboxData) -> None:
    rng = random.Random(11)
    sort = [SortOrder("updated_at", "ASC"), SortOrder("entity_id", "ASC")]
    narrowed_sorts = 0
    for _ in range(400):
        groups = [
            [_random_filter(data, rng) for _ in range(rng.choice((1, 1, 2)))]
            for _ in range(rng.randint(1, 4))
        ]
        # from and to in one group are Magento's merged range; keep them apart here.
        groups = [g for g in groups if not {"from", "to"} <= {f.condition for f in g}]
        criteria = SearchCriteria(filter_groups=groups, sort_orders=sort, page_size=50)
        query = OrderQuery(data)
        rows = query.matches(criteria)
        expected = _full_index_rows(query, criteria) if groups else None
        assert rows == expected, groups
        ordered = list(query.ordered(criteria, rows))
        perm = data.sorted_positions((("updated_at", True), ("entity_id", True)), _built_above)
        assert ordered == (perm if rows is None else [p for p in perm if p in rows])
        narrowed_sorts += rows is not None and len(rows) * 8 < ORDERS
    assert narrowed_sorts > 20  # the few-rows sort was exercised
