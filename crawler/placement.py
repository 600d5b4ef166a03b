"""Where on its page a link sits: its ``placement``, from its ancestors' markup.

Pure: ancestors in, one of ``PLACEMENTS`` out; no parse, no settings. The
extraction pass (crawler/extraction.py) folds the same rules over each
element once per page; ``classify`` applies them to one chain, for tests and
for running the rules over a hand-labelled set.

An ancestor is ``(tag, role, tokens)``: its lower-case tag name, its ``role``
attribute (lower-case, "" if none) and its id and class tokens, class tokens
of up to three parts also split on ``-`` and ``_`` (``class="site-footer"``
gives ``site-footer``, ``site`` and ``footer``; an id is kept whole:
``tokens_of``; an id of two parts also gives its last: ``global-nav``). The
rules, outermost ancestor first:

1. An element's markers: its ARIA role (``navigation`` nav, ``banner``
   header, ``contentinfo`` footer, ``complementary`` sidebar, ``main`` and
   ``article`` content, ``comment`` comment), its tag (``nav``, ``header``,
   ``footer``, ``aside`` sidebar, ``main`` and ``article`` content) and its
   id/class tokens, a token also counting when it begins, else ends, with
   one of ``COMPOUND_WORDS`` (``navheader`` nav, ``pagefooter`` footer,
   ``sphinxsidebar`` sidebar: names made of two words). Of several markers
   on one element the first in ``RANK`` wins (comment, footer, sidebar, nav,
   header, content): ``<nav class="footer-menu">`` is the footer's menu.
2. The innermost marked ancestor decides, except that inside a ``comment``,
   ``footer`` or ``sidebar`` region a ``nav``, ``header`` or ``content``
   marker does not change it (a footer's menu is footer links, a sidebar's
   table of contents is the sidebar's); ``main`` (tag or role), the page's
   one main content, always does.
3. A ``header`` or ``footer`` marker that comes from a tag or a token does not
   count inside ``article``, ``aside``, ``main``, ``nav`` or ``section``: there
   it heads that section, not the page (HTML-AAM maps ``<header>`` to
   ``banner`` only outside them); an article's byline stays content.
4. ``<body>`` and ``<html>`` are not read: themes put layout classes there
   (``has-sidebar``) that say nothing about one link. Nor are the elements
   that hold text rather than regions (``PASSED``: phrasing elements such as
   ``span`` and ``em``, and ``p``, ``li``, ``dt``, ``dd``, ``h1``-``h6``): a
   menu's ``li class="menu-item"`` sits in a ``ul``, ``nav`` or ``div`` that
   carries the marker, and skipping them is what keeps placement cheap.
   Table cells are read (old table layouts: ``td class="sidebar"``).
5. No marker at all: ``content``. A page without landmarks or telling names is
   mostly an old hand-written page whose links sit in its text; a template's
   menus and footers almost always carry one of the markers.

Rules 1 (ranks, compound names, an id's last word) and 2 (regions) came
from measuring on the hand-labelled set (tests/data/placement): innermost-only
and whole tokens agreed on 80% of 516 links, missing DocBook's ``navheader``
bars and every Sphinx sidebar (README, "Placement").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "DEFAULT_RULES",
    "PLACEMENTS",
    "PlacementRules",
    "classify",
    "combine",
    "fold",
    "own_marker",
    "rules_from",
    "tokens_of",
]

PLACEMENTS = ("content", "nav", "header", "footer", "sidebar", "comment")
DEFAULT = "content"

# Of an element's markers, the first of these wins.
RANK = ("comment", "footer", "sidebar", "nav", "header", "content")
# Inside these regions only one of them (or main) changes the placement.
REGIONS = frozenset({"comment", "footer", "sidebar"})
# Endings that make a word of its own after a placement word (commentary, navigator).
NOT_A_SECOND_WORD = frozenset({"ary", "ator", "ation", "ating", "ated", "able", "ing", "ers"})
# A token beginning (else ending) with one of these marks their placement.
COMPOUND_WORDS = (
    ("comment", "comment"),
    ("footer", "footer"),
    ("sidebar", "sidebar"),
    ("nav", "nav"),
    ("menu", "nav"),
    ("breadcrumb", "nav"),
    ("header", "header"),
)
DEFAULT_TOKENS: dict[str, tuple[str, ...]] = {
    "comment": ("comment", "comments", "commentlist", "disqus", "replies", "reply"),
    "nav": (
        "nav",
        "navbar",
        "navigation",
        "menu",
        "menubar",
        "breadcrumb",
        "breadcrumbs",
        "pagination",
        "pager",
        "toc",
        "skip",
    ),
    "sidebar": ("sidebar", "widget", "widgets", "aside", "sidebox", "blogroll"),
    "footer": ("footer", "colophon", "copyright"),
    "header": ("header", "masthead", "banner", "topbar"),
    "content": ("content", "main", "article", "post", "entry"),
}
ROLES = {
    "navigation": "nav",
    "banner": "header",
    "contentinfo": "footer",
    "complementary": "sidebar",
    "main": "content",
    "article": "content",
    "comment": "comment",
}
TAGS = {
    "nav": "nav",
    "header": "header",
    "footer": "footer",
    "aside": "sidebar",
    "main": "content",
    "article": "content",
}
# Inside these, a header or footer (tag or token) belongs to the section.
SECTIONING = frozenset({"article", "aside", "main", "nav", "section"})
SECTION_SCOPED = frozenset({"header", "footer"})
UNREAD = frozenset({"body", "html"})
# Elements that hold text, not regions: never read (rule 3). Skipping them is
# most of what keeps placement cheap: nearly every link sits in one.
PASSED = frozenset(
    [
        "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "dfn", "em", "font",
        "i", "kbd", "label", "mark", "q", "s", "samp", "small", "span", "strike", "strong",
        "sub", "sup", "time", "tt", "u", "var",
        "p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    ]
)  # fmt: skip

_TOKEN_SPLIT = re.compile(r"[-_]+")

Ancestor = tuple[str, str, Iterable[str]]  # (tag, role, id/class tokens)
# What the fold carries from an element to its children: the placement decided
# so far (None: no marker yet) and whether a sectioning element encloses them.
State = tuple[str | None, bool]
TOP: State = (None, False)
# What an element marks: (placement, said by its role), in RANK order.
Marks = tuple[tuple[str, bool], ...]
# What an element says by itself: its marks (or None), whether it is a
# sectioning element, whether it is the page's main content (tag or role main).
Own = tuple[Marks | None, bool, bool]


@dataclass(frozen=True, slots=True)
class PlacementRules:
    """The token lists (placement -> tokens); roles and tags are HTML's own."""

    tokens: Mapping[str, frozenset[str]]

    def marks(self, tag: str, role: str, tokens: Iterable[str]) -> Marks:
        """What the element marks, in ``RANK`` order: (placement, whether a
        role says it: a role is exempt from rule 3)."""
        found: dict[str, bool] = {}
        for word in role.split():
            if word in ROLES:
                found[ROLES[word]] = True
        placement = TAGS.get(tag)
        if placement is not None:
            found.setdefault(placement, False)
        for token in tokens:
            for name, words in self.tokens.items():
                if token in words:
                    found.setdefault(name, False)
            compound = _compound(token)
            if compound is not None:
                found.setdefault(compound, False)
        return tuple((name, found[name]) for name in RANK if name in found)


def _compound(token: str) -> str | None:
    """The placement a two-word name begins, else ends, with (``docnav``,
    ``navheader``): the other word at least three letters and not an English
    ending (``navy``, ``commentary``, ``menus`` are words of their own), and
    no ``sub`` before a header (``subheader``: a heading's)."""
    if not token.isalpha():
        return None
    for word, placement in COMPOUND_WORDS:
        rest = token[len(word) :]
        if token.startswith(word) and len(rest) >= 3 and rest not in NOT_A_SECOND_WORD:
            return placement
    for word, placement in COMPOUND_WORDS:
        rest = token[: -len(word)]
        if token.endswith(word) and len(rest) >= 3 and rest != "sub":
            return placement
    return None


def rules_from(overrides: Mapping[str, Iterable[str]] | None = None) -> PlacementRules:
    """The default rules, with the token lists of ``overrides`` (placement ->
    tokens, e.g. the setting LINKWATCH_PLACEMENT_RULES) replacing the defaults'."""
    lists = dict(DEFAULT_TOKENS)
    for name, words in (overrides or {}).items():
        if name not in PLACEMENTS:
            raise ValueError(f"not a placement: {name!r} (one of {', '.join(PLACEMENTS)})")
        lists[name] = tuple(words)
    return PlacementRules({name: frozenset(w.lower() for w in lists[name]) for name in lists})


DEFAULT_RULES = rules_from()


def tokens_of(id_: str | None, class_: str | None) -> list[str]:
    """An element's id and class tokens, lower-case; class tokens of up to
    three parts also split on - and _, and an id of two parts gives its last
    (``global-nav``: nav). Longer ids and classes are kept whole: they are
    often made from a heading (``id="host-header-poisoning"``, Sphinx's
    ``class="admonition-removing-the-referer-header"``), not a region's name;
    templates name their regions in short names (``id="site-footer"``,
    ``class="main-navigation"``)."""
    tokens = id_.lower().split() if id_ else []
    if len(tokens) == 1 and ("-" in tokens[0] or "_" in tokens[0]):
        parts = [part for part in _TOKEN_SPLIT.split(tokens[0]) if part]
        if len(parts) == 2:  # global-nav, site-footer: a region's name
            tokens.append(parts[1])
    if class_:
        for token in class_.lower().split():
            tokens.append(token)
            if "-" in token or "_" in token:
                parts = [part for part in _TOKEN_SPLIT.split(token) if part]
                if len(parts) <= 3:
                    tokens.extend(parts)
    return tokens


def own_marker(tag: str, role: str, tokens: Iterable[str], rules: PlacementRules) -> Own:
    """What an element's own markup says (the same for every element with the
    same tag, role, id and class: the extraction pass caches it on them)."""
    if tag in UNREAD or tag in PASSED:
        return None, False, False
    marks = rules.marks(tag, role, tokens) or None
    main = tag == "main" or "main" in role.split()
    return marks, tag in SECTIONING, main


def combine(parent: State, own: Own) -> State:
    """The state of an element from its parent's and what it says itself."""
    placement, sectioned = parent
    marks, sectioning, main = own
    if main:
        placement = "content"
    elif marks is not None:
        for marked, by_role in marks:  # the first that counts (rules 1-3)
            if sectioned and not by_role and marked in SECTION_SCOPED:
                continue
            if placement in REGIONS and marked not in REGIONS:
                continue
            placement = marked
            break
    return placement, sectioned or sectioning


def fold(parent: State, tag: str, role: str, tokens: Iterable[str], rules: PlacementRules) -> State:
    """The state of an element from its parent's and its own markup: the step
    ``classify`` repeats from the outermost ancestor in."""
    return combine(parent, own_marker(tag, role, tokens, rules))


def classify(ancestors: Iterable[Ancestor], rules: PlacementRules = DEFAULT_RULES) -> str:
    """The placement of a link whose ancestors are given innermost first."""
    state = TOP
    for tag, role, tokens in reversed(list(ancestors)):
        state = fold(state, tag, role, tokens, rules)
    return state[0] or DEFAULT
