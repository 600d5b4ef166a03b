"""Spider traps: URL spaces without end, recognized from the URL alone.

A site can generate links forever: a calendar whose every month links to the
next, session ids that make every URL new, relative links that nest a
directory in itself (``a/`` on ``/a/`` is ``/a/a/``, then ``/a/a/a/``...).
The crawl is bounded anyway — by depth, by the pages per domain
(``max_pages_per_domain``) and by URL length (LINKWATCH_MAX_URL_LENGTH) — but
those bounds are reached only after the trap has taken its share of the
budget. ``trap_reason`` turns away the nesting kind at once, from the URL:

- ``repeated_segment``: one path segment occurs more than ``max_repeats``
  times (with 3: ``/a/b/a/b/a/b/a/``, ``/x/x/x/x/``). Segments are compared
  without their ``;params`` (``;jsessionid=...`` changes on every link);
  empty ones (``//``) do not count. Not 2: a date such as ``/11/11/11/``
  or a path like ``/docs/v1/docs/`` is legitimate.
- ``deep_path``: the path has more than ``max_segments`` segments.

Pure: a canonical URL (crawler/urls.py) and two numbers in, a stats key or
None out. 0 turns a rule off. The spider asks it before following a link
(seeds are exempt) and counts ``linkwatch/trap_skipped/<reason>``.

Settings: LINKWATCH_MAX_PATH_REPEATS, LINKWATCH_MAX_PATH_SEGMENTS.
"""

from __future__ import annotations

import re

__all__ = ["markup_trap", "trap_reason"]


def trap_reason(url: str, max_repeats: int = 3, max_segments: int = 32) -> str | None:
    """Why the canonical URL ``url`` looks like a spider trap, or None."""
    path_start = url.find("/", url.find("//") + 2)
    if path_start < 0:
        return None
    path_end = url.find("?", path_start)
    if path_end < 0:
        path_end = len(url)
    slashes = url.count("/", path_start, path_end)
    # Most URLs have too few segments to break either rule: no split needed.
    if slashes <= max_repeats and (not max_segments or slashes <= max_segments):
        return None
    segments = [s for s in url[path_start + 1 : path_end].split("/") if s]
    if max_segments and len(segments) > max_segments:
        return "deep_path"
    if max_repeats and len(segments) > max_repeats:
        counts: dict[str, int] = {}
        for segment in segments:
            name = segment.partition(";")[0]
            seen = counts.get(name, 0) + 1
            if seen > max_repeats:
                return "repeated_segment"
            counts[name] = seen
    return None


# --- pages built to stall a parser ---------------------------------------------------

# Start tags after which an HTML parser looks down its stack of open elements
# for a <p> to close: nested without end, each one costs the depth so far,
# so N of them cost N² (Lexbor: 20,000 nested <div> take a second, 100,000
# take 47 s, in the reactor's thread).
_P_CLOSERS = tuple(
    b"address article aside blockquote center details dialog dir div dl fieldset figcaption "
    b"figure footer header hgroup main menu nav ol pre search section summary ul".split()
)
_LONG_TAG = re.compile(rb"<[A-Za-z][^<>]{20000,}")
# Below this size no page can nest deep enough to matter (6,500 <div> at most).
MARKUP_CHECK_MIN_BYTES = 32 * 1024
MAX_UNCLOSED_BLOCKS = 10_000
# Distinct attributes of one element cost their number squared too.
MAX_ATTRIBUTES = 5_000


def markup_trap(body: bytes) -> str | None:
    """Why an HTML body would stall the parser, or None (almost always).

    ``deep_nesting``: more than MAX_UNCLOSED_BLOCKS block elements
    (``<div>``, ``<section>``...) opened and never closed; ``many_attributes``:
    an element with more than MAX_ATTRIBUTES attributes. Both are built by
    hand, never by a site generator; a browser caps the depth of its tree
    (Blink: 512), the parser here does not. Bodies under 32 KiB are not
    examined: they cannot hold enough tags to matter. Two counts of a byte
    string decide for almost every page; the closer look costs about as much
    as parsing a tenth of the page.
    """
    if len(body) < MARKUP_CHECK_MIN_BYTES:
        return None
    # Tags left open: every "<" starts a tag, every "</" ends one, and is a "<" too.
    if body.count(b"<") - 2 * body.count(b"</") > MAX_UNCLOSED_BLOCKS:
        lower = body.lower()
        unclosed = 0
        for name in _P_CLOSERS:
            unclosed += lower.count(b"<" + name) - lower.count(b"</" + name)
        if unclosed > MAX_UNCLOSED_BLOCKS:
            return "deep_nesting"
    if body.count(b"=") > MAX_ATTRIBUTES:
        for tag in _LONG_TAG.finditer(body):
            if tag.group().count(b"=") > MAX_ATTRIBUTES:
                return "many_attributes"
    return None
