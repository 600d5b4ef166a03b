"""Alerts in-process: what changed in a window (pure), the channel URIs and
their masking, the delivery state's lease and cursor on both stores, and a
Sender over both stores with a clock the test sets. End to end, with real
crawls, a webhook receiver and an SMTP server: test_alerts_e2e.py."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from crawler.alerts.changes import Window, competitors_new, refdomain_changes, referring_at
from crawler.alerts.channels import (
    Channel,
    ChannelURIError,
    DeliveryError,
    File,
    parse_channel,
    split_uris,
)
from crawler.alerts.delivery import Sender, iso
from crawler.alerts.message import counts
from crawler.cli.app import main
from pipelines.stores import Target, open_store
from tests.conftest import STORES
from tests.support.receivers import MailServer, WebhookReceiver
from tests.test_store_contract import page

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MYSITE = Target.parse("mysite.test")
COMPETITOR = Target.parse("competitor.test")


def at(seconds: int) -> str:
    return iso(T0 + timedelta(seconds=seconds))


# --- what changed (pure) -----------------------------------------------------------------


def test_a_window_holds_what_is_after_since_and_up_to_until():
    window = Window(at(0), at(10))
    assert [window.holds(at(s)) for s in (0, 1, 10, 11)] == [False, True, True, False]
    assert not window.holds(None)


def live_row(domain, first_seen):
    return {"source_domain": domain, "first_seen": first_seen}


def lost_edge(domain, first_seen, lost_at):
    return {"source_domain": domain, "first_seen": first_seen, "lost_at": lost_at}


def test_referring_domains_new_and_lost_in_a_window():
    window = Window(at(10), at(20))
    live = [
        live_row("old.test", at(1)),  # linked before and still does
        live_row("new.test", at(15)),  # first link inside the window
        live_row("later.test", at(25)),  # after the window: the next one's
        live_row("half.test", at(2)),  # lost one link, kept another
    ]
    lost = [
        lost_edge("gone.test", at(3), at(12)),  # its only link, lost in the window
        lost_edge("half.test", at(2), at(13)),
        lost_edge("after.test", at(4), at(22)),  # lost after the window: live at its end
        lost_edge("blip.test", at(14), at(16)),  # came and went inside it
    ]
    assert referring_at(window.until, live, lost) == {
        "old.test",
        "new.test",
        "half.test",
        "after.test",
    }
    assert refdomain_changes(window, live, lost) == ({"new.test"}, {"gone.test"})


def test_competitors_new_referring_domains_leave_out_mine_and_the_competitors():
    window = Window(at(10), at(20))
    theirs = {
        "competitor.test": ([live_row("fresh.test", at(12)), live_row("both.test", at(15)),
                             live_row("rival.test", at(16)), live_row("old.test", at(1))], []),
        "rival.test": ([live_row("fresh.test", at(18))], []),
    }  # fmt: skip
    reach = competitors_new(window, {"both.test"}, theirs, excluded={"mysite.test", "rival.test"})
    assert reach == {"fresh.test": ["competitor.test", "rival.test"]}


def test_the_headline_states_the_counts():
    assert counts(3, 2, "backlink") == "3 new and 2 lost backlinks"
    assert counts(0, 1, "backlink") == "1 lost backlink"
    assert counts(1, 0, "referring domain") == "1 new referring domain"
    assert counts(0, 0, "backlink") == ""


# --- channels ----------------------------------------------------------------------------


def test_alert_uris_split_on_commas_that_start_a_uri():
    value = "https://h.test/x?a=1,b, smtp://m.test/?from=a@x.test&to=b@x.test,c@x.test,file:a.jsonl"
    assert split_uris(value) == [
        "https://h.test/x?a=1,b",
        "smtp://m.test/?from=a@x.test&to=b@x.test,c@x.test",
        "file:a.jsonl",
    ]


@pytest.mark.parametrize(
    "uri",
    [
        "https://bot:hunter2@hooks.example.test/services/T0/B0/hunter2",
        "smtp://bot:hunter2@mail.example.test/?from=a@x.test&to=b@x.test&tls=starttls",
    ],
)
def test_credentials_never_show_nor_reach_the_store(uri):
    channel = parse_channel(uri)
    assert "hunter2" not in channel.label and "hunter2" not in channel.id
    assert "***" in channel.label
    changed = parse_channel(uri.replace("hunter2@", "swordfish@"))
    assert changed.id == channel.id, "a new password keeps the channel's delivery state"


def test_a_webhook_label_hides_the_path_where_its_secret_is():
    channel = parse_channel("https://hooks.example.test/services/T0/B0/SECRETTOKEN")
    assert channel.label == "https://hooks.example.test/..."
    assert "SECRETTOKEN" not in channel.id


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("smtp://u:pw@m.test/?from=a@x.test&to=b@x.test", "a password goes only over TLS"),
        ("smtp://m.test/?to=b@x.test", "needs from="),
        ("smtp://m.test/?from=a@x.test", "needs to="),
        ("smtp://m.test/?from=a@x.test&to=b@x.test&tls=maybe", "tls=maybe"),
        ("gopher://x.test/", "unknown scheme"),
        ("file:", "no file name"),
        ("file://elsewhere.test/x", "only local files"),
    ],
)
def test_a_wrong_channel_uri_says_what_is_wrong(uri, expected):
    with pytest.raises(ChannelURIError, match=expected) as caught:
        parse_channel(uri)
    assert "pw@" not in str(caught.value)


def test_send_without_a_channel_or_with_a_wrong_one_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LINKWATCH_ALERTS", raising=False)
    db = str(tmp_path / "lw.db")
    assert main(["alerts", "send", "--db", db]) == 2
    assert "no channel" in capsys.readouterr().err
    uri = "smtp://u:hunter2@m.test/?from=a@x.test&to=b@x.test"
    assert main(["alerts", "send", "--db", db, "--to", uri]) == 2
    err = capsys.readouterr().err
    assert "hunter2" not in err and err.count("\n") == 1 and "Traceback" not in err


def a_message():
    from crawler.alerts.changes import Summary
    from crawler.alerts.message import summary_message

    return summary_message(Summary("mysite.test", at(0), 3, 2, 1, []))


def test_a_webhook_gets_the_json_payload_and_a_refusal_is_one_line():
    with WebhookReceiver() as hooks:
        channel = parse_channel(hooks.url("team").replace("://", "://bot:hunter2@"))
        assert channel.send(a_message()) == ""
        [payload] = hooks.received("team")
        assert payload["kind"] == "summary" and payload["text"].startswith("linkwatch: ")
        hooks.down.add("team")
        with pytest.raises(DeliveryError, match=r"^HTTP 500 Down For The Test: the receiver is"):
            channel.send(a_message())
        hooks.down.clear()
        hooks.moved.add("team")
        with pytest.raises(DeliveryError, match="redirects elsewhere"):
            channel.send(a_message())
        assert len(hooks.received("team")) == 1, "a redirected POST is not followed"
        port = hooks.server.server_address[1]
    with pytest.raises(DeliveryError, match=r"cannot reach 127\.0\.0\.1"):
        parse_channel(f"http://127.0.0.1:{port}/team").send(a_message())


# aiosmtpd warns that AUTH without TLS is unsafe: it is, outside a test.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_mail_has_a_text_and_an_html_part_and_logs_in_when_told():
    with MailServer(login=("bot", "s3cret")) as mail:
        uri = mail.uri("me@example.test").replace("://", "://bot:s3cret@") + "&tls=none"
        assert parse_channel(uri).send(a_message()) == ""
        [got] = mail.received("me@example.test")
        assert got["Subject"] == "linkwatch: mysite.test: 3 live backlinks from 1 referring domain"
        assert got["Auto-Submitted"] == "auto-generated"
        assert "3 live backlinks" in got.get_body(("plain",)).get_content()
        assert "<h1" in got.get_body(("html",)).get_content()
        wrong = parse_channel(uri.replace("s3cret", "guess"))
        with pytest.raises(DeliveryError, match=r"login refused \(535\)"):
            wrong.send(a_message())
        mail.down.add("me@example.test")
        with pytest.raises(DeliveryError, match=r"refused me@example\.test \(451 "):
            parse_channel(uri).send(a_message())


def test_a_mail_some_recipients_refused_counts_as_sent_with_a_warning():
    with MailServer() as mail:
        mail.down.add("gone@example.test")
        channel = parse_channel(mail.uri("me@example.test", "gone@example.test"))
        warning = channel.send(a_message())
        assert "gone@example.test (451" in warning and "the others got it" in warning
        assert len(mail.received("me@example.test")) == 1


# --- the delivery state: a lease and a cursor, on both stores -------------------------------


@pytest.fixture(params=STORES)
def settings(request, tmp_path):
    if request.param == "mongo":
        return {
            "MONGO_URI": request.getfixturevalue("mongo_uri"),
            "MONGO_DATABASE": request.getfixturevalue("mongo_database"),
        }
    return {"LINKWATCH_DB": str(tmp_path / "linkwatch.db")}


def test_one_sender_at_a_time_holds_a_lease_and_only_it_moves_the_cursor(settings):
    with open_store(settings) as store:
        assert store.alert_cursor("c1", "mysite.test") is None
        mine = store.claim_alert_cursor("c1", "mysite.test", "a", at(0), at(600))
        assert mine == {"reported_to": None, "owner": "a", "lease_until": at(600)}
        assert store.claim_alert_cursor("c1", "mysite.test", "b", at(1), at(601)) is None
        assert store.claim_alert_cursor("c1", "other.test", "b", at(1), at(601)) is not None
        assert store.claim_alert_cursor("c2", "mysite.test", "b", at(1), at(601)) is not None
        assert store.release_alert_cursor("c1", "mysite.test", "b", at(5)) is False
        assert store.release_alert_cursor("c1", "mysite.test", "a", at(5)) is True
        assert store.alert_cursor("c1", "mysite.test")["reported_to"] == at(5)
        theirs = store.claim_alert_cursor("c1", "mysite.test", "b", at(6), at(606))
        assert theirs["reported_to"] == at(5)
        assert store.release_alert_cursor("c1", "mysite.test", "b", at(3)) is True
        assert store.alert_cursor("c1", "mysite.test")["reported_to"] == at(5), "never back"


def test_a_lease_that_ran_out_can_be_taken_and_its_old_holder_moves_nothing(settings):
    with open_store(settings) as store:
        store.claim_alert_cursor("c1", "mysite.test", "a", at(0), at(10))
        assert store.claim_alert_cursor("c1", "mysite.test", "b", at(9), at(20)) is None
        assert store.claim_alert_cursor("c1", "mysite.test", "b", at(10), at(20)) is not None
        assert store.release_alert_cursor("c1", "mysite.test", "a", at(8)) is False
        assert store.alert_cursor("c1", "mysite.test")["reported_to"] is None


def test_senders_racing_for_a_lease_from_their_own_connections_get_it_once(settings):
    with open_store(settings):
        pass  # the schema, made once
    stores = [open_store(settings) for _ in range(6)]
    won: list[str] = []
    start = threading.Barrier(len(stores))

    def race(store, name):
        start.wait()
        if store.claim_alert_cursor("c1", "mysite.test", name, at(0), at(600)) is not None:
            won.append(name)

    threads = [threading.Thread(target=race, args=(s, f"s{i}")) for i, s in enumerate(stores)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for store in stores:
            store.close()
    assert len(won) == 1, won


# --- a Sender over both stores ---------------------------------------------------------------


class Flaky(Channel):
    """A channel that refuses messages while `down`."""

    def __init__(self, name: str) -> None:
        self.id, self.label, self.down, self.got = f"flaky-{name}", f"flaky {name}", False, []

    def send(self, message):
        if self.down:
            raise DeliveryError("down for the test")
        self.got.append(message.payload)
        return ""


def send(store, channels, seconds, settle=0, targets=(MYSITE,), **kwargs):
    sender = Sender(store, channels, list(targets), now=T0 + timedelta(seconds=seconds),
                    settle=settle, owner="test", **kwargs)  # fmt: skip
    return list(sender.send())


def lines(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def pairs(edges):
    return sorted((e["source_url"], e["target_url"], e["lost_reason"]) for e in edges)


def test_a_summary_first_then_each_change_once_then_nothing(settings, tmp_path):
    out = tmp_path / "alerts.jsonl"
    channel = File(out, "alerts.jsonl")
    with open_store(settings) as store:
        two = [("http://mysite.test/x", {}), ("http://mysite.test/y", {})]
        store.write_pages([
            page("http://a.test/1", two, at=at(0)),
            page("http://b.test/1", [("http://mysite.test/x", {})], at=at(0)),
        ])  # fmt: skip
        assert [o.status for o in send(store, [channel], 10)] == ["sent"]
        [summary] = lines(out)
        assert summary["kind"] == "summary" and summary["new"] == []
        assert summary["summary"]["backlinks"] == 3 and summary["summary"]["refdomains"] == 2
        store.write_pages([
            page("http://a.test/1", [("http://mysite.test/x", {})], at=at(20)),
            page("http://b.test/1", [], status=410, at=at(20)),
            page("http://c.test/1", [("http://mysite.test/z", {})], at=at(20)),
        ])  # fmt: skip
        assert [o.status for o in send(store, [channel], 30)] == ["sent"]
        assert [o.status for o in send(store, [channel], 40)] == ["nothing new"]
    _, changes = lines(out)
    assert changes["kind"] == "changes" and (changes["since"], changes["until"]) == (at(10), at(30))
    assert pairs(changes["lost"]) == [
        ("http://a.test/1", "http://mysite.test/y", "link_removed"),
        ("http://b.test/1", "http://mysite.test/x", "page_gone"),
    ]
    assert pairs(changes["new"]) == [("http://c.test/1", "http://mysite.test/z", None)]
    assert [r["domain"] for r in changes["new_refdomains"]] == ["c.test"]
    assert [r["domain"] for r in changes["lost_refdomains"]] == ["b.test"]
    assert "http://b.test/1 -> http://mysite.test/x (page_gone)" in changes["text"]


def test_a_failing_channel_keeps_its_alerts_and_the_others_go_on(settings):
    steady, flaky = Flaky("steady"), Flaky("flaky")
    with open_store(settings) as store:
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})], at=at(0))])
        send(store, [flaky, steady], 10, targets=(MYSITE, COMPETITOR))
        flaky.down = True
        store.write_pages([page("http://a.test/1", [], at=at(20))])
        store.write_pages([page("http://b.test/1", [("http://competitor.test/", {})], at=at(20))])
        outcomes = send(store, [flaky, steady], 30, targets=(MYSITE, COMPETITOR))
        assert [(o.channel.id, o.domain, o.status) for o in outcomes] == [
            ("flaky-flaky", "mysite.test", "failed"),
            ("flaky-flaky", "competitor.test", "not tried"),
            ("flaky-steady", "mysite.test", "sent"),
            ("flaky-steady", "competitor.test", "sent"),
        ]
        assert outcomes[0].reason == "down for the test"
        store.write_pages([page("http://c.test/1", [("http://mysite.test/y", {})], at=at(40))])
        flaky.down = False
        assert [o.status for o in send(store, [flaky, steady], 50)] == ["sent", "sent"]
    missed = [m for m in flaky.got if m["kind"] == "changes"]
    assert [(m["domain"], m["since"], m["until"]) for m in missed] == [
        ("mysite.test", at(10), at(50))
    ]
    assert pairs(missed[0]["lost"]) == [("http://a.test/1", "http://mysite.test/x", "link_removed")]
    assert pairs(missed[0]["new"]) == [("http://c.test/1", "http://mysite.test/y", None)]
    told = [(m["domain"], m["since"]) for m in steady.got if m["kind"] == "changes"]
    assert told == [("mysite.test", at(10)), ("competitor.test", at(10)), ("mysite.test", at(30))]


def test_the_settle_margin_reports_an_edge_a_crawl_stored_after_the_send(settings):
    channel = Flaky("c")
    with open_store(settings) as store:
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})], at=at(0))])
        send(store, [channel], 10, settle=5)
        send(store, [channel], 100, settle=5)
        # Fetched at 98, committed only now, after the send at 100: inside its margin.
        store.write_pages([page("http://b.test/1", [("http://mysite.test/y", {})], at=at(98))])
        send(store, [channel], 200, settle=5)
    news = [pairs(m["new"]) for m in channel.got if m["kind"] == "changes"]
    assert news == [[("http://b.test/1", "http://mysite.test/y", None)]]


def test_competitors_new_referring_domains_not_linking_to_the_domain(settings):
    channel = Flaky("c")
    with open_store(settings) as store:
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})], at=at(0))])
        send(store, [channel], 10, competitors=[COMPETITOR])
        store.write_pages([
            page("http://a.test/2", [("http://competitor.test/", {})], at=at(20)),
            page("http://n.test/1", [("http://competitor.test/p", {})], at=at(20)),
        ])  # fmt: skip
        store.write_authority([{"domain": "n.test", "pagerank": 42.0, "harmonic": 10.0,
                                "pagerank_raw": 0.1, "harmonic_raw": 1.0}], at(21))  # fmt: skip
        send(store, [channel], 30, competitors=[COMPETITOR])
    [changes] = [m for m in channel.got if m["kind"] == "changes"]
    assert changes["competitors_new_refdomains"] == [
        {"domain": "n.test", "authority": 42.0, "competitors": ["competitor.test"]}
    ]
    assert changes["new"] == [] and changes["lost"] == []
    assert "n.test (authority 42) links to competitor.test" in changes["text"]


def test_a_dry_run_sends_nothing_and_moves_no_cursor(settings):
    channel = Flaky("c")
    with open_store(settings) as store:
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})], at=at(0))])
        sender = Sender(store, [channel], [MYSITE], now=T0 + timedelta(seconds=10), settle=0,
                        owner="test")  # fmt: skip
        [preview] = sender.preview()
        assert preview.status == "sent" and preview.message.payload["kind"] == "summary"
        assert channel.got == [] and store.alert_cursor(channel.id, "mysite.test") is None
