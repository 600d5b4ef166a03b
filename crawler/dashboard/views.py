"""The numbers behind each view of the dashboard, as JSON-ready dicts.

Both faces use this: api.py returns them as JSON, pages.py renders them as
HTML. Each view reads the store through the same queries and analyses as
the matching command (`linkwatch backlinks`, `refdomains`, `anchors`, `lost`,
`broken`, `gap`, `toxic`, `summary`, `status`), so a row has the field names
of that command's `--format json`. Views over a whole profile go through the
cache (cache.py); the backlinks table pages straight from the store's indexes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from crawler.dashboard.cache import TTLCache
from crawler.dashboard.charts import authority_histogram, daily_series

if TYPE_CHECKING:
    from collections.abc import Iterator

    from crawler.dashboard.params import Paging
    from crawler.dashboard.pool import StorePool
    from crawler.intelligence.toxic import ToxicRules
    from pipelines.stores.base import EdgeFilter, Store, Target

# The toxic rules and whitelist: those `linkwatch toxic` uses without options
# (defaults and the LINKWATCH_* environment), read once when the server starts.
# A referring domain scoring this much is counted as toxic on the overview
# (what `linkwatch report` highlights).
TOXIC_CARD_SCORE = 50
LOST_DAYS = 30
TOP_ANCHORS = 10


@dataclass
class Dashboard:
    """The views, over a pool of read-only stores and a cache of whole-profile results."""

    pool: StorePool
    rules: ToxicRules
    whitelist: frozenset[str] = frozenset()
    redis_url: str = ""
    redis_prefix: str = ""
    cache: TTLCache = field(default_factory=TTLCache)

    # --- lists of the store ---------------------------------------------------------------

    def watched(self) -> list[str]:
        return self._cached(("watched",), lambda s: s.watched_domains())

    def _cached(self, key: tuple[Any, ...], compute: Any) -> Any:
        def run() -> Any:
            with self.pool.store() as store:
                return compute(store)

        return self.cache.get(key, run)

    # --- the backlinks table ---------------------------------------------------------------

    def backlinks(
        self, target: Target, where: EdgeFilter, sort: str, paging: Paging
    ) -> dict[str, Any]:
        if sort == "quality":
            return self._backlinks_by_quality(target, where, paging)
        with self.pool.store() as store:
            rows = store.browse_edges(
                target, where, sort=sort, offset=paging.offset, limit=paging.per_page + 1
            )
            more = len(rows) > paging.per_page
            rows = rows[: paging.per_page]
            if sort != "authority":
                rows = list(store.annotate_authority(rows))
            # The score reads the facts of this page's referring domains only.
            rows = list(self._quality(store, target).annotate(rows))
        for row in rows:
            row.setdefault("harmonic", None)
        return _page(target, paging, rows, more)

    def _quality(self, store: Store, target: Target) -> Any:
        """The target's quality model; the referring domains' facts it reads
        are kept with the cached views (`--cache-seconds`), so the next pages
        read only the domains not seen yet."""
        from crawler.cli.link_quality import target_quality

        known = self.cache.get(("quality facts", target), dict)
        return target_quality(store, target, rules=(self.rules, self.whitelist), known=known)

    def _backlinks_by_quality(
        self, target: Target, where: EdgeFilter, paging: Paging
    ) -> dict[str, Any]:
        """A page of the edges `where` selects, best quality first. The score
        needs every referring domain's facts, so the first request ranks the
        whole filtered profile (kept as (score, URLs) keys, not edges); a page
        then reads its own edges back."""
        ranking = self._quality_ranking(target, where)
        keys = ranking[paging.offset : paging.offset + paging.per_page + 1]
        more = len(keys) > paging.per_page
        with self.pool.store() as store:
            rows = self._ranked_rows(store, target, keys[: paging.per_page])
        return _page(target, paging, rows, more)

    def _ranked_rows(
        self, store: Store, target: Target, keys: list[tuple[Any, ...]]
    ) -> list[dict[str, Any]]:
        """The edges of ranking `keys`, in their order, scored and with authority."""
        domains = sorted({key[3] for key in keys})
        found = {
            (edge["source_url"], edge["target_url"]): edge
            for edge in store.backlinks(target, state="all", source_domains=domains)
        }
        rows = [found[(key[1], key[2])] for key in keys if (key[1], key[2]) in found]
        rows = list(self._quality(store, target).annotate(store.annotate_authority(rows)))
        for row in rows:
            row.setdefault("harmonic", None)
        return rows

    def export_rows(self, target: Target, where: EdgeFilter, sort: str) -> Iterator[dict[str, Any]]:
        """Every edge the filters select, in the table's order and with its
        quality, a chunk at a time (export.py streams them)."""
        from crawler.dashboard.export import EXPORT_CHUNK, edges

        if sort == "quality":
            ranking = self._quality_ranking(target, where)
            for start in range(0, len(ranking), EXPORT_CHUNK):
                with self.pool.store() as store:
                    keys = ranking[start : start + EXPORT_CHUNK]
                    yield from self._ranked_rows(store, target, keys)
            return
        with self.pool.store() as store:
            model = self._quality(store, target)
            yield from model.annotate(edges(self.pool, target, where, sort))

    def _quality_ranking(self, target: Target, where: EdgeFilter) -> list[tuple[Any, ...]]:
        def compute(store: Store) -> list[tuple[Any, ...]]:
            edges = store.backlinks(
                target,
                state=where.state,
                since=where.since,
                dofollow=where.follow is True,
                placement=where.placement,
                source_domains=[where.source_domain] if where.source_domain else None,
            )
            selected = (edge for edge in edges if _selected(edge, where))
            ranking = [
                (-edge["quality"], edge["source_url"], edge["target_url"], edge["source_domain"])
                for edge in self._quality(store, target).annotate(selected)
            ]
            ranking.sort()
            return ranking

        return self._cached(("quality", target, where), compute)

    # --- views over the whole profile ------------------------------------------------------

    def refdomains(self, target: Target, sort: str, paging: Paging) -> dict[str, Any]:
        rows = self._refdomains(target)
        if sort == "authority":
            from crawler.intelligence.authority import strongest_first

            rows = sorted(rows, key=strongest_first)
        elif sort == "toxic":
            rows = sorted(rows, key=lambda r: (-r["toxic"], r["source_domain"]))
        return _slice(target, paging, rows)

    def _refdomains(self, target: Target) -> list[dict[str, Any]]:
        def compute(store: Store) -> list[dict[str, Any]]:
            # The rows of `linkwatch refdomains` (its --format json names).
            from crawler.cli.link_quality import refdomain_rows

            return refdomain_rows(store, target, self._toxic(store, target))

        return self._cached(("refdomains", target), compute)

    def _toxic(self, store: Store, target: Target) -> list[Any]:
        from crawler.cli.toxic_rules import assess_collected
        from crawler.intelligence.toxic import LinkCollector

        def compute() -> list[Any]:
            collector = LinkCollector()
            for edge in store.backlinks(target):
                collector.add(edge)
            return assess_collected(store, target, collector, self.rules, self.whitelist)

        return self.cache.get(("toxic", target), compute)

    def toxic(self, target: Target, min_score: int, paging: Paging) -> dict[str, Any]:
        def compute(store: Store) -> list[dict[str, Any]]:
            return [t.row() for t in self._toxic(store, target)]

        rows = [r for r in self._cached(("toxic-rows", target), compute) if r["score"] >= min_score]
        return _slice(target, paging, rows)

    def anchors(self, target: Target, paging: Paging) -> dict[str, Any]:
        from crawler.intelligence.anchors import class_shares, classified, group_anchors

        def compute(store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            keywords = store.keywords(target.host or target.domain)
            rows = classified(group_anchors(store.backlinks(target)), target.domain, [], keywords)
            return rows, class_shares(rows)

        rows, shares = self._cached(("anchors", target), compute)
        return {**_slice(target, paging, rows), "classes": shares}

    def lost(self, target: Target, since: str | None, paging: Paging) -> dict[str, Any]:
        since = since or _days_ago(LOST_DAYS)
        with self.pool.store() as store:
            limit = paging.offset + paging.per_page + 1
            rows = list(store.lost(target, since, limit=limit))[paging.offset :]
            more = len(rows) > paging.per_page
            rows = list(store.annotate_authority(rows[: paging.per_page]))

        def reasons(store: Store) -> dict[str, int]:
            counted = Counter(edge["lost_reason"] for edge in store.lost(target, since))
            return dict(counted.most_common())

        counts = self._cached(("lost-reasons", target, since), reasons)
        return {**_page(target, paging, rows, more), "since": since, "reasons": counts}

    def broken(self, target: Target, paging: Paging) -> dict[str, Any]:
        from crawler.intelligence.broken import TargetLinks, broken_targets, referring_domains

        def compute(store: Store) -> dict[str, Any]:
            links = TargetLinks()
            for edge in store.backlinks(target):
                links.add(edge)
            checks = store.target_checks(links.urls)
            authority = store.authority(referring_domains(links, checks))
            return {
                "rows": broken_targets(links, checks, authority),
                "targets": len(links.targets),
                "checked": len(checks),
            }

        found = self._cached(("broken", target), compute)
        return {
            **_slice(target, paging, found["rows"]),
            "targets": found["targets"],
            "checked": found["checked"],
        }

    def gap(
        self, mine: str, competitors: list[str], minimum: int, paging: Paging
    ) -> dict[str, Any]:
        from crawler.intelligence.gap import competitor_gap, rank_gap

        def compute(store: Store) -> list[dict[str, Any]]:
            linking = store.linking_domains([mine, *competitors])
            found = competitor_gap(linking, mine, competitors, minimum)
            return rank_gap(found, store.authority(found))

        rows = self._cached(("gap", mine, tuple(competitors), minimum), compute)
        page = rows[paging.offset : paging.offset + paging.per_page]
        return {
            "domain": mine,
            "vs": competitors,
            "min": minimum,
            "page": paging.page,
            "per_page": paging.per_page,
            "total": len(rows),
            "has_more": paging.offset + paging.per_page < len(rows),
            "rows": page,
        }

    # --- the overview ---------------------------------------------------------------------

    def overview(self, target: Target) -> dict[str, Any]:
        def compute(store: Store) -> dict[str, Any]:
            totals = store.edge_totals(target, _days_ago(LOST_DAYS))
            series = daily_series(store.edge_days(target), store.domain_spans(target))
            anchors = list(store.anchors(target, limit=TOP_ANCHORS))
            return {"totals": totals, "series": series, "anchors": anchors}

        numbers = self._cached(("overview", target), compute)
        referring = self._refdomains(target)
        totals = numbers["totals"]
        live = totals["live"]
        return {
            "domain": target.host or target.domain,
            "cards": {
                "backlinks": live,
                "refdomains": len(referring),
                "followed_share": round(totals["followed"] / live, 4) if live else None,
                "lost_30_days": totals["lost"],
                "toxic_domains": sum(1 for r in referring if r["toxic"] >= TOXIC_CARD_SCORE),
            },
            "charts": {
                "days": numbers["series"],
                "anchors": numbers["anchors"],
                "authority": authority_histogram(referring),
            },
            "crawl": self.crawl_status(),
        }

    def crawl_status(self) -> dict[str, Any] | None:
        """What `linkwatch status` reads, when a shared crawl's Redis is set."""
        if not self.redis_url:
            return None
        from crawler.credentials import mask_url

        shown = mask_url(self.redis_url)
        try:
            import redis

            from crawler.cli.commands.status import crawl_status
            from crawler.frontier.connection import redis_client
            from crawler.frontier.keys import FrontierKeys
            from crawler.frontier.seeding import DEFAULT_SPIDER

            client = redis_client(self.redis_url)
            keys = FrontierKeys.for_spider(self.redis_prefix or None, DEFAULT_SPIDER)
            status = crawl_status(client, keys)
        except (redis.RedisError, ValueError, OSError) as exc:
            return {"redis": shown, "error": f"{type(exc).__name__}: {exc}"}
        live = [w for w in status["workers"] if w["state"] == "live"]
        return {
            "redis": shown,
            "prefix": keys.prefix,
            **status,
            "pages_per_s": round(sum(w["pages_per_s"] or 0 for w in live), 2),
        }


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _selected(edge: dict[str, Any], where: EdgeFilter) -> bool:
    """The filters `Store.backlinks` does not take, as browse_edges applies them."""
    if where.follow is False and not edge["nofollow"]:
        return False
    if where.link_type is not None and edge["link_type"] != where.link_type:
        return False
    if where.text:
        text = where.text.casefold()
        return any(
            text in (edge.get(name) or "").casefold()
            for name in ("anchor", "source_url", "target_url")
        )
    return True


def _page(target: Target, paging: Paging, rows: list[Any], more: bool) -> dict[str, Any]:
    return {
        "domain": target.host or target.domain,
        "page": paging.page,
        "per_page": paging.per_page,
        "has_more": more,
        "rows": rows,
    }


def _slice(target: Target, paging: Paging, rows: list[Any]) -> dict[str, Any]:
    """A page of a list held in memory: its total is known."""
    page = rows[paging.offset : paging.offset + paging.per_page]
    return {
        **_page(target, paging, page, paging.offset + paging.per_page < len(rows)),
        "total": len(rows),
    }
