"""Every link of an HTML page, as docs/edge-semantics.md defines them.

Pure: bytes and the page URL in, ``PageLinks`` out; no Scrapy, settings or
I/O, so the spider, the tests and the benchmarks call the same function.

Link sources and their ``link_type``: ``<a href>`` (a), ``<area href>``
(area), ``<link rel=canonical href>`` (canonical), ``<iframe src>`` and
``<frame src>`` (frame), ``<meta http-equiv=refresh>`` (meta_refresh). All of
them resolve against the document base URL: the first ``<base href>``,
itself resolved against the page URL, else the page URL. Every http(s) link
is returned, internal or external; the spider classifies them. A page's
links are deduplicated on the canonical target URL: the first in document
order wins, with its type, rel, anchor and alt. Hrefs that are not links
(``javascript:``, ``mailto:``, empty, unparsable...) are counted in
``PageLinks.skipped`` by reason and never fail the page.

Extraction is the main CPU cost of a crawl, so the work is shaped by it:

- one parse (Lexbor) and one CSS pass that returns just the elements that
  matter, in document order; UTF-8 bytes go to Lexbor as they are;
- the URL normalizer is the expensive part per link. An href is resolved
  once per page, and without its fragment, which the canonical form drops
  anyway (documentation pages link to many anchors of a few pages); absolute
  http(s) hrefs are normalized without a base, relative ones against the one
  base of the page; other schemes are counted without calling it;
- anchor text and image alt are read only for the links that survive
  deduplication; so are placement and context (below).

Each link's ``placement`` (crawler/placement.py: content, nav, header, footer,
sidebar, comment) folds the rules over its ancestors, each element read once
per page (its state is kept by ``mem_id``, so a menu's hundred links walk up
the menu once). Its ``context`` is up to ``CONTEXT_MAX_CHARS`` characters of
the text of its nearest block ancestor (``p``, ``li``, ``td``, ``div``...),
whitespace collapsed, around the anchor text; each block's text is read once
per page. ``<area>`` and frames get a placement too; ``<link rel=canonical>``
and meta refresh sit in ``<head>``: content, no context.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from crawler.encoding import parser_input, undeclared
from crawler.placement import (
    DEFAULT,
    DEFAULT_RULES,
    PASSED,
    TOP,
    Own,
    PlacementRules,
    State,
    combine,
    own_marker,
    tokens_of,
)
from crawler.urls import normalize_url

__all__ = [
    "ANCHOR_MAX_CHARS",
    "CONTEXT_MAX_CHARS",
    "Link",
    "PageLinks",
    "extract_links",
    "parse_meta_refresh",
]

ANCHOR_MAX_CHARS = 300
CONTEXT_MAX_CHARS = 150

Normalizer = Callable[[str, str | None], str]


@dataclass(slots=True, frozen=True)
class Link:
    """One link of a page: its canonical target and how the page links to it."""

    url: str  # canonical absolute URL (through the injected normalizer)
    link_type: str  # a | area | canonical | frame | meta_refresh
    rel: tuple[str, ...] = ()  # lower-case tokens, document order, no repeats
    anchor: str = ""  # <a> text, whitespace collapsed, at most 300 characters
    alt: str = ""  # <a>: first descendant <img> with an alt; <area>: its own alt
    nofollow: bool = False  # rel has nofollow, or the page says nofollow
    # Where the link sits and the text around it: "" until PageLinks.evidence
    # (or with_evidence) computed them.
    placement: str = ""  # content | nav | header | footer | sidebar | comment
    context: str = ""  # text around the link, at most CONTEXT_MAX_CHARS characters


@dataclass(slots=True)
class PageLinks:
    """What a page links to, and what it says about itself."""

    title: str  # first <title>, whitespace collapsed ("" if none)
    links: list[Link]  # distinct targets, first occurrence in document order
    page_nofollow: bool  # meta robots nofollow/none, or the caller's X-Robots-Tag
    base_url: str  # canonical document base URL the hrefs were resolved against
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> hrefs skipped
    noindex: bool = False  # meta robots noindex/none (the X-Robots-Tag is the caller's)
    canonical: str | None = None  # the first <link rel=canonical> that resolves, canonical
    lang: str | None = None  # the <html lang> attribute as written (crawler/language.py reads it)
    # Each link's element (None: a canonical <link>) and the page's placement
    # and context reader: evidence() reads them for the links that need it.
    _nodes: list[Any] = field(default_factory=list, repr=False, compare=False)
    _where: _Where | None = field(default=None, repr=False, compare=False)

    def evidence(self, index: int) -> Link:
        """``links[index]`` with its placement and context.

        Computed on demand, from the tree of the same parse: a crawl stores
        them only for the links that become edges (into watched domains), a
        small share of a page's links, and computing them for every link
        would cost a quarter of extraction's time (BENCHMARKS.md, 2)."""
        link = self.links[index]
        if link.placement or self._where is None:
            return link
        node = self._nodes[index] if index < len(self._nodes) else None
        if node is None:  # <link rel=canonical>, meta refresh: the page's head
            placement, context = DEFAULT, ""
        else:
            anchor = link.anchor if link.link_type == "a" else None
            placement, context = self._where.locate(node, anchor)
        # (Not dataclasses.replace: four times the cost, on every edge.)
        link = self.links[index] = Link(
            link.url, link.link_type, link.rel, link.anchor, link.alt, link.nofollow,
            placement, context,
        )  # fmt: skip
        return link

    def text(self, limit: int) -> str:
        """The first ``limit`` characters of the body's text (script and style
        skipped), for the language detector: it stops reading there, where
        ``body.text()`` would read a whole long page first."""
        body = None if self._where is None else self._where.tree.body
        if body is None:
            return ""
        parts: list[str] = []
        size = 0
        for node in body.traverse(include_text=True):
            if node.is_text_node and node.parent.tag not in _NOT_TEXT:
                text = node.text_content
                if text and not text.isspace():
                    parts.append(text)
                    size += len(text)
                    if size >= limit:
                        break
        return " ".join(" ".join(parts).split())[:limit]

    def with_evidence(self) -> list[Link]:
        """Every link with its placement and context (tests, verify, the hand-labelled set)."""
        return [self.evidence(index) for index in range(len(self.links))]


# The elements that carry links or change how links are read, in one selector
# list so Lexbor walks the tree once and returns them in document order.
# Attribute-presence selectors cost Lexbor far less than tag selectors
# (measured: BENCHMARKS.md, extraction), so this over-selects (<script src>,
# <span content>...) and the loop drops the extra elements by tag name; <img>
# is there for the alt of links that wrap an image.
_SELECTOR = "[href],[src],[content],title,img"


def _tag_id(tag: str) -> int:
    """Lexbor's id of a tag: an int compare is cheaper than building the tag
    name string for each of a page's thousands of elements."""
    # Table and list parts are dropped outside their parents: parse them inside.
    html = f"<table><caption></caption><tr><td></td><th></th></tr></table><dl><dt><dd><{tag}>"
    return LexborHTMLParser(html).css_first(tag).tag_id


# The two most frequent tags.
_A_ID = _tag_id("a")
_IMG_ID = _tag_id("img")

# Elements whose text is not the page's text.
_NOT_TEXT = frozenset({"script", "style", "noscript", "template"})

# HTML's ASCII whitespace (tab, LF, FF, CR, space): what the standard strips and
# collapses in document.title; also what separates rel tokens.
_ASCII_WS_RUN = re.compile(r"[\t\n\f\r ]+")
_ASCII_WS = "\t\n\f\r "
# What the WHATWG URL parser strips from both ends of an input.
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_DROP_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")
_ABSOLUTE_HTTP = ("http://", "https://")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Schemes that are common enough in hrefs to count on their own.
_NAMED_SCHEMES = frozenset({"javascript", "mailto", "tel", "data"})
_ROBOTS_TOKENS = re.compile(r"[\s,]+")
_URL_EQUALS = re.compile(r"url[\t\n\f\r ]*=", re.IGNORECASE)


def extract_links(
    body: bytes | str,
    page_url: str,
    *,
    encoding: str | None = None,
    nofollow: bool = False,
    normalize: Normalizer = normalize_url,
    placement_rules: PlacementRules = DEFAULT_RULES,
) -> PageLinks:
    """Every http(s) link of an HTML document.

    ``page_url`` is the canonical URL the document was fetched from.
    ``encoding`` is the charset of the Content-Type header, if any: it wins
    over the document's own ``<meta charset>``, as in a browser. ``nofollow``
    is the response's ``X-Robots-Tag: nofollow`` (or ``none``). ``normalize``
    is called as ``normalize(href, None)`` for an absolute http(s) href and
    ``normalize(href, base)`` otherwise, at most once per href (fragment
    removed); it returns the canonical URL or raises ``ValueError``
    (``RejectedURL``, whose ``reason`` is used as the skip reason).
    ``placement_rules``: the token lists of crawler/placement.py. Broken
    markup, bad encodings and NUL bytes never raise.

    Four steps, each once per page: parse, one pass over the elements that
    matter, the document's base URL, then the links resolved and deduplicated.
    """
    tree = _parse(body, encoding)
    scan = _scan(tree, nofollow)
    base = _document_base(scan.base_href, page_url, normalize)
    links, nodes, skipped, canonical = _resolve_links(scan, base, normalize)
    page = PageLinks(scan.title or "", links, scan.nofollow, base, skipped, scan.noindex, canonical)
    page._nodes = nodes
    page._where = _Where(placement_rules, tree)
    root = tree.root
    if root is not None:
        page.lang = root.attributes.get("lang")
    return page


@dataclass(slots=True)
class _Scan:
    """What one pass over a page's elements found."""

    nofollow: bool  # the caller's X-Robots-Tag, or a meta robots nofollow/none
    noindex: bool = False  # a meta robots noindex/none
    title: str | None = None
    base_href: str | None = None
    # (link_type, raw url, extra): extra is the <a>, <area> or frame node (its
    # text, rel, alt and placement are read only if it wins), the rel tokens of
    # a canonical <link>.
    found: list[tuple[str, str | None, Any]] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)


def _parse(body: bytes | str, encoding: str | None) -> LexborHTMLParser:
    html, detect = parser_input(body, encoding)
    try:
        return LexborHTMLParser(html, encoding=detect)
    except (UnicodeError, LookupError):
        # Only when Lexbor detects the encoding (bytes): a <meta> charset Python
        # cannot start decoding in ("utf16" with no BOM raises even with
        # errors="replace") counts as no declaration.
        return LexborHTMLParser(undeclared(html) if isinstance(html, bytes) else html)


def _scan(tree: LexborHTMLParser, nofollow: bool) -> _Scan:
    """One pass over the elements that carry links or change how they read."""
    scan = _Scan(nofollow)
    found = scan.found
    for node in tree.css(_SELECTOR):
        tag_id = node.tag_id
        if tag_id == _A_ID:  # by far the most frequent: first, by its id
            try:
                href = node.attrs["href"]
            except KeyError:  # <a content=...>: selected, but not a link
                continue
            found.append(("a", href, node))
            continue
        if tag_id == _IMG_ID:
            scan.images.append(node)
            continue
        tag = node.tag
        if tag == "link":
            attrs = node.attributes
            rel = _rel_tokens(attrs.get("rel"))
            if "canonical" in rel and "href" in attrs:
                found.append(("canonical", attrs["href"], rel))
        elif tag == "area":
            attrs = node.attributes
            if "href" in attrs:
                found.append(("area", attrs["href"], node))
        elif tag == "meta":
            _read_meta(node.attributes, scan)
        elif tag == "iframe" or tag == "frame":
            attrs = node.attributes
            if "src" in attrs:
                found.append(("frame", attrs["src"], node))
        elif tag == "base" and scan.base_href is None:
            attrs = node.attributes
            if "href" in attrs:
                scan.base_href = attrs["href"] or ""
        elif tag == "title" and scan.title is None:
            scan.title = _collapse(node.text_lexbor())
    return scan


def _read_meta(attrs: dict[str, str | None], scan: _Scan) -> None:
    """A <meta> (it has a content attribute): robots nofollow or noindex, or a
    refresh link."""
    content = attrs.get("content") or ""
    name = attrs.get("name")
    if name is not None and name.strip(_ASCII_WS).lower() == "robots":
        tokens = _ROBOTS_TOKENS.split(content.lower())
        if "nofollow" in tokens or "none" in tokens:
            scan.nofollow = True
        if "noindex" in tokens or "none" in tokens:
            scan.noindex = True
    equiv = attrs.get("http-equiv")
    if equiv is not None and equiv.strip(_ASCII_WS).lower() == "refresh":
        target = parse_meta_refresh(content)
        if target is not None:
            scan.found.append(("meta_refresh", target, None))


def _document_base(base_href: str | None, page_url: str, normalize: Normalizer) -> str:
    """The URL hrefs resolve against: the first <base href>, else the page URL.

    HTML: a base href that does not parse leaves the page URL as base; so does
    one that is not http(s) here, since no link could resolve against it to an
    http(s) URL."""
    if base_href is None:
        return page_url
    resolved = _resolve(_without_fragment(_clean(base_href)), page_url, normalize)
    return resolved[0] if resolved[0] is not None else page_url


def _resolve_links(
    scan: _Scan, base: str, normalize: Normalizer
) -> tuple[list[Link], list[Any], dict[str, int], str | None]:
    """The distinct canonical targets, first occurrence in document order, the
    element of each (None for a canonical <link>), the hrefs skipped by
    reason, and the first canonical URL (a <link rel=canonical>, even when an
    earlier link had its target). Each distinct href is resolved once."""
    links: list[Link] = []
    nodes: list[Any] = []
    skipped: dict[str, int] = {}
    seen: set[str] = set()
    canonical: str | None = None
    # href up to its first "#" -> (canonical URL or None, skip reason). What
    # follows the "#" cannot change the canonical URL, which has no fragment.
    targets: dict[str | None, tuple[str | None, str]] = {}
    alts: dict[int, str] | None = None
    nofollow = scan.nofollow
    for link_type, raw, extra in scan.found:
        key = raw
        if raw:
            hash_at = raw.find("#")
            if hash_at >= 0:
                key = raw[: hash_at + 1]
        target = targets.get(key)
        if target is None:
            # "x.html#a", "x.html#b" and " x.html" all come down to "x.html".
            href = _without_fragment(_clean(key))
            target = targets.get(href)
            if target is None:
                target = targets[href] = _resolve(href, base, normalize)
            targets[key] = target
        url = target[0]
        if url is None:
            reason = target[1]
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        if link_type == "canonical" and canonical is None:
            canonical = url
        if url in seen:
            continue
        seen.add(url)
        if link_type == "a":
            if alts is None:
                alts = _alts_by_link(scan.images)
            links.append(_anchor_link(url, extra, alts, nofollow))
            nodes.append(extra)
        elif link_type == "area":
            attrs = extra.attributes
            rel = _rel_tokens(attrs.get("rel"))
            alt = _collapse(attrs.get("alt"))
            links.append(Link(url, "area", rel, "", alt, nofollow or "nofollow" in rel))
            nodes.append(extra)
        elif link_type == "canonical":
            links.append(Link(url, "canonical", extra, "", "", nofollow or "nofollow" in extra))
            nodes.append(None)
        else:  # a frame (its node) or the meta refresh (None)
            links.append(Link(url, link_type, (), "", "", nofollow))
            nodes.append(extra)
    return links, nodes, skipped, canonical


def _anchor_link(url: str, node: Any, alts: dict[int, str], page_nofollow: bool) -> Link:
    rel = _rel_tokens(node.attributes.get("rel"))
    anchor = _collapse(node.text_lexbor())
    if len(anchor) > ANCHOR_MAX_CHARS:
        anchor = anchor[:ANCHOR_MAX_CHARS].rstrip(" ")
    alt = alts.get(node.mem_id, "") if alts else ""
    return Link(url, "a", rel, anchor, alt, page_nofollow or "nofollow" in rel)


# The elements whose text is a link's context: the nearest one enclosing it.
_BLOCKS = frozenset(
    [
        "p", "li", "td", "th", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "figcaption", "caption", "pre", "address", "div", "section",
        "article", "aside", "nav", "header", "footer", "main", "form", "body",
    ]
)  # fmt: skip
_BLOCK_IDS = frozenset(_tag_id(tag) for tag in _BLOCKS)
# Elements the placement rules never read (crawler/placement.py, rule 3).
_PASSED_IDS = frozenset(_tag_id(tag) for tag in PASSED)


# rules -> (tag_id, role, id, class), or tag_id, -> what such an element says: templates
# repeat the same few, page after page. Bounded: cleared when it grows large.
_OWNS: dict[int, tuple[PlacementRules, dict[Any, Own]]] = {}
_OWNS_MAX = 20_000


def _owns_cache(rules: PlacementRules) -> dict[Any, Own]:
    held = _OWNS.get(id(rules))
    if held is None or held[0] is not rules:
        if len(_OWNS) > 8:
            _OWNS.clear()
        held = _OWNS[id(rules)] = (rules, {})
    elif len(held[1]) > _OWNS_MAX:
        held[1].clear()
    return held[1]


class _Where:
    """Placement and context of a page's links, each element read once per page.

    One walk up from a link's parent serves both: it stops at the first
    element whose placement state is known (the body's is known from the
    start: it and <html> are not read), and the context's block is the first
    block element on the way (the walk goes on for it only if needed)."""

    __slots__ = ("owns", "rules", "states", "texts", "tree")

    def __init__(self, rules: PlacementRules, tree: LexborHTMLParser) -> None:
        self.rules = rules
        self.tree = tree  # the links' nodes live as long as it does
        body = tree.body
        # mem_id -> placement fold state
        self.states: dict[int, State] = {} if body is None else {body.mem_id: TOP}
        self.texts: dict[int, str] = {}  # mem_id of a block -> its collapsed text
        self.owns = _owns_cache(rules)

    def locate(self, node: Any, anchor: str | None) -> tuple[str, str]:
        """(placement, context) of a link element; no context when ``anchor`` is None."""
        states = self.states
        chain = []
        block = None
        parent = node.parent
        state = TOP
        while parent is not None:
            tag_id = parent.tag_id
            if block is None and tag_id in _BLOCK_IDS:
                block = parent
            if tag_id in _PASSED_IDS:
                parent = parent.parent
                continue
            mem_id = parent.mem_id
            known = states.get(mem_id)
            if known is not None:
                state = known
                break
            chain.append((parent, mem_id))
            parent = parent.parent
        if chain:
            state = self._fold(chain, state)
        placement = state[0] or DEFAULT
        if anchor is None:
            return placement, ""
        while block is None and parent is not None:
            parent = parent.parent
            if parent is not None and parent.tag_id in _BLOCK_IDS:
                block = parent
        if block is None:
            return placement, anchor[:CONTEXT_MAX_CHARS]
        text = self.texts.get(block.mem_id)
        if text is None:
            text = self.texts[block.mem_id] = " ".join(block.text_lexbor().split())
        if len(text) <= CONTEXT_MAX_CHARS:  # most blocks: a list item, a short paragraph
            return placement, text
        return placement, context_window(text, anchor)

    def _fold(self, chain: list[tuple[Any, int]], state: State) -> State:
        """The states of the elements of ``chain`` (innermost first), kept; the innermost's."""
        owns = self.owns
        states = self.states
        for element, mem_id in reversed(chain):
            attrs = element.attributes
            if attrs:
                key = (element.tag_id, attrs.get("role"), attrs.get("id"), attrs.get("class"))
            else:
                key = element.tag_id
            own = owns.get(key)
            if own is None:
                own = owns[key] = self._own(element)
            if own[0] is not None or own[1] or own[2]:
                state = combine(state, own)
            states[mem_id] = state
        return state

    def _own(self, element: Any) -> Own:
        attrs = element.attributes
        role = attrs.get("role")
        tokens = tokens_of(attrs.get("id"), attrs.get("class"))
        return own_marker(element.tag or "", role.lower() if role else "", tokens, self.rules)


def context_window(text: str, anchor: str, size: int = CONTEXT_MAX_CHARS) -> str:
    """At most ``size`` characters of ``text`` around the first ``anchor`` in it,
    centred on it, cut at spaces where that keeps the anchor whole."""
    if len(text) <= size:
        return text
    # The block's text is collapsed on any whitespace (str.split), the anchor
    # on HTML's: collapse the anchor the same way to find it (a no-break space).
    anchor = " ".join(anchor.split())
    at = text.find(anchor) if anchor else -1
    if at < 0:
        at = 0
        anchor = ""
    if len(anchor) >= size:
        return anchor[:size]
    start = max(0, at - (size - len(anchor)) // 2)
    end = min(len(text), start + size)
    start = max(0, end - size)
    if start > 0 and text[start - 1] != " ":
        space = text.find(" ", start, at)
        if space >= 0:
            start = space + 1
    if end < len(text) and text[end] != " ":
        space = text.rfind(" ", at + len(anchor), end)
        if space >= 0:
            end = space
    return text[start:end]


def parse_meta_refresh(content: str) -> str | None:
    """The URL of a ``<meta http-equiv=refresh>`` content, unresolved; None if none.

    The HTML standard's lenient parse ("shared declarative refresh steps"):
    ``5``, ``0;URL='x'``, ``0; url=x``, ``0, x``, ``0 x`` and ``.5;x`` all
    parse; a quoted URL ends at its closing quote. One leniency beyond the
    standard: a missing delay before ``url=`` (``url=x``) is accepted.
    Returns None when there is no URL (``5``, ``0;``, ``0; url=''``) or the
    content is not a refresh (``soon``).
    """
    length = len(content)
    pos = _skip_ws(content, 0)
    start = pos
    while pos < length and content[pos] in "0123456789":
        pos += 1
    if pos == start and (pos >= length or content[pos] != "."):
        if not _URL_EQUALS.match(content, pos):
            return None
    else:
        while pos < length and content[pos] in "0123456789.":
            pos += 1
        if pos < length:
            if content[pos] not in ";," and content[pos] not in _ASCII_WS:
                return None
            pos = _skip_ws(content, pos)
            if pos < length and content[pos] in ";,":
                pos += 1
            pos = _skip_ws(content, pos)
    if pos >= length:
        return None
    url = content[pos:]
    if content[pos : pos + 3].lower() == "url":
        after = _skip_ws(content, pos + 3)
        if after < length and content[after] == "=":
            pos = _skip_ws(content, after + 1)
            quote = content[pos : pos + 1]
            if quote in ("'", '"'):
                pos += 1
                end = content.find(quote, pos)
                url = content[pos:] if end < 0 else content[pos:end]
            else:
                url = content[pos:]
    elif content[pos] in "'\"":
        # "Skip quotes" also applies without "url=": 0;'x'
        quote = content[pos]
        end = content.find(quote, pos + 1)
        url = content[pos + 1 :] if end < 0 else content[pos + 1 : end]
    url = url.strip(_C0_AND_SPACE)
    return url or None


def _skip_ws(text: str, pos: int) -> int:
    length = len(text)
    while pos < length and text[pos] in _ASCII_WS:
        pos += 1
    return pos


def _collapse(text: str | None) -> str:
    """ASCII whitespace runs collapsed to one space, stripped (HTML's rule)."""
    if not text:
        return ""
    if "  " in text or "\n" in text or "\t" in text or "\r" in text or "\f" in text:
        text = _ASCII_WS_RUN.sub(" ", text)
    return text.strip(" ")


def _rel_tokens(rel: str | None) -> tuple[str, ...]:
    if not rel:
        return ()
    return tuple(dict.fromkeys(_ASCII_WS_RUN.split(rel.lower().strip(_ASCII_WS))))


def _alts_by_link(images: list[Any]) -> dict[int, str]:
    """mem_id of each <a> -> alt of its first descendant <img> with a non-empty alt."""
    alts: dict[int, str] = {}
    for image in images:
        alt = _collapse(image.attributes.get("alt"))
        if not alt:
            continue
        parent = image.parent
        while parent is not None:
            if parent.tag_id == _A_ID:
                alts.setdefault(parent.mem_id, alt)
            parent = parent.parent
    return alts


def _without_fragment(href: str) -> str:
    """A cleaned href without its fragment; "#" for a same-document reference."""
    hash_at = href.find("#")
    if hash_at < 0:
        return href
    return href[:hash_at] if hash_at else "#"


def _clean(raw: str | None) -> str:
    """An href as the URL parser reads it: C0/space stripped, tab/newline removed."""
    if not raw:
        return ""
    href = raw.strip(_C0_AND_SPACE)
    if "\t" in href or "\n" in href or "\r" in href:
        href = href.translate(_DROP_TAB_NEWLINE)
    return href


def _resolve(href: str, base: str, normalize: Normalizer) -> tuple[str | None, str]:
    """(canonical URL, "") for an http(s) link, else (None, why it was skipped).

    ``href`` is already cleaned (``_clean``).
    """
    if not href:
        return None, "empty"
    try:
        if href.startswith(_ABSOLUTE_HTTP):
            return normalize(href, None), ""
        first = href[0]
        if first in "/#?." or ":" not in href:
            return normalize(href, base), ""
        scheme = _SCHEME.match(href)
        if scheme is not None:
            name = scheme[1].lower()
            if name in _NAMED_SCHEMES:
                return None, name
            if name != "http" and name != "https":
                return None, "not_http"
        return normalize(href, base), ""
    except ValueError as exc:  # RejectedURL, or whatever an injected normalizer raises
        return None, getattr(exc, "reason", None) or "malformed"
