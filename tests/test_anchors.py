"""Anchor classes (crawler/intelligence/anchors.py), `linkwatch anchors` with
classes and shares, and `linkwatch keywords` over both stores."""

import orjson
import pytest

from crawler.cli.app import main
from crawler.intelligence.anchors import (
    EXACT_WARNING,
    GENERIC_BY_LANGUAGE,
    class_shares,
    classify,
    group_anchors,
    normalise,
    over_optimised,
    split_names,
)
from tests.test_store_contract import page

KEYWORDS = ("running shoes", "trail shoes")


@pytest.mark.parametrize(
    ("anchor", "alt", "expected"),
    [
        # empty and image: no text
        ("", "", "empty"),
        ("   ", "", "empty"),
        ("", "My Site logo", "image"),
        ("", "running shoes", "image"),
        # url: a naked URL or host, even one naming the domain
        ("https://my-site.com/shoes?x=1", "", "url"),
        ("www.my-site.com", "", "url"),
        ("my-site.com", "", "url"),
        ("HTTP://Other.example.org", "", "url"),
        ("shop.bücher.de/neu", "", "url"),
        ("blog.example.test", "", "other"),  # no public suffix, no scheme
        ("http://blog.example.test/", "", "url"),
        ("Node.js", "", "other"),
        ("ASP.NET", "", "url"),  # .net is a suffix: cannot be told from a host
        # brand: the domain's name as words, spaced, run together or hyphenated
        ("My Site", "", "brand"),
        ("MySite", "", "brand"),
        ("my-site running shoes", "", "brand"),  # brand beats the keyword
        ("Acme Corp", "", "brand"),  # a --brand name
        ("mysitesale", "", "other"),  # not whole words
        # exact and partial: the keywords, normalised
        ("Running Shoes", "", "exact"),
        ("  running   shoes! ", "", "exact"),
        ("RÜNNING shoes", "", "exact"),  # accents dropped
        ("shoes for running", "", "partial"),
        ("best trail shoes 2026", "", "partial"),
        ("click here for running shoes", "", "partial"),  # a keyword beats generic
        ("running", "", "other"),  # half a keyword
        # generic: stock phrases, the whole text, per language
        ("Click here", "", "generic"),
        ("Read more »", "", "generic"),
        ("website", "", "generic"),
        ("Hier klicken", "", "generic"),
        ("Weiterlesen", "", "generic"),
        ("En savoir plus", "", "generic"),
        ("Cliquez ici", "", "generic"),
        ("Leer más", "", "generic"),
        ("Haz clic aquí", "", "generic"),
        ("Clicca qui", "", "generic"),
        ("Leggi di più", "", "generic"),
        ("Saiba mais", "", "generic"),
        ("Clique aqui", "", "generic"),
        ("Lees meer", "", "generic"),
        ("Klik hier", "", "generic"),
        ("read more about trail", "", "other"),
        # other
        ("The best review of the year", "", "other"),
    ],
)
def test_classify(anchor, alt, expected):
    assert classify(anchor, alt, "my-site.com", ["Acme Corp"], KEYWORDS) == expected


def test_brand_of_a_multi_part_suffix_and_without_keywords():
    assert classify("Visit MySite", "", "mysite.co.uk") == "brand"
    assert classify("running shoes", "", "mysite.co.uk") == "other"


def test_every_generic_phrase_is_normalised_and_generic():
    for language, phrases in GENERIC_BY_LANGUAGE.items():
        for phrase in phrases:
            assert normalise(phrase) == phrase, (language, phrase)
            assert classify(phrase.title(), "", "zzz.test") == "generic", (language, phrase)


def test_split_names():
    assert split_names(["Acme, Acme Corp", " acme  corp ", ",", "Acme"]) == [
        "Acme",
        "Acme Corp",
        "acme corp",
    ]


def test_group_anchors_tells_image_links_by_alt():
    edges = [
        {"anchor": "shoes", "alt": "", "source_domain": "a.test"},
        {"anchor": "shoes", "alt": "ignored", "source_domain": "b.test"},
        {"anchor": "", "alt": "Logo", "source_domain": "a.test"},
        {"anchor": "", "alt": "Logo", "source_domain": "a.test"},
        {"anchor": "", "alt": "Banner", "source_domain": "c.test"},
        {"anchor": "", "alt": "", "source_domain": "c.test"},
    ]
    assert [(r["anchor"], r["alt"], r["edges"], r["refdomains"]) for r in group_anchors(edges)] == [
        ("", "Logo", 2, 1),
        ("shoes", "", 2, 2),
        ("", "", 1, 1),
        ("", "Banner", 1, 1),
    ]


def _rows(*pairs):
    return [{"class": name, "edges": edges} for name, edges in pairs]


def test_class_shares_and_the_warning():
    shares = class_shares(_rows(("brand", 5), ("exact", 1), ("brand", 3), ("other", 1)))
    assert shares == [
        {"class": "brand", "anchors": 2, "edges": 8, "share": 0.8},
        {"class": "exact", "anchors": 1, "edges": 1, "share": 0.1},
        {"class": "other", "anchors": 1, "edges": 1, "share": 0.1},
    ]
    assert EXACT_WARNING == 0.10
    assert not over_optimised(shares)  # exactly 10%: not over
    assert over_optimised(class_shares(_rows(("exact", 2), ("brand", 17))))  # 10.5%
    assert not over_optimised(class_shares(_rows(("brand", 3))))
    assert not over_optimised([])


# --- the commands, over both stores ---------------------------------------------------


def _store_args(store, request):
    if hasattr(store, "path"):
        return ["--db", store.path]
    return ["--mongo-uri", request.getfixturevalue("mongo_uri"), "--mongo-database", store.db.name]


def _write_profile(store):
    image = page("http://d.test/1", [("http://mysite.test/logo", {"anchor": ""})])
    image["edges"][0]["alt"] = "Logo"
    store.write_pages(
        [
            page(
                "http://a.test/1",
                [
                    ("http://mysite.test/x", {"anchor": "running shoes"}),
                    ("http://mysite.test/y", {"anchor": "MySite"}),
                ],
            ),
            page("http://b.test/1", [("http://mysite.test/x", {"anchor": "Running  shoes"})]),
            page("http://c.test/1", [("http://mysite.test/x", {"anchor": "Klicken Sie hier"})]),
            image,
        ]
    )


def _json(out):
    return [orjson.loads(line) for line in out.splitlines()]


def test_anchors_command_classes_and_warning(store, request, capsys):
    _write_profile(store)
    args = ["anchors", "mysite.test", *_store_args(store, request)]
    assert main([*args, "--format", "json", "--keywords", "running shoes"]) == 0
    captured = capsys.readouterr()
    rows = {
        (row["anchor"], row["alt"]): (row["class"], row["edges"]) for row in _json(captured.out)
    }
    assert rows == {
        ("running shoes", ""): ("exact", 1),
        ("Running  shoes", ""): ("exact", 1),
        ("MySite", ""): ("brand", 1),
        ("Klicken Sie hier", ""): ("generic", 1),
        ("", "Logo"): ("image", 1),
    }
    assert "warning: exact-match anchors carry 40%" in captured.err

    assert main([*args, "--classes", "--format", "csv", "--brand", "x,y", "--brand", "z"]) == 0
    captured = capsys.readouterr()
    # No keywords given or stored: nothing is exact, no warning.
    assert captured.out.splitlines() == [
        "class,anchors,edges,share",
        "other,2,2,0.4",
        "brand,1,1,0.2",
        "generic,1,1,0.2",
        "image,1,1,0.2",
    ]
    assert captured.err == ""

    assert main([*args, "--brand", "running"]) == 0  # a table, then the classes
    captured = capsys.readouterr()
    assert "class    anchors  edges  share" in captured.out
    assert "brand    3        3      0.6" in captured.out
    assert captured.err == ""


def test_keywords_command_and_anchors_reading_them(store, request, capsys):
    _write_profile(store)
    options = _store_args(store, request)
    assert main(["keywords", "mysite.test", "add", "Running Shoes", "a,b", *options]) == 0
    assert main(["keywords", "mysite.test", "add", "running  shoes", *options]) == 0
    assert main(["keywords", "other.test", "add", "elsewhere", *options]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "3 keywords added to mysite.test (3 in all)",
        "0 keywords added to mysite.test (3 in all)",
        "1 keywords added to other.test (1 in all)",
    ]
    assert main(["keywords", "mysite.test", "list", *options]) == 0
    assert capsys.readouterr().out.splitlines() == ["a", "b", "running shoes"]
    assert store.keywords("mysite.test") == ["a", "b", "running shoes"]

    assert main(["anchors", "mysite.test", "--classes", "--format", "json", *options]) == 0
    captured = capsys.readouterr()
    assert _json(captured.out)[0] == {"class": "exact", "anchors": 2, "edges": 2, "share": 0.4}
    assert "over-optimisation" in captured.err
    # --keywords replaces the stored ones.
    assert main(["anchors", "mysite.test", "--classes", "--keywords", "zzz", *options]) == 0
    assert "exact" not in capsys.readouterr().out

    assert main(["keywords", "mysite.test", "remove", "a", "nope", *options]) == 0
    assert capsys.readouterr().out == "1 keywords removed from mysite.test (2 left)\n"
    assert store.keywords("mysite.test") == ["b", "running shoes"]
    assert store.keywords("other.test") == ["elsewhere"]


def test_keywords_misuse(tmp_path, capsys):
    db = str(tmp_path / "none.db")
    assert main(["keywords", "mysite.test", "add", " , ", "--db", db]) == 2
    assert "no keyword given" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["keywords", "mysite.test", "--db", db])  # no action
    assert exited.value.code == 2
    assert main(["keywords", "mysite.test", "list", "--db", db]) == 1  # no store there
