"""tap-magento2: a singer-sdk tap that streams Magento 2 orders (and sales documents, products,
customers, stock) incrementally, with state.

It may import singer_sdk and ``magerest`` (Magento's REST API); never ``target_dropstream`` or
the sandbox (``tests/architecture`` checks it).
"""
