"""A report (changes.Changes or changes.Summary) as a message: a subject that
states the counts, a plain text, an HTML page (a mail's second part, with
inline styles only, which mail clients keep) and a JSON payload. Pure: values
in, values out.

The JSON payload is what a webhook receives and a file channel appends:

    text                  the plain text: Slack, Mattermost and Discord's Slack-compatible
                          endpoint (URL + "/slack") show it as the message
    kind                  "changes", or "summary" (the first send to a channel)
    domain                the watched domain or host
    since, until          the window reported: after since, up to until (ISO 8601 UTC);
                          since is null in a summary
    new, lost             edge records (crawler/items.py); lost ones carry lost_reason
    new_refdomains, lost_refdomains, competitors_new_refdomains
                          {"domain", "authority"} (+ "competitors" for the last)
    summary               a summary only: backlinks, followed, refdomains, strongest

The structured lists are complete; the text and HTML list at most LISTED items
of each kind and say how many more there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.alerts.changes import Changes, Referrer, Summary
    from crawler.items import EdgeItem

# Items of each kind written out in the text and HTML of a message.
LISTED = 50


@dataclass(frozen=True, slots=True)
class Message:
    """One message about one domain, in every form a channel may want."""

    domain: str
    subject: str
    text: str
    html: str
    payload: dict[str, Any]


def changes_message(changes: Changes) -> Message:
    headline = changes_headline(changes)
    text = changes_text(changes, headline)
    return Message(
        domain=changes.domain,
        subject=f"linkwatch: {changes.domain}: {headline}",
        text=text,
        html=changes_html(changes, headline),
        payload=payload(
            text,
            "changes",
            changes.domain,
            since=changes.window.since,
            until=changes.window.until,
            new=changes.new,
            lost=changes.lost,
            new_refdomains=changes.new_refdomains,
            lost_refdomains=changes.lost_refdomains,
            competitors_new_refdomains=changes.competitors,
        ),
    )


def summary_message(summary: Summary) -> Message:
    headline = summary_headline(summary)
    text = summary_text(summary, headline)
    return Message(
        domain=summary.domain,
        subject=f"linkwatch: {summary.domain}: {headline}",
        text=text,
        html=summary_html(summary, headline),
        payload=payload(text, "summary", summary.domain, since=None, until=summary.at)
        | {
            "summary": {
                "backlinks": summary.backlinks,
                "followed": summary.followed,
                "refdomains": summary.refdomains,
                "strongest": summary.strongest,
            },
        },
    )


def payload(
    text: str,
    kind: str,
    domain: str,
    *,
    since: str | None,
    until: str,
    new: list[dict[str, Any]] | None = None,
    lost: list[dict[str, Any]] | None = None,
    new_refdomains: list[Any] | None = None,
    lost_refdomains: list[Any] | None = None,
    competitors_new_refdomains: list[Any] | None = None,
) -> dict[str, Any]:
    """The JSON a webhook or a file gets: the same keys for every kind of
    message (a summary's change lists are empty), so a script reads one shape."""
    return {
        "text": text,
        "kind": kind,
        "domain": domain,
        "since": since,
        "until": until,
        "new": new or [],
        "lost": lost or [],
        "new_refdomains": new_refdomains or [],
        "lost_refdomains": lost_refdomains or [],
        "competitors_new_refdomains": competitors_new_refdomains or [],
    }


# --- headlines: the counts, for the subject and the first line ---------------------------


def changes_headline(changes: Changes) -> str:
    clauses = [
        clause
        for clause in (
            counts(len(changes.new), len(changes.lost), "backlink"),
            counts(len(changes.new_refdomains), len(changes.lost_refdomains), "referring domain"),
        )
        if clause
    ]
    if changes.competitors:
        clauses.append(plural(len(changes.competitors), "new referring domain") + " of competitors")
    return "; ".join(clauses) or "no change"


def summary_headline(summary: Summary) -> str:
    return (
        f"{plural(summary.backlinks, 'live backlink')} from "
        f"{plural(summary.refdomains, 'referring domain')}"
    )


def counts(new: int, lost: int, noun: str) -> str:
    """'3 new and 2 lost backlinks', '1 lost backlink', or '' for none."""
    if new and lost:
        return f"{new:,} new and {lost:,} lost {noun}s"
    if new:
        return plural(new, f"new {noun}")
    if lost:
        return plural(lost, f"lost {noun}")
    return ""


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


# --- plain text ------------------------------------------------------------------------


def changes_text(changes: Changes, headline: str) -> str:
    window = changes.window
    lines = [
        f"linkwatch: {changes.domain}: {headline}",
        f"Between {when(window.since)} and {when(window.until)}.",
    ]
    section(lines, "Lost backlinks", changes.lost, lost_line, f"linkwatch lost {changes.domain}")
    section(lines, "New backlinks", changes.new, new_line, f"linkwatch new {changes.domain}")
    section(lines, "New referring domains", changes.new_refdomains, referrer_line)
    section(lines, "Lost referring domains", changes.lost_refdomains, referrer_line)
    section(
        lines,
        f"Competitors' new referring domains, not linking to {changes.domain}",
        changes.competitors,
        competitor_line,
    )
    return "\n".join(lines) + "\n"


def section(lines: list[str], title: str, items: list, line, command: str = "") -> None:
    if not items:
        return
    lines += ["", f"{title} ({len(items):,}):"]
    lines += ["- " + line(item) for item in items[:LISTED]]
    if len(items) > LISTED:
        more = f"... and {len(items) - LISTED:,} more"
        lines.append(more + (f" (`{command} --since DATE` lists them)" if command else ""))


def lost_line(edge: EdgeItem) -> str:
    return f"{edge['source_url']} -> {edge['target_url']} ({edge['lost_reason']})"


def new_line(edge: EdgeItem) -> str:
    anchor = f' "{edge["anchor"]}"' if edge.get("anchor") else ""
    return f"{edge['source_url']} -> {edge['target_url']}{anchor}" + (
        " (nofollow)" if edge.get("nofollow") else ""
    )


def referrer_line(referrer: Referrer) -> str:
    return f"{referrer['domain']} ({authority(referrer['authority'])})"


def competitor_line(referrer: Referrer) -> str:
    return f"{referrer_line(referrer)} links to {', '.join(referrer['competitors'])}"


def summary_text(summary: Summary, headline: str) -> str:
    followed = (
        f" ({summary.followed / summary.backlinks:.0%} followed)" if summary.backlinks else ""
    )
    lines = [
        f"linkwatch: {summary.domain}: {headline}{followed}, on {when(summary.at)}.",
        f"This channel now gets the new and lost backlinks of {summary.domain}.",
    ]
    if summary.strongest:
        lines += ["", "Strongest referring domains:"]
        lines += [
            f"- {s['domain']} ({authority(s['authority'])}, {plural(s['edges'], 'backlink')})"
            for s in summary.strongest
        ]
    return "\n".join(lines) + "\n"


def authority(value: float | None) -> str:
    return "unranked" if value is None else f"authority {value:g}"


def when(moment: str) -> str:
    """An ISO 8601 UTC time as people read it: '2026-12-07 10:00:00 UTC'."""
    return moment.replace("T", " ").replace("Z", " UTC")


# --- HTML ------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:0;padding:24px;background:#f4f5f7;font:14px/1.45 -apple-system,'Segoe UI',\
Helvetica,Arial,sans-serif;color:#1d2330">
<div style="max-width:760px;margin:0 auto;background:#fff;border:1px solid #dde1e7;\
border-radius:6px;padding:20px 24px">
<div style="font-size:12px;color:#6b7385;text-transform:uppercase;letter-spacing:.05em">\
linkwatch</div>
<h1 style="font-size:20px;margin:4px 0 2px">{domain}</h1>
<p style="margin:0 0 4px;font-size:15px"><strong>{headline}</strong></p>
<p style="margin:0 0 16px;color:#6b7385">{when}</p>
{body}
<p style="margin:20px 0 0;font-size:12px;color:#6b7385">{footer}</p>
</div></body></html>
"""
CELL = "padding:4px 8px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top"
HEAD = CELL + ";font-weight:600;color:#4a5263;background:#f7f8fa"
TONE = {"lost": "#b42318", "new": "#067647", "competitors": "#175cd3"}


def changes_html(changes: Changes, headline: str) -> str:
    domain = changes.domain
    parts = [
        table("Lost backlinks", "lost", changes.lost, ("Linking page", "Links to", "Reason"),
              lambda e: (link(e["source_url"]), link(e["target_url"]), code(e["lost_reason"]))),
        table("New backlinks", "new", changes.new, ("Linking page", "Links to", "Anchor"),
              lambda e: (link(e["source_url"]), link(e["target_url"]), anchor_cell(e))),
        table("New referring domains", "new", changes.new_refdomains, ("Domain", "Authority"),
              lambda r: (escape(r["domain"]), authority_cell(r["authority"]))),
        table("Lost referring domains", "lost", changes.lost_refdomains, ("Domain", "Authority"),
              lambda r: (escape(r["domain"]), authority_cell(r["authority"]))),
        table(f"Competitors' new referring domains, not linking to {domain}", "competitors",
              changes.competitors, ("Domain", "Authority", "Links to"),
              lambda r: (escape(r["domain"]), authority_cell(r["authority"]),
                         escape(", ".join(r["competitors"])))),
    ]  # fmt: skip
    return PAGE.format(
        title=escape(f"linkwatch: {domain}: {headline}"),
        domain=escape(domain),
        headline=escape(headline),
        when=escape(f"Between {when(changes.window.since)} and {when(changes.window.until)}"),
        body="\n".join(part for part in parts if part),
        footer=f"Each change is reported once. {code(f'linkwatch lost {domain} --since DATE')} "
        f"and {code(f'linkwatch new {domain} --since DATE')} list them all.",
    )


def summary_html(summary: Summary, headline: str) -> str:
    followed = (
        f" ({summary.followed / summary.backlinks:.0%} followed)" if summary.backlinks else ""
    )
    body = table(
        "Strongest referring domains", "new", summary.strongest,
        ("Domain", "Authority", "Backlinks"),
        lambda s: (escape(s["domain"]), authority_cell(s["authority"]), f"{s['edges']:,}"),
    )  # fmt: skip
    return PAGE.format(
        title=escape(f"linkwatch: {summary.domain}: {headline}"),
        domain=escape(summary.domain),
        headline=escape(headline + followed),
        when=escape(f"On {when(summary.at)}"),
        body=body,
        footer=escape(
            f"This channel now gets the new and lost backlinks of {summary.domain}, "
            "each change once."
        ),
    )


def table(title: str, tone: str, items: list, columns: tuple[str, ...], cells) -> str:
    """A titled table of at most LISTED items (empty: no table at all)."""
    if not items:
        return ""
    head = "".join(f'<th style="{HEAD}">{escape(c)}</th>' for c in columns)
    rows = "".join(
        "<tr>" + "".join(f'<td style="{CELL}">{cell}</td>' for cell in cells(item)) + "</tr>"
        for item in items[:LISTED]
    )
    more = (
        f'<p style="margin:4px 0;color:#6b7385">... and {len(items) - LISTED:,} more</p>'
        if len(items) > LISTED
        else ""
    )
    return (
        f'<h2 style="font-size:15px;margin:18px 0 6px;color:{TONE[tone]}">'
        f"{escape(title)} ({len(items):,})</h2>\n"
        f'<table style="border-collapse:collapse;width:100%;font-size:13px">'
        f"<tr>{head}</tr>{rows}</table>{more}"
    )


def link(url: str) -> str:
    return f'<a href="{escape(url)}" style="color:#175cd3;word-break:break-all">{escape(url)}</a>'


def code(text: str | None) -> str:
    return f'<code style="font-size:12px">{escape(text or "")}</code>'


def anchor_cell(edge: EdgeItem) -> str:
    anchor = escape(edge.get("anchor") or "")
    return anchor + (
        ' <span style="color:#6b7385">(nofollow)</span>' if edge.get("nofollow") else ""
    )


def authority_cell(value: float | None) -> str:
    return "unranked" if value is None else f"{value:g}"
