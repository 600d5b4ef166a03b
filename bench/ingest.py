"""Benchmark 5, store ingest: edges/s through our store pipeline vs a naive
one-write-per-item pipeline, into SQLite and into FerretDB (MongoDB wire protocol).

Each run is its own process (`python -m bench.ingest worker ...`) with Twisted's
asyncio reactor, as in a crawl:

- ours: `pipelines.store.StorePipeline` with the default batch size and flush
  interval, offered page items (each with its edges) with up to two batches in
  flight, as Scrapy's scraper would while the writer thread commits; closed as
  soon as the last item is handed over, as at the end of a crawl; timed from the
  first item to every item committed.
- naive: a `process_item` that writes its one edge and commits before returning:
  SQLite, one `INSERT … ON CONFLICT DO UPDATE` (our schema and upsert) and a
  commit per edge; MongoDB, one `update_one(upsert=True)` per edge (our document
  shape and indexes). It keeps no page records and never marks edges lost, so
  it does less than ours. Run until all edges or a time limit, whichever first.

The edges are synthetic but shaped like a crawl's (20 per page, real-looking
URLs, anchors and titles); the databases start empty each run. FerretDB's own
CPU is reported beside. Target: ours ≥ 10x naive on both stores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

from bench.measure import PYTHON, CPUDelta, fmt_range, paired_ratios, run_measured
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict

TITLE = "5. Store ingest — store pipeline vs naive one-write-per-item pipeline"
WATCHED = ("mysite.com", "competitor.io", "example.org", "news.example.net", "shop.example")
FETCHED_AT = "2026-01-01T00:00:00Z"
WORKER_TIMEOUT = 180.0
CALIBRATION_PAGES = 25  # and a fifth of it: the marginal rate between the two


def make_pages(pages: int, edges_per_page: int) -> list[dict[str, Any]]:
    out = []
    for p in range(pages):
        domain = f"blog{p % 50}.example.test"
        url = f"https://{domain}/2025/{p % 12 + 1:02d}/post-{p}-on-backlinks.html"
        title = f"Post {p}: notes on links and the sites that make them"
        edges = []
        for j in range(edges_per_page):
            target_domain = WATCHED[(p + j) % len(WATCHED)]
            host = f"www.{target_domain}" if j % 3 else target_domain
            edges.append(
                {
                    "source_url": url,
                    "target_url": f"https://{host}/docs/section-{j}/page-{p * 31 + j}.html",
                    "source_domain": domain,
                    "target_domain": target_domain,
                    "target_host": host,
                    "anchor": f"read the guide {j} about {target_domain}",
                    "alt": "logo" if j % 9 == 0 else "",
                    "rel": ["nofollow"] if j % 7 == 0 else [],
                    "nofollow": j % 7 == 0,
                    "link_type": "a",
                    "placement": "nav" if j % 5 == 0 else "content",
                    "context": f"see also: read the guide {j} about {target_domain}, and more",
                    "source_title": title,
                    "source_status": 200,
                }
            )
        out.append(
            {
                "url": url,
                "status": 200,
                "title": title,
                "fetched_at": FETCHED_AT,
                "domain": domain,
                "outlinks": edges_per_page + 40,
                "edges": edges,
            }
        )
    return out


# --- the worker process ------------------------------------------------------------


async def run_ours(pages: list[dict[str, Any]], store_settings: dict[str, str]) -> dict:
    from pipelines.store import StorePipeline
    from pipelines.stores import open_store
    from settings.base import LINKWATCH_STORE_BATCH_SIZE, LINKWATCH_STORE_FLUSH_INTERVAL

    pipeline = StorePipeline(
        open_store=lambda: open_store(store_settings),
        batch_size=LINKWATCH_STORE_BATCH_SIZE,
        flush_interval=LINKWATCH_STORE_FLUSH_INTERVAL,
    )
    pipeline.open_spider()
    window = asyncio.Semaphore(2 * LINKWATCH_STORE_BATCH_SIZE)
    all_offered = asyncio.Event()
    offered = 0

    async def one(page: dict[str, Any]) -> None:
        nonlocal offered
        async with window:
            offered += 1
            if offered == len(pages):
                all_offered.set()
            await pipeline.process_item(page)  # hands the page over, then waits

    begin, cpu = time.perf_counter(), time.process_time()
    tasks = [asyncio.ensure_future(one(page)) for page in pages]
    # As at the end of a crawl: once the last page is handed over, closing
    # flushes the last partial batch without waiting out the flush interval.
    await all_offered.wait()
    await pipeline.close_spider()
    await asyncio.gather(*tasks)
    assert pipeline.writer is not None and pipeline.writer.failed is None
    return {
        "edges": pipeline.writer.written_edges,
        "seconds": time.perf_counter() - begin,
        "cpu": time.process_time() - cpu,
    }


class NaiveSQLitePipeline:
    """One upsert and one commit per edge item.

    Writes exactly the row our store writes (its schema, its upsert, its row
    builder), without the page records and lost-edge bookkeeping.
    """

    def __init__(self, path: str) -> None:
        import sqlite3

        from pipelines.stores.sqlite import SCHEMA, UPSERT_EDGE, SQLiteStore

        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.sql = UPSERT_EDGE
        self.row = SQLiteStore._edge_row

    def process_item(self, edge: dict[str, Any]) -> dict[str, Any]:
        self.db.execute(self.sql, self.row(edge, {}, FETCHED_AT))
        self.db.commit()
        return edge

    def close(self) -> None:
        self.db.close()


class NaiveMongoPipeline:
    """One write per edge item: the upsert our store makes for it, alone.

    The collection and its indexes are set up by our store (FerretDB needs
    them created its way); each item is then one `bulk_write([UpdateOne])`.
    """

    def __init__(self, uri: str, database: str) -> None:
        from pipelines.stores.mongo import MongoStore, edge_id, to_datetime

        self.store = MongoStore(uri, database)
        self.edges = self.store.db["edges"]
        self.upsert = MongoStore._upsert_edge
        self.edge_id = edge_id
        self.seen_at = to_datetime(FETCHED_AT)

    def process_item(self, edge: dict[str, Any]) -> dict[str, Any]:
        key = self.edge_id(edge["source_url"], edge["target_url"])
        self.edges.bulk_write([self.upsert(key, edge, None, self.seen_at)])
        return edge

    def close(self) -> None:
        self.store.close()


def run_naive(pages: list[dict[str, Any]], args: argparse.Namespace) -> dict:
    pipeline: Any = (
        NaiveSQLitePipeline(args.db)
        if args.store == "sqlite"
        else NaiveMongoPipeline(args.mongo_uri, args.database)
    )
    items = [edge for page in pages for edge in page["edges"]]
    begin, cpu = time.perf_counter(), time.process_time()
    deadline = begin + args.max_seconds
    written = 0
    for item in items:
        pipeline.process_item(item)
        written += 1
        if written % 50 == 0 and time.perf_counter() > deadline:
            break
    seconds = time.perf_counter() - begin
    pipeline.close()
    return {"edges": written, "seconds": seconds, "cpu": time.process_time() - cpu}


def worker(args: argparse.Namespace) -> int:
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet import reactor

    pages = make_pages(args.pages, args.edges_per_page)

    def store_settings(suffix: str = "") -> dict[str, str]:
        if args.store == "sqlite":
            return {"LINKWATCH_DB": args.db + suffix}
        from settings.base import LINKWATCH_MONGO_RECOUNT_INTERVAL

        # As in a crawl: counters recounted every so often and at the end
        # (the end is inside the timing: closing waits for the writer).
        return {
            "MONGO_URI": args.mongo_uri,
            "MONGO_DATABASE": args.database + suffix,
            "LINKWATCH_MONGO_RECOUNT_INTERVAL": LINKWATCH_MONGO_RECOUNT_INTERVAL,
        }

    outcome: dict[str, Any] = {}

    async def main() -> dict:
        if args.pipeline == "ours":
            return await run_ours(pages, store_settings())
        if args.pipeline == "naive":
            return run_naive(pages, args)
        # calibrate: the marginal rate between a small and a larger run (fresh
        # stores each), so fixed costs do not hide how fast the store really is
        small = await run_ours(pages[: len(pages) // 5], store_settings("_small"))
        large = await run_ours(pages, store_settings("_large"))
        return {key: max(large[key] - small[key], 1e-6) for key in ("edges", "seconds", "cpu")}

    def start() -> None:
        done = deferred_from_coro(main())
        done.addCallback(outcome.update)
        done.addErrback(lambda failure: outcome.update(error=failure.getTraceback()))
        done.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    Path(args.out).write_text(json.dumps(outcome))
    return 1 if "error" in outcome else 0


# --- the benchmark --------------------------------------------------------------------


def one_run(
    workdir: Path,
    store: str,
    side: str,
    tag: str,
    pages: int,
    plan: Plan,
    mongo: Any,
) -> dict[str, Any]:
    out = workdir / f"{tag}.json"
    database = f"bench_{tag.replace('-', '_')}"
    argv = [
        PYTHON,
        "-m",
        "bench.ingest",
        "worker",
        "--store",
        store,
        "--pipeline",
        side,
        "--pages",
        str(pages),
        "--edges-per-page",
        str(plan.ingest_edges_per_page),
        "--max-seconds",
        str(plan.ingest_naive_seconds),
        "--out",
        str(out),
        "--db",
        str(workdir / f"{tag}.db"),
        "--database",
        database,
    ]
    if mongo is not None:
        argv += ["--mongo-uri", mongo.url]
    with CPUDelta(mongo.pid if mongo is not None else None) as server_cpu:
        process = run_measured(argv, workdir / f"{tag}.log", timeout=WORKER_TIMEOUT)
    try:
        result = json.loads(out.read_text())
    except (OSError, ValueError):
        result = {"error": process.log_tail()}
    if mongo is not None:
        with mongo.client() as client:
            for name in client.list_database_names():
                if name.startswith(database):
                    client.drop_database(name)
    if "error" in result:
        lines = result["error"].strip().splitlines() or ["no output"]
        raise RuntimeError(f"ingest worker {tag} failed: {lines[-1]}")
    result["server_cpu"] = server_cpu.value
    result["rate"] = result["edges"] / result["seconds"]
    return result


def pages_for(plan: Plan, workdir: Path, store: str, mongo: Any) -> int:
    """How many pages our pipeline gets per run: all of plan.ingest_pages, unless
    the store is so slow (FerretDB upserts new documents one by one) that a run
    would take longer than ~1.5x the naive side's time limit."""
    probe = min(plan.ingest_pages, 10 if plan.quick else CALIBRATION_PAGES)
    result = one_run(workdir, store, "calibrate", f"{store}-calibrate", probe, plan, mongo)
    target_edges = result["rate"] * 1.5 * plan.ingest_naive_seconds
    pages = int(target_edges / plan.ingest_edges_per_page)
    return max(probe, min(plan.ingest_pages, pages))


def run(plan: Plan, workdir: Path) -> Section:
    from bench.servers import ServerUnavailable, bench_ferretdb

    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    section = Section(TITLE)
    table_rows: list[list[str]] = []
    stores: list[tuple[str, Any]] = [("sqlite", None)]
    try:
        stores.append(("mongo", bench_ferretdb(workdir)))
    except (ServerUnavailable, RuntimeError) as exc:
        section.not_measured("edges/s, ours ÷ naive, FerretDB", "≥ 10x", str(exc))
    try:
        for store, server in stores:
            name = "SQLite" if store == "sqlite" else "FerretDB (MongoDB protocol)"
            try:
                pages = pages_for(plan, workdir, store, server)
                results: dict[str, list[dict[str, Any]]] = {"ours": [], "naive": []}
                for i in range(plan.repeat):
                    for side in ("ours", "naive") if i % 2 == 0 else ("naive", "ours"):
                        tag = f"{store}-{side}-{i}"
                        result = one_run(workdir, store, side, tag, pages, plan, server)
                        results[side].append(result)
                        print(
                            f"  ingest {store:6} {side:5} #{i}: {result['edges']:,} edges, "
                            f"{result['rate']:,.0f} edges/s",
                            flush=True,
                        )
            except RuntimeError as exc:
                section.not_measured(f"edges/s, ours ÷ naive, {name}", "≥ 10x", str(exc))
                continue
            ratios = paired_ratios(
                [r["rate"] for r in results["ours"]], [r["rate"] for r in results["naive"]]
            )
            section.rows.append(
                Row(
                    f"edges/s, ours ÷ naive, {name}",
                    "≥ 10x",
                    fmt_range(ratios, "{:.1f}", "x"),
                    verdict(median(ratios) >= 10),
                )
            )
            for side in ("ours", "naive"):
                runs = results[side]
                table_rows.append(
                    [
                        name,
                        side,
                        fmt_range([r["rate"] for r in runs], "{:,.0f}"),
                        fmt_range([r["edges"] for r in runs], "{:,.0f}"),
                        fmt_range([1e6 * r["cpu"] / r["edges"] for r in runs], "{:,.0f}"),
                        fmt_range([1e6 * r["server_cpu"] / r["edges"] for r in runs], "{:,.0f}")
                        if server is not None
                        else "-",
                    ]
                )
    finally:
        for _, server in stores:
            if server is not None:
                server.close()
    section.tables.append(
        Table(
            [
                "store",
                "pipeline",
                "edges/s",
                "edges written per run",
                "writer CPU-ms / 1,000 edges",
                "server CPU-ms / 1,000 edges",
            ],
            table_rows,
        )
    )
    section.notes.append(
        f"Ours: up to {plan.ingest_pages:,} pages x {plan.ingest_edges_per_page} edges per run "
        "(fewer when a first small run shows the store too slow to write them in time); naive: "
        f"the same edges one by one, stopped after {plan.ingest_naive_seconds:g} s."
    )
    section.seconds = time.monotonic() - started
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("worker", help="one measured run (used by the benchmark)")
    w.add_argument("--store", choices=("sqlite", "mongo"), required=True)
    w.add_argument("--pipeline", choices=("ours", "naive", "calibrate"), required=True)
    w.add_argument("--pages", type=int, required=True)
    w.add_argument("--edges-per-page", type=int, required=True)
    w.add_argument("--max-seconds", type=float, required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--db", default="")
    w.add_argument("--mongo-uri", default="")
    w.add_argument("--database", default="bench")
    return worker(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
