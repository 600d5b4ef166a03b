"""What a fetched page becomes: the page and edge records (crawler/items.py)
built from a Scrapy response, and the response's headers read as the spiders
need them. Shared by the spiders that store what they fetch (`backlinks`,
`verify`), so a page is one record whichever fetched it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.http import HtmlResponse

from crawler.domains import registered_domain
from crawler.items import new_edge, new_page, utc_now
from crawler.language import DETECT_CHARS, detector_available, page_language
from crawler.placement import rules_from
from crawler.urls import URLNormalizer, url_host

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import scrapy
    from scrapy.settings import Settings

    from crawler.extraction import Link, PageLinks
    from crawler.items import EdgeItem, PageItem
    from crawler.placement import PlacementRules


def page_record(
    response: scrapy.http.Response,
    title: str,
    outlinks: int,
    watch: list[str],
    lang: str | None = None,
) -> PageItem:
    """The page item of a response, its edges to come; `watch`: the watch list
    of the crawl (only edges into it can be lost); `lang`: the page's language
    (crawler/language.py), None when unknown or not read. A 2xx or 304
    answer's validators are kept for the next conditional GET (an error
    page's are not: they would turn the page's next 200 into a 304)."""
    validators = response.status == 304 or 200 <= response.status < 300
    address = response.ip_address
    return new_page(
        lang=lang,
        ip=None if address is None else str(address),
        etag=header_text(response, b"ETag") if validators else None,
        last_modified=header_text(response, b"Last-Modified") if validators else None,
        url=response.url,
        domain=registered_domain(url_host(response.url)),
        status=response.status,
        title=title,
        outlinks=outlinks,
        edges=[],
        fetched_at=utc_now(),
        domain_links={},
        watch=watch,
    )


def link_edge(page: PageItem, link: Link, host: str) -> EdgeItem:
    """The edge of a link found on the page into a watched `host`."""
    return new_edge(
        source_url=page["url"],
        target_url=link.url,
        source_domain=page["domain"],
        target_domain=registered_domain(host),
        target_host=host,
        anchor=link.anchor,
        alt=link.alt,
        rel=list(link.rel),
        nofollow=link.nofollow,
        link_type=link.link_type,
        placement=link.placement,
        context=link.context,
        source_title=page["title"],
        source_status=page["status"],
    )


def redirect_edge(page: PageItem, target: str, host: str, status: int) -> EdgeItem:
    """The edge of a redirect (3xx answer) into a watched `host`: a link too."""
    return new_edge(
        source_url=page["url"],
        target_url=target,
        source_domain=page["domain"],
        target_domain=registered_domain(host),
        target_host=host,
        anchor="",
        alt="",
        rel=[],
        nofollow=False,
        link_type="redirect",
        placement="content",  # the page itself sends the visitor there
        context="",
        source_title="",
        source_status=status,
    )


def is_html(response: scrapy.http.Response) -> bool:
    content_type = response.headers.get(b"Content-Type")
    if content_type:
        return b"html" in content_type.lower()
    return isinstance(response, HtmlResponse)


def response_language(response: scrapy.http.Response, page: PageLinks, detect: bool) -> str | None:
    """The page's language (crawler/language.py): declared in the page or the
    Content-Language header, else detected from its text if `detect`."""
    text = (lambda: page.text(DETECT_CHARS)) if detect else None
    return page_language(page.lang, header_text(response, b"Content-Language"), text)


def extraction_settings(settings: Settings) -> tuple[URLNormalizer, PlacementRules, bool]:
    """How the storing spiders read a page, from the LINKWATCH_* settings: the
    URL normalizer, the placement rules, whether languages are detected."""
    normalize = URLNormalizer(
        strip_params=settings.getlist("LINKWATCH_STRIP_PARAMS"),
        max_length=settings.getint("LINKWATCH_MAX_URL_LENGTH"),
    )
    placement_rules = rules_from(settings.getdict("LINKWATCH_PLACEMENT_RULES"))
    return normalize, placement_rules, detection_on(settings)


def detection_on(settings: Settings) -> bool:
    """LINKWATCH_DETECT_LANG, off with a warning when the detector is not installed."""
    on = settings.getbool("LINKWATCH_DETECT_LANG")
    if on and not detector_available():
        logger.warning(
            "LINKWATCH_DETECT_LANG is on but pycld2 is not installed "
            "(pip install 'linkwatch[lang]'): languages are read, not detected"
        )
        return False
    return on


def header_text(response: scrapy.http.Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1").strip() or None if value else None


def header_charset(response: scrapy.http.Response) -> str | None:
    content_type = response.headers.get(b"Content-Type")
    if not content_type:
        return None
    for part in content_type.decode("latin-1").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"' ") or None
    return None


def x_robots_nofollow(response: scrapy.http.Response) -> bool:
    """True when an X-Robots-Tag header (for all agents) says nofollow or none."""
    return x_robots_says(response, ("nofollow", "none"))


def x_robots_says(response: scrapy.http.Response, tokens: tuple[str, ...]) -> bool:
    """Whether an X-Robots-Tag header for all agents has one of `tokens`
    (a value scoped to one crawler, "googlebot: noindex", does not count)."""
    for value in response.headers.getlist(b"X-Robots-Tag"):
        text = value.decode("latin-1").lower()
        if ":" in text.split(",", 1)[0]:
            continue
        if {t.strip() for t in text.replace(",", " ").split()} & set(tokens):
            return True
    return False
