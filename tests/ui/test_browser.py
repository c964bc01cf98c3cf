"""The served dashboard in Debian's headless Chromium: login, every page with data, no
console errors, no failed or external requests, the trace explorer and the experiments page
driven like a user (search, click, tick, URL), a screenshot per page in
artifacts/dashboard-<page>.png.

One server (over a 100k-event seeded chDB directory plus a 10,000-span trace) and one
logged-in browser serve the whole module."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests._seed_dir import seed_directory

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
#: route -> screenshot name
ROUTES = {"/": "overview", "/traces": "traces", "/sessions": "sessions", "/users": "users",
          "/tools": "tools", "/scores": "scores", "/experiments": "experiments",
          "/alerts": "alerts", "/health": "health"}  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]

# What the test knows of the data before the server holds the directory: the text of a
# recent inference that called tools, the first search result for it and its trace's spans;
# and a dataset with two experiment runs (the newer's first item traced) and an online rule.
FACTS = r"""
import json, sys
import ollive.insights as oi
from ollive.store import connect
from datetime import UTC, datetime, timedelta
from ollive.demo.big_trace import seed_big_trace
from tests.ui._evaluations import seed_evaluations

con = connect(sys.argv[1])
for trace_id in oi.search(con, kinds=["tool"], window="24h", limit=50)["trace_id"].unique():
    known = oi.trace(con, trace_id)
    inference = known[known["kind"] == "inference"]
    if inference.empty:
        continue
    text = inference.iloc[0]["input"][:60]  # what a user remembers of a request
    first = oi.search(con, text, window="24h", limit=1).iloc[0]
    found = oi.trace(con, first["trace_id"])
    if (found["kind"] == "tool").any():  # the first hit's trace called tools
        break
project = con.warehouse.scalar("SELECT any(project) FROM inference_logs")
big = seed_big_trace(con.warehouse, datetime.now(UTC) - timedelta(minutes=30), project=project)
evaluated = seed_evaluations(con.warehouse, project, trace_id=first["trace_id"])
print(json.dumps({
    "text": text, "first_trace": first["trace_id"], "first_name": first["name"],
    "first_spans": found["name"].tolist(), "known_trace": trace_id,
    "known_tools": sorted(set(known.loc[known["kind"] == "tool", "name"])),
    "big_trace": big["trace_id"], "runs": evaluated["runs"],
}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    facts: dict[str, Any]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`ollive dashboard` (basic auth on) against a seeded chDB directory."""
    root = tmp_path_factory.mktemp("dashboard")
    url = seed_directory(root / "wh", events=100_000)
    env = {**os.environ, "OLLIVE_HOME": str(root / "home"), "OLLIVE_DASHBOARD_AUTH": "ops:s3cret"}
    facts = subprocess.run([sys.executable, "-c", FACTS, url], env=env, check=True,
                           capture_output=True, text=True, timeout=300,
                           cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    port = _free_port()
    log = open(root / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "ollive.cli", "dashboard", "--warehouse", url, "--port", str(port),
                             "--refresh", "0"], env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, (root / "server.log").read_text()
            try:
                httpx.get(base + "/login", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield Served(base, json.loads(facts.stdout.strip().splitlines()[-1]))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@dataclass
class Browser:
    """One logged-in Chromium page and what went wrong in it since the last check."""

    page: Any
    base: str
    problems: list[str] = field(default_factory=list)

    def open(self, path: str, ready: str = ".ollive-section, .ollive-component") -> None:
        self.page.goto(self.base + path, timeout=120_000)
        self.page.wait_for_selector(ready, timeout=120_000)

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)

    def take_problems(self) -> list[str]:
        problems, self.problems[:] = list(self.problems), []
        return problems


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = chromium.new_page(viewport={"width": 1400, "height": 2200})
        b = Browser(page, served.url)
        local = (served.url, "data:", "blob:")
        page.on("console", lambda m: b.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: b.problems.append(str(e)))
        page.on("requestfailed", lambda r: b.problems.append(f"request failed: {r.url}"))
        page.on("request", lambda r: None if r.url.startswith(local) else b.problems.append(f"external: {r.url}"))  # fmt: skip
        page.goto(served.url + "/login", timeout=120_000)
        page.fill("input[name=username]", "ops")
        page.fill("input[name=password]", "s3cret")
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_selector(".ollive-component", timeout=180_000)
        yield b
        chromium.close()


def test_dashboard_requires_login(served: Served) -> None:
    for path in ("/", "/traces?trace_id=x", "/health"):
        response = httpx.get(served.url + path, follow_redirects=False, timeout=30)
        assert response.status_code in (302, 303) and "login" in response.headers["location"]


def test_dashboard_renders_in_chromium(browser: Browser) -> None:
    page = browser.page
    browser.open("/", ready=".ollive-chart canvas")
    page.wait_for_selector(".ollive-timeline .tabulator-row", timeout=60_000)
    page.wait_for_timeout(2000)  # let every plot draw
    counts = {sel: page.locator(sel).count() for sel in (".ollive-chart", ".ollive-kpi", ".ollive-table",
                                                           ".ollive-empty", ".ollive-timeline .tabulator-row")}  # fmt: skip
    charts = page.locator(".ollive-chart")
    drawn = [charts.nth(i).locator("canvas").count() for i in range(charts.count())]
    tables = page.locator(".ollive-table")
    rows = [tables.nth(i).locator(".tabulator-row").count() for i in range(tables.count())]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert counts[".ollive-chart"] == 4 and all(drawn), (
        counts,
        drawn,
    )  # latency, cost, requests, error rate
    assert counts[".ollive-kpi"] == 7 and counts[".ollive-empty"] == 0, counts
    assert len(rows) == 4 and all(rows), rows  # conversations, timeline, tools, anomalies
    assert not browser.take_problems()


def test_every_page_shows_data(browser: Browser) -> None:
    page, seen = browser.page, {}
    for route, name in ROUTES.items():
        browser.open(route + "?window=7d")
        page.wait_for_selector(".ollive-table .tabulator-row", timeout=120_000)
        page.wait_for_timeout(1500)  # let every plot draw
        nav = page.locator(".ollive-nav a")
        seen[name] = {
            "rows": page.locator(".ollive-table .tabulator-row").count(),
            "empty": page.locator(".ollive-empty").count(),
            "errors": page.locator(".ollive-error").count(),
            "charts": page.locator(".ollive-chart").count(),
            "drawn": page.locator(".ollive-chart canvas").count(),
            "links": nav.count(),
            "active": page.locator(".ollive-nav a.active").inner_text(),
            "keeps_filters": all("window=7d" in (nav.nth(i).get_attribute("href") or "")
                                 for i in range(nav.count())),
        }  # fmt: skip
        browser.screenshot(name)
    for name, figures in seen.items():
        assert figures["rows"] > 0 and figures["empty"] == 0 and figures["errors"] == 0, (
            name,
            figures,
        )
        assert figures["drawn"] >= figures["charts"], (name, figures)
        assert figures["links"] == len(ROUTES) and figures["keeps_filters"], (name, figures)
    assert seen["health"]["charts"] >= 1 and seen["tools"]["charts"] >= 1, seen
    assert [seen[n]["active"] for n in ("traces", "health")] == ["Traces", "Data health"]
    assert not browser.take_problems()


def test_search_then_open_a_trace(browser: Browser, served: Served) -> None:
    from playwright.sync_api import expect

    page, facts = browser.page, served.facts
    browser.open("/traces", ready=".ollive-search .tabulator-row")
    page.fill(".ollive-search-box input", facts["text"])
    page.press(".ollive-search-box input", "Enter")
    page.wait_for_function("() => location.search.includes('q=')", timeout=60_000)
    first = page.locator(".ollive-search .tabulator-row").first
    expect(first).to_contain_text(facts["first_name"], timeout=60_000)  # the search ran
    first.locator(".tabulator-cell[tabulator-field=name]").click()  # the first result
    page.wait_for_selector(".ollive-waterfall canvas", timeout=60_000)
    page.wait_for_selector(".ollive-span-rows .tabulator-row", timeout=60_000)
    page.wait_for_timeout(1500)
    spans = page.locator(".ollive-span-rows .tabulator-row").all_inner_texts()
    header = page.locator(".ollive-trace-title").inner_text()
    query = parse_qs(urlparse(page.url).query)
    browser.screenshot("traces")
    assert query["q"] == [facts["text"]] and query["trace_id"] == [facts["first_trace"]], page.url
    assert facts["first_trace"] in header
    assert len(spans) == min(15, len(facts["first_spans"]))
    shown = [s.split("\n")[0].strip("\xa0 ") for s in spans]
    assert shown == facts["first_spans"][: len(shown)]
    assert not browser.take_problems()


def test_a_trace_url_opens_that_trace(browser: Browser, served: Served) -> None:
    page, facts = browser.page, served.facts
    browser.open(f"/traces?trace_id={facts['known_trace']}", ready=".ollive-waterfall canvas")
    page.wait_for_selector(".ollive-span-rows .tabulator-row", timeout=60_000)
    text = " ".join(page.locator(".ollive-span-rows .tabulator-row").all_inner_texts())
    assert facts["known_trace"] in page.locator(".ollive-trace-title").inner_text()
    assert all(tool in text for tool in facts["known_tools"]), (text, facts["known_tools"])

    # 10,000 spans: one glyph, one page of rows (how fast: `ollive bench insights`)
    browser.open(f"/traces?trace_id={facts['big_trace']}", ready=".ollive-waterfall canvas")
    page.wait_for_selector(".ollive-span-rows .tabulator-row", timeout=60_000)
    assert page.evaluate("() => 1 + 1") == 2  # the page still answers
    header = page.locator(".ollive-trace-title").inner_text()
    rows = page.locator(".ollive-span-rows .tabulator-row").count()
    browser.screenshot("trace-10k")
    assert "10,001 spans" in header and rows == 15, (header, rows)
    assert not browser.take_problems()


def test_links_keep_filters_and_name_the_user(browser: Browser, served: Served) -> None:
    page = browser.page
    browser.open(f"/traces?window=7d&trace_id={served.facts['known_trace']}",
                 ready=".ollive-trace-header a")  # fmt: skip
    page.locator(".ollive-trace-header a").first.click()  # the trace's user
    page.wait_for_selector(".ollive-user .ollive-kpi", timeout=120_000)
    query = parse_qs(urlparse(page.url).query)
    assert urlparse(page.url).path == "/users" and query.get("user"), page.url
    page.locator(".ollive-nav a", has_text="Sessions").click()
    page.wait_for_selector(".ollive-sessions-table .tabulator-row", timeout=120_000)
    assert urlparse(page.url).path == "/sessions" and "window=7d" in page.url, page.url
    assert not browser.take_problems()


def test_tick_a_run_then_compare_two(browser: Browser, served: Served) -> None:
    page, runs = browser.page, served.facts["runs"]
    browser.open("/experiments", ready=".ollive-runs-table .tabulator-row")
    ticks = page.locator(".ollive-runs-table .tabulator-row input[type=checkbox]")
    ticks.nth(0).click()  # the newest run: its summary and results
    page.wait_for_selector(".ollive-results-table .tabulator-row", timeout=60_000)
    page.wait_for_selector(".ollive-run-summary-table .tabulator-row", timeout=60_000)
    page.wait_for_function("() => location.search.includes('run=')", timeout=60_000)
    assert parse_qs(urlparse(page.url).query)["run"] == [runs["candidate"]], page.url
    traced = page.locator(".ollive-results-table a[href*='traces?trace_id=']")
    assert traced.count() == 1  # its first item's trace opens on the traces page
    ticks.nth(1).click()  # and the older one: the two compared
    page.wait_for_selector(".ollive-comparison-table .tabulator-row", timeout=60_000)
    page.wait_for_selector(".ollive-comparison-chart canvas", timeout=60_000)
    page.wait_for_selector(".ollive-changes-table .tabulator-row", timeout=60_000)
    page.wait_for_timeout(1000)  # let the chart draw
    query = parse_qs(urlparse(page.url).query)
    browser.screenshot("experiments")
    assert (query["run"], query["baseline"]) == ([runs["candidate"]], [runs["baseline"]])
    compared = " ".join(page.locator(".ollive-comparison-table .tabulator-row").all_inner_texts())
    assert "helpfulness" in compared and "better" in compared, compared
    assert page.locator(".ollive-error").count() == 0
    assert not browser.take_problems()
