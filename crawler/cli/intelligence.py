"""`linkwatch rank | gap | toxic | disavow | report | export`: analyses of the
link graph, the same on the SQLite and the MongoDB store.

These read the store and hand plain values to crawler/intelligence (pure
logic: ranking, rules, file formats); only `rank` writes (each domain's
authority). Long work shows a progress line on a terminal (or with --progress).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from crawler.cli.output import write_rows
from crawler.cli.progress import Progress
from crawler.cli.queries import open_for_reading, parse_target
from crawler.intelligence import authority as ranking
from crawler.intelligence import disavow as disavow_format
from crawler.intelligence.gap import competitor_gap, rank_gap
from crawler.intelligence.toxic import (
    DEFAULT_COMMERCIAL_TERMS,
    DEFAULT_SPAM_TLDS,
    LinkCollector,
    ToxicDomain,
    ToxicRules,
    assess,
)
from pipelines.stores import StoreError, open_store

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pipelines.stores.base import Store, Target

RANK_COLUMNS = ("domain", "pagerank", "harmonic", "pagerank_raw", "harmonic_raw")
GAP_COLUMNS = ("source_domain", "authority", "harmonic", "competitors", "links_to")
TOXIC_COLUMNS = ("source_domain", "score", "rules", "edges", "evidence")


def register(commands: argparse._SubParsersAction) -> None:
    from crawler.cli import output_options, positive_int, store_options

    rank = _command(
        commands,
        "rank",
        help="authority of every domain: PageRank and harmonic centrality of the domain graph",
        description=(
            "Compute PageRank and harmonic centrality on the domain graph (which "
            "registered domain links to which, from every crawled page), scale both "
            "to 0-100 and store them per domain: the authority that backlinks, "
            "refdomains, gap, report and export show. PageRank: damping 0.85, "
            "dangling domains spread their rank evenly, unweighted (many links from "
            "one domain count once); shown on a log scale, 0 = nobody links to it, "
            "100 = the highest. Harmonic centrality: the sum of 1/distance over the "
            "domains that reach a domain; exact up to --exact-limit domains, above "
            "that estimated from --samples random domains. Prints the top domains."
        ),
        examples=(
            "linkwatch rank",
            "linkwatch rank --top 50 --format csv > authority.csv",
            "linkwatch rank --exact-limit 0 --samples 512   # estimate harmonic centrality",
        ),
    )
    rank.add_argument(
        "--damping",
        type=_damping,
        default=ranking.DAMPING,
        help="PageRank damping factor, between 0 and 1 (default 0.85)",
    )
    rank.add_argument(
        "--exact-limit",
        type=_count,
        default=ranking.EXACT_LIMIT,
        metavar="N",
        help=f"exact harmonic centrality up to N domains (default {ranking.EXACT_LIMIT:,})",
    )
    rank.add_argument(
        "--samples",
        type=positive_int,
        default=ranking.SAMPLES,
        metavar="K",
        help=f"source domains sampled above --exact-limit (default {ranking.SAMPLES})",
    )
    rank.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    rank.add_argument(
        "--top", type=_count, default=20, metavar="N", help="domains to print (default 20)"
    )
    rank.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table (default), json (one object per line) or csv",
    )
    _progress_option(rank)
    store_options(rank)
    rank.set_defaults(run=run_rank)

    gap = _command(
        commands,
        "gap",
        help="domains linking to competitors but not to you",
        description=(
            "List the domains that link to at least --min of the competitors (--vs) "
            "but not to DOMAIN: link prospects. A domain links to another when a "
            "crawled page of it does (nofollow included), or through a live edge such "
            "as a redirect. Best first: by authority (run `linkwatch rank` first), "
            "then by the number of competitors linked. Compares registered domains."
        ),
        examples=(
            "linkwatch gap mysite.com --vs a.com b.com c.com",
            "linkwatch gap mysite.com --vs a.com b.com c.com --min 3 --format csv",
        ),
        domain_help="your registered domain (e.g. mysite.com)",
    )
    gap.add_argument(
        "--vs",
        nargs="+",
        required=True,
        metavar="COMPETITOR",
        help="competitors' registered domains, any number",
    )
    gap.add_argument(
        "--min",
        type=positive_int,
        default=None,
        metavar="K",
        help="link to at least K competitors (default 2, or 1 with one competitor)",
    )
    output_options(gap)
    store_options(gap)
    gap.set_defaults(run=run_gap)

    toxic = _command(
        commands,
        "toxic",
        help="referring domains scored by link-farm rules, with the evidence",
        description=(
            "Score every referring domain of DOMAIN's live backlinks from 0 to 100 "
            "with transparent rules; each rule that fires adds its weight and shows "
            "the numbers that made it fire. outlinks_per_page (+25): its crawled pages "
            "average many links to other domains. many_watched_domains (+20): it links "
            "to many of the watched domains. sitewide_links (+15): most of its pages "
            "link to DOMAIN. commercial_anchors (+30): an anchor with a commercial "
            "term repeated across its pages. spam_tld (+20): its TLD is on the "
            "spam-heavy list. Whitelisted domains are left out."
        ),
        examples=(
            "linkwatch toxic mysite.com",
            "linkwatch toxic mysite.com --min-score 50 --whitelist trusted.txt --format json",
            "LINKWATCH_SPAM_TLDS=xyz,top,click linkwatch toxic mysite.com",
        ),
    )
    toxic.add_argument(
        "--min-score",
        type=_score,
        default=1,
        metavar="N",
        help="only domains scoring at least N (default 1: any rule fired; 0: all)",
    )
    _rule_options(toxic)
    output_options(toxic)
    store_options(toxic)
    toxic.set_defaults(run=run_toxic)

    disavow = _command(
        commands,
        "disavow",
        help="a Google disavow file of the toxic referring domains",
        description=(
            "Write a disavow file for Google Search Console: one `domain:` line per "
            "referring domain scoring at least --min-score, most toxic first, each "
            "after a `#` comment with its score and the rules that fired. UTF-8, "
            "internationalized domains in punycode, at most 100,000 lines and 2 MB "
            "(reasons are dropped first, then the lowest scores, and the file says "
            "so). Whitelisted domains are never in it. Review it before uploading: "
            "disavowing good links hurts."
        ),
        examples=(
            "linkwatch disavow mysite.com --min-score 50 > disavow.txt",
            "linkwatch disavow mysite.com --whitelist trusted.txt --out disavow.txt",
        ),
    )
    disavow.add_argument(
        "--min-score",
        type=_score,
        default=50,
        metavar="N",
        help="disavow domains scoring at least N (default 50)",
    )
    disavow.add_argument("--out", metavar="FILE", help="write here (default: stdout)")
    _rule_options(disavow)
    store_options(disavow)
    disavow.set_defaults(run=run_disavow)

    report = _command(
        commands,
        "report",
        help="an HTML report with charts, in a directory",
        description=(
            "Write a self-contained HTML report on DOMAIN's backlinks into DIR: "
            "index.html and its charts as PNG files (referring domains and new/lost "
            "links over time, top anchors, top referring domains by authority, "
            "followed and nofollow links, toxic domains), plus overview.png with all "
            "of them. No scripts and nothing fetched: open it, zip it, serve it."
        ),
        examples=(
            "linkwatch report mysite.com --out report/",
            "linkwatch rank && linkwatch report mysite.com --out report/ --whitelist trusted.txt",
        ),
    )
    report.add_argument("--out", metavar="DIR", required=True, help="directory to write into")
    report.add_argument(
        "--min-score",
        type=_score,
        default=50,
        metavar="N",
        help="toxic domains scoring at least N are highlighted (default 50)",
    )
    _rule_options(report)
    _progress_option(report)
    store_options(report)
    report.set_defaults(run=run_report)

    export = _command(
        commands,
        "export",
        help="a whole backlink profile as CSV, JSON lines, Parquet or GraphML",
        description=(
            "Write every backlink of DOMAIN (live and lost by default), with the "
            "referring domain's authority, streamed: no row cap, and memory does "
            "not grow with the profile. GraphML has the linking and linked pages as "
            "nodes and the links as edges, for Gephi or networkx."
        ),
        examples=(
            "linkwatch export mysite.com --format csv > mysite.csv",
            "linkwatch export mysite.com --format parquet --out mysite.parquet",
            "linkwatch export mysite.com --format graphml --live --out mysite.graphml",
        ),
    )
    export.add_argument(
        "--format",
        choices=("csv", "jsonl", "parquet", "graphml"),
        required=True,
        help="file format",
    )
    export.add_argument(
        "--out", metavar="FILE", help="write here (default: stdout; parquet needs a file)"
    )
    state = export.add_mutually_exclusive_group()
    state.add_argument(
        "--live", dest="state", action="store_const", const="live", help="only links still there"
    )
    state.add_argument(
        "--lost", dest="state", action="store_const", const="lost", help="only lost links"
    )
    state.add_argument(
        "--all", dest="state", action="store_const", const="all", help="both (default)"
    )
    _progress_option(export)
    store_options(export)
    export.set_defaults(run=run_export, state="all")


def _command(
    commands: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    description: str,
    examples: tuple[str, ...],
    domain_help: str | None = None,
) -> argparse.ArgumentParser:
    command = commands.add_parser(
        name,
        help=help,
        description=textwrap.fill(description, width=79),
        epilog="examples:\n" + "".join(f"  {example}\n" for example in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if name != "rank":
        from crawler.cli.queries import DOMAIN_HELP

        command.add_argument("domain", metavar="DOMAIN", help=domain_help or DOMAIN_HELP)
    return command


def _progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action="store_true",
        help="report progress on stderr even when it is not a terminal",
    )


def _rule_options(parser: argparse.ArgumentParser) -> None:
    defaults = ToxicRules()
    group = parser.add_argument_group("toxic rules")
    group.add_argument(
        "--whitelist",
        metavar="FILE",
        default=os.environ.get("LINKWATCH_WHITELIST") or None,
        help="domains never flagged, one a line (domain:x, a URL or a domain; # comments) "
        "(default: $LINKWATCH_WHITELIST)",
    )
    group.add_argument(
        "--spam-tlds",
        metavar="LIST",
        default=os.environ.get("LINKWATCH_SPAM_TLDS") or ",".join(DEFAULT_SPAM_TLDS),
        help="spam-heavy TLDs, comma list or @file (default: $LINKWATCH_SPAM_TLDS or "
        f"{','.join(DEFAULT_SPAM_TLDS[:6])},…)",
    )
    group.add_argument(
        "--commercial-terms",
        metavar="LIST",
        default=os.environ.get("LINKWATCH_COMMERCIAL_TERMS") or ",".join(DEFAULT_COMMERCIAL_TERMS),
        help="words of commercial anchors, comma list or @file (default: "
        f"$LINKWATCH_COMMERCIAL_TERMS or {','.join(DEFAULT_COMMERCIAL_TERMS[:5])},…)",
    )
    group.add_argument(
        "--outlinks-per-page",
        type=_positive_float,
        metavar="N",
        default=defaults.outlinks_per_page,
        help=f"outlinks_per_page threshold (default {defaults.outlinks_per_page:g})",
    )
    group.add_argument(
        "--watched-domains",
        type=_count,
        metavar="N",
        default=defaults.watched_domains,
        help=f"many_watched_domains threshold (default {defaults.watched_domains})",
    )
    group.add_argument(
        "--sitewide-share",
        type=_share,
        metavar="F",
        default=defaults.sitewide_share,
        help=f"sitewide_links share of pages (default {defaults.sitewide_share:g})",
    )
    group.add_argument(
        "--sitewide-pages",
        type=_count,
        metavar="N",
        default=defaults.sitewide_min_pages,
        help=f"sitewide_links minimum pages (default {defaults.sitewide_min_pages})",
    )
    group.add_argument(
        "--anchor-pages",
        type=_count,
        metavar="N",
        default=defaults.anchor_min_pages,
        help=f"commercial_anchors minimum pages (default {defaults.anchor_min_pages})",
    )


# --- argument types ------------------------------------------------------------------


def _number(text: str, kind: type) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _count(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def _score(text: str) -> int:
    value = _number(text, int)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a score is 0 to 100: {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def _share(text: str) -> float:
    value = _number(text, float)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"a share is more than 0 and at most 1: {text!r}")
    return value


def _damping(text: str) -> float:
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"damping is between 0 and 1: {text!r}")
    return value


def _word_list(text: str, option: str) -> tuple[str, ...]:
    """A comma list, or @FILE with one entry a line (# comments)."""
    from crawler.cli import UsageError

    if text.startswith("@"):
        try:
            content = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{option}: cannot read {text[1:]}: {exc.strerror}") from None
        items = [line.split("#", 1)[0].strip() for line in content.splitlines()]
    else:
        items = [item.strip() for item in text.split(",")]
    return tuple(item.lower() for item in items if item)


def _registered(name: str, option: str) -> str:
    from crawler.cli import UsageError
    from crawler.domains import clean_domain, registered_domain

    try:
        cleaned = clean_domain(name)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    domain = registered_domain(cleaned)
    if cleaned != domain:
        raise UsageError(
            f"{option}: {name!r} is a host; gap compares registered domains ({domain})"
        )
    return domain


def rules_from(args: argparse.Namespace) -> tuple[ToxicRules, frozenset[str]]:
    """The toxic rules and the whitelist the options ask for."""
    from crawler.cli import UsageError

    whitelist: frozenset[str] = frozenset()
    if args.whitelist:
        try:
            text = Path(args.whitelist).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"--whitelist: cannot read {args.whitelist}: {reason}") from None
        try:
            whitelist = frozenset(disavow_format.parse_domain_list(text, source="--whitelist"))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    rules = ToxicRules(
        outlinks_per_page=args.outlinks_per_page,
        watched_domains=args.watched_domains,
        sitewide_share=args.sitewide_share,
        sitewide_min_pages=args.sitewide_pages,
        anchor_min_pages=args.anchor_pages,
        spam_tlds=_word_list(args.spam_tlds, "--spam-tlds"),
        commercial_terms=_word_list(args.commercial_terms, "--commercial-terms"),
    )
    return rules, whitelist


# --- rank ---------------------------------------------------------------------------------


def open_for_writing(args: argparse.Namespace) -> Store:
    if not args.mongo_uri and not Path(args.db).exists():
        raise StoreError(f"no linkwatch database at {args.db}", transient=False)
    return open_store(
        {
            "LINKWATCH_DB": args.db,
            "MONGO_URI": args.mongo_uri,
            "MONGO_DATABASE": args.mongo_database,
        }
    )


def run_rank(args: argparse.Namespace) -> int:
    from crawler.intelligence.rank import DomainGraph, rank_domains

    progress = Progress("linkwatch rank", force=args.progress)
    try:
        with open_for_writing(args) as store:
            graph = DomainGraph.from_pairs(_pairs(store.domain_graph(), progress))
            if graph.size == 0:
                print("linkwatch rank: the domain graph is empty: crawl first", file=sys.stderr)
                return 1
            result = rank_domains(
                graph,
                damping=args.damping,
                exact_limit=args.exact_limit,
                samples=args.samples,
                seed=args.seed,
                progress=progress.update,
            )
            ranked_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            progress.update("storing", 0, graph.size)
            store.write_authority(result.rows(), ranked_at)
    finally:
        progress.close()
    harmonic = (
        f"exact ({result.harmonic_sources:,} searches)"
        if result.harmonic_exact
        else f"estimated from {result.harmonic_sources:,} sampled domains"
    )
    converged = "" if result.converged else " (stopped before converging)"
    print(
        f"linkwatch rank: {graph.size:,} domains, {graph.edges:,} links between them; "
        f"PageRank in {result.iterations} iterations{converged}; harmonic centrality "
        f"{harmonic}",
        file=sys.stderr,
    )
    if args.top:
        write_rows(result.top(args.top), RANK_COLUMNS, args.format)
    return 0


def _pairs(rows: Iterator[tuple[str, str, int, int]], progress: Progress):
    for n, (source, target, _links, _pages) in enumerate(rows, 1):
        if n % 100_000 == 0:
            progress.update("reading the domain graph", n)
        yield source, target


# --- gap ----------------------------------------------------------------------------------


def run_gap(args: argparse.Namespace) -> int:
    from crawler.cli import UsageError

    mine = _registered(args.domain, "DOMAIN")
    competitors = list(dict.fromkeys(_registered(name, "--vs") for name in args.vs))
    if mine in competitors:
        raise UsageError(f"--vs: {mine} is DOMAIN itself")
    minimum = args.min if args.min is not None else min(2, len(competitors))
    if minimum > len(competitors):
        raise UsageError(f"--min {minimum}: there are only {len(competitors)} competitors")
    with open_for_reading(args) as store:
        linking = store.linking_domains([mine, *competitors])
        gap = competitor_gap(linking, mine, competitors, minimum)
        rows = rank_gap(gap, store.authority(gap))
    write_rows(rows[: args.limit] if args.limit else rows, GAP_COLUMNS, args.format)
    return 0


# --- toxic and disavow ---------------------------------------------------------------------


def assess_target(
    store: Store,
    target: Target,
    rules: ToxicRules,
    whitelist: frozenset[str],
    progress: Progress | None = None,
) -> list[ToxicDomain]:
    """Every referring domain of `target`'s live backlinks, assessed."""
    collector = LinkCollector()
    for n, edge in enumerate(store.backlinks(target), 1):
        collector.add(edge)
        if progress is not None and n % 10_000 == 0:
            progress.update("reading backlinks", n)
    return _assess(store, target, collector, rules, whitelist)


def _assess(
    store: Store,
    target: Target,
    collector: LinkCollector,
    rules: ToxicRules,
    whitelist: frozenset[str],
) -> list[ToxicDomain]:
    profiles = store.domain_profiles(sorted(collector.found), store.watched_domains())
    name = target.host or target.domain
    return assess(name, collector.found, profiles, rules, whitelist)


def run_toxic(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    rules, whitelist = rules_from(args)
    with open_for_reading(args) as store:
        assessed = assess_target(store, target, rules, whitelist)
    rows = [t.row() for t in assessed if not t.whitelisted and t.score >= args.min_score]
    write_rows(rows[: args.limit] if args.limit else rows, TOXIC_COLUMNS, args.format)
    return 0


def run_disavow(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    rules, whitelist = rules_from(args)
    with open_for_reading(args) as store:
        assessed = assess_target(store, target, rules, whitelist)
    chosen = [t for t in assessed if not t.whitelisted and t.score >= args.min_score]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = [
        f"Disavow file for {target.host or target.domain}, written by linkwatch at {now}",
        f"Referring domains with a toxic score of {args.min_score} or more "
        f"({len(chosen)} of {len(assessed)} referring domains); review before uploading.",
    ]
    if args.whitelist:
        header.append(f"Whitelist: {args.whitelist} ({len(whitelist)} domains, never listed)")
    built = disavow_format.build_disavow(
        (
            disavow_format.Disavowed(
                t.domain, t.score, tuple(f"{f.rule}: {f.evidence}" for f in t.flags)
            )
            for t in chosen
        ),
        header,
    )
    if args.out:
        try:
            Path(args.out).write_bytes(built.data)
        except OSError as exc:
            from crawler.cli import UsageError

            raise UsageError(f"--out: cannot write {args.out}: {exc.strerror}") from None
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(built.data)
        sys.stdout.flush()
    note = f"{len(built.domains)} domains disavowed"
    if built.left_out:
        note += f", {built.left_out} left out (Google's limits)"
    print(f"linkwatch disavow: {note}", file=sys.stderr)
    return 0


# --- report -------------------------------------------------------------------------------


def run_report(args: argparse.Namespace) -> int:
    from crawler.cli import UsageError
    from crawler.intelligence.report import ReportData, write_report
    from crawler.intelligence.timeline import build_timeline

    target = parse_target(args.domain)
    rules, whitelist = rules_from(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a directory")
    progress = Progress("linkwatch report", force=args.progress)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        with open_for_reading(args) as store:
            collector = LinkCollector()
            totals = {"live": 0, "dofollow": 0, "lost": 0}

            def edges() -> Iterator[dict[str, Any]]:
                # One pass over every edge: the timeline, the totals, the toxic rules.
                for n, edge in enumerate(store.backlinks(target, state="all"), 1):
                    if edge["lost_at"] is None:
                        totals["live"] += 1
                        totals["dofollow"] += not edge["nofollow"]
                        collector.add(edge)
                    else:
                        totals["lost"] += 1
                    if n % 10_000 == 0:
                        progress.update("reading backlinks", n)
                    yield edge

            timeline = build_timeline(edges(), now=now)
            progress.update("toxic rules", 0, 1)
            toxic = [
                t
                for t in _assess(store, target, collector, rules, whitelist)
                if t.score > 0 and not t.whitelisted
            ]
            domains = list(store.annotate_authority(store.refdomains(target)))
            domains.sort(
                key=lambda r: (
                    ranking.authority_key(r["authority"]),
                    -r["edges"],
                    r["source_domain"],
                )
            )
            ranked = store.authority([r["source_domain"] for r in domains[:1]])
            data = ReportData(
                target=target.host or target.domain,
                generated_at=now,
                live_edges=totals["live"],
                dofollow=totals["dofollow"],
                lost_edges=totals["lost"],
                refdomains=len(domains),
                timeline=timeline,
                anchors=list(store.anchors(target, limit=50)),
                top_domains=domains[:50],
                toxic=toxic,
                ranked_at=next(iter(ranked.values()), {}).get("ranked_at"),
                min_score=args.min_score,
            )
        index = write_report(data, out, progress.stage_callback("charts"))
    except OSError as exc:
        raise UsageError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    finally:
        progress.close()
    print(f"linkwatch report: {index}", file=sys.stderr)
    return 0


# --- export -------------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    from crawler.cli import UsageError
    from crawler.intelligence import export

    target = parse_target(args.domain)
    if args.format == "parquet" and not args.out:
        raise UsageError("--format parquet writes a binary file: give --out FILE")
    progress = Progress("linkwatch export", force=args.progress)
    counted = progress.stage_callback("rows")
    try:
        with open_for_reading(args) as store:
            rows = store.annotate_authority(store.backlinks(target, state=args.state))
            if args.format == "parquet":
                count = export.write_parquet(rows, args.out, counted)
            else:
                with _text_output(args.out) as out:
                    if args.format == "csv":
                        count = export.write_csv(rows, out, counted)
                    elif args.format == "jsonl":
                        count = export.write_jsonl(rows, out, counted)
                    else:
                        count = export.write_graphml(rows, out, target.domain, counted)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise UsageError(f"--out: cannot write {args.out}: {exc.strerror or exc}") from None
    finally:
        progress.close()
    if args.out:
        print(f"linkwatch export: {count:,} backlinks to {args.out}", file=sys.stderr)
    return 0


@contextmanager
def _text_output(path: str | None) -> Iterator[TextIO]:
    """stdout, or a UTF-8 file."""
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="") as file:
        yield file
