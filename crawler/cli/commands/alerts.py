"""`linkwatch alerts send [DOMAIN ...] --to URI ...`: tell each channel what
changed in the watched domains' backlinks since it was last told.

The work is crawler/alerts' (what changed, the messages, the channels, the
delivery state in the store); this module reads the command line and the
environment, opens the store and reports outcomes. `linkwatch monitor` reuses
`send_options` and `send`.
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crawler.cli.common import (
    ArgumentParser,
    UsageError,
    count,
    describe,
    open_for_reading,
    open_for_writing,
    parse_target,
    store_options,
)

if TYPE_CHECKING:
    import argparse

    from crawler.alerts.channels import Channel
    from crawler.alerts.delivery import Outcome, Sender
    from pipelines.stores import Store, Target

ALERTS_ENV = "LINKWATCH_ALERTS"
DEFAULT_SETTLE = 300

DESCRIPTION = (
    "Send each channel (--to) the changes in each DOMAIN's backlinks that it has not "
    "been told about yet: new and lost backlinks (with the reason), new and lost "
    "referring domains, and with --competitors the referring domains that newly link "
    "to a competitor but not to DOMAIN. Each change reaches each channel once: the "
    "store keeps, per channel and domain, the time up to which it was told, and moves "
    "it only once the channel took the message. A channel that fails keeps its alerts "
    "for the next send (exit status 1) and the others go on. The first send to a "
    "channel about a domain is a summary of its profile, not every backlink as new. "
    "Changes are reported up to --settle seconds ago, so that a crawl still storing "
    "the pages it fetched is not overtaken."
)

CHANNELS_HELP = """\
channels (--to, or $LINKWATCH_ALERTS: URIs separated by commas):
  https://hooks.slack.com/services/...   a webhook: JSON POST with `text` (Slack,
                                         Mattermost; Discord: its URL + /slack) and
                                         domain, new, lost, new_refdomains, lost_refdomains
  smtp://[user:pass@]host[:port]/?from=ADDR&to=ADDR[&to=ADDR][&tls=starttls|ssl|none]
                                         a mail, plain text and HTML; a password needs
                                         tls= (tls=none sends it in clear)
  file:PATH                              JSON lines appended to PATH
Credentials in URIs are never shown: keep them in $LINKWATCH_ALERTS, not on a
command line other users can read.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = "Alerts on backlink changes: new and lost links, referring domains."
    parser.epilog = "example: linkwatch alerts send mysite.com --to file:alerts.jsonl"
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=ArgumentParser)
    actions.required = True
    send_parser = actions.add_parser(
        "send", help="send each channel the changes it was not told about yet"
    )
    describe(
        send_parser,
        DESCRIPTION,
        (
            "linkwatch alerts send --to https://hooks.slack.com/services/T0/B0/XXXX",
            "linkwatch alerts send mysite.com --competitors rival.com,other.org "
            "--to 'smtp://localhost/?from=linkwatch@example.com&to=me@example.com'",
            "export LINKWATCH_ALERTS='smtp://alerts:PASS@mail.example.com/?from=lw@example.com"
            "&to=me@example.com&tls=starttls'   # a password: not on the command line",
            "LINKWATCH_ALERTS=file:/var/log/linkwatch/alerts.jsonl linkwatch alerts send",
            "linkwatch alerts send mysite.com --to file:alerts.jsonl --dry-run",
        ),
    )
    send_parser.epilog += "\n" + CHANNELS_HELP
    send_parser.add_argument(
        "domain", nargs="*", metavar="DOMAIN", help="watched domains (default: every one)"
    )
    send_options(send_parser)
    send_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be sent to each channel; send nothing, change nothing",
    )
    store_options(send_parser)
    send_parser.set_defaults(run=run_send)


def send_options(parser: argparse.ArgumentParser) -> None:
    """The options `alerts send` and `monitor` share."""
    parser.add_argument(
        "--to",
        metavar="URI",
        action="append",
        default=[],
        help=f"a channel; repeat for more (default: ${ALERTS_ENV})",
    )
    parser.add_argument(
        "--competitors",
        metavar="A,B",
        default="",
        help="competitors' domains, comma-separated: also report the referring domains "
        "that newly link to one of them but not to DOMAIN",
    )
    parser.add_argument(
        "--settle",
        metavar="SECONDS",
        type=count,
        default=DEFAULT_SETTLE,
        help="report changes up to this long ago, not up to now, so that pages a crawl "
        f"is still storing are reported next time rather than missed ({DEFAULT_SETTLE})",
    )


def run_send(args: argparse.Namespace) -> int:
    channels = parse_channels(args.to, os.environ.get(ALERTS_ENV, ""))
    targets = [parse_target(name) for name in args.domain]
    competitors = parse_competitors(args.competitors)
    if args.dry_run:
        return preview(args, channels, targets, competitors)
    return send(args, channels, targets, competitors)


def send(
    args: argparse.Namespace,
    channels: list[Channel],
    targets: list[Target],
    competitors: list[Target],
) -> int:
    """Deliver and report each outcome; 1 if a channel failed, else 0."""
    from crawler.alerts.message import plural

    with open_for_writing(args) as store:
        targets = targets or watched(store)
        sender = make_sender(
            store, args, channels, targets, competitors, f"{socket.gethostname()}:{os.getpid()}"
        )
        outcomes = [report(outcome) for outcome in sender.send()]
    sent = sum(o.status == "sent" for o in outcomes)
    quiet = sum(o.status == "nothing new" for o in outcomes)
    failed = {o.channel.id for o in outcomes if o.status == "failed"}
    print(
        f"alerts: {sent} sent, {quiet} with nothing new, to {plural(len(channels), 'channel')} "
        f"about {plural(len(targets), 'domain')}"
        + (f"; {plural(len(failed), 'channel')} failed" if failed else "")
    )
    return 1 if failed else 0


def make_sender(
    store: Store,
    args: argparse.Namespace,
    channels: list[Channel],
    targets: list[Target],
    competitors: list[Target],
    owner: str,
) -> Sender:
    """The Sender of a send or a dry run: now, minus the settle margin."""
    from crawler.alerts.delivery import Sender  # deferred: the store behind it

    return Sender(
        store,
        channels,
        targets,
        now=datetime.now(UTC),
        settle=args.settle,
        owner=owner,
        competitors=competitors,
    )


def report(outcome: Outcome) -> Outcome:
    """One line for what happened: sent ones on stdout, the others on stderr."""
    where = f"{outcome.channel.label}: {outcome.domain}"
    if outcome.status == "sent" and outcome.message is not None:
        print(f"sent to {outcome.channel.label}: {outcome.message.subject}")
        if outcome.warning:
            print(f"linkwatch alerts send: warning: {where}: {outcome.warning}", file=sys.stderr)
        if outcome.lease_lost:
            print(
                f"linkwatch alerts send: warning: {where}: the lease ran out while sending; "
                "another sender may send it again",
                file=sys.stderr,
            )
    elif outcome.status == "failed":
        print(
            f"linkwatch alerts send: error: {where}: {outcome.reason} "
            "(its alerts are kept for the next send)",
            file=sys.stderr,
        )
    elif outcome.status == "held":
        print(f"linkwatch alerts send: {where}: {outcome.reason}; left to it", file=sys.stderr)
    return outcome


def preview(
    args: argparse.Namespace,
    channels: list[Channel],
    targets: list[Target],
    competitors: list[Target],
) -> int:
    with open_for_reading(args) as store:
        targets = targets or watched(store)
        sender = make_sender(store, args, channels, targets, competitors, "dry-run")
        for outcome in sender.preview():
            if outcome.message is None:
                print(f"-- nothing new for {outcome.channel.label} about {outcome.domain}\n")
                continue
            print(f"-- would send to {outcome.channel.label}: {outcome.message.subject}")
            print(outcome.message.text)
    return 0


# --- what the command line names ---------------------------------------------------------


def parse_channels(uris: list[str], environment: str) -> list[Channel]:
    """The channels of --to, else of $LINKWATCH_ALERTS, once each; a wrong URI
    or none at all is a usage error."""
    from crawler.alerts.channels import ChannelURIError, parse_channel, split_uris

    given = uris or split_uris(environment)
    if not given:
        raise UsageError(f"no channel: give --to URI or set ${ALERTS_ENV}")
    channels: dict[str, Channel] = {}
    for uri in given:
        try:
            channel = parse_channel(uri)
        except ChannelURIError as exc:
            raise UsageError(str(exc)) from None
        channels.setdefault(channel.id, channel)
    return list(channels.values())


def parse_competitors(text: str) -> list[Target]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    return list(dict.fromkeys(parse_target(name) for name in names))


def watched(store: Store) -> list[Target]:
    """Every watched domain in the store (the default DOMAIN list)."""
    targets = [parse_target(name) for name in store.watched_domains()]
    if not targets:
        raise UsageError("the store has no backlinks yet: crawl first")
    return targets
