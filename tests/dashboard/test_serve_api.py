"""`linkwatch serve`'s JSON API over both stores, on a real crawl of the
fixture web (version 1, then 2: live, lost and new edges), ranked.

The answers are checked against the store's own queries (what the CLI
prints) and the fixture's hand-written expectations: filters, paging, sorts,
exports; then what must be refused: bad parameters (400 with a message, never
a 500, never an injected SQL or Mongo operator), requests without the token
(401) or with a wrong one (403), and any method but GET and HEAD (405).
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from urllib.parse import urlencode

import orjson
import pytest

from crawler.dashboard import export, security
from crawler.items import EDGE_FIELDS
from crawler.testing.fixtureweb.profiles import FARM_DOMAIN, GAP
from pipelines.stores import Target, open_store
from tests.support.browser import MYSITE, DashboardServer
from tests.support.crawling import ROOT

pytestmark = pytest.mark.e2e

TOKEN = "s3cret-token-for-the-tests-0123456789"


@pytest.fixture(scope="module")
def every_edge(store):
    """Every edge into MYSITE, live or lost, as the CLI reads them."""
    return list(store.backlinks(Target.parse(MYSITE), state="all"))


def api(server, path, **params):
    status, _headers, body = server.get(f"{path}?{urlencode(params)}" if params else path)
    assert status == 200, (path, params, status, body[:500])
    return orjson.loads(body)


def all_rows(server, path, **params):
    """Every row of a paged endpoint, page after page (7 a page: many pages)."""
    rows, page = [], 1
    while True:
        answer = api(server, path, page=page, per_page=7, **params)
        assert len(answer["rows"]) <= 7
        rows += answer["rows"]
        if not answer["has_more"]:
            return rows
        page += 1


def keys(rows):
    return [(row["source_url"], row["target_url"]) for row in rows]


# --- the backlinks table ----------------------------------------------------------------------


def test_backlinks_pages_through_every_live_edge_in_the_cli_order(server, store):
    expected = list(store.backlinks(Target.parse(MYSITE)))
    assert len(expected) > 50  # several pages of 7
    rows = all_rows(server, "/api/backlinks", domain=MYSITE)
    assert keys(rows) == keys(expected)
    # The CLI's --format json field names, and the referring domain's authority.
    assert set(EDGE_FIELDS) | {"authority"} <= set(rows[0])
    assert any(row["authority"] is not None for row in rows)


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"state": "lost"}, lambda e: e["lost_at"] is not None),
        ({"state": "all"}, lambda e: True),
        ({"follow": "nofollow", "state": "all"}, lambda e: e["nofollow"]),
        ({"follow": "followed"}, lambda e: e["lost_at"] is None and not e["nofollow"]),
        ({"link_type": "redirect", "state": "all"}, lambda e: e["link_type"] == "redirect"),
        (
            {"source_domain": FARM_DOMAIN},
            lambda e: e["lost_at"] is None and e["source_domain"] == FARM_DOMAIN,
        ),
        ({"q": "VIAGRA", "state": "all"}, lambda e: "viagra" in e["anchor"].lower()),
        (
            {"q": "alpha.test/", "state": "all"},
            lambda e: "alpha.test/" in e["source_url"] or "alpha.test/" in e["target_url"],
        ),
        ({"since": "2000-01-01"}, lambda e: e["lost_at"] is None),
        ({"since": "2999-01-01"}, lambda e: False),
    ],
)
def test_each_filter_selects_what_the_store_holds(server, every_edge, params, keep):
    expected = sorted(keys(e for e in every_edge if keep(e)))
    rows = all_rows(server, "/api/backlinks", domain=MYSITE, **params)
    assert sorted(keys(rows)) == expected
    assert len(set(keys(rows))) == len(rows)  # no edge twice across pages
    if params.get("q") == "VIAGRA":
        assert expected and {e["source_domain"] for e in rows} == {FARM_DOMAIN}


def test_the_placement_filter_selects_what_the_store_holds(server, every_edge):
    for placement in ("content", "nav", "footer"):
        rows = all_rows(server, "/api/backlinks", domain=MYSITE, placement=placement, state="all")
        expected = [e for e in every_edge if e["placement"] == placement]
        assert sorted(keys(rows)) == sorted(keys(expected)), placement


def cli_rows(location, *args):
    """`linkwatch backlinks MYSITE ARGS --format json`, as a user runs it."""
    env = {**os.environ, **location.env()}
    run = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "backlinks", MYSITE, *args, "--format", "json"],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
    )  # fmt: skip
    return [orjson.loads(line) for line in run.stdout.splitlines()]


def test_every_row_has_the_quality_the_cli_gives_it(server, location):
    shown = {
        (r["source_url"], r["target_url"]): r["quality"]
        for r in all_rows(server, "/api/backlinks", domain=MYSITE, state="all")
    }
    cli = {(r["source_url"], r["target_url"]): r["quality"] for r in cli_rows(location, "--all")}
    assert shown == cli and len(set(cli.values())) > 3


def test_the_quality_sort_pages_best_first_under_filters(server, location):
    rows = all_rows(server, "/api/backlinks", domain=MYSITE, sort="quality")
    assert [r["quality"] for r in rows] == sorted((r["quality"] for r in rows), reverse=True)
    cli = cli_rows(location, "--sort", "quality")
    assert sorted(keys(rows)) == sorted(keys(cli))
    assert [r["quality"] for r in rows] == [r["quality"] for r in cli]
    followed = all_rows(server, "/api/backlinks", domain=MYSITE, sort="quality", follow="nofollow")
    assert followed and all(r["nofollow"] for r in followed)
    assert sorted(keys(followed)) == sorted(keys(r for r in rows if r["nofollow"]))


@pytest.mark.parametrize(
    ("sort", "field"), [("first_seen", "first_seen"), ("last_seen", "last_seen")]
)
def test_date_sorts_are_newest_first(server, every_edge, sort, field):
    rows = all_rows(server, "/api/backlinks", domain=MYSITE, sort=sort, state="all")
    assert sorted(keys(rows)) == sorted(keys(every_edge))
    assert [r[field] for r in rows] == sorted((r[field] for r in rows), reverse=True)


def test_authority_sort_is_strongest_domain_first_unranked_last(server, store):
    rows = all_rows(server, "/api/backlinks", domain=MYSITE, sort="authority")
    assert sorted(keys(rows)) == sorted(keys(store.backlinks(Target.parse(MYSITE))))
    ranks = [-1 if r["authority"] is None else r["authority"] for r in rows]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] > 0
    cli = list(store.backlinks_by_authority(Target.parse(MYSITE)))
    assert [r["source_domain"] for r in rows] == [r["source_domain"] for r in cli]


def test_a_page_past_the_end_is_empty(server):
    answer = api(server, "/api/backlinks", domain=MYSITE, page=999, per_page=100)
    assert answer["rows"] == [] and answer["has_more"] is False


# --- exports ----------------------------------------------------------------------------------


def test_exports_stream_the_filtered_view_as_csv_and_json_lines(server, every_edge):
    nofollow = sorted(keys(e for e in every_edge if e["nofollow"]))
    query = f"domain={MYSITE}&state=all&follow=nofollow"
    status, headers, body = server.get(f"/api/backlinks/export?{query}&format=csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "attachment" in headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(body.decode())))
    assert tuple(table[0]) == export.COLUMNS
    assert sorted(keys(table)) == nofollow
    assert {row["nofollow"] for row in table} == {"true"}
    status, headers, body = server.get(f"/api/backlinks/export?{query}&format=jsonl")
    assert status == 200 and headers["content-type"] == "application/x-ndjson"
    lines = [orjson.loads(line) for line in body.splitlines()]
    assert sorted(keys(lines)) == nofollow
    assert set(EDGE_FIELDS) <= set(lines[0])


def test_an_export_larger_than_one_chunk_has_every_edge_once(server, every_edge, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_CHUNK", 9)
    status, _, body = server.get(f"/api/backlinks/export?domain={MYSITE}&state=all&format=jsonl")
    assert status == 200
    assert sorted(keys(orjson.loads(line) for line in body.splitlines())) == sorted(
        keys(every_edge)
    )


# --- the other views ---------------------------------------------------------------------------


def test_refdomains_are_the_clis_with_toxic_scores(server, store):
    rows = all_rows(server, "/api/refdomains", domain=MYSITE)
    cli = list(store.refdomains(Target.parse(MYSITE)))
    assert [(r["source_domain"], r["edges"], r["dofollow"]) for r in rows] == [
        (r["source_domain"], r["edges"], r["dofollow"]) for r in cli
    ]
    farm = next(r for r in rows if r["source_domain"] == FARM_DOMAIN)
    assert farm["toxic"] >= 50 and farm["sitewide"] is True
    assert {"subnet", "ip", "sitewide", "authority"} <= set(farm)
    by_authority = api(server, "/api/refdomains", domain=MYSITE, sort="authority")["rows"]
    ranks = [-1 if r["authority"] is None else r["authority"] for r in by_authority]
    assert ranks == sorted(ranks, reverse=True)


def test_toxic_review_shows_each_flag_with_its_evidence(server):
    rows = api(server, "/api/toxic", domain=MYSITE)["rows"]
    farm = next(r for r in rows if r["source_domain"] == FARM_DOMAIN)
    flags = {flag["rule"]: flag for flag in farm["flags"]}
    assert {"outlinks_per_page", "sitewide_links", "commercial_anchors"} <= set(flags)
    assert "viagra" in flags["commercial_anchors"]["evidence"]
    assert all(flag["weight"] > 0 and flag["evidence"] for flag in farm["flags"])
    assert all(
        r["score"] >= 60 for r in api(server, "/api/toxic", domain=MYSITE, min_score=60)["rows"]
    )


def test_anchors_have_classes_and_shares(server):
    answer = api(server, "/api/anchors", domain=MYSITE, per_page=500)
    assert {"anchor", "alt", "class", "edges", "refdomains"} <= set(answer["rows"][0])
    assert abs(sum(c["share"] for c in answer["classes"]) - 1) < 1e-6
    assert answer["total"] == len(answer["rows"])


def test_lost_links_come_with_their_reasons(server, every_edge):
    answer = api(server, "/api/lost", domain=MYSITE, since="2000-01-01", per_page=500)
    lost = [e for e in every_edge if e["lost_at"] is not None]
    assert lost and sorted(keys(answer["rows"])) == sorted(keys(lost))
    assert sum(answer["reasons"].values()) == len(lost)
    assert set(answer["reasons"]) <= {"link_removed", "page_gone", "redirected", "became_nofollow"}


def test_broken_lists_the_checked_404(server):
    answer = api(server, "/api/broken", domain=MYSITE)
    assert answer["checked"] == 1
    assert [row["status"] for row in answer["rows"]] == [404]


def test_gap_is_the_fixtures(server):
    answer = api(server, "/api/gap", domain=MYSITE, vs="acme.test,globex.test,initech.test")
    assert [r["source_domain"] for r in answer["rows"]] == GAP[2]
    answer = api(server, "/api/gap", domain=MYSITE, vs="acme.test,globex.test,initech.test", min=3)
    assert [r["source_domain"] for r in answer["rows"]] == GAP[3]


def test_overview_cards_and_series_agree_with_the_store(server, store, every_edge):
    answer = api(server, "/api/overview", domain=MYSITE)
    live = [e for e in every_edge if e["lost_at"] is None]
    cards = answer["cards"]
    assert cards["backlinks"] == len(live)
    assert cards["refdomains"] == len(list(store.refdomains(Target.parse(MYSITE))))
    assert cards["followed_share"] == round(sum(not e["nofollow"] for e in live) / len(live), 4)
    assert cards["lost_30_days"] == len(every_edge) - len(live)
    assert cards["toxic_domains"] >= 1
    days = answer["charts"]["days"]
    assert sum(days["new"]) == len(every_edge)
    assert days["refdomains"][-1] == cards["refdomains"]
    assert answer["charts"]["anchors"] and answer["crawl"] is None
    assert api(server, "/api/domains")["domains"] == store.watched_domains()


def test_the_api_index_lists_every_endpoint(server):
    answer = api(server, "/api/")
    assert {e["path"] for e in answer["endpoints"]} >= {"/api/backlinks", "/api/overview"}


# --- what is refused -----------------------------------------------------------------------------

BAD = [
    ("/api/backlinks", {"domain": MYSITE, "per_page": "0"}, "per_page"),
    ("/api/backlinks", {"domain": MYSITE, "per_page": "100000"}, "per_page"),
    ("/api/backlinks", {"domain": MYSITE, "page": "-1"}, "page"),
    ("/api/backlinks", {"domain": MYSITE, "page": "1e3"}, "page"),
    ("/api/backlinks", {"domain": MYSITE, "state": "$gt"}, "state"),
    ("/api/backlinks", {"domain": MYSITE, "follow[$gt]": ""}, "unknown parameter"),
    ("/api/backlinks", {"domain": MYSITE, "follow": '{"$ne": null}'}, "follow"),
    ("/api/backlinks", {"domain": MYSITE, "sort": "source_url; DROP TABLE edges"}, "sort"),
    ("/api/backlinks", {"domain": MYSITE, "since": "yesterday"}, "since"),
    ("/api/backlinks", {"domain": MYSITE, "since": "' OR 1=1 --"}, "since"),
    ("/api/backlinks", {"domain": "' OR 1=1 --"}, "domain"),
    ("/api/backlinks", {"domain": '{"$gt": ""}'}, "domain"),
    ("/api/backlinks", {"domain": MYSITE, "source_domain": "' OR '1'='1"}, "source_domain"),
    ("/api/backlinks", {"domain": MYSITE, "link_type": "a' OR 1=1"}, "link_type"),
    ("/api/backlinks", {"domain": MYSITE, "q": "x" * 201}, "q"),
    ("/api/backlinks", {"domain": MYSITE, "q": "a\x00b"}, "q"),
    ("/api/backlinks/export", {"domain": MYSITE, "format": "xml"}, "format"),
    ("/api/refdomains", {"domain": MYSITE, "sort": "edges DESC"}, "sort"),
    ("/api/toxic", {"domain": MYSITE, "min_score": "101"}, "min_score"),
    ("/api/gap", {"domain": MYSITE}, "vs"),
    ("/api/gap", {"domain": MYSITE, "vs": MYSITE}, "vs"),
    ("/api/gap", {"domain": MYSITE, "vs": "acme.test", "min": "2"}, "min"),
    ("/api/lost", {"domain": MYSITE, "since": "$where"}, "since"),
    ("/api/backlinks", {"domain": MYSITE, "since": "0001-01-01T00:00:00+01:00"}, "since"),
    ("/api/backlinks", {"domain": MYSITE, "since": "9999-12-31T23:59:59-01:00"}, "since"),
    ("/api/lost", {"domain": MYSITE, "since": "0999-01-01"}, "since"),
    ("/api/domains", {"x": "1"}, "unknown parameter"),
]


@pytest.mark.parametrize(("path", "params", "named"), BAD, ids=[f"{p}?{q}" for p, q, _ in BAD])
def test_a_bad_parameter_is_a_400_naming_it(server, path, params, named):
    status, _headers, body = server.get(f"{path}?{urlencode(params)}")
    assert status == 400, body[:300]
    message = orjson.loads(body)["error"]
    assert named in message and "\n" not in message


def test_a_bad_parameter_on_a_page_is_a_400_page(server):
    status, headers, body = server.get(f"/backlinks?domain={MYSITE}&sort=nonsense")
    assert status == 400 and headers["content-type"].startswith("text/html")
    assert b"sort: &#39;nonsense&#39; is not one of" in body


@pytest.mark.parametrize(
    "text", ["' OR 1=1 --", '{"$gt": ""}', ".*", "%", "_", "\\", "$where", "') UNION SELECT 1 --"]
)
def test_injection_attempts_in_the_text_search_match_literally(server, every_edge, text):
    rows = all_rows(server, "/api/backlinks", domain=MYSITE, q=text, state="all")
    needle = text.lower()
    expected = [
        e
        for e in every_edge
        if any(needle in e[f].lower() for f in ("anchor", "source_url", "target_url"))
    ]
    assert sorted(keys(rows)) == sorted(keys(expected))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/backlinks", "/api/backlinks/export", "/backlinks", "/"])
def test_only_reading_methods_are_answered(server, method, path):
    status, headers, body = server.get(f"{path}?domain={MYSITE}", method=method)
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert b"read-only" in body  # refused before any route: security.Guard


def test_no_route_accepts_a_writing_method(server):
    from starlette.routing import Route

    for route in server.app.routes:
        if isinstance(route, Route):
            assert route.methods <= {"GET", "HEAD"}, route.path


def test_the_store_is_opened_read_only(server, location):
    store = server.app.state.dashboard.pool.open()
    try:
        if location.kind == "sqlite":
            from pipelines.stores import StoreError

            with pytest.raises(StoreError, match="readonly"):
                store.add_keywords(MYSITE, ["written"])
    finally:
        store.close()


def test_a_foreign_host_header_is_refused_on_loopback(server):
    status, _, _ = server.get("/api/domains", headers={"Host": "evil.example:8765"})
    assert status == 403
    assert server.get("/api/domains", headers={"Host": "localhost"})[0] == 200


# --- the token ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(location):
    with DashboardServer(location.env(), token=TOKEN, loopback_only=False) as running:
        yield running


def test_without_the_token_401_with_a_wrong_one_403(guarded):
    path = f"/api/backlinks?domain={MYSITE}"
    assert guarded.get(path)[0] == 401
    assert guarded.get(path, {"Authorization": "Bearer wrong"})[0] == 403
    assert guarded.get(path, {"Authorization": f"Bearer {TOKEN}x"})[0] == 403
    assert guarded.get(path, {"Cookie": f"{security.COOKIE}=nope"})[0] == 403
    assert guarded.get(path, {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert guarded.get("/healthz")[0] == 200
    assert guarded.get("/static/dashboard.js")[0] == 401


def test_a_browser_signs_in_once_and_keeps_the_token_in_a_cookie(guarded):
    status, headers, _ = guarded.get(f"/backlinks?domain={MYSITE}&token={TOKEN}")
    assert status == 303
    assert headers["location"] == f"/backlinks?domain={MYSITE}"
    cookie = headers["set-cookie"].split(";")[0]
    assert "HttpOnly" in headers["set-cookie"] and "SameSite=Strict" in headers["set-cookie"]
    assert guarded.get(headers["location"], {"Cookie": cookie})[0] == 200
    assert guarded.get(f"/overview?token={TOKEN}z")[0] == 403
    # Back to this site, with every other parameter as it came.
    status, headers, _ = guarded.get(f"//evil.example/?token={TOKEN}&a=1&a=2&b=")
    assert status == 303 and headers["location"] == "/evil.example/?a=1&a=2&b="
    status, headers, _ = guarded.get(f"/%2F%2Fevil.example?token={TOKEN}")
    assert headers["location"] == "/%2F%2Fevil.example"


def test_linkwatch_serve_with_a_token_on_loopback_keeps_the_host_check(location, tmp_path):
    import socket
    import time
    import urllib.error
    import urllib.request

    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "crawler.cli", "serve", "--port", str(port)]
    env = {**os.environ, **location.env()}
    serving = subprocess.Popen(
        [*command, "--token-file", str(token_file)], env=env, cwd=ROOT, stderr=subprocess.DEVNULL
    )

    def status(headers):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/domains", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    try:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        deadline = time.monotonic() + 30
        while True:
            try:
                assert status(bearer) == 200
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline and serving.poll() is None
                time.sleep(0.2)
        assert status({**bearer, "Host": "evil.example"}) == 403
    finally:
        serving.terminate()
        serving.wait(10)


def test_the_export_follows_the_quality_sort_and_quotes_formulas(server, location):
    status, _, body = server.get(f"/api/backlinks/export?domain={MYSITE}&sort=quality&format=jsonl")
    assert status == 200
    rows = [orjson.loads(line) for line in body.splitlines()]
    cli = cli_rows(location, "--sort", "quality")
    assert [(r["source_url"], r["target_url"], r["quality"]) for r in rows] == [
        (r["source_url"], r["target_url"], r["quality"]) for r in cli
    ]
    status, _, body = server.get(f"/api/backlinks/export?domain={MYSITE}&sort=quality&format=csv")
    header = next(csv.reader(io.StringIO(body.decode())))
    assert status == 200 and header[-2:] == ["authority", "quality"]
    from crawler.cli.output import csv_cell

    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_cell("-5 reasons") == "'-5 reasons" and csv_cell("plain") == "plain"


def test_the_token_is_compared_in_constant_time(guarded, monkeypatch):
    compared = []
    real = security.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    guarded.get("/api/domains", {"Authorization": "Bearer guess"})
    guarded.get("/api/domains", {"Authorization": f"Bearer {TOKEN}"})
    assert compared == [(b"guess", TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]


# --- the command ---------------------------------------------------------------------------------


def linkwatch(*argv, env=None, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_misuse_is_one_line_and_exit_2(tmp_path, location):
    token = tmp_path / "token"
    token.write_text("short\n")
    store = location.cli_options()
    cases = [
        (["serve", "--port", "0", *store], "--port"),
        (["serve", "--port", "http", *store], "--port"),
        (["serve", "--host", "0.0.0.0", *store], "token"),
        (["serve", "--host", "192.0.2.1", *store], "token"),
        (["serve", "--token-file", str(tmp_path / "missing"), *store], "--token-file"),
        (["serve", "--token-file", str(token), *store], "--token-file"),
        (["serve", "--db", str(tmp_path / "none.db")], "no linkwatch database"),
        (["serve", "--store", "ftp://x"], "unknown scheme"),
    ]
    unset = ("MONGO_URI", "LINKWATCH_STORE", "LINKWATCH_SERVE_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    for argv, named in cases:
        result = linkwatch(*argv, env=env)
        assert result.returncode == 2, (argv, result.stderr)
        assert named in result.stderr and "Traceback" not in result.stderr, argv
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_help_teaches_with_examples():
    result = linkwatch("serve", "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--token-file /etc/linkwatch/token" in result.stdout


def test_a_store_uri_password_is_never_shown():
    result = linkwatch("serve", "--store", "mongodb://user:hunter2@127.0.0.1:1/", timeout=90)
    assert result.returncode != 0
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


# --- the shared crawl ------------------------------------------------------------------------


@pytest.mark.redis
def test_the_overview_shows_a_shared_crawls_status_from_redis(location, redis_url):
    import redis

    from crawler.frontier.keys import FrontierKeys
    from crawler.frontier.seeding import DEFAULT_SPIDER

    prefix = f"lwtest-serve-{os.getpid()}"
    keys = FrontierKeys.for_spider(prefix, DEFAULT_SPIDER)
    client = redis.Redis.from_url(redis_url)
    client.rpush(keys.start_urls, "http://a.test/", "http://b.test/")
    try:
        with DashboardServer(location.env(), redis_url=redis_url, redis_prefix=prefix) as running:
            crawl = api(running, "/api/overview", domain=MYSITE)["crawl"]
            assert crawl["seeds_waiting"] == 2 and crawl["queued"] == 0
            assert crawl["pages_per_s"] == 0 and crawl["workers"] == []
            assert api(running, "/api/status")["prefix"] == keys.prefix
    finally:
        client.delete(keys.start_urls)
        client.close()


def test_a_redis_that_does_not_answer_is_shown_without_its_password(location):
    down = "redis://:hunter2@127.0.0.1:1/0"
    with DashboardServer(location.env(), redis_url=down) as running:
        status, _, body = running.get("/api/status")
        assert status == 200 and b"hunter2" not in body
        assert orjson.loads(body)["error"]
        status, _, body = running.get(f"/overview?domain={MYSITE}")
        assert status == 200 and b"hunter2" not in body and b"127.0.0.1:1" in body


# --- query plans: a page is an indexed walk, never a sort of every match ------------------------


@pytest.fixture(scope="module")
def synthetic_sqlite(tmp_path_factory):
    """bench/dashboard.py's synthetic store, small, analysed: the plans SQLite
    picks with statistics that say one domain has most of the edges."""
    from bench.dashboard import build_sqlite

    path = tmp_path_factory.mktemp("plans") / "plans.db"
    build_sqlite(path, 20_000)
    with open_store({"LINKWATCH_DB": str(path)}, readonly=True, create=False) as opened:
        yield opened


PLANNED = [
    ("domain", {}),
    ("domain", {"state": "lost"}),
    ("domain", {"state": "all", "follow": False, "since": "2025-06-01T00:00:00Z"}),
    ("domain", {"text": "guide 7"}),
    ("first_seen", {}),
    ("first_seen", {"state": "all", "link_type": "a"}),
    ("last_seen", {"state": "lost"}),
    ("authority", {}),
    ("authority", {"placement": "nav", "follow": True}),
]


@pytest.mark.parametrize(("sort", "where"), PLANNED)
def test_every_page_query_walks_an_index_in_its_order(synthetic_sqlite, monkeypatch, sort, where):
    from pipelines.stores.base import EdgeFilter

    run = []
    real = synthetic_sqlite._edges

    def capture(sql, params, limit):
        run.append((sql, list(params)))
        return real(sql, params, limit)

    monkeypatch.setattr(synthetic_sqlite, "_edges", capture)
    rows = synthetic_sqlite.browse_edges(
        Target.parse("mysite.com"), EdgeFilter(**where), sort=sort, offset=0, limit=100
    )
    assert rows
    for sql, params in run:
        plan = [row[3] for row in synthetic_sqlite.db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
        # A temp B-tree for the whole ORDER BY sorts every match; one for its
        # right part only sorts within ties of the indexed key.
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
        assert not any(step.startswith("SCAN e") for step in plan), plan
        assert any("USING INDEX" in step or "USING COVERING INDEX" in step for step in plan), plan
