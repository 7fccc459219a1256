"""Table-driven tests of the pure fulfillment rules (no clock, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from target_dropstream.models import LineType, Order
from target_dropstream.rules import (
    OrderState,
    decide_state,
    hold_reason,
    is_due,
    qty_to_ship,
    recheck_decision,
    refreshes_content,
    release_at,
    shippable_lines,
    should_apply,
    status_hold_reason,
    stop_reason,
)
from tests.target.conftest import item, order, tutorial_order

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def lines_of(record: dict[str, Any], *, include_bundle_parent: bool = False):
    parsed = Order.from_magento(record)
    return shippable_lines(parsed.items, include_bundle_parent=include_bundle_parent)


def summary(lines) -> list[tuple]:
    return [
        (
            line.item_id,
            line.sku,
            line.qty,
            line.line_type.value,
            line.parent_item_id,
            line.ship_item_id,
        )
        for line in lines
    ]


def test_tutorial_order_gives_simple_components_and_configurable() -> None:
    lines, reason = lines_of(tutorial_order())
    assert reason is None
    assert summary(lines) == [
        (3, "24-MB01", Decimal(1), "item", None, 3),
        (6, "24-WG084", Decimal(1), "bundle_component", 5, None),
        (7, "24-WG088", Decimal(1), "bundle_component", 5, None),
        (8, "24-WG082-blue", Decimal(1), "bundle_component", 5, None),
        (9, "24-WG086", Decimal(1), "bundle_component", 5, None),
        (10, "MH01-S-Gray", Decimal(1), "item", None, 10),
    ]
    # the component keeps what the notifier needs to pick the item a shipment references
    assert {line.product_id for line in lines if line.line_type is LineType.BUNDLE_COMPONENT} == {
        1006,
        1007,
        1008,
        1009,
    }


def test_tutorial_order_with_bundle_parent() -> None:
    lines, _ = lines_of(tutorial_order(), include_bundle_parent=True)
    assert [(line.item_id, line.line_type.value) for line in lines] == [
        (3, "item"),
        (5, "bundle_parent"),
        (6, "bundle_component"),
        (7, "bundle_component"),
        (8, "bundle_component"),
        (9, "bundle_component"),
        (10, "item"),
    ]
    parent = next(line for line in lines if line.line_type is LineType.BUNDLE_PARENT)
    assert parent.sku == "24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086"
    assert parent.ship_item_id == 5


def _bundle(parent_shipped: float, child_shipped: tuple[float, float]) -> dict[str, Any]:
    parent = item(1, "KIT", product_type="bundle", qty=2, qty_shipped=parent_shipped)
    return order(
        1,
        items=[
            parent,
            item(2, "A", parent=parent, qty=2, qty_shipped=child_shipped[0]),
            item(3, "B", parent=parent, qty=4, qty_shipped=child_shipped[1]),
        ],
    )


def _configurable(**parent_qty: float) -> dict[str, Any]:
    parent = item(1, "TEE-M-RED", product_type="configurable", qty=3, **parent_qty)
    # Magento never updates the child's quantities
    return order(1, items=[parent, item(2, "TEE-M-RED", parent=parent, qty=3)])


# (case, record, include_bundle_parent, expected [(item_id, qty, line_type)], expected reason)
CASES: list[tuple[str, dict[str, Any], bool, list[tuple[int, str, str]], str | None]] = [
    (
        "simple item: ordered - max(shipped, refunded) - canceled",
        order(1, items=[item(1, "S", qty=5, qty_canceled=1, qty_refunded=1, qty_shipped=1)]),
        False,
        [(1, "3", "item")],
        None,
    ),
    (
        "Magento's own example: 12 ordered, 4 shipped, 5 refunded leave 7",
        order(1, items=[item(1, "S", qty=12, qty_shipped=4, qty_refunded=5)]),
        False,
        [(1, "7", "item")],
        None,
    ),
    (
        "refunded after shipping: a return, nothing more to ship",
        order(1, items=[item(1, "S", qty=2, qty_shipped=2, qty_refunded=2)]),
        False,
        [],
        "nothing left to ship: every item is shipped, canceled or refunded",
    ),
    (
        "bundle component: shipped and refunded overlap too",
        order(
            1,
            items=[
                parent := item(1, "KIT", product_type="bundle", qty=2),
                item(2, "A", parent=parent, qty=6, qty_shipped=2, qty_refunded=3),
            ],
        ),
        True,
        [(1, "2", "bundle_parent"), (2, "3", "bundle_component")],
        None,
    ),
    (
        "bundle parent read with the same formula",
        order(
            1,
            items=[
                parent := item(
                    1, "KIT", product_type="bundle", qty=4, qty_shipped=1, qty_refunded=2
                ),
                item(2, "A", parent=parent, qty=4, qty_shipped=1, qty_refunded=2),
            ],
        ),
        True,
        [(1, "2", "bundle_parent"), (2, "2", "bundle_component")],
        None,
    ),
    (
        "bundle with a virtual option: the option is never a line",
        order(
            1,
            items=[
                parent := item(1, "KIT", product_type="bundle", qty=2),
                item(2, "A", parent=parent, qty=2),
                item(3, "WARRANTY", parent=parent, qty=2, product_type="virtual", is_virtual=1),
                item(4, "E-GUIDE", parent=parent, qty=2, product_type="downloadable"),
            ],
        ),
        True,
        [(1, "2", "bundle_parent"), (2, "2", "bundle_component")],
        None,
    ),
    (
        "bundle with a virtual option, physical part shipped: nothing left",
        order(
            1,
            items=[
                parent := item(1, "KIT", product_type="bundle", qty=2, qty_shipped=2),
                item(2, "A", parent=parent, qty=2, qty_shipped=2),
                # Magento never marks the virtual option shipped
                item(3, "WARRANTY", parent=parent, qty=2, product_type="virtual", is_virtual=1),
            ],
        ),
        True,
        [],
        "nothing left to ship: every item is shipped, canceled or refunded",
    ),
    (
        "bundle of virtual options only: nothing to ship, and why",
        order(
            1,
            items=[
                parent := item(1, "E-KIT", product_type="bundle", qty=1),
                item(2, "E-BOOK", parent=parent, product_type="downloadable", is_virtual=1),
                item(3, "WARRANTY", parent=parent, product_type="virtual", is_virtual=1),
            ],
        ),
        True,
        [],
        "nothing to ship: only virtual or downloadable items",
    ),
    (
        "virtual item is not shipped",
        order(1, items=[item(1, "GIFT", product_type="virtual", is_virtual=1), item(2, "S")]),
        False,
        [(2, "1", "item")],
        None,
    ),
    (
        "is_virtual flag alone is enough",
        order(1, items=[item(1, "X", is_virtual=1), item(2, "S")]),
        False,
        [(2, "1", "item")],
        None,
    ),
    (
        "only virtual/downloadable: skipped with reason",
        order(1, items=[item(1, "E-BOOK", product_type="downloadable", is_virtual=1)]),
        False,
        [],
        "nothing to ship: only virtual or downloadable items",
    ),
    (
        "everything shipped: skipped with reason",
        order(1, items=[item(1, "S", qty=2, qty_shipped=2)]),
        False,
        [],
        "nothing left to ship: every item is shipped, canceled or refunded",
    ),
    (
        "canceled and refunded lines are dropped",
        order(
            1,
            items=[
                item(1, "S", qty=1, qty_canceled=1),
                item(2, "T", qty_refunded=1),
                item(3, "U", qty=2),
            ],
        ),
        False,
        [(3, "2", "item")],
        None,
    ),
    ("no items: skipped", order(1, items=[]), False, [], "nothing to ship: the order has no items"),
    (
        "configurable: one line from the parent, child ignored",
        _configurable(),
        False,
        [(1, "3", "item")],
        None,
    ),
    (
        "configurable: shipped quantity read from the parent",
        _configurable(qty_shipped=2),
        False,
        [(1, "1", "item")],
        None,
    ),
    (
        "configurable fully shipped (child still says 0): nothing left",
        _configurable(qty_shipped=3),
        False,
        [],
        "nothing left to ship: every item is shipped, canceled or refunded",
    ),
    (
        "bundle components from their own quantities",
        _bundle(parent_shipped=1, child_shipped=(2, 1)),
        False,
        [(3, "3", "bundle_component")],
        None,
    ),
    (
        "bundle parent only with the setting",
        _bundle(parent_shipped=0, child_shipped=(0, 0)),
        True,
        [(1, "2", "bundle_parent"), (2, "2", "bundle_component"), (3, "4", "bundle_component")],
        None,
    ),
    (
        "separately shipped bundle: parent qty_shipped is bumped, components still open",
        _bundle(parent_shipped=2, child_shipped=(2, 0)),
        True,
        [(1, "2", "bundle_parent"), (3, "4", "bundle_component")],
        None,
    ),
    (
        "bundle fully shipped: parent dropped too",
        _bundle(parent_shipped=2, child_shipped=(2, 4)),
        True,
        [],
        "nothing left to ship: every item is shipped, canceled or refunded",
    ),
    (
        "decimal quantities",
        order(1, items=[item(1, "FABRIC", qty=2.5, qty_shipped=0.75)]),
        False,
        [(1, "1.75", "item")],
        None,
    ),
]


@pytest.mark.parametrize(
    ("record", "include_parent", "expected", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_shippable_lines(
    record: dict[str, Any],
    include_parent: bool,
    expected: list[tuple[int, str, str]],
    reason: str | None,
) -> None:
    lines, why = lines_of(record, include_bundle_parent=include_parent)
    assert [(line.item_id, str(line.qty.normalize()), line.line_type.value) for line in lines] == [
        (item_id, str(Decimal(qty).normalize()), kind) for item_id, qty, kind in expected
    ]
    assert why == reason


@pytest.mark.parametrize(
    ("ordered", "shipped", "refunded", "canceled", "left"),
    [
        ("12", "4", "5", "0", "7"),  # Magento's unit test (the naive formula says 3)
        ("12", "5", "4", "0", "7"),  # more shipped than refunded: the shipped count rules
        ("12", "4", "5", "2", "5"),
        ("5", "0", "0", "5", "0"),  # all canceled
        ("3", "3", "3", "0", "0"),  # shipped, then returned and refunded
        ("3", "0", "3", "0", "0"),  # refunded before shipping
        ("3", "0", "0", "0", "3"),
        ("2", "3", "0", "0", "0"),  # never below zero
        ("2.5", "0.75", "1", "0", "1.5"),
    ],
)
def test_qty_to_ship_is_magentos_get_simple_qty_to_ship(
    ordered: str, shipped: str, refunded: str, canceled: str, left: str
) -> None:
    got = qty_to_ship(Decimal(ordered), Decimal(shipped), Decimal(refunded), Decimal(canceled))
    assert got == Decimal(left)


@pytest.mark.parametrize(
    ("delay", "now", "due"),
    [
        (0, T0, True),
        (30, T0 + timedelta(minutes=29, seconds=59), False),
        (30, T0 + timedelta(minutes=30), True),
        (1440, T0 + timedelta(hours=23), False),
    ],
)
def test_release_time_is_placed_at_plus_delay_in_utc(delay: int, now: datetime, due: bool) -> None:
    release = release_at(T0, delay)
    assert release == T0 + timedelta(minutes=delay)
    assert is_due(release, now) is due


def test_release_time_compares_instants_not_wall_clock() -> None:
    from zoneinfo import ZoneInfo

    placed = datetime(2026, 1, 15, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # 15:00 UTC
    assert release_at(placed, 60) == datetime(2026, 1, 15, 16, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        release_at(datetime(2026, 1, 15, 10, 0), 0)  # noqa: DTZ001


S = OrderState
LATER = T0 + timedelta(minutes=10)
STATE_CASES = [
    # previous, magento state, status, skip reason, now, expected
    ("new, due", None, "processing", "processing", None, LATER, S.READY),
    ("new, not due", None, "processing", "processing", None, T0, S.HELD),
    ("new, canceled", None, "canceled", "canceled", None, LATER, S.CANCELED),
    ("new, closed", None, "closed", "closed", None, LATER, S.CANCELED),
    ("new, nothing to ship", None, "processing", "processing", "why", LATER, S.SKIPPED),
    ("new, on hold in Magento", None, "holded", "holded", None, LATER, S.HELD),
    ("ready stays ready before due", S.READY, "processing", "processing", None, T0, S.READY),
    ("ready canceled in Magento", S.READY, "canceled", "canceled", None, LATER, S.CANCELED),
    ("ready put on hold in Magento", S.READY, "holded", "holded", None, LATER, S.HELD),
    ("shipped never changes", S.SHIPPED, "canceled", "canceled", None, LATER, S.SHIPPED),
    ("shipped not back to ready", S.SHIPPED, "processing", "processing", None, LATER, S.SHIPPED),
    (
        "partially shipped kept",
        S.PARTIALLY_SHIPPED,
        "processing",
        "processing",
        None,
        T0,
        S.PARTIALLY_SHIPPED,
    ),
    ("skipped order gets lines", S.SKIPPED, "processing", "processing", None, LATER, S.READY),
    ("held becomes due", S.HELD, "processing", "processing", None, LATER, S.READY),
    ("new, payment review", None, "payment_review", "payment_review", None, LATER, S.HELD),
    ("new, suspected fraud", None, "payment_review", "fraud", None, LATER, S.HELD),
    ("ready, payment review", S.READY, "payment_review", "payment_review", None, LATER, S.HELD),
    ("ready, suspected fraud", S.READY, "payment_review", "fraud", None, LATER, S.HELD),
    ("ready, custom status on hold", S.READY, "holded", "processing", None, LATER, S.HELD),
    ("held, still in review", S.HELD, "payment_review", "fraud", None, LATER, S.HELD),
    ("review over", S.HELD, "processing", "processing", None, LATER, S.READY),
    ("new, status NULL", None, "processing", None, None, LATER, S.HELD),
    ("ready, status NULL", S.READY, "processing", None, None, LATER, S.HELD),
]


@pytest.mark.parametrize(
    ("previous", "mstate", "status", "skip", "now", "expected"),
    [case[1:] for case in STATE_CASES],
    ids=[case[0] for case in STATE_CASES],
)
def test_decide_state(
    previous: OrderState | None,
    mstate: str,
    status: str,
    skip: str | None,
    now: datetime,
    expected: OrderState,
) -> None:
    decision = decide_state(
        previous=previous,
        magento_state=mstate,
        magento_status=status,
        import_statuses=("processing",),
        skip_reason=skip,
        release=T0 + timedelta(minutes=5),
        now=now,
    )
    assert decision.state is expected
    if expected in (S.SKIPPED, S.CANCELED) or (status != "processing" and expected is S.HELD):
        assert decision.reason  # the operator sees why


@pytest.mark.parametrize(
    ("stored", "incoming", "applies"),
    [(None, T0, True), (T0, T0, True), (T0, LATER, True), (LATER, T0, False)],
)
def test_older_update_never_overwrites_newer(
    stored: datetime | None,
    incoming: datetime,
    applies: bool,
) -> None:
    assert should_apply(stored, incoming) is applies


def test_content_refresh_stops_once_shipping_started() -> None:
    assert refreshes_content(None)
    assert refreshes_content(S.READY)
    assert refreshes_content(S.HELD)
    assert not refreshes_content(S.SHIPPED)
    assert not refreshes_content(S.PARTIALLY_SHIPPED)


@pytest.mark.parametrize(
    ("mstate", "status", "expected"),
    [
        ("processing", "processing", S.READY),
        ("processing", "fraud", S.HELD),
        ("holded", "holded", S.HELD),
        ("canceled", "canceled", S.CANCELED),
        ("closed", "closed", S.CANCELED),
        ("complete", "complete", S.HELD),
    ],
)
def test_recheck_decision_is_never_ready_outside_import_statuses(
    mstate: str, status: str, expected: OrderState
) -> None:
    decision = recheck_decision(
        magento_state=mstate, magento_status=status, import_statuses=("processing",)
    )
    assert decision.state is expected


@pytest.mark.parametrize(
    ("mstate", "status", "reason"),
    [
        (
            "payment_review",
            "payment_review",
            "Magento status is 'payment_review': payment under review; "
            "held until Magento moves it back",
        ),
        (
            "payment_review",
            "fraud",
            "Magento status is 'fraud': suspected fraud, payment under review; "
            "held until Magento moves it back",
        ),
        (
            "holded",
            "holded",
            "Magento status is 'holded': the order is on hold in Magento; "
            "held until Magento moves it back",
        ),
        (
            "holded",
            "waiting_stock",
            "Magento state is 'holded' (status 'waiting_stock'): the order is on hold in "
            "Magento; held until Magento moves it back",
        ),
    ],
)
def test_hold_review_and_fraud_stop_an_order_even_listed_as_import_statuses(
    mstate: str, status: str, reason: str
) -> None:
    """Magento refuses to ship in these states, so no setting may release such an order."""
    listed = ("processing", "holded", "payment_review", "fraud", "waiting_stock")
    assert stop_reason(mstate, status) == reason
    assert hold_reason(mstate, status, listed) == reason
    for previous in (None, S.HELD, S.READY):
        decision = decide_state(
            previous=previous,
            magento_state=mstate,
            magento_status=status,
            import_statuses=listed,
            skip_reason=None,
            release=T0,
            now=LATER,
        )
        assert (decision.state, decision.reason) == (S.HELD, reason)
    again = recheck_decision(magento_state=mstate, magento_status=status, import_statuses=listed)
    assert (again.state, again.reason) == (S.HELD, reason)


def test_an_empty_status_holds_with_a_reason_that_says_so() -> None:
    reason = status_hold_reason(None, ("processing",))
    assert reason == (
        "Magento status is empty (NULL): Magento clears it when a comment is added without "
        "a status; held until Magento sets a status again"
    )
    decision = recheck_decision(
        magento_state="processing", magento_status=None, import_statuses=("processing",)
    )
    assert (decision.state, decision.reason) == (S.HELD, reason)


def test_processing_and_other_statuses_are_no_stop() -> None:
    assert stop_reason("processing", "processing") is None
    assert stop_reason("processing", None) is None
    assert stop_reason(None, "complete") is None
