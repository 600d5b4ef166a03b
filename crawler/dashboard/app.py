"""The dashboard's ASGI application: routes, error answers, static files.

`create_app` takes what `linkwatch serve` resolved (the store settings, the
token, whether only loopback may ask) and builds the Starlette app. Errors:
a bad parameter is a 400 with its message, a store that fails a 503 with
its (credential-free) message; anything else is a bug, a 500 without detail.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from crawler.dashboard import api, pages
from crawler.dashboard.params import BadParameter
from crawler.dashboard.pool import StorePool
from crawler.dashboard.security import Guard
from crawler.dashboard.views import Dashboard

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from starlette.requests import Request

    from crawler.intelligence.toxic import ToxicRules

logger = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")


def create_app(
    settings: Mapping[str, Any],
    *,
    token: str | None = None,
    loopback_only: bool = True,
    store_label: str = "",
    rules: ToxicRules | None = None,
    whitelist: frozenset[str] = frozenset(),
    redis_url: str = "",
    redis_prefix: str = "",
    cache_seconds: float = 60.0,
) -> Starlette:
    """The dashboard over the store `settings` name (those of open_store)."""
    from crawler.dashboard.cache import TTLCache
    from pipelines.stores import StoreError

    pool = StorePool(settings)
    routes = [Route(path, endpoint, methods=["GET", "HEAD"]) for path, endpoint in api.ROUTES]
    routes += [Route(path, endpoint, methods=["GET", "HEAD"]) for path, endpoint in pages.ROUTES]
    routes += [
        Route("/healthz", lambda request: PlainTextResponse("ok"), methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=token, loopback_only=loopback_only)],
        exception_handlers={
            BadParameter: bad_parameter,
            StoreError: store_failed,
            Exception: failure,
        },
        lifespan=_closing(pool),
    )
    if rules is None:
        from crawler.cli.toxic_rules import environment_rules

        rules, whitelist = environment_rules()
    app.state.dashboard = Dashboard(
        pool, rules, whitelist, redis_url, redis_prefix, TTLCache(cache_seconds)
    )
    app.state.store_label = store_label
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def bad_parameter(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc))


def store_failed(request: Request, exc: Exception) -> Response:
    return _error(request, 503, str(exc))


def failure(request: Request, exc: Exception) -> Response:
    logger.error("dashboard: %s %s failed", request.method, request.url.path, exc_info=exc)
    return _error(request, 500, "internal error (a bug: see the server's log)")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return pages.templates.TemplateResponse(
        request,
        "error.html",
        {
            "message": message,
            "status": status,
            "views": pages.VIEWS,
            "view": "",
            "domains": [],
            "domain": None,
            "store_label": request.app.state.store_label,
        },
        status_code=status,
    )


def _closing(pool: StorePool) -> Any:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        pool.close()

    return lifespan
