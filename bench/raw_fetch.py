"""The raw fetch limit: plain requests + json over the tap's pages and filters.

Same searchCriteria as the tap (status filter, keyset over (updated_at, entity_id), the
"before Magento's current second" bound), one JSON line per order on stdout. With
``--concurrency N`` the range after the first page is cut into time slices of about four
pages, fetched by N threads and written in order, as the tap does. Nothing else: no
Singer, no schema, no timestamp conversion. ``--parse-only`` writes nothing (requests +
``json.loads`` per page only: the floor ``bench.profile_tap`` compares the tap's CPU with).

    python -m bench.raw_fetch STORE_URL TOKEN --statuses a,b --page-size 100 --concurrency 4
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from itertools import pairwise
from typing import Any

import requests

FMT = "%Y-%m-%d %H:%M:%S"
PAGES_PER_SLICE = 4
MIN_PAGES_TO_SPLIT = 32


def params(statuses: str, page_size: int, groups: list[list[tuple[str, Any, str]]]) -> dict:
    out = {
        "searchCriteria[filter_groups][0][filters][0][field]": "status",
        "searchCriteria[filter_groups][0][filters][0][value]": statuses,
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "in",
    }
    for g, group in enumerate(groups, start=1):
        for f, (field, value, cond) in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            out[f"{prefix}[field]"] = field
            out[f"{prefix}[value]"] = str(value)
            out[f"{prefix}[condition_type]"] = cond
    out.update(
        {
            "searchCriteria[sortOrders][0][field]": "updated_at",
            "searchCriteria[sortOrders][0][direction]": "ASC",
            "searchCriteria[sortOrders][1][field]": "entity_id",
            "searchCriteria[sortOrders][1][direction]": "ASC",
            "searchCriteria[pageSize]": str(page_size),
            "searchCriteria[currentPage]": "1",
        }
    )
    return out


class Fetcher:
    def __init__(self, url: str, token: str, statuses: str, page_size: int) -> None:
        self.url = url.rstrip("/") + "/rest/V1/orders"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.statuses, self.page_size = statuses, page_size
        self.sessions: dict[int, requests.Session] = {}

    def get(self, groups: list) -> tuple[dict, str]:
        import threading

        session = self.sessions.setdefault(threading.get_ident(), requests.Session())
        response = session.get(
            self.url, params=params(self.statuses, self.page_size, groups), headers=self.headers
        )
        response.raise_for_status()
        second = parsedate_to_datetime(response.headers["Date"]).strftime(FMT)
        return response.json(), second

    def run_range(
        self,
        lower: str | None,
        after: tuple[str, int] | None,
        upper: str,
        emit: Any = None,
    ) -> list:
        """Every order of one range, keyset-paged (emitted page by page when ``emit``)."""
        items: list[dict] = []
        while True:
            groups: list = []
            if after is not None:
                groups += [
                    [("updated_at", after[0], "gteq")],
                    [("updated_at", after[0], "gt"), ("entity_id", after[1], "gt")],
                ]
            elif lower is not None:
                groups.append([("updated_at", lower, "gteq")])
            groups.append([("updated_at", upper, "lt")])
            page, _ = self.get(groups)
            batch = page.get("items") or []
            if emit is None:
                items.extend(batch)
            else:
                emit(batch)
            if not batch or len(batch) >= page["total_count"]:
                return items
            after = (batch[-1]["updated_at"], batch[-1]["entity_id"])


def epoch(text: str) -> int:
    return int(datetime.strptime(text, FMT).replace(tzinfo=UTC).timestamp())


def text(seconds: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)).strftime(FMT)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("store_url")
    parser.add_argument("token")
    parser.add_argument("--statuses", required=True)
    parser.add_argument("--start", default=None, help="Magento text, inclusive")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--parse-only", action="store_true", help="fetch and decode, write nothing")
    args = parser.parse_args()
    fetcher = Fetcher(args.store_url, args.token, args.statuses, args.page_size)
    out = sys.stdout

    def emit(items: list) -> None:
        if not args.parse_only:
            for item in items:
                out.write(json.dumps(item) + "\n")

    groups = [[("updated_at", args.start, "gteq")]] if args.start else []
    first, second = fetcher.get(groups)
    items = first.get("items") or []
    emit(items)
    if not items or len(items) >= first["total_count"]:
        return 0
    after = (items[-1]["updated_at"], items[-1]["entity_id"])
    pages = math.ceil((first["total_count"] - len(items)) / args.page_size)
    if args.concurrency <= 1 or pages <= MIN_PAGES_TO_SPLIT:
        ranges = [(None, after, second)]
    else:
        lo, hi = epoch(after[0]), epoch(second)
        parts = max(1, math.ceil(pages / PAGES_PER_SLICE))
        points = sorted({lo + math.ceil(j * (hi - lo) / parts) for j in range(1, parts)})
        points = [text(p) for p in points if lo < p < hi]
        bounds = [*points, second]
        ranges = [(None, after, bounds[0])]
        ranges += [(a, None, b) for a, b in pairwise(bounds)]
    if len(ranges) == 1:
        fetcher.run_range(*ranges[0], emit=emit)
    else:
        with ThreadPoolExecutor(max_workers=max(1, args.concurrency)) as pool:
            for chunk in pool.map(lambda r: fetcher.run_range(*r), ranges):
                emit(chunk)
    # The same last request the tap sends: what changed since the first answer.
    tail, _ = fetcher.get([[("updated_at", second, "gteq")], [("updated_at", second, "lt")]])
    emit(tail.get("items") or [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
