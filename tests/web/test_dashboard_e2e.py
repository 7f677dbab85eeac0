"""The dashboard end to end: a real Chromium (Debian's) driven by Playwright, against the
service (which serves the production build) and the local hub. A person starts a download
and watches the bar move, pauses and resumes it, changes the bandwidth cap, damages a
file on disk and repairs it from the UI, asks what to use for a missing model, and runs a
cleanup dry run. The API docs work with nothing but the service. Each page is saved under
docs/screenshots/ at 1280 and 390 px."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    Request,
    Route,
    expect,
    sync_playwright,
)

from modelward.api.web import WEBUI_DIR
from modelward.devhub import Fault, FaultPlan
from tests.api.conftest import AUTH, TOKEN, LiveService, StartService
from tests.conftest import TI2V, TI2V_REPO

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
T2V = "t2v-a14b"
# Chromium in a closed network: no first-run, sync or update traffic to wait on.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(what: str) -> None:
    # `./dev test` builds the dashboard and installs Chromium; in CI a gap is a failure.
    if os.environ.get("CI"):
        pytest.fail(f"{what}; `./dev test` should have provided it")
    pytest.skip(f"{what}; `./dev test` provides it")


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _missing("Debian's chromium is not installed")
    if not (WEBUI_DIR / "index.html").is_file():
        _missing("the dashboard is not built")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _page(browser: Browser, live: LiveService, width: int = 1280, path: str = "/") -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    _PENDING[page] = _track_requests(page)
    page.goto(f"{live.client.base_url}{path}")
    return page


# Requests each page has in flight, but the event stream: it stays open for good (read with
# fetch, so Playwright's "networkidle" would never come).
_PENDING: dict[Page, set[Request]] = {}


def _track_requests(page: Page) -> set[Request]:
    pending: set[Request] = set()
    page.on("request", lambda r: None if "/api/v1/events" in r.url else pending.add(r))
    page.on("requestfinished", lambda r: pending.discard(r))
    page.on("requestfailed", lambda r: pending.discard(r))
    return pending


def _network_quiet(page: Page, quiet_s: float = 0.5, timeout_s: float = 20) -> None:
    """Wait until no request but the event stream has been in flight for ``quiet_s``."""
    pending, deadline, quiet_since = _PENDING[page], time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        now = time.monotonic()
        quiet_since = (quiet_since or now) if not pending else None
        if quiet_since is not None and now - quiet_since >= quiet_s:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"requests still in flight: {[r.url for r in pending]}")


def _narrow(browser: Browser, live: LiveService, path: str, name: str) -> Page:
    """The page at a phone's width: saved, and it must not scroll sideways."""
    page = _page(browser, live, width=390, path=path)
    expect(page.get_by_test_id("connection")).to_have_text(re.compile("Live"))
    _network_quiet(page)
    _shot(page, name)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} scrolls sideways at 390 px ({width} px)"
    return page


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _card(page: Page, model_id: str) -> Locator:
    return page.get_by_role("article", name=f"model {model_id}")


def _state_becomes(page: Page, model_id: str, wanted: str, timeout_s: float = 30) -> None:
    state = _card(page, model_id).get_by_test_id("state")
    expect(state).to_have_attribute("data-state", wanted, timeout=timeout_s * 1000)


def _save_token(page: Page) -> None:
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Save token").click()


def _confirm(page: Page) -> None:
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Confirm").click()


def test_a_person_manages_models_from_the_dashboard(
    start_service: StartService, browser: Browser
) -> None:
    live = start_service()
    page = _page(browser, live)
    expect(page.get_by_test_id("connection")).to_have_text(re.compile("Live"))
    expect(_card(page, TI2V)).to_be_visible()
    _shot(page, "models")
    _save_token(page)
    _shot(page, "settings")

    # Start a download and see the bar move.
    live.hub.set_faults(FaultPlan([Fault.rate(100_000)]))
    page.get_by_role("link", name="Models").click()
    _card(page, TI2V).get_by_role("button", name="Download").click()
    page.get_by_role("link", name="Downloads").click()
    bar = page.get_by_role("progressbar", name=f"download progress {TI2V}")
    expect(bar).to_be_visible()
    first = _value_when(bar, lambda v: v > 0)
    _value_when(bar, lambda v: v > first)
    # One truth: what the dashboard shows lies between two API readings, the first taken
    # a progress interval (and some) before it.
    before = _api_percent(live)
    time.sleep(0.5)
    shown = float(bar.get_attribute("aria-valuenow") or 0)
    after = _api_percent(live)
    assert round(before) - 1 <= shown <= round(after) + 1, (before, shown, after)

    # The bandwidth cap takes effect live, written with its unit; a number alone is refused.
    cap = page.get_by_label("Bandwidth cap")
    cap.fill("20")
    page.get_by_role("button", name="Apply cap").click()
    expect(page.get_by_role("alert")).to_contain_text("has no unit")
    expect(page.get_by_role("alert")).to_contain_text("20MB/s, 160Mbit/s or 1.5GiB/s")
    cap.fill("4MB/s")
    page.get_by_role("button", name="Apply cap").click()
    expect(page.get_by_test_id("bandwidth-current")).to_have_text("4.00 MB/s")
    assert live.client.get("/api/v1/bandwidth").json()["limit_bytes_per_s"] == 4_000_000
    _shot(page, "downloads")

    # Pause, then resume.
    page.get_by_role("link", name="Models").click()
    _card(page, TI2V).get_by_role("button", name="Pause").click()
    _state_becomes(page, TI2V, "paused")
    # Paused, the dashboard and the API show the same figure.
    paused_bar = page.get_by_role("progressbar", name=f"download progress {TI2V}").first
    expect(paused_bar).to_have_attribute("aria-valuenow", str(round(_api_percent(live))))
    live.hub.clear_faults()
    _card(page, TI2V).get_by_role("button", name="Resume").click()
    _state_becomes(page, TI2V, "available", timeout_s=60)
    # A verified pull counts as a check.
    integrity = _card(page, TI2V).get_by_test_id("integrity")
    expect(integrity).to_contain_text(re.compile(r"100% intact · checked (just now|\d+ s ago)"))

    # Damage a file on disk; Verify finds it; Repair mends it.
    manifest = live.hub.manifest(TI2V_REPO)
    big = max((f for f in manifest.files if f.is_lfs), key=lambda f: f.size)
    blob = live.runtime.manager.layout(TI2V).blob_path(big.etag)
    blob.chmod(0o644)
    with blob.open("r+b") as fh:
        fh.write(b"\0" * 8)  # the safetensors header length: a structural check sees it
    _card(page, TI2V).get_by_role("button", name="Verify").click()
    _state_becomes(page, TI2V, "corrupted")
    # Shown as damaged, not missing, and the card keeps its path and version.
    card = _card(page, TI2V)
    expect(card.get_by_test_id("state")).to_have_text("Damaged")
    expect(card.get_by_test_id("integrity")).to_contain_text("1 damaged")
    expect(card.get_by_test_id("integrity")).not_to_contain_text("missing")
    expect(card.get_by_text("1 damaged file")).to_be_visible()
    expect(card.get_by_test_id("local-path")).to_be_visible()
    expect(card.get_by_role("button", name=f"Copy local path of {TI2V}")).to_be_visible()
    version = live.client.get(f"/api/v1/models/{TI2V}/status").json()["current_version"]
    assert version and re.fullmatch(r"[0-9a-f]{40}", version)
    expect(card).to_contain_text(version[:10])
    _shot(page, "models-damaged")
    page.get_by_role("link", name="Health").click()
    expect(page.get_by_test_id("health-score")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=TI2V)
    expect(row).to_contain_text("Damaged")
    expect(row).not_to_contain_text("corrupted")
    _shot(page, "health")
    page.get_by_role("link", name="Models").click()
    _card(page, TI2V).get_by_role("button", name="Repair").click()
    _state_becomes(page, TI2V, "available", timeout_s=60)

    # What can a job for the missing T2V model use? The ready TI2V.
    page.get_by_role("link", name="Requests").click()
    form = page.get_by_role("form", name="What can I use for this job?")
    form.get_by_label("Model").select_option(T2V)
    form.get_by_role("button", name="Ask").click()
    answer = page.get_by_role("region", name="Advice for this job")
    expect(answer.get_by_test_id("requested")).to_contain_text(f"{T2V} (not downloaded)")
    expect(answer.get_by_test_id("strategy-type")).to_have_text("Use another model")
    alternatives = answer.get_by_role("list", name="Alternatives")
    expect(alternatives.get_by_role("listitem").first).to_contain_text(f"{TI2V} (available)")
    expect(answer).not_to_contain_text(re.compile("alternative_model|slightly_lower|_"))
    _shot(page, "requests")

    # A cleanup dry run lists TI2V and removes nothing.
    page.get_by_role("link", name="Storage").click()
    page.get_by_label("Keep models used within (days)").fill("0")
    page.get_by_role("button", name="Preview cleanup").click()
    plan = page.get_by_role("table", name="Cleanup plan")
    expect(plan).to_contain_text(TI2V)
    _shot(page, "storage")
    status = live.client.get(f"/api/v1/models/{TI2V}/status").json()
    assert status["availability_status"] == "available"

    # Three jobs on the demo generator, each well under a second: the charts have axes and
    # values, and a near-0 s average draws no full-height bar.
    for n in range(3):
        job = {"model_id": TI2V, "prompt": f"a lighthouse at dusk, take {n}"}
        ran = live.client.post("/api/v1/generate", json=job, headers=AUTH)
        assert ran.status_code == 200, ran.text
    page.get_by_role("link", name="Analytics").click()
    daily = page.get_by_role("figure").filter(has_text="Jobs per day, all models")
    expect(daily.locator(".bar-chart__tick").last).to_have_text("3")
    expect(daily.locator(".bar-chart__bar").last).to_have_text("3")
    expect(daily.locator(".bar-chart__unit")).to_have_text("jobs")
    times = page.get_by_role("figure").filter(has_text="Seconds per job")
    expect(times.locator(".bar-chart__tick").last).to_have_text("1")
    height = times.locator(".bar-chart__bar").first.evaluate("e => parseFloat(e.style.height)")
    assert height < 50, f"a job under a second drew a bar {height}% high on a 0..1 s axis"
    _shot(page, "analytics")

    for path, name in (
        ("/", "models-390"),
        ("/downloads", "downloads-390"),
        ("/analytics", "analytics-390"),
    ):
        _narrow(browser, live, path, name)


def test_the_api_docs_work_with_nothing_but_the_service(
    start_service: StartService, browser: Browser
) -> None:
    base = str(start_service().client.base_url)
    for width, suffix in ((1280, ""), (390, "-390")):
        page, elsewhere, refused = _closed_page(browser, width, base)
        page.goto(f"{base}/docs")
        operations = page.locator(".opblock")
        expect(operations.first).to_be_visible(timeout=20_000)
        assert operations.count() > 20
        paths = page.locator(".opblock-summary-path")
        expect(paths.filter(has_text="/api/v1/bandwidth").first).to_be_visible()
        _shot(page, f"api-docs{suffix}", full_page=False)  # the first screen: the docs are long
        page.goto(f"{base}/redoc")
        operation = page.get_by_text("/api/v1/models/{model_id}/download").first
        expect(operation).to_be_attached(timeout=20_000)
        if not suffix:
            _shot(page, "api-redoc", full_page=False)
        assert not elsewhere, f"the docs asked other hosts: {elsewhere}"
        assert not refused, f"the docs broke the page's policy: {refused}"
        page.context.close()


def _closed_page(browser: Browser, width: int, base: str) -> tuple[Page, list[str], list[str]]:
    """A page that may reach only ``base``: what it asks elsewhere is recorded and refused
    (as offline), and so is what the Content-Security-Policy blocks."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    elsewhere: list[str] = []
    refused: list[str] = []

    def refuse(route: Route) -> None:
        elsewhere.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(?!" + re.escape(base) + r")"), refuse)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda msg: _note_refusal(msg.text, refused))
    return page, elsewhere, refused


# ReDoc's sidebar always shows its maker's logo from a CDN; the policy refuses the image
# (nothing leaves the machine) and ReDoc hides it. Every other refusal is a fault.
_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _note_refusal(text: str, refused: list[str]) -> None:
    if "Content Security Policy" in text and _REDOC_LOGO not in text:
        refused.append(text)


def test_a_lost_connection_is_shown_and_comes_back(
    start_service: StartService, browser: Browser
) -> None:
    live = start_service()
    page = _page(browser, live)
    status = page.get_by_test_id("connection")
    expect(status).to_have_text(re.compile("Live"))
    page.context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    expect(status).to_have_text(re.compile("Reconnecting"), timeout=20_000)
    page.context.set_offline(False)
    expect(status).to_have_text(re.compile("Live"), timeout=30_000)


def test_the_live_stream_carries_the_token_when_reads_need_one(
    start_service: StartService, browser: Browser
) -> None:
    live = start_service(host="0.0.0.0")  # reads (the event stream too) need a token
    context = browser.new_context()
    context.add_init_script(f"sessionStorage.setItem('modelward.apiToken', '{TOKEN}')")
    page = context.new_page()
    page.goto(f"{live.client.base_url}/")
    expect(page.get_by_test_id("connection")).to_have_text(re.compile("Live"), timeout=20_000)
    expect(_card(page, TI2V)).to_be_visible()


def test_api_errors_show_their_message_and_next_step(
    start_service: StartService, browser: Browser
) -> None:
    live = start_service()
    page = _page(browser, live)
    # No token saved yet: a mutation gets the API's 401, shown as words, not a blank page.
    _card(page, TI2V).get_by_role("button", name="Download").click()
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text(re.compile("token", re.I))


def _api_percent(live: LiveService) -> float:
    progress = live.client.get(f"/api/v1/models/{TI2V}/download").json()
    return float(progress["progress_percent"])


def _value_when(bar: Locator, ok: Callable[[float], bool], timeout_s: float = 30) -> float:
    deadline = time.monotonic() + timeout_s
    while True:
        raw = bar.get_attribute("aria-valuenow")
        value = float(raw) if raw else 0.0
        if ok(value):
            return value
        assert time.monotonic() < deadline, f"progress stuck at {value}"
        time.sleep(0.1)
