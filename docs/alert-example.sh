#!/usr/bin/env bash
# Regenerates docs/alert-example.eml and docs/alert-example.png: the mail
# `linkwatch alerts send` sends about mysite.test when the bundled fixture web
# changes from version 1 to version 2 (links removed, a page gone, a link turned
# nofollow, pages redirected), and that mail as a mail client shows it.
#
# The web is crawled on simulated dates (libfaketime: apt-get install faketime):
# version 1 on 5 October, a first send (the summary) an hour later, version 2 on
# 12 October, the second send (the changes) an hour later. The mail is the
# product's own (crawler/alerts/channels.py's email_message), written to a file
# instead of an SMTP server. The PNG is its HTML part under the mail's headers,
# drawn by headless Chromium (apt-get install chromium). Nothing leaves the
# machine: the crawler reaches every *.test host through the fixture server.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in faketime chromium; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install $tool)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/linkwatch.db"
export FAKETIME_DONT_FAKE_MONOTONIC=1

crawl() {  # crawl VERSION DATE
    rm -f "$work/port"
    python -m crawler.testing.fixtureweb serve --version "$1" --port 0 --port-file "$work/port" \
        > "$work/server.log" 2>&1 &
    local server=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
    http_proxy="http://127.0.0.1:$(cat "$work/port")" no_proxy="" LINKWATCH_DB="$db" \
        faketime -f "@$2" scrapy crawl backlinks \
        -a seeds="$(python -m crawler.testing.fixtureweb seeds)" \
        -a watch="$(python -m crawler.testing.fixtureweb watch)" \
        -s LOG_LEVEL=WARNING -s LINKWATCH_ALLOW_PRIVATE_NETWORKS=1 -s AUTOTHROTTLE_ENABLED=0 \
        -s LOGSTATS_INTERVAL=0
    kill "$server"; wait "$server" 2>/dev/null || true
}

send() {  # send DATE: the alerts of mysite.test to one mailbox, kept as an .eml
    faketime -f "@$1" python - "$db" "$work/alert.eml" <<'END'
import sys
from datetime import UTC, datetime

from crawler.alerts.channels import Channel, email_message
from crawler.alerts.delivery import Sender
from pipelines.stores import Target, open_store


class Eml(Channel):
    id, label = "file-alert-example", "alert-example.eml"

    def send(self, message):
        mail = email_message(message, "linkwatch@example.com", ["seo@example.com"])
        with open(sys.argv[2], "wb") as out:
            out.write(bytes(mail))
        return ""


with open_store({"LINKWATCH_DB": sys.argv[1]}) as store:
    sender = Sender(store, [Eml()], [Target.parse("mysite.test")], now=datetime.now(UTC),
                    settle=300, owner="docs")
    for outcome in sender.send():
        print(outcome.status, outcome.message.subject if outcome.message else "")
END
}

crawl 1 "2026-10-05 09:00:00"
linkwatch rank --db "$db" --top 0
send "2026-10-05 10:00:00"
crawl 2 "2026-10-12 09:00:00"
send "2026-10-12 10:00:00"
cp "$work/alert.eml" docs/alert-example.eml

# The HTML part under the headers a mail client shows.
python - "$work/alert.eml" "$work/view.html" <<'END'
import sys
from email import message_from_binary_file, policy
from html import escape

with open(sys.argv[1], "rb") as source:
    mail = message_from_binary_file(source, policy=policy.default)
body = mail.get_body(("html",)).get_content()
headers = "".join(
    f'<div><span style="color:#6b7385;display:inline-block;width:64px">{name}</span>'
    f"{escape(str(mail[name]))}</div>"
    for name in ("From", "To", "Date")
)
view = f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="margin:0;font:13px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif">
<div style="padding:14px 24px;border-bottom:1px solid #dde1e7;background:#fff">
<div style="font-size:17px;font-weight:600;margin-bottom:6px">{escape(mail["Subject"])}</div>
{headers}</div>
<iframe srcdoc="{escape(body)}" style="border:0;width:100%;height:1900px"></iframe>
</body></html>"""
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write(view)
END
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=900,1180 \
    --screenshot="$PWD/docs/alert-example.png" "file://$work/view.html" 2>/dev/null
echo "docs/alert-example.eml docs/alert-example.png"
