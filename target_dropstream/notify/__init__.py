"""Tell Magento about recorded shipments, exactly once, and only what Magento will ship.

:func:`notify_pending` posts every pending shipment of the store (``run``). Each module
does one job of that run:

- ``run``: the run and one shipment's way, from look-up to post to the answer.
- ``session``: what the run's steps share (store, settings, clients, report) and the ways a
  shipment's turn ends (notified, refused, the run stops).
- ``quantities``: the order's quantities checked before posting (Magento silently trims a
  shipment to what is left), the created shipment read back after.
- ``exactly_once``: a lost answer, and the look-ups by tracking number before posting again.
- ``bundles``: whether a bundle ships together or separately, from the catalog.
- ``store_views``: the store view each shipment is posted under, and a wrong one explained.
- ``magento_errors``: which of Magento's error answers mean what.
- ``report``: :class:`NotifyReport` and :class:`NotifyRunError`.
"""

from __future__ import annotations

from target_dropstream.notify.report import NotifyReport, NotifyRunError
from target_dropstream.notify.run import notify_pending

__all__ = ["NotifyReport", "NotifyRunError", "notify_pending"]
