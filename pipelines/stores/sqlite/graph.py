"""The SQLite store's domain graph and authority: the `domain_links` pairs
(written by the write path), who links to a domain, linking-site profiles,
the watched domains, and the `domains` table `linkwatch rank` fills."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from pipelines.stores.base import DOMAIN_CHUNK
from pipelines.stores.sqlite.sql import SQLiteConnected, batches, chunks, marks, store_error

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

INSERT_AUTHORITY = (
    "INSERT INTO domains (domain, pagerank, harmonic, pagerank_raw, harmonic_raw, ranked_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


class SQLiteGraph(SQLiteConnected):
    """The `Store` methods of the domain graph and of authority."""

    def domain_graph(self) -> Iterator[tuple[str, str, int, int]]:
        if "domain_links" not in self.tables:
            return
        # Plain tuples, not sqlite3.Row: this reads every pair of the graph.
        cursor = self._tuples()
        try:
            yield from cursor.execute(
                "SELECT source_domain, target_domain, links, pages FROM domain_links"
            )
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    def linking_domains(self, domains: Sequence[str]) -> dict[str, set[str]]:
        linking: dict[str, set[str]] = {domain: set() for domain in domains}
        for chunk in chunks(list(linking), DOMAIN_CHUNK):
            if "domain_links" in self.tables:
                sql = (
                    "SELECT target_domain, source_domain FROM domain_links "
                    f"WHERE target_domain IN ({marks(chunk)})"
                )
                for target, source in self._query(sql, chunk):
                    linking[target].add(source)
            sql = (
                "SELECT DISTINCT target_domain, source_domain FROM edges "
                f"WHERE target_domain IN ({marks(chunk)}) AND lost_at IS NULL"
            )
            for target, source in self._query(sql, chunk):
                if source != target:
                    linking[target].add(source)
        return linking

    def domain_profiles(
        self, domains: Sequence[str], watched: Collection[str]
    ) -> dict[str, dict[str, Any]]:
        profiles = {
            domain: {"pages": 0, "external_links": 0, "linked_domains": 0, "watched": []}
            for domain in domains
        }
        watched = set(watched)
        for chunk in chunks(list(profiles), DOMAIN_CHUNK):
            sql = (
                "SELECT domain, COUNT(*) FROM pages "
                f"WHERE domain IN ({marks(chunk)}) GROUP BY domain"
            )
            for domain, count in self._query(sql, chunk):
                profiles[domain]["pages"] = count
            if "domain_links" not in self.tables:
                continue
            sql = (
                "SELECT source_domain, target_domain, links FROM domain_links "
                f"WHERE source_domain IN ({marks(chunk)})"
            )
            for source, target, links in self._query(sql, chunk):
                profile = profiles[source]
                profile["external_links"] += links
                profile["linked_domains"] += 1
                if target in watched:
                    profile["watched"].append(target)
        for profile in profiles.values():
            profile["watched"].sort()
        return profiles

    def watched_domains(self) -> list[str]:
        # One index probe per domain, not a scan of every edge.
        found: list[str] = []
        try:
            row = self.db.execute("SELECT MIN(target_domain) FROM edges").fetchone()
            while row is not None and row[0] is not None:
                found.append(row[0])
                row = self.db.execute(
                    "SELECT MIN(target_domain) FROM edges WHERE target_domain > ?", (row[0],)
                ).fetchone()
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc
        return found

    def write_authority(self, rows: Iterable[Mapping[str, Any]], ranked_at: str) -> int:
        count = 0
        try:
            with self.db:
                self.db.execute("DELETE FROM domains")
                for chunk in batches(rows, 10_000):
                    self.db.executemany(
                        INSERT_AUTHORITY,
                        [
                            (
                                r["domain"],
                                r["pagerank"],
                                r["harmonic"],
                                r["pagerank_raw"],
                                r["harmonic_raw"],
                                ranked_at,
                            )
                            for r in chunk
                        ],
                    )
                    count += len(chunk)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc
        return count

    def authority(self, domains: Iterable[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        if "domains" not in self.tables:
            return found
        for chunk in chunks(sorted(set(domains)), DOMAIN_CHUNK):
            sql = (
                "SELECT domain, pagerank, harmonic, pagerank_raw, harmonic_raw, ranked_at "
                f"FROM domains WHERE domain IN ({marks(chunk)})"
            )
            for row in self._query(sql, chunk):
                record = dict(row)
                found[record.pop("domain")] = record
        return found
