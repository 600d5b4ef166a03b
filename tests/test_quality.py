"""Link quality: the score and its terms (crawler/intelligence/quality.py), network
diversity (network.py), the linking page's language and address (crawler/language.py,
both stores, old SQLite files), and the commands over them on both stores:
backlinks --sort quality / --placement / --follow / --min-quality, explain,
refdomains with ip, subnet, sitewide and toxic, --by subnet, and the report."""

from __future__ import annotations

import sqlite3

import orjson
import pytest

from crawler.cli.app import main
from crawler.extraction import extract_links
from crawler.intelligence.network import diversity, group_by_subnet, subnet
from crawler.intelligence.quality import DomainFacts, QualityModel
from crawler.language import detect, language_tag, page_language
from tests.test_store_contract import FEB, MYSITE, SCHEMA_0_2, page


def edge(**fields):
    base = {
        "source_url": "http://a.test/1",
        "source_domain": "a.test",
        "target_url": "http://mysite.test/",
        "anchor": "a fine review",
        "alt": "",
        "rel": [],
        "nofollow": False,
        "link_type": "a",
        "placement": "content",
    }
    return {**base, **fields}


def model(**facts):
    return QualityModel(
        {"a.test": DomainFacts(**facts)},
        lambda e: "generic" if e["anchor"] == "click here" else "other",
    )


@pytest.mark.parametrize(
    ("facts", "fields", "expected"),
    [
        # unranked, followed, content, other anchor, not sitewide: 0 + 20 + 20 + 10 + 10
        ({}, {}, 60),
        ({"authority": 100.0}, {}, 100),
        ({"authority": 50.0}, {}, 80),
        ({"authority": 50.0}, {"nofollow": True, "rel": ["nofollow"]}, 60),
        ({"authority": 50.0}, {"rel": ["sponsored"]}, 70),  # followed, but a hint: half
        ({"authority": 50.0}, {"rel": ["ugc"]}, 70),
        ({"authority": 50.0}, {"rel": ["ugc", "nofollow"], "nofollow": True}, 60),
        ({"authority": 50.0}, {"nofollow": True}, 60),  # the page says nofollow
        ({"authority": 50.0}, {"placement": "footer"}, 64),
        ({"authority": 50.0}, {"placement": "sidebar"}, 68),
        ({"authority": 50.0}, {"placement": "nav"}, 66),
        ({"authority": 50.0}, {"placement": "header"}, 66),
        ({"authority": 50.0}, {"placement": "comment"}, 62),
        ({"authority": 50.0}, {"placement": ""}, 70),  # unknown: the middle, not a guess
        ({"authority": 50.0}, {"anchor": "click here"}, 74),
        ({"authority": 50.0}, {"link_type": "redirect", "anchor": ""}, 80),
        ({"authority": 50.0, "sitewide": True}, {}, 72),
        ({"authority": 50.0, "toxic": 50}, {}, 40),
        ({"authority": 50.0, "toxic": 100}, {}, 0),
    ],
)
def test_the_score_adds_its_terms(facts, fields, expected):
    assert model(**facts).score(edge(**fields)).score == expected


def test_explain_shows_every_term_and_they_add_up():
    quality = model(authority=25.0, toxic=20, sitewide=True).score(
        edge(placement="nav", anchor="click here")
    )
    rows = {row["term"]: row for row in quality.explain()}
    assert rows["authority"]["reads"] == "authority 25" and rows["authority"]["points"] == 10
    assert rows["follow"]["points"] == 20
    assert (rows["placement"]["reads"], rows["placement"]["points"]) == ("nav", 6)
    assert rows["anchor"]["reads"] == "generic: 'click here'" and rows["anchor"]["points"] == 4
    assert (rows["sitewide"]["points"], rows["sum"]["points"]) == (2, 42)
    assert rows["toxic"]["points"] == "x 0.80"
    assert rows["quality"]["points"] == quality.score == round(42 * 0.8)
    unranked = model().score(edge(placement=""))
    reads = {row["term"]: row["reads"] for row in unranked.explain()}
    assert reads["authority"].startswith("unranked") and reads["placement"].startswith("unknown")


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.9", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
        ("", None),
        (None, None),
        ("not an address", None),
    ],
)
def test_subnets(address, expected):
    assert subnet(address) == expected


def test_diversity_and_groups():
    addresses = {
        "a.test": "203.0.113.1",
        "b.test": "203.0.113.2",
        "c.test": "203.0.113.2",
        "d.test": "198.51.100.1",
        "e.test": None,
    }
    assert diversity(addresses) == {
        "refdomains": 5,
        "ips": 3,
        "subnets": 2,
        "ip_subnet_ratio": 1.5,
        "unknown": 1,
    }
    rows = [
        {"source_domain": d, "ip": ip, "subnet": subnet(ip), "edges": 2}
        for d, ip in addresses.items()
    ]
    groups = group_by_subnet(rows)
    assert [(g["subnet"], g["refdomains"], g["ips"], g["edges"], g["domains"]) for g in groups] == [
        ("203.0.113.0/24", 3, 2, 6, "a.test b.test c.test"),
        ("198.51.100.0/24", 1, 1, 2, "d.test"),
        (None, 1, 0, 2, "e.test"),
    ]
    assert diversity({})["ip_subnet_ratio"] is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en", "en"),
        (" EN-gb ", "en-gb"),
        ("pt_BR", "pt-br"),
        ("zh-Hant-TW", "zh-hant-tw"),
        ("{{ lang }}", None),
        ("", None),
        (None, None),
        ("english", None),
        ("x", None),  # a private-use prefix alone is no language
        ("x-klingon", "x-klingon"),
    ],
)
def test_language_tags(value, expected):
    assert language_tag(value) == expected


def test_the_page_says_first_then_the_header_then_detection():
    french = "Ceci est une phrase en français, assez longue pour que le détecteur la reconnaisse."
    assert page_language("de", "fr", lambda: french) == "de"
    assert page_language(None, "fr-CA, en", lambda: "") == "fr-ca"
    assert page_language("{{ x }}", None, None) is None  # detection off: unknown
    assert page_language(None, None, lambda: french) == "fr"
    assert detect("Dies ist ein deutscher Satz, lang genug, um erkannt zu werden.") == "de"
    assert detect("") is None and detect("  ") is None


def test_extraction_reads_the_declared_language_and_the_first_text():
    body = (
        b"<html lang=nl><head><style>p{}</style></head><body><script>var x = 1</script>"
        b"<p>Dit is een <b>Nederlandse</b> zin.</p><p>" + b"woord " * 200 + b"</p></body></html>"
    )
    page = extract_links(body, "http://a.test/")
    assert page.lang == "nl"
    text = page.text(40)
    assert text.startswith("Dit is een Nederlandse") and len(text) == 40 and "var" not in text
    assert extract_links(b"<p>x</p>", "http://a.test/").lang is None


def _store_args(store, request):
    if hasattr(store, "path"):
        return ["--db", store.path]
    return ["--mongo-uri", request.getfixturevalue("mongo_uri"), "--mongo-database", store.db.name]


def test_both_stores_keep_the_language_and_address_of_linking_pages(store):
    first = page("http://a.test/1", [("http://mysite.test/x", {})])
    first.update(lang="de", ip="203.0.113.1")
    second = page("http://a.test/2", [("http://mysite.test/y", {})], at=FEB)
    second.update(lang=None, ip="203.0.113.2")
    other = page("http://b.test/1", [("http://mysite.test/x", {})])  # no lang, no ip
    store.write_pages([first, second, other])
    facts = store.page_facts(["http://a.test/1", "http://a.test/2", "http://b.test/1", "http://x/"])
    assert facts == {
        "http://a.test/1": {"lang": "de", "ip": "203.0.113.1"},
        "http://a.test/2": {"lang": None, "ip": "203.0.113.2"},
        "http://b.test/1": {"lang": None, "ip": None},
    }
    # The latest page with an address speaks for its domain.
    assert store.domain_addresses(["a.test", "b.test", "c.test"]) == {"a.test": "203.0.113.2"}


def test_an_old_sqlite_database_reads_lang_and_ip_as_unknown(tmp_path):
    from pipelines.stores.sqlite import SQLiteStore

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_0_2)
    db.close()
    with SQLiteStore(path, readonly=True) as old:  # not migrated
        assert old.page_facts(["http://a.test/1"]) == {
            "http://a.test/1": {"lang": None, "ip": None}
        }
        assert old.domain_addresses(["a.test"]) == {}
    with SQLiteStore(path) as migrated:
        fresh = page("http://b.test/1", [("http://mysite.test/x", {})])
        fresh.update(lang="en", ip="198.51.100.4")
        migrated.write_pages([fresh])
        assert migrated.page_facts(["http://a.test/1", "http://b.test/1"]) == {
            "http://a.test/1": {"lang": None, "ip": None},
            "http://b.test/1": {"lang": "en", "ip": "198.51.100.4"},
        }
        [old_edge] = migrated.backlinks(MYSITE, placement="unknown")
        assert old_edge["anchor"] == "old"


def _profile(store):
    """a.test: authority 80, one content link and one nofollow footer link;
    s.test: links from all of its 5 pages (sitewide), from the sidebar;
    c.test: unranked, a generic anchor, on another subnet."""
    pages = [
        page(
            "http://a.test/1",
            [
                (
                    "http://mysite.test/x",
                    {"anchor": "a fine review", "context": "read a fine review"},
                ),
                (
                    "http://mysite.test/y",
                    {
                        "anchor": "MySite",
                        "placement": "footer",
                        "nofollow": True,
                        "rel": ["nofollow"],
                    },
                ),
            ],
        ),
        page("http://c.test/1", [("http://mysite.test/x", {"anchor": "click here"})]),
    ]
    pages += [
        page(
            f"http://s.test/{i}",
            [("http://mysite.test/", {"anchor": "tools", "placement": "sidebar"})],
        )
        for i in range(5)
    ]
    for item in pages:
        domain = item["domain"]
        item["ip"] = {"a.test": "203.0.113.1", "s.test": "203.0.113.7", "c.test": "198.51.100.1"}[
            domain
        ]
    store.write_pages(pages)
    store.write_authority(
        [{"domain": "a.test", "pagerank": 80.0, "harmonic": 50.0, "pagerank_raw": 0.1,
          "harmonic_raw": 1.0}],
        "2026-02-01T00:00:00Z",
    )  # fmt: skip


def _json(out):
    return [orjson.loads(line) for line in out.splitlines()]


def test_backlinks_quality_sort_and_filters(store, request, capsys):
    _profile(store)
    args = ["backlinks", "mysite.test", "--format", "json", *_store_args(store, request)]
    assert main([*args, "--sort", "quality"]) == 0
    rows = _json(capsys.readouterr().out)
    scores = [(row["source_url"], row["target_url"], row["quality"]) for row in rows]
    # a.test/1 -> x: 32 authority + 20 + 20 + 10 + 10; c.test: 0 + 20 + 20 + 4 + 10;
    # s.test pages: 0 + 20 + 8 + 10 + 2 (sitewide_links, its only toxic rule, counts
    # in the sitewide term only);
    # a.test/1 -> y: 32 + 0 + 4 + 10 (brand) + 10.
    assert scores[:2] == [("http://a.test/1", "http://mysite.test/x", 92),
                          ("http://a.test/1", "http://mysite.test/y", 56)]  # fmt: skip
    assert scores[2] == ("http://c.test/1", "http://mysite.test/x", 54)
    assert [q for _, _, q in scores[3:]] == [40] * 5
    assert rows[0]["placement"] == "content" and rows[0]["context"] == "read a fine review"

    assert main([*args, "--placement", "footer"]) == 0
    assert [r["target_url"] for r in _json(capsys.readouterr().out)] == ["http://mysite.test/y"]
    assert main([*args, "--follow"]) == 0
    assert all(not r["nofollow"] for r in _json(capsys.readouterr().out))
    assert main([*args, "--min-quality", "55"]) == 0
    assert sorted(r["quality"] for r in _json(capsys.readouterr().out)) == [56, 92]
    assert main([*args, "--placement", "sidebar", "--sort", "authority", "--limit", "2"]) == 0
    assert len(_json(capsys.readouterr().out)) == 2
    assert main([*args, "--placement", "unknown"]) == 0
    assert capsys.readouterr().out == ""


def test_explain_prints_the_terms_of_one_link(store, request, capsys):
    _profile(store)
    options = _store_args(store, request)
    assert (
        main(["explain", "http://s.test/3", "http://mysite.test/", "--format", "json", *options])
        == 0
    )
    record = orjson.loads(capsys.readouterr().out)
    terms = {row["term"]: row for row in record["terms"]}
    assert terms["sitewide"]["points"] == 2 and terms["placement"]["reads"] == "sidebar"
    assert terms["toxic"]["reads"] == "toxic score 0 (without sitewide_links)"
    assert record["quality"] == 40 and record["source_ip"] == "203.0.113.7"
    assert main(["explain", "http://a.test/1", "http://MySite.test/x#top", *options]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "authority 80" in next(line for line in lines if line.startswith("authority "))
    assert next(line for line in lines if line.startswith("quality ")).split()[1] == "92"
    assert main(["explain", "http://a.test/9", "http://mysite.test/x", *options]) == 1
    assert "no link from http://a.test/9" in capsys.readouterr().err
    assert main(["explain", "mailto:x@y", "http://mysite.test/x", *options]) == 2
    capsys.readouterr()
    args = ["explain", "http://a.test/1", "http://mysite.test/x", "--target", "other.test"]
    assert main([*args, *options]) == 2
    assert "--target other.test does not cover" in capsys.readouterr().err


def test_a_host_target_scores_as_backlinks_lists_it(store, request, capsys):
    # c.test's footer links to www.mysite.test from all its pages: sitewide for
    # mysite.test, not for blog.mysite.test, which it links once from the text.
    pages = [
        page(f"http://c.test/p{i}", [("http://www.mysite.test/", {"placement": "footer"})])
        for i in range(5)
    ]
    pages[0]["edges"] += page("http://c.test/p0", [("http://blog.mysite.test/q", {})])["edges"]
    store.write_pages(pages)
    options = _store_args(store, request)
    assert main(["backlinks", "blog.mysite.test", "--format", "json", *options]) == 0
    [row] = _json(capsys.readouterr().out)
    explained = ["explain", "http://c.test/p0", "http://blog.mysite.test/q", "--format", "json"]
    assert main([*explained, "--target", "blog.mysite.test", *options]) == 0
    record = orjson.loads(capsys.readouterr().out)
    assert record["quality"] == row["quality"] == 60  # not sitewide for the host
    assert main([*explained, *options]) == 0  # for the domain: sitewide
    assert orjson.loads(capsys.readouterr().out)["quality"] == 52


def test_a_domain_whose_links_are_all_lost_keeps_its_authority(store, request, capsys):
    _profile(store)
    store.write_pages([page("http://c.test/1", [], at=FEB)])  # c.test's link is gone
    store.write_authority(
        [{"domain": "c.test", "pagerank": 50.0, "harmonic": 1.0, "pagerank_raw": 0.1,
          "harmonic_raw": 1.0}],
        "2026-02-02T00:00:00Z",
    )  # fmt: skip
    options = _store_args(store, request)
    assert main(["backlinks", "mysite.test", "--lost", "--format", "json", *options]) == 0
    [lost] = _json(capsys.readouterr().out)
    assert (lost["authority"], lost["quality"]) == (50.0, 20 + 20 + 20 + 4 + 10)
    assert main(["explain", "http://c.test/1", "http://mysite.test/x", *options]) == 0
    assert "authority 50" in capsys.readouterr().out


def test_refdomains_network_columns_and_subnets(store, request, capsys):
    _profile(store)
    args = ["refdomains", "mysite.test", *_store_args(store, request)]
    assert main([*args, "--format", "json"]) == 0
    rows = {row["source_domain"]: row for row in _json(capsys.readouterr().out)}
    assert {d: (r["ip"], r["subnet"], r["sitewide"], r["toxic"]) for d, r in rows.items()} == {
        "a.test": ("203.0.113.1", "203.0.113.0/24", False, 0),
        "s.test": ("203.0.113.7", "203.0.113.0/24", True, 15),
        "c.test": ("198.51.100.1", "198.51.100.0/24", False, 0),
    }
    assert main([*args, "--by", "subnet", "--format", "json"]) == 0
    groups = [(g["subnet"], g["refdomains"], g["ips"]) for g in _json(capsys.readouterr().out)]
    assert groups == [("203.0.113.0/24", 2, 2), ("198.51.100.0/24", 1, 1)]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "3 referring domains, 3 IPs, 2 subnets (IPs per subnet: 1.5" in captured.err
    assert captured.out.splitlines()[-1].startswith("c.test")  # the table alone on stdout


def test_the_report_has_strongest_weakest_and_network(store, request, tmp_path, capsys):
    _profile(store)
    out = tmp_path / "report"
    assert main(["report", "mysite.test", "--out", str(out), *_store_args(store, request)]) == 0
    html = (out / "index.html").read_text()
    strongest = html.split("<h2>Strongest links</h2>")[1].split("<h2>Weakest links</h2>")[0]
    weakest = html.split("<h2>Weakest links</h2>")[1].split("<h2>Network diversity</h2>")[0]
    assert strongest.index("<td>92</td>") < strongest.index("<td>56</td>")
    # Eight links, fewer than twice 15: the four best above, the four worst below.
    assert [strongest.count(f"<td>{q}</td>") for q in (92, 56, 54, 40)] == [1, 1, 1, 1]
    assert weakest.count("<td>40</td>") == 4 and "<td>92</td>" not in weakest
    assert "3 referring domains served from 3 IP addresses in 2 subnets" in html


@pytest.mark.parametrize("command", ["backlinks", "toxic", "disavow", "refdomains", "report"])
def test_a_bad_sitewide_setting_is_a_usage_error(command, tmp_path, monkeypatch, capsys):
    from pipelines.stores.sqlite import SQLiteStore

    SQLiteStore(str(tmp_path / "lw.db")).close()
    monkeypatch.setenv("LINKWATCH_SITEWIDE_SHARE", "1.5")
    out = ["--out", str(tmp_path / "r")] if command == "report" else []
    assert main([command, "mysite.test", *out, "--db", str(tmp_path / "lw.db")]) == 2
    err = capsys.readouterr().err
    assert (
        "LINKWATCH_SITEWIDE_SHARE" in err and "Traceback" not in err and len(err.splitlines()) == 1
    )
