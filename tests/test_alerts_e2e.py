"""Alerts end to end, on both stores: real `scrapy crawl backlinks` processes
crawl the fixture web, real `linkwatch alerts send` processes send to a real
webhook receiver and a real SMTP server (tests/support/receivers.py).

The story, once per store:
1. crawl v1, send: every channel gets a summary of each watched domain;
2. a webhook and a mailbox go down; crawl v2 (links removed, a page gone, a
   link turned nofollow, pages redirected); two senders at once: the channels
   that are up get exactly the lost links of the ground truth
   (`truth_changes`) with their reasons, and its new links, each once;
3. send again: nothing is sent;
4. the two channels are up again, send: they get what they missed, the others
   still nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter

import pytest

from crawler.domains import registered_domain
from crawler.testing.fixtureweb import build_web, truth_changes
from crawler.urls import url_host
from tests.support.crawling import ROOT
from tests.support.receivers import MailServer, WebhookReceiver
from tests.test_recrawl_e2e import Location, crawl

pytestmark = pytest.mark.e2e

SECRET = "hunter2"  # the flaky webhook's password: never printed
# Only the options name the store and the channels; nothing goes through a proxy.
DROPPED_ENV = {
    "REDIS_URL", "MONGO_URI", "MONGO_DATABASE", "LINKWATCH_DB", "LINKWATCH_STORE",
    "LINKWATCH_ALERTS", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
}  # fmt: skip


@pytest.fixture(scope="module")
def hooks():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def mail():
    with MailServer() as server:
        yield server


@pytest.fixture(scope="module")
def expected():
    """The changes a recrawl of v2 makes: lost (source, target, reason) and new (source, target)."""
    changes = truth_changes(build_web(version=1), build_web(version=2))
    lost = {
        (c["source_url"], c["target_url"], c["lost_reason"])
        for c in changes
        if c["state"] == "lost"
    }
    new = {(c["source_url"], c["target_url"]) for c in changes if c["state"] == "new"}
    return lost, new


class Story:
    """The four sends of one store, their processes and what each channel got after each."""

    def __init__(self, location: Location, hooks: WebhookReceiver, mail: MailServer) -> None:
        kind = location.kind
        self.location, self.hooks, self.mail = location, hooks, mail
        self.team, self.flaky = f"{kind}-team", f"{kind}-flaky"
        self.me, self.flaky_mailbox = f"me-{kind}@example.test", f"flaky-{kind}@example.test"
        flaky_url = self.hooks.url(self.flaky).replace("://", f"://bot:{SECRET}@")
        self.channels = [
            hooks.url(self.team),
            flaky_url,
            mail.uri(self.me),
            mail.uri(self.flaky_mailbox),
        ]
        self.runs: list[list[subprocess.CompletedProcess[str]]] = []
        self.got: list[dict[str, list]] = []

    def send(self, senders: int = 1) -> None:
        processes = [alerts_send(self.location, self.channels) for _ in range(senders)]
        self.runs.append([finish(process) for process in processes])
        self.got.append(
            {
                "team": self.hooks.received(self.team),
                "flaky": self.hooks.received(self.flaky),
                "me": [as_payload(m) for m in self.mail.received(self.me)],
                "flaky_mailbox": [as_payload(m) for m in self.mail.received(self.flaky_mailbox)],
            }
        )

    def since(self, step: int, channel: str) -> list:
        """What `channel` got in send `step` (0-based) alone."""
        before = len(self.got[step - 1][channel]) if step else 0
        return self.got[step][channel][before:]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def story(request, tmp_path_factory, hooks, mail):
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    location = Location(request.param, tmp_path_factory.mktemp(request.param), mongo_uri)
    told = Story(location, hooks, mail)
    try:
        crawl(build_web(version=1), location)
        time.sleep(1)  # times have one-second resolution: the send comes after the crawl
        told.send()
        hooks.down.add(told.flaky)
        mail.down.add(told.flaky_mailbox)
        time.sleep(1)
        crawl(build_web(version=2), location)
        time.sleep(1)
        told.send(senders=2)
        told.send()
        hooks.down.discard(told.flaky)
        mail.down.discard(told.flaky_mailbox)
        told.send()
        yield told
    finally:
        location.drop()


def alerts_send(location: Location, channels: list[str]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    argv = [sys.executable, "-m", "crawler.cli", "alerts", "send", "--settle", "0"]
    for uri in channels:
        argv += ["--to", uri]
    return subprocess.Popen(
        argv + location.cli_options(),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


LOST_LINE = re.compile(r"^- (\S+) -> (\S+) \((\w+)\)$")
NEW_LINE = re.compile(r"^- (\S+) -> (\S+)")


def as_payload(mail) -> dict:
    """A mail read back as a webhook's payload: its kind, domain and the links
    its plain-text part lists, plus the subject and the HTML part."""
    text = mail.get_body(("plain",)).get_content()
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.endswith("):") and "(" in line:
            current = line.rsplit(" (", 1)[0]
            sections[current] = []
        elif current and line.startswith("- "):
            sections[current].append(line)
    lost = [LOST_LINE.match(line).groups() for line in sections.get("Lost backlinks", [])]
    new = [NEW_LINE.match(line).groups() for line in sections.get("New backlinks", [])]
    domain = mail["Subject"].split(": ")[1]
    return {
        "kind": "summary" if "Strongest referring domains" in text or "now gets" in text
        else "changes",
        "domain": domain,
        "lost": [{"source_url": s, "target_url": t, "lost_reason": r} for s, t, r in lost],
        "new": [{"source_url": s, "target_url": t} for s, t in new],
        "subject": mail["Subject"],
        "html": mail.get_body(("html",)).get_content(),
    }  # fmt: skip


def lost_of(messages: list[dict]) -> Counter:
    return Counter(
        (e["source_url"], e["target_url"], e["lost_reason"])
        for m in messages
        if m["kind"] == "changes"
        for e in m["lost"]
    )


def new_of(messages: list[dict]) -> Counter:
    return Counter(
        (e["source_url"], e["target_url"])
        for m in messages
        if m["kind"] == "changes"
        for e in m["new"]
    )


def target_domain(url: str) -> str:
    return registered_domain(url_host(url))


def test_the_first_send_is_a_summary_of_each_watched_domain(story):
    assert [run.returncode for run in story.runs[0]] == [0], story.runs[0][0].stderr
    domains = {target_domain(e["target_url"]) for e in build_web(version=1).truth_edges}
    for channel in ("team", "flaky", "me", "flaky_mailbox"):
        got = story.since(0, channel)
        assert {m["kind"] for m in got} == {"summary"}, channel
        assert sorted(m["domain"] for m in got) == sorted(domains), channel


def test_the_webhook_and_the_mail_get_exactly_the_lost_links_with_their_reasons(story, expected):
    lost, new = expected
    for channel in ("team", "me"):
        got = story.since(1, channel)
        assert lost_of(got) == Counter(lost), channel
        assert new_of(got) == Counter(new), channel
        kinds = Counter((m["kind"], m["domain"]) for m in got)
        assert max(kinds.values()) == 1, f"{channel}: a domain reported twice: {kinds}"
    for message in story.since(1, "team"):
        assert all(target_domain(e["target_url"]) == message["domain"] for e in message["lost"])
        assert message["text"].startswith(f"linkwatch: {message['domain']}: ")


def test_the_mail_says_the_counts_and_lists_the_links_in_html_too(story, expected):
    lost, _ = expected
    mails = story.since(1, "me")
    for mail in mails:
        if mail["lost"]:
            assert f"{len(mail['lost'])} lost backlink" in mail["subject"]
        for edge in mail["lost"]:
            assert edge["source_url"] in mail["html"] and edge["lost_reason"] in mail["html"]
    assert sum(len(m["lost"]) for m in mails) == len(lost)


def test_two_senders_at_once_send_each_change_once_and_a_down_channel_fails(story):
    runs = story.runs[1]
    assert sorted(run.returncode for run in runs)[-1] == 1, [run.stderr for run in runs]
    stderr = "".join(run.stderr for run in runs)
    assert "HTTP 500 Down For The Test" in stderr and "451 4.3.0 down for the test" in stderr
    assert "kept for the next send" in stderr
    assert "Traceback" not in stderr
    assert story.since(1, "flaky") == [] and story.since(1, "flaky_mailbox") == []


def test_a_third_send_sends_nothing(story):
    for channel in ("team", "me", "flaky", "flaky_mailbox"):
        assert story.since(2, channel) == [], channel
    assert [run.returncode for run in story.runs[2]] == [1], "the down channels still fail"


def test_a_channel_that_was_down_gets_what_it_missed_once_it_is_up(story, expected):
    lost, new = expected
    assert [run.returncode for run in story.runs[3]] == [0], story.runs[3][0].stderr
    for channel in ("flaky", "flaky_mailbox"):
        got = story.since(3, channel)
        assert lost_of(got) == Counter(lost), channel
        assert new_of(got) == Counter(new), channel
    assert story.since(3, "team") == [] and story.since(3, "me") == []


def test_credentials_in_a_channel_uri_are_never_printed(story):
    for runs in story.runs:
        for run in runs:
            assert SECRET not in run.stdout + run.stderr
