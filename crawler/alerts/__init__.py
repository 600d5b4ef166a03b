"""Alerts: the changes in a watched domain's backlink profile, sent to the
channels a user names (`linkwatch alerts send`, `linkwatch monitor`).

    changes.py   what changed in a time window, and the first-send summary (pure)
    collect.py   reading those from the store (any store: the Store interface)
    message.py   a report as a message: subject, plain text, HTML, JSON (pure)
    channels.py  where messages go: a webhook, a mailbox, a file of JSON lines
    delivery.py  each (channel, domain) once: lease, collect, send, move the cursor

Delivery state. The store keeps, per channel and domain, a *cursor*: the time
up to which that channel has been told about that domain (Store.alert_cursor).
A send reports the window (cursor, until], with `until` = now minus a settle
margin, then moves the cursor to `until`, only once the channel took the
message: a channel that fails keeps its cursor, so its next send covers what it
missed, and no other channel is held back. Nothing is reported twice, because
windows do not overlap, and nothing is skipped, because they follow each other.

Why a settle margin: a crawl stamps an edge with its page's fetch time and
commits it seconds later. A window ending at "now" could close before an edge
stamped inside it is stored; that edge would then fall behind the cursor and
never be reported. Ending the window `--settle` seconds (300) in the past
leaves the store time to catch up.

Concurrent senders (two cron jobs, a timer and a hand-run send): before it
reports on a domain, a sender takes that (channel, domain) lease in the store
with a compare-and-set; another sender finds it held and leaves it. A lease
that runs out (a sender killed mid-send) is free again after LEASE_SECONDS.

The first send to a channel about a domain has no cursor: instead of every
backlink as "new", it reports a summary of the current profile (live backlinks,
referring domains, the strongest of them) and sets the cursor.

Channels are named by URI, and known to the store by an id that holds no
credentials (a digest of the URI without its password); what the user sees of
a URI is masked (crawler/credentials.py, and webhook paths, where Slack and
Discord keep their secret).
"""
