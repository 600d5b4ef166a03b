"""Seeds and watch lists as users type them: cleaned, or refused in one line.

Pure functions of crawler/arguments.py; the end-to-end form of a refusal (one
line on stderr, exit code 2, no store created) is in test_usage_errors.py.
"""

from __future__ import annotations

import pytest

from crawler.arguments import (
    ArgumentError,
    clean_seed,
    clean_watch,
    parse_crawl_arguments,
    parse_seeds,
    parse_watch,
    read_list,
)


@pytest.mark.parametrize(
    ("entry", "url"),
    [
        ("example.org", "http://example.org/"),
        ("  example.org\t", "http://example.org/"),
        ("EXAMPLE.org.", "http://example.org/"),
        ("HTTPS://Example.ORG", "https://example.org/"),
        # A bare domain with a path or query keeps them as written (no "/" appended).
        ("example.org/page.html", "http://example.org/page.html"),
        ("example.org/dir/", "http://example.org/dir/"),
        ("example.org?lang=en", "http://example.org/?lang=en"),
        ("example.org#top", "http://example.org/"),
        ("//example.org/p", "http://example.org/p"),
        # A port is not a scheme.
        ("example.org:8080", "http://example.org:8080/"),
        ("localhost:8080/x", "http://localhost:8080/x"),
        ("example.org:8080?q", "http://example.org:8080/?q"),
        # Browsers' leniency with slashes after http:.
        ("http:/example.org", "http://example.org/"),
        ("http:example.org", "http://example.org/"),
        ("https:///example.org", "https://example.org/"),
        # Non-ASCII: IDN to punycode, paths percent-encoded, full-width letters folded.
        ("bücher.de", "http://xn--bcher-kva.de/"),
        ("http://Bücher.de/ä", "http://xn--bcher-kva.de/%C3%A4"),
        ("\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org", "http://example.org/"),  # full-width
        ("[::1]:8080", "http://[::1]:8080/"),
        ("https://user:pw@example.org/", "https://example.org/"),
    ],
)
def test_seeds_are_cleaned(entry, url):
    assert clean_seed(entry) == url


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("mailto:me@example.org", "not_http"),
        ("javascript:alert(1)", "not_http"),
        ("ftp://example.org/", "not_http"),
        ("file:///etc/passwd", "not_http"),
        ("data:text/html,<a>", "not_http"),
        ("me@example.org", "e-mail"),
        ("exa mple.org", "malformed"),
        ("example..org", "bad_host"),
        ("http://example.org:99999/", "malformed"),
        ("*.example.org", "wildcards"),
        ("http://", "malformed"),
    ],
)
def test_bad_seeds_are_one_line_errors(entry, fragment):
    with pytest.raises(ArgumentError) as raised:
        clean_seed(entry)
    message = str(raised.value)
    assert message.startswith("seeds: ") and "\n" not in message
    assert fragment in message


@pytest.mark.parametrize(
    ("entry", "domain"),
    [
        ("MySite.com.", "mysite.com"),
        ("https://Blog.MySite.com:8443/path?q#f", "blog.mysite.com"),
        ("http:/mysite.com", "mysite.com"),
        ("mysite.com:8080", "mysite.com"),
        ("Bücher.de", "xn--bcher-kva.de"),
        ("\uff4d\uff59\uff53\uff49\uff54\uff45.com", "mysite.com"),  # full-width
        ("alice.github.io", "alice.github.io"),
    ],
)
def test_watch_entries_are_cleaned(entry, domain):
    assert clean_watch(entry) == domain


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("javascript:alert(1)", "javascript: URL"),
        ("mailto:me@mysite.com", "mailto: URL"),
        ("me@mysite.com", "not a domain"),
        ("*.mysite.com", "no wildcards"),
        ("co.uk", "public suffix"),
        ("my site.com", "space"),
        ("mysite..com", "not a valid domain"),
    ],
)
def test_bad_watch_entries_are_one_line_errors(entry, fragment):
    with pytest.raises(ArgumentError) as raised:
        clean_watch(entry)
    message = str(raised.value)
    assert message.startswith("watch: ") and "\n" not in message
    assert fragment in message


def test_blanks_and_duplicates_are_dropped_after_cleaning():
    assert parse_seeds(" example.org , ,example.org/, HTTP://EXAMPLE.ORG:80/") == [
        "http://example.org/"
    ]
    assert parse_watch("mysite.com,, MYSITE.com. ,https://mysite.com/x,bücher.de") == [
        "mysite.com",
        "xn--bcher-kva.de",
    ]


def test_list_files_with_comments_bom_and_non_ascii(tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("\ufeff# my seeds\n\nbücher.de  # books\n\t\nexample.org/a#b\n", "utf-8")
    assert parse_seeds(f"@{seeds}") == ["http://xn--bcher-kva.de/", "http://example.org/a"]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "empty"),
        ("", "empty"),
        (" , ,", "no entries"),
        ("@/nonexistent/list.txt", "not found"),
    ],
)
def test_unusable_lists(value, fragment):
    with pytest.raises(ArgumentError, match=fragment):
        read_list(value, "seeds")


def test_a_list_file_that_is_not_text_or_not_a_file(tmp_path):
    binary = tmp_path / "seeds.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(ArgumentError, match="cannot read"):
        read_list(f"@{binary}", "seeds")
    with pytest.raises(ArgumentError, match="cannot read"):
        read_list(f"@{tmp_path}", "seeds")
    (tmp_path / "blank.txt").write_text("# nothing\n\n")
    with pytest.raises(ArgumentError, match="no entries"):
        read_list(f"@{tmp_path / 'blank.txt'}", "seeds")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"depth": "-1"}, "depth: must be 0 or more"),
        ({"depth": "1.5"}, "depth: not a whole number"),
        ({"max_pages_per_domain": "0"}, "max_pages_per_domain: must be 1 or more"),
        ({"max_pages_per_domain": "many"}, "not a whole number"),
        ({"colour": "red"}, "unknown spider argument 'colour'"),
    ],
)
def test_numbers_and_unknown_arguments(args, fragment):
    with pytest.raises(ArgumentError, match=fragment):
        parse_crawl_arguments(
            {"seeds": "example.org", "watch": "mysite.com", **args},
            default_depth=3,
            default_max_pages=10,
        )


def test_defaults_and_whitespace_in_numbers():
    parsed = parse_crawl_arguments(
        {"seeds": "example.org", "watch": "mysite.com", "depth": " 0 "},
        default_depth=3,
        default_max_pages=10,
    )
    assert (parsed.depth, parsed.max_pages_per_domain) == (0, 10)
