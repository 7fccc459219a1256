"""Magento's flags in order JSON are read one way everywhere (``models.magento_bool``)."""

from __future__ import annotations

from typing import Any

import pytest

from target_dropstream.models import magento_bool
from target_dropstream.payloads import nothing_left_to_ship


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (1, True),
        ("1", True),
        ("true", True),
        (False, False),
        (0, False),
        ("0", False),
        ("false", False),
        ("", False),
        (None, False),
    ],
)
def test_magento_flags(value: Any, expected: bool) -> None:
    assert magento_bool(value) is expected


def test_an_item_flagged_not_virtual_in_words_still_has_to_ship() -> None:
    items = {
        1: {"item_id": 1, "product_type": "simple", "is_virtual": "false", "qty_ordered": 2},
    }
    assert nothing_left_to_ship(items) is False
