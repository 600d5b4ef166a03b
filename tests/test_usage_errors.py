"""User mistakes end in one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.crawling import ROOT, crawl_command, crawl_env


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
        (["nosuchcommand"], ("nosuchcommand",)),
    ],
)
def test_bad_cli_arguments(argv, fragments, tmp_path):
    from pipelines.stores import open_store

    db = tmp_path / "lw.db"
    open_store({"LINKWATCH_DB": str(db)}).close()
    assert_one_line_error(
        run([*CLI, *argv, "--db", str(db)] if argv[0] == "backlinks" else [*CLI, *argv]), *fragments
    )


def test_missing_database_is_a_clear_error(tmp_path):
    result = run([*CLI, "backlinks", "mysite.com", "--db", str(tmp_path / "none.db")])
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no linkwatch database" in result.stderr


@pytest.mark.parametrize("command", ["backlinks", "refdomains", "anchors"])
def test_every_command_has_help(command):
    result = run([*CLI, command, "--help"])
    assert result.returncode == 0
    for option in ("--format", "--db", "--mongo-uri", "--limit"):
        assert option in result.stdout


def test_top_level_help_lists_the_commands():
    result = run([*CLI, "--help"])
    assert result.returncode == 0
    for word in ("backlinks", "refdomains", "anchors", "LINKWATCH_DB", "MONGO_URI"):
        assert word in result.stdout
