"""target-dropstream: a singer-sdk target that turns Magento 2 orders into exactly-once
fulfillment records (SQLite or PostgreSQL), plus the ``dropstream`` operator CLI that records
shipments and notifies Magento.

It may import singer_sdk, SQLAlchemy, click and ``magerest`` (Magento's REST API); never
``tap_magento2`` or the sandbox (``tests/architecture`` checks it).
"""
