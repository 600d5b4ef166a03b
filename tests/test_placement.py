"""Placement and context of an edge: the pure rules (crawler/placement.py), the
extraction pass that applies them (crawler/extraction.py), and the two fields
through the spider's records and both stores, old SQLite files included."""

from __future__ import annotations

import pytest

from crawler.extraction import CONTEXT_MAX_CHARS, context_window, extract_links
from crawler.placement import PLACEMENTS, classify, rules_from, tokens_of
from tests.test_store_contract import FEB, MYSITE, SCHEMA_0_2, old_mongo_edge, page


def chain(*elements: str) -> list[tuple[str, str, list[str]]]:
    """Ancestors innermost first, each written "tag#id.class.class[role]"."""
    out = []
    for element in elements:
        role = ""
        if "[" in element:
            element, role = element[:-1].split("[")
        tag, _, rest = element.partition(".")
        tag, _, id_ = tag.partition("#")
        out.append((tag, role, tokens_of(id_, " ".join(rest.split(".")))))
    return out


@pytest.mark.parametrize(
    ("ancestors", "expected"),
    [
        (chain("li", "ul", "nav", "body", "html"), "nav"),
        (chain("p", "div", "body"), "content"),  # no markers
        (chain(), "content"),
        (chain("div", "header", "body"), "header"),
        (chain("div", "footer", "body"), "footer"),
        (chain("p", "aside", "body"), "sidebar"),
        (chain("p", "main", "body"), "content"),
        (chain("p", "article", "main", "body"), "content"),
        (chain("li", "ul.menu", "div", "body"), "nav"),
        (chain("span", "div#breadcrumbs", "body"), "nav"),
        (chain("li.menu-item", "ul", "div.main-navigation", "body"), "nav"),
        (chain("div.sidebar.widget", "body"), "sidebar"),
        (chain("div.textwidget", "div", "body"), "content"),  # a token, not a substring
        (chain("p", "div#host-header-poisoning.section", "body"), "content"),  # a slug
        (chain("p", "div#site-footer", "body"), "footer"),  # a two-word id's last word
        (chain("p", "div#global-nav", "body"), "nav"),
        (chain("p", "div#footer-notes-here", "body"), "content"),  # longer ids are whole
        (chain("p", "div.site-footer", "body"), "footer"),
        (chain("p", "div.admonition-removing-the-referer-header", "body"), "content"),
        (chain("p", "div#footer", "body"), "footer"),
        (chain("p", "div#comments", "body"), "comment"),
        (chain("p", "div.comment-body", "li", "ol.comment-list", "body"), "comment"),
        (chain("div", "div[navigation]", "body"), "nav"),
        (chain("div", "div[banner]", "body"), "header"),
        (chain("div", "div[contentinfo]", "body"), "footer"),
        (chain("div", "div[complementary]", "body"), "sidebar"),
        (chain("p", "div[main]", "div.sidebar", "body"), "content"),
        # innermost wins...
        (chain("li", "nav", "header", "body"), "nav"),
        (chain("p", "div.sidebar", "div.content", "body"), "sidebar"),
        # ...but inside a footer, sidebar or comment only another of them counts
        (chain("li", "nav", "footer", "body"), "footer"),
        (chain("li", "ul.nav", "div.sphinxsidebar[navigation]", "body"), "sidebar"),
        (chain("li", "ul.nav", "div.sphinxsidebar", "body"), "sidebar"),
        (chain("p", "div.content", "aside", "body"), "sidebar"),
        (chain("p", "div.comment", "footer", "body"), "comment"),
        # ...and main, the page's one main content, always does
        (chain("p", "main", "div.sidebar-layout", "body"), "content"),
        # a name made of two words: the one it begins with, else ends with
        (chain("td", "tr", "table", "div.navheader", "body"), "nav"),
        (chain("td", "tr", "table", "div.navfooter", "body"), "nav"),
        (chain("li", "ul.docnav", "body"), "nav"),
        (chain("p", "div.pagefooter", "body"), "footer"),
        (chain("p", "div.nav-2", "body"), "nav"),
        (chain("p", "div.canvas", "body"), "content"),
        (chain("p", "div.navy", "body"), "content"),  # a word of its own
        (chain("p", "div.commentary", "body"), "content"),
        (chain("p", "div.subheader", "body"), "content"),  # a heading's
        (chain("p", "div.pageheader", "body"), "header"),
        # a role is never a section's: it counts inside a section's footer
        (chain("div.rst-footer-buttons[navigation]", "footer", "section", "body"), "nav"),
        (chain("p", "div#comments", "article", "main", "body"), "comment"),
        (chain("p", "main", "div#page.has-sidebar", "body"), "content"),
        # an article's or a section's header and footer are its own, not the page's
        (chain("p", "header", "article", "main", "body"), "content"),
        (chain("span", "footer.entry-footer", "article", "body"), "content"),
        (chain("p", "footer", "section", "body"), "content"),
        (chain("p", "div#footer", "main", "body"), "content"),
        # ...but an explicit role counts anywhere
        (chain("p", "div[contentinfo]", "main", "body"), "footer"),
        # the role before the tag, the tag before the tokens
        (chain("div", "nav[complementary]", "body"), "sidebar"),
        (chain("div", "aside.nav", "body"), "sidebar"),
        # several markers on one element: comment, footer, sidebar, nav, header, content
        (chain("div.footer-menu", "body"), "footer"),
        (chain("nav.site-header", "body"), "nav"),
        (chain("div.content.sidebar", "body"), "sidebar"),
        # <body> and <html> are not read
        (chain("p", "body.has-sidebar", "html.nav"), "content"),
    ],
)
def test_the_rules_on_ancestor_chains(ancestors, expected):
    assert classify(ancestors) == expected


def test_the_rules_are_configurable():
    rules = rules_from({"sidebar": ["rail"], "nav": ["menu"]})
    assert classify(chain("p", "div.rail", "body"), rules) == "sidebar"
    assert classify(chain("p", "div.sidebar", "body"), rules) == "content"  # replaced list
    assert classify(chain("p", "div.menu", "body"), rules) == "nav"
    assert classify(chain("p", "div.pagination", "body"), rules) == "content"
    assert classify(chain("p", "div.footer", "body"), rules) == "footer"  # untouched
    with pytest.raises(ValueError, match="not a placement"):
        rules_from({"ads": ["banner"]})


def test_tokens_split_on_dashes_and_underscores():
    assert tokens_of("site_Footer", "a  menu-item") == [
        "site_footer", "footer", "a", "menu-item", "menu", "item",
    ]  # fmt: skip
    assert tokens_of("host-header-poisoning", None) == ["host-header-poisoning"]


PAGE = b"""<!doctype html><html><head><title>T</title>
<link rel=canonical href="http://w.test/self"></head>
<body class="has-sidebar">
<header><a href="http://w.test/logo">Logo</a></header>
<nav><ul><li><a href="http://w.test/nav">Home</a></li></ul></nav>
<div role="navigation"><a href="http://w.test/role-nav">Docs</a></div>
<main><article>
  <header><p>By <a href="http://w.test/author">Ann</a>, 1 May</p></header>
  <p>The library is fast. It is described in <em><a href="http://w.test/body">the
  paper on parsing</a></em>, which compares it with the others.</p>
  <iframe src="http://w.test/embed"></iframe>
</article></main>
<div class="sidebar widget"><p>See <a href="http://w.test/widget">our partner</a></p></div>
<aside><a href="http://w.test/aside">Aside</a></aside>
<section id="comments"><ol><li><div class="comment-content"><p>Great post! Buy
  <a href="http://w.test/spam" rel="ugc">cheap pills</a> now.</p></div></li></ol></section>
<p>No markers at all: <a href="http://w.test/plain">plain link</a>.</p>
<map><area href="http://w.test/area" alt="A"></map>
<footer><a href="http://w.test/footer">Imprint</a></footer>
</body></html>"""


def test_extraction_gives_each_link_its_placement_and_context():
    links = {
        link.url.rsplit("/", 1)[1]: link
        for link in extract_links(PAGE, "http://p.test/").with_evidence()
    }
    assert {name: link.placement for name, link in links.items()} == {
        "self": "content",  # <link rel=canonical>: in <head>
        "logo": "header",
        "nav": "nav",
        "role-nav": "nav",
        "author": "content",  # the article's header
        "body": "content",
        "embed": "content",
        "widget": "sidebar",
        "aside": "sidebar",
        "spam": "comment",
        "plain": "content",
        "area": "content",
        "footer": "footer",
    }
    assert set(PLACEMENTS) >= {link.placement for link in links.values()}
    assert links["body"].context == (
        "The library is fast. It is described in the paper on parsing, which compares "
        "it with the others."
    )
    assert links["spam"].context == "Great post! Buy cheap pills now."
    assert links["author"].context == "By Ann, 1 May"
    assert links["nav"].context == "Home"  # alone in its block
    assert links["plain"].context == "No markers at all: plain link."
    assert links["self"].context == links["embed"].context == links["area"].context == ""


def test_the_placement_rules_reach_extraction():
    html = b'<div class="rail"><a href="http://w.test/x">x</a></div>'
    [link] = extract_links(
        html, "http://p.test/", placement_rules=rules_from({"sidebar": ["rail"]})
    ).with_evidence()
    assert link.placement == "sidebar"
    [link] = extract_links(html, "http://p.test/").with_evidence()
    assert link.placement == "content"


def test_context_is_a_window_around_the_anchor():
    words = " ".join(f"w{i}" for i in range(200))  # "w0 w1 ... w199"
    context = context_window(words, "w100")
    assert len(context) <= CONTEXT_MAX_CHARS and "w100" in context
    assert not context.startswith(" ") and not context.endswith(" ")
    assert context.split()[0] in words.split() and context.split()[-1] in words.split()
    before, after = context.split("w100")
    assert abs(len(before) - len(after)) < 10  # centred
    assert context_window(words, "w0").startswith("w0 w1")
    assert context_window(words, "w199").endswith("w198 w199")
    assert context_window(words, "absent") == context_window(words, "w0")
    assert context_window("short text", "text") == "short text"
    assert context_window(words, words[:400]) == words[:CONTEXT_MAX_CHARS]


def test_the_context_finds_an_anchor_with_a_no_break_space():
    before = "word " * 60
    html = f"<p>{before}<a href='http://w.test/x'>Café\u00a0Bar</a> and more after it.</p>"
    [link] = extract_links(html.encode(), "http://p.test/").with_evidence()
    assert "Café Bar and more after it." in link.context
    assert len(link.context) <= CONTEXT_MAX_CHARS


def test_a_long_block_gives_at_most_150_characters():
    text = "x " * 500
    html = f'<p>{text}<a href="http://w.test/x">the link</a> {text}</p>'
    [link] = extract_links(html, "http://p.test/").with_evidence()
    assert "the link" in link.context and len(link.context) <= CONTEXT_MAX_CHARS


def test_edges_carry_placement_and_context_redirects_are_content():
    from crawler.extraction import Link
    from crawler.spiders.records import link_edge, redirect_edge

    source = {"url": "http://p.test/", "domain": "p.test", "title": "T", "status": 200}
    link = Link("http://w.test/x", "a", placement="sidebar", context="see x here")
    edge = link_edge(source, link, "w.test")
    assert (edge["placement"], edge["context"]) == ("sidebar", "see x here")
    edge = redirect_edge(source, "http://w.test/y", "w.test", 301)
    assert (edge["placement"], edge["context"]) == ("content", "")


def test_both_stores_keep_placement_and_context(store):
    extra = {"placement": "footer", "context": "Made by “us” — see w.test ☕"}
    store.write_pages([page("http://a.test/1", [("http://mysite.test/x", extra)])])
    [edge] = list(store.backlinks(MYSITE))
    assert (edge["placement"], edge["context"]) == ("footer", extra["context"])
    # a recrawl overwrites them, as every crawl field
    again = {"placement": "content", "context": "moved into the text"}
    store.write_pages([page("http://a.test/1", [("http://mysite.test/x", again)], at=FEB)])
    [edge] = list(store.backlinks(MYSITE))
    assert (edge["placement"], edge["context"]) == ("content", "moved into the text")


def test_an_old_sqlite_database_gains_the_columns_in_place(tmp_path):
    import sqlite3

    from pipelines.stores.sqlite import SQLiteStore

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_0_2)
    db.close()
    with SQLiteStore(path, readonly=True) as old:  # not migrated, still read whole
        [edge] = list(old.backlinks(MYSITE))
        assert (edge["placement"], edge["context"]) == ("", "")
    db = sqlite3.connect(path)
    assert "placement" not in {row[1] for row in db.execute("PRAGMA table_info(edges)")}
    db.close()
    with SQLiteStore(path) as store:
        [edge] = list(store.backlinks(MYSITE))  # migrated: the stored edge is empty
        assert (edge["anchor"], edge["placement"], edge["context"]) == ("old", "", "")
        extra = {"placement": "nav", "context": "Home"}
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", extra)], at=FEB)])
        [edge] = list(store.backlinks(MYSITE))
        assert (edge["placement"], edge["context"]) == ("nav", "Home")
    db = sqlite3.connect(path)
    columns = [row[1] for row in db.execute("PRAGMA table_info(edges)")]
    db.close()
    assert columns[-2:] == ["placement", "context"]


@pytest.mark.mongo
def test_an_old_mongodb_edge_reads_with_empty_placement_and_context(mongo_uri, mongo_database):
    from datetime import UTC, datetime

    import pymongo

    from pipelines.stores.mongo import MongoStore

    old = datetime(2025, 1, 1, tzinfo=UTC)
    with pymongo.MongoClient(mongo_uri) as client:
        client[mongo_database].edges.insert_one(old_mongo_edge(old))
    store = MongoStore(mongo_uri, mongo_database)
    try:
        [edge] = store.backlinks(MYSITE)
        assert (edge["anchor"], edge["placement"], edge["context"]) == ("old", "", "")
    finally:
        store.close()
