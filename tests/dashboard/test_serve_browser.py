"""`linkwatch serve` in a real browser: Debian's chromium through
chromium-driver (Selenium), on a crawl of the fixture web in both stores.

Every view is loaded and its table checked for the rows the store holds; the
overview's four charts must draw (pixels on their canvases); the backlinks
filters and pager are used as a user would. Screenshots are kept as
artifacts (the directory is printed); with LINKWATCH_DASHBOARD_PNG set
(docs/dashboard.sh sets it), the overview's is also written there: the
README's docs/dashboard.png.

Where CI is set a missing chromium or chromium-driver is a failure; elsewhere
a skip that says what to install (tests/support/browser.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from crawler.testing.fixtureweb.profiles import FARM_DOMAIN, GAP
from pipelines.stores import Target
from tests.support.browser import MYSITE, chromium_driver

pytestmark = pytest.mark.e2e

CHARTS = ("chart-refdomains", "chart-newlost", "chart-anchors", "chart-authority")
# Pixels a canvas has drawn (alpha > 0), read in the page.
DRAWN_PIXELS = """
const canvas = document.querySelector('#' + arguments[0] + ' canvas');
if (!canvas) return -1;
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let drawn = 0;
for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
return drawn;
"""


@pytest.fixture(scope="module")
def driver():
    browser = chromium_driver()
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    directory = tmp_path_factory.mktemp("dashboard-screenshots")
    print(f"\ndashboard screenshots: {directory}")
    return directory


def load(driver, server, path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(server.base + path)
    WebDriverWait(driver, 20).until(
        expected_conditions.presence_of_element_located((By.TAG_NAME, "footer"))
    )


def click_and_load(driver, element):
    """Click what leads to another page and wait until that page is there."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 20).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 20).until(
        expected_conditions.presence_of_element_located((By.TAG_NAME, "footer"))
    )


def table_rows(driver, table_id):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, f"table#{table_id} tbody tr")


def screenshot(driver, shots, location, name):
    path = Path(shots) / f"{location.kind}-{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    return path


def test_the_overview_shows_cards_and_draws_every_chart(driver, server, store, location, shots):
    from selenium.webdriver.support.ui import WebDriverWait

    load(driver, server, f"/overview?domain={MYSITE}")
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element("tag name", "body").get_attribute("data-charts")
    )
    assert driver.find_element("tag name", "body").get_attribute("data-charts") == "drawn"
    live = len(list(store.backlinks(Target.parse(MYSITE))))
    assert driver.find_element("id", "card-backlinks").text.endswith(f"{live:,}")
    for chart in CHARTS:
        assert driver.execute_script(DRAWN_PIXELS, chart) > 500, chart
    logs = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert logs == []  # no script error, no CSP violation
    path = screenshot(driver, shots, location, "overview")
    wanted = os.environ.get("LINKWATCH_DASHBOARD_PNG")
    if wanted and location.kind == "sqlite":
        Path(wanted).write_bytes(path.read_bytes())
        print(f"overview screenshot written to {wanted}")


def test_the_backlinks_table_filters_and_pages_like_a_user(driver, server, store, location, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    live = list(store.backlinks(Target.parse(MYSITE)))
    load(driver, server, f"/backlinks?domain={MYSITE}&per_page=20")
    first = [row.text for row in table_rows(driver, "backlinks")]
    assert len(first) == 20
    assert live[0]["source_url"] in first[0]
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "a[rel=next]"))
    second = [row.text for row in table_rows(driver, "backlinks")]
    assert len(second) == 20 and live[20]["source_url"] in second[0]
    screenshot(driver, shots, location, "backlinks")

    Select(driver.find_element(By.NAME, "state")).select_by_visible_text("all")
    Select(driver.find_element(By.NAME, "follow")).select_by_visible_text("nofollow")
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form.filters button"))
    rows = table_rows(driver, "backlinks")
    every = list(store.backlinks(Target.parse(MYSITE), state="all"))
    assert len(rows) == sum(1 for e in every if e["nofollow"])
    assert all("nofollow" in row.text for row in rows)

    Select(driver.find_element(By.NAME, "follow")).select_by_visible_text("any")
    driver.find_element(By.NAME, "q").send_keys("viagra")
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "form.filters button"))
    rows = table_rows(driver, "backlinks")
    assert rows and all(FARM_DOMAIN in row.text for row in rows)
    export = driver.find_element(By.PARTIAL_LINK_TEXT, "CSV").get_attribute("href")
    assert "state=all" in export and "q=viagra" in export and "format=csv" in export


@pytest.mark.parametrize(
    ("path", "table", "expect"),
    [
        ("/refdomains", "refdomains", FARM_DOMAIN),
        ("/anchors", "anchors", "cheap viagra"),
        ("/lost?since=2000-01-01", "lost", "link_removed"),
        ("/broken", "broken", "404"),
        ("/gap?vs=acme.test,globex.test,initech.test", "gap", GAP[2][0]),
        ("/toxic", "toxic", "commercial_anchors"),
    ],
)
def test_each_view_shows_its_rows(driver, server, location, shots, path, table, expect):
    sep = "&" if "?" in path else "?"
    load(driver, server, f"{path}{sep}domain={MYSITE}")
    rows = table_rows(driver, table)
    assert rows and "muted" not in (rows[0].get_attribute("innerHTML") or "")[:40]
    assert any(expect in row.text for row in rows), [row.text for row in rows][:5]
    screenshot(driver, shots, location, table)


def test_the_gap_table_is_the_fixtures_order(driver, server):
    load(driver, server, f"/gap?domain={MYSITE}&vs=acme.test,globex.test,initech.test")
    assert [row.text.split()[0] for row in table_rows(driver, "gap")] == GAP[2]


def test_tables_need_no_javascript(server):
    """Server-rendered: the HTML itself holds the rows; no inline script (the CSP forbids it)."""
    for path, table in (
        ("/backlinks", "backlinks"),
        ("/refdomains", "refdomains"),
        ("/toxic", "toxic"),
    ):
        status, headers, body = server.get(f"{path}?domain={MYSITE}")
        html = body.decode()
        assert status == 200 and "script-src 'self'" in headers["content-security-policy"]
        rows = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
        assert rows and rows.group(1).count("<tr") > 0
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
