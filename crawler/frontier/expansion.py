"""The expansion of a shared crawl: crawler/discovery.py's policy, kept in Redis.

N workers share one expansion. Each page a worker parses is one script call
(`observe`) that updates the candidates' signals and their score in one ZSET;
`next` pops the best candidate in another (`claim`), so no site is expanded
twice and ``max_domains`` holds for the whole crawl. The score, the signals and
the rules are discovery.py's; the deny list and the watched domains are
checked by the worker before the call (they are the same on every worker), the
rest (hops, sites already crawled, referring sites) in the scripts. Ties: a
candidate found later scores 1e-9 less per candidate found in between (the
embedded queue breaks ties by order exactly).

Keys, under ``<prefix>:x:`` (keys.py's ``expansion``; the scripts, lua.py's
EXPAND_*_LUA, build them from the prefix):

- ``cand`` ZSET candidate -> score (bfs: minus the order found);
- ``c:<domain>`` HASH of a candidate: hop, via, via_domain, entry, order and
  the signals; ``linkers:<domain>`` SET of the crawled sites linking to it;
- ``hops`` HASH crawled site -> hop (seeds: the seed-domain SET, hop 0);
- ``cash`` HASH crawled site -> its OPIC cash; ``outs:<domain>`` SET of the
  sites a crawled site links to; ``referring`` SET;
- ``prov`` HASH expanded site -> JSON provenance; ``found`` the order counter;
- ``active`` ZSET expanded site -> when a page of it last arrived (ms).

How many sites are expanded at once: ``active``, counted over the whole
crawl. A worker cannot see the requests of a site it claimed (any worker may
lease them), so a site counts as being crawled until none of its pages has
arrived for ``idle`` seconds, where the embedded crawl counts its requests
(crawler/expander.py); when no request waits in the frontier (keys.py's
``queued``), a site is claimed whatever the count, so the crawl never idles
on sites that are done but not yet quiet.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from crawler.discovery import (
    SIGNALS,
    DenyList,
    Expansion,
    ExpansionLimits,
    PageEvidence,
    Provenance,
    Strategy,
    Weights,
    keyword_hit,
    page_targets,
)
from crawler.domains import registered_domain
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.lua import EXPAND_CLAIM_LUA, EXPAND_OBSERVE_LUA

if TYPE_CHECKING:
    from collections.abc import Iterable

    import redis


class SharedDiscovery:
    """``Discovery``'s interface (observe, next, provenance) over one Redis.

    ``prefix`` is the crawl's key prefix, ``seeds_key`` the SET of its seed
    domains (keys.py's ``domains``). Every worker builds one with the same
    arguments; they share the candidates, the sites expanded and the budget.
    """

    def __init__(
        self,
        server: redis.Redis,
        prefix: str,
        seeds_key: str,
        watched: Iterable[str],
        limits: ExpansionLimits,
        strategy: Strategy | str = Strategy.FOCUSED,
        weights: Weights | None = None,
        deny: DenyList | None = None,
        keywords: Iterable[str] = (),
        active: int = 16,
        idle: float = 5.0,
    ) -> None:
        self.server = server
        self.active = active
        self.idle_ms = int(idle * 1000)
        self.prefix = prefix
        self.limits = limits
        self.strategy = Strategy(strategy)
        self.weights = weights or Weights()
        self.deny = deny or DenyList()
        self.keywords = tuple(k.lower() for k in keywords if k.strip())
        self._watched = frozenset(registered_domain(w) for w in watched)
        self._observe = server.register_script(EXPAND_OBSERVE_LUA)
        self._claim = server.register_script(EXPAND_CLAIM_LUA)
        weights_argv = [getattr(self.weights, n) for n in (*SIGNALS, "hop")]
        self._argv = [prefix, seeds_key, self.strategy.value, *weights_argv, limits.hops]

    def key(self, name: str) -> str:
        return FrontierKeys(self.prefix).expansion(name)

    def add_referring(self, domains: Iterable[str]) -> None:
        """Sites known to link to a watched domain (a Search Console export)."""
        names = list(domains)
        if names:
            self.server.sadd(self.key("referring"), *names)

    def observe(self, page: PageEvidence) -> int:
        """Take in one crawled page; returns the number of new candidates."""
        targets = page_targets(page, self._watched)
        now = int(time.time() * 1000)
        argv: list[object] = [now, page.domain, page.url, int(page.cites_watched), len(targets)]
        for domain, link in targets.items():
            if domain not in self.deny:
                argv += [domain, link.url, int(keyword_hit(page, domain, self.keywords))]
        return int(self._observe(args=[*self._argv, *argv]))

    def next(self) -> Expansion | None:
        """Claim the next site to expand for this worker; None if none or the budget is spent."""
        now = int(time.time() * 1000)
        limits = [self.limits.max_domains, self.active, now, self.idle_ms]
        reply = self._claim(args=[*self._argv, *limits])
        if not reply:
            return None
        fields = {k.decode(): v.decode() for k, v in zip(reply[::2], reply[1::2], strict=True)}
        record = Provenance(
            fields["domain"],
            fields["via"],
            fields["via_domain"],
            int(fields["hop"]),
            int(fields["order"]),
        )
        entry = fields["entry"]
        home = entry[: entry.index("/", 8) + 1]
        return Expansion(
            record.domain, tuple(dict.fromkeys((home, entry))), record, float(fields["score"])
        )

    def provenance(self) -> dict[str, Provenance]:
        """Every site expanded so far, with how the crawl came to it."""
        out = {}
        for domain, raw in self.server.hgetall(self.key("prov")).items():
            data = json.loads(raw)
            name = domain.decode()
            out[name] = Provenance(
                name, data["via"], data["via_domain"], int(data["hop"]), int(data["order"])
            )
        return out

    def referring(self) -> set[str]:
        return {d.decode() for d in self.server.smembers(self.key("referring"))}

    def discovered(self) -> list[Provenance]:
        """Expanded sites found referring, in the order they were found."""
        referring = self.referring()
        found = [p for d, p in self.provenance().items() if d in referring]
        return sorted(found, key=lambda p: p.order)
