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
"""

from __future__ import annotations

from .model import BRAND_DOMAINS, COMPETITORS, Link, WebBuilder

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

PROFILE_SEEDS = (
    f"http://{FARM_HOST}/",
    "ref-all.test",
    "ref-pair.test",
    "ref-deep.test",
    "ref-single.test",
    "ref-mine.test",
    "ref-nofollow.test",
    "ref-redirect.test",
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


def build_profiles(w: WebBuilder) -> None:
    """The farm and the competitors' referrers (the same in every version)."""
    _farm(w)
    _referrers(w)
