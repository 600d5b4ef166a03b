"""Requests as JSON, for scrapy-redis' SCHEDULER_SERIALIZER: no pickle.

Whoever can write to Redis must not be able to run code on the workers, so a
queued request is plain JSON (orjson): URL, method, headers, body (base64),
meta, priority, and its callback/errback by spider method name. `loads` only
accepts objects of that shape; anything else raises ValueError.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from scrapy import Request

# Meta keys Scrapy's downloader adds to a request; stale once it is queued again.
TRANSIENT_META = frozenset(
    ("download_latency", "download_slot", "download_timeout", "_auth_proxy", "proxy")
)
ALLOWED_CLASSES = frozenset(("scrapy.http.request.Request", "scrapy.Request"))


def dumps(request: dict[str, Any]) -> bytes:
    """A `Request.to_dict()` dict as JSON bytes."""
    out: dict[str, Any] = {"url": request["url"]}
    if request.get("method", "GET") != "GET":
        out["method"] = request["method"]
    for name in ("callback", "errback", "priority", "dont_filter", "cb_kwargs", "flags"):
        value = request.get(name)
        if value:
            out[name] = value
    headers = request.get("headers") or {}
    if headers:
        out["headers"] = [
            [_text(name), _text(value)] for name, values in headers.items() for value in values
        ]
    body = request.get("body") or b""
    if body:
        out["body"] = base64.b64encode(body).decode()
    meta = {k: v for k, v in (request.get("meta") or {}).items() if k not in TRANSIENT_META}
    if meta:
        out["meta"] = meta
    try:
        return orjson.dumps(out)
    except TypeError as exc:
        raise ValueError(f"request {request['url']} has meta that is not JSON: {exc}") from None


def request_fields(request: Request, spider: object) -> dict[str, Any]:
    """What `Request.to_dict(spider=spider)` gives `dumps`, for a plain Request.

    Scrapy finds the callback's name by listing every method of the spider
    (inspect.getmembers) for each request (measured: BENCHMARKS.md). A method is
    looked up by its own name instead.
    """
    return {
        "url": request.url,
        "method": request.method,
        "callback": _method_name(request.callback, spider),
        "errback": _method_name(request.errback, spider),
        "priority": request.priority,
        "dont_filter": request.dont_filter,
        "cb_kwargs": request.cb_kwargs,
        "flags": request.flags,
        "headers": request.headers,
        "body": request.body,
        "meta": request.meta,
    }


def _method_name(func: Any, spider: object) -> str | None:
    if func is None or isinstance(func, str):
        return func
    # As Scrapy's _find_method: the spider method whose function this is.
    name = getattr(func, "__name__", "")
    function = getattr(func, "__func__", None)
    if function is not None and getattr(getattr(spider, name, None), "__func__", None) is function:
        return name
    raise ValueError(f"{func!r} is not a method of the spider: it cannot be queued in Redis")


def loads(data: bytes | str) -> dict[str, Any]:
    """JSON bytes back to a dict for `scrapy.utils.request.request_from_dict`."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ValueError(
            "queued request is not JSON (pickle and other formats are refused)"
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
        raise ValueError("queued request is not a JSON object with a url")
    request: dict[str, Any] = {
        "url": raw["url"],
        "method": raw.get("method", "GET"),
        "callback": raw.get("callback"),
        "errback": raw.get("errback"),
        "priority": int(raw.get("priority", 0)),
        "dont_filter": bool(raw.get("dont_filter", False)),
        "cb_kwargs": raw.get("cb_kwargs") or {},
        "flags": raw.get("flags") or [],
        "meta": raw.get("meta") or {},
    }
    if not isinstance(request["meta"], dict) or not isinstance(request["cb_kwargs"], dict):
        raise ValueError("queued request has malformed meta")
    for name in ("callback", "errback"):
        if request[name] is not None and not isinstance(request[name], str):
            raise ValueError(f"queued request has a malformed {name}")
    headers: dict[bytes, list[bytes]] = {}
    for pair in raw.get("headers") or []:
        name, value = pair
        headers.setdefault(name.encode("latin-1"), []).append(value.encode("latin-1"))
    request["headers"] = headers
    request["body"] = base64.b64decode(raw["body"]) if raw.get("body") else b""
    return request


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value
