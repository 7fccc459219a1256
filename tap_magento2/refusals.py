"""What a run does when Magento refuses a stream: a missing ACL resource stops that stream,
refused credentials stop the run.

Magento answers a wrong, revoked or not-allowed Bearer token exactly as it answers a valid
token whose integration lacks one resource: HTTP 401 "The consumer isn't authorized to
access <resource>" (the caller became a guest). So the first such refusal of a run is
checked with one more request to an endpoint of another resource; refused too, it is the
token, and the run stops with one message instead of failing every stream the same way.
OAuth-signed requests need no check: Magento verified the signature before it looked at
the ACL, and refuses bad OAuth credentials with their own 401 messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from magerest.auth import is_signed
from magerest.search import search_criteria_params
from tap_magento2.failures import AccessDeniedError, CredentialsError

if TYPE_CHECKING:
    from singer_sdk import Stream

    from tap_magento2.client import Magento2Stream

#: (stream, path, params) asked when a stream is refused: the orders (one row, only the
#: count sent back), or the store views when the orders were the refused ones.
_ORDERS_PROBE = ("orders", "/V1/orders", {
    **search_criteria_params([], page_size=1, current_page=1), "fields": "total_count"
})  # fmt: skip
_STORE_VIEWS_PROBE = ("store_views", "/V1/store/storeViews", {})
#: The ACL resource of ``GET /V1/orders``.
ORDERS_RESOURCE = "Magento_Sales::actions_view"


class RefusalGuard:
    """Wraps the streams' ``sync`` for one run and decides what each refusal stops.

    ``strict``: the first ACL refusal stops the run. Otherwise refused streams are
    collected and ``raise_refusals`` raises them together once the other streams ran.
    """

    def __init__(self, streams: dict[str, Stream], logger: logging.Logger, *, strict: bool) -> None:
        self._streams = streams
        self._logger = logger
        self._strict = strict
        self._token_checked = False
        self.refused: list[tuple[str, AccessDeniedError]] = []

    def wrap(self, stream: Stream) -> Callable[..., None]:
        """``stream.sync`` that records or raises a refusal as described above."""
        sync = stream.sync

        def sync_or_record(context: Any = None) -> None:
            try:
                sync(context)
            except AccessDeniedError as error:
                self._check_token(stream, error)
                if self._strict:
                    raise
                self._logger.error(
                    "Stream %r skipped: the integration lacks the ACL resource %s. %s",
                    stream.name,
                    error.resource,
                    error,
                )
                self.refused.append((stream.name, error))

        return sync_or_record

    def raise_refusals(self) -> None:
        """Raise the refusals of this run together (the run then exits non-zero)."""
        if not self.refused:
            return
        names = ", ".join(f"{name} ({error.resource})" for name, error in self.refused)
        details = " | ".join(str(error) for _, error in self.refused)
        msg = f"Magento refused these streams (missing ACL resource): {names}. {details}"
        raise AccessDeniedError(msg, ", ".join(e.resource for _, e in self.refused))

    def _check_token(self, refused: Stream, error: AccessDeniedError) -> None:
        """Raise CredentialsError when a second resource is refused to an unsigned token.

        The second endpoint is the orders, or the store views when the orders' resource
        was the refused one (whichever stream asked for it).
        """
        if self._token_checked:
            return
        self._token_checked = True
        if is_signed(getattr(refused, "authenticator", None)):
            return
        orders_refused = ORDERS_RESOURCE in error.resource
        name, path, params = _STORE_VIEWS_PROBE if orders_refused else _ORDERS_PROBE
        probe: Magento2Stream = self._streams[name]  # type: ignore[assignment]
        try:
            probe.get_json(path, dict(params))
        except AccessDeniedError as second:
            msg = (
                f"Magento refused the access token: GET /rest{path} ({second.resource}) was "
                "refused too, so the token is wrong, revoked or not accepted as a Bearer "
                "token, or its integration has none of these resources. Stopping the run. "
                f"{error}"
            )
            raise CredentialsError(msg) from error
