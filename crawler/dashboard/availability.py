"""The dashboard's filters and sorts that need what the store does not have yet.

One place, so wiring a new field is one edit here: a filter or sort on an
edge field answers 400 "not available in this store yet" until the edge
record (crawler/items.py) has the field and the store can page by it
(`Store.browse_edges` with that sort, in pipelines/stores/*/browse.py);
`quality` is a computed sort (views.py ranks it). Fields a view merely shows (`placement`,
`context`, `quality`, `subnet`, `ip`, `sitewide`) need nothing here: a row
without one shows "—" (JSON: null).
"""

from __future__ import annotations

from crawler.items import EDGE_FIELDS
from pipelines.stores.base import BROWSE_SORTS

# Filters of the backlinks table on an edge field, and the field each needs.
PENDING_FILTERS = {"placement": "placement"}
# Sorts of the backlinks table that wait for a field of the edge record.
PENDING_SORTS: dict[str, str] = {}
# Sorts computed by the dashboard, not paged by the store: quality is a score
# over the whole profile (crawler/intelligence/quality.py), ranked once per
# target and filters and kept as long as the cache keeps views (views.py).
COMPUTED_SORTS = ("quality",)


class NotAvailable(ValueError):
    """A filter or sort the store cannot answer yet: a 400 with this message."""


def check_filter(name: str) -> None:
    """Raise NotAvailable when the filter `name` needs a field edges lack."""
    field = PENDING_FILTERS.get(name)
    if field is not None and field not in EDGE_FIELDS:
        raise NotAvailable(f"{name}: not available in this store yet (edges have no {field})")


def check_sort(sort: str) -> None:
    """Raise NotAvailable when the store cannot page by `sort` yet."""
    if sort in COMPUTED_SORTS:
        return
    if sort in PENDING_SORTS and (
        PENDING_SORTS[sort] not in EDGE_FIELDS or sort not in BROWSE_SORTS
    ):
        raise NotAvailable(f"sort={sort}: not available in this store yet")


def available_sorts() -> tuple[str, ...]:
    """The sorts the backlinks table offers now, in the order it lists them."""
    ready = [s for s in PENDING_SORTS if s in BROWSE_SORTS and PENDING_SORTS[s] in EDGE_FIELDS]
    return (*BROWSE_SORTS, *ready, *COMPUTED_SORTS)
