"""The store view each shipment is posted under, and the words for a wrong one.

A shipment is posted under ``store_view_code`` when it is set, else under the code of the
order's own store view (read from ``GET /V1/store/storeViews``, ACL Magento_Backend::store),
else to ``/rest/V1/...``, which Magento serves as its default store view. A code is never
guessed: an unknown one makes every request fail, so when Magento has no such route the
error names the setting to fix.
"""

from __future__ import annotations

from magerest import sales
from magerest.client import MagentoAPIError
from target_dropstream.notify.magento_errors import no_route
from target_dropstream.notify.session import Session


def view(session: Session, store_id: int | None) -> str | None:
    """The store code to post under; None posts to /rest/V1 (Magento's default view)."""
    if session.settings.store_view_code:
        return session.settings.store_view_code
    if session.views is None:
        session.views = {}
        try:
            session.views = sales.store_view_codes(session.reader)
        except MagentoAPIError as exc:
            said = exc.magento_message or str(exc)
            reason = f"HTTP {exc.status}: {said}" if exc.status else said
            session.report.notes.append(
                f"store views not readable (GET /V1/store/storeViews answered {reason}): "
                "posting to /rest/V1/..., Magento's default store view, instead of each "
                "order's own store view; grant the integration Magento_Backend::store "
                "or set store_view_code"
            )
    return session.views.get(store_id or 0)


def explain(session: Session, exc: MagentoAPIError, view: str | None) -> str:
    """The error as text, naming the setting to fix when Magento has no such route."""
    if not no_route(exc):
        return str(exc)
    configured = session.settings.store_view_code
    if configured and view == configured:
        codes = _store_codes(session)
        if codes is None or configured in codes:
            return str(exc)  # /rest/V1 has no route either: store_url is what is wrong
        listed = f" ({', '.join(codes)})" if codes else ""
        return (
            f"Magento answered {exc.endpoint} with HTTP {exc.status} "
            f"{exc.magento_message!r}: store_view_code {configured!r} is not a store view "
            f"code of this store. Set store_view_code to one of this store's codes{listed}, "
            "see Stores > All Stores, or remove it to post to Magento's default store view "
            "(/rest/V1/...)"
        )
    if view:
        return f"{exc} (store view code {view!r} as listed by GET /V1/store/storeViews)"
    return str(exc)


def _store_codes(session: Session) -> list[str] | None:
    """This store's view codes read without a store code; [] if not readable.

    None when even ``/rest/V1`` has no such route (store_url is wrong, not the code).
    """
    try:
        codes = sales.store_view_codes(session.client(None))
    except MagentoAPIError as exc:
        return None if no_route(exc) else []
    return list(codes.values())
