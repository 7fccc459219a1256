"""The Singer SDK's standard tap tests, run against a local Magento sandbox."""

from __future__ import annotations

import atexit
from datetime import UTC, datetime

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.sales_documents import refund_order
from tap_magento2.tap import TapMagento2
from tests.conftest import oauth_keys

# The SDK builds its test class at import time, so the sandbox starts here too.
SANDBOX = MagentoSandbox(order_count=80, seed=21, now=datetime(2026, 1, 15, 12, tzinfo=UTC))
SANDBOX.start()
atexit.register(SANDBOX.stop)
# A refunded order, so that the creditmemos stream has a record to test.
refund_order(SANDBOX.data, SANDBOX.data.matching("complete")[0]["entity_id"])

TestTapMagento2 = get_tap_test_class(
    TapMagento2,
    config={
        "store_url": SANDBOX.base_url,
        **oauth_keys(SANDBOX),
        "order_import_status": ["processing", "complete"],
        "start_date": "2025-01-01T00:00:00Z",
        "page_size": 25,
    },
    suite_config=SuiteConfig(max_records_limit=500),
    parse_env_config=False,
)
