"""The discovery benchmark: its web (bench/discovery_web.py) and simulator (discovery_sim.py)."""

from __future__ import annotations

import asyncio
import json
import statistics

import pytest

from bench.discovery_sim import Simulator, contenders, render, simulate
from bench.discovery_web import PLATFORMS, DiscoveryWeb, DiscoveryWebServer
from crawler.discovery import ExpansionLimits
from crawler.gsc import parse_link_export


@pytest.fixture(scope="module")
def web() -> DiscoveryWeb:
    return DiscoveryWeb()


def test_the_web_is_deterministic(web):
    again = DiscoveryWeb()
    assert again.referring() == web.referring() and again.seeds == web.seeds
    assert {u: p.external for u, p in again.pages.items()} == {
        u: p.external for u, p in web.pages.items()
    }
    assert DiscoveryWeb(seed=18).referring() != web.referring()


def test_the_web_has_several_hundred_sites_and_a_niche(web):
    assert 300 <= len(web.sites) <= 600
    refs = set(web.referring())
    assert 30 <= len(refs) <= 80 and set(web.seeds) <= refs

    def share_to_referring(sources: set[str]) -> float:
        links = [
            web.pages[u].site in refs
            for p in web.pages.values()
            if p.site in sources
            for u, _ in p.external
        ]
        return sum(links) / len(links)

    members = {s.domain for s in web.sites.values() if s.kind == "member"}
    # Referring sites link to each other far more than the other sites link to them.
    assert share_to_referring(refs) > 2 * share_to_referring(members - refs)
    for platform in PLATFORMS:
        assert f"{platform}.test" not in refs


def test_every_referring_site_links_to_the_watched_domain_from_a_fetchable_page(web):
    for domain in web.referring():
        site = web.sites[domain]
        linking = [p for p in web.pages_of(site) if p.watched]
        assert linking and all(web.allows(p.url) for p in linking)
        assert all(
            t.split("/")[2].removeprefix("www.") == "mysite.test" for t in linking[0].watched
        )


def test_robots_txt_on_every_host_and_disallowed_pages_exist(web):
    responses = web.responses()
    assert all((s.host, "/robots.txt") in responses for s in web.sites.values())
    forbidding = [s for s in web.sites.values() if s.disallow == "/"]
    assert len(forbidding) == 1
    assert any(not web.allows(u) for u in web.pages if "/private/" in u)


def test_truth_files(web, tmp_path):
    web.write(tmp_path)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert sorted(truth["referring"]) == web.referring()
    assert truth["seeds"] == web.seeds
    assert all(info["hops"] is not None for info in truth["referring"].values())
    export = parse_link_export((tmp_path / "gsc-top-linking-sites.csv").read_text())
    assert export.referring == web.seeds and export.problems == []
    assert (tmp_path / "watch.txt").read_text() == "mysite.test\n"


def test_the_server_answers_in_proxy_form(web):
    async def fetch() -> list[bytes]:
        server = DiscoveryWebServer(web)
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            host = web.sites[web.seeds[0]].host
            answers = []
            for path in ("/robots.txt", "/", "/nothing-here"):
                writer.write(f"GET http://{host}{path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                answers.append(head + await reader.readexactly(length))
            writer.close()
            return answers
        finally:
            await server.close()

    robots, home, missing = asyncio.run(fetch())
    assert robots.startswith(b"HTTP/1.1 200") and b"User-agent: *" in robots
    assert home.startswith(b"HTTP/1.1 200") and b"<a href" in home
    assert missing.startswith(b"HTTP/1.1 404")


def test_simulated_crawls_respect_the_budget_and_robots(web):
    sim = Simulator(web)
    limits = ExpansionLimits(hops=2, depth=1, pages=50)
    run = sim.run("focused", budget=500, limits=limits)
    assert run.pages == 500 and run.curve == sorted(run.curve)
    assert run.at(500) <= len(sim.truth)


def test_focused_beats_bfs_in_simulation():
    result = simulate([17, 18, 19], domains=400, hops=2, active=8, budgets=[20, 40])
    rows = result["rows"]
    assert rows["focused (default weights)"][20] >= 1.5 * rows["bfs"][20]
    assert rows["focused (default weights)"][40] >= 0.8 * result["truth"]
    assert "| bfs |" in render(result)
    assert len(rows) == len(contenders(("bike",)))
    assert statistics.mean(rows["bfs"].values()) > 0


def test_the_benchmark_reads_its_yield_curve_and_politeness_from_the_access_log(web):
    from bench.discovery import curve, politeness

    refs = [d for d in web.referring() if d not in web.seeds][:2]
    edge = {p.url: p.site for d in refs for p in web.pages_of(web.sites[d]) if p.watched}
    first, second = sorted(edge, key=edge.get)[0], sorted(edge, key=edge.get)[-1]
    plain = next(u for u in web.pages if u not in edge and web.allows(u))
    forbidden = next(u for u in web.pages if not web.allows(u))

    def entry(url: str, end: float, path: str | None = None) -> dict:
        host = url.split("/")[2]
        return {"url": url, "host": host, "path": path or "/" + url.split("/", 3)[3],
                "status": 200, "start": end - 0.01, "end": end}  # fmt: skip

    log = [entry(plain, 1), entry(first, 2), entry(plain, 3), entry(second, 4)]
    counts, found = curve(log, edge, [1, 2, 4])
    assert counts == [0, 1, 2] and found == {edge[first], edge[second]}
    robots = "http://" + plain.split("/")[2] + "/robots.txt"
    log += [entry(forbidden, 5), entry("http://mysite.test/", 6), entry(robots, 0.5)]
    checks = politeness(log, web)
    assert checks["disallowed_fetched"] == 1 and checks["watched_requests"] == 1
    assert checks["fetched_twice"] == 1 and checks["robots_max"] == 1
