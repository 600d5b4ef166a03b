"""The store contract: every store keeps the same data model and answers the
same queries the same way. Parametrized over every store (see conftest.py)."""

from __future__ import annotations

import pytest

from pipelines.stores import Target


def site(url):
    """Registered domain of a fixture URL: the last two labels of its host."""
    return ".".join(url.split("/")[2].split(".")[-2:])


def page(url, edges, *, status=200, at="2026-01-01T00:00:00Z", title="T"):
    domain = site(url)
    return {
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
                "source_title": title,
                "source_status": status,
            }
            for target, extra in edges
        ],
    }


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
