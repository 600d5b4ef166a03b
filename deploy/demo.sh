#!/usr/bin/env bash
# `make demo`: serve the bundled fixture web on 127.0.0.1, crawl it with
# `scrapy crawl backlinks` on the embedded default (SQLite), print a report.
# Nothing leaves this machine: Scrapy reaches every *.test host through the
# fixture server, which it uses as its HTTP proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-demo}"
mkdir -p "$out"
rm -f "$out/linkwatch.db" "$out/linkwatch.db-wal" "$out/linkwatch.db-shm" "$out/port"

python -m crawler.testing.fixtureweb serve --port 0 --port-file "$out/port" --access-log "$out/access.log" \
    > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.1; done
[ -s "$out/port" ] || { echo "demo: the fixture web did not start (see $out/server.log)" >&2; exit 1; }
port=$(cat "$out/port")

seeds=$(python -m crawler.testing.fixtureweb seeds)
watch=$(python -m crawler.testing.fixtureweb watch)
first_watched=${watch%%,*}
echo "== crawling the fixture web (seeds: $seeds)"
echo "== watching: $watch"
http_proxy="http://127.0.0.1:$port" no_proxy="" LINKWATCH_DB="$out/linkwatch.db" \
    scrapy crawl backlinks -a seeds="$seeds" -a watch="$watch" \
    -s LOG_LEVEL=WARNING -s LINKWATCH_ALLOW_PRIVATE_NETWORKS=1 -s AUTOTHROTTLE_ENABLED=0 \
    -s LOGSTATS_INTERVAL=0 -s LINKWATCH_PROGRESS_INTERVAL=1
db="$out/linkwatch.db"
echo
echo "== linkwatch rank   (authority of every crawled domain, from the domain graph)"
linkwatch rank --db "$db" --top 5
echo
echo "== linkwatch summary   (every watched domain)"
linkwatch summary --db "$db"
echo
echo "== linkwatch report $first_watched --out $out/report"
linkwatch report "$first_watched" --db "$db" --out "$out/report"   # prints the report's path
echo "(database: $db — try: linkwatch backlinks $first_watched --db $db --sort quality --limit 20,
 or see it in a browser: linkwatch serve --db $db)"
