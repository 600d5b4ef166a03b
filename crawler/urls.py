"""The canonical URL form: one spelling per http(s) resource, for both ends of an edge.

Every link of every page goes through ``URLNormalizer.__call__``, so it is
built for speed: one WHATWG parse in C++ (ada-url), then string work on the
serialized result, which for most links finds nothing to change.

The rules of ``normalize_url(url, base)``:

1. Parse ``url`` as the WHATWG URL Standard does (browsers' parser, via
   ada-url), resolved against ``base`` when one is given. So: leading and
   trailing C0 controls and spaces are stripped and tabs/newlines removed;
   ``\\`` counts as ``/``; scheme and host are lower-cased; IDN hosts become
   punycode (UTS #46); IPv4 hosts in any form (``0x7f.1``) become dotted
   decimal; IPv6 hosts become the bracketed, compressed, lower-case form
   (``[2001:db8::1]``); a default port (80 for http, 443 for https) is
   dropped, other ports are kept; ``.`` and ``..`` segments (also as
   ``%2e``) are resolved; an empty path becomes ``/``; characters the
   standard requires encoded are percent-encoded as UTF-8.
2. Reject (``RejectedURL``, with ``reason``):

   - ``empty``: empty or only C0 controls and spaces (per HTML an empty href
     is the page itself; a crawler learns nothing from it);
   - ``not_http``: any scheme but http and https (javascript:, mailto:,
     tel:, data:, ftp:, ws: ...), also when such a URL does not parse;
   - ``malformed``: the WHATWG parser fails (bad host, bad port, a relative
     URL without base, ...);
   - ``no_host``: the host is only a dot (``http://./``);
   - ``bad_host``: the host has an empty label (``http://a..b/``,
     ``http://.a.com/``, ``http://a.com../``): WHATWG accepts these, DNS
     cannot resolve them, and the public suffix algorithm has no answer;
   - ``too_long``: the canonical URL is longer than ``max_length``.

3. Drop the userinfo (``user:pass@``): credentials must not end up in an
   edge store, and they do not change which resource a link points to.
4. Drop the fragment (``#...``): it never reaches the server.
5. Remove one trailing dot of the host (``example.com.`` is ``example.com``).
6. Percent-escapes in path and query: an escape of an unreserved character
   (``A-Z a-z 0-9 - . _ ~``) is decoded (``%7E`` -> ``~``, ``%41`` -> ``A``);
   other escapes keep their byte with upper-case hex (``%c3%a9`` ->
   ``%C3%A9``); a ``%`` not followed by two hex digits becomes ``%25``.
   WHATWG leaves such a ``%`` bare; encoding it keeps the form idempotent
   (decoding ``%%341`` would otherwise create the new escape ``%41``).
   ``+`` and ``%20`` are kept as they are: they mean the same only to a form
   decoder, and servers differ in how they read a ``+``.
7. Query: split on ``&``; empty parameters (``&&``, a leading or trailing
   ``&``) are dropped, as ``URLSearchParams`` drops them; tracking
   parameters are removed; the other parameters keep their order and
   spelling; an empty query (``?`` alone, or nothing left) is dropped.
   A parameter is tracking when its name (the text before the first ``=``,
   after rule 6, compared case-sensitively) equals one of ``strip_params``,
   or starts with one that ends in ``*`` (``utm_*``). Case-sensitive because
   analytics tools read only the lower-case names, and a site may use
   ``UTM_SOURCE`` for its own purposes.

The result is idempotent: ``normalize_url(normalize_url(x)) ==
normalize_url(x)`` (property-tested), and re-parsing it with a WHATWG parser
gives it back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The cffi binding under ada_url's public API. Its C functions skip the
# per-call Python wrappers (attribute dispatch, ffi.gc finalizers), which cost
# more than the C++ parse itself.
from ada_url._ada_wrapper import ffi, lib

__all__ = [
    "DEFAULT_STRIP_PARAMS",
    "RejectedURL",
    "URLNormalizer",
    "normalize_url",
    "url_host",
]

DEFAULT_STRIP_PARAMS: tuple[str, ...] = (
    "utm_*",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "fbclid",
    "msclkid",
    "yclid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "_hsenc",
    "_hsmi",
)


class RejectedURL(ValueError):
    """A URL that has no canonical http(s) form; ``reason`` is a short stats key."""

    def __init__(self, reason: str, url: str = "") -> None:
        super().__init__(reason, url)
        self.reason = reason
        self.url = url

    def __str__(self) -> str:
        return f"{self.reason}: {self.url[:200]!r}"


_ABSOLUTE = ("http://", "https://")
# What WHATWG strips from both ends of an input before parsing.
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_LEADING_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# A relative path whose first segment holds a colon may be an absolute URL
# with some other scheme ("foo:bar"); those take the general path.
_MAY_HAVE_SCHEME = re.compile(r"[^/?#]*:")

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})?")
# What replaces each "%", keyed by the two hex digits after it (None: not an escape).
_PERCENT_FIX: dict[str | None, str] = {None: "%25"}
for _hi in "0123456789ABCDEFabcdef":
    for _lo in "0123456789ABCDEFabcdef":
        _char = chr(int(_hi + _lo, 16))
        _PERCENT_FIX[_hi + _lo] = _char if _char in _UNRESERVED else f"%{_hi}{_lo}".upper()
del _hi, _lo, _char


def _fix_escape(match: re.Match[str]) -> str:
    return _PERCENT_FIX[match[1]]


_ada_parse = lib.ada_parse
_ada_parse_with_base = lib.ada_parse_with_base
_ada_get_href = lib.ada_get_href
_ada_free = lib.ada_free
# Stops at a NUL, but a WHATWG serialization has none (it is percent-encoded).
_string = ffi.string


def _whatwg_href(url: str, base: str | None) -> str:
    """The WHATWG serialization of ``url`` (against ``base``), or "" if it does not parse."""
    try:
        raw = url.encode()
        raw_base = None if base is None else base.encode()
    except UnicodeEncodeError:
        # Lone surrogates: WHATWG takes a USVString, i.e. each becomes U+FFFD.
        return _whatwg_href(_to_usv(url), None if base is None else _to_usv(base))
    if raw_base is None:
        handle = _ada_parse(raw, len(raw))
    else:
        handle = _ada_parse_with_base(raw, len(raw), raw_base, len(raw_base))
    # An invalid result serializes as "", which saves the ada_is_valid call.
    href = _ada_get_href(handle)
    try:
        if not href.length:
            return ""
        # The serialization of an http(s) URL is ASCII; that of another scheme
        # may not be, and is rejected on its scheme anyway.
        return _string(href.data, href.length).decode("utf-8", "replace")
    finally:
        _ada_free(handle)


def _to_usv(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# Absolute URLs whose canonical form a normalizer remembers (then forgets all).
_MEMO_SIZE = 4096

# What a normalizer remembers of a base URL: its canonical form (None if it
# has none) or the reason it was rejected, and the prefixes relative hrefs are
# appended to: origin ("http://h:8080"), path with no query, directory.
_Base = tuple[str | None, str, str, str, str]


class URLNormalizer:
    """Turns an href (and its document base URL) into the canonical URL form.

    ``strip_params`` lists the tracking query parameters to remove; a name
    ending in ``*`` is a prefix. ``max_length`` bounds the canonical URL.
    An instance memoizes recent base URLs and results (bounded), so keep one
    per crawl; threads may share it.
    """

    def __init__(
        self, strip_params: Iterable[str] = DEFAULT_STRIP_PARAMS, max_length: int = 2048
    ) -> None:
        params = tuple(p.strip() for p in strip_params if p.strip())
        for param in params:
            if "*" in param[:-1]:
                raise ValueError(f"strip_params: '*' only at the end of a name: {param!r}")
        self.strip_params = params
        self.max_length = max_length
        self._names = frozenset(p for p in params if not p.endswith("*"))
        self._prefixes = tuple(p[:-1] for p in params if p.endswith("*"))
        # One regex search tells whether a query needs rebuilding at all: a
        # tracking parameter, or an empty one.
        alternatives = [re.escape(n) for n in sorted(self._names)]
        alternatives += [re.escape(p) + "[^=&]*" for p in self._prefixes]
        tracking = f"(?:{'|'.join(alternatives)})(?=[=&]|\\Z)" if alternatives else "(?!)"
        self._query_work = re.compile(rf"(?:^|&){tracking}|^&|&&|&\Z").search
        # A serialization that already is canonical: no userinfo, a host with
        # no empty label nor trailing dot, no "%", no fragment, a query of
        # non-empty, non-tracking parameters. Most links are like this, and one
        # match is cheaper than the checks of _canonicalize.
        # Possessive quantifiers: a near miss fails at once, without backtracking.
        param = rf"(?!{tracking})[^&#%]++"
        self._is_canonical = re.compile(
            r"https?://(?:[^/?#@%.:\[]++(?:\.[^/?#@%.:\[]++)*+|\[[^\]]++\])(?::[0-9]++)?+"
            rf"/[^?#%]*+(?:\?{param}(?:&{param})*+)?+"
        ).fullmatch
        self._bases: dict[str, _Base] = {}
        self._memo: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"URLNormalizer(strip_params={self.strip_params!r}, max_length={self.max_length})"

    def __call__(self, url: str, base: str | None = None) -> str:
        """The canonical form of ``url`` resolved against ``base``; raises RejectedURL."""
        # Only an input with a control or space at an end can be blank.
        if (not url or url[0] <= " " or url[-1] <= " ") and not url.strip(_C0_AND_SPACE):
            raise RejectedURL("empty", url)
        if url.startswith(_ABSOLUTE):
            # An absolute http(s) URL does not depend on its base: the base is
            # not even parsed.
            absolute: str | None = url
        elif base is None:
            return self._finish(_whatwg_href(url, None), url)
        else:
            known = self._bases.get(base) or self._learn_base(base)
            if url[0] == "#":
                # Same document: the canonical form is the base's own.
                if known[0] is None:
                    raise RejectedURL(known[1], url)
                return known[0]
            absolute = self._resolve_fast(url, known)
            if absolute is None:
                return self._finish(_whatwg_href(url, base), url)
        # Pages repeat links (menus, footers, one page's anchors), so results
        # are memoized by the absolute URL up to its fragment. In an input
        # starting with http(s)://, the first "#" always starts the fragment;
        # it is not cut off after a space or control, which would then become
        # trailing and be stripped.
        cut = absolute.find("#")
        if cut > 0 and absolute[cut - 1] > " ":
            absolute = absolute[:cut]
        canonical = self._memo.get(absolute)
        if canonical is None:
            canonical = self._finish(_whatwg_href(absolute, None), url)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[absolute] = canonical
        return canonical

    def _finish(self, href: str, url: str) -> str:
        """The canonical form of a WHATWG serialization (``url`` is for messages)."""
        # Rule 4 first. WHATWG escapes every other "#", so the first one starts
        # the fragment.
        hash_start = href.find("#")
        if hash_start >= 0:
            href = href[:hash_start]
        if self._is_canonical(href) and len(href) <= self.max_length:
            return href
        if not href.startswith(_ABSOLUTE):
            raise self._parse_failure(url, href)
        return self._canonicalize(href, url)

    # --- resolution ------------------------------------------------------------

    def _resolve_fast(self, url: str, known: _Base) -> str | None:
        """``url`` made absolute by concatenating it to a piece of its base.

        None where that could differ from WHATWG resolution; the caller then
        lets ada resolve. Worth it because documents link mostly to relative
        paths, and ada resolves against a base three times slower than it
        parses an absolute URL (the base is parsed each time).
        """
        canonical, _, origin, path, directory = known
        first = url[0]
        if (
            canonical is None
            or first <= " "
            or "\t" in url
            or "\n" in url
            or "\r" in url
            or "\\" in url
        ):
            return None
        if first == "/":
            # "//host/..." is scheme-relative: another host.
            return None if url[1:2] == "/" else origin + url
        if first == "?":
            return path + url
        if ":" in url and _MAY_HAVE_SCHEME.match(url):
            scheme = _LEADING_SCHEME.match(url)
            if scheme and scheme[0].lower() not in ("http:", "https:"):
                raise RejectedURL("not_http", url)
            return None
        return directory + url

    def _learn_base(self, base: str) -> _Base:
        if len(self._bases) >= 64:
            # Pages are parsed one after another: old bases are not coming back.
            self._bases.clear()
        try:
            canonical = self(base)
        except RejectedURL as exc:
            known: _Base = (None, exc.reason, "", "", "")
        else:
            path_end = canonical.find("?")
            if path_end < 0:
                path_end = len(canonical)
            known = (
                canonical,
                "",
                canonical[: canonical.index("/", 8)],
                canonical[:path_end],
                canonical[: canonical.rindex("/", 0, path_end) + 1],
            )
        self._bases[base] = known
        return known

    @staticmethod
    def _parse_failure(url: str, href: str) -> RejectedURL:
        if href:
            return RejectedURL("not_http", url)
        # ada failed; a URL with another scheme is still "not http" to stats.
        cleaned = url.strip(_C0_AND_SPACE).replace("\t", "").replace("\n", "").replace("\r", "")
        scheme = _LEADING_SCHEME.match(cleaned)
        if scheme and scheme[0].lower() not in ("http:", "https:"):
            return RejectedURL("not_http", url)
        return RejectedURL("malformed", url)

    # --- the extra rules ---------------------------------------------------------

    def _canonicalize(self, href: str, url: str) -> str:
        """Rules 3 and 5-7 applied to a WHATWG-serialized http(s) URL without fragment."""
        start = 7 if href[4] == ":" else 8
        # A special URL always has a path, so the authority ends at a "/".
        path_start = href.index("/", start)
        at = href.rfind("@", start, path_start)
        if at >= 0:
            href = href[:start] + href[at + 1 :]
            path_start -= at + 1 - start

        host_end = path_start
        if href[path_start - 1] != "]":
            colon = href.rfind(":", start, path_start)
            if colon >= 0:
                host_end = colon
        if href[host_end - 1] == "." or href[start] == "." or ".." in href[start:host_end]:
            host = href[start:host_end]
            if host.endswith("."):
                host = host[:-1]
            if not host:
                raise RejectedURL("no_host", url)
            if host[0] == "." or host[-1] == "." or ".." in host:
                raise RejectedURL("bad_host", url)
            href = href[:start] + host + href[host_end:]
            path_start -= host_end - start - len(host)

        if "%" in href:
            href = href[:path_start] + _PERCENT.sub(_fix_escape, href[path_start:])
        query_start = href.find("?", path_start)
        if query_start >= 0:
            query = href[query_start + 1 :]
            if not query:
                href = href[:query_start]
            elif self._query_work(query):
                query = self._clean_query(query)
                href = href[: query_start + 1] + query if query else href[:query_start]
        if len(href) > self.max_length:
            raise RejectedURL("too_long", url)
        return href

    def _clean_query(self, query: str) -> str:
        names = self._names
        prefixes = self._prefixes
        kept = []
        for param in query.split("&"):
            if not param:
                continue
            name = param.partition("=")[0]
            if name in names or (prefixes and name.startswith(prefixes)):
                continue
            kept.append(param)
        return "&".join(kept)


normalize_url = URLNormalizer()


def url_host(canonical_url: str) -> str:
    """The host of a canonical URL, without port: ``example.com``, ``[::1]``.

    No parsing: it relies on the canonical form (no userinfo, ASCII, a path
    that starts with "/"). For other URLs the answer is unspecified.
    """
    start = 7 if canonical_url[4] == ":" else 8
    end = canonical_url.find("/", start)
    if end < 0:
        end = len(canonical_url)
    if canonical_url[start] == "[":
        return canonical_url[start : canonical_url.index("]", start) + 1]
    colon = canonical_url.find(":", start, end)
    return canonical_url[start : colon if colon >= 0 else end]
