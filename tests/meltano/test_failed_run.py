"""A run that dies half way (Magento answers 503 until the tap gives up).

The run must fail loudly, must not wipe the saved bookmark, and the bookmark must never
pass an order the fulfillment store did not commit; the next good run then delivers
everything exactly once.

The tap retries each failing request 5 times with backoff (about 15 s in all), which is
most of this test's run time.
"""

from __future__ import annotations

from magento2_sandbox import MagentoSandbox, RequestInfo
from tests.meltano.meltano_project import MeltanoProject, orders_state
from tests.meltano.observe import (
    LOOKBACK,
    PIPELINE,
    assert_store_matches,
    newest_streamed,
    order_ids,
    paid_orders,
    parse_time,
    read_store,
)

PAGE_SIZE = 20


def fail_orders_after_first_page(sandbox: MagentoSandbox) -> None:
    """From the second orders request on, answer 503 (more often than the tap retries)."""
    seen = 0

    def on_request(info: RequestInfo) -> None:
        nonlocal seen
        if info.method == "GET" and info.route == "/V1/orders":
            seen += 1
            if seen == 2:
                sandbox.faults.add(path="/V1/orders", status=503, times=50)

    sandbox.on_request(on_request)


def test_failed_run_exits_non_zero_and_keeps_a_safe_bookmark(
    project: MeltanoProject, sandbox: MagentoSandbox, store_url: str
) -> None:
    paid = paid_orders(sandbox)
    # The seed follows the clock, so the number of paid orders varies from run to run:
    # resume early enough to leave more than two pages owed.
    resume_from = paid[max(1, min(len(paid) // 3, len(paid) - 2 * PAGE_SIZE - 10))]["updated_at"]
    project.set_state(orders_state(parse_time(resume_from).isoformat()))
    owed = paid_orders(sandbox, updated_from=resume_from)
    assert len(owed) > 2 * PAGE_SIZE, "the sandbox needs more orders for a multi-page run"
    fail_orders_after_first_page(sandbox)

    failed = project.run(*PIPELINE, env={"TAP_MAGENTO2_PAGE_SIZE": str(PAGE_SIZE)}, check=False)

    assert failed.returncode != 0, failed.describe()
    assert "503" in failed.output, "the failure does not say what Magento answered"
    saved = project.bookmark()
    assert saved is not None, "a failed run must not wipe the saved bookmark"
    bookmark = parse_time(saved)
    assert bookmark >= parse_time(resume_from) - LOOKBACK  # never further back than that
    store = read_store(store_url)
    passed = order_ids(paid_orders(sandbox, updated_from=resume_from, updated_to=bookmark))
    missing = sorted(passed - set(store.orders))
    assert not missing, f"bookmark {saved} passed orders the store never committed: {missing}"
    assert len(store.orders) < len(owed), "the fault came too late to interrupt the run"

    sandbox.faults.clear()
    project.run(*PIPELINE, env={"TAP_MAGENTO2_PAGE_SIZE": str(PAGE_SIZE)})

    assert_store_matches(read_store(store_url), order_ids(owed))
    assert parse_time(project.bookmark()) == parse_time(newest_streamed(sandbox))
