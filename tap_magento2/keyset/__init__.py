"""Keyset paging over Magento's ``GET /V1/<entity>`` lists: how the tap reads every row once.

Why keyset and not ``currentPage``: with offset paging an order that is updated while the
sync runs moves from an early page to the end, shifting every later row one place back,
so one row is silently skipped; old Magento versions repeat the last page past the end;
and many orders share one ``updated_at`` second. Every request here asks for page 1 of
"everything after the last row seen", sorted by ``updated_at`` then ``entity_id``:

* group A: ``updated_at gteq <cursor updated_at>``
* group B: ``updated_at gt <cursor updated_at>`` OR ``entity_id gt <cursor entity_id>``

Filters inside a group are OR-ed and groups are AND-ed, so A AND B is exactly
"(updated_at, entity_id) > cursor". The first request has only group A, at the bookmark,
inclusive. ``total_count`` of each answer counts what remains from the cursor, so the
page that holds all of it is the last one; an empty page is never taken as the end.

Every request after the first also carries ``updated_at lt <until>``, where ``until`` is
the second of Magento's clock (the ``Date`` header) when it answered the previous page.
Why: an order updated while we read gets the current second as ``updated_at``. If the
cursor were already inside that second, an order with a lower ``entity_id`` would land
behind it and its new version would be lost once the bookmark moved on. Reading only
seconds that had ended before the request was sent makes that impossible; rows of the
current second are read by a later request or the next run (the bookmark stays before
them, and the next run starts at the bookmark inclusive).

The package:

* ``pagination``: the cursor, its filter groups and ``until`` bound, the page-order check and
  the singer-sdk paginator (one request at a time);
* ``parallel``: the same pages with several requests in flight, cut into ``updated_at``
  slices and handed back strictly in order, so the output and the bookmark are unchanged;
* ``page_isolation`` and ``poison``: a page that still answers HTTP 500 after the retries
  (one order Magento cannot list) is read around that order and the order by id, or the run
  stops naming it with every order before it emitted.
"""
