"""Provenance of expanded sites in both stores, and `linkwatch discovered` over it."""

from __future__ import annotations

import sqlite3

from crawler.cli.commands.discovered import path_to, rows
from crawler.items import new_page
from pipelines.stores.base import EXPANSION_FIELDS, Target


def page(url: str, *, expansion=None, edges=(), at="2026-01-01T00:00:00Z"):
    domain = url.split("/")[2].removeprefix("www.")
    return new_page(
        url=url, domain=domain, status=200, title="T", outlinks=len(edges),
        edges=[
            {"source_url": url, "target_url": t, "source_domain": domain,
             "target_domain": "mysite.test", "target_host": "mysite.test", "anchor": "a",
             "alt": "", "rel": [], "nofollow": False, "link_type": "a", "placement": "content",
             "context": "", "source_title": "T", "source_status": 200}
            for t in edges
        ],
        fetched_at=at, domain_links={}, watch=["mysite.test"], expansion=expansion,
    )  # fmt: skip


def record(domain, via, hop, order):
    via_domain = via.split("/")[2].removeprefix("www.")
    return {"domain": domain, "via": via, "via_domain": via_domain, "hop": hop, "order": order}


def test_stores_keep_the_first_provenance_of_each_site(store):
    store.write_pages(
        [
            page("http://seed.test/", edges=["http://mysite.test/"]),
            page("http://a.test/", expansion=record("a.test", "http://seed.test/", 1, 0)),
            page(
                "http://b.test/",
                expansion=record("b.test", "http://a.test/", 2, 3),
                edges=["http://mysite.test/x"],
            ),
        ]
    )
    # A later crawl reaching b.test another way does not rewrite how it was found.
    store.write_pages(
        [page("http://b.test/2", expansion=record("b.test", "http://seed.test/", 1, 9))]
    )
    found = store.expansions()
    assert list(found) == ["a.test", "b.test"]
    assert found["b.test"] == {
        "domain": "b.test", "via": "http://a.test/", "via_domain": "a.test", "hop": 2,
        "order": 3, "found_at": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    assert set(found["a.test"]) == set(EXPANSION_FIELDS)
    listed = list(rows(store, Target.parse("mysite.test"), None))
    assert [(r["domain"], r["path"], r["edges"]) for r in listed] == [
        ("b.test", "seed.test > a.test > b.test", 1)
    ]


def test_a_database_from_before_discovery_opens_read_only(tmp_path):
    from pipelines.stores.sqlite import SQLiteStore

    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE expansions")
    db.commit()
    db.close()
    with SQLiteStore(path, readonly=True) as old:
        assert old.expansions() == {}
    with SQLiteStore(path) as writable:  # read-write: the table is made again
        assert writable.expansions() == {}


def test_path_to_stops_on_a_loop():
    loop = {"a.test": {"via_domain": "b.test"}, "b.test": {"via_domain": "a.test"}}
    assert len(path_to("a.test", loop)) <= 4
