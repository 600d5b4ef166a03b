"""The JSON API under /api/: what the pages and their charts read.

Every endpoint is GET, takes the query parameters listed in ENDPOINTS
(anything else is a 400), and answers JSON whose rows carry the field names
of the matching command's `--format json`. Paged lists answer `page`,
`per_page`, `has_more` and `rows` (and `total` when it is known without
counting a table). `GET /api/` lists the endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from crawler.dashboard import export
from crawler.dashboard.availability import available_sorts
from crawler.dashboard.params import (
    BACKLINKS_PARAMS,
    EXPORT_FORMATS,
    EXPORT_PARAMS,
    BadParameter,
    Query,
    edge_filter,
    edge_sort,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

    from crawler.dashboard.views import Dashboard

REFDOMAIN_SORTS = ("edges", "authority", "toxic")

# path -> (parameters, what it answers); the documentation of GET /api/.
ENDPOINTS: dict[str, tuple[tuple[str, ...], str]] = {
    "/api/domains": ((), "the watched domains the store has backlinks into"),
    "/api/overview": (("domain",), "cards, chart series and the shared crawl's status"),
    "/api/backlinks": (BACKLINKS_PARAMS, "one page of edges, filtered and sorted"),
    "/api/backlinks/export": (EXPORT_PARAMS, "every edge of the filtered view: csv or jsonl"),
    "/api/refdomains": (("domain", "sort", "page", "per_page"), "referring domains"),
    "/api/anchors": (("domain", "page", "per_page"), "anchor texts, classes and shares"),
    "/api/lost": (("domain", "since", "page", "per_page"), "lost edges and their reasons"),
    "/api/broken": (("domain", "page", "per_page"), "broken target pages (cached checks)"),
    "/api/gap": (("domain", "vs", "min", "page", "per_page"), "competitor gap"),
    "/api/toxic": (("domain", "min_score", "page", "per_page"), "toxic referring domains"),
    "/api/status": ((), "the shared crawl's status (REDIS_URL), or null"),
}


def query(request: Request, path: str) -> Query:
    return Query(request.query_params, ENDPOINTS[path][0])


def index(request: Request) -> Response:
    return JSONResponse(
        {
            "endpoints": [
                {"path": path, "parameters": list(params), "answers": text}
                for path, (params, text) in ENDPOINTS.items()
            ],
            "backlinks_sorts": list(available_sorts()),
        }
    )


def domains(request: Request) -> Response:
    query(request, "/api/domains")
    return JSONResponse({"domains": dashboard(request).watched()})


def overview(request: Request) -> Response:
    q = query(request, "/api/overview")
    return JSONResponse(dashboard(request).overview(default_target(request, q)))


def backlinks(request: Request) -> Response:
    q = query(request, "/api/backlinks")
    target, where, sort = default_target(request, q), edge_filter(q), edge_sort(q)
    return JSONResponse(dashboard(request).backlinks(target, where, sort, q.paging()))


def backlinks_export(request: Request) -> Response:
    q = query(request, "/api/backlinks/export")
    target, where, sort = default_target(request, q), edge_filter(q), edge_sort(q)
    fmt = q.choice("format", EXPORT_FORMATS, "csv")
    assert fmt is not None
    rows = dashboard(request).export_rows(target, where, sort)
    body = export.as_csv(rows) if fmt == "csv" else export.as_jsonl(rows)
    name = f"backlinks-{target.host or target.domain}.{fmt}"
    return StreamingResponse(
        body,
        media_type=export.MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def refdomains(request: Request) -> Response:
    q = query(request, "/api/refdomains")
    sort = q.choice("sort", REFDOMAIN_SORTS, "edges")
    assert sort is not None
    return JSONResponse(dashboard(request).refdomains(default_target(request, q), sort, q.paging()))


def anchors(request: Request) -> Response:
    q = query(request, "/api/anchors")
    return JSONResponse(dashboard(request).anchors(default_target(request, q), q.paging()))


def lost(request: Request) -> Response:
    q = query(request, "/api/lost")
    target = default_target(request, q)
    return JSONResponse(dashboard(request).lost(target, q.date("since"), q.paging()))


def broken(request: Request) -> Response:
    q = query(request, "/api/broken")
    return JSONResponse(dashboard(request).broken(default_target(request, q), q.paging()))


def gap(request: Request) -> Response:
    q = query(request, "/api/gap")
    mine, competitors, minimum = gap_params(request, q)
    return JSONResponse(dashboard(request).gap(mine, competitors, minimum, q.paging()))


def gap_params(request: Request, q: Query) -> tuple[str, list[str], int]:
    """Your registered domain, the competitors (--vs), and --min, checked as `gap` checks them."""
    from crawler.domains import registered_domain

    mine = default_target(request, q)
    if mine.host is not None:
        raise BadParameter(f"domain: {mine.host} is a host; gap compares registered domains")
    competitors = [registered_domain(d) for d in q.domains("vs")]
    competitors = list(dict.fromkeys(competitors))
    if not competitors:
        raise BadParameter("vs: required: competitors' domains, comma-separated")
    if mine.domain in competitors:
        raise BadParameter(f"vs: {mine.domain} is the domain itself")
    minimum = q.number("min", min(2, len(competitors)), 1, len(competitors))
    return mine.domain, competitors, minimum


def toxic(request: Request) -> Response:
    q = query(request, "/api/toxic")
    min_score = q.number("min_score", 1, 0, 100)
    return JSONResponse(dashboard(request).toxic(default_target(request, q), min_score, q.paging()))


def status(request: Request) -> Response:
    query(request, "/api/status")
    return JSONResponse(dashboard(request).crawl_status())


def dashboard(request: Request) -> Dashboard:
    return request.app.state.dashboard


def default_target(request: Request, q: Query) -> Any:
    """The `domain` parameter, else the first watched domain of the store."""
    if q.text("domain") is None:
        watched = dashboard(request).watched()
        if not watched:
            raise BadParameter("domain: required (the store has no backlinks yet)")
        return q.target(default=watched[0])
    return q.target()


ROUTES: list[tuple[str, Callable[[Request], Response]]] = [
    ("/api/", index),
    ("/api/domains", domains),
    ("/api/overview", overview),
    ("/api/backlinks", backlinks),
    ("/api/backlinks/export", backlinks_export),
    ("/api/refdomains", refdomains),
    ("/api/anchors", anchors),
    ("/api/lost", lost),
    ("/api/broken", broken),
    ("/api/gap", gap),
    ("/api/toxic", toxic),
    ("/api/status", status),
]
