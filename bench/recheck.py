"""``python -m bench.recheck``: what reading open orders back from Magento costs per run.

The end of every target run reads ready and partially shipped orders back (address, item
quantities, status), one ``GET /V1/orders`` per ``recheck_page_size`` orders. This loads N
open (ready) orders into a SQLite store, then times one re-check of all of them
(``recheck_interval_minutes`` 0) against a sandbox with the same latency model as
``make bench`` (50 ms per request + 1 ms per order on the page), and prints the requests
and seconds per run, e.g. 10,000 open orders at page 100: 100 requests.

    python -m bench.recheck --orders 10000 --page-size 100
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from magento2_sandbox import MagentoSandbox
from target_dropstream.models import Order
from target_dropstream.release import load_policy, release_due_orders
from target_dropstream.rules import shippable_lines
from target_dropstream.settings import TargetSettings
from target_dropstream.store import FulfillmentStore

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def open_orders(sb: MagentoSandbox, count: int) -> list[Order]:
    """``count`` processing orders of the sandbox as the target loads them."""
    found = []
    for record in sb.data.matching(statuses=["processing"]):
        order = Order.from_magento(record)
        if shippable_lines(order.items, include_bundle_parent=False)[0]:
            found.append(order)  # ready once loaded (not skipped)
        if len(found) == count:
            break
    if len(found) < count:
        msg = f"the sandbox has {len(found)} processing orders, fewer than {count}"
        raise SystemExit(msg)
    return found


def measure(orders: int, page_size: int, latency_ms: float, per_order_ms: float) -> dict:
    """One re-check of ``orders`` open orders: requests, seconds, orders re-checked."""
    # About a quarter of the seeded orders are processing: seed enough of them.
    with (
        MagentoSandbox(order_count=orders * 4 + 200, seed=7, now=NOW) as sb,
        tempfile.TemporaryDirectory() as tmp,
    ):
        settings = TargetSettings.from_config(
            {
                "database_url": f"sqlite:///{Path(tmp) / 'bench.db'}",
                "store_url": sb.base_url,
                "access_token": sb.oauth.access_token,
                "consumer_key": sb.oauth.consumer_key,
                "consumer_secret": sb.oauth.consumer_secret,
                "access_token_secret": sb.oauth.access_token_secret,
                "recheck_interval_minutes": 0,
                "recheck_page_size": page_size,
            }
        )
        store = FulfillmentStore.open(settings.database_url, now=NOW)
        try:
            store.orders.save_batch(
                open_orders(sb, orders), [], policy=load_policy(settings), now=NOW
            )
            sb.settings.latency_ms = latency_ms
            sb.settings.latency_per_order_ms = per_order_ms
            sb.clear_requests()
            started = time.perf_counter()
            report = release_due_orders(store, settings, now=NOW)
            seconds = time.perf_counter() - started
        finally:
            store.close()
        made = sum(1 for r in sb.requests if r.method == "GET" and r.route == "/V1/orders")
    if report.errors:
        raise SystemExit(f"re-check failed: {report.errors}")
    return {"orders": report.rechecked, "requests": made, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000, help="open orders (default 10000)")
    parser.add_argument("--page-size", type=int, default=100, help="recheck_page_size")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--latency-per-order-ms", type=float, default=1.0)
    args = parser.parse_args(argv)
    result = measure(args.orders, args.page_size, args.latency_ms, args.latency_per_order_ms)
    expected = math.ceil(args.orders / args.page_size)
    sys.stdout.write(
        f"re-check of {result['orders']} open orders at page {args.page_size}: "
        f"{result['requests']} request(s) (ceil(N/page) = {expected}), "
        f"{result['seconds']:.1f} s per run "
        f"(sandbox latency {args.latency_ms:g} ms/request + {args.latency_per_order_ms:g} "
        "ms/order)\n"
    )
    return 0 if result["requests"] == expected else 1


if __name__ == "__main__":
    sys.exit(main())
