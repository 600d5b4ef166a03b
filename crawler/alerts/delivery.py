"""Sending: every channel, every domain, each change once (the design is in
crawler/alerts/__init__.py).

For one (channel, domain) a `Sender`:

1. takes the lease in the store (Store.claim_alert_cursor), or leaves the pair
   to the sender holding it;
2. reports the window (cursor, until]: the summary if the channel has no
   cursor yet, else the changes (no message when nothing changed);
3. gives the lease back, moving the cursor to `until` only if the channel took
   the message (or there was none to send).

The first failure of a channel ends its turn: its other domains are not tried
(each attempt would wait out the same timeout) and keep their cursors, so the
next send reports everything they missed. Other channels go on. The store, the
channels, the clock and the sender's name are given: nothing here reads settings
or the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from crawler.alerts.changes import Window
from crawler.alerts.channels import DeliveryError
from crawler.alerts.collect import collect_changes, collect_summary, domain_name
from crawler.alerts.message import Message, changes_message, summary_message

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from crawler.alerts.channels import Channel
    from pipelines.stores.base import Store, Target

# How long a sender holds a (channel, domain) lease: far longer than a send
# takes (channels time out after 30 s), short enough that a sender killed
# mid-send holds nothing up for long.
LEASE_SECONDS = 600
# Referring domains a summary names.
SUMMARY_TOP = 10

Status = Literal["sent", "nothing new", "held", "failed", "not tried"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one (channel, domain)."""

    channel: Channel
    domain: str
    status: Status
    message: Message | None = None
    reason: str = ""  # why it failed, or why it was held or not tried
    warning: str = ""  # sent, but in part (a mail some recipients refused)
    lease_lost: bool = False  # sent, but the lease ran out first: it may be sent twice


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Sender:
    """Reports on `targets` to `channels`, the changes up to `until`."""

    def __init__(
        self,
        store: Store,
        channels: Sequence[Channel],
        targets: Sequence[Target],
        *,
        now: datetime,
        settle: int,
        owner: str,
        competitors: Sequence[Target] = (),
        lease_seconds: int = LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.channels = channels
        self.targets = targets
        self.competitors = competitors
        self.owner = owner
        self.now = iso(now)
        self.until = iso(now - timedelta(seconds=settle))
        self.lease_until = iso(now + timedelta(seconds=lease_seconds))
        # One message per (domain, cursor): channels that are equally far behind share it.
        self._messages: dict[tuple[str, str | None], Message | None] = {}

    def send(self) -> Iterator[Outcome]:
        """Deliver, channel by channel; one Outcome per (channel, domain)."""
        for channel in self.channels:
            failed = ""
            for target in self.targets:
                if failed:
                    reason = f"{channel.label} failed for an earlier domain"
                    yield Outcome(channel, domain_name(target), "not tried", reason=reason)
                    continue
                outcome = self._deliver(channel, target)
                if outcome.status == "failed":
                    failed = outcome.reason
                yield outcome

    def preview(self) -> Iterator[Outcome]:
        """What `send` would deliver now, without a lease or a cursor moving
        (`--dry-run`): status "sent" stands for "would be sent"."""
        for channel in self.channels:
            for target in self.targets:
                state = self.store.alert_cursor(channel.id, domain_name(target))
                message = self.message(target, state["reported_to"] if state else None)
                status: Status = "nothing new" if message is None else "sent"
                yield Outcome(channel, domain_name(target), status, message)

    def _deliver(self, channel: Channel, target: Target) -> Outcome:
        domain = domain_name(target)
        state = self.store.claim_alert_cursor(
            channel.id, domain, self.owner, self.now, self.lease_until
        )
        if state is None:
            return Outcome(channel, domain, "held", reason="another sender is delivering it")
        delivered, warning = False, ""
        try:
            message = self.message(target, state["reported_to"])
            if message is not None:
                warning = channel.send(message)
            delivered = True
        except DeliveryError as exc:
            return Outcome(channel, domain, "failed", message, reason=str(exc))
        finally:
            kept = self.store.release_alert_cursor(
                channel.id, domain, self.owner, self.until if delivered else None
            )
        status: Status = "nothing new" if message is None else "sent"
        return Outcome(channel, domain, status, message, warning=warning, lease_lost=not kept)

    def message(self, target: Target, cursor: str | None) -> Message | None:
        """The message for a channel whose cursor on `target` is `cursor`:
        the summary without one, the changes since it, None if nothing changed."""
        key = (domain_name(target), cursor)
        if key not in self._messages:
            self._messages[key] = self._compose(target, cursor)
        return self._messages[key]

    def _compose(self, target: Target, cursor: str | None) -> Message | None:
        if cursor is None:
            return summary_message(collect_summary(self.store, target, self.now, SUMMARY_TOP))
        if cursor >= self.until:
            return None
        competitors = [c for c in self.competitors if c != target]
        changes = collect_changes(self.store, target, Window(cursor, self.until), competitors)
        return None if changes.empty else changes_message(changes)
