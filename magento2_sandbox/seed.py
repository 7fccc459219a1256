"""Deterministic seed data: which orders exist, as a compact index.

Everything derives from ``(seed, order_count, now)``. The index holds only what filtering and
sorting need (created/updated epoch seconds, status, state, store, increment id) in ``array``
columns, so a million orders fit in a few tens of MB; each order's full Magento JSON is rebuilt
from ``(seed, entity_id)`` when asked for (``order_json.build_order``).
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass, field
from typing import Any

from .clock import format_ts

STATE_FOR_STATUS = {
    "pending": "new",
    "processing": "processing",
    "holded": "holded",
    "complete": "complete",
    "canceled": "canceled",
    "closed": "closed",
    "fraud": "payment_review",
    "pending_payment": "pending_payment",
}
STATUS_LABELS = {
    "pending": "Pending",
    "processing": "Processing",
    "holded": "On Hold",
    "complete": "Complete",
    "canceled": "Canceled",
}
SEED_SPAN_SECONDS = 42 * 86400  # created_at spreads over the six weeks before `now`
STORE_PREFIX = {1: "", 2: "2", 3: "3", 4: "4", 0: "9"}


@dataclass
class OrderIndex:
    """Columns indexed by row position; entity_id == position + 1."""

    created: array = field(default_factory=lambda: array("q"))
    updated: array = field(default_factory=lambda: array("q"))
    status: array = field(default_factory=lambda: array("B"))  # codes into status_names
    state: array = field(default_factory=lambda: array("B"))  # codes into state_names
    store: array = field(default_factory=lambda: array("h"))
    sequence: array = field(default_factory=lambda: array("l"))  # per-store increment number
    status_names: list[str] = field(default_factory=list)
    state_names: list[str] = field(default_factory=list)
    next_sequence: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.created)

    def code(self, names: list[str], value: str) -> int:
        try:
            return names.index(value)
        except ValueError:
            names.append(value)
            return len(names) - 1

    def append(self, created: int, updated: int, status: str, state: str, store_id: int) -> int:
        seq = self.next_sequence.get(store_id, 1)
        self.next_sequence[store_id] = seq + 1
        self.created.append(created)
        self.updated.append(updated)
        self.status.append(self.code(self.status_names, status))
        self.state.append(self.code(self.state_names, state))
        self.store.append(store_id)
        self.sequence.append(seq)
        return len(self.created)  # entity_id

    def increment_id(self, pos: int) -> str:
        return f"{STORE_PREFIX.get(self.store[pos], '8')}{self.sequence[pos]:08d}".rjust(9, "0")

    def row(self, pos: int) -> dict[str, Any]:
        return {
            "entity_id": pos + 1,
            "created_at": format_ts(self.created[pos]),
            "updated_at": format_ts(self.updated[pos]),
            "status": self.status_names[self.status[pos]],
            "state": self.state_names[self.state[pos]],
            "store_id": self.store[pos],
            "increment_id": self.increment_id(pos),
        }


def cluster_plan(order_count: int) -> list[tuple[float, int, str]]:
    """(position fraction, size, status) of orders updated in one second (mass actions)."""
    n = order_count
    plan: list[tuple[float, int, str]] = []
    if n >= 10:
        plan += [
            (0.3, max(2, n // 20), "complete"),
            (0.5, max(2, n // 50), "canceled"),
            (0.7, 5, "processing"),
            (0.95, 3, "processing"),
        ]
    if n > 400:
        plan.append((0.8, min(n // 2, 300 + max(12, min(n // 100, 700))), "processing"))
    return plan


def build_index(seed: int | str, order_count: int, now_epoch: int) -> OrderIndex:
    """Generate the order index: fast enough for a million rows."""
    rng = random.Random(f"sandbox-index:{seed}:{order_count}:{now_epoch}")
    rand = rng.random
    idx = OrderIndex()
    idx.status_names.extend(["pending", "processing", "holded", "complete", "canceled"])
    idx.state_names.extend(["new", "processing", "holded", "complete", "canceled"])
    n = order_count
    if n <= 0:
        return idx
    recent = max(1, n // 50)
    older = n - recent
    start = now_epoch - SEED_SPAN_SECONDS
    created = idx.created
    step = (SEED_SPAN_SECONDS - 3600) / older if older else 0.0
    for i in range(older):
        created.append(start + int((i + rand()) * step))
    rstep = 3600 / recent
    for j in range(recent):
        created.append(now_epoch - 3600 + int((j + rand()) * rstep))
    # The newest order was placed in the last second before the sandbox opened: every
    # seeded second has ended by the time a client asks (updates come with the clock).
    created[n - 1] = now_epoch - 1
    updated = idx.updated
    status = idx.status
    store = idx.store
    seqs = idx.sequence
    counters = {1: 0, 2: 0, 3: 0}
    for i in range(n):
        c = created[i]
        age = now_epoch - c
        r = rand()
        if age < 3600:
            code = 0 if r < 0.5 else 1
        elif r < 0.12:
            code = 0
        elif r < 0.45:
            code = 1
        elif r < 0.50:
            code = 2
        elif r < 0.88:
            code = 3
        else:
            code = 4
        status.append(code)
        updated.append(c if code == 0 else c + int(rand() * min(age, 3 * 86400)))
        r = rand()
        sid = 1 if r < 0.6 else 2 if r < 0.85 else 3
        store.append(sid)
        counters[sid] += 1
        seqs.append(counters[sid])
    for frac, size, cluster_status in cluster_plan(n):
        p = min(n - 1, int(frac * n))
        if size > p:
            continue
        moment = created[p]
        code = idx.status_names.index(cluster_status)
        for m in rng.sample(range(p), size):
            updated[m] = moment
            status[m] = code
    idx.state.extend(status)  # state codes were registered in the same order as the statuses
    idx.next_sequence = {sid: cnt + 1 for sid, cnt in counters.items()}
    return idx
