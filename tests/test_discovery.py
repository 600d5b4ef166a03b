"""The expansion policy (crawler/discovery.py) and Search Console exports (crawler/gsc.py)."""

from __future__ import annotations

import pytest

from crawler.discovery import (
    SIGNALS,
    CandidateQueue,
    DenyList,
    Discovery,
    ExpansionLimits,
    OutLink,
    PageEvidence,
    Provenance,
    Signals,
    Weights,
    provenance_path,
    score,
)
from crawler.gsc import ExportError, looks_like_export, parse_link_export


def page(url: str, *targets: str, cites: bool = False, anchor: str = "") -> PageEvidence:
    """A crawled page at ``url`` linking to each target URL (``http://www.x.org/...``)."""
    domain = url.split("/")[2].removeprefix("www.")
    links = tuple(OutLink(t, t.split("/")[2].removeprefix("www."), anchor) for t in targets)
    return PageEvidence(url, domain, links, cites)


def policy(hops: int = 1, **kwargs) -> Discovery:
    limits = ExpansionLimits(hops=hops, max_domains=kwargs.pop("max_domains", 1000))
    return Discovery(["seed.org"], ["mysite.com"], limits, **kwargs)


def drain(p: Discovery) -> list[str]:
    out = []
    while (nxt := p.next()) is not None:
        out.append(nxt.domain)
    return out


# --- the score ---------------------------------------------------------------------


def test_score_is_the_documented_weighted_log_sum():
    w = Weights(referrers=2, cocitation=4, in_degree=1, authority=0.5, keywords=1, hop=2)
    s = Signals(referrers=1, cocitation=3, in_degree=7, authority=1.0, keywords=0)
    expected = 2 * 1 + 4 * 2 + 1 * 3 + 0.5 * 1 + 0 - 2 * 2
    assert score(s, 2, w) == pytest.approx(expected)
    assert score(Signals(), 0, w) == 0


def test_each_signal_raises_the_score_and_a_hop_lowers_it():
    w = Weights(**dict.fromkeys(SIGNALS, 1.0))
    for name in SIGNALS:
        more = Signals(**{name: 1})
        assert score(more, 1, w) > score(Signals(), 1, w), name
    assert score(Signals(cocitation=1), 2, w) < score(Signals(cocitation=1), 1, w)


def test_without_turns_signals_off():
    w = Weights().without("cocitation", "hop")
    assert w.cocitation == 0 and w.hop == 0 and w.referrers == Weights().referrers
    assert score(Signals(cocitation=100), 3, w) == 0


def test_default_weights_put_a_cited_niche_site_before_a_platform():
    # A platform linked from every site crawled, and from every referring one.
    platform = Signals(referrers=6, in_degree=200, authority=50.0)
    niche = Signals(referrers=2, in_degree=2, cocitation=2, authority=0.5)
    assert score(niche, 1, Weights()) > score(platform, 1, Weights())


# --- the deny list -----------------------------------------------------------------


def test_deny_list_covers_a_domain_and_every_domain_under_it():
    deny = DenyList(["Facebook.com", "blogspot.com.", " "])
    assert "facebook.com" in deny
    assert "m.facebook.com" in deny
    assert "alice.blogspot.com" in deny  # a public suffix entry: every site under it
    assert "notfacebook.com" not in deny
    assert "facebook.com.evil.org" not in deny
    assert "com" not in deny
    assert 42 not in deny


def test_deny_list_reads_unicode_and_refuses_junk():
    assert "xn--bcher-kva.de" in DenyList(["Bücher.de"])
    with pytest.raises(ValueError, match="not a domain"):
        DenyList(["a b.com"])


# --- the candidate queue -----------------------------------------------------------


def test_bfs_queue_is_first_found_first_out_whatever_the_score():
    q = CandidateQueue("bfs")
    q.push("a.org", 0, 1.0)
    q.push("b.org", 1, 99.0)
    q.push("a.org", 0, -5.0)  # an update changes nothing
    assert list(q) == ["a.org", "b.org"]
    assert [q.pop(), q.pop(), q.pop()] == ["a.org", "b.org", None]


def test_focused_queue_pops_the_highest_score_ties_first_found():
    q = CandidateQueue("focused")
    q.push("a.org", 0, 1.0)
    q.push("b.org", 1, 3.0)
    q.push("c.org", 2, 1.0)
    q.push("a.org", 0, 2.0)  # raised
    q.push("b.org", 1, 0.5)  # lowered
    assert q.score_of("b.org") == 0.5
    assert list(q) == ["a.org", "c.org", "b.org"]
    assert [q.pop(), q.pop(), q.pop(), q.pop()] == ["a.org", "c.org", "b.org", None]
    assert len(q) == 0


def test_focused_queue_survives_many_updates_and_removals():
    q = CandidateQueue()
    for step in range(2000):
        q.push(f"d{step % 50}.org", step % 50, float(step))
    q.remove("d49.org")
    assert "d49.org" not in q and len(q) == 49
    assert len(q._heap) < 4 * 50 + 64 + 1  # compacted
    popped = [q.pop() for _ in range(49)]
    assert popped == [f"d{k}.org" for k in range(48, -1, -1)]
    assert q.pop() is None


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError):
        CandidateQueue("random")


# --- the policy --------------------------------------------------------------------


def test_no_expansion_without_hops():
    p = policy(hops=0)
    p.observe(page("http://seed.org/", "http://www.a.org/x"))
    assert p.next() is None


def test_seeds_watched_and_denied_sites_are_never_candidates():
    limits = ExpansionLimits(hops=3)
    p = Discovery(
        ["seed.org", "other-seed.net"], ["blog.mysite.com"], limits, deny=DenyList(["social.com"])
    )
    p.observe(
        page(
            "http://seed.org/",
            "http://www.seed.org/self",
            "http://other-seed.net/",
            "http://mysite.com/",  # the watched entry is a host: its site is never expanded
            "http://m.social.com/x",
            "http://a.org/",
        )
    )
    assert drain(p) == ["a.org"]
    assert not p.admissible("mysite.com") and not p.admissible("social.com")


def test_pages_of_sites_outside_the_crawl_are_ignored():
    p = policy()
    p.observe(page("http://stranger.org/", "http://a.org/"))
    assert p.next() is None


def test_hops_limit_how_far_expansion_goes():
    for hops, expected in ((1, ["a.org"]), (2, ["a.org", "b.org"])):
        p = policy(hops=hops)
        p.observe(page("http://seed.org/", "http://a.org/"))
        first = p.next()
        assert first is not None and first.provenance.hop == 1
        p.observe(page("http://a.org/", "http://b.org/"))
        assert [first.domain, *drain(p)] == expected


def test_max_domains_caps_the_sites_expanded():
    p = policy(max_domains=2)
    p.observe(page("http://seed.org/", "http://a.org/", "http://b.org/", "http://c.org/"))
    assert drain(p) == ["a.org", "b.org"]
    assert len(p.provenance) == 2


def test_bfs_expands_in_the_order_found():
    p = policy(hops=2, strategy="bfs")
    p.observe(page("http://seed.org/", "http://a.org/", "http://b.org/"))
    p.observe(page("http://seed.org/2", "http://c.org/", "http://b.org/", cites=True))
    assert drain(p) == ["a.org", "b.org", "c.org"]


def test_focused_prefers_the_site_cited_next_to_the_watched_domain():
    p = policy(hops=2, weights=Weights(referrers=0, cocitation=1, hop=0))
    p.observe(page("http://seed.org/", "http://a.org/", "http://b.org/"))
    p.observe(page("http://seed.org/links", "http://b.org/", cites=True))
    assert p.candidates()["b.org"].cocitation == 1
    assert drain(p) == ["b.org", "a.org"]


def test_focused_prefers_sites_linked_from_referring_domains_counted_once_each():
    p = policy(hops=2, weights=Weights(referrers=1, cocitation=0, hop=0), referring=["seed.org"])
    p.observe(page("http://seed.org/", "http://a.org/"))
    p.observe(page("http://seed.org/2", "http://a.org/"))  # the same site again
    assert p.candidates()["a.org"] == Signals(referrers=1, in_degree=1, authority=2.0)


def test_a_site_found_referring_later_credits_the_sites_it_linked_to():
    p = policy(hops=3, weights=Weights(referrers=1, cocitation=0, hop=0))
    p.observe(page("http://seed.org/", "http://a.org/", "http://x.org/"))
    assert p.next().domain == "a.org"  # type: ignore[union-attr]
    p.observe(page("http://a.org/", "http://b.org/", "http://c.org/"))
    assert p.candidates()["c.org"].referrers == 0
    p.observe(page("http://a.org/links", cites=True))  # a.org links to the watched domain
    assert "a.org" in p.referring
    assert p.candidates()["c.org"].referrers == 1
    assert p.candidates()["x.org"].referrers == 0  # linked from seed.org, not referring
    assert drain(p)[:2] == ["b.org", "c.org"]


def test_authority_is_split_among_a_pages_sites_and_passed_on():
    p = policy(hops=2)
    p.observe(page("http://seed.org/", "http://a.org/", "http://b.org/"))
    assert p.candidates()["a.org"].authority == 0.5
    assert p.next() is not None
    p.observe(page("http://a.org/", "http://c.org/"))
    # a.org holds 1 + the 0.5 it was handed, all of it to c.org.
    assert p.candidates()["c.org"].authority == 1.5


def test_keywords_count_pages_naming_a_site_by_anchor_or_url():
    p = policy(keywords=["Gravel"])
    p.observe(page("http://seed.org/", "http://a.org/", anchor="best gravel rides"))
    p.observe(page("http://seed.org/2", "http://b.org/gravel-tips"))
    p.observe(page("http://seed.org/3", "http://c.org/"))
    assert {d: s.keywords for d, s in p.candidates().items()} == {
        "a.org": 1,
        "b.org": 1,
        "c.org": 0,
    }


def test_provenance_records_the_page_and_hop_and_the_path_back_to_a_seed():
    p = policy(hops=3)
    p.observe(page("http://seed.org/p", "http://www.a.org/deep/page.html"))
    a = p.next()
    assert a is not None
    assert a.entries == ("http://www.a.org/", "http://www.a.org/deep/page.html")
    assert a.provenance == Provenance("a.org", "http://seed.org/p", "seed.org", 1, 0)
    p.observe(page("http://www.a.org/x", "http://b.org/", cites=True))
    b = p.next()
    assert b is not None and b.provenance.hop == 2 and b.entries == ("http://b.org/",)
    p.observe(page("http://b.org/", cites=True))
    path = provenance_path(p.provenance, "b.org")
    assert [(r.domain, r.via, r.hop) for r in path] == [
        ("b.org", "http://www.a.org/x", 2),
        ("a.org", "http://seed.org/p", 1),
    ]
    assert [r.domain for r in p.discovered()] == ["a.org", "b.org"]
    assert provenance_path(p.provenance, "seed.org") == []


def test_a_shorter_path_found_later_replaces_the_provenance():
    p = policy(hops=3, strategy="bfs")
    p.observe(page("http://seed.org/", "http://a.org/"))
    assert p.next() is not None
    p.observe(page("http://a.org/", "http://b.org/page"))
    p.observe(page("http://seed.org/late", "http://b.org/other"))
    b = p.next()
    assert b is not None
    assert (b.provenance.hop, b.provenance.via, b.provenance.order) == (
        1,
        "http://seed.org/late",
        1,
    )
    assert b.entries == ("http://b.org/", "http://b.org/other")


def test_provenance_path_stops_on_a_loop():
    records = {
        "a.org": Provenance("a.org", "http://b.org/", "b.org", 2, 0),
        "b.org": Provenance("b.org", "http://a.org/", "a.org", 1, 1),
    }
    assert [r.domain for r in provenance_path(records, "a.org")] == ["a.org", "b.org"]


def test_seeds_found_referring_are_not_discovered():
    p = policy()
    p.observe(page("http://seed.org/", "http://a.org/", cites=True))
    assert "seed.org" in p.referring
    assert p.discovered() == []


# --- Search Console exports --------------------------------------------------------


def test_latest_links_export():
    export = parse_link_export(
        "\ufeffLinking page,Last crawled\r\n"
        "https://blog.example.org/a,2026-08-01\r\n"
        '"https://news.example.net/b?x=1,2","Sep 15, 2026"\r\n'
        "https://blog.example.org/c,2026-08-02\r\n"
    )
    assert export.kind == "linking pages"
    assert export.seeds == [
        "https://blog.example.org/a",
        "https://news.example.net/b?x=1,2",
        "https://blog.example.org/c",
    ]
    assert export.referring == ["example.org", "example.net"]
    assert export.problems == []


def test_sample_links_export_with_one_column():
    export = parse_link_export("Linking page\nhttps://a.example.org/\n")
    assert export.seeds == ["https://a.example.org/"]


def test_top_linking_sites_export():
    export = parse_link_export(
        "Site,Linking pages,Target pages\n"
        "small.example.org,3,1\n"
        'big-blog.example.com,"1,240",12\n'
        "Bücher.de,87,5\n"
    )
    assert export.kind == "linking sites"
    assert export.seeds == [
        "http://small.example.org/",
        "http://big-blog.example.com/",
        "http://xn--bcher-kva.de/",
    ]
    assert export.referring == ["example.org", "example.com", "xn--bcher-kva.de"]


def test_bad_rows_are_reported_with_their_line_numbers():
    export = parse_link_export(
        "Site;Linking pages;Target pages\n"
        "good.example.org;3;1\n"
        "\n"
        '=HYPERLINK("http://evil.example");1;1\n'
        ";2;2\n"
        "mailto:x@example.org;1;1\n"
        "com;1;1\n"
    )
    assert export.seeds == ["http://good.example.org/"]
    assert [line for line, _ in export.problems] == [4, 5, 6, 7]
    assert export.problems[1] == (5, "empty cell")
    assert all("\n" not in why for _, why in export.problems)


def test_line_numbers_count_a_quoted_newline():
    export = parse_link_export(
        'Linking page,Last crawled\n"bad\nvalue",x\nhttps://a.example.org/,y\n'
    )
    assert [line for line, _ in export.problems] == [3]
    assert export.seeds == ["https://a.example.org/"]


def test_other_languages_and_plain_lists_are_read_from_the_first_column():
    hebrew = parse_link_export("דף מקשר,נסרק לאחרונה\nhttps://old.example.org/a,01/08/2026\n")
    assert hebrew.seeds == ["https://old.example.org/a"] and hebrew.problems == []
    plain = parse_link_export("https://a.example.org/x\tfoo\nb.example.net\tbar\n")
    assert plain.seeds == ["https://a.example.org/x", "http://b.example.net/"]
    assert plain.kind == "linking pages"
    sites = parse_link_export("a.example.org\nb.example.net\n")
    assert sites.kind == "linking sites"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Target page,Incoming links,Linking sites\nhttps://mysite.com/,3,1\n", "your own pages"),
        ("Top linking text,Linking sites\nbuy now,5\n", "anchor texts"),
        ("", "empty file"),
        ("\n\n", "empty file"),
    ],
)
def test_exports_that_do_not_say_who_links_to_you_are_refused(text, reason):
    with pytest.raises(ExportError, match=reason):
        parse_link_export(text)


def test_looks_like_export():
    assert looks_like_export("\ufeffLinking page,Last crawled\nhttps://a.example.org/,x\n")
    assert looks_like_export("Site;Linking pages;Target pages\n")
    assert not looks_like_export("https://a.example.org/\nb.example.net\n")
    assert not looks_like_export("")


# --- the spider's side: Expander ---------------------------------------------------


def test_expander_keeps_active_sites_crawling_and_takes_more_as_they_end():
    from crawler.expander import Expander

    p = policy(hops=2)
    p.observe(page("http://seed.org/", *(f"http://s{k}.org/" for k in range(5))))
    x = Expander(p, p.limits, active=2)
    first = [e.domain for e in x.take()]
    assert first == ["s0.org", "s1.org"] and x.take() == []
    for domain in first:
        x.started(domain)
        x.started(domain)
    x.started("seed.org")  # not expanded: not counted
    x.finished("s0.org")
    assert x.take() == []  # s0.org still has a request out
    x.finished("s0.org")
    assert [e.domain for e in x.take()] == ["s2.org"]
    x.settle(["s2.org"])  # nothing could be requested for it: its place is free again
    assert [e.domain for e in x.take()] == ["s3.org"]
    assert x.crawling == 2


def test_expander_limits_and_evidence():
    from crawler.expander import Expander

    p = policy()
    p.observe(page("http://seed.org/", "http://a.org/"))
    x = Expander(p, ExpansionLimits(hops=1, depth=1, pages=50), active=4)
    assert [e.domain for e in x.take()] == ["a.org"] and "a.org" in x
    assert x.max_depth("a.org", 3) == 1 and x.max_pages("a.org", 10_000) == 50
    assert x.max_depth("seed.org", 3) == 3 and x.max_pages("seed.org", 10_000) == 10_000
    links = [("http://a.org/x", "a.org", "self"), ("http://b.org/", "b.org", "B")]
    evidence = x.evidence("http://a.org/", "a.org", links, cites_watched=True)
    assert evidence.links == (OutLink("http://b.org/", "b.org", "B"),) and evidence.cites_watched


# --- the spider's arguments -----------------------------------------------------------


def test_discovery_arguments_and_their_defaults():
    from crawler.arguments import ExpansionDefaults, parse_crawl_arguments

    base = {"seeds": "example.org", "watch": "mysite.com"}
    plain = parse_crawl_arguments(base, default_depth=3, default_max_pages=10)
    assert (plain.expand, plain.max_domains, plain.expand_depth, plain.expand_pages) == (
        0, 1000, 1, 50,
    )  # fmt: skip
    asked = parse_crawl_arguments(
        {**base, "expand": "2", "max_domains": "500", "expand_depth": "0", "expand_pages": "9",
         "strategy": " BFS ", "keywords": "Gravel,bike"},
        default_depth=3, default_max_pages=10, expansion=ExpansionDefaults(max_domains=7),
    )  # fmt: skip
    assert (asked.expand, asked.max_domains, asked.expand_depth, asked.expand_pages) == (
        2, 500, 0, 9,
    )  # fmt: skip
    assert asked.strategy == "bfs" and asked.keywords == ["gravel", "bike"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"strategy": "random"}, "strategy: 'random' is not one of focused, bfs"),
        ({"expand": "-1"}, "expand: must be 0 or more"),
        ({"expand_pages": "0"}, "expand_pages: must be 1 or more"),
    ],
)
def test_bad_discovery_arguments(args, fragment):
    from crawler.arguments import ArgumentError, parse_crawl_arguments

    with pytest.raises(ArgumentError, match=fragment):
        parse_crawl_arguments(
            {"seeds": "example.org", "watch": "mysite.com", **args},
            default_depth=3,
            default_max_pages=10,
        )


def test_a_search_console_export_as_seeds(tmp_path):
    from crawler.arguments import ArgumentError, read_seeds

    export = tmp_path / "links.csv"
    export.write_text("Linking page,Last crawled\nhttps://a.example.org/p,x\nnope,y\n")
    seeds, referring, warnings = read_seeds(f"@{export}")
    assert seeds == ["https://a.example.org/p"] and referring == ["example.org"]
    assert warnings == [f"seeds: {export} line 3: not a URL or domain: 'nope'"]
    plain = tmp_path / "seeds.txt"
    plain.write_text("a.example.org\n")
    assert read_seeds(f"@{plain}") == (["http://a.example.org/"], [], [])
    (tmp_path / "own.csv").write_text("Target page,Incoming links,Linking sites\nhttps://m/,1,1\n")
    with pytest.raises(ArgumentError, match="own pages"):
        read_seeds(f"@{tmp_path / 'own.csv'}")
    (tmp_path / "bad.csv").write_text("Site,Linking pages\n=1+1,3\n")
    with pytest.raises(ArgumentError, match="no linking page or site"):
        read_seeds(f"@{tmp_path / 'bad.csv'}")


def test_weights_from_settings():
    from crawler.discovery import weights_from

    assert weights_from({"cocitation": "0", "hop": 1}) == Weights(cocitation=0.0, hop=1.0)
    with pytest.raises(ValueError, match="unknown weight 'colour'"):
        weights_from({"colour": 1})
    with pytest.raises(ValueError, match="not a number"):
        weights_from({"hop": "far"})
