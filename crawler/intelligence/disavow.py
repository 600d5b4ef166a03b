"""Google disavow files, and the whitelist that keeps domains out of them.

A disavow file (Search Console) is UTF-8 text, one entry a line:
`domain:example.com` (every link from that domain) or a URL (links from that
page), `#` starts a comment line, blank lines are allowed; at most 100,000
lines and 2 MB. We write domain lines only (toxicity is judged per referring
domain), each after comments with its score and the rules that fired (one
line each, with the evidence), in ASCII: internationalized domains in
punycode (`domain:xn--bcher-kva.example`).

When the limits are reached, the reasons are dropped first (domains keep
their order), then the lowest-scoring domains; the file says how many were
left out.

The whitelist file takes the same lines (`domain:x`, a URL, or a bare domain,
`#` comments): a whitelisted registered domain is never disavowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crawler.domains import clean_domain, registered_domain
from crawler.urls import RejectedURL, normalize_url, url_host

MAX_LINES = 100_000
# Google says 2 MB; counted in decimal megabytes, the stricter reading.
MAX_BYTES = 2_000_000
MAX_COMMENT = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


@dataclass(frozen=True, slots=True)
class Disavowed:
    """A domain to disavow and why."""

    domain: str  # registered domain, punycode
    score: int
    reasons: tuple[str, ...] = ()  # one comment line each


@dataclass(frozen=True, slots=True)
class DisavowFile:
    """The file's text, the domains it lists, and what the limits left out."""

    text: str
    domains: list[str]  # written, in order
    left_out: int  # disavowable domains that did not fit
    reasons_dropped: bool

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


def comment(text: str) -> str:
    """One `#` line: control characters and line breaks become spaces."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    if len(flat) > MAX_COMMENT:
        flat = flat[: MAX_COMMENT - 1] + "…"
    return f"# {flat}" if flat else "#"


def ascii_domain(domain: str) -> str:
    """A domain as a disavow line wants it: lower-case ASCII, IDNs in punycode."""
    cleaned = clean_domain(domain)
    cleaned.encode("ascii")  # punycode by construction; fail loudly if not
    return cleaned


def build_disavow(
    entries: Iterable[Disavowed],
    header: Sequence[str] = (),
    *,
    max_lines: int = MAX_LINES,
    max_bytes: int = MAX_BYTES,
) -> DisavowFile:
    """A disavow file of `entries` (highest score first), within the limits."""
    ordered = sorted(entries, key=lambda e: (-e.score, e.domain))
    seen: set[str] = set()
    unique = []
    for entry in ordered:
        domain = ascii_domain(entry.domain)
        if domain not in seen:
            seen.add(domain)
            unique.append(Disavowed(domain, entry.score, entry.reasons))
    head = [comment(line) for line in header]
    # Room for the two notes that may follow (reasons dropped, domains left out).
    reserve_lines, reserve_bytes = 2, 200

    def attempt(with_reasons: bool) -> tuple[list[str], list[str]]:
        lines = list(head)
        written: list[str] = []
        size = sum(len(x.encode()) + 1 for x in lines)
        for entry in unique:
            block = [f"domain:{entry.domain}"]
            if with_reasons:
                block[:0] = [
                    comment(f"{entry.domain}: score {entry.score}"),
                    *(comment(f"- {reason}") for reason in entry.reasons),
                ]
            block_size = sum(len(x.encode()) + 1 for x in block)
            if (
                len(lines) + len(block) + reserve_lines > max_lines
                or size + block_size + reserve_bytes > max_bytes
            ):
                break
            lines += block
            size += block_size
            written.append(entry.domain)
        return lines, written

    lines, written = attempt(with_reasons=True)
    reasons_dropped = False
    if len(written) < len(unique):
        lines, written = attempt(with_reasons=False)
        reasons_dropped = True
    left_out = len(unique) - len(written)
    if reasons_dropped:
        lines.insert(len(head), comment("reasons left out to stay within the size limits"))
    if left_out:
        lines.append(
            comment(f"{left_out} more domains left out: 100,000 lines / 2 MB is Google's limit")
        )
    text = "\n".join(lines) + "\n"
    return DisavowFile(text, written, left_out, reasons_dropped)


def parse_domain_list(text: str, *, source: str = "whitelist") -> set[str]:
    """Registered domains of a whitelist or disavow file's lines; ValueError
    names the first line that is none of `#...`, `domain:NAME`, a URL, a domain."""
    domains: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        try:
            if line.lower().startswith("domain:"):
                host = clean_domain(line[len("domain:") :].strip())
            elif "://" in line:
                host = url_host(normalize_url(line))
            else:
                host = clean_domain(line)
            domains.add(registered_domain(host))
        except (ValueError, RejectedURL):
            raise ValueError(
                f"{source} line {number}: not a domain or URL: {line[:80]!r}"
            ) from None
    return domains


def validate_disavow(data: bytes) -> list[str]:
    """Check a disavow file as Google would; returns its domain entries.

    ValueError when it is not UTF-8, over the limits, or has a line that is
    neither blank, a comment, `domain:NAME` nor an http(s) URL.
    """
    if len(data) > MAX_BYTES:
        raise ValueError(f"{len(data)} bytes: over the {MAX_BYTES:,} byte limit")
    text = data.decode("utf-8")
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ValueError(f"{len(lines)} lines: over the {MAX_LINES:,} line limit")
    domains = []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("domain:"):
            name = stripped[len("domain:") :]
            if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", name):
                raise ValueError(f"line {number}: not an ASCII domain: {name!r}")
            domains.append(name)
        elif not re.match(r"https?://\S+$", stripped):
            raise ValueError(f"line {number}: neither a comment, domain: nor a URL: {line!r}")
    return domains
