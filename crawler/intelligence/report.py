"""The backlink report: one HTML page and its charts (matplotlib PNGs) in a directory.

The directory is self-contained: index.html refers only to the PNGs beside
it (no scripts, no fonts, no network), so it can be zipped, mailed or served
as it is. Charts: referring domains over time, new and lost links over time,
top anchors, top referring domains by authority, followed and nofollow links,
toxic domains; overview.png has all six on one image. Tables: the top
referring domains, toxic domains, anchors, and the broken target pages as
`linkwatch broken` last checked them (broken.py).

Takes the numbers (ReportData) and writes files; reading the store is the
command's job (crawler/cli/commands/). Matplotlib runs headless (Agg)
through its object API, never pyplot's global state.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crawler.intelligence.timeline import Timeline
    from crawler.intelligence.toxic import ToxicDomain

CHARTS = (
    ("refdomains", "Referring domains over time"),
    ("new_lost", "New and lost links over time"),
    ("anchors", "Top anchors"),
    ("authority", "Top referring domains by authority"),
    ("follow", "Followed and nofollow links"),
    ("toxic", "Toxic referring domains"),
)
TOP = 15
GREEN, RED, BLUE, GREY, AMBER = "#2e7d32", "#c62828", "#1565c0", "#9e9e9e", "#ef6c00"


@dataclass(slots=True)
class ReportData:
    """Everything the report shows, computed by the command from the store."""

    target: str
    generated_at: str
    live_edges: int
    dofollow: int
    lost_edges: int
    refdomains: int
    timeline: Timeline
    anchors: list[dict[str, Any]]  # anchor, edges, refdomains; most used first
    top_domains: list[dict[str, Any]]  # source_domain, authority, harmonic, edges, dofollow
    toxic: list[ToxicDomain]  # score > 0, most toxic first
    ranked_at: str | None = None
    min_score: int = 50
    notes: list[str] = field(default_factory=list)
    # Broken targets from the checks cache (broken.py's BROKEN_COLUMNS), strongest
    # first; None: no target was checked yet.
    broken: list[dict[str, Any]] | None = None
    # Network diversity (network.diversity): refdomains, ips, subnets, ratio.
    network: dict[str, Any] | None = None
    # Live edges of highest and lowest quality, each with its `quality`.
    strongest: list[dict[str, Any]] = field(default_factory=list)
    weakest: list[dict[str, Any]] = field(default_factory=list)

    @property
    def nofollow(self) -> int:
        return self.live_edges - self.dofollow


def _label(text: str, width: int = 38) -> str:
    text = " ".join(text.split()) or "(no text: image or frame)"
    return text if len(text) <= width else text[: width - 1] + "…"


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", color=GREY, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _dates(ax: Axes, data: ReportData) -> None:
    import matplotlib.dates as mdates

    starts = data.timeline.starts
    # At least three bins wide: a crawl of one afternoon is still a time axis.
    if len(starts) < 3:
        step = timedelta(seconds=_bin_seconds(data))
        ax.set_xlim(starts[0] - step, starts[-1] + 2 * step)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _bin_seconds(data: ReportData) -> int:
    units = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
    return units.get(data.timeline.unit, 30 * 86400)


def _bar_width(data: ReportData) -> float:
    return 0.8 * _bin_seconds(data) / 86400  # matplotlib dates are in days


def draw_refdomains(ax: Axes, data: ReportData) -> None:
    t = data.timeline
    if t.empty:
        return _empty(ax, "no backlinks yet")
    ax.step(t.starts, t.refdomains, where="post", color=BLUE, linewidth=2)
    ax.fill_between(t.starts, t.refdomains, step="post", color=BLUE, alpha=0.15)
    ax.set_ylabel("referring domains")
    ax.set_ylim(bottom=0)
    _dates(ax, data)


def draw_new_lost(ax: Axes, data: ReportData) -> None:
    t = data.timeline
    if t.empty:
        return _empty(ax, "no backlinks yet")
    width = _bar_width(data)
    ax.bar(t.starts, t.new, width=width, color=GREEN, label="new", align="edge")
    ax.bar(t.starts, [-n for n in t.lost], width=width, color=RED, label="lost", align="edge")
    ax.axhline(0, color=GREY, linewidth=0.8)
    ax.set_ylabel(f"links per {t.unit}")
    ax.legend(loc="best", frameon=False)
    _dates(ax, data)


def _barh(ax: Axes, labels: Sequence[str], values: Sequence[float], colors: Any, xlabel: str):
    if not labels:
        return _empty(ax, "nothing to show")
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=colors, height=0.7)
    ax.set_yticks(positions, labels=list(labels), fontsize=8)
    # Few bars keep their thickness, at the top.
    ax.set_ylim(len(labels) - max(len(labels), 8) - 0.5, len(labels) - 0.5)
    ax.set_xlabel(xlabel)
    for position, value in zip(positions, values, strict=True):
        ax.text(value, position, f" {value:g}", va="center", fontsize=7)
    return None


def draw_anchors(ax: Axes, data: ReportData) -> None:
    rows = data.anchors[:TOP]
    _barh(ax, [_label(r["anchor"]) for r in rows], [r["edges"] for r in rows], BLUE, "live links")


def draw_authority(ax: Axes, data: ReportData) -> None:
    rows = [r for r in data.top_domains if r.get("authority") is not None][:TOP]
    if not rows and data.top_domains:
        return _empty(ax, "not ranked yet: run `linkwatch rank`")
    _barh(
        ax,
        [_label(r["source_domain"], 30) for r in rows],
        [round(r["authority"], 1) for r in rows],
        BLUE,
        "authority (PageRank, 0-100)",
    )
    ax.set_xlim(0, 110)
    return None


def draw_follow(ax: Axes, data: ReportData) -> None:
    if not data.live_edges:
        return _empty(ax, "no live links")
    values = [data.dofollow, data.nofollow]
    ax.pie(
        values,
        labels=[f"followed\n{data.dofollow}", f"nofollow\n{data.nofollow}"],
        colors=[GREEN, GREY],
        autopct="%1.0f%%",
        startangle=90,
        counterclock=False,
        wedgeprops={"linewidth": 1, "edgecolor": "white"},
    )
    ax.set_aspect("equal")
    return None


def draw_toxic(ax: Axes, data: ReportData) -> None:
    rows = data.toxic[:TOP]
    if not rows:
        return _empty(ax, "no rule fired")
    colors = [RED if t.score >= data.min_score else AMBER for t in rows]
    _barh(ax, [_label(t.domain, 30) for t in rows], [t.score for t in rows], colors, "score")
    ax.set_xlim(0, 110)
    return None


DRAW: dict[str, Callable[[Axes, ReportData], None]] = {
    "refdomains": draw_refdomains,
    "new_lost": draw_new_lost,
    "anchors": draw_anchors,
    "authority": draw_authority,
    "follow": draw_follow,
    "toxic": draw_toxic,
}


def render_charts(
    data: ReportData, out: Path, progress: Callable[[int, int], None] | None = None
) -> dict[str, str]:
    """Every chart as a PNG in `out`, then the overview; name -> file name."""
    from matplotlib.figure import Figure

    files: dict[str, str] = {}
    total = len(CHARTS) + 1
    with warnings.catch_warnings():
        # A glyph the bundled font lacks (an anchor in another script) is drawn
        # as a box: worth no warning on every run.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        for done, (name, title) in enumerate(CHARTS, 1):
            figure = Figure(figsize=(7, 4), layout="constrained")
            ax = figure.subplots()
            DRAW[name](ax, data)
            ax.set_title(title, fontsize=11, loc="left")
            files[name] = f"{name}.png"
            figure.savefig(out / files[name], dpi=100)
            if progress is not None:
                progress(done, total)
        files["overview"] = "overview.png"
        _overview(data, [out / files[name] for name, _ in CHARTS], out / files["overview"])
        if progress is not None:
            progress(total, total)
    return files


def _overview(data: ReportData, charts: list[Path], path: Path) -> None:
    """The six charts on one image, two a row, under a title (pasted, not redrawn)."""
    from matplotlib import font_manager
    from PIL import Image, ImageDraw, ImageFont

    images = [Image.open(chart).convert("RGB") for chart in charts]
    width, height = images[0].size
    header = 60
    sheet = Image.new("RGB", (2 * width, header + 3 * height), "white")
    for i, image in enumerate(images):
        sheet.paste(image, ((i % 2) * width, header + (i // 2) * height))
        image.close()
    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), 28)
    ImageDraw.Draw(sheet).text(
        (16, 14), f"Backlink report: {data.target}", fill="#222222", font=font
    )
    sheet.save(path, optimize=True)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return '<p class="none">None.</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
.meta{color:#666}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.5rem}.charts{display:grid;
grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1rem}
img{max-width:100%;border:1px solid #eee}table{border-collapse:collapse;width:100%;
font-size:.9rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;
vertical-align:top}th{background:#f6f6f6}.none{color:#888}td.num{text-align:right}
"""


def _broken_section(rows: list[dict[str, Any]] | None, target: str) -> str:
    """The broken target pages as a table; a hint when none was checked yet."""
    if rows is None:
        hint = f"Not checked yet: run <code>linkwatch broken {_e(target)}</code>."
        return f'<p class="none">{hint}</p>'
    return _table(
        ("target page", "status", "redirects to", "linking pages", "referring domains",
         "strongest referring domain", "authority", "checked"),
        [
            (r["target_url"], r["status"], r["final_url"], r["linking_pages"], r["refdomains"],
             r["strongest_domain"], r["authority"], r["checked_at"])
            for r in rows[:100]
        ],
    )  # fmt: skip


def _network_section(network: dict[str, Any] | None) -> str:
    if not network or not network["refdomains"]:
        return '<p class="none">No referring domains.</p>'
    ratio = network["ip_subnet_ratio"]
    unknown = network["unknown"]
    missing = f"; {unknown:,} of no known address" if unknown else ""
    return (
        f"<p>{network['refdomains']:,} referring domains served from {network['ips']:,} "
        f"IP addresses in {network['subnets']:,} subnets (/24 or /48): "
        f"<b>{ratio if ratio is not None else '—'}</b> IPs per subnet{missing}. "
        "Majestic reads 1.2-1.8 as typical; many domains on few subnets are more often one "
        "network than independent links (<code>linkwatch refdomains DOMAIN --by subnet</code>). "
        "Through a proxy every address is the proxy's.</p>"
    )


def _links_table(rows: list[dict[str, Any]]) -> str:
    return _table(
        ("quality", "linking page", "target", "anchor", "placement", "followed", "authority"),
        [
            (r["quality"], r["source_url"], r["target_url"], r["anchor"] or r.get("alt") or "",
             r.get("placement") or "unknown", "no" if r["nofollow"] else "yes", r.get("authority"))
            for r in rows
        ],
    )  # fmt: skip


def write_report(
    data: ReportData,
    out: Path,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write index.html and the charts into `out` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    files = render_charts(data, out, progress)
    cards = [
        ("live backlinks", data.live_edges),
        ("referring domains", data.refdomains),
        ("followed", data.dofollow),
        ("nofollow", data.nofollow),
        ("lost backlinks", data.lost_edges),
        (
            f"toxic domains (score ≥ {data.min_score})",
            sum(t.score >= data.min_score for t in data.toxic),
        ),
    ]
    cards_html = "".join(f'<div class="card"><b>{v:,}</b>{_e(k)}</div>' for k, v in cards)
    charts = "".join(
        f'<figure><img src="{_e(files[name])}" alt="{_e(title)}"></figure>'
        for name, title in CHARTS
    )
    anchors = _table(
        ("anchor", "live links", "referring domains"),
        [(r["anchor"] or "(no text)", r["edges"], r["refdomains"]) for r in data.anchors[:50]],
    )
    domains = _table(
        ("referring domain", "authority", "harmonic", "live links", "followed"),
        [
            (r["source_domain"], r.get("authority"), r.get("harmonic"), r["edges"], r["dofollow"])
            for r in data.top_domains[:50]
        ],
    )
    toxic = _table(
        ("referring domain", "score", "links", "rules and evidence"),
        [
            (t.domain, t.score, t.edges, " | ".join(flag.text() for flag in t.flags))
            for t in data.toxic[:100]
        ],
    )
    broken = _broken_section(data.broken, data.target)
    network = _network_section(data.network)
    strongest = _links_table(data.strongest)
    weakest = _links_table(data.weakest)
    ranked = (
        f"Authority as ranked at {data.ranked_at}."
        if data.ranked_at
        else "Not ranked yet: run <code>linkwatch rank</code> for authority."
    )
    notes = "".join(f"<li>{_e(note)}</li>" for note in data.notes)
    notes_html = f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backlink report: {_e(data.target)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Backlink report: {_e(data.target)}</h1>
<p class="meta">Generated {_e(data.generated_at)} by linkwatch. {ranked}</p>
<div class="cards">{cards_html}</div>
<p><a href="{_e(files["overview"])}">All charts on one image</a></p>
<h2>Charts</h2>
<div class="charts">{charts}</div>
<h2>Top referring domains by authority</h2>
<p>Authority is the referring domain's PageRank on the domain graph of the crawl, on a
log scale from 0 (nobody links to it) to 100 (the highest); harmonic is its harmonic
centrality, 0-100 as a share of the highest.</p>
{domains}
<h2>Toxic referring domains</h2>
<p>Each rule that fired adds its weight; the evidence is what made it fire. Whitelisted
domains are left out.</p>
{toxic}
<h2>Strongest links</h2>
<p>Live backlinks of the highest quality (0-100: the referring domain's authority, follow,
placement, anchor and sitewide terms, scaled down by its toxic score;
<code>linkwatch explain SOURCE TARGET</code> shows the terms of one).</p>
{strongest}
<h2>Weakest links</h2>
{weakest}
<h2>Network diversity</h2>
{network}
<h2>Top anchors</h2>
{anchors}
<h2>Broken target pages</h2>
<p>Your pages that live backlinks point to but that answer 4xx or 5xx, or redirect to
a page that does, as <code>linkwatch broken</code> last checked them: redirect them to
a live page and their links count again. Strongest referring domain first.</p>
{broken}
{notes_html}
</body>
</html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
