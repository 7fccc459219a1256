"""Evaluate searchCriteria against the order index, falling back to full order JSON for other
columns.

Index columns (entity_id, created_at, updated_at, status, state, store_id, increment_id) are
filtered and sorted without building orders; any other ``sales_order`` column is read from the
order JSON. A field that is not a ``sales_order`` column makes MySQL fail, which Magento answers
with a masked 500.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .clock import format_ts
from .errors import internal_error
from .search_criteria import (
    Filter,
    SearchCriteria,
    UnsupportedConditionError,
    value_predicate,
)
from .time_ranges import ts_intervals

if TYPE_CHECKING:
    from .data import SandboxData

SALES_ORDER_COLUMNS = frozenset(
    """
    entity_id state status coupon_code protect_code shipping_description is_virtual store_id
    customer_id base_discount_amount base_discount_canceled base_discount_invoiced
    base_discount_refunded base_grand_total base_shipping_amount base_shipping_canceled
    base_shipping_invoiced base_shipping_refunded base_shipping_tax_amount
    base_shipping_tax_refunded base_subtotal base_subtotal_canceled base_subtotal_invoiced
    base_subtotal_refunded base_tax_amount base_tax_canceled base_tax_invoiced base_tax_refunded
    base_to_global_rate base_to_order_rate base_total_canceled base_total_invoiced
    base_total_invoiced_cost base_total_offline_refunded base_total_online_refunded
    base_total_paid base_total_qty_ordered base_total_refunded discount_amount discount_canceled
    discount_invoiced discount_refunded grand_total shipping_amount shipping_canceled
    shipping_invoiced shipping_refunded shipping_tax_amount shipping_tax_refunded
    store_to_base_rate store_to_order_rate subtotal subtotal_canceled subtotal_invoiced
    subtotal_refunded tax_amount tax_canceled tax_invoiced tax_refunded total_canceled
    total_invoiced total_offline_refunded total_online_refunded total_paid total_qty_ordered
    total_refunded can_ship_partially can_ship_partially_item customer_is_guest
    customer_note_notify billing_address_id customer_group_id edit_increment email_sent
    send_email forced_shipment_with_invoice payment_auth_expiration quote_address_id quote_id
    shipping_address_id adjustment_negative adjustment_positive base_adjustment_negative
    base_adjustment_positive base_shipping_discount_amount base_subtotal_incl_tax base_total_due
    payment_authorization_amount shipping_discount_amount subtotal_incl_tax total_due weight
    customer_dob increment_id applied_rule_ids base_currency_code customer_email
    customer_firstname customer_lastname customer_middlename customer_prefix customer_suffix
    customer_taxvat discount_description ext_customer_id ext_order_id global_currency_code
    hold_before_state hold_before_status order_currency_code original_increment_id
    relation_child_id relation_child_real_id relation_parent_id relation_parent_real_id
    remote_ip shipping_method store_currency_code store_name x_forwarded_for customer_note
    created_at updated_at total_item_count customer_gender discount_tax_compensation_amount
    base_discount_tax_compensation_amount shipping_discount_tax_compensation_amount
    base_shipping_discount_tax_compensation_amnt discount_tax_compensation_invoiced
    base_discount_tax_compensation_invoiced discount_tax_compensation_refunded
    base_discount_tax_compensation_refunded shipping_incl_tax base_shipping_incl_tax
    coupon_rule_name gift_message_id paypal_ipn_customer_notified
    """.split()  # noqa: SIM905
)
INDEX_FIELDS = frozenset(
    {"entity_id", "created_at", "updated_at", "status", "state", "store_id", "increment_id"}
)


def column_value(order: dict[str, Any], field: str) -> Any:
    """A sales_order column's value as seen in the order JSON (None = NULL)."""
    if field == "shipping_method":
        try:
            return order["extension_attributes"]["shipping_assignments"][0]["shipping"]["method"]
        except (KeyError, IndexError, TypeError):
            return None
    value = order.get(field)
    return value if isinstance(value, (int, float, str)) or value is None else None


def _group_cost(group: Sequence[Filter]) -> int:
    """0: only time ranges; 1: only indexed columns; 2: a column read from the JSON."""
    if all(f.field in ("created_at", "updated_at") for f in group):
        return 0
    return 1 if all(f.field in INDEX_FIELDS for f in group) else 2


def _ranks(perm: list[int]) -> list[int]:
    """Each row's place in ``perm``."""
    rank = [0] * len(perm)
    for place, row in enumerate(perm):
        rank[row] = place
    return rank


class OrderQuery:
    """Runs one searchCriteria over a consistent snapshot (the caller holds the data lock)."""

    def __init__(self, data: SandboxData) -> None:
        self.data = data
        self.index = data.index
        self.n = len(data.index)

    # -- filtering ---------------------------------------------------------------------------
    def _predicate(self, f: Filter, numeric: bool) -> Callable[[Any], bool]:
        try:
            return value_predicate(f.condition, f.value, numeric)
        except UnsupportedConditionError as exc:
            raise internal_error() from exc

    def _index_positions(self, f: Filter, field: str, scope: set[int] | None) -> set[int]:
        """Rows of ``scope`` (None = every row) an indexed column's filter matches.

        Walks whichever is smaller, like a database choosing between its index and the rows
        already selected: ``scope`` row by row, or the index's rows that match.
        """
        idx = self.index
        if field == "entity_id":
            pred = self._predicate(f, numeric=True)
            rows = range(self.n) if scope is None else scope
            return {p for p in rows if pred(p + 1)}
        if field in ("status", "state", "store_id"):
            if field == "store_id":
                pred = self._predicate(f, numeric=True)
                allowed = {v for v in set(idx.store) if pred(v)}
                column, buckets = idx.store, self.data.buckets("store_id")
            else:
                pred = self._predicate(f, numeric=False)
                names = idx.status_names if field == "status" else idx.state_names
                allowed = {code for code, name in enumerate(names) if pred(name)}
                column = idx.status if field == "status" else idx.state
                buckets = self.data.buckets(field)
            indexed = sum(len(buckets.get(value, ())) for value in allowed)
            if scope is not None and len(scope) < indexed:
                return {p for p in scope if column[p] in allowed}
            out: set[int] = set()
            for value in allowed:
                out.update(buckets.get(value, ()))
            return out if scope is None else out & scope
        if field in ("created_at", "updated_at"):
            intervals = ts_intervals(f.condition, f.value)
            column = idx.created if field == "created_at" else idx.updated
            if intervals is None:
                pred = self._predicate(f, numeric=False)
                rows = range(self.n) if scope is None else scope
                return {p for p in rows if pred(format_ts(column[p]))}
            perm, keys = self.data.sorted_column(field)
            slices = [(bisect_left(keys, a), bisect_left(keys, b)) for a, b in intervals]
            if scope is not None and len(scope) < sum(hi - lo for lo, hi in slices):
                if len(intervals) == 1:
                    [(a, b)] = intervals
                    return {p for p in scope if a <= column[p] < b}
                return {p for p in scope if any(a <= column[p] < b for a, b in intervals)}
            out = set()
            for lo, hi in slices:
                out.update(perm[lo:hi])
            return out if scope is None else out & scope
        pred = self._predicate(f, numeric=False)  # increment_id
        inc = self.data.increment_id
        rows = range(self.n) if scope is None else scope
        return {p for p in rows if pred(inc(p))}

    def _json_positions(self, f: Filter, positions: Iterable[int]) -> set[int]:
        num = self._predicate(f, numeric=True)
        txt = self._predicate(f, numeric=False)
        out = set()
        for p in positions:
            v = column_value(self.data.order_json(p), f.field)
            ok = num(v) if isinstance(v, (int, float)) else txt(v)
            if ok:
                out.add(p)
        return out

    def _group(self, group: Sequence[Filter], candidates: set[int] | None) -> set[int]:
        fields = [f.field for f in group]
        for fld in fields:
            if fld not in SALES_ORDER_COLUMNS:
                raise internal_error()
        conds = {f.condition for f in group}
        if len(set(fields)) == 1 and "from" in conds and "to" in conds:
            # FilterProcessor merges one field's from+to in a group into a single range condition.
            lo = [f for f in group if f.condition == "from"][-1]
            hi = [f for f in group if f.condition == "to"][-1]
            a = self._group([lo], candidates)
            return a & self._group([hi], a)
        out: set[int] = set()
        scope = range(self.n) if candidates is None else candidates
        for f in group:
            if f.field in INDEX_FIELDS:
                out |= self._index_positions(f, f.field, candidates)
            else:
                out |= self._json_positions(f, scope)
        return out

    def matches(self, criteria: SearchCriteria) -> set[int] | None:
        """Positions matching all groups (None = every row)."""
        groups = [g for g in criteria.filter_groups if g]
        # Narrow first by what is cheap to look up (the row set is the same in any order):
        # time ranges (one bisect each), then the other indexed columns, then the JSON.
        groups.sort(key=_group_cost)
        candidates: set[int] | None = None
        for group in groups:
            candidates = self._group(group, candidates)
        return candidates

    # -- sorting and paging ------------------------------------------------------------------
    def _sort_key(self, field: str) -> Callable[[int], Any]:
        idx = self.index
        if field == "entity_id":
            return lambda p: p
        if field == "created_at":
            return idx.created.__getitem__
        if field == "updated_at":
            return idx.updated.__getitem__
        if field == "store_id":
            return idx.store.__getitem__
        if field == "status":
            return lambda p: idx.status_names[idx.status[p]].lower()
        if field == "state":
            return lambda p: idx.state_names[idx.state[p]].lower()
        if field == "increment_id":
            return lambda p: self.data.increment_id(p).lower()

        def json_key(p: int) -> tuple[int, Any]:
            v = column_value(self.data.order_json(p), field)
            if v is None:
                return (0, 0)
            return (1, v.lower()) if isinstance(v, str) else (2, v)

        return json_key

    def ordered(self, criteria: SearchCriteria, cand: set[int] | None) -> Iterable[int]:
        sort = list(criteria.sort_orders or [])
        for s in sort:
            if s.field not in SALES_ORDER_COLUMNS:
                raise internal_error()
        if not sort:
            return range(self.n) if cand is None else sorted(cand)
        spec = tuple((s.field, s.ascending) for s in sort)
        if all(s.field in INDEX_FIELDS for s in sort):
            perm = self.data.sorted_positions(spec, lambda: self._sort(range(self.n), spec))
            if cand is None:
                return perm
            if len(cand) * 8 < self.n:  # a few rows: sort them by their place in ``perm``
                rank = self.data.sorted_ranks(spec, lambda: _ranks(perm))
                return sorted(cand, key=rank.__getitem__)
            return (p for p in perm if p in cand)
        return self._sort(range(self.n) if cand is None else sorted(cand), spec)

    def _sort(self, positions: Iterable[int], spec: tuple[tuple[str, bool], ...]) -> list[int]:
        # MySQL gives no order among rows that tie on every sort field, so neither do we:
        # start from a scrambled (but deterministic) order, so only a full sort is stable.
        out = sorted(positions, key=_scrambled)
        for field, asc in reversed(spec):
            out.sort(key=self._sort_key(field), reverse=not asc)
        return out

    def run(
        self, criteria: SearchCriteria, *, input_limits: bool, default_page_size: int, version: str
    ) -> tuple[list[int], int]:
        cand = self.matches(criteria)
        total = self.n if cand is None else len(cand)
        size = criteria.page_size
        if size is None and input_limits:
            size = default_page_size
        page = criteria.current_page or 1
        page = max(page, 1)
        ordered = self.ordered(criteria, cand)
        if not size or size < 0:
            return list(ordered), total
        offset = (page - 1) * size
        if offset >= total:
            if version.startswith("2.3") and total:
                offset = (math.ceil(total / size) - 1) * size
            else:
                return [], total
        out: list[int] = []
        for i, p in enumerate(ordered):
            if i >= offset:
                out.append(p)
                if len(out) >= size:
                    break
        return out, total


SALES_SHIPMENT_COLUMNS = frozenset(
    """
    entity_id store_id total_weight total_qty email_sent send_email order_id customer_id
    shipping_address_id billing_address_id shipment_status increment_id created_at updated_at
    packages shipping_label customer_note customer_note_notify
    """.split()  # noqa: SIM905
)


def run_rows_query(
    rows: list[dict[str, Any]],
    criteria: SearchCriteria,
    columns: frozenset[str],
    *,
    input_limits: bool,
    default_page_size: int,
    version: str,
) -> tuple[list[dict[str, Any]], int]:
    """Evaluate searchCriteria over small in-memory rows (shipments) with the same semantics."""

    def predicate(f: Filter) -> Callable[[dict[str, Any]], bool]:
        if f.field not in columns:
            raise internal_error()
        try:
            num = value_predicate(f.condition, f.value, True)
            txt = value_predicate(f.condition, f.value, False)
        except UnsupportedConditionError as exc:
            raise internal_error() from exc

        def test(row: dict[str, Any]) -> bool:
            v = column_value(row, f.field)
            return num(v) if isinstance(v, (int, float)) else txt(v)

        return test

    hits = list(rows)
    for group in criteria.filter_groups:
        if group:
            tests = [predicate(f) for f in group]
            hits = [r for r in hits if any(t(r) for t in tests)]
    for s in reversed(criteria.sort_orders or []):
        if s.field not in columns:
            raise internal_error()

        def key(row: dict[str, Any], field: str = s.field) -> tuple[int, Any]:
            v = column_value(row, field)
            if v is None:
                return (0, 0)
            return (1, v.lower()) if isinstance(v, str) else (2, v)

        hits.sort(key=key, reverse=not s.ascending)
    total = len(hits)
    size = criteria.page_size
    if size is None and input_limits:
        size = default_page_size
    if not size or size < 0:
        return hits, total
    page = max(criteria.current_page or 1, 1)
    offset = (page - 1) * size
    if offset >= total:
        if not (version.startswith("2.3") and total):
            return [], total
        offset = (math.ceil(total / size) - 1) * size
    return hits[offset : offset + size], total


def _scrambled(position: int) -> int:
    """A fixed pseudo-random rank per row (multiplicative hash), for tie order."""
    return (position * 2654435761) % 4294967296
