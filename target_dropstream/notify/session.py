"""What one notify run shares between its steps: the store, the settings, the clock, the
Magento clients (one per store view) and the report, and the three ways a shipment's turn
ends (notified, refused, or the run stops with it pending).

Each outcome is written to the store and the report together, so no step can record one
without the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from magerest.client import MagentoClient
from target_dropstream.clock import Clock
from target_dropstream.notify.report import NotifyReport, NotifyRunError
from target_dropstream.settings import ClientFactory, TargetSettings
from target_dropstream.shipment_models import OutgoingShipment
from target_dropstream.store import FulfillmentStore


class Session:
    """One notify run: its connections to Magento and its record-keeping."""

    def __init__(
        self,
        store: FulfillmentStore,
        settings: TargetSettings,
        clock: Clock,
        client_factory: ClientFactory,
        sleep: Callable[[float], None],
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.report = NotifyReport()
        self._factory = client_factory
        self._clients: dict[str | None, MagentoClient] = {}
        #: Store codes by store id, read once per run (see ``store_views.view``).
        self.views: dict[int, str] | None = None
        self.lost = 0  # answers lost in this run

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def client(self, view: str | None) -> MagentoClient:
        if view not in self._clients:
            try:
                self._clients[view] = self._factory(self.settings, view)
            except ValueError as exc:
                hint = "set them in --config or TARGET_DROPSTREAM_STORE_URL / _ACCESS_TOKEN"
                raise NotifyRunError(f"cannot notify Magento: {exc}: {hint}") from None
        return self._clients[view]

    @property
    def reader(self) -> MagentoClient:
        """Client for look-ups (the configured store view, else Magento's default scope)."""
        return self.client(self.settings.store_view_code)

    # How a shipment's turn ends -------------------------------------------------------------

    def notified(
        self,
        shipment: OutgoingShipment,
        magento_id: int | None,
        how: str,
        warning: str | None = None,
    ) -> None:
        self.store.shipments.mark_notified(shipment.id, magento_id, self.clock(), warning)
        shown = f"Magento shipment {magento_id}" if magento_id is not None else "Magento"
        line = f"{shipment.label} -> {shown}{how}"
        (self.report.found if how else self.report.notified).append(line)
        if warning:
            self.report.notes.append(f"{shipment.label}: {warning}")

    def refused(self, shipment: OutgoingShipment, message: str, *, posted: bool = True) -> bool:
        """Mark the shipment failed; ``posted=False`` (refused before any post of this run):
        only if no other run posted it meanwhile. Returns whether it was marked."""
        attempts = None if posted else shipment.attempts
        if not self.store.shipments.mark_failed(
            shipment.id, message, self.clock(), attempts=attempts
        ):
            self.report.notes.append(f"{shipment.label}: being sent by another run, skipped")
            return False
        self.report.failed.append(f"{shipment.label}: {message}")
        return True

    def stop(self, shipment: OutgoingShipment, message: str, *, answered: bool = False) -> NoReturn:
        """Stop the run; ``answered``: the last post got an answer (none is outstanding)."""
        text = f"shipment {shipment.label} stays pending: {message}"
        self.store.shipments.note_error(shipment.id, message, self.clock(), answered=answered)
        raise NotifyRunError(text)
