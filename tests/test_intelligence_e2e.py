"""End to end on both stores: a real crawl of the fixture web (with its link
farm and the competitors' referrers, crawler/testing/fixtureweb/profiles.py), then
`linkwatch rank | gap | toxic | disavow | report | export` as processes.

The expectations are the fixture's, written by hand: the farm trips exactly
FARM_RULES, gap lists exactly GAP[K] in that order, and so on."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from html.parser import HTMLParser

import orjson
import pytest

from crawler.intelligence.disavow import MAX_BYTES, MAX_LINES, validate_disavow
from crawler.intelligence.export import EXPORT_FIELDS
from crawler.testing.fixtureweb import build_web
from crawler.testing.fixtureweb.model import COMPETITORS
from crawler.testing.fixtureweb.profiles import (
    BRANDS_PER_PAGE,
    FARM_ANCHORS,
    FARM_DOMAIN,
    FARM_LINKS_PER_PAGE,
    FARM_PAGES,
    FARM_RULES,
    FARM_SPAM_TLD,
    FARM_WATCHED,
    GAP,
)
from tests.support.crawling import ROOT
from tests.test_recrawl_e2e import Location, crawl

pytestmark = pytest.mark.e2e

MYSITE = "mysite.test"
SPAM_TLDS = ("--spam-tlds", f"xyz,top,{FARM_SPAM_TLD}")


@pytest.fixture(scope="module")
def web():
    return build_web(version=1)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def crawled(request, web, tmp_path_factory):
    """The fixture web crawled twice into one store (the second crawl must not
    count a page's domain links twice), then ranked."""
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    location = Location(request.param, tmp_path_factory.mktemp(request.param), mongo_uri)
    try:
        crawl(web, location)
        first = graph_of(location)
        crawl(web, location)
        location.graph = (first, graph_of(location))
        location.rank = linkwatch("rank", "--top", "3", "--format", "csv", *location.cli_options())
        yield location
    finally:
        location.drop()


def graph_of(location: Location) -> list[tuple]:
    from pipelines.stores import open_store

    with open_store(location_settings(location), readonly=True) as store:
        return sorted(store.domain_graph())


def location_settings(location: Location) -> dict[str, str]:
    if location.kind == "mongo":
        return {"MONGO_URI": location.mongo_uri, "MONGO_DATABASE": location.database}
    return {"LINKWATCH_DB": str(location.db_path)}


def linkwatch(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MONGO_URI", "MONGO_DATABASE", "LINKWATCH_DB", "LINKWATCH_SPAM_TLDS")
    }
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check:
        assert result.returncode == 0, (argv, result.stderr[-2000:])
        assert "Traceback" not in result.stderr
    return result


def json_lines(result) -> list[dict]:
    return [orjson.loads(line) for line in result.stdout.splitlines()]


# --- the domain graph and authority --------------------------------------------------------


def test_the_domain_graph_holds_the_farms_links_once(crawled):
    first, second = crawled.graph
    assert first == second, "a recrawl replaces a page's domain links, never adds to them"
    pairs = {(s, t): (links, pages) for s, t, links, pages in second}
    assert pairs[(FARM_DOMAIN, MYSITE)] == (2 * FARM_PAGES, FARM_PAGES)
    for domain in FARM_WATCHED:
        if domain != MYSITE:
            assert pairs[(FARM_DOMAIN, domain)] == (FARM_PAGES, FARM_PAGES), domain
    farm_links = sum(links for (s, _), (links, _) in pairs.items() if s == FARM_DOMAIN)
    assert farm_links == FARM_PAGES * FARM_LINKS_PER_PAGE
    brand_pages = sum(
        pages for (s, t), (_, pages) in pairs.items() if s == FARM_DOMAIN and t.startswith("brand")
    )
    assert brand_pages == FARM_PAGES * BRANDS_PER_PAGE
    assert pairs[("ref-pair.test", "ref-all.test")] == (1, 1)
    assert pairs[("ref-deep.test", "initech.test")] == (1, 1)  # from its second page
    assert not any(s == t for s, t in pairs)


def test_rank_stores_authority_that_every_view_shows(crawled):
    rank = crawled.rank
    assert "harmonic centrality exact" in rank.stderr
    options = crawled.cli_options()
    by_authority = json_lines(
        linkwatch("refdomains", MYSITE, "--sort", "authority", "--format", "json", *options)
    )
    authority = [row["authority"] for row in by_authority]
    assert authority == sorted(authority, reverse=True)
    assert all(a is not None and 0 <= a <= 100 for a in authority)
    assert by_authority[0]["source_domain"] == "alpha.test", "linked from two ref sites"
    rows = list(csv.DictReader(io.StringIO(rank.stdout)))
    assert len(rows) == 3
    assert rows[0]["domain"] == MYSITE and float(rows[0]["pagerank"]) == 100.0
    backlinks = json_lines(
        linkwatch("backlinks", MYSITE, "--sort", "authority", "--format", "json", *options)
    )
    assert len(backlinks) == sum(1 for _ in live_edges_into(crawled, MYSITE))
    ordered = [row["authority"] for row in backlinks]
    assert ordered == sorted(ordered, reverse=True)
    assert {"authority", "harmonic"} <= backlinks[0].keys()


def live_edges_into(location, domain):
    return (e for e in location.edges() if e["target_domain"] == domain and e["lost_at"] is None)


# --- gap -----------------------------------------------------------------------------------


@pytest.mark.parametrize("minimum", [1, 2, 3])
def test_gap_lists_exactly_the_expected_domains_best_first(crawled, minimum):
    result = linkwatch(
        "gap",
        MYSITE,
        "--vs",
        *COMPETITORS,
        "--min",
        str(minimum),
        "--format",
        "json",
        *crawled.cli_options(),
    )
    rows = json_lines(result)
    assert [r["source_domain"] for r in rows] == GAP[minimum]
    assert all(r["competitors"] >= minimum for r in rows)
    assert rows[0]["authority"] > rows[-1]["authority"] or len(rows) == 1


# --- toxic and disavow ---------------------------------------------------------------------


def test_the_farm_is_flagged_with_the_right_rules_and_evidence(crawled):
    result = linkwatch(
        "toxic", MYSITE, "--min-score", "0", "--format", "json", *SPAM_TLDS, *crawled.cli_options()
    )
    rows = {row["source_domain"]: row for row in json_lines(result)}
    farm = rows[FARM_DOMAIN]
    assert set(farm["rules"].split()) == FARM_RULES
    assert farm["score"] == 100
    evidence = {flag["rule"]: flag["evidence"] for flag in farm["flags"]}
    assert evidence["outlinks_per_page"].startswith(f"{FARM_LINKS_PER_PAGE:.1f} links")
    assert ", ".join(FARM_WATCHED) in evidence["many_watched_domains"]
    assert evidence["sitewide_links"].startswith(f"{FARM_PAGES} of {FARM_PAGES} crawled pages")
    for anchor in FARM_ANCHORS:
        assert f"{anchor!r} on {FARM_PAGES} pages" in evidence["commercial_anchors"]
    assert evidence["spam_tld"] == f".{FARM_SPAM_TLD} is on the spam-heavy TLD list"
    assert [d for d, row in rows.items() if row["score"] >= 50] == [FARM_DOMAIN]
    assert rows["ref-mine.test"]["score"] == 0
    # Without the farm's TLD on the list, the other four rules still fire.
    default = json_lines(linkwatch("toxic", MYSITE, "--format", "json", *crawled.cli_options()))
    assert set(default[0]["rules"].split()) == FARM_RULES - {"spam_tld"}


def test_disavow_is_valid_and_respects_the_whitelist(crawled, tmp_path):
    options = crawled.cli_options()
    result = linkwatch("disavow", MYSITE, "--min-score", "10", *SPAM_TLDS, *options)
    data = result.stdout.encode("utf-8")
    assert len(data) <= MAX_BYTES and len(data.splitlines()) <= MAX_LINES
    domains = validate_disavow(data)
    assert domains[0] == FARM_DOMAIN
    assert all(line.startswith(("#", "domain:")) for line in result.stdout.splitlines())
    assert any(line.startswith("# - commercial_anchors:") for line in result.stdout.splitlines())
    whitelist = tmp_path / "whitelist.txt"
    whitelist.write_text(f"# trusted\ndomain:LinkFarm.{FARM_SPAM_TLD}\nhttp://www.alpha.test/\n")
    out = tmp_path / "disavow.txt"
    linkwatch(
        "disavow",
        MYSITE,
        "--min-score",
        "10",
        "--whitelist",
        str(whitelist),
        "--out",
        str(out),
        *SPAM_TLDS,
        *options,
    )
    assert validate_disavow(out.read_bytes()) == [
        d for d in domains if d not in (FARM_DOMAIN, "alpha.test")
    ]
    assert "Whitelist:" in out.read_text()


# --- report --------------------------------------------------------------------------------


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.refs += [attrs[name] for name in ("src", "href") if name in attrs]

    def handle_data(self, data):
        self.text.append(data)


def test_the_report_renders_with_resolving_links_and_decodable_pngs(crawled, tmp_path):
    from PIL import Image

    out = tmp_path / "report"
    result = linkwatch(
        "report", MYSITE, "--out", str(out), "--progress", *SPAM_TLDS, *crawled.cli_options()
    )
    assert "linkwatch report: charts 7/7 (100%)" in result.stderr
    page = Page()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    assert len(page.refs) >= 7
    for ref in page.refs:
        assert (out / ref).is_file(), ref
        with Image.open(out / ref) as image:
            image.verify()
            assert image.format == "PNG"
    text = " ".join(page.text)
    assert FARM_DOMAIN in text and "commercial_anchors" in text and "cheap viagra" in text


# --- export --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def profile(crawled):
    """Every backlink of mysite.test as `backlinks --all --format json` prints them."""
    rows = json_lines(
        linkwatch("backlinks", MYSITE, "--all", "--format", "json", *crawled.cli_options())
    )
    assert rows
    return {(r["source_url"], r["target_url"]): {f: r.get(f) for f in EXPORT_FIELDS} for r in rows}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "graphml"])
def test_export_round_trips(crawled, profile, fmt, tmp_path):
    out = tmp_path / f"profile.{fmt}"
    result = linkwatch("export", MYSITE, "--format", fmt, "--out", str(out), *crawled.cli_options())
    assert f"{len(profile):,} backlinks" in result.stderr
    assert read_export(fmt, out) == profile


def read_export(fmt, path) -> dict:
    if fmt == "jsonl":
        rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    elif fmt == "csv":
        rows = []
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            row = {k: (None if v == "" and k in NULLABLE else v) for k, v in row.items()}
            row["rel"] = row["rel"].split()
            row["nofollow"] = row["nofollow"] == "true"
            row["source_status"] = int(row["source_status"])
            for name in ("authority", "harmonic"):
                row[name] = None if row[name] is None else float(row[name])
            rows.append(row)
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
        for row in rows:
            for name in ("first_seen", "last_seen", "lost_at"):
                if row[name] is not None:
                    row[name] = row[name].strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        import networkx as nx

        graph = nx.read_graphml(path)
        rows = []
        for source, target, data in graph.edges(data=True):
            row = {
                "source_url": source,
                "target_url": target,
                "source_domain": None,
                "target_domain": graph.nodes[target]["domain"],
                **{f: data.get(f) for f in EXPORT_FIELDS if f in data},
            }
            row["source_domain"] = graph.nodes[source]["domain"]
            row["rel"] = row["rel"].split()
            for name in EXPORT_FIELDS:
                row.setdefault(name, None)
            row["alt"] = row["alt"] or ""
            row["anchor"] = row["anchor"] or ""
            row["source_title"] = row["source_title"] or ""
            rows.append(row)
    return {(r["source_url"], r["target_url"]): {f: r.get(f) for f in EXPORT_FIELDS} for r in rows}


NULLABLE = {"lost_at", "lost_reason", "authority", "harmonic"}


# --- mistakes (in this process: no crawl, no store needed) --------------------------------


def run_main(argv, capsys) -> tuple[int, str]:
    from crawler.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("gap", MYSITE, "--vs", MYSITE, "acme.test"), "DOMAIN itself"),
        (("gap", MYSITE, "--vs", "acme.test", "globex.test", "--min", "3"), "only 2 competitors"),
        (("gap", MYSITE, "--vs", "blog.acme.test"), "is a host"),
        (("export", MYSITE, "--format", "parquet"), "give --out FILE"),
        (("export", MYSITE, "--format", "xml"), "invalid choice"),
        (("toxic", MYSITE, "--whitelist", "/nonexistent/list.txt"), "cannot read"),
        (("disavow", MYSITE, "--min-score", "101"), "0 to 100"),
        (("rank", "--damping", "1.5"), "between 0 and 1"),
        (("toxic", MYSITE, "--spam-tlds", "@/nonexistent"), "--spam-tlds"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(argv, fragment, tmp_path, capsys):
    code, err = run_main([*argv, "--db", str(tmp_path / "none.db")], capsys)
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], err
    assert not (tmp_path / "none.db").exists()


def test_a_bad_whitelist_line_is_named(tmp_path, capsys):
    whitelist = tmp_path / "w.txt"
    whitelist.write_text("ok.test\nnot a domain\n")
    argv = ["toxic", MYSITE, "--whitelist", str(whitelist), "--db", str(tmp_path / "x.db")]
    code, err = run_main(argv, capsys)
    assert code == 2 and "--whitelist line 2" in err


def test_rank_without_a_database_is_exit_1(tmp_path, capsys):
    code, err = run_main(["rank", "--db", str(tmp_path / "missing.db")], capsys)
    assert code == 1 and "no linkwatch database" in err
    assert not (tmp_path / "missing.db").exists()
