"""The HTML pages: one per view, rendered on the server from the same numbers
as the JSON API (views.py), so every table works without JavaScript. The
overview's charts are the one progressive enhancement: static/dashboard.js
reads /api/overview and draws them with uPlot; without scripts the cards
and a table of the same series remain.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from crawler.dashboard import api
from crawler.dashboard.availability import available_sorts
from crawler.dashboard.params import FOLLOWS, PLACEMENTS, STATES, edge_filter, edge_sort
from crawler.items import LINK_TYPES

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.filters["dash"] = lambda value: "—" if value is None or value == "" else value
templates.env.filters["pct"] = lambda value: "—" if value is None else f"{value:.0%}"
templates.env.filters["day"] = lambda value: "—" if not value else str(value)[:10]

VIEWS = (
    ("overview", "Overview"),
    ("backlinks", "Backlinks"),
    ("refdomains", "Referring domains"),
    ("anchors", "Anchors"),
    ("lost", "Lost"),
    ("broken", "Broken"),
    ("gap", "Gap"),
    ("toxic", "Toxic"),
)


def render(request: Request, view: str, data: dict[str, Any], **extra: Any) -> Response:
    params = {k: v for k, v in request.query_params.items() if k != "page"}
    context = {
        "view": view,
        "views": VIEWS,
        "domains": request.app.state.dashboard.watched(),
        "domain": data.get("domain"),
        "data": data,
        "params": request.query_params,
        "store_label": request.app.state.store_label,
        "page_url": lambda page: f"{request.url.path}?{urlencode({**params, 'page': page})}",
        **extra,
    }
    return templates.TemplateResponse(request, f"{view}.html", context)


def home(request: Request) -> Response:
    return RedirectResponse("/overview", status_code=303)


def overview(request: Request) -> Response:
    q = api.query(request, "/api/overview")
    return render(
        request, "overview", request.app.state.dashboard.overview(api.default_target(request, q))
    )


def backlinks(request: Request) -> Response:
    q = api.query(request, "/api/backlinks")
    target, where, sort = api.default_target(request, q), edge_filter(q), edge_sort(q)
    data = request.app.state.dashboard.backlinks(target, where, sort, q.paging())
    export = {k: v for k, v in request.query_params.items() if k not in ("page", "per_page")}
    return render(
        request,
        "backlinks",
        data,
        states=STATES,
        follows=FOLLOWS,
        link_types=LINK_TYPES,
        placements=PLACEMENTS,
        sorts=available_sorts(),
        export_query=urlencode({**export, "domain": data["domain"]}),
    )


def _simple(method: str, view: str) -> Callable[[Request], Response]:
    def page(request: Request) -> Response:
        # The API's answer, rendered: the page shows exactly what /api/... returns.
        response = getattr(api, method)(request)
        return render(request, view, orjson.loads(response.body))

    page.__name__ = view
    return page


def gap(request: Request) -> Response:
    q = api.query(request, "/api/gap")
    if q.text("vs") is None:  # the form, before competitors are named
        target = api.default_target(request, q)
        return render(request, "gap", {"domain": target.domain, "rows": None})
    return _simple("gap", "gap")(request)


ROUTES: list[tuple[str, Callable[[Request], Response]]] = [
    ("/", home),
    ("/overview", overview),
    ("/backlinks", backlinks),
    ("/refdomains", _simple("refdomains", "refdomains")),
    ("/anchors", _simple("anchors", "anchors")),
    ("/lost", _simple("lost", "lost")),
    ("/broken", _simple("broken", "broken")),
    ("/gap", gap),
    ("/toxic", _simple("toxic", "toxic")),
]
