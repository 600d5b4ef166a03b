"""Anchor classes: what kind of text links to a watched domain, and the share
of each kind (`linkwatch anchors DOMAIN`).

Each live backlink's anchor gets one class, the first of these that applies
(the order is the rules' precedence):

    empty    no anchor text and no image alt (also canonical, frame and
             redirect links, which have no text)
    image    no anchor text, an image with an alt inside the link: the alt
             is the link's text, shown in the `alt` column
    url      the text is a naked URL or host: "https://mysite.com/x",
             "www.mysite.com", "mysite.com" (without a scheme or www., the
             host must end in a public suffix: "Node.js" is not a URL)
    brand    the text contains the domain's name ("mysite" for mysite.co.uk,
             also written "my site" or "MySite" for my-site.com) or a name
             given with --brand, as whole words
    exact    the text is one of the keywords
    partial  the text holds every word of a keyword, in any order, with others
    generic  the text is a stock phrase ("click here", "read more",
             "website", "hier klicken", "en savoir plus", ...): GENERIC,
             for en, de, fr, es, it, pt and nl
    other    anything else (a sentence, a product name, another site's name)

Why this order: a URL naming the domain is a naked URL, not a brand mention
(that is the class SEO tools give it); a brand in the text makes it a brand
anchor even when it also holds a keyword, because branded anchors are what
natural profiles are made of and are not the over-optimisation signal; a
keyword beats a generic phrase ("click here for running shoes" carries the
keyword).

Text is compared normalised: Unicode compatibility forms folded (NFKC),
accents dropped ("Café" is "cafe"), case folded, every run of characters that
are not letters or digits one space. Generic phrases must make up the whole
anchor ("Read more »" is generic, "read more about shoes" is not).

Over-optimisation: when exact-match anchors carry more than EXACT_WARNING of
the live backlinks, the profile looks built rather than earned. SEO guides
put a natural profile's exact-match share at a few per cent and warn above
about 10%; the sites Google's Penguin update (2012) demoted were commonly
found with far more. 10% is that usual ceiling: a warning, not a verdict.

Pure: anchor rows in, classes and shares out.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from crawler.domains import listed_suffix

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

CLASSES = ("brand", "exact", "partial", "url", "generic", "image", "empty", "other")
# Exact-match anchors above this share of live backlinks: the warning.
EXACT_WARNING = 0.10

# Stock link texts, normalised (see `normalise`), by language.
GENERIC_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "en": (
        "click here", "here", "click", "read more", "more", "learn more", "more info",
        "more information", "website", "this website", "web site", "site", "this site",
        "homepage", "home page", "home", "link", "this link", "source", "visit",
        "visit website", "visit site", "go", "see more", "details", "this", "this page",
        "page", "continue reading", "find out more", "check it out", "official website",
    ),
    "de": (
        "hier", "hier klicken", "klicken sie hier", "mehr", "weiterlesen", "weiter",
        "mehr erfahren", "mehr lesen", "mehr infos", "mehr informationen", "webseite",
        "website", "zur website", "zur webseite", "homepage", "startseite", "quelle",
        "link", "dieser link", "details", "hier geht s weiter",
    ),
    "fr": (
        "ici", "cliquez ici", "cliquer ici", "en savoir plus", "lire la suite", "plus",
        "lire plus", "voir plus", "site", "site web", "site internet", "ce site",
        "page d accueil", "accueil", "lien", "ce lien", "source", "details", "voir le site",
    ),
    "es": (
        "aqui", "haz clic aqui", "clic aqui", "pulsa aqui", "leer mas", "mas", "ver mas",
        "mas informacion", "saber mas", "sitio web", "web", "pagina web", "este sitio",
        "pagina de inicio", "inicio", "enlace", "este enlace", "fuente", "detalles",
    ),
    "it": (
        "qui", "clicca qui", "leggi di piu", "leggi tutto", "di piu", "scopri di piu",
        "altro", "sito", "sito web", "questo sito", "pagina", "home page", "collegamento",
        "questo link", "fonte", "dettagli", "continua a leggere",
    ),
    "pt": (
        "aqui", "clique aqui", "leia mais", "saiba mais", "mais", "ver mais",
        "mais informacoes", "site", "este site", "pagina", "pagina inicial", "inicio",
        "link", "este link", "fonte", "detalhes", "continue lendo",
    ),
    "nl": (
        "hier", "klik hier", "lees meer", "meer", "meer lezen", "meer info",
        "meer informatie", "website", "deze website", "site", "homepage", "startpagina",
        "link", "deze link", "bron", "details", "verder lezen", "bekijk",
    ),
}  # fmt: skip
GENERIC = frozenset(phrase for phrases in GENERIC_BY_LANGUAGE.values() for phrase in phrases)

_NOT_WORD = re.compile(r"[\W_]+")
# A naked URL or host: optional scheme, a dotted host, optional port and
# path; nothing else.
_NAKED_URL = re.compile(
    r"(?P<scheme>https?://)?(?P<host>(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_][\w-]*)\.?"
    r"(?::\d+)?(?:[/?#]\S*)?",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Text as the rules compare it: NFKC, no accents, case folded, words
    separated by one space, nothing else."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", bare.casefold()).split())


def split_names(values: Iterable[str]) -> list[str]:
    """Names or keywords as the command line gives them (repeated options,
    comma lists), whitespace collapsed, empty ones and repeats dropped."""
    names = (" ".join(part.split()) for value in values for part in value.split(","))
    return list(dict.fromkeys(name for name in names if name))


def is_naked_url(text: str) -> bool:
    """Whether the anchor is only a URL or a host name: with a scheme or
    "www.", any dotted host; else one ending in a public suffix ("mysite.com"
    is a URL, "Node.js" and "ASP.NET Core" are not)."""
    found = _NAKED_URL.fullmatch(text.strip())
    if found is None:
        return False
    host = found["host"].lower()
    return bool(found["scheme"]) or host.startswith("www.") or listed_suffix(host)


def domain_name(domain: str) -> str:
    """The name in a registered domain: its first label ("my-site" of my-site.co.uk)."""
    return domain.split(".", 1)[0]


def _has_name(words: Sequence[str], name: str) -> bool:
    """Whether `name` is among `words` as whole words, spaced ("my site") or
    run together ("mysite" in "MySite", "my-site" as "my site")."""
    wanted = normalise(name)
    if not wanted:
        return False
    spaced = " " + " ".join(words) + " "
    if f" {wanted} " in spaced:
        return True
    joined = wanted.replace(" ", "")
    for start in range(len(words)):
        run = ""
        for word in words[start:]:
            run += word
            if run == joined:
                return True
            if len(run) >= len(joined):
                break
    return False


def classify(
    anchor: str,
    alt: str,
    domain: str,
    brands: Iterable[str] = (),
    keywords: Iterable[str] = (),
) -> str:
    """The class of a link's anchor (module docstring: the rules, in order)
    into registered `domain`, given brand names and keywords."""
    if not anchor.strip():
        return "image" if alt.strip() else "empty"
    if is_naked_url(anchor):
        return "url"
    text = normalise(anchor)
    words = text.split()
    if any(_has_name(words, name) for name in (domain_name(domain), *brands)):
        return "brand"
    wanted = [normalise(keyword) for keyword in keywords]
    wanted = [keyword for keyword in wanted if keyword]
    if text in wanted:
        return "exact"
    present = set(words)
    if any(set(keyword.split()) <= present for keyword in wanted):
        return "partial"
    if text in GENERIC:
        return "generic"
    return "other"


def classified(
    rows: Iterable[Mapping[str, Any]],
    domain: str,
    brands: Sequence[str] = (),
    keywords: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Anchor rows (anchor, alt, edges, refdomains), each with its `class`."""
    return [
        {**row, "class": classify(row["anchor"], row.get("alt", ""), domain, brands, keywords)}
        for row in rows
    ]


def group_anchors(edges: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Live edges grouped by anchor text (and, for links without text, by
    the image alt): anchor, alt, edges, refdomains; most edges first."""
    groups: dict[tuple[str, str], tuple[list[int], set[str]]] = {}
    for edge in edges:
        anchor = edge["anchor"]
        key = (anchor, "" if anchor.strip() else edge.get("alt") or "")
        count, domains = groups.setdefault(key, ([0], set()))
        count[0] += 1
        domains.add(edge["source_domain"])
    rows = [
        {"anchor": anchor, "alt": alt, "edges": count[0], "refdomains": len(domains)}
        for (anchor, alt), (count, domains) in groups.items()
    ]
    rows.sort(key=lambda row: (-row["edges"], row["anchor"], row["alt"]))
    return rows


def class_shares(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per class of classified anchor rows: anchors, edges and share (of all
    edges, 0 to 1, rounded to 4 places); classes with edges only, most first."""
    anchors: dict[str, int] = {}
    edges: dict[str, int] = {}
    for row in rows:
        anchors[row["class"]] = anchors.get(row["class"], 0) + 1
        edges[row["class"]] = edges.get(row["class"], 0) + row["edges"]
    total = sum(edges.values())
    summary = [
        {
            "class": name,
            "anchors": anchors[name],
            "edges": edges[name],
            "share": round(edges[name] / total, 4),
        }
        for name in CLASSES
        if edges.get(name)
    ]
    summary.sort(key=lambda row: -row["edges"])
    return summary


def over_optimised(shares: Sequence[Mapping[str, Any]], limit: float = EXACT_WARNING) -> bool:
    """Whether exact-match anchors carry more than `limit` of the backlinks
    (`class_shares` rows; counted from the edges, not the rounded shares)."""
    total = sum(row["edges"] for row in shares)
    exact = sum(row["edges"] for row in shares if row["class"] == "exact")
    return total > 0 and exact / total > limit
