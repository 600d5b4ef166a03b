#!/usr/bin/env bash
# Regenerates docs/dashboard.png: the overview of `linkwatch serve` for mysite.test,
# after the bundled fixture web was crawled at version 1 then 2 and ranked, as
# headless Chromium shows it (apt-get install chromium chromium-driver). It is the
# browser test's own screenshot (tests/dashboard/test_serve_browser.py), so the picture is
# the page the tests check. Nothing leaves the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
LINKWATCH_DASHBOARD_PNG="$PWD/docs/dashboard.png" "$PY" -m pytest -q -p no:cacheprovider -s \
    tests/dashboard/test_serve_browser.py -k "sqlite and overview"
echo "docs/dashboard.png written"
