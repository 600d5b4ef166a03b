"""Backlink profiles to judge: a link farm, and the sites that link to
mysite.test's competitors. Every expectation below is written by hand from
the pages, never computed by linkwatch.

- www.linkfarm.testing: a link farm of FARM_PAGES pages (the home page and
  /deals/1..5). Each page links to 100 of the BRAND_DOMAINS (unrelated
  sites), to seven watched domains, twice to mysite.test ("cheap viagra" in
  the text and "buy cheap shoes" in a sitewide footer), and to
  competitor.test as "best casino bonus". Its TLD, `.testing`, plays the
  spam-heavy TLD (name it in --spam-tlds: FARM_SPAM_TLD).
- ref-*.test: small sites linking to the competitors (acme.test, globex.test,
  initech.test), some also to mysite.test, and to each other (so authority
  orders them); GAP holds `linkwatch gap`'s answer.
- www.lightblog.test, lampforum.test, lampdeals.test: the link-quality sites,
  linking only to QUALITY_TARGET (lumen.test, watched): a link in every
  placement (header, nav, content, sidebar, comment, footer) and an anchor of
  every class (keywords QUALITY_KEYWORDS), pages declaring `<html lang="de">`,
  only a Content-Language header, or no language at all, and lampdeals.test
  linking sitewide (its QUALITY_SITEWIDE_PAGES pages, each from its footer).
  tests/test_quality_e2e.py holds, by hand, what a crawl must store of them.
"""

from __future__ import annotations

from .model import BRAND_DOMAINS, COMPETITORS, QUALITY_TARGET, Link, WebBuilder

FARM_HOST = "www.linkfarm.testing"
FARM_DOMAIN = "linkfarm.testing"
FARM_SPAM_TLD = "testing"
FARM_PAGES = 6
BRANDS_PER_PAGE = 100
# What the toxic rules must say about the farm, as a referring domain of
# mysite.test, with FARM_SPAM_TLD on the spam TLD list:
FARM_RULES = {
    "outlinks_per_page",  # 108 links to other domains on each of its 6 pages
    "many_watched_domains",  # 7 watched domains: mysite, competitor, acme, globex,
    # initech, xn--bcher-kva, pages
    "sitewide_links",  # 6 of 6 pages link to mysite.test
    "commercial_anchors",  # "cheap viagra" and "buy cheap shoes" on 6 pages each
    "spam_tld",  # .testing
}
FARM_LINKS_PER_PAGE = BRANDS_PER_PAGE + 8  # the brands, mysite twice, six more watched
FARM_WATCHED = (
    "acme.test",
    "competitor.test",
    "globex.test",
    "initech.test",
    "mysite.test",
    "pages.test",
    "xn--bcher-kva.test",
)
FARM_ANCHORS = ("buy cheap shoes", "cheap viagra")

# The link-quality sites (_quality): their seeds, keywords of QUALITY_TARGET
# the test stores, and the sitewide referrer's size.
QUALITY_SEEDS = ("http://www.lightblog.test/", "lampforum.test", "lampdeals.test")
QUALITY_KEYWORDS = ("desk lamp", "reading light")
QUALITY_SITEWIDE_PAGES = 5
QUALITY_CONTENT_LANGUAGE = "fr-CA, en"
PROFILE_SEEDS = (
    f"http://{FARM_HOST}/",
    "ref-all.test",
    "ref-pair.test",
    "ref-deep.test",
    "ref-single.test",
    "ref-mine.test",
    "ref-nofollow.test",
    "ref-redirect.test",
    *QUALITY_SEEDS,
)
# `linkwatch gap mysite.test --vs acme.test globex.test initech.test --min K`,
# best first. ref-all.test is linked from two crawled domains (ref-pair,
# ref-single), ref-deep.test from one (ref-single), the others from none: they
# tie at authority 0 and sort by competitors linked (most first), then by name.
# Never listed: the farm and ref-mine.test (they link to mysite.test), and
# ref-redirect.test (it redirects to mysite.test: a live edge).
GAP = {
    1: ["ref-all.test", "ref-deep.test", "ref-nofollow.test", "ref-pair.test", "ref-single.test"],
    2: ["ref-all.test", "ref-deep.test", "ref-nofollow.test", "ref-pair.test"],
    3: ["ref-all.test"],
}


def _farm(w: WebBuilder) -> None:
    h = f"http://{FARM_HOST}"
    urls = [f"{h}/"] + [f"{h}/deals/{k}.html" for k in range(1, FARM_PAGES)]
    brands = sorted(BRAND_DOMAINS)
    for k, url in enumerate(urls):
        p = w.page(url, f"Cheap Deals Directory {k}")
        if k == 0:
            for n, sub in enumerate(urls[1:], 1):
                p.add(f'<p><a href="/deals/{n}.html">Deals {n}</a></p>', follow=(sub,))
        else:
            p.add('<p><a href="/">Home</a></p>', follow=(f"{h}/",))
        p.add(
            '<p>Best prices: <a href="http://mysite.test/pharmacy">cheap viagra</a></p>',
            Link("http://mysite.test/pharmacy", "cheap viagra"),
        )
        p.add(
            '<p><a href="http://competitor.test/casino">best casino bonus</a></p>',
            Link("http://competitor.test/casino", "best casino bonus"),
        )
        for name in COMPETITORS:
            p.add(
                f'<p><a href="http://{name}/">{name} deals</a></p>',
                Link(f"http://{name}/", f"{name} deals"),
            )
        p.add(
            '<p><a href="http://bücher.test/">books</a></p>',
            Link("http://xn--bcher-kva.test/", "books", raw="http://bücher.test/"),
        )
        p.add(
            '<p><a href="http://alice.pages.test/">alice</a></p>',
            Link("http://alice.pages.test/", "alice"),
        )
        p.add("<ul>")
        for j in range(BRANDS_PER_PAGE):
            brand = brands[(20 * k + j) % len(brands)]
            p.add(f'<li><a href="http://{brand}/">{brand}</a></li>', ext=(f"http://{brand}/",))
        p.add("</ul>")
        p.add(
            '<footer><a href="http://mysite.test/">buy cheap shoes</a></footer>',
            Link("http://mysite.test/", "buy cheap shoes"),
        )


def _competitor_links(p, *names: str, rel: str = "") -> None:
    attr = f' rel="{rel}"' if rel else ""
    for name in names:
        p.add(
            f'<p><a href="http://{name}/"{attr}>{name} review</a></p>',
            Link(f"http://{name}/", f"{name} review", rel=(rel,) if rel else ()),
        )


def _referrers(w: WebBuilder) -> None:
    acme, globex, initech = COMPETITORS
    p = w.page("http://ref-all.test/", "All three")
    _competitor_links(p, acme, globex, initech)

    p = w.page("http://ref-pair.test/", "Two of them")
    _competitor_links(p, acme, globex)
    p.add('<p><a href="http://ref-all.test/">a friend</a></p>', follow=("http://ref-all.test/",))

    p = w.page("http://ref-deep.test/", "One here, one deeper")
    _competitor_links(p, acme)
    p.add(
        '<p><a href="/reviews.html">reviews</a></p>', follow=("http://ref-deep.test/reviews.html",)
    )
    p = w.page("http://ref-deep.test/reviews.html", "Reviews")
    _competitor_links(p, initech)
    p.add('<p><a href="/">home</a></p>', follow=("http://ref-deep.test/",))

    p = w.page("http://ref-single.test/", "Just one")
    _competitor_links(p, globex)
    p.add('<p><a href="http://ref-all.test/">friend</a></p>', follow=("http://ref-all.test/",))
    p.add('<p><a href="http://ref-deep.test/">other</a></p>', follow=("http://ref-deep.test/",))

    # Links to other seeds' home pages give them authority (already fetched: depth 0).
    p = w.page("http://ref-mine.test/", "Mine too")
    p.add(
        '<p><a href="http://mysite.test/">My Site</a></p>', Link("http://mysite.test/", "My Site")
    )
    _competitor_links(p, acme, globex)
    p.add('<p><a href="http://www.alpha.test/">alpha</a></p>', follow=("http://www.alpha.test/",))
    p.add('<p><a href="http://beta.test/">beta</a></p>', follow=("http://beta.test/",))

    p = w.page("http://ref-nofollow.test/", "Nofollow only")
    _competitor_links(p, acme, initech, rel="nofollow")

    p = w.page("http://ref-redirect.test/", "Redirects to mine")
    _competitor_links(p, acme, globex)
    p.add('<p><a href="http://www.alpha.test/">alpha</a></p>', follow=("http://www.alpha.test/",))
    p.add('<p><a href="/go/mysite">visit</a></p>', follow=("http://ref-redirect.test/go/mysite",))
    w.redirect(
        "http://ref-redirect.test/go/mysite",
        302,
        "http://mysite.test/from-ref",
        "http://mysite.test/from-ref",
        internal=False,
    )


def _quality(w: WebBuilder) -> None:
    """Every placement, anchor class and language, and a sitewide referrer, all
    linking to QUALITY_TARGET (each link of a page to its own URL: one edge each)."""
    t = f"http://{QUALITY_TARGET}"
    blog = "http://www.lightblog.test"

    # <html lang="de">; one link in each placement, one anchor of each class.
    p = w.page(f"{blog}/", "Lichtblog")
    p.lang = "de"
    p.add(
        f'<header><p>Lichtblog, mit <a href="{t}/">Lumen</a> beleuchtet</p></header>',
        Link(f"{t}/", "Lumen"),
    )
    p.add(
        f'<nav><ul><li><a href="/about.html">Über uns</a></li>'
        f'<li><a href="{t}/blog">Read more</a></li></ul></nav>',
        Link(f"{t}/blog", "Read more"),
        follow=(f"{blog}/about.html",),
    )
    p.add("<main><article><h1>Die beste Schreibtischlampe</h1>")
    p.add(
        "<p>We tested twelve lamps this winter, on a small desk by a north window, from "
        f'the cheapest clip-on to the dearest brass arm. The <a href="{t}/desk-lamp">desk '
        "lamp</a> we kept is quiet, warm and bright enough for reading late; the others went "
        "back to the shop within a week, most of them for flicker or glare.</p>",
        Link(f"{t}/desk-lamp", "desk lamp"),
    )
    p.add(
        f'<p>Their catalogue: <a href="{t}/catalogue">http://lumen.test/catalogue</a></p>',
        Link(f"{t}/catalogue", "http://lumen.test/catalogue"),
    )
    p.add(
        f'<p><a href="{t}/logo"><img src="/img/lumen.png" alt="Lumen logo"></a> '
        "Photo: the shop</p>",
        Link(f"{t}/logo", "", alt="Lumen logo"),
    )
    p.add(
        f'<p>One that suits a small desk: <a href="{t}/small">a small lamp for the desk</a>.</p>',
        Link(f"{t}/small", "a small lamp for the desk"),
    )
    p.add(
        f'<p>An empty link: <a href="{t}/empty"></a> and nothing in it.</p>',
        Link(f"{t}/empty", ""),
    )
    p.add(
        f'<p>More about <a href="{t}/history">the history of electric light</a>.</p>',
        Link(f"{t}/history", "the history of electric light"),
    )
    p.add("</article></main>")
    p.add(
        f'<aside><h2>Partner</h2><p>Our partner for <a href="{t}/reading-light">Reading '
        "Light</a> lamps.</p></aside>",
        Link(f"{t}/reading-light", "Reading Light"),
    )
    p.add(
        '<section id="comments"><h2>Kommentare</h2><div class="comment"><p>Great post! '
        f'I bought mine there, <a href="{t}/shop" rel="ugc nofollow">click here</a>.</p>'
        "</div></section>",
        Link(f"{t}/shop", "click here", rel=("ugc", "nofollow")),
    )
    p.add(
        f'<footer><p>© Lichtblog · Lampen von <a href="{t}/impressum">Lumen Leuchten</a></p>'
        "</footer>",
        Link(f"{t}/impressum", "Lumen Leuchten"),
    )

    # No language at all: no lang attribute, no Content-Language header.
    p = w.page(f"{blog}/about.html", "Über uns")
    p.lang = None
    p.add('<p><a href="/">Start</a></p>', follow=(f"{blog}/",))
    p.add(
        f'<div class="content"><p>Anna reviews lamps for <a href="{t}/">a lamp maker</a>.</p>'
        "</div>",
        Link(f"{t}/", "a lamp maker"),
    )

    # Only the Content-Language header says the language (its first tag).
    p = w.page(
        "http://lampforum.test/",
        "Forum des lampes",
        headers=(("Content-Language", QUALITY_CONTENT_LANGUAGE),),
    )
    p.lang = None
    p.add(
        f'<div id="sidebar"><a href="{t}/forum">Lumen forum</a></div>',
        Link(f"{t}/forum", "Lumen forum"),
    )
    p.add(
        f'<div class="post"><p>Bonjour ! Voir <a href="{t}/lampes">https://lumen.test/lampes'
        "</a> pour les lampes.</p></div>",
        Link(f"{t}/lampes", "https://lumen.test/lampes"),
    )
    p.add(f'<p>Un blog ami : <a href="{blog}/">Lichtblog</a></p>', follow=(f"{blog}/",))

    # Sitewide: every page of lampdeals.test links to the target from its footer.
    deals = "http://lampdeals.test"
    urls = [f"{deals}/"] + [f"{deals}/p/{k}.html" for k in range(1, QUALITY_SITEWIDE_PAGES)]
    for k, url in enumerate(urls):
        p = w.page(url, f"Lamp Deals {k}")
        if k == 0:
            items = "".join(f'<li><a href="/p/{n}.html">Deal {n}</a></li>' for n in range(1, 5))
            p.add(f"<nav><ul>{items}</ul></nav>", follow=tuple(urls[1:]))
        else:
            p.add('<nav><a href="/">All deals</a></nav>', follow=(f"{deals}/",))
        p.add(f"<p>Deal {k}: a lamp, half price.</p>")
        p.add(
            f'<footer><p>Lamps by <a href="{t}/">Lumen lamps</a></p></footer>',
            Link(f"{t}/", "Lumen lamps"),
        )


def build_profiles(w: WebBuilder) -> None:
    """The farm, the competitors' referrers and the link-quality sites (the
    same in every version)."""
    _farm(w)
    _referrers(w)
    _quality(w)
