#!/usr/bin/env bash
# Regenerates docs/report-example.png: `linkwatch report` on the bundled fixture
# web, crawled three times on simulated dates (libfaketime: apt-get install
# faketime) so the charts have a history: five of its sites on 3 August, all
# of them on 7 September, all again in version 2 (links lost and new) on 12
# October. Nothing leaves the machine: the crawler reaches every *.test host
# through the fixture server. (Monotonic clocks stay real: Scrapy times its
# work with them.)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "needs faketime (apt-get install faketime)" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/linkwatch.db"

crawl() {  # crawl VERSION DATE [SEEDS]
    rm -f "$work/port"
    python -m crawler.testing.fixtureweb serve --version "$1" --port 0 --port-file "$work/port" \
        > "$work/server.log" 2>&1 &
    local server=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
    http_proxy="http://127.0.0.1:$(cat "$work/port")" no_proxy="" LINKWATCH_DB="$db" \
        FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "@$2" scrapy crawl backlinks \
        -a seeds="${3:-$(python -m crawler.testing.fixtureweb seeds)}" \
        -a watch="$(python -m crawler.testing.fixtureweb watch)" \
        -s LOG_LEVEL=WARNING -s LINKWATCH_ALLOW_PRIVATE_NETWORKS=1 -s AUTOTHROTTLE_ENABLED=0 \
        -s LOGSTATS_INTERVAL=0
    kill "$server"; wait "$server" 2>/dev/null || true
}

crawl 1 "2026-08-03 09:00:00" "http://www.alpha.test/,beta.test,delta.test,eta.test,ref-mine.test"
crawl 1 "2026-09-07 09:00:00"
crawl 2 "2026-10-12 09:00:00"
linkwatch rank --db "$db" --top 0
FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "@2026-10-20 12:00:00" linkwatch report mysite.test --db "$db" --out "$work/report" \
    --spam-tlds xyz,top,testing
cp "$work/report/overview.png" docs/report-example.png
echo "docs/report-example.png"
