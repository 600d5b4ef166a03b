"""Authority of domains: PageRank and harmonic centrality on the domain graph.

The *domain graph* has one node per registered domain and an edge A → B when
a crawled page of A links to a page of B (crawler/items.py `domain_links`,
aggregated by the store). It is unweighted, as in Common Crawl's web graphs:
a thousand links from A to B count as one, so volume buys no authority.

- **PageRank** (damping 0.85): the chance that a surfer who follows a random
  link with probability 0.85, and otherwise jumps to a random domain, is on a
  domain. A domain without outlinks (*dangling*: never crawled, or linking
  nowhere) hands its rank to every domain equally, so ranks sum to 1. Power
  iteration on a scipy sparse matrix: O(edges) per iteration.
- **Harmonic centrality**: H(v) = Σ 1/d(u, v) over the domains u ≠ v that
  reach v, d the number of links on a shortest path from u to v (paths *into*
  v, as Common Crawl defines it; unreachable domains add 0). Exact, it takes a
  breadth-first search from every domain: O(domains x edges). Above
  `exact_limit` domains it is *estimated* from `samples` random source domains
  (H ≈ n/k Σ over the sample; unbiased, relative error ~ 1/√k for domains with
  many in-paths), and the result says so.

Scaled to 0-100 for people: PageRank on a log scale between the lowest rank
(a domain nobody links to) and the highest, so each step is a factor, as
PageRank spans orders of magnitude; harmonic centrality linearly, as a share
of the highest value. A domain's *authority* is its scaled PageRank.

Pure: numbers in, numbers out; `progress(done, total)` is called on long work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from crawler.intelligence.authority import (
    DAMPING,
    EXACT_LIMIT,
    MAX_ITERATIONS,
    SAMPLES,
    TOLERANCE,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

Progress = Callable[[int, int], None]

# Distances held at once while summing 1/d: batch of sources x domains floats.
_DISTANCE_CELLS = 1 << 23


@dataclass(frozen=True, slots=True)
class DomainGraph:
    """Registered domains (`names`, node i) and an n x n 0/1 adjacency matrix."""

    names: list[str]
    adjacency: sparse.csr_matrix

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> DomainGraph:
        """The graph of (source domain, target domain) pairs; repeats and
        self-links are dropped."""
        index: dict[str, int] = {}
        sources: list[int] = []
        targets: list[int] = []
        for source, target in pairs:
            if source == target:
                continue
            sources.append(index.setdefault(source, len(index)))
            targets.append(index.setdefault(target, len(index)))
        n = len(index)
        matrix = sparse.csr_matrix(
            (np.ones(len(sources)), (np.asarray(sources, np.int64), np.asarray(targets, np.int64))),
            shape=(n, n),
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return cls(list(index), matrix)

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def edges(self) -> int:
        return int(self.adjacency.nnz)


@dataclass(frozen=True, slots=True)
class PageRank:
    """PageRank of each domain (graph order), and how the iteration ended."""

    values: NDArray[np.float64]  # sums to 1
    iterations: int
    converged: bool


def pagerank(
    graph: DomainGraph,
    damping: float = DAMPING,
    *,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
    progress: Progress | None = None,
) -> PageRank:
    """PageRank by power iteration; dangling domains spread their rank evenly."""
    n = graph.size
    if n == 0:
        return PageRank(np.zeros(0), 0, True)
    out_degree = np.asarray(graph.adjacency.sum(axis=1)).ravel()
    dangling = out_degree == 0
    inverse = np.where(dangling, 0.0, 1.0 / np.maximum(out_degree, 1.0))
    # x_{k+1} = d (Aᵀ D⁻¹ x_k + dangling mass / n) + (1 - d) / n
    transposed = graph.adjacency.T.tocsr()
    x = np.full(n, 1.0 / n)
    for iteration in range(1, max_iterations + 1):
        spread = transposed @ (x * inverse)
        following = damping * (spread + x[dangling].sum() / n) + (1.0 - damping) / n
        change = np.abs(following - x).sum()
        x = following
        if progress is not None:
            progress(iteration, 0)  # 0: the number of iterations is not known ahead
        if change < n * tolerance:
            return PageRank(x / x.sum(), iteration, True)
    return PageRank(x / x.sum(), max_iterations, False)


@dataclass(frozen=True, slots=True)
class Harmonic:
    """Harmonic centrality of each domain (graph order), exact or estimated."""

    values: NDArray[np.float64]
    exact: bool
    sources: int  # BFS runs: every domain when exact, else the sample size


def harmonic_centrality(
    graph: DomainGraph,
    *,
    exact_limit: int = EXACT_LIMIT,
    samples: int = SAMPLES,
    seed: int = 0,
    progress: Progress | None = None,
) -> Harmonic:
    """Harmonic centrality of every domain (incoming paths), exact up to
    `exact_limit` domains, else estimated from `samples` random sources."""
    n = graph.size
    exact = n <= exact_limit or samples >= n
    if exact:
        sources = np.arange(n)
    else:
        sources = np.sort(np.random.default_rng(seed).choice(n, size=samples, replace=False))
    total = np.zeros(n)
    batch = max(1, min(256, _DISTANCE_CELLS // max(n, 1)))
    for start in range(0, len(sources), batch):
        chunk = sources[start : start + batch]
        distances = csgraph.shortest_path(
            graph.adjacency, method="D", directed=True, unweighted=True, indices=chunk
        )
        distances = np.atleast_2d(distances)
        with np.errstate(divide="ignore"):
            inverse = np.where(np.isfinite(distances) & (distances > 0), 1.0 / distances, 0.0)
        total += inverse.sum(axis=0)
        if progress is not None:
            progress(min(start + batch, len(sources)), len(sources))
    if not exact:
        total *= n / len(sources)
    return Harmonic(total, exact, len(sources))


def scale_pagerank(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """0-100 on a log scale: 0 for the lowest rank, 100 for the highest."""
    if len(values) == 0:
        return np.zeros(0)
    logs = np.log(np.maximum(values, np.finfo(float).tiny))
    low, high = logs.min(), logs.max()
    if not high - low > 1e-12:
        return np.zeros(len(values))
    return 100.0 * (logs - low) / (high - low)


def scale_harmonic(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """0-100 as a share of the highest value (0 for domains nobody reaches)."""
    if len(values) == 0:
        return np.zeros(0)
    high = values.max()
    return 100.0 * values / high if high > 0 else np.zeros(len(values))


@dataclass(frozen=True, slots=True)
class Ranking:
    """Every domain's scores, and how they were computed. Rows are made on
    demand: a million dicts would cost more memory than the graph."""

    names: list[str]
    pagerank: NDArray[np.float64]  # 0-100
    harmonic: NDArray[np.float64]  # 0-100
    pagerank_raw: NDArray[np.float64]
    harmonic_raw: NDArray[np.float64]
    iterations: int
    converged: bool
    harmonic_exact: bool
    harmonic_sources: int

    def row(self, i: int) -> dict[str, Any]:
        return {
            "domain": self.names[i],
            "pagerank": float(self.pagerank[i]),
            "harmonic": float(self.harmonic[i]),
            "pagerank_raw": float(self.pagerank_raw[i]),
            "harmonic_raw": float(self.harmonic_raw[i]),
        }

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every domain, in graph order."""
        return (self.row(i) for i in range(len(self.names)))

    def top(self, count: int) -> list[dict[str, Any]]:
        """The `count` highest: by PageRank, then harmonic centrality, then name."""
        if count <= 0 or not self.names:
            return []
        count = min(count, len(self.names))
        # Candidates by score first (cheap), then the exact order among them.
        cut = np.partition(-self.pagerank, count - 1)[count - 1]
        candidates = np.flatnonzero(-self.pagerank <= cut)
        order = sorted(
            candidates.tolist(),
            key=lambda i: (-self.pagerank[i], -self.harmonic[i], self.names[i]),
        )
        return [self.row(i) for i in order[:count]]


def rank_domains(
    graph: DomainGraph,
    *,
    damping: float = DAMPING,
    exact_limit: int = EXACT_LIMIT,
    samples: int = SAMPLES,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> Ranking:
    """PageRank and harmonic centrality of every domain, raw and scaled (to
    two decimals: the scores people read)."""

    def stage(name: str) -> Progress | None:
        return None if progress is None else lambda done, total: progress(name, done, total)

    pr = pagerank(graph, damping, progress=stage("pagerank"))
    hc = harmonic_centrality(
        graph, exact_limit=exact_limit, samples=samples, seed=seed, progress=stage("harmonic")
    )
    return Ranking(
        names=graph.names,
        pagerank=np.round(scale_pagerank(pr.values), 2),
        harmonic=np.round(scale_harmonic(hc.values), 2),
        pagerank_raw=pr.values,
        harmonic_raw=hc.values,
        iterations=pr.iterations,
        converged=pr.converged,
        harmonic_exact=hc.exact,
        harmonic_sources=hc.sources,
    )
