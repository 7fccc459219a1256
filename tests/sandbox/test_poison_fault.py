"""The "poison order" fault: Magento cannot list one order, so every page holding it fails."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from magento2_sandbox.__main__ import build_parser, parse_poison

MASKED = "Internal Error. Details are available in Magento log file. Report ID: webapi-"


def get(sb: Any, path: str, params: dict[str, str] | None = None) -> requests.Response:
    return requests.get(
        f"{sb.base_url}/rest/V1/{path}",
        params=params,
        headers={"Authorization": f"Bearer {sb.access_token}"},
        timeout=10,
    )


def page(size: int, current: int = 1) -> dict[str, str]:
    return {
        "searchCriteria[sortOrders][0][field]": "entity_id",
        "searchCriteria[sortOrders][0][direction]": "ASC",
        "searchCriteria[pageSize]": str(size),
        "searchCriteria[currentPage]": str(current),
    }


@pytest.mark.parametrize("get_fails", [False, True])
def test_every_list_page_holding_a_poison_order_fails_with_the_masked_500(
    sandbox: Any, get_fails: bool
) -> None:
    sandbox.faults.poison_order(7, get_fails=get_fails)
    for size, current in ((10, 1), (7, 1), (1, 7), (300, 1)):
        answer = get(sandbox, "orders", page(size, current))
        assert answer.status_code == 500
        body = answer.json()
        assert set(body) == {"message"}
        assert body["message"].startswith(MASKED)
    assert get(sandbox, "orders", page(6)).status_code == 200  # orders 1..6 only
    assert get(sandbox, "orders", page(4, 3)).status_code == 200  # orders 9..12
    one = get(sandbox, "orders/7")
    if get_fails:
        assert one.status_code == 500
        assert one.json()["message"].startswith(MASKED)
    else:
        assert one.status_code == 200
        assert one.json()["entity_id"] == 7
    assert sandbox.faults.poisoned == {7: get_fails}


def test_a_cured_or_cleared_order_lists_again(sandbox: Any) -> None:
    sandbox.faults.poison_order(3)
    assert get(sandbox, "orders", page(5)).status_code == 500
    sandbox.faults.cure_order(3)
    assert get(sandbox, "orders", page(5)).status_code == 200
    sandbox.faults.poison_order(3, get_fails=True)
    sandbox.faults.clear()
    assert get(sandbox, "orders", page(5)).status_code == 200
    assert get(sandbox, "orders/3").status_code == 200


def test_cli_option() -> None:
    assert parse_poison("42") == (42, False)
    assert parse_poison("42:get") == (42, True)
    args = build_parser().parse_args(["--poison-order", "5", "--poison-order", "9:get"])
    assert args.poison_order == [(5, False), (9, True)]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--poison-order", "x"])
