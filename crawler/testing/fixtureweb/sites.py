"""The hand-written sites of the fixture web: every tricky case of
docs/edge-semantics.md, each page written next to the edges it must produce.

- www.alpha.test: URL resolution, <base>, rel, host forms (IDN, ports, case),
  tracking parameters, skipped hrefs, image maps, frames, canonical, anchors,
  duplicates, broken HTML, robots meta / X-Robots-Tag, robots.txt; plus
  blog.alpha.test and shop.alpha.test:8080.
- beta.test: HTTP redirects (301/302/308, chains, https, external) and meta refresh.
- blog.gamma.test / www.gamma.test: a seed domain that is also watched.
- delta.test: a chain deeper than the max depth.
- www.epsilon.test: encodings, non-HTML responses, error pages, titles.
- a link farm and the sites linking to mysite.test's competitors: profiles.py.
- sitemaps: www.alpha.test's robots.txt names an index, beta.test serves
  /sitemap.xml; each lists a page no page links to (SITEMAPS).

``version=2`` changes some pages (the ``if w.v2`` branches) for recrawl tests.

Long on purpose (~900 lines): it is data, a page of HTML next to each edge it must
produce; split by site it would scatter the cases a reader compares.
"""

from __future__ import annotations

import base64

from .model import Link, Sitemap, SitemapEntry, WebBuilder
from .profiles import PROFILE_SEEDS, build_profiles

ROBOTS = {
    "www.alpha.test": (
        "User-agent: *\nDisallow: /private/\n\nSitemap: http://www.alpha.test/sitemap_index.xml\n"
    ),
    "blog.alpha.test": "User-agent: *\nDisallow: /drafts/\n",
    "shop.alpha.test:8080": "User-agent: *\nDisallow:\n",
    "beta.test": "# Beta robots\nUser-agent: *\nDisallow: /admin\n",
    "www.gamma.test": "User-agent: *\nAllow: /\n",
    # blog.gamma.test has no robots.txt (404): everything allowed.
    "delta.test": "User-agent: *\nDisallow: /nothing-here/\n",
    "www.epsilon.test": "User-agent: *\nDisallow: /tmp/\n",
}
CORE_SEEDS = (
    "http://www.alpha.test/",
    "beta.test",
    "http://blog.gamma.test/",
    "delta.test",
    "http://www.epsilon.test/",
    *PROFILE_SEEDS,
)
# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


# --------------------------------------------------------------------------- alpha


def _alpha(w: WebBuilder) -> None:
    h = "http://www.alpha.test"
    home = w.page(f"{h}/", "Alpha Home")
    home.add(
        '<p>Welcome to Alpha. We like <a href="http://mysite.test/">My Site</a>.</p>',
        Link("http://mysite.test/", "My Site"),
    )
    home.add(
        '<p><a href="https://competitor.test/">Competitor over TLS</a></p>',
        Link("https://competitor.test/", "Competitor over TLS"),
    )
    home.add(
        '<p><a href="http://other.test/">an unwatched site</a></p>', ext=("http://other.test/",)
    )
    nav = [
        ("/about.html", "About", f"{h}/about.html"),
        ("/private/secret.html", "Secret", f"{h}/private/secret.html"),
        ("rel/a/page.html", "Relative links", f"{h}/rel/a/page.html"),
        ("/base-abs.html", "Absolute base", f"{h}/base-abs.html"),
        ("/base-rel/dir/page.html", "Relative base", f"{h}/base-rel/dir/page.html"),
        ("/rels.html", "Rel variants", f"{h}/rels.html"),
        ("/hosts.html", "Host forms", f"{h}/hosts.html"),
        ("/tracking.html", "Tracking parameters", f"{h}/tracking.html"),
        ("/schemes.html", "Skipped hrefs", f"{h}/schemes.html"),
        ("/image-map.html", "Image map", f"{h}/image-map.html"),
        ("/frames.html", "Inline frames", f"{h}/frames.html"),
        ("/frameset.html", "Frameset", f"{h}/frameset.html"),
        ("/canonical.html", "Canonical link", f"{h}/canonical.html"),
        ("/anchors.html", "Anchors", f"{h}/anchors.html"),
        ("/long-anchor.html", "A long anchor", f"{h}/long-anchor.html"),
        ("/dupes.html", "Duplicates", f"{h}/dupes.html"),
        ("/broken.html", "Broken HTML", f"{h}/broken.html"),
        (
            "/robots-meta/noindex-nofollow.html",
            "Meta nofollow",
            f"{h}/robots-meta/noindex-nofollow.html",
        ),
        ("/robots-meta/none.html", "Meta none", f"{h}/robots-meta/none.html"),
        ("/robots-meta/noindex.html", "Meta noindex", f"{h}/robots-meta/noindex.html"),
        ("/xrobots/nofollow.html", "Header nofollow", f"{h}/xrobots/nofollow.html"),
        ("/xrobots/noindex.html", "Header noindex", f"{h}/xrobots/noindex.html"),
        ("HTTP://Blog.Alpha.TEST/", "Blog", "http://blog.alpha.test/"),
        ("http://shop.alpha.test:8080/", "Shop", "http://shop.alpha.test:8080/"),
        ("http://www.alpha.test:80/%7Eteam/", "Team", f"{h}/~team/"),
        ("/café.html", "Café", f"{h}/caf%C3%A9.html"),
    ]
    home.add("<ul>")
    for href, label, canonical in nav:
        home.add(f'<li><a href="{href}">{label}</a></li>', follow=(canonical,))
    home.add("</ul>")

    about = w.page(f"{h}/about.html", "About Alpha")
    about.add('<p><a href="/">Home</a></p>', follow=(f"{h}/",))
    if not w.v2:  # v2: removed (link_removed)
        about.add(
            '<p>Made with <a href="http://www.mysite.test/team">our partner</a>.</p>',
            Link("http://www.mysite.test/team", "our partner"),
        )
    about.add(
        '<p><a href="http://competitor.test/about-ref" rel="nofollow">a competitor</a></p>',
        Link("http://competitor.test/about-ref", "a competitor", rel=("nofollow",)),
    )
    if w.v2:  # v2: a new edge and a new page
        about.add(
            '<p><a href="http://mysite.test/new-in-v2">new partner page</a></p>',
            Link("http://mysite.test/new-in-v2", "new partner page"),
        )
        about.add('<p><a href="new-page.html">New page</a></p>', follow=(f"{h}/new-page.html",))
        w.page(f"{h}/new-page.html", "New in v2").add(
            '<p><a href="http://competitor.test/brand-new">brand new</a></p>',
            Link("http://competitor.test/brand-new", "brand new"),
        )

    secret = w.page(f"{h}/private/secret.html", "Secret", disallowed=True)
    secret.add(
        '<a href="http://mysite.test/from-private">never seen</a>',
        Link("http://mysite.test/from-private", "never seen"),
    )

    # Relative URLs.
    rel = w.page(f"{h}/rel/a/page.html", "Relative links")
    rel.add('<a href="../b/other.html">sibling directory</a>', follow=(f"{h}/rel/b/other.html",))
    rel.add(
        '<a href="/rel/a/../b/./other.html">dot segments</a>', follow=(f"{h}/rel/b/other.html",)
    )
    rel.add('<a href="./c.html?x=1#frag">query and fragment</a>', follow=(f"{h}/rel/a/c.html?x=1",))
    rel.add('<a href="?q=2">query only</a>', follow=(f"{h}/rel/a/page.html?q=2",))
    rel.add('<a href="sub/../../../../mysite">too many dot-dots</a>', follow=(f"{h}/mysite",))
    rel.add(
        '<a href="//mysite.test/proto-rel">protocol-relative</a>',
        Link("http://mysite.test/proto-rel", "protocol-relative", raw="//mysite.test/proto-rel"),
    )
    w.page(f"{h}/rel/b/other.html", "Sibling page").add(
        '<a href="../a/page.html">back</a>', follow=(f"{h}/rel/a/page.html",)
    ).add(
        '<a href="http://mysite.test/from-relative">resolved relative link</a>',
        Link("http://mysite.test/from-relative", "resolved relative link"),
    )
    w.page(f"{h}/rel/a/c.html?x=1", "Query page").add(
        '<a href="http://mysite.test/from-query-page">from a page with a query</a>',
        Link("http://mysite.test/from-query-page", "from a page with a query"),
    )
    w.page(f"{h}/rel/a/page.html?q=2", "Query-only relative").add(
        '<a href="http://competitor.test/query-only">query only</a>',
        Link("http://competitor.test/query-only", "query only"),
    )
    w.page(f"{h}/mysite", "Not the watched site").add(
        '<a href="http://competitor.test/clamped">clamped</a>',
        Link("http://competitor.test/clamped", "clamped"),
    )

    # <base href>: absolute (to a watched domain), first one wins, applies to every type.
    ba = w.page(f"{h}/base-abs.html", "Absolute base")
    ba.head('<base target="_self">')
    ba.head('<base href="http://mysite.test/docs/">')
    ba.head('<base href="http://competitor.test/ignored/">')
    ba.head(
        '<meta http-equiv="refresh" content="600; url=later.html">',
        Link("http://mysite.test/docs/later.html", link_type="meta_refresh", raw="later.html"),
    )
    ba.add(
        '<p><a href="guide.html?utm_source=x">Guide</a></p>',
        Link("http://mysite.test/docs/guide.html", "Guide", raw="guide.html?utm_source=x"),
    )
    ba.add(
        '<iframe src="embed"></iframe>',
        Link("http://mysite.test/docs/embed", link_type="frame", raw='src="embed"'),
    )
    ba.add(
        '<p><a href="/root">Root of the base host</a></p>',
        Link("http://mysite.test/root", "Root of the base host", raw='href="/root"'),
    )
    ba.add(
        '<p><a href="../up.html">Up from the base</a></p>',
        Link("http://mysite.test/up.html", "Up from the base", raw="../up.html"),
    )
    ba.add(
        '<p><a href="http://www.alpha.test/based/target.html">absolute internal</a></p>',
        follow=(f"{h}/based/target.html",),
    )
    w.page(f"{h}/based/target.html", "Based target").add(
        '<a href="http://mysite.test/via-base-abs">via absolute base</a>',
        Link("http://mysite.test/via-base-abs", "via absolute base"),
    )
    # <base href> that is itself relative: resolved against the page URL.
    br = w.page(f"{h}/base-rel/dir/page.html", "Relative base")
    br.head('<base href="../other/">')
    br.add('<a href="x.html">relative to the base</a>', follow=(f"{h}/base-rel/other/x.html",))
    br.add(
        '<a href="//mysite.test/b?utm_source=base#top">protocol-relative with base</a>',
        Link(
            "http://mysite.test/b",
            "protocol-relative with base",
            raw="//mysite.test/b?utm_source=base#top",
        ),
    )
    w.page(f"{h}/base-rel/other/x.html", "Base target").add(
        '<a href="http://mysite.test/via-base-rel">via relative base</a>',
        Link("http://mysite.test/via-base-rel", "via relative base"),
    )

    # rel variants.
    rels = w.page(f"{h}/rels.html", "Rel variants")
    rels.head('<link rel="stylesheet" href="http://mysite.test/style.css">')
    m = "http://mysite.test"
    rels.add(
        f'<a href="{m}/r1" rel="NoFollow">r1</a>',
        Link(f"{m}/r1", "r1", rel=("nofollow",)),
    )
    rels.add(
        f'<a href="{m}/r2" rel="sponsored ugc">r2</a>',
        Link(f"{m}/r2", "r2", rel=("sponsored", "ugc")),
    )
    rels.add(
        f'<a href="{m}/r3" rel="nofollow  noopener NOFOLLOW noreferrer">r3</a>',
        Link(f"{m}/r3", "r3", rel=("nofollow", "noopener", "noreferrer")),
    )
    rels.add(
        f'<a href="{m}/r4" rel=" UGC\tnofollow\n">r4</a>',
        Link(f"{m}/r4", "r4", rel=("ugc", "nofollow")),
    )
    rels.add(f'<a href="{m}/r5" rel="">r5</a>', Link(f"{m}/r5", "r5"))
    if w.v2:  # became_nofollow
        rels.add(
            f'<a href="{m}/r6" rel="external nofollow">r6</a>',
            Link(f"{m}/r6", "r6", rel=("external", "nofollow")),
        )
    else:
        rels.add(
            f'<a href="{m}/r6" rel="external">r6</a>', Link(f"{m}/r6", "r6", rel=("external",))
        )
    rels.add(
        f'<a href="{m}/r7" rel="no-follow">r7</a>',
        Link(f"{m}/r7", "r7", rel=("no-follow",)),
    )
    rels.add(  # split on whitespace only: one token, not nofollow
        f'<a href="{m}/r8" rel="nofollow,ugc">r8</a>',
        Link(f"{m}/r8", "r8", rel=("nofollow,ugc",)),
    )

    # Host forms.
    hosts = w.page(f"{h}/hosts.html", "Host forms")
    for raw, target, text in [
        ("http://MySite.TEST/Case", "http://mysite.test/Case", "upper-case host"),
        ("HTTP://mysite.test/upper-scheme", "http://mysite.test/upper-scheme", "upper-case scheme"),
        ("http://bücher.test/straße", "http://xn--bcher-kva.test/stra%C3%9Fe", "IDN host"),
        ("http://BÜCHER.test/", "http://xn--bcher-kva.test/", "upper-case IDN host"),
        ("http://xn--bcher-kva.test/puny", "http://xn--bcher-kva.test/puny", "punycode host"),
        ("http://mysite.test:80/port80", "http://mysite.test/port80", "explicit port 80"),
        ("https://mysite.test:443/tls", "https://mysite.test/tls", "explicit port 443"),
        ("http://mysite.test:8080/alt-port", "http://mysite.test:8080/alt-port", "port 8080"),
        ("http://mysite.test./trailing-dot", "http://mysite.test/trailing-dot", "trailing dot"),
        ("http://www.mysite.test/", "http://www.mysite.test/", "www subdomain"),
        ("http://blog.mysite.test", "http://blog.mysite.test/", "no path"),
        ("http://alice.pages.test/about", "http://alice.pages.test/about", "deeper host"),
        ("http://BLOG.Alice.Pages.test/x", "http://blog.alice.pages.test/x", "below deeper host"),
        (
            "http://mysite.test/%7Euser/a%2fb/caf%c3%a9?q=a%3db",
            "http://mysite.test/~user/a%2Fb/caf%C3%A9?q=a%3Db",
            "percent escapes",
        ),
        ("http://mysite.test/with space/é", "http://mysite.test/with%20space/%C3%A9", "raw space"),
    ]:
        hosts.add(f'<p><a href="{raw}">{text}</a></p>', Link(target, text, raw=raw))
    for url in [
        "http://bob.pages.test/",
        "http://pages.test/",
        "http://notmysite.test/",
        "http://mysite.test.evil.test/",
        "http://mysite.testing/",
    ]:
        hosts.add(f'<p><a href="{url}">not watched</a></p>', ext=(url,))

    # Tracking parameters, fragments, dot segments, entities in href.
    tr = w.page(f"{h}/tracking.html", "Tracking parameters")
    for raw, target in [
        ("/t1?utm_source=news&amp;utm_medium=email", "/t1"),
        ("/t2?id=7&amp;utm_campaign=x&amp;page=3", "/t2?id=7&page=3"),
        ("/t3?gclid=abc123", "/t3"),
        ("/t4?", "/t4"),
        ("/t5?b=2&amp;a=1&amp;fbclid=z", "/t5?b=2&a=1"),
        ("/t6#section", "/t6"),
        ("/t7?q=1#frag", "/t7?q=1"),
        ("/t8/./x/../y", "/t8/y"),
        ("/t9?a=1&utm_source=x&b=2", "/t9?a=1&b=2"),
        ("/t10?utm_content=&amp;x=", "/t10?x="),
        ("/t11?flag&amp;utm_term=y", "/t11?flag"),
    ]:
        name = target.split("?")[0].lstrip("/")
        tr.add(
            f'<p><a href="http://mysite.test{raw}">{name}</a></p>',
            Link(f"http://mysite.test{target}", name, raw=f"http://mysite.test{raw}"),
        )
    tr.add(
        '<p><a href="/rel/b/other.html?utm_source=internal">internal</a></p>',
        follow=(f"{h}/rel/b/other.html",),
    )

    # Hrefs that are skipped without failing the page.
    sch = w.page(f"{h}/schemes.html", "Skipped hrefs")
    for href in [
        "javascript:void(0)",
        "JavaScript:alert(1)",
        "mailto:owner@mysite.test",
        "tel:+15550100",
        "data:text/plain,http://mysite.test/data",
        "ftp://mysite.test/file.txt",
        "",
        "   ",
        "http://[mysite.test/",
        "http://mysite.test:99999/",
    ]:
        sch.add(f'<p><a href="{href}">skipped</a></p>')
    sch.add("<p><a>no href</a></p>")
    sch.add(
        '<p><a href="  http://mysite.test/padded  ">padded</a></p>',
        Link("http://mysite.test/padded", "padded", raw="  http://mysite.test/padded  "),
    )
    sch.add(
        '<p><a href="http://mysite.test/new\nline">newline inside</a></p>',
        Link("http://mysite.test/newline", "newline inside", raw="http://mysite.test/new\nline"),
    )
    sch.add(
        '<p><a href="http://mysite.test/after-schemes">valid</a></p>',
        Link("http://mysite.test/after-schemes", "valid"),
    )

    im = w.page(f"{h}/image-map.html", "Image map")
    im.add('<img src="/map.png" usemap="#nav" alt="Map">')
    im.add('<map name="nav">')
    im.add(
        '<area shape="rect" coords="0,0,10,10" href="http://mysite.test/area1" alt="Area One">',
        Link("http://mysite.test/area1", link_type="area", alt="Area One"),
    )
    im.add(
        '<area shape="rect" coords="10,0,20,10" href="http://competitor.test/area2" '
        'alt="Area Two" rel="nofollow">',
        Link("http://competitor.test/area2", link_type="area", alt="Area Two", rel=("nofollow",)),
    )
    im.add(
        '<area shape="rect" coords="20,0,30,10" href="/map-internal.html" alt="internal">',
        follow=(f"{h}/map-internal.html",),
    )
    im.add('<area shape="default" alt="no link">')
    im.add("</map>")
    w.page(f"{h}/map-internal.html", "Area target").add(
        '<a href="http://mysite.test/from-area-page">from the area target</a>',
        Link("http://mysite.test/from-area-page", "from the area target"),
    )

    fr = w.page(f"{h}/frames.html", "Inline frames")
    fr.add(
        '<iframe src="http://mysite.test/widget" title="widget"></iframe>',
        Link("http://mysite.test/widget", link_type="frame"),
    )
    fr.add(
        '<iframe src="//competitor.test/embed?utm_medium=x"></iframe>',
        Link(
            "http://competitor.test/embed",
            link_type="frame",
            raw="//competitor.test/embed?utm_medium=x",
        ),
    )
    fr.add('<iframe src="/frames/inner.html"></iframe>', follow=(f"{h}/frames/inner.html",))
    # iframe content is raw text in HTML5, and srcdoc is not a src: no edges.
    fr.add('<iframe src="/frames/inner.html"><a href="http://mysite.test/in-iframe">x</a></iframe>')
    fr.add("<iframe srcdoc=\"<a href='http://mysite.test/srcdoc'>x</a>\"></iframe>")
    w.page(f"{h}/frames/inner.html", "Inner frame").add(
        '<a href="http://mysite.test/from-iframe-page">from the iframe page</a>',
        Link("http://mysite.test/from-iframe-page", "from the iframe page"),
    )
    fs = w.page(f"{h}/frameset.html", "Frameset")
    fs.raw_body = (
        b'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>Frameset</title>\n'
        b'</head>\n<frameset cols="50%,50%">\n<frame src="/frames/left.html">\n'
        b'<frame src="http://mysite.test/frame-right">\n</frameset>\n</html>\n'
    )
    fs.expect(
        Link("http://mysite.test/frame-right", link_type="frame"),
        follow=(f"{h}/frames/left.html",),
    )
    w.page(f"{h}/frames/left.html", "Left frame").add(
        '<a href="http://mysite.test/from-frame-page">from the frame page</a>',
        Link("http://mysite.test/from-frame-page", "from the frame page"),
    )

    if w.v2:  # redirected (internal)
        w.redirect(f"{h}/canonical.html", 302, "/about.html", f"{h}/about.html", internal=True)
    else:
        ca = w.page(f"{h}/canonical.html", "Canonical link")
        ca.head(
            '<link rel="canonical" href="http://mysite.test/canonical-target?utm_source=c">',
            Link(
                "http://mysite.test/canonical-target",
                link_type="canonical",
                rel=("canonical",),
                raw="http://mysite.test/canonical-target?utm_source=c",
            ),
        )
        ca.head('<link rel="alternate" hreflang="de" href="http://mysite.test/de/">')
        ca.head('<link rel="icon" href="http://competitor.test/favicon.ico">')
        ca.add(
            '<a href="http://competitor.test/in-body">in body</a>',
            Link("http://competitor.test/in-body", "in body"),
        )

    if w.v2:  # page_gone
        gone = w.page(f"{h}/anchors.html", "Gone", status=410)
        gone.add("<p>This page is gone.</p>")
    else:
        an = w.page(f"{h}/anchors.html", "Anchors")
        for frag, link in [
            (
                '<a href="http://mysite.test/img1"><img src="/logo.png" alt="My  Logo"></a>',
                Link("http://mysite.test/img1", "", alt="My Logo"),
            ),
            (
                '<a href="http://mysite.test/img2"><img src="/a.png" alt="">'
                '<img src="/b.png" alt=" Second   Image "> Text</a>',
                Link("http://mysite.test/img2", "Text", alt="Second Image"),
            ),
            (
                '<a href="http://mysite.test/img3">Caption <img src="/c.png" alt="Pic"> more</a>',
                Link("http://mysite.test/img3", "Caption more", alt="Pic"),
            ),
            (
                '<a href="http://mysite.test/img4"><span>Nested <b>bold</b></span>\n   text</a>',
                Link("http://mysite.test/img4", "Nested bold text"),
            ),
            (
                '<a href="http://mysite.test/entities">Fish &amp; Chips &lt;3</a>',
                Link("http://mysite.test/entities", "Fish & Chips <3"),
            ),
            (
                '<a href="http://mysite.test/br">Line<br>break</a>',
                Link("http://mysite.test/br", "Linebreak"),
            ),
            (
                '<a href="http://mysite.test/comment">A<!-- hidden -->B</a>',
                Link("http://mysite.test/comment", "AB"),
            ),
            (
                '<a href="http://mysite.test/img-no-alt"><img src="/d.png"></a>',
                Link("http://mysite.test/img-no-alt"),
            ),
            (
                '<a href="http://mysite.test/deep-img">'
                '<span><img src="/e.png" alt="Deep"></span></a>',
                Link("http://mysite.test/deep-img", alt="Deep"),
            ),
        ]:
            an.add(f"<p>{frag}</p>", link)

    if w.v2:  # redirected (to a watched domain: a new redirect edge)
        w.redirect(
            f"{h}/long-anchor.html",
            301,
            "http://mysite.test/long-anchor-moved",
            "http://mysite.test/long-anchor-moved",
            internal=False,
        )
    else:
        unit = "Long anchor text about café culture and more"
        text = " ".join([unit] * 8)
        assert len(text) > 300 and text[299] != " "
        w.page(f"{h}/long-anchor.html", "Long anchor").add(
            '<p><a href="http://mysite.test/long">' + "\n".join([unit] * 8) + "</a></p>",
            Link("http://mysite.test/long", text[:300]),
        )

    du = w.page(f"{h}/dupes.html", "Duplicates")
    du.head(
        '<link rel="canonical" href="http://mysite.test/dup4">',
        Link("http://mysite.test/dup4", link_type="canonical", rel=("canonical",)),
    )
    du.add(
        '<a href="http://mysite.test/dup" rel="ugc">First text</a>',
        Link("http://mysite.test/dup", "First text", rel=("ugc",)),
    )
    du.add('<a href="http://mysite.test/dup#again" rel="nofollow">Second text</a>')
    du.add(
        '<iframe src="http://mysite.test/dup2"></iframe>',
        Link("http://mysite.test/dup2", link_type="frame"),
    )
    du.add('<a href="http://mysite.test/dup2">Later anchor</a>')
    du.add(
        '<a href="http://mysite.test/dup3?utm_source=a">One</a>',
        Link("http://mysite.test/dup3", "One", raw="http://mysite.test/dup3?utm_source=a"),
    )
    du.add('<a href="http://MYSITE.test/dup3">Two</a>')
    du.add('<a href="http://mysite.test/dup4">Body link to the canonical target</a>')
    du.add(
        '<a href="http://mysite.test/dup5"><img src="/x.png" alt="first alt"></a>',
        Link("http://mysite.test/dup5", alt="first alt"),
    )
    du.add('<a href="http://mysite.test/dup5"><img src="/y.png" alt="second alt"></a>')

    # Broken HTML: no doctype (quirks), unclosed <a>/<b>/<td>, unquoted and upper-case attrs.
    bk = w.page(f"{h}/broken.html", "Broken page")
    bk.raw_body = (
        b'<html><head><meta charset="utf-8"><title>Broken  page\n</title><body>'
        b'<div><p>Intro <a href="http://mysite.test/broken1">Unclosed anchor <b>bold\n'
        b"<p><a href='http://mysite.test/broken2'>Second</a>\n"
        b"<a href=http://mysite.test/broken3>unquoted</a>\n"
        b'<A HREF="http://mysite.test/upper-tag">UPPER CASE TAG</A>\n'
        b'<table><tr><td><a href="http://mysite.test/broken4">cell\n</table>\n'
        b'<div><span><a href="http://mysite.test/broken5">after table</span>\n'
    )
    bk.expect(
        Link("http://mysite.test/broken1", "Unclosed anchor bold"),
        Link("http://mysite.test/broken2", "Second"),
        Link("http://mysite.test/broken3", "unquoted"),
        Link("http://mysite.test/upper-tag", "UPPER CASE TAG"),
        Link("http://mysite.test/broken4", "cell"),
        Link("http://mysite.test/broken5", "after table"),
    )

    mn = w.page(f"{h}/robots-meta/noindex-nofollow.html", "Meta nofollow", nofollow=True)
    mn.head('<meta name="robots" content="noindex, nofollow">')
    mn.add(
        '<a href="http://mysite.test/meta-nofollow" rel="ugc">ugc link</a>',
        Link("http://mysite.test/meta-nofollow", "ugc link", rel=("ugc",)),
    )
    mn.add(
        '<iframe src="http://competitor.test/meta-nofollow-frame"></iframe>',
        Link("http://competitor.test/meta-nofollow-frame", link_type="frame"),
    )
    mo = w.page(f"{h}/robots-meta/none.html", "Meta none", nofollow=True)
    mo.head('<meta name="ROBOTS" content="NONE">')
    mo.add(
        '<a href="http://mysite.test/meta-none">none</a>',
        Link("http://mysite.test/meta-none", "none"),
    )
    mi = w.page(f"{h}/robots-meta/noindex.html", "Meta noindex", nofollow=w.v2)
    # v2: became_nofollow for every edge of the page.
    mi.head(f'<meta name="robots" content="noindex,{"nofollow" if w.v2 else "follow"}">')
    mi.head('<meta name="googlebot" content="nofollow">')
    mi.add(
        '<a href="http://mysite.test/meta-noindex">noindex only</a>',
        Link("http://mysite.test/meta-noindex", "noindex only"),
    )
    xn = w.page(
        f"{h}/xrobots/nofollow.html",
        "Header nofollow",
        headers=(("X-Robots-Tag", "noindex, nofollow"),),
        nofollow=True,
    )
    xn.add(
        '<a href="http://mysite.test/xrobots-nofollow">header nofollow</a>',
        Link("http://mysite.test/xrobots-nofollow", "header nofollow"),
    )
    xi = w.page(
        f"{h}/xrobots/noindex.html", "Header noindex", headers=(("X-Robots-Tag", "noindex"),)
    )
    xi.add(
        '<a href="http://mysite.test/xrobots-noindex">header noindex</a>',
        Link("http://mysite.test/xrobots-noindex", "header noindex"),
    )

    blog = w.page("http://blog.alpha.test/", "Alpha Blog")
    blog.add(
        '<a href="http://blog.mysite.test/">their blog</a>',
        Link("http://blog.mysite.test/", "their blog"),
    )
    blog.add(
        '<a href="/drafts/wip.html">draft</a>', follow=("http://blog.alpha.test/drafts/wip.html",)
    )
    blog.add(
        '<a href="/2024/post.html">a post</a>', follow=("http://blog.alpha.test/2024/post.html",)
    )
    w.page("http://blog.alpha.test/drafts/wip.html", "Draft", disallowed=True).add(
        '<a href="http://mysite.test/from-draft">draft link</a>',
        Link("http://mysite.test/from-draft", "draft link"),
    )
    w.page("http://blog.alpha.test/2024/post.html", "A post").add(
        '<a href="http://mysite.test/from-blog">from the blog</a>',
        Link("http://mysite.test/from-blog", "from the blog"),
    )
    shop = w.page("http://shop.alpha.test:8080/", "Alpha Shop")
    shop.add(
        '<a href="http://mysite.test/from-port">port source</a>',
        Link("http://mysite.test/from-port", "port source"),
    )
    shop.add('<a href="item.html">an item</a>', follow=("http://shop.alpha.test:8080/item.html",))
    w.page("http://shop.alpha.test:8080/item.html", "Shop item").add(
        '<a href="http://competitor.test/from-port-item">item source</a>',
        Link("http://competitor.test/from-port-item", "item source"),
    )
    w.page(f"{h}/~team/", "Team").add(
        '<a href="http://mysite.test/team-page">team</a>',
        Link("http://mysite.test/team-page", "team"),
    )
    w.page(f"{h}/caf%C3%A9.html", "Café").add(
        '<a href="http://competitor.test/from-cafe">café page</a>',
        Link("http://competitor.test/from-cafe", "café page"),
    )


# --------------------------------------------------------------------------- beta


def _beta(w: WebBuilder) -> None:
    h = "http://beta.test"
    home = w.page(f"{h}/", "Beta Home")
    home.add(
        '<p><a href="http://competitor.test/">Competitor</a></p>',
        Link("http://competitor.test/", "Competitor"),
    )
    for path in [
        "/go/mysite",
        "/go/internal",
        "/go/chain1",
        "/go/https",
        "/go/external",
        "/go/perm308",
        "/refresh/watched.html",
        "/refresh/internal.html",
        "/admin/panel.html",
        "/administrator.html",
    ]:
        home.add(f'<p><a href="{path}">{path}</a></p>', follow=(f"{h}{path}",))
    w.redirect(
        f"{h}/go/mysite",
        301,
        "http://mysite.test/landing?utm_source=beta",
        "http://mysite.test/landing",
        internal=False,
    )
    w.redirect(
        f"{h}/go/internal", 302, "/moved/target.html", f"{h}/moved/target.html", internal=True
    )
    w.page(f"{h}/moved/target.html", "Moved target").add(
        '<a href="http://competitor.test/after-redirect">after a redirect</a>',
        Link("http://competitor.test/after-redirect", "after a redirect"),
    )
    w.redirect(f"{h}/go/chain1", 301, "/go/chain2", f"{h}/go/chain2", internal=True)
    w.redirect(
        f"{h}/go/chain2",
        302,
        "http://competitor.test/chain-end",
        "http://competitor.test/chain-end",
        internal=False,
    )
    w.redirect(
        f"{h}/go/https",
        301,
        "https://mysite.test/secure",
        "https://mysite.test/secure",
        internal=False,
    )
    w.redirect(
        f"{h}/go/external",
        302,
        "http://other.test/elsewhere",
        "http://other.test/elsewhere",
        internal=False,
    )
    w.redirect(
        f"{h}/go/perm308",
        308,
        "http://MYSITE.test/p308#frag",
        "http://mysite.test/p308",
        internal=False,
    )
    rw = w.page(f"{h}/refresh/watched.html", "Refresh to watched")
    if not w.v2:  # v2: the refresh is removed (link_removed)
        rw.head(
            '<meta http-equiv="refresh" content="5; url=http://mysite.test/refreshed?utm_campaign=x">',
            Link(
                "http://mysite.test/refreshed",
                link_type="meta_refresh",
                raw="http://mysite.test/refreshed?utm_campaign=x",
            ),
        )
    rw.add(
        '<a href="http://competitor.test/refresh-page-link">a link too</a>',
        Link("http://competitor.test/refresh-page-link", "a link too"),
    )
    w.page(f"{h}/refresh/internal.html", "Refresh internal").head(
        '<meta http-equiv="Refresh" content="0;URL=/refresh/landed.html">',
        follow=(f"{h}/refresh/landed.html",),
    )
    w.page(f"{h}/refresh/landed.html", "Refresh landed").add(
        '<a href="http://competitor.test/refresh-landed">landed</a>',
        Link("http://competitor.test/refresh-landed", "landed"),
    )
    w.page(f"{h}/admin/panel.html", "Admin", disallowed=True).add(
        '<a href="http://competitor.test/from-admin">admin</a>',
        Link("http://competitor.test/from-admin", "admin"),
    )
    w.page(f"{h}/administrator.html", "Administrator", disallowed=True).add(
        '<a href="http://mysite.test/from-administrator">prefix match</a>',
        Link("http://mysite.test/from-administrator", "prefix match"),
    )


# --------------------------------------------------------------------------- gamma


def _gamma(w: WebBuilder) -> None:
    """A seed domain that is also watched: its internal links are edges."""
    b = "http://blog.gamma.test"
    home = w.page(f"{b}/", "Gamma Blog")
    home.add(
        '<a href="/post/1">Post one</a>',
        Link(f"{b}/post/1", "Post one", raw="/post/1"),
        follow=(f"{b}/post/1",),
    )
    home.add(
        '<a href="http://www.gamma.test/">Gamma main</a>',
        Link("http://www.gamma.test/", "Gamma main"),
        follow=("http://www.gamma.test/",),
    )
    home.add('<a href="/">Home</a>', Link(f"{b}/", "Home", raw='"/"'), follow=(f"{b}/",))
    home.add(
        '<a href="http://mysite.test/from-gamma">my site</a>',
        Link("http://mysite.test/from-gamma", "my site"),
    )
    post = w.page(f"{b}/post/1", "Post one")
    back = "Back home" if w.v2 else "Back"  # v2: anchor changed, edge still live
    post.add(f'<a href="../">{back}</a>', Link(f"{b}/", back, raw="../"), follow=(f"{b}/",))
    post.add(
        '<a href="#comments">Comments</a>',
        Link(f"{b}/post/1", "Comments", raw="#comments"),
        follow=(f"{b}/post/1",),
    )
    w.page("http://www.gamma.test/", "Gamma").add(
        '<a href="http://blog.gamma.test/">Blog</a>',
        Link(f"{b}/", "Blog"),
        follow=(f"{b}/",),
    )


# --------------------------------------------------------------------------- delta


def _delta(w: WebBuilder) -> None:
    """A chain deeper than the max depth."""
    h = "http://delta.test"
    urls = [f"{h}/"] + [f"{h}/level{n}.html" for n in range(1, 5)]
    for n, url in enumerate(urls):
        p = w.page(url, f"Delta depth {n}")
        p.add(
            f'<a href="http://mysite.test/depth-{n}">depth {n}</a>',
            Link(f"http://mysite.test/depth-{n}", f"depth {n}"),
        )
        if n < 4:
            p.add(f'<a href="/level{n + 1}.html">deeper</a>', follow=(urls[n + 1],))
        if n == 2:
            p.add('<a href="/go/deep-internal">x</a>', follow=(f"{h}/go/deep-internal",))
            p.add('<a href="/go/deep-watched">y</a>', follow=(f"{h}/go/deep-watched",))
        if n == 3:
            p.head(
                '<meta http-equiv="refresh" content="10; url=/level4c.html">',
                follow=(f"{h}/level4c.html",),
            )
    w.redirect(f"{h}/go/deep-internal", 301, "/level4b.html", f"{h}/level4b.html", internal=True)
    w.redirect(
        f"{h}/go/deep-watched",
        302,
        "http://competitor.test/deep-redirect",
        "http://competitor.test/deep-redirect",
        internal=False,
    )
    for name in ("level4b", "level4c"):
        w.page(f"{h}/{name}.html", f"Delta {name}").add(
            f'<a href="http://mysite.test/depth-{name}">too deep</a>',
            Link(f"http://mysite.test/depth-{name}", "too deep"),
        )


# --------------------------------------------------------------------------- epsilon


def _epsilon(w: WebBuilder) -> None:
    """Encodings, non-HTML responses, error pages and titles."""
    h = "http://www.epsilon.test"
    home = w.page(f"{h}/", "Epsilon Home")
    for path in [
        "/latin1.html",
        "/latin1-meta.html",
        "/doc.pdf",
        "/logo.png",
        "/notes.txt",
        "/page.xhtml",
        "/missing.html",
        "/gone.html",
        "/nowhere.html",
        "/upper-ct.html",
        "/no-title.html",
        "/two-titles.html",
        "/tmp/cache.html",
    ]:
        home.add(f'<p><a href="{path}">{path}</a></p>', follow=(f"{h}{path}",))

    l1 = w.page(f"{h}/latin1.html", "Café Zürich", content_type="text/html; charset=iso-8859-1")
    l1.page.charset = "iso-8859-1"
    l1.raw_body = (
        '<!DOCTYPE html>\n<html><head><meta charset="iso-8859-1"><title>Café Zürich</title>'
        "</head><body>\n"
        '<p><a href="http://mysite.test/latin">Crème brûlée à la carte</a></p>\n'
        '<p><a href="http://mysite.test/café">café in the path</a></p>\n'
        "</body></html>\n"
    ).encode("iso-8859-1")
    l1.expect(
        Link("http://mysite.test/latin", "Crème brûlée à la carte"),
        Link("http://mysite.test/caf%C3%A9", "café in the path", raw="http://mysite.test/café"),
    )
    if w.v2:  # page_gone
        w.page(f"{h}/latin1-meta.html", "Not Found", status=404).add("<p>No longer here.</p>")
    else:
        lm = w.page(f"{h}/latin1-meta.html", "Naïve", content_type="text/html")
        lm.page.charset = "iso-8859-1"
        lm.raw_body = (
            "<!DOCTYPE html>\n<html><head>"
            '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
            "<title>Naïve</title></head><body>\n"
            '<p><a href="http://competitor.test/latin-meta">Naïve façade</a></p>\n'
            "</body></html>\n"
        ).encode("iso-8859-1")
        lm.expect(Link("http://competitor.test/latin-meta", "Naïve façade"))

    pdf = w.page(f"{h}/doc.pdf", content_type="application/pdf")
    pdf.raw_body = (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /URI (http://mysite.test/in-pdf) >> endobj\n"
        b'<a href="http://mysite.test/in-pdf">not html</a>\n%%EOF\n'
    )
    w.page(f"{h}/logo.png", content_type="image/png").raw_body = PNG
    w.page(
        f"{h}/notes.txt", content_type="text/plain; charset=utf-8"
    ).raw_body = (
        b'<html><title>Notes</title><a href="http://mysite.test/in-text">not html</a></html>\n'
    )
    xh = w.page(
        f"{h}/page.xhtml", "XHTML page", content_type="application/xhtml+xml; charset=utf-8"
    )
    xh.raw_body = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>XHTML page</title></head>\n'
        b'<body><p><a href="http://mysite.test/xhtml">XHTML link</a></p></body></html>\n'
    )
    xh.expect(Link("http://mysite.test/xhtml", "XHTML link"))
    w.page(f"{h}/missing.html", "Not Found", status=404).add(
        '<p>Nothing here; please <a href="http://mysite.test/from-404">report it</a>.</p>',
        Link("http://mysite.test/from-404", "report it"),
    )
    w.page(f"{h}/gone.html", "Gone", status=410).add(
        '<p><a href="http://competitor.test/from-410">old friend</a></p>',
        Link("http://competitor.test/from-410", "old friend"),
    )
    # /nowhere.html is not defined: the host's default 404 page, without links.
    w.page(
        f"{h}/upper-ct.html", "Upper-case content type", content_type="TEXT/HTML; Charset=UTF-8"
    ).add(
        '<a href="http://mysite.test/upper-ct">upper-case type</a>',
        Link("http://mysite.test/upper-ct", "upper-case type"),
    )
    nt = w.page(f"{h}/no-title.html", "")
    nt.add(
        '<a href="http://mysite.test/no-title">no title</a>',
        Link("http://mysite.test/no-title", "no title"),
    )
    tt = w.page(f"{h}/two-titles.html", "First title")
    tt.raw_body = (
        b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>  First\n  title </title>'
        b"</head><body><title>Second title</title>\n"
        b'<a href="http://mysite.test/two-titles">two titles</a>\n</body></html>\n'
    )
    tt.expect(Link("http://mysite.test/two-titles", "two titles"))
    w.page(f"{h}/tmp/cache.html", "Cache", disallowed=True).add(
        '<a href="http://mysite.test/from-tmp">cached</a>',
        Link("http://mysite.test/from-tmp", "cached"),
    )


# --------------------------------------------------------------------------- sitemaps


def _listed_only(w: WebBuilder) -> None:
    """Pages no page links to: only a sitemap (SITEMAPS) lists them."""
    a = w.page("http://www.alpha.test/sitemap-only.html", "Only in the sitemap")
    a.add(
        '<p><a href="http://mysite.test/from-sitemap-only">listed, not linked</a></p>',
        Link("http://mysite.test/from-sitemap-only", "listed, not linked"),
    )
    a.add(
        '<p><a href="https://competitor.test/from-sitemap-only" rel="sponsored">a sponsor</a></p>',
        Link("https://competitor.test/from-sitemap-only", "a sponsor", rel=("sponsored",)),
    )
    a.add('<p><a href="/">Home</a></p>', follow=("http://www.alpha.test/",))
    b = w.page("http://beta.test/listed.html", "Listed only")
    b.add(
        '<p><a href="http://competitor.test/from-beta-listing">in the listing</a></p>',
        Link("http://competitor.test/from-beta-listing", "in the listing"),
    )
    b.add('<p><a href="/">Home</a></p>', follow=("http://beta.test/",))
    # Listed by a sitemap that an index nested in an index names: never read.
    w.page("http://www.alpha.test/too-deep-in-sitemaps.html", "Too deep in sitemaps").add(
        '<p><a href="http://mysite.test/from-a-nested-index">never read</a></p>',
        Link("http://mysite.test/from-a-nested-index", "never read"),
    )


def _sitemaps() -> tuple[Sitemap, ...]:
    a = "http://www.alpha.test"
    return (
        # Named by robots.txt: an index of a gzip urlset, an index (one level
        # too deep to read) and a sitemap on another domain (not fetched).
        Sitemap(
            f"{a}/sitemap_index.xml",
            (
                SitemapEntry(f"{a}/sitemaps/pages.xml.gz", "2024-03-01"),
                SitemapEntry(f"{a}/sitemaps/nested-index.xml"),
                SitemapEntry("http://mysite.test/sitemap.xml"),
            ),
            index=True,
        ),
        Sitemap(
            f"{a}/sitemaps/pages.xml.gz",
            (
                SitemapEntry(f"{a}/", "2024-03-01T10:00:00+00:00"),
                SitemapEntry(
                    f"{a}/about.html",
                    "2024-01",
                    raw=f"{a}/about.html?utm_source=sitemap&utm_medium=xml",
                ),
                SitemapEntry(f"{a}/sitemap-only.html", "2024-02-15"),
                SitemapEntry(f"{a}/private/secret.html"),  # robots.txt disallows it
                SitemapEntry("http://mysite.test/listed-in-a-sitemap", "2024-02-15"),
            ),
            gzip=True,
        ),
        Sitemap(
            f"{a}/sitemaps/nested-index.xml",
            (SitemapEntry(f"{a}/sitemaps/deeper.xml"),),
            index=True,
        ),
        Sitemap(f"{a}/sitemaps/deeper.xml", (SitemapEntry(f"{a}/too-deep-in-sitemaps.html"),)),
        # beta.test's robots.txt names none: the crawl asks for /sitemap.xml.
        Sitemap(
            "http://beta.test/sitemap.xml",
            (
                SitemapEntry("http://beta.test/", "2024-03-10"),
                SitemapEntry("http://beta.test/listed.html", "2024-03-10T08:30:00Z"),
                SitemapEntry("http://other.test/from-beta-sitemap"),
            ),
        ),
    )


# Sitemap files by URL (the same in every version).
SITEMAPS = {sitemap.url: sitemap for sitemap in _sitemaps()}


def build_core(version: int) -> dict:
    """Canonical URL → Page of every hand-written page of a version."""
    w = WebBuilder(version)
    for build in (_alpha, _beta, _gamma, _delta, _epsilon, build_profiles, _listed_only):
        build(w)
    return w.pages()
