"""The served dashboard in Debian's headless Chromium: login, every chart and table with
data, no console errors, a screenshot in artifacts/dashboard.png."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests._seed_dir import seed_directory

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ollive dashboard` (basic auth on) against a seeded chDB directory."""
    root = tmp_path_factory.mktemp("dashboard")
    url = seed_directory(root / "wh", events=100_000)
    port = _free_port()
    env = {**os.environ, "OLLIVE_HOME": str(root / "home"), "OLLIVE_DASHBOARD_AUTH": "ops:s3cret"}
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
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_dashboard_requires_login(served: str) -> None:
    response = httpx.get(served + "/", follow_redirects=False, timeout=30)
    assert response.status_code in (302, 303) and "login" in response.headers["location"]


def test_dashboard_renders_in_chromium(served: str) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2200})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.goto(served + "/login", timeout=120_000)
        page.fill("input[name=username]", "ops")
        page.fill("input[name=password]", "s3cret")
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_selector(".ollive-chart canvas", timeout=180_000)
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
        browser.close()
    assert counts[".ollive-chart"] == 4 and all(drawn), (
        counts,
        drawn,
    )  # latency, cost, requests, error rate
    assert counts[".ollive-kpi"] == 7 and counts[".ollive-empty"] == 0, counts
    assert len(rows) == 4 and all(rows), rows  # conversations, timeline, tools, anomalies
    assert not problems, problems
