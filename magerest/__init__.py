"""magerest: Magento 2's REST API for the tap, the target and the operator CLI; no Singer in it.

What it holds: the client (``client.MagentoClient``: URLs, retries, Magento's errors in plain
words), authentication (``auth``: OAuth 1.0a signed as Magento verifies it, or Bearer), the
error classifier (``errors``), the retry policy (``retry``), searchCriteria building and page
reading (``search``), the connection settings every caller shares (``connection``: store URL,
TLS, flags, status lists) and why a Bearer token is refused in one store view only
(``bearer_scope``), and the sales calls the target makes (``sales``: ship, create and find
shipments, store views, order read-back, catalog products by id). It takes plain data in and
gives plain data out.

What it may import: the standard library, requests, requests-oauthlib/oauthlib and msgspec.
Never singer_sdk, ``tap_magento2``, ``target_dropstream`` or the sandbox
(``tests/architecture`` checks it).
"""
