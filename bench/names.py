"""The bench's row names, shared by the rows (``bench.run``) and the goals (``bench.goals``).

N is ``--concurrency`` (default 4, the tap's ``max_concurrent_requests``); "flat latency" is
the second sandbox's ``--flat-latency-ms`` per request (default 20), the latency model's
``--latency-ms`` + ``--latency-per-order-ms`` otherwise.
"""

from __future__ import annotations

PARSE_ONLY_1 = "parse-only loop, 1 in flight"
RAW_FETCH_1 = "raw fetch, 1 in flight"
RAW_FETCH_N = "raw fetch, N in flight"
TAP = "tap-magento2 > /dev/null (N in flight)"
TAP_1 = "tap-magento2 > /dev/null (1 in flight)"
FLAT_PARSE_ONLY_1 = "parse-only loop, 1 in flight, flat latency"
FLAT_TAP = "tap-magento2 > /dev/null (N), flat latency"
RAW_STORE_SQLITE = "raw store: executemany, SQLite"
TARGET_SQLITE = "target-dropstream < file, SQLite"
RAW_STORE_PG = "raw store: executemany, PostgreSQL"
TARGET_PG = "target-dropstream < file, PostgreSQL"
PIPE = "tap | target (SQLite)"
MELTANO = "meltano run tap | target (SQLite)"
