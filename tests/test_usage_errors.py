"""User mistakes end in one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.crawling import ROOT, crawl_command, crawl_env


def run(argv, **kwargs):
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, **kwargs)


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("spider_args", "fragments"),
    [
        ({"seeds": "@/nonexistent/seeds.txt", "watch": "mysite.com"}, ("seeds", "not found")),
        ({"seeds": "example.org", "watch": ""}, ("watch", "empty")),
        ({"seeds": "example.org", "watch": " , ,"}, ("watch",)),
        ({"seeds": "ftp://example.org/", "watch": "mysite.com"}, ("seeds", "ftp://example.org/")),
        ({"seeds": "http://", "watch": "mysite.com"}, ("seeds",)),
        ({"seeds": "example.org", "watch": "com"}, ("watch",)),
        ({"seeds": "example.org", "watch": "mysite.com", "depth": "deep"}, ("depth",)),
        ({"seeds": "example.org", "watch": "mysite.com", "color": "red"}, ("color",)),
        ({"watch": "mysite.com"}, ("seeds",)),
    ],
)
def test_bad_spider_arguments(spider_args, fragments, tmp_path):
    env = crawl_env("http://127.0.0.1:9", LINKWATCH_DB=str(tmp_path / "x.db"))
    assert_one_line_error(run(crawl_command(spider_args), env=env), *fragments)
    assert not (tmp_path / "x.db").exists(), "a rejected crawl must not create a store"


def test_seed_and_watch_files(tmp_path):
    from crawler.arguments import parse_seeds, parse_watch

    (tmp_path / "seeds.txt").write_text(
        "# seeds\nexample.org\n\nhttps://Blog.Example.NET/x#top\nexample.org\n"
    )
    (tmp_path / "watch.txt").write_text("MySite.com.\ncompetitor.io  # rival\n")
    assert parse_seeds(f"@{tmp_path / 'seeds.txt'}") == [
        "http://example.org/",
        "https://blog.example.net/x",
    ]
    assert parse_watch(f"@{tmp_path / 'watch.txt'}") == ["mysite.com", "competitor.io"]


CLI = [sys.executable, "-m", "crawler.cli"]


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["backlinks", "mysite.com", "--format", "xml"], ("--format", "xml")),
        (["backlinks"], ("DOMAIN",)),
        (["backlinks", "not a domain"], ("not a domain",)),
        (["backlinks", "mysite.com", "--since", "yesterday"], ("--since",)),
        (["backlinks", "mysite.com", "--limit", "0"], ("--limit",)),
        (["new", "mysite.com"], ("--since",)),
        (["new", "mysite.com", "--since", "last week"], ("--since", "last week")),
        (["lost", "mysite.com", "--since", "2026-13-01"], ("--since",)),
        (["lost", "mysite.com", "--since", "2026-01-01", "--format", "xml"], ("--format",)),
        (["pages", "not a domain"], ("not a domain",)),
        (["pages", "mysite.com", "--limit", "-3"], ("--limit",)),
        (["recrawl"], ("DOMAIN",)),
        (["recrawl", "com"], ("com",)),
        (["recrawl", "mysite.com", "--depth", "-1"], ("--depth",)),
        (["recrawl", "mysite.com", "--out", "/nonexistent/dir/seeds.txt"], ("--out",)),
        (["recrawl", "mysite.com", "--out", "x.txt", "--redis-url", "redis://x"], ("--redis-url",)),
        (["nosuchcommand"], ("nosuchcommand",)),
    ],
)
def test_bad_cli_arguments(argv, fragments, tmp_path):
    from pipelines.stores import open_store

    db = tmp_path / "lw.db"
    open_store({"LINKWATCH_DB": str(db)}).close()
    if argv[0] != "nosuchcommand":
        argv = [*argv, "--db", str(db)]
    assert_one_line_error(run([*CLI, *argv], env=cli_env()), *fragments)


def cli_env():
    """The environment without a store or a frontier: the options name them."""
    drop = ("REDIS_URL", "MONGO_URI", "MONGO_DATABASE", "LINKWATCH_DB", "LINKWATCH_STORE")
    return {k: v for k, v in os.environ.items() if k not in drop}


def test_missing_database_is_a_clear_error(tmp_path):
    result = run([*CLI, "backlinks", "mysite.com", "--db", str(tmp_path / "none.db")])
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no linkwatch database" in result.stderr


QUERY_COMMANDS = ["backlinks", "refdomains", "anchors", "new", "lost", "pages"]


@pytest.mark.parametrize("command", [*QUERY_COMMANDS, "recrawl"])
def test_every_command_has_help_that_teaches(command):
    result = run([*CLI, command, "--help"])
    assert result.returncode == 0
    options = ("--db", "--mongo-uri", "--limit")
    if command != "recrawl":
        options += ("--format",)
    for option in options:
        assert option in result.stdout
    description, _, examples = result.stdout.partition("\nexamples:\n")
    assert "DOMAIN" in description.split("positional arguments:")[0].split("\n\n", 1)[1]
    assert f"linkwatch {command} " in examples, "an example of the command"


def test_recrawl_help_shows_the_crawl_to_run_and_redis():
    result = run([*CLI, "recrawl", "--help"])
    assert "scrapy crawl backlinks -a seeds=@" in result.stdout
    assert "-a depth=0" in result.stdout
    for word in ("REDIS_URL", "--redis-url", "--out"):
        assert word in result.stdout


@pytest.mark.parametrize("command", ["new", "lost"])
def test_new_and_lost_need_a_date(command):
    result = run([*CLI, command, "--help"])
    usage = result.stdout.split("\n\n")[0]
    assert "--since DATE" in usage and "[--since" not in usage, "--since is required"


def test_top_level_help_lists_the_commands():
    result = run([*CLI, "--help"])
    assert result.returncode == 0
    for word in (*QUERY_COMMANDS, "recrawl", "LINKWATCH_DB", "MONGO_URI"):
        assert word in result.stdout
