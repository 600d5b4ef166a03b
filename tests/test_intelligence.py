"""Backlink intelligence, pure logic: ranking against networkx, toxic rules with
their evidence, competitor gap, disavow files, timelines, exports, the report."""

from __future__ import annotations

import csv
import io
import json
import re
import tracemalloc
from html.parser import HTMLParser

import networkx as nx
import numpy as np
import pytest

from crawler.intelligence.disavow import (
    MAX_BYTES,
    MAX_LINES,
    Disavowed,
    build_disavow,
    parse_domain_list,
    validate_disavow,
)
from crawler.intelligence.export import (
    EXPORT_FIELDS,
    write_csv,
    write_graphml,
    write_jsonl,
    write_parquet,
)
from crawler.intelligence.gap import competitor_gap, rank_gap
from crawler.intelligence.rank import (
    DomainGraph,
    harmonic_centrality,
    pagerank,
    rank_domains,
    scale_harmonic,
    scale_pagerank,
)
from crawler.intelligence.timeline import build_timeline
from crawler.intelligence.toxic import (
    LinkEvidence,
    ToxicRules,
    assess,
    collect_links,
    spam_tld,
)

# --- ranking ------------------------------------------------------------------------------


def graphs():
    """Small directed graphs with dangling nodes, cycles, isolated parts, stars."""
    yield "random", [(u, v) for u, v in nx.gnp_random_graph(60, 0.05, seed=1, directed=True).edges]
    yield "sparse", [(u, v) for u, v in nx.gnp_random_graph(80, 0.015, seed=7, directed=True).edges]
    yield "cycle", [(i, (i + 1) % 7) for i in range(7)]
    yield "star in", [(i, 0) for i in range(1, 9)]
    yield "star out", [(0, i) for i in range(1, 9)]
    yield "two parts", [(0, 1), (1, 2), (2, 0), (3, 4), (5, 4), (4, 6)]
    yield "web-like", list(nx.scale_free_graph(120, seed=3).edges())
    yield "one edge", [(0, 1)]


def reference(pairs):
    graph = DomainGraph.from_pairs((f"d{u}.test", f"d{v}.test") for u, v in pairs)
    reference = nx.DiGraph()
    reference.add_nodes_from(graph.names)
    reference.add_edges_from((f"d{u}.test", f"d{v}.test") for u, v in pairs if u != v)
    return graph, reference


@pytest.mark.parametrize(("name", "pairs"), list(graphs()), ids=[n for n, _ in graphs()])
def test_pagerank_matches_networkx(name, pairs):
    graph, reference_graph = reference(pairs)
    ours = pagerank(graph)
    assert ours.converged
    theirs = nx.pagerank(reference_graph, alpha=0.85, tol=1e-15, max_iter=10_000)
    for i, domain in enumerate(graph.names):
        assert abs(ours.values[i] - theirs[domain]) < 1e-9, (name, domain)
    assert abs(ours.values.sum() - 1) < 1e-12


@pytest.mark.parametrize(("name", "pairs"), list(graphs()), ids=[n for n, _ in graphs()])
def test_harmonic_centrality_matches_networkx(name, pairs):
    graph, reference_graph = reference(pairs)
    ours = harmonic_centrality(graph)
    assert ours.exact and ours.sources == graph.size
    theirs = nx.harmonic_centrality(reference_graph)
    for i, domain in enumerate(graph.names):
        assert abs(ours.values[i] - theirs[domain]) < 1e-9, (name, domain)


def test_harmonic_centrality_counts_incoming_paths():
    # a -> b -> c: c is reached from b (1) and a (1/2); a from nobody.
    graph = DomainGraph.from_pairs([("a", "b"), ("b", "c")])
    values = dict(zip(graph.names, harmonic_centrality(graph).values, strict=True))
    assert values == {"a": 0.0, "b": 1.0, "c": 1.5}


def test_pagerank_with_other_damping_matches_networkx():
    graph, reference_graph = reference(list(nx.scale_free_graph(80, seed=5).edges()))
    theirs = nx.pagerank(reference_graph, alpha=0.5, tol=1e-15, max_iter=10_000)
    ours = pagerank(graph, 0.5)
    assert max(abs(ours.values[i] - theirs[d]) for i, d in enumerate(graph.names)) < 1e-9


def test_sampled_harmonic_centrality_estimates_and_says_so():
    pairs = list(nx.gnp_random_graph(400, 0.02, seed=2, directed=True).edges)
    graph, _ = reference(pairs)
    exact = harmonic_centrality(graph).values
    estimate = harmonic_centrality(graph, exact_limit=100, samples=200, seed=1)
    assert not estimate.exact and estimate.sources == 200
    # Unbiased: on average the estimate is the value; per domain within ~15 %.
    assert abs(estimate.values.sum() / exact.sum() - 1) < 0.05
    top = np.argsort(exact)[-50:]
    assert np.all(np.abs(estimate.values[top] / exact[top] - 1) < 0.15)
    same = harmonic_centrality(graph, exact_limit=100, samples=200, seed=1)
    assert np.array_equal(same.values, estimate.values), "a seed makes it reproducible"


def test_graph_drops_repeats_and_self_links():
    graph = DomainGraph.from_pairs([("a", "b"), ("a", "b"), ("a", "a"), ("b", "c")])
    assert graph.names == ["a", "b", "c"] and graph.edges == 2
    assert graph.adjacency.toarray().tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert DomainGraph.from_pairs([]).size == 0
    assert pagerank(DomainGraph.from_pairs([])).values.size == 0


def test_scaling_to_0_100():
    values = np.array([0.001, 0.01, 0.1, 0.001])
    assert scale_pagerank(values).tolist() == pytest.approx([0, 50, 100, 0])
    assert scale_pagerank(np.array([0.5, 0.5])).tolist() == [0, 0]
    assert scale_harmonic(np.array([0.0, 2.0, 4.0])).tolist() == [0, 50, 100]
    assert scale_harmonic(np.zeros(3)).tolist() == [0, 0, 0]


def test_rank_domains_rows():
    ranking = rank_domains(DomainGraph.from_pairs([("a", "hub"), ("b", "hub"), ("hub", "c")]))
    rows = {r["domain"]: r for r in ranking.rows()}
    assert rows["a"]["pagerank"] == rows["b"]["pagerank"] == 0
    assert max(r["pagerank"] for r in rows.values()) == 100
    assert max(r["harmonic"] for r in rows.values()) == 100
    assert ranking.harmonic_exact and ranking.converged
    assert abs(sum(r["pagerank_raw"] for r in rows.values()) - 1) < 1e-12
    # Top: by PageRank, then harmonic centrality, then name.
    top = ranking.top(10)
    assert [r["domain"] for r in top] == sorted(
        rows, key=lambda d: (-rows[d]["pagerank"], -rows[d]["harmonic"], d)
    )
    assert [r["domain"] for r in ranking.top(3)] == [r["domain"] for r in top[:3]]
    assert [r["domain"] for r in ranking.top(2)][1] in ("a", "b", "hub", "c")
    assert ranking.top(0) == []


def test_top_breaks_ties_by_name():
    ranking = rank_domains(DomainGraph.from_pairs([(f"s{i}", "t") for i in range(6)]))
    assert [r["domain"] for r in ranking.top(4)] == ["t", "s0", "s1", "s2"]


def test_pagerank_at_scale_is_fast():
    """A web-shaped graph of 200,000 domains and 2,000,000 links ranks in seconds."""
    import time

    from scipy import sparse

    rng = np.random.default_rng(0)
    n, m = 200_000, 2_000_000
    sources = rng.integers(0, n, m)
    targets = rng.zipf(1.6, m) % n
    matrix = sparse.csr_matrix((np.ones(m), (sources, targets)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    graph = DomainGraph([f"d{i}" for i in range(n)], matrix)
    started = time.monotonic()
    result = pagerank(graph)
    assert result.converged
    assert time.monotonic() - started < 20
    estimate = harmonic_centrality(graph, samples=8)
    assert not estimate.exact and estimate.values.max() > 0


# --- toxic rules --------------------------------------------------------------------------

TARGET = "mysite.example"


def edge(source_url, anchor, target_url="http://mysite.example/"):
    domain = re.sub(r"^www\.", "", source_url.split("/")[2])
    return {
        "source_url": source_url,
        "target_url": target_url,
        "source_domain": domain,
        "anchor": anchor,
    }


def farm_edges(pages=6):
    for k in range(pages):
        yield edge(f"http://www.farm.xyz/{k}", "buy cheap shoes")
        yield edge(f"http://www.farm.xyz/{k}", "cheap viagra", "http://mysite.example/pills")


WATCHED = ["a.example", "b.example", "c.example", "d.example", TARGET, "farm.xyz"]
FARM_PROFILE = {
    "pages": 6,
    "external_links": 648,
    "linked_domains": 127,
    "watched": ["a.example", "b.example", "c.example", "d.example", TARGET],
}


def test_a_link_farm_trips_every_rule_with_its_evidence():
    links = collect_links(farm_edges())
    [farm] = assess(TARGET, links, {"farm.xyz": FARM_PROFILE})
    assert farm.domain == "farm.xyz"
    assert farm.rules == [
        "outlinks_per_page",
        "many_watched_domains",
        "sitewide_links",
        "commercial_anchors",
        "spam_tld",
    ]
    assert farm.score == 100  # 110, capped
    evidence = {flag.rule: flag.evidence for flag in farm.flags}
    assert (
        "108.0 links to other domains per crawled page (648 links, 6 pages"
        in evidence["outlinks_per_page"]
    )
    assert "links to 5 watched domains" in evidence["many_watched_domains"]
    assert (
        "a.example, b.example, c.example, d.example, mysite.example"
        in evidence["many_watched_domains"]
    )
    assert evidence["sitewide_links"].startswith("6 of 6 crawled pages link to mysite.example")
    assert "'buy cheap shoes' on 6 pages" in evidence["commercial_anchors"]
    assert "'cheap viagra' on 6 pages" in evidence["commercial_anchors"]
    assert evidence["spam_tld"] == ".xyz is on the spam-heavy TLD list"
    row = farm.row()
    assert row["rules"].split() == farm.rules and row["edges"] == 12
    assert [f["rule"] for f in row["flags"]] == farm.rules


def test_a_normal_site_trips_nothing():
    edges = [edge("http://blog.example/post/1", "mysite"), edge("http://blog.example/2", "great")]
    profile = {"pages": 40, "external_links": 120, "linked_domains": 30, "watched": [TARGET]}
    [blog] = assess(TARGET, collect_links(edges), {"blog.example": profile})
    assert (blog.score, blog.flags) == (0, ())


def test_each_threshold_is_a_boundary():
    rules = ToxicRules()
    links = collect_links(farm_edges(pages=5))
    at = dict(FARM_PROFILE, pages=5, external_links=250, watched=WATCHED[:5])
    [flagged] = assess(TARGET, links, {"farm.xyz": at}, rules)
    assert {"outlinks_per_page", "many_watched_domains", "sitewide_links"} <= set(flagged.rules)
    below = dict(at, external_links=249, watched=WATCHED[:4])
    few = collect_links(farm_edges(pages=4))
    [quiet] = assess(TARGET, few, {"farm.xyz": dict(below, pages=5)}, rules)
    assert set(quiet.rules) == {"commercial_anchors", "spam_tld"}
    # sitewide: 4 of 5 pages is 80 % but fewer than 5 pages.
    looser = ToxicRules(sitewide_min_pages=4, anchor_min_pages=5, spam_tlds=("top",))
    [loose] = assess(TARGET, few, {"farm.xyz": dict(below, pages=5)}, looser)
    assert loose.rules == ["sitewide_links"]


def test_the_domain_itself_is_not_one_of_the_watched_it_links_to():
    profile = dict(FARM_PROFILE, watched=["farm.xyz", *WATCHED[:4]])
    [farm] = assess(TARGET, collect_links(farm_edges()), {"farm.xyz": profile})
    assert "many_watched_domains" not in farm.rules


def test_commercial_terms_match_whole_words_only():
    pattern = ToxicRules().commercial_pattern()
    assert pattern.search("Buy cheap shoes")
    assert pattern.search("best CASINO bonus!")
    assert not pattern.search("buyer's guide")
    assert not pattern.search("cheapest")  # not the word "cheap"
    assert ToxicRules(commercial_terms=()).commercial_pattern() is None
    custom = ToxicRules(commercial_terms=("payday loans",)).commercial_pattern()
    assert custom.search("fast payday loans") and not custom.search("payday")


def test_spam_tld_matches_on_a_label_boundary():
    assert spam_tld("farm.xyz", ("xyz",)) == "xyz"
    assert spam_tld("farm.co.tk", ("tk",)) == "tk"
    assert spam_tld("farmxyz.com", ("xyz",)) is None
    assert spam_tld("farm.xyz", (".XYZ ",)) == "xyz"
    assert spam_tld("farm.testing", ("xyz", "testing")) == "testing"


def test_whitelisted_domains_are_never_flagged():
    links = collect_links(farm_edges())
    [farm] = assess(TARGET, links, {"farm.xyz": FARM_PROFILE}, whitelist={"farm.xyz"})
    assert farm.whitelisted and farm.score == 0 and farm.flags == ()


def test_assessed_most_toxic_first():
    links = {
        "b.example": LinkEvidence(pages={"http://b.example/"}, edges=1),
        "a.example": LinkEvidence(pages={"http://a.example/"}, edges=1),
        **collect_links(farm_edges()),
    }
    order = [t.domain for t in assess(TARGET, links, {"farm.xyz": FARM_PROFILE})]
    assert order == ["farm.xyz", "a.example", "b.example"]


# --- gap ----------------------------------------------------------------------------------

LINKING = {
    "mine.example": {"both.example", "farm.example", "a.example"},
    "a.example": {"x.example", "y.example", "z.example", "both.example", "b.example"},
    "b.example": {"x.example", "y.example", "both.example"},
    "c.example": {"x.example", "w.example", "mine.example"},
}


def test_gap_is_domains_linking_to_k_competitors_but_not_to_mine():
    competitors = ["a.example", "b.example", "c.example"]
    gap = competitor_gap(LINKING, "mine.example", competitors, 2)
    assert gap == {
        "x.example": ["a.example", "b.example", "c.example"],
        "y.example": ["a.example", "b.example"],
    }
    assert set(competitor_gap(LINKING, "mine.example", competitors, 3)) == {"x.example"}
    one = competitor_gap(LINKING, "mine.example", competitors, 1)
    # Never mine, a competitor, or a domain that links to mine.
    assert set(one) == {"x.example", "y.example", "z.example", "w.example"}
    with pytest.raises(ValueError, match="between 1 and 3"):
        competitor_gap(LINKING, "mine.example", competitors, 4)


def test_gap_rows_best_first():
    gap = {
        "x.example": ["a", "b", "c"],
        "y.example": ["a", "b"],
        "z.example": ["a"],
        "w.example": ["a", "b"],
    }
    authority = {
        "y.example": {"pagerank": 70.0, "harmonic": 50.0},
        "z.example": {"pagerank": 70.0, "harmonic": 10.0},
        "x.example": {"pagerank": 10.0, "harmonic": 5.0},
    }
    rows = rank_gap(gap, authority)
    assert [(r["source_domain"], r["authority"], r["competitors"]) for r in rows] == [
        ("y.example", 70.0, 2),
        ("z.example", 70.0, 1),
        ("x.example", 10.0, 3),
        ("w.example", None, 2),  # unranked last
    ]
    assert rows[0]["links_to"] == "a b"


# --- disavow ------------------------------------------------------------------------------


def test_a_disavow_file_is_valid_with_reasons_and_punycode():
    built = build_disavow(
        [
            Disavowed("farm.xyz", 100, ("spam_tld: .xyz", "sitewide_links: 6 of 6\nINJECTED")),
            Disavowed("bücher.example", 60, ("outlinks_per_page: 200 per page",)),
            Disavowed("farm.xyz", 100, ()),  # listed once
        ],
        header=["Disavow file for mysite.example"],
    )
    lines = built.text.splitlines()
    assert lines[0] == "# Disavow file for mysite.example"
    assert "domain:farm.xyz" in lines and "domain:xn--bcher-kva.example" in lines
    assert lines.index("domain:farm.xyz") < lines.index("domain:xn--bcher-kva.example")
    assert "# - sitewide_links: 6 of 6 INJECTED" in lines, "a reason cannot start a line"
    assert not any(line.startswith("INJECTED") for line in lines)
    assert validate_disavow(built.data) == ["farm.xyz", "xn--bcher-kva.example"]
    assert built.domains == ["farm.xyz", "xn--bcher-kva.example"] and built.left_out == 0
    built.data.decode("ascii")  # nothing but ASCII here


def test_disavow_limits_drop_reasons_first_then_the_lowest_scores():
    entries = [Disavowed(f"d{i:03d}.example", 100 - i % 50, ("reason " * 5,)) for i in range(40)]
    roomy = build_disavow(entries, max_lines=200, max_bytes=50_000)
    assert len(roomy.domains) == 40 and not roomy.reasons_dropped
    tight = build_disavow(entries, max_lines=60, max_bytes=50_000)
    assert tight.reasons_dropped and len(tight.domains) == 40
    assert "# reasons left out to stay within the size limits" in tight.text
    tiny = build_disavow(entries, max_lines=20, max_bytes=50_000)
    assert len(tiny.text.splitlines()) <= 20
    assert tiny.left_out == 40 - len(tiny.domains) > 0
    assert "more domains left out" in tiny.text.splitlines()[-1]
    scores = {e.domain: e.score for e in entries}
    kept_low = min(scores[d] for d in tiny.domains)
    assert all(scores[d] <= kept_low for d in scores if d not in tiny.domains)


def test_disavow_at_googles_limits():
    entries = [
        Disavowed(f"spam-{i:06d}-{'x' * 20}.example", 50 + i % 50, ("rule: evidence",))
        for i in range(60_000)
    ]
    built = build_disavow(entries)
    assert len(built.data) <= MAX_BYTES and len(built.text.splitlines()) <= MAX_LINES
    assert built.left_out > 0 and len(validate_disavow(built.data)) == len(built.domains)


def test_validate_disavow_refuses_what_google_would():
    with pytest.raises(ValueError, match="line 2"):
        validate_disavow(b"# ok\nfarm.xyz\n")
    with pytest.raises(ValueError, match="ASCII domain"):
        validate_disavow("domain:bücher.example\n".encode())
    with pytest.raises(UnicodeDecodeError):
        validate_disavow(b"# \xff\n")
    with pytest.raises(ValueError, match="byte limit"):
        validate_disavow(b"#" * (MAX_BYTES + 1))
    assert validate_disavow(b"\n# x\nhttp://a.example/page\ndomain:a.example\n") == ["a.example"]


def test_whitelist_lines():
    text = (
        "# trusted\n\ufeffdomain:Partner.Example\n\nhttps://blog.friend.example/post?x=1\n"
        "bücher.example  \nnews.bbc.co.uk\n  # indented comment\n"
    )
    assert parse_domain_list(text) == {
        "partner.example",
        "friend.example",
        "xn--bcher-kva.example",
        "bbc.co.uk",
    }
    with pytest.raises(ValueError, match="whitelist line 2: not a domain or URL"):
        parse_domain_list("ok.example\nnot a domain\n")


# --- timeline -----------------------------------------------------------------------------


def test_timeline_bins_new_lost_and_referring_domains():
    day = "2026-0{}-{:02d}T12:00:00Z".format
    edges = [
        {"source_domain": "a", "first_seen": day(1, 1), "lost_at": None},
        {"source_domain": "a", "first_seen": day(1, 3), "lost_at": day(1, 10)},
        {"source_domain": "b", "first_seen": day(1, 2), "lost_at": day(1, 5)},
        {"source_domain": "c", "first_seen": day(1, 5), "lost_at": None},
    ]
    t = build_timeline(edges, now=day(1, 12))
    assert t.unit == "day" and len(t.starts) == 12
    assert t.starts[0].isoformat() == "2026-01-01T00:00:00+00:00"
    assert t.new == [1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert t.lost == [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]
    # b from the 2nd to the 5th; a throughout (one edge is live); c from the 5th.
    assert t.refdomains == [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    assert build_timeline([]).empty
    long = build_timeline([{"source_domain": "a", "first_seen": day(1, 1)}], now=day(9, 1))
    assert long.unit == "week"


# --- export -------------------------------------------------------------------------------


def rows():
    base = {
        "target_domain": "mysite.example",
        "alt": "",
        "rel": [],
        "nofollow": False,
        "link_type": "a",
        "source_title": "T",
        "source_status": 200,
        "first_seen": "2026-01-01T00:00:00Z",
        "last_seen": "2026-02-01T00:00:00Z",
        "lost_at": None,
        "lost_reason": None,
        "authority": 12.5,
        "harmonic": 3.0,
    }
    yield {
        **base,
        "source_url": "http://a.example/1",
        "target_url": "http://mysite.example/",
        "source_domain": "a.example",
        "anchor": 'Quotes "and", commas; <b>&amp;</b>',
        "rel": ["nofollow", "ugc"],
        "nofollow": True,
    }
    yield {
        **base,
        "source_url": "http://a.example/1",
        "target_url": "http://mysite.example/x",
        "source_domain": "a.example",
        "anchor": "Crème brûlée ☕ 日本",
        "alt": "logo",
    }
    yield {
        **base,
        "source_url": "http://b.example/",
        "target_url": "http://mysite.example/",
        "source_domain": "b.example",
        "anchor": "",
        "lost_at": "2026-03-01T00:00:00Z",
        "lost_reason": "page_gone",
        "source_status": 404,
        "authority": None,
        "harmonic": None,
    }
    yield {
        **base,
        "source_url": "http://mysite.example/a",
        "target_url": "http://mysite.example/x",
        "source_domain": "mysite.example",
        "anchor": "internal",
    }


def expected():
    return [{name: row.get(name) for name in EXPORT_FIELDS} for row in rows()]


def test_csv_round_trip():
    out = io.StringIO()
    assert write_csv(rows(), out) == 4
    read = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(read[0]) == list(EXPORT_FIELDS)
    for got, want in zip(read, expected(), strict=True):
        assert got["anchor"] == want["anchor"]
        assert got["rel"].split() == want["rel"]
        assert got["nofollow"] == ("true" if want["nofollow"] else "false")
        assert got["lost_at"] == (want["lost_at"] or "")
        assert got["authority"] == ("" if want["authority"] is None else str(want["authority"]))
        assert int(got["source_status"]) == want["source_status"]


def test_jsonl_round_trip():
    out = io.StringIO()
    assert write_jsonl(rows(), out) == 4
    assert [json.loads(line) for line in out.getvalue().splitlines()] == expected()


def test_parquet_round_trip_in_row_groups(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "profile.parquet"
    assert write_parquet(rows(), str(path), batch_rows=3) == 4
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_row_groups == 2
    table = parquet.read()
    assert table.schema.field("first_seen").type.tz == "UTC"
    got = table.to_pylist()
    for row in got:
        for name in ("first_seen", "last_seen", "lost_at"):
            if row[name] is not None:
                row[name] = row[name].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert got == expected()
    empty = tmp_path / "empty.parquet"
    assert write_parquet(iter(()), str(empty)) == 0
    assert pq.read_table(empty).num_rows == 0


def test_graphml_round_trip_through_networkx():
    out = io.StringIO()
    assert write_graphml(rows(), out, "mysite.example") == 4
    graph = nx.read_graphml(io.StringIO(out.getvalue()))
    assert graph.is_directed()
    assert set(graph.nodes) == {
        "http://a.example/1",
        "http://b.example/",
        "http://mysite.example/",
        "http://mysite.example/x",
        "http://mysite.example/a",
    }
    assert graph.nodes["http://a.example/1"] == {
        "kind": "linking",
        "domain": "a.example",
        "authority": 12.5,
    }
    assert graph.nodes["http://mysite.example/a"]["kind"] == "own"
    for want in expected():
        got = graph.edges[want["source_url"], want["target_url"]]
        assert got["anchor"] == want["anchor"]
        assert got["rel"] == " ".join(want["rel"])
        assert got["nofollow"] is want["nofollow"]
        assert got["source_status"] == want["source_status"]
        assert got.get("lost_at") == want["lost_at"]
        assert got.get("authority") == want["authority"]


def test_graphml_survives_characters_xml_forbids():
    row = next(rows())
    row = {**row, "anchor": "bell\x07 and \x1b escape", "source_title": "tab\tkept"}
    out = io.StringIO()
    write_graphml([row], out, "mysite.example")
    graph = nx.read_graphml(io.StringIO(out.getvalue()))
    [(_, _, data)] = graph.edges(data=True)
    assert data["anchor"] == "bell  and   escape" and data["source_title"] == "tab\tkept"


@pytest.mark.parametrize("writer", ["csv", "jsonl", "graphml"])
def test_text_exports_stream_in_constant_memory(writer):
    """Memory does not grow with the profile: 2,000 or 8,000 rows, same peak."""

    def many(n):
        template = next(rows())
        for i in range(n):
            yield {
                **template,
                "source_url": f"http://s{i}.example/",
                "source_domain": f"s{i}.example",
                "target_url": f"http://mysite.example/{i % 50}",
            }

    def peak(n):
        sink = _Sink()
        tracemalloc.start()
        if writer == "csv":
            write_csv(many(n), sink)
        elif writer == "jsonl":
            write_jsonl(many(n), sink)
        else:
            write_graphml(many(n), sink, "mysite.example")
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert sink.lines >= n
        return top

    small, large = peak(2_000), peak(8_000)
    assert large < small * 1.5 + 100_000, (small, large)


class _Sink(io.TextIOBase):
    """A text stream that counts lines and keeps nothing."""

    def __init__(self):
        self.lines = 0

    def write(self, text):
        self.lines += text.count("\n")
        return len(text)


# --- report -------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "a":
            self.links.append(attrs["href"])
        assert tag != "script", "no scripts in the report"

    def handle_data(self, data):
        self.text.append(data)


def report_data(**changes):
    from crawler.intelligence.report import ReportData
    from crawler.intelligence.toxic import Flag, ToxicDomain

    day = "2026-0{}-01T00:00:00Z".format
    edges = [
        {"source_domain": f"d{i}.example", "first_seen": day(1 + i % 5), "lost_at": None}
        for i in range(30)
    ]
    edges[3]["lost_at"] = day(8)
    data = ReportData(
        target="mysite.example",
        generated_at=day(9),
        live_edges=29,
        dofollow=20,
        lost_edges=1,
        refdomains=29,
        timeline=build_timeline(edges, now=day(9)),
        anchors=[
            {"anchor": "<script>alert(1)</script>", "edges": 5, "refdomains": 2},
            {"anchor": "", "edges": 3, "refdomains": 3},
        ],
        top_domains=[
            {
                "source_domain": f"d{i}.example",
                "authority": 90.0 - i,
                "harmonic": 50.0,
                "edges": 2,
                "dofollow": 1,
            }
            for i in range(20)
        ],
        toxic=[
            ToxicDomain("farm.xyz", 100, (Flag("spam_tld", 20, ".xyz <b>"),), 12),
            ToxicDomain("meh.example", 15, (Flag("sitewide_links", 15, "6 of 6"),), 6),
        ],
        ranked_at=day(9),
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


@pytest.mark.parametrize("empty", [False, True], ids=["profile", "no backlinks"])
def test_the_report_renders_and_its_files_resolve(tmp_path, empty):
    from PIL import Image

    from crawler.intelligence.report import write_report

    data = report_data()
    if empty:
        data = report_data(
            live_edges=0,
            dofollow=0,
            lost_edges=0,
            refdomains=0,
            anchors=[],
            top_domains=[],
            toxic=[],
            timeline=build_timeline([]),
            ranked_at=None,
        )
    calls = []
    index = write_report(data, tmp_path / "out", progress=lambda done, total: calls.append(done))
    assert calls[-1] == 7
    page = index.read_text(encoding="utf-8")
    parsed = _Links()
    parsed.feed(page)
    assert len(parsed.images) == 6
    for src in parsed.images + parsed.links:
        assert "://" not in src and not src.startswith("/"), src
        file = index.parent / src
        assert file.is_file(), src
        with Image.open(file) as image:
            image.verify()
            assert image.format == "PNG"
    if not empty:
        text = "".join(parsed.text)
        assert "<script>alert(1)</script>" in text, "shown as text, not markup"
        assert "spam_tld (+20): .xyz <b>" in text
        assert "farm.xyz" in text and "d0.example" in text


def test_progress_is_quiet_off_a_terminal_unless_asked():
    from crawler.cli.progress import Progress

    quiet = io.StringIO()
    Progress("linkwatch x", stream=quiet).update("rows", 5, 10)
    assert quiet.getvalue() == ""
    forced = io.StringIO()
    progress = Progress("linkwatch x", force=True, stream=forced, interval=0)
    progress.update("rows", 5, 10)
    progress.update("rows", 7)
    progress.close()
    assert forced.getvalue() == "linkwatch x: rows 5/10 (50%)\nlinkwatch x: rows 7\n"
