"""``magento2-sandbox``: serve a seeded Magento 2 REST sandbox on 127.0.0.1 until interrupted."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from typing import Any

from . import MagentoSandbox

FAULT_SPEC = re.compile(
    r"^(?:(?P<method>[A-Z]+) )?(?P<path>/[^=]+)=(?P<status>\d{3})(?:x(?P<n>\d+))?$"
)


def parse_fault(spec: str) -> dict[str, Any]:
    """``[METHOD ]PATH=STATUS[xN]``, e.g. ``/V1/orders=503x2``."""
    m = FAULT_SPEC.match(spec.strip())
    if not m:
        raise argparse.ArgumentTypeError(
            f"bad --fault {spec!r}: expected PATH=STATUS[xN], e.g. /V1/orders=503x2"
        )
    return {
        "path": m["path"],
        "method": m["method"] or "GET",
        "status": int(m["status"]),
        "times": int(m["n"] or 1),
    }


POISON_SPEC = re.compile(r"^(?P<id>\d+)(?P<get>:get)?$")


def parse_poison(spec: str) -> tuple[int, bool]:
    """``ID[:get]``: order ID breaks every list page; ``:get`` breaks its per-id GET too."""
    m = POISON_SPEC.match(spec.strip())
    if not m:
        raise argparse.ArgumentTypeError(
            f"bad --poison-order {spec!r}: expected ENTITY_ID or ENTITY_ID:get, e.g. 42:get"
        )
    return int(m["id"]), bool(m["get"])


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="magento2-sandbox",
        description="Local Magento 2 REST API with seeded orders (loopback only).",
    )
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--orders", type=int, default=300, help="number of seeded orders")
    p.add_argument("--seed", default="1", help="seed for deterministic data")
    p.add_argument(
        "--version",
        dest="magento_version",
        choices=["2.3", "2.4"],
        default="2.4",
        help="paging behaviour past the last page (2.3 repeats it, 2.4 returns [])",
    )
    p.add_argument(
        "--no-bearer",
        action="store_true",
        help="reject the integration token as Bearer (2.4.4+ default); OAuth still works",
    )
    p.add_argument(
        "--no-input-limits",
        action="store_true",
        help="Web API input limits off: no pageSize cap, omitted pageSize = all rows",
    )
    p.add_argument("--latency-ms", type=float, default=0, help="added to every orders request")
    p.add_argument(
        "--latency-per-order-ms", type=float, default=0, help="added per order on the returned page"
    )
    p.add_argument(
        "--fault",
        action="append",
        type=parse_fault,
        default=[],
        metavar="PATH=STATUS[xN]",
        help="answer N requests to PATH with STATUS",
    )
    p.add_argument(
        "--poison-order",
        action="append",
        type=parse_poison,
        default=[],
        metavar="ID[:get]",
        help="orders list pages holding order ID answer a masked HTTP 500 (Magento cannot "
        "load it); with :get, GET /V1/orders/ID fails too",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    seed: int | str = int(args.seed) if args.seed.isdigit() else args.seed
    sandbox = MagentoSandbox(
        order_count=args.orders,
        seed=seed,
        magento_version=args.magento_version,
        bearer_enabled=not args.no_bearer,
        input_limits=not args.no_input_limits,
        latency_ms=args.latency_ms,
        latency_per_order_ms=args.latency_per_order_ms,
        port=args.port,
    )
    for fault in args.fault:
        sandbox.faults.add(**fault)
    for entity_id, get_fails in args.poison_order:
        sandbox.faults.poison_order(entity_id, get_fails=get_fails)
    done = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        sandbox.start()
    except OSError as exc:
        print(f"magento2-sandbox: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    print(  # noqa: T201
        f"Magento sandbox at {sandbox.base_url} (REST {sandbox.base_url}/rest/V1) "
        f"access_token={sandbox.access_token}",
        flush=True,
    )
    while not done.wait(0.5):
        pass
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
