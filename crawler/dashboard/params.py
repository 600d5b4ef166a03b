"""Every query parameter of the dashboard, validated before any store sees it.

A parameter is read from a closed list per view (an unknown one is an
error, so `follow[$gt]=` never reaches a query), each value checked against
its type or its choices; what comes out is typed values, never text to
paste into SQL or a Mongo filter. A mistake is `BadParameter`, a 400 with a
one-line message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.cli.common import iso_moment
from crawler.dashboard.availability import NotAvailable, check_filter, check_sort
from crawler.items import LINK_TYPES

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from pipelines.stores.base import EdgeFilter, Target

PER_PAGE = 100
MAX_PER_PAGE = 500
MAX_PAGE = 100_000
MAX_TEXT = 200
STATES = ("live", "lost", "all")
FOLLOWS = ("any", "followed", "nofollow")
SORTS = ("domain", "authority", "first_seen", "last_seen", "quality")
# Where a link sits on its page (crawler/placement.py); listed here so the
# dashboard does not depend on that module existing in an older checkout.
PLACEMENTS = ("content", "nav", "header", "footer", "sidebar", "comment")
EXPORT_FORMATS = ("csv", "jsonl")


class BadParameter(ValueError):
    """A query parameter the dashboard cannot use: HTTP 400, this message."""


@dataclass(frozen=True, slots=True)
class Paging:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


class Query:
    """The query parameters of one request, read through the checks below."""

    def __init__(self, params: Mapping[str, str], allowed: Collection[str]) -> None:
        self.params = params
        for name in params:
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise BadParameter(f"unknown parameter {name!r} (known: {known})")

    def text(self, name: str, default: str | None = None, limit: int = MAX_TEXT) -> str | None:
        value = self.params.get(name)
        if value is None or value.strip() == "":
            return default
        value = value.strip()
        if len(value) > limit:
            raise BadParameter(f"{name}: at most {limit} characters")
        if any(ord(c) < 32 for c in value):
            raise BadParameter(f"{name}: control characters are not allowed")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str | None) -> str | None:
        value = self.text(name)
        if value is None:
            return default
        if value not in choices:
            raise BadParameter(f"{name}: {value!r} is not one of {', '.join(choices)}")
        return value

    def number(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not value.isascii() or not value.isdigit():
            raise BadParameter(f"{name}: not a whole number: {value!r}")
        number = int(value)
        if not low <= number <= high:
            raise BadParameter(f"{name}: must be between {low} and {high}")
        return number

    def date(self, name: str) -> str | None:
        """An ISO 8601 date or time, as the store's UTC string."""
        value = self.text(name, limit=40)
        if value is None:
            return None
        try:
            return iso_moment(value)
        except ValueError:
            raise BadParameter(
                f"{name}: not a date from 1970 on: {value!r} (use YYYY-MM-DD)"
            ) from None

    def target(self, name: str = "domain", default: str | None = None) -> Target:
        from pipelines.stores import Target

        value = self.text(name, default, limit=253)
        if value is None:
            raise BadParameter(f"{name}: required (a watched domain, e.g. mysite.com)")
        try:
            return Target.parse(value)
        except ValueError as exc:
            raise BadParameter(f"{name}: {exc}") from None

    def domain(self, name: str) -> str | None:
        """A registered domain, cleaned as the store keeps it."""
        from crawler.domains import clean_domain

        value = self.text(name, limit=253)
        if value is None:
            return None
        try:
            return clean_domain(value)
        except ValueError as exc:
            raise BadParameter(f"{name}: {exc}") from None

    def domains(self, name: str) -> list[str]:
        """A comma list of registered domains (repeated names, once)."""
        value = self.text(name, limit=2000)
        if value is None:
            return []
        found = []
        for part in value.split(","):
            if part.strip():
                found.append(Query({name: part}, {name}).domain(name))
        return list(dict.fromkeys(d for d in found if d))

    def paging(self) -> Paging:
        return Paging(
            self.number("page", 1, 1, MAX_PAGE),
            self.number("per_page", PER_PAGE, 1, MAX_PER_PAGE),
        )


# --- the backlinks table ------------------------------------------------------------------

EDGE_FILTERS = ("state", "since", "follow", "link_type", "placement", "source_domain", "q")
BACKLINKS_PARAMS = ("domain", *EDGE_FILTERS, "sort", "page", "per_page")
EXPORT_PARAMS = ("domain", *EDGE_FILTERS, "sort", "format")


def edge_filter(query: Query) -> EdgeFilter:
    """The backlinks filters of a request."""
    from pipelines.stores.base import EdgeFilter

    follow = query.choice("follow", FOLLOWS, "any")
    placement = query.choice("placement", PLACEMENTS, None)
    if placement is not None:
        _available(check_filter, "placement")
    return EdgeFilter(
        state=query.choice("state", STATES, "live"),  # type: ignore[arg-type]
        since=query.date("since"),
        follow=None if follow == "any" else follow == "followed",
        link_type=query.choice("link_type", LINK_TYPES, None),
        placement=placement,
        source_domain=query.domain("source_domain"),
        text=query.text("q"),
    )


def edge_sort(query: Query) -> str:
    sort = query.choice("sort", SORTS, "domain")
    assert sort is not None
    _available(check_sort, sort)
    return sort


def _available(check: Any, name: str) -> None:
    try:
        check(name)
    except NotAvailable as exc:
        raise BadParameter(str(exc)) from None
