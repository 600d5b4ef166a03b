"""The store contract: every store keeps the same data model and answers the
same queries the same way. Parametrized over every store (see conftest.py);
what only the MongoDB store has is tested in test_mongo_store.py."""

from __future__ import annotations

import pytest

from pipelines.stores import Target
from tests.conftest import STORES


def site(url):
    """Registered domain of a fixture URL: the last two labels of its host."""
    return ".".join(url.split("/")[2].split(".")[-2:])


def page(url, edges, *, status=200, at="2026-01-01T00:00:00Z", title="T", domain_links=None):
    domain = site(url)
    item = {
        "url": url,
        "status": status,
        "title": title,
        "fetched_at": at,
        "domain": domain,
        "outlinks": len(edges),
        "edges": [
            {
                "source_url": url,
                "target_url": target,
                "source_domain": domain,
                "target_domain": site(target),
                "target_host": target.split("/")[2],
                "anchor": extra.get("anchor", "a link"),
                "alt": "",
                "rel": extra.get("rel", []),
                "nofollow": extra.get("nofollow", False),
                "link_type": extra.get("link_type", "a"),
                "placement": extra.get("placement", "content"),
                "context": extra.get("context", "text around a link"),
                "source_title": title,
                "source_status": status,
            }
            for target, extra in edges
        ],
    }
    if domain_links is not None:
        item["domain_links"] = domain_links
    return item


MYSITE = Target.parse("mysite.test")


def targets(store, state="live", target=MYSITE):
    return sorted((e["source_url"], e["target_url"]) for e in store.backlinks(target, state=state))


def test_write_and_read_back_every_field(store):
    store.write_pages(
        [
            page(
                "http://a.test/p",
                [
                    (
                        "http://mysite.test/x",
                        {"anchor": "Hi", "rel": ["nofollow", "ugc"], "nofollow": True},
                    )
                ],
                title="Page A",
            )
        ]
    )
    [edge] = list(store.backlinks(MYSITE))
    assert edge["source_url"] == "http://a.test/p"
    assert edge["target_url"] == "http://mysite.test/x"
    assert edge["source_domain"] == "a.test"
    assert edge["target_domain"] == "mysite.test"
    assert edge["anchor"] == "Hi"
    assert edge["rel"] == ["nofollow", "ugc"]
    assert edge["nofollow"] is True
    assert edge["link_type"] == "a"
    assert edge["source_title"] == "Page A"
    assert edge["source_status"] == 200
    assert edge["first_seen"] == edge["last_seen"] == "2026-01-01T00:00:00Z"
    assert edge["lost_at"] is None


def test_same_edge_again_is_one_record_with_later_last_seen(store):
    first = page("http://a.test/p", [("http://mysite.test/x", {})], at="2026-01-01T00:00:00Z")
    again = page("http://a.test/p", [("http://mysite.test/x", {})], at="2026-02-01T00:00:00Z")
    store.write_pages([first])
    store.write_pages([again])
    store.write_pages([again])
    [edge] = list(store.backlinks(MYSITE, state="all"))
    assert edge["first_seen"] == "2026-01-01T00:00:00Z"
    assert edge["last_seen"] == "2026-02-01T00:00:00Z"


def test_host_target_only_matches_that_host_and_below(store):
    store.write_pages(
        [
            page(
                "http://a.test/p",
                [
                    ("http://mysite.test/", {}),
                    ("http://blog.mysite.test/post", {}),
                    ("http://x.blog.mysite.test/", {}),
                    ("http://notblog.mysite.test/", {}),
                ],
            )
        ]
    )
    blog = Target.parse("blog.mysite.test")
    assert [t for _, t in targets(store, target=blog)] == [
        "http://blog.mysite.test/post",
        "http://x.blog.mysite.test/",
    ]
    assert len(targets(store)) == 4


@pytest.mark.parametrize(
    ("recrawl", "reason"),
    [
        (page("http://a.test/p", [], at="2026-02-01T00:00:00Z"), "link_removed"),
        (page("http://a.test/p", [], status=404, at="2026-02-01T00:00:00Z"), "page_gone"),
        (page("http://a.test/p", [], status=301, at="2026-02-01T00:00:00Z"), "redirected"),
        (
            page(
                "http://a.test/p",
                [("http://mysite.test/x", {"nofollow": True})],
                at="2026-02-01T00:00:00Z",
            ),
            "became_nofollow",
        ),
    ],
)
def test_recrawl_marks_lost_edges_with_the_reason(store, recrawl, reason):
    store.write_pages(
        [page("http://a.test/p", [("http://mysite.test/x", {}), ("http://mysite.test/keep", {})])]
    )
    recrawl["edges"].append(page("http://a.test/p", [("http://mysite.test/keep", {})])["edges"][0])
    store.write_pages([recrawl])
    [lost] = list(store.backlinks(MYSITE, state="lost"))
    assert lost["target_url"] == "http://mysite.test/x"
    assert lost["lost_reason"] == reason
    assert lost["lost_at"] == "2026-02-01T00:00:00Z"
    assert [t for _, t in targets(store)] == ["http://mysite.test/keep"]


def test_a_lost_edge_that_comes_back_is_restored(store):
    store.write_pages([page("http://a.test/p", [("http://mysite.test/x", {})])])
    store.write_pages([page("http://a.test/p", [], at="2026-02-01T00:00:00Z")])
    assert targets(store) == []
    store.write_pages(
        [page("http://a.test/p", [("http://mysite.test/x", {})], at="2026-03-01T00:00:00Z")]
    )
    [edge] = list(store.backlinks(MYSITE))
    assert edge["lost_at"] is None and edge["lost_reason"] is None
    assert edge["first_seen"] == "2026-01-01T00:00:00Z"


def test_nofollow_edge_stays_lost_until_followed_again(store):
    store.write_pages([page("http://a.test/p", [("http://mysite.test/x", {})])])
    nofollow = [("http://mysite.test/x", {"nofollow": True})]
    store.write_pages([page("http://a.test/p", nofollow, at="2026-02-01T00:00:00Z")])
    store.write_pages([page("http://a.test/p", nofollow, at="2026-03-01T00:00:00Z")])
    [lost] = list(store.backlinks(MYSITE, state="lost"))
    assert (lost["lost_reason"], lost["lost_at"]) == ("became_nofollow", "2026-02-01T00:00:00Z")
    store.write_pages(
        [page("http://a.test/p", [("http://mysite.test/x", {})], at="2026-04-01T00:00:00Z")]
    )
    assert targets(store) == [("http://a.test/p", "http://mysite.test/x")]


def test_refdomains_and_anchors_count_live_edges(store):
    store.write_pages(
        [
            page("http://a.test/1", [("http://mysite.test/x", {"anchor": "best shoes"})]),
            page(
                "http://a.test/2",
                [("http://mysite.test/y", {"anchor": "best shoes", "nofollow": True})],
            ),
            page("http://b.test/1", [("http://mysite.test/x", {"anchor": "mysite"})]),
            page("http://c.test/1", [("http://other.test/x", {"anchor": "elsewhere"})]),
        ]
    )
    refdomains = [(r["source_domain"], r["edges"], r["dofollow"]) for r in store.refdomains(MYSITE)]
    assert refdomains == [("a.test", 2, 1), ("b.test", 1, 1)]
    anchors = [(r["anchor"], r["edges"], r["refdomains"]) for r in store.anchors(MYSITE)]
    assert anchors == [("best shoes", 2, 1), ("mysite", 1, 1)]


def test_backlink_filters(store):
    store.write_pages(
        [
            page(
                "http://a.test/1",
                [("http://mysite.test/x", {"nofollow": True})],
                at="2026-01-01T00:00:00Z",
            ),
            page("http://b.test/1", [("http://mysite.test/x", {})], at="2026-03-01T00:00:00Z"),
        ]
    )
    assert targets_of(store.backlinks(MYSITE, dofollow=True)) == ["http://b.test/1"]
    assert targets_of(store.backlinks(MYSITE, since="2026-02-01T00:00:00Z")) == ["http://b.test/1"]
    assert len(list(store.backlinks(MYSITE, limit=1))) == 1


def targets_of(edges):
    return [e["source_url"] for e in edges]


# --- new, lost, pages, linking pages -------------------------------------------------

JAN, FEB, MAR, APR = (f"2026-0{m}-01T00:00:00Z" for m in (1, 2, 3, 4))


def pairs(rows):
    return [(r["source_url"], r["target_url"]) for r in rows]


def test_new_lists_edges_first_seen_since_newest_first(store):
    store.write_pages(
        [
            page("http://a.test/1", [("http://mysite.test/old", {})], at=JAN),
            page("http://other.test/1", [("http://elsewhere.test/", {})], at=FEB),
        ]
    )
    store.write_pages(
        [
            page("http://c.test/1", [("http://mysite.test/y", {})], at=FEB),
            page("http://b.test/2", [("http://blog.mysite.test/", {})], at=MAR),
            page(
                "http://b.test/1",
                [("http://mysite.test/z", {}), ("http://mysite.test/a", {})],
                at=MAR,
            ),
        ]
    )
    # Seen again later: still first seen in January, so not new.
    store.write_pages([page("http://a.test/1", [("http://mysite.test/old", {})], at=APR)])
    # New in February, gone in April: still a new edge, now a lost one.
    store.write_pages([page("http://c.test/1", [], at=APR)])

    new = list(store.new(MYSITE, FEB))
    assert pairs(new) == [
        ("http://b.test/1", "http://mysite.test/a"),  # same first_seen: by source, target
        ("http://b.test/1", "http://mysite.test/z"),
        ("http://b.test/2", "http://blog.mysite.test/"),
        ("http://c.test/1", "http://mysite.test/y"),
    ]
    assert [e["first_seen"] for e in new] == [MAR, MAR, MAR, FEB]
    assert [e["lost_reason"] for e in new] == [None, None, None, "link_removed"]
    assert new[0]["anchor"] == "a link" and new[0]["rel"] == [] and new[0]["nofollow"] is False
    assert pairs(store.new(MYSITE, "2026-02-01T00:00:01Z")) == pairs(new)[:3]
    assert pairs(store.new(MYSITE, APR)) == []
    assert len(list(store.new(MYSITE, JAN))) == 5
    assert pairs(store.new(MYSITE, FEB, limit=2)) == pairs(new)[:2]
    blog = Target.parse("blog.mysite.test")
    assert pairs(store.new(blog, JAN)) == [("http://b.test/2", "http://blog.mysite.test/")]


def test_lost_lists_edges_lost_since_latest_first_with_reason(store):
    links = [("http://mysite.test/x", {}), ("http://mysite.test/y", {})]
    store.write_pages(
        [
            page("http://a.test/1", links, at=JAN),
            page("http://b.test/1", links, at=JAN),
            page("http://c.test/1", links, at=JAN),
            page("http://d.test/1", links, at=JAN),
            page("http://e.test/1", [("http://other.test/", {})], at=JAN),
        ]
    )
    store.write_pages(
        [
            page("http://a.test/1", links[:1], at=FEB),  # y removed in February
            page("http://b.test/1", [], status=404, at=MAR),
            page("http://e.test/1", [], at=MAR),  # another domain's loss
        ]
    )
    store.write_pages(
        [
            page("http://c.test/1", [], status=301, at=APR),
            page("http://d.test/1", [(url, {"nofollow": True}) for url, _ in links], at=APR),
        ]
    )
    expected = [
        ("http://c.test/1", "http://mysite.test/x", APR, "redirected"),
        ("http://c.test/1", "http://mysite.test/y", APR, "redirected"),
        ("http://d.test/1", "http://mysite.test/x", APR, "became_nofollow"),
        ("http://d.test/1", "http://mysite.test/y", APR, "became_nofollow"),
        ("http://b.test/1", "http://mysite.test/x", MAR, "page_gone"),
        ("http://b.test/1", "http://mysite.test/y", MAR, "page_gone"),
        ("http://a.test/1", "http://mysite.test/y", FEB, "link_removed"),
    ]

    def lost(since, **kwargs):
        return [
            (e["source_url"], e["target_url"], e["lost_at"], e["lost_reason"])
            for e in store.lost(MYSITE, since, **kwargs)
        ]

    assert lost(JAN) == expected
    assert lost(MAR) == expected[:6]
    assert lost(MAR, limit=3) == expected[:3]
    assert lost("2026-04-01T00:00:01Z") == []
    # Back again: no longer lost.
    store.write_pages([page("http://a.test/1", links, at="2026-05-01T00:00:00Z")])
    assert lost(JAN) == expected[:6]


def test_pages_ranks_target_pages_by_live_edges_then_refdomains(store):
    store.write_pages(
        [
            # /x: 3 edges from 2 domains; /y: 3 edges from 3 domains (so first);
            # /z: 1 nofollow edge; /gone: its only edge is lost below.
            page("http://a.test/1", [("http://mysite.test/x", {}), ("http://mysite.test/y", {})]),
            page("http://a.test/2", [("http://mysite.test/x", {"nofollow": True})]),
            page(
                "http://b.test/1",
                [("http://mysite.test/x", {}), ("http://blog.mysite.test/y", {})],
            ),
            page("http://c.test/1", [("http://mysite.test/y", {}), ("http://other.test/x", {})]),
            page("http://d.test/1", [("http://blog.mysite.test/y", {"nofollow": True})]),
            page("http://e.test/1", [("http://mysite.test/y", {})]),
            page("http://f.test/1", [("http://mysite.test/z", {"nofollow": True})]),
            page("http://g.test/1", [("http://mysite.test/gone", {})]),
        ]
    )
    store.write_pages([page("http://g.test/1", [], status=410, at=FEB)])

    def ranked(target=MYSITE, **kwargs):
        return [
            (r["target_url"], r["edges"], r["dofollow"], r["refdomains"])
            for r in store.pages(target, **kwargs)
        ]

    assert ranked() == [
        ("http://mysite.test/y", 3, 3, 3),
        ("http://mysite.test/x", 3, 2, 2),
        ("http://blog.mysite.test/y", 2, 1, 2),
        ("http://mysite.test/z", 1, 0, 1),
    ]
    assert ranked(limit=1) == [("http://mysite.test/y", 3, 3, 3)]
    assert ranked(Target.parse("blog.mysite.test")) == [("http://blog.mysite.test/y", 2, 1, 2)]
    assert ranked(Target.parse("nobody.test")) == []


def test_linking_pages_are_every_source_of_an_edge_oldest_crawl_first(store):
    store.write_pages(
        [
            page("http://a.test/1", [("http://mysite.test/x", {})], at=MAR),
            page("http://b.test/1", [("http://mysite.test/x", {})], at=JAN),
            page("http://c.test/1", [("http://blog.mysite.test/", {})], at=FEB),
            page("http://d.test/1", [("http://other.test/", {})], at=JAN),
            page("http://e.test/1", [("http://mysite.test/y", {})], at=FEB),
            page(
                "http://e.test/2",
                [("http://mysite.test/y", {}), ("http://mysite.test/z", {})],
                at=FEB,
            ),
        ]
    )
    # b's link is lost in April: it still needs recrawls (the link may come back).
    store.write_pages([page("http://b.test/1", [], at=APR)])

    def linking(target=MYSITE, **kwargs):
        return [(p["url"], p["last_crawled"]) for p in store.linking_pages(target, **kwargs)]

    assert linking() == [
        ("http://c.test/1", FEB),
        ("http://e.test/1", FEB),
        ("http://e.test/2", FEB),  # one line, though two edges
        ("http://a.test/1", MAR),
        ("http://b.test/1", APR),
    ]
    assert linking(limit=2) == [("http://c.test/1", FEB), ("http://e.test/1", FEB)]
    assert linking(Target.parse("blog.mysite.test")) == [("http://c.test/1", FEB)]
    assert linking(Target.parse("nobody.test")) == []


def test_opening_a_store_again_keeps_its_indexes_and_data(store_location):
    from pipelines.stores import open_store

    first = page("http://a.test/1", [("http://mysite.test/x", {})])
    with open_store(store_location) as opened:
        opened.write_pages([first])
        indexes = index_names(opened)
    for _ in range(2):
        with open_store(store_location) as opened:
            assert index_names(opened) == indexes
            assert targets(opened) == [("http://a.test/1", "http://mysite.test/x")]
    with open_store(store_location, readonly=True) as opened:
        assert len(list(opened.pages(MYSITE))) == 1


@pytest.fixture(params=STORES)
def store_location(request, tmp_path):
    if request.param == "mongo":
        return {
            "MONGO_URI": request.getfixturevalue("mongo_uri"),
            "MONGO_DATABASE": request.getfixturevalue("mongo_database"),
        }
    return {"LINKWATCH_DB": str(tmp_path / "linkwatch.db")}


def index_names(store) -> dict[str, list]:
    """Every index of the store, by table or collection, with its keys."""
    if hasattr(store, "db") and hasattr(store.db, "list_collection_names"):
        return {
            name: sorted((i["name"], list(i["key"].items())) for i in store.db[name].list_indexes())
            for name in sorted(store.db.list_collection_names())
        }
    rows = store.db.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index'")
    return {"sqlite": sorted(tuple(r) for r in rows)}


# --- the domain graph and authority ---------------------------------------------------


def graph(store):
    return sorted(store.domain_graph())


def test_the_domain_graph_sums_pages_per_pair_and_a_recrawl_replaces_a_page(store):
    store.write_pages(
        [
            page("http://a.test/1", [], domain_links={"b.test": 3, "c.test": 1}),
            page("http://a.test/2", [], domain_links={"b.test": 2}),
            page("http://b.test/1", [], domain_links={"a.test": 1}),
            page("http://c.test/1", []),  # no domain links given: contributes nothing
        ]
    )
    assert graph(store) == [
        ("a.test", "b.test", 5, 2),
        ("a.test", "c.test", 1, 1),
        ("b.test", "a.test", 1, 1),
    ]
    # Crawled again: a.test/1 now links to d.test instead of c.test, once to b.test.
    store.write_pages(
        [page("http://a.test/1", [], at=FEB, domain_links={"b.test": 1, "d.test": 4})]
    )
    store.write_pages(
        [page("http://a.test/1", [], at=FEB, domain_links={"b.test": 1, "d.test": 4})]
    )
    assert graph(store) == [
        ("a.test", "b.test", 3, 2),
        ("a.test", "d.test", 4, 1),
        ("b.test", "a.test", 1, 1),
    ]
    # Without domain_links a page keeps its contribution; a redirect ({}) drops it.
    store.write_pages([page("http://b.test/1", [], at=MAR)])
    store.write_pages([page("http://a.test/2", [], status=301, at=MAR, domain_links={})])
    assert graph(store) == [
        ("a.test", "b.test", 1, 1),
        ("a.test", "d.test", 4, 1),
        ("b.test", "a.test", 1, 1),
    ]


def test_the_domain_graph_survives_a_batch_with_the_same_page_twice(store):
    store.write_pages(
        [
            page("http://a.test/1", [], domain_links={"b.test": 1}),
            page("http://a.test/1", [], at=FEB, domain_links={"c.test": 2}),
        ]
    )
    assert graph(store) == [("a.test", "c.test", 2, 1)]


def test_linking_domains_come_from_the_graph_and_from_live_edges(store):
    store.write_pages(
        [
            page("http://a.test/1", [], domain_links={"mysite.test": 1, "rival.test": 2}),
            page("http://b.test/1", [], domain_links={"rival.test": 1}),
            # A redirect into mysite.test: an edge, but no domain links.
            page(
                "http://c.test/go",
                [("http://mysite.test/", {"link_type": "redirect"})],
                status=301,
                domain_links={},
            ),
            page("http://d.test/1", [("http://mysite.test/x", {})], domain_links={}),
            page("http://mysite.test/1", [("http://mysite.test/self", {})], domain_links={}),
        ]
    )
    store.write_pages([page("http://d.test/1", [], at=FEB, domain_links={})])  # edge lost
    assert store.linking_domains(["mysite.test", "rival.test", "nobody.test"]) == {
        "mysite.test": {"a.test", "c.test"},
        "rival.test": {"a.test", "b.test"},
        "nobody.test": set(),
    }


def test_domain_profiles_and_watched_domains(store):
    store.write_pages(
        [
            page(
                "http://farm.test/1",
                [("http://mysite.test/", {})],
                domain_links={"mysite.test": 1, "rival.test": 1, "x.test": 40},
            ),
            page(
                "http://farm.test/2",
                [("http://rival.test/", {})],
                domain_links={"rival.test": 1, "y.test": 50},
            ),
            page("http://farm.test/3", [], status=404, domain_links={}),
            page(
                "http://blog.test/1", [("http://mysite.test/", {})], domain_links={"mysite.test": 1}
            ),
        ]
    )
    assert store.watched_domains() == ["mysite.test", "rival.test"]
    profiles = store.domain_profiles(
        ["farm.test", "blog.test", "nobody.test"], ["mysite.test", "rival.test"]
    )
    assert profiles == {
        "farm.test": {
            "pages": 3,
            "external_links": 93,
            "linked_domains": 4,
            "watched": ["mysite.test", "rival.test"],
        },
        "blog.test": {
            "pages": 1,
            "external_links": 1,
            "linked_domains": 1,
            "watched": ["mysite.test"],
        },
        "nobody.test": {"pages": 0, "external_links": 0, "linked_domains": 0, "watched": []},
    }


def ranks(*rows):
    return [
        {
            "domain": d,
            "pagerank": p,
            "harmonic": h,
            "pagerank_raw": p / 1000,
            "harmonic_raw": h / 10,
        }
        for d, p, h in rows
    ]


def test_authority_is_written_read_and_replaced_whole(store):
    assert store.authority(["a.test"]) == {}
    assert store.write_authority(ranks(("a.test", 100.0, 80.0), ("b.test", 12.5, 100.0)), JAN) == 2
    assert store.authority(["a.test", "b.test", "c.test"]) == {
        "a.test": {
            "pagerank": 100.0,
            "harmonic": 80.0,
            "pagerank_raw": 0.1,
            "harmonic_raw": 8.0,
            "ranked_at": JAN,
        },
        "b.test": {
            "pagerank": 12.5,
            "harmonic": 100.0,
            "pagerank_raw": 0.0125,
            "harmonic_raw": 10.0,
            "ranked_at": JAN,
        },
    }
    store.write_authority(ranks(("b.test", 50.0, 50.0), ("c.test", 0.0, 0.0)), FEB)
    found = store.authority(["a.test", "b.test", "c.test"])
    assert sorted(found) == ["b.test", "c.test"], "a.test is no longer ranked"
    assert found["b.test"]["pagerank"] == 50.0 and found["c.test"]["ranked_at"] == FEB


def test_backlinks_by_authority_order_and_annotate(store):
    store.write_pages(
        [
            page("http://a.test/1", [("http://mysite.test/x", {}), ("http://mysite.test/y", {})]),
            page("http://b.test/1", [("http://mysite.test/x", {})]),
            page("http://c.test/1", [("http://mysite.test/x", {"nofollow": True})]),
            page("http://d.test/1", [("http://mysite.test/z", {})]),
        ]
    )
    store.write_authority(
        ranks(("c.test", 90.0, 10.0), ("b.test", 40.0, 60.0), ("a.test", 40.0, 5.0)), JAN
    )
    assert store.source_domains(MYSITE) == ["a.test", "b.test", "c.test", "d.test"]
    assert store.source_domains(MYSITE, dofollow=True) == ["a.test", "b.test", "d.test"]
    ordered = [(e["source_url"], e["target_url"], e["authority"])
               for e in store.backlinks_by_authority(MYSITE)]  # fmt: skip
    assert ordered == [
        ("http://c.test/1", "http://mysite.test/x", 90.0),
        ("http://a.test/1", "http://mysite.test/x", 40.0),  # a tie: by domain
        ("http://a.test/1", "http://mysite.test/y", 40.0),
        ("http://b.test/1", "http://mysite.test/x", 40.0),
        ("http://d.test/1", "http://mysite.test/z", None),  # unranked last
    ]
    assert len(list(store.backlinks_by_authority(MYSITE, limit=2))) == 2
    assert [e["source_url"] for e in store.backlinks_by_authority(MYSITE, dofollow=True)] == [
        "http://a.test/1", "http://a.test/1", "http://b.test/1", "http://d.test/1"
    ]  # fmt: skip
    chosen = store.backlinks(MYSITE, source_domains=["b.test", "d.test"])
    assert [e["source_url"] for e in chosen] == ["http://b.test/1", "http://d.test/1"]
    annotated = list(store.annotate_authority(store.refdomains(MYSITE)))
    assert [(r["source_domain"], r["authority"], r["harmonic"]) for r in annotated] == [
        ("a.test", 40.0, 5.0),
        ("b.test", 40.0, 60.0),
        ("c.test", 90.0, 10.0),
        ("d.test", None, None),
    ]


def test_a_database_from_before_the_domain_graph_is_migrated(tmp_path):
    import sqlite3

    from pipelines.stores.sqlite import SQLiteStore

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE pages (url TEXT PRIMARY KEY, domain TEXT NOT NULL, status INTEGER NOT NULL,"
        " title TEXT NOT NULL, outlinks INTEGER NOT NULL, edges INTEGER NOT NULL,"
        " first_fetched TEXT NOT NULL, fetched_at TEXT NOT NULL) WITHOUT ROWID;"
        "INSERT INTO pages VALUES ('http://a.test/1', 'a.test', 200, 'T', 1, 0, 'x', 'x');"
    )
    db.close()
    with SQLiteStore(path, readonly=True) as old:  # reads what there is
        assert graph(old) == [] and old.authority(["a.test"]) == {}
    with SQLiteStore(path) as store:
        store.write_pages([page("http://a.test/1", [], at=FEB, domain_links={"b.test": 2})])
        assert graph(store) == [("a.test", "b.test", 2, 1)]
        assert store.domain_profiles(["a.test"], [])["a.test"]["pages"] == 1


def test_a_large_graph_batch_completes(store):
    """A page linking to hundreds of domains, crawled again (FerretDB: chunked writes)."""
    links = {f"d{i}.test": 1 for i in range(150)}
    store.write_pages([page("http://farm.test/1", [], domain_links=links)])
    store.write_pages(
        [page("http://farm.test/1", [], at=FEB, domain_links={**links, "d0.test": 2})]
    )
    pairs = graph(store)
    assert len(pairs) == 150 and pairs[0] == ("farm.test", "d0.test", 2, 1)


def test_a_recrawl_of_a_large_batch_completes(store):
    """Hundreds of existing edges and pages updated in one batch. (FerretDB 1.24
    hangs on one update command matching 100 existing documents; the MongoDB
    store must split its writes there.)"""
    import threading

    def batch(at):
        return [
            page(f"http://a.test/{i}", [(f"http://mysite.test/{i}", {})], at=at) for i in range(110)
        ]

    store.write_pages(batch(JAN))
    done = threading.Event()

    def recrawl():
        store.write_pages(batch(FEB))
        done.set()

    threading.Thread(target=recrawl, daemon=True).start()
    assert done.wait(60), "the recrawl batch did not complete"
    edges = list(store.backlinks(MYSITE))
    assert len(edges) == 110
    assert {e["last_seen"] for e in edges} == {FEB}


def test_a_crawl_that_watches_fewer_domains_loses_only_their_edges(store):
    """A recrawl watching one domain says nothing about the page's other edges."""
    links = [
        ("http://mysite.test/x", {}),
        ("http://blog.mysite.test/y", {}),
        ("http://other.test/z", {}),
    ]
    store.write_pages([page("http://a.test/1", links), page("http://b.test/1", links)])
    recrawl = page("http://a.test/1", [], at=FEB)
    recrawl["watch"] = ["other.test", "blog.mysite.test"]
    gone = page("http://b.test/1", [], status=404, at=FEB)
    gone["watch"] = ["other.test"]
    store.write_pages([recrawl, gone])
    assert targets(store) == [
        ("http://a.test/1", "http://mysite.test/x"),
        ("http://b.test/1", "http://blog.mysite.test/y"),
        ("http://b.test/1", "http://mysite.test/x"),
    ]
    lost = [(e["source_url"], e["target_url"], e["lost_reason"]) for e in store.lost(MYSITE, FEB)]
    assert lost == [("http://a.test/1", "http://blog.mysite.test/y", "link_removed")]
    assert [(e["source_url"], e["lost_reason"]) for e in store.lost(OTHER, FEB)] == [
        ("http://a.test/1", "link_removed"),
        ("http://b.test/1", "page_gone"),
    ]


OTHER = Target.parse("other.test")


# --- the one definition of the records (crawler/items.py) -----------------------------


def test_a_stored_edge_has_every_field_of_the_definition(store):
    from crawler.items import EDGE_FIELDS, Edge

    store.write_pages([page("http://a.test/p", [("http://mysite.test/x", {})])])
    [edge] = list(store.backlinks(MYSITE))
    assert set(edge) == set(EDGE_FIELDS)
    Edge(**edge)  # no field missing, none extra
    if not hasattr(store.db, "list_collection_names"):  # SQLite: in the definition's order
        assert list(edge) == list(EDGE_FIELDS)


def test_the_spider_builds_records_with_the_crawl_fields_in_order():
    from crawler.extraction import Link
    from crawler.items import EDGE_CRAWL_FIELDS, Page, names, new_page
    from crawler.spiders.backlinks import BacklinksSpider

    item = new_page(
        url="http://a.test/p", domain="a.test", status=200, title="T", outlinks=1, edges=[],
        fetched_at="2026-01-01T00:00:00Z", domain_links={}, watch=["mysite.test"],
    )  # fmt: skip
    assert tuple(item) == names(Page, set_by="crawl")
    link = Link(
        url="http://mysite.test/x", anchor="x", alt="", rel=(), nofollow=False, link_type="a"
    )
    edge = BacklinksSpider.edge(item, link, "mysite.test")
    assert tuple(edge) == EDGE_CRAWL_FIELDS
    assert edge["target_host"] == "mysite.test" and edge["source_title"] == "T"
    with pytest.raises(TypeError):
        new_page(url="http://a.test/p")  # every crawl field, or none


def test_the_sqlite_tables_are_the_definition(tmp_path):
    import sqlite3

    from crawler.items import Edge, Page, spec
    from pipelines.stores.sqlite import SQLiteStore

    SQLiteStore(tmp_path / "lw.db").close()
    db = sqlite3.connect(tmp_path / "lw.db")
    for table, record in (("edges", Edge), ("pages", Page)):
        rows = db.execute(f"PRAGMA table_info({table})")
        columns = [(row[1], row[2], bool(row[3])) for row in rows if row[1] != "id"]
        expected = [(f.name, f.sql.split()[0], "NOT NULL" in f.sql) for f in spec(record) if f.sql]
        assert columns == expected


# The schema linkwatch 0.2 made, as it wrote it: a file made then must keep opening.
def old_mongo_edge(when):
    """An edge document as linkwatch 0.2 wrote it into MongoDB (a.test/1 -> mysite.test/x)."""
    from pipelines.stores.mongo.schema import edge_id

    return (
        {"_id": edge_id("http://a.test/1", "http://mysite.test/x")}
        | {"source_url": "http://a.test/1", "target_url": "http://mysite.test/x"}
        | {"source_domain": "a.test", "target_domain": "mysite.test"}
        | {"target_host": "mysite.test", "anchor": "old", "alt": "", "rel": []}
        | {"nofollow": False, "dofollow": 1, "link_type": "a", "source_title": "Old"}
        | {"source_status": 200, "first_seen": when, "last_seen": when}
        | {"lost_at": None, "lost_reason": None}
    )


SCHEMA_0_2 = """
CREATE TABLE edges (
    id INTEGER PRIMARY KEY, source_url TEXT NOT NULL, target_url TEXT NOT NULL,
    source_domain TEXT NOT NULL, target_domain TEXT NOT NULL, target_host TEXT NOT NULL,
    anchor TEXT NOT NULL, alt TEXT NOT NULL, rel TEXT NOT NULL, nofollow INTEGER NOT NULL,
    link_type TEXT NOT NULL, source_title TEXT NOT NULL, source_status INTEGER NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, lost_at TEXT, lost_reason TEXT);
CREATE UNIQUE INDEX edges_identity ON edges (source_url, target_url);
CREATE INDEX edges_by_target ON edges (target_domain, lost_at, source_domain, first_seen);
CREATE INDEX edges_new_by_target ON edges (target_domain, first_seen);
CREATE TABLE pages (
    url TEXT PRIMARY KEY, domain TEXT NOT NULL, status INTEGER NOT NULL, title TEXT NOT NULL,
    outlinks INTEGER NOT NULL, edges INTEGER NOT NULL, first_fetched TEXT NOT NULL,
    fetched_at TEXT NOT NULL, domain_links TEXT) WITHOUT ROWID;
INSERT INTO edges VALUES (1, 'http://a.test/1', 'http://mysite.test/x', 'a.test', 'mysite.test',
    'mysite.test', 'old', '', '["ugc"]', 1, 'a', 'Old', 200, '2025-01-01T00:00:00Z',
    '2025-01-01T00:00:00Z', NULL, NULL);
INSERT INTO pages VALUES ('http://a.test/1', 'a.test', 200, 'Old', 1, 1, '2025-01-01T00:00:00Z',
    '2025-01-01T00:00:00Z', NULL);
"""


def test_a_database_made_by_linkwatch_0_2_opens_and_takes_writes(tmp_path):
    import sqlite3

    from pipelines.stores.sqlite import SQLiteStore

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_0_2)
    db.close()
    with SQLiteStore(path, readonly=True) as old:
        [edge] = list(old.backlinks(MYSITE))
        assert (edge["anchor"], edge["rel"], edge["nofollow"]) == ("old", ["ugc"], True)
    with SQLiteStore(path) as store:
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})], at=FEB)])
        [edge] = list(store.backlinks(MYSITE))
        assert edge["anchor"] == "a link" and edge["first_seen"] == "2025-01-01T00:00:00Z"
        assert edge["last_seen"] == FEB
