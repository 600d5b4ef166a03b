"""Broken backlink targets (link reclamation): pages of yours that other sites
link to, but that answer 4xx or 5xx. Redirect them, and the links count again.

`linkwatch broken DOMAIN` checks the target URLs of DOMAIN's live backlinks
(the targets spider, crawler/spiders/targets.py) and keeps each check in the
store's cache (`Store.target_checks`); the report shows the cached ones. Both
use this module:

- `TargetLinks` groups live edges by target URL, one `add` at a time (so a
  command reading the edges for other reasons too needs one pass): linking
  pages and referring domains per target;
- `due` says which targets to check (never checked, or longer ago than the
  maximum age);
- `broken_targets` lists the broken ones, each with its status, linking
  pages, referring domains and its strongest referring domain by authority,
  strongest first: the targets whose links are worth most come first.

Broken: the final answer (after redirects) is 4xx or 5xx, 429 excepted (too
many requests says nothing about the page). No answer at all (robots.txt,
unreachable) is not broken: nothing is known.

Pure: edges, checks and authority in, rows out; the clock is the caller's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crawler.intelligence.authority import authority_key, strongest_first

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# What `linkwatch broken` and the report show of a broken target.
BROKEN_COLUMNS = (
    "target_url",
    "status",
    "final_url",
    "linking_pages",
    "refdomains",
    "strongest_domain",
    "authority",
    "checked_at",
)
_ISO = "%Y-%m-%dT%H:%M:%SZ"


class TargetLinks:
    """Live edges into a watched domain, grouped by target URL."""

    def __init__(self) -> None:
        # target URL -> referring domain -> linking pages
        self.targets: dict[str, dict[str, int]] = {}

    def add(self, edge: Mapping[str, Any]) -> None:
        domains = self.targets.get(edge["target_url"])
        if domains is None:
            domains = self.targets[edge["target_url"]] = {}
        domain = edge["source_domain"]
        domains[domain] = domains.get(domain, 0) + 1

    @property
    def urls(self) -> list[str]:
        """The target URLs, sorted."""
        return sorted(self.targets)


def is_broken(check: Mapping[str, Any]) -> bool:
    """Whether a check's final answer says the page is broken (see above)."""
    status = check.get("status")
    return status is not None and status >= 400 and status != 429


def due(
    urls: Iterable[str], checks: Mapping[str, Mapping[str, Any]], now: str, max_age: float
) -> list[str]:
    """The URLs to check again: never checked, or checked `max_age` seconds or
    more before `now` (ISO 8601 UTC), in the order given."""
    cutoff = (datetime.strptime(now, _ISO) - timedelta(seconds=max_age)).strftime(_ISO)
    return [url for url in urls if url not in checks or checks[url]["checked_at"] <= cutoff]


def referring_domains(links: TargetLinks, checks: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The referring domains of the broken targets: whose authority to look up."""
    return {
        domain
        for url, domains in links.targets.items()
        if url in checks and is_broken(checks[url])
        for domain in domains
    }


def broken_targets(
    links: TargetLinks,
    checks: Mapping[str, Mapping[str, Any]],
    authority: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The broken targets (BROKEN_COLUMNS), strongest first: by their strongest
    referring domain's authority (unranked last), then most referring domains,
    most linking pages, URL. `authority`: Store.authority of the referring domains."""
    rows = []
    for url, domains in links.targets.items():
        check = checks.get(url)
        if check is None or not is_broken(check):
            continue
        ranked = min(
            (
                {"source_domain": domain, "edges": pages, "authority": _pagerank(authority, domain)}
                for domain, pages in domains.items()
            ),
            key=strongest_first,
        )
        rows.append(
            {
                "target_url": url,
                "status": check["status"],
                "final_url": check["final_url"] if check["final_url"] != url else None,
                "linking_pages": sum(domains.values()),
                "refdomains": len(domains),
                "strongest_domain": ranked["source_domain"],
                "authority": ranked["authority"],
                "checked_at": check["checked_at"],
            }
        )
    rows.sort(
        key=lambda row: (
            authority_key(row["authority"]),
            -row["refdomains"],
            -row["linking_pages"],
            row["target_url"],
        )
    )
    return rows


def _pagerank(authority: Mapping[str, Mapping[str, Any]], domain: str) -> float | None:
    ranked = authority.get(domain)
    return None if ranked is None else ranked.get("pagerank")
