"""Parse ``searchCriteria`` query parameters and evaluate Magento filter conditions.

Parsing follows PHP: bracketed keys build nested arrays in arrival order, and property names are
matched to setters case-insensitively with underscores removed, so ``filter_groups`` and
``filterGroups`` both work. Conditions follow
``Magento\\Framework\\DB\\Adapter\\Pdo\\Mysql::prepareSqlCondition`` run by MySQL: unknown
condition types silently become ``eq``, ``in``/``nin`` split a string on ",", ``from``/``to`` are
inclusive, string comparisons are case-insensitive (MySQL's default collation) and NULL never
matches a comparison.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    SORT_DIRECTION,
    SORT_FIELD_RESTRICTED,
    MagentoError,
    field_required,
)

KNOWN_CONDITIONS = {
    "eq",
    "neq",
    "like",
    "nlike",
    "in",
    "nin",
    "is",
    "notnull",
    "null",
    "gt",
    "lt",
    "gteq",
    "lteq",
    "finset",
    "nfinset",
    "regexp",
    "from",
    "to",
    "seq",
    "sneq",
    "ntoa",
}
SORT_FIELD_OK = re.compile(r"^[a-z0-9_]+$", re.IGNORECASE)
INVALID_TYPE = (
    'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.'
)


@dataclass(frozen=True)
class Filter:
    field: str
    value: str
    condition_type: str | None  # as sent (echoed back); None when the client left it out

    @property
    def condition(self) -> str:
        """The condition Magento actually applies (missing or unknown -> eq)."""
        cond = (self.condition_type or "eq").lower()
        return cond if cond in KNOWN_CONDITIONS else "eq"

    def echo(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "value": self.value}
        if self.condition_type is not None:
            out["condition_type"] = self.condition_type
        return out


@dataclass(frozen=True)
class SortOrder:
    field: str
    direction: str | None  # normalised "ASC"/"DESC", None when not sent

    @property
    def ascending(self) -> bool:
        return self.direction == "ASC"

    def echo(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field}
        if self.direction is not None:
            out["direction"] = self.direction
        return out


@dataclass
class SearchCriteria:
    filter_groups: list[list[Filter]] = field(default_factory=list)
    sort_orders: list[SortOrder] | None = None
    page_size: int | None = None
    current_page: int | None = None

    def echo(self) -> dict[str, Any]:
        """The ``search_criteria`` object Magento returns (the deserialised input)."""
        out: dict[str, Any] = {
            "filter_groups": [
                {"filters": [f.echo() for f in group]} for group in self.filter_groups
            ]
        }
        if self.sort_orders is not None:
            out["sort_orders"] = [s.echo() for s in self.sort_orders]
        if self.page_size is not None:
            out["page_size"] = self.page_size
        if self.current_page is not None:
            out["current_page"] = self.current_page
        return out


def parse_php_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Build PHP's nested ``$_GET`` array from decoded query pairs (later keys win, order kept)."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        bracket = raw_key.find("[")
        if bracket <= 0:
            root[raw_key.replace(".", "_").replace(" ", "_")] = value
            continue
        base = raw_key[:bracket].replace(".", "_").replace(" ", "_")
        parts = re.findall(r"\[([^\]]*)\]", raw_key[bracket:])
        node: Any = root
        keys = [base, *parts]
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            if not isinstance(node, dict):
                break
            if key == "":
                key = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[key] = value
            else:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = {}
                    node[key] = child
                node = child
    return root


def _prop(name: str) -> str:
    """Map an input key to Magento's setter name space (underscores dropped, case-insensitive)."""
    return name.replace("_", "").lower()


def _props(node: Any) -> dict[str, Any]:
    if not isinstance(node, dict):
        return {}
    return {_prop(k): v for k, v in node.items()}


def _as_int(value: Any) -> int:
    text = value if isinstance(value, str) else None
    if text is None or not re.fullmatch(r"\s*[-+]?\d+\s*", text):
        raise MagentoError(400, INVALID_TYPE, {"value": _display(value), "type": "int"})
    return int(text)


def _display(value: Any) -> str:
    return value if isinstance(value, str) else "Array"


def _as_str(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(str(v) for v in value.values())
    return str(value)


def parse_search_criteria(query: dict[str, Any]) -> SearchCriteria:
    """Turn the parsed query into SearchCriteria, raising Magento's 400s for bad input."""
    if "searchCriteria" not in query:
        raise field_required("searchCriteria")
    props = _props(query["searchCriteria"])
    criteria = SearchCriteria()
    for group_node in _props_list(props.get("filtergroups")):
        filters: list[Filter] = []
        for filt in _props_list(_props(group_node).get("filters")):
            fp = _props(filt)
            cond = fp.get("conditiontype")
            filters.append(
                Filter(
                    field=_as_str(fp.get("field", "")),
                    value=_as_str(fp.get("value", "")),
                    condition_type=None if cond is None else _as_str(cond),
                )
            )
        criteria.filter_groups.append(filters)
    if "sortorders" in props:
        criteria.sort_orders = []
        for node in _props_list(props["sortorders"]):
            sp = _props(node)
            fld = _as_str(sp.get("field", ""))
            direction = sp.get("direction")
            norm: str | None = None
            if direction is not None:
                norm = _as_str(direction).upper()
                if norm not in ("ASC", "DESC"):
                    raise MagentoError(400, SORT_DIRECTION, ["ASC", "DESC"])
            if fld and not SORT_FIELD_OK.match(fld):
                raise MagentoError(400, SORT_FIELD_RESTRICTED, [fld])
            criteria.sort_orders.append(SortOrder(fld, norm))
    if "pagesize" in props:
        criteria.page_size = _as_int(props["pagesize"])
    if "currentpage" in props:
        criteria.current_page = _as_int(props["currentpage"])
    return criteria


def _props_list(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node.values())
    return []


# --- value-level condition evaluation -------------------------------------------------------------

_NUM_PREFIX = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def mysql_number(text: str) -> float:
    """Convert a string the way MySQL does in numeric context (leading number, else 0)."""
    m = _NUM_PREFIX.match(text)
    return float(m.group(0)) if m else 0.0


def like_regex(pattern: str) -> re.Pattern[str]:
    """Translate a SQL LIKE pattern (``%``, ``_``, backslash escapes) to an anchored regex."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


Predicate = Callable[[Any], bool]


class UnsupportedConditionError(Exception):
    """The condition makes the store's SQL fail (answered as a masked 500)."""


def value_predicate(condition: str, value: str, numeric: bool) -> Predicate:
    """Return a predicate over one column value (None = SQL NULL) for a Magento condition."""
    if condition == "null":
        return lambda v: v is None
    if condition == "notnull":
        return lambda v: v is not None
    if condition == "is":
        # "IS ?" gets a quoted string -> MySQL syntax error -> Magento masks it as a 500.
        raise UnsupportedConditionError("IS with a quoted value")
    if condition in ("seq", "sneq"):
        if value == "":
            return (lambda v: v is None) if condition == "seq" else (lambda v: v is not None)
        condition = "eq" if condition == "seq" else "neq"
    if condition in ("like", "nlike"):
        rx = like_regex(value)
        if condition == "like":
            return lambda v: v is not None and rx.match(_text(v)) is not None
        return lambda v: v is not None and rx.match(_text(v)) is None
    if condition == "regexp":
        try:
            rx2 = re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise UnsupportedConditionError("bad regexp") from exc
        return lambda v: v is not None and rx2.search(_text(v)) is not None
    if condition in ("finset", "nfinset"):
        needle = value.lower()
        if condition == "finset":
            return lambda v: v is not None and needle in _text(v).lower().split(",")
        return lambda v: v is not None and needle not in _text(v).lower().split(",")
    if condition in ("in", "nin"):
        parts = value.split(",")
        if numeric:
            nums = {mysql_number(p) for p in parts}
            if condition == "in":
                return lambda v: v is not None and float(v) in nums
            return lambda v: v is not None and float(v) not in nums
        texts = {p.lower() for p in parts}
        if condition == "in":
            return lambda v: v is not None and _text(v).lower() in texts
        return lambda v: v is not None and _text(v).lower() not in texts
    op = {
        "eq": "eq",
        "ntoa": "eq",
        "neq": "neq",
        "gt": "gt",
        "lt": "lt",
        "gteq": "ge",
        "from": "ge",
        "lteq": "le",
        "to": "le",
    }.get(condition, "eq")
    if numeric:
        target: Any = mysql_number(value)
        conv: Callable[[Any], Any] = float
    else:
        target = value.lower()
        conv = lambda v: _text(v).lower()  # noqa: E731
    return _compare(op, target, conv)


def _compare(op: str, target: Any, conv: Callable[[Any], Any]) -> Predicate:
    if op == "eq":
        return lambda v: v is not None and conv(v) == target
    if op == "neq":
        return lambda v: v is not None and conv(v) != target
    if op == "gt":
        return lambda v: v is not None and conv(v) > target
    if op == "lt":
        return lambda v: v is not None and conv(v) < target
    if op == "ge":
        return lambda v: v is not None and conv(v) >= target
    return lambda v: v is not None and conv(v) <= target


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
