"""What a notify run tells its caller: the report, and the error that stops a run."""

from __future__ import annotations

from dataclasses import dataclass, field


class NotifyRunError(RuntimeError):
    """The run cannot go on (auth, routing, Magento down); the shipment stays pending."""


@dataclass
class NotifyReport:
    """What a notify run did, one line per shipment."""

    notified: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = (
            f"{len(self.notified)} notified, {len(self.found)} already in Magento, "
            f"{len(self.failed)} refused"
        )
        if self.error:
            text += f"; stopped: {self.error}"
        return text

    def lines(self) -> list[str]:
        """Per-shipment lines, then the summary."""
        out = [f"notified  {line}" for line in self.notified]
        out += [f"found     {line}" for line in self.found]
        out += [f"refused   {line}" for line in self.failed]
        out += [f"note      {line}" for line in self.notes]
        return [*out, self.summary()]
