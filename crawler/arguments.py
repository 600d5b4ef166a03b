"""Seeds, watch lists and numbers as users give them, turned into clean values.

Used by the spider (`-a seeds=... -a watch=...`) and by the `linkwatch` command.
A value is a comma list, or `@path` to a file with one entry per line (blank
lines and `#` comments ignored). Every problem is an ArgumentError whose message
is one line a user can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from crawler.domains import clean_domain
from crawler.urls import RejectedURL, normalize_url, url_host

# "scheme:" at the start of an entry ...
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# ... unless it is a host with a port ("x.org:8080", "localhost:8080/p").
_HOST_AND_PORT = re.compile(r"[^/?#:@\\]+:[0-9]+(?:[/?#\\]|\Z)")


class ArgumentError(ValueError):
    """A user mistake in an argument; its message is shown as is."""


def read_list(value: str | None, what: str) -> list[str]:
    """Entries of a comma list or an @file, stripped, blanks and duplicates dropped."""
    if value is None or not value.strip():
        raise ArgumentError(f"{what}: empty; give a comma list or @file")
    value = value.strip()
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ArgumentError(f"{what}: file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ArgumentError(f"{what}: cannot read {path}: {exc}") from None
        raw = [line.split("#", 1)[0] for line in text.splitlines()]
    else:
        raw = value.split(",")
    entries = list(dict.fromkeys(e.strip() for e in raw if e.strip()))
    if not entries:
        raise ArgumentError(f"{what}: no entries in {value!r}")
    return entries


def _has_scheme(text: str) -> bool:
    """Whether ``text`` starts with a URL scheme (``http:``, ``mailto:``), not a port."""
    return _SCHEME.match(text) is not None and _HOST_AND_PORT.match(text) is None


def clean_seed(entry: str) -> str:
    """A seed as a canonical URL.

    A URL (``https://x.org/a``, also ``http:/x.org``) is normalized; an entry
    without a scheme is a host with an optional port, path and query
    (``x.org``, ``x.org:8080/a?b``) on http. Other schemes, credentials
    without a scheme (``a@b.org``), wildcards and malformed hosts are refused.
    """
    text = entry.strip()
    if not text:
        raise ArgumentError("seeds: empty entry")
    if _has_scheme(text):
        url = text
    else:
        authority = re.split(r"[/?#\\]", text.removeprefix("//"), maxsplit=1)[0]
        if "@" in authority:
            raise ArgumentError(f"seeds: not a URL or domain: {entry!r} (an e-mail address?)")
        url = f"http://{text.removeprefix('//')}"
    authority = re.split(r"[/?#\\]", url.split("//", 1)[-1], maxsplit=1)[0]
    if "*" in authority:
        raise ArgumentError(
            f"seeds: no wildcards in {entry!r}: a seed's whole registered domain is crawled"
        )
    try:
        canonical = normalize_url(url)
    except RejectedURL as exc:
        raise ArgumentError(
            f"seeds: not an http(s) URL or domain: {entry!r} ({exc.reason})"
        ) from None
    if not url_host(canonical):
        raise ArgumentError(f"seeds: no host in {entry!r}")
    return canonical


def clean_watch(entry: str) -> str:
    """A watch entry as a domain or host in normal form (see domains.clean_domain)."""
    text = entry.strip()
    if _has_scheme(text) and "://" not in text:
        scheme, _, rest = text.partition(":")
        if scheme.lower() not in ("http", "https"):
            raise ArgumentError(f"watch: not a domain: {entry!r} (a {scheme.lower()}: URL)")
        text = f"{scheme}://{rest.lstrip('/')}"  # "http:/x.org", as browsers read it
    try:
        return clean_domain(text)
    except ValueError as exc:
        raise ArgumentError(f"watch: {exc}") from None


def parse_seeds(value: str | None) -> list[str]:
    return list(dict.fromkeys(clean_seed(e) for e in read_list(value, "seeds")))


def parse_watch(value: str | None) -> list[str]:
    return list(dict.fromkeys(clean_watch(e) for e in read_list(value, "watch")))


def parse_positive_int(value: str | int | None, what: str, default: int, minimum: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"{what}: not a whole number: {value!r}") from None
    if number < minimum:
        raise ArgumentError(f"{what}: must be {minimum} or more, got {number}")
    return number


@dataclass(frozen=True, slots=True)
class CrawlArguments:
    """What `scrapy crawl backlinks -a ...` asked for, validated."""

    seeds: list[str]
    watch: list[str]
    depth: int
    max_pages_per_domain: int
    # Discovery (crawler/discovery.py): hops of expansion, 0 for none, and its limits.
    expand: int = 0
    max_domains: int = 1000
    expand_depth: int = 1
    expand_pages: int = 50
    strategy: str = "focused"
    keywords: list[str] = field(default_factory=list)
    # Sites known to link to a watched domain (a Search Console export as seeds).
    referring: list[str] = field(default_factory=list)
    # Rows of a seeds export that could not be read, one line each, to be logged.
    warnings: list[str] = field(default_factory=list)
    # Freshness (README "Keeping the profile fresh"): discard an unfinished crawl
    # of the same command instead of resuming it; recrawl known linking pages
    # ("due": those the schedule says, "all": every one) instead of seeds;
    # read the seed hosts' sitemaps.
    restart: bool = False
    recrawl: str | None = None
    sitemaps: bool = True


KNOWN_ARGUMENTS = (
    "seeds", "watch", "depth", "max_pages_per_domain",
    "expand", "max_domains", "expand_depth", "expand_pages", "strategy", "keywords",
    "restart", "recrawl", "sitemaps",
)  # fmt: skip
RECRAWL_MODES = ("due", "all")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_bool(value: str | bool | None, what: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ArgumentError(f"{what}: not true or false: {value!r}")


def parse_recrawl(args: dict[str, str]) -> str | None:
    """`-a recrawl=due|all`, checked against the arguments it excludes."""
    value = args.get("recrawl")
    if value is None or not value.strip():
        return None
    mode = value.strip().lower()
    if mode not in RECRAWL_MODES:
        raise ArgumentError(f"recrawl: {value!r} is not one of {', '.join(RECRAWL_MODES)}")
    for name, why in (
        ("seeds", "its pages come from the store"),
        ("depth", "it fetches the known pages only (depth 0)"),
        ("expand", "it fetches the known pages only"),
    ):
        if args.get(name):
            raise ArgumentError(f"recrawl={mode} takes no {name}: {why}")
    return mode


STRATEGIES = ("focused", "bfs")


@dataclass(frozen=True, slots=True)
class ExpansionDefaults:
    """The LINKWATCH_EXPAND* settings, the defaults of the discovery arguments."""

    expand: int = 0
    max_domains: int = 1000
    depth: int = 1
    pages: int = 50
    strategy: str = "focused"


def read_seeds(value: str | None) -> tuple[list[str], list[str], list[str]]:
    """Seeds, referring domains and warnings of `-a seeds=`: a list, or a Search
    Console links export (crawler/gsc.py) given as @file."""
    from crawler.gsc import ExportError, looks_like_export, parse_link_export

    if value and value.strip().startswith("@"):
        path = Path(value.strip()[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            text = ""  # read_list says why, in its words
        if looks_like_export(text):
            try:
                export = parse_link_export(text)
            except ExportError as exc:
                raise ArgumentError(f"seeds: {path}: {exc}") from None
            if not export.seeds:
                raise ArgumentError(f"seeds: {path}: no linking page or site in the export")
            warnings = [f"seeds: {path} line {line}: {why}" for line, why in export.problems]
            return export.seeds, export.referring, warnings
    return parse_seeds(value), [], []


def parse_crawl_arguments(
    args: dict[str, str],
    *,
    default_depth: int,
    default_max_pages: int,
    need_seeds: bool = True,
    expansion: ExpansionDefaults | None = None,
    sitemaps: bool = True,
) -> CrawlArguments:
    unknown = sorted(set(args) - set(KNOWN_ARGUMENTS) - {"_job"})
    if unknown:
        raise ArgumentError(
            f"unknown spider argument {unknown[0]!r}; known: {', '.join(KNOWN_ARGUMENTS)}"
        )
    seeds: list[str] = []
    referring: list[str] = []
    warnings: list[str] = []
    recrawl = parse_recrawl(args)
    if recrawl is not None:
        need_seeds = False  # and the watch list defaults to every watched domain stored
    if need_seeds or args.get("seeds"):
        seeds, referring, warnings = read_seeds(args.get("seeds"))
    watch = parse_watch(args.get("watch")) if need_seeds or args.get("watch") else []
    x = expansion or ExpansionDefaults()
    strategy = (args.get("strategy") or x.strategy).strip().lower()
    if strategy not in STRATEGIES:
        raise ArgumentError(f"strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    keywords = read_list(args["keywords"], "keywords") if args.get("keywords") else []
    return CrawlArguments(
        seeds=seeds,
        watch=watch,
        depth=0 if recrawl else parse_positive_int(args.get("depth"), "depth", default_depth),
        # 0 pages would crawl nothing at all: surely a mistake.
        max_pages_per_domain=parse_positive_int(
            args.get("max_pages_per_domain"), "max_pages_per_domain", default_max_pages, minimum=1
        ),
        expand=parse_positive_int(args.get("expand"), "expand", x.expand),
        max_domains=parse_positive_int(args.get("max_domains"), "max_domains", x.max_domains),
        expand_depth=parse_positive_int(args.get("expand_depth"), "expand_depth", x.depth),
        expand_pages=parse_positive_int(
            args.get("expand_pages"), "expand_pages", x.pages, minimum=1
        ),
        strategy=strategy,
        keywords=[k.lower() for k in keywords],
        referring=referring,
        warnings=warnings,
        restart=parse_bool(args.get("restart"), "restart", False),
        recrawl=recrawl,
        sitemaps=parse_bool(args.get("sitemaps"), "sitemaps", sitemaps),
    )
