"""``magento2-sandbox``: serve a seeded Magento 2 REST sandbox on 127.0.0.1 until interrupted."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from importlib import metadata
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


def parse_store_flag(spec: str) -> tuple[str, bool]:
    """``CODE=yes|no``, e.g. ``de=yes``."""
    code, _, value = spec.strip().partition("=")
    if not code or value.lower() not in ("yes", "no"):
        raise argparse.ArgumentTypeError(f"bad --bearer-store-view {spec!r}: expected CODE=yes|no")
    return code, value.lower() == "yes"


def program_version() -> str:
    """The project's version, read from the development distribution that ships the sandbox."""
    try:
        return metadata.version("magento2-dropstream")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="magento2-sandbox",
        description="Local Magento 2 REST API with seeded orders (loopback only).",
    )
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--orders", type=int, default=300, help="number of seeded orders")
    p.add_argument("--seed", default="1", help="seed for deterministic data")
    p.add_argument("--version", action="version", version=f"%(prog)s {program_version()}")
    p.add_argument(
        "--magento-version",
        dest="magento_version",
        choices=["2.3", "2.4"],
        default="2.4",
        help="paging behaviour past the last page (2.3 repeats it, 2.4 returns [])",
    )
    p.add_argument(
        "--bearer",
        action="store_true",
        help="accept the integration token as a Bearer token (off by default, as on an untouched "
        "2.4.4+ store); OAuth 1.0a always works",
    )
    p.add_argument(
        "--bearer-store-view",
        action="append",
        type=parse_store_flag,
        default=[],
        metavar="CODE=yes|no",
        help="the Bearer setting for one store view only (Magento reads it per store view)",
    )
    p.add_argument(
        "--input-limits",
        action="store_true",
        help="Web API input limits on: pageSize capped (off by default, as on a new store)",
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
    p.add_argument(
        "--ship-commit-delay-seconds",
        type=float,
        default=0,
        metavar="SECONDS",
        help="ship requests (POST /V1/order/ID/ship, /V1/shipment) lose their answer (the "
        "connection drops) and commit SECONDS later, or when the next ship request of the "
        "same order arrives (Magento's order lock); 0 = off",
    )
    p.add_argument(
        "--admin-user",
        default="admin",
        help="user name of the admin account (POST /V1/integration/admin/token)",
    )
    p.add_argument(
        "--admin-password",
        default="magento-sandbox-1",
        help="password of the admin account (never printed)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    seed: int | str = int(args.seed) if args.seed.isdigit() else args.seed
    sandbox = MagentoSandbox(
        order_count=args.orders,
        seed=seed,
        magento_version=args.magento_version,
        bearer_enabled=args.bearer,
        bearer_by_store_view=dict(args.bearer_store_view),
        input_limits=args.input_limits,
        latency_ms=args.latency_ms,
        latency_per_order_ms=args.latency_per_order_ms,
        port=args.port,
        ship_commit_delay=args.ship_commit_delay_seconds,
        admin_user=args.admin_user,
        admin_password=args.admin_password,
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
    keys = sandbox.oauth
    bearer = "Bearer accepted" if args.bearer else "Bearer refused (OAuth 1.0a only)"
    print(  # noqa: T201
        f"Magento sandbox at {sandbox.base_url} (REST {sandbox.base_url}/rest/V1; {bearer}) "
        f"consumer_key={keys.consumer_key} consumer_secret={keys.consumer_secret} "
        f"access_token={keys.access_token} access_token_secret={keys.access_token_secret}",
        flush=True,
    )
    while not done.wait(0.5):
        pass
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
