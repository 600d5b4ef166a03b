#!/usr/bin/env bash
# Install the servers (and the browser) the test suite runs against, when missing. Idempotent
# and quiet: one line per server on stdout, exit status 1 if any is still missing afterwards.
#
#   redis-server  Debian's package, with apt-get (apt-get update only when the install needs it).
#   chromium      Debian's chromium and chromium-driver, with apt-get: the dashboard's browser tests
#                 (tests/dashboard/test_serve_browser.py) drive them through Selenium.
#   ferretdb      FerretDB v1.24.2 (MongoDB wire protocol, SQLite backend), built with Go into
#                 ${XDG_CACHE_HOME:-~/.cache}/linkwatch/bin/ferretdb, where crawler/testing/servers.py looks.
#                 Reuses the Go module and build caches; a first build takes about 2.5 minutes.
set -uo pipefail

FERRETDB_MODULE=github.com/FerretDB/FerretDB
FERRETDB_VERSION=v1.24.2
BIN_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/linkwatch/bin"

status=0
work=$(mktemp -d "${TMPDIR:-/tmp}/linkwatch-install.XXXXXX")
# Module-cache copies are read-only: make them writable before removing them.
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "(not root and no sudo)" >&2
        return 1
    fi
}

apt() { as_root env DEBIAN_FRONTEND=noninteractive apt-get -q "$@" >>"$work/apt.log" 2>&1; }

failed() { # message, log file
    echo "$1"
    tail -n 8 "$2" 2>/dev/null | sed 's/^/    /' >&2
    status=1
}

redis_version() { redis-server --version | sed -n 's/.* v=\([0-9.]*\) .*/\1/p'; }

# True when the ferretdb binary $1 runs and is $FERRETDB_VERSION. (Output captured first: a
# `| grep -q` would exit early, and with pipefail the writer's SIGPIPE would fail the check.)
is_wanted_ferretdb() {
    local out
    out=$("$1" --version 2>/dev/null) || return 1
    [[ $'\n'$out$'\n' == *$'\n'"version: $FERRETDB_VERSION"$'\n'* ]]
}

install_redis() {
    if command -v redis-server >/dev/null 2>&1; then
        echo "redis-server: present ($(redis_version))"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "redis-server: MISSING, and no apt-get here: install Redis >= 7 yourself"
        status=1
        return
    fi
    local updated=""
    # Package lists never fetched (fresh container): update first.
    if ! apt-cache show redis-server >/dev/null 2>&1; then
        apt update && updated=" after apt-get update"
    fi
    if ! apt install -y --no-install-recommends redis-server; then
        # Stale lists name .deb versions the mirror no longer has: update once, retry.
        if [ -n "$updated" ] || ! apt update ||
            ! apt install -y --no-install-recommends redis-server; then
            failed "redis-server: apt-get install redis-server FAILED" "$work/apt.log"
            return
        fi
        updated=" after apt-get update"
    fi
    echo "redis-server: installed $(redis_version) with apt-get$updated"
}

chromium_version() { chromium --version 2>/dev/null | sed -n 's/^Chromium \([0-9.]*\).*/\1/p'; }

# As install_redis: Debian's packages; the browser tests fail without them where CI is set.
install_chromium() {
    if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
        echo "chromium: present ($(chromium_version), with chromedriver)"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "chromium: MISSING, and no apt-get here: install chromium and its chromedriver yourself"
        status=1
        return
    fi
    local updated=""
    if ! apt-cache show chromium-driver >/dev/null 2>&1; then
        apt update && updated=" after apt-get update"
    fi
    if ! apt install -y --no-install-recommends chromium chromium-driver; then
        if [ -n "$updated" ] || ! apt update ||
            ! apt install -y --no-install-recommends chromium chromium-driver; then
            failed "chromium: apt-get install chromium chromium-driver FAILED" "$work/apt.log"
            return
        fi
        updated=" after apt-get update"
    fi
    echo "chromium: installed $(chromium_version) and chromium-driver with apt-get$updated"
}

install_ferretdb() {
    local target="$BIN_DIR/ferretdb"
    if [ -n "${LINKWATCH_FERRETDB:-}" ]; then
        if [ -x "$LINKWATCH_FERRETDB" ]; then
            echo "ferretdb: using LINKWATCH_FERRETDB=$LINKWATCH_FERRETDB"
        else
            echo "ferretdb: LINKWATCH_FERRETDB=$LINKWATCH_FERRETDB is not executable: unset it or fix it"
            status=1
        fi
        return
    fi
    if [ -x "$target" ] && is_wanted_ferretdb "$target"; then
        echo "ferretdb: present ($FERRETDB_VERSION in $target)"
        return
    fi
    if ! command -v go >/dev/null 2>&1; then
        echo "ferretdb: MISSING, and Go is not installed: install Go >= 1.24 (https://go.dev/dl/) and rerun"
        status=1
        return
    fi

    local log="$work/go.log" start=$SECONDS dir src ldflags how=""
    # Not `go install …@v1.24.2`: FerretDB panics at startup unless build/version/version.txt
    # names its version, and the module zip lacks that file (its release builds generate it).
    # `go mod download` of an exact version also needs no @v/list, which some proxies refuse.
    dir=$(cd "$work" && go mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" 2>>"$log" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
        failed "ferretdb: go mod download $FERRETDB_MODULE@$FERRETDB_VERSION FAILED" "$log"
        return
    fi
    src="$work/src"
    cp -R "$dir" "$src" && chmod -R u+w "$src"
    echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"

    # Go >= 1.23 may refuse to link code released for 1.24 ("invalid reference to runtime…"):
    # -checklinkname=0 is the known workaround, tried only when a plain build fails.
    for ldflags in "" "-checklinkname=0"; do
        if (cd "$src" && go build -trimpath -buildvcs=false ${ldflags:+-ldflags=$ldflags} \
            -o "$work/ferretdb" ./cmd/ferretdb) >>"$log" 2>&1; then
            how=${ldflags:+ -ldflags=$ldflags}
            break
        fi
        rm -f "$work/ferretdb"
    done
    if [ ! -x "$work/ferretdb" ]; then
        failed "ferretdb: go build FAILED" "$log"
        return
    fi
    if ! is_wanted_ferretdb "$work/ferretdb"; then
        "$work/ferretdb" --version >>"$log" 2>&1
        failed "ferretdb: the built binary does not run" "$log"
        return
    fi
    # Copy then rename, so a test starting meanwhile never runs half a binary.
    mkdir -p "$BIN_DIR" && cp "$work/ferretdb" "$target.tmp.$$" && mv -f "$target.tmp.$$" "$target"
    echo "ferretdb: built $FERRETDB_VERSION into $target (go build$how, $((SECONDS - start)) s)"
}

install_redis
install_chromium
install_ferretdb
exit "$status"
