"""The models page in headless Chromium against a live ``pollama serve``: pull from a real registry (Debian's
docker-registry) with a progress bar per layer that reaches 100%, cancel a pull mid-way, details from /api/show,
copy, delete with confirmation, create from a pasted Modelfile; the API key the page asks for; the page's load
figures and the size of what it downloads."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_helpers import Server
from playwright.sync_api import Browser, Page
from registry_helpers import CountingProxy, Registry, write_random_model
from ui_helpers import INSTRUCT, SCREENSHOTS, UIPage

pytestmark = pytest.mark.e2e

BUDGET = 500_000
MB = 1_000_000


def publish(server: Server, models: Path, name: str, size: int, seed: int) -> None:
    """Put a model of ``size`` random bytes in the registry (pushed by the server), then forget it locally."""
    write_random_model(models, name, size, seed)
    with httpx.stream("POST", f"{server.url}/api/push", json={"model": name, "insecure": True}, timeout=300) as r:
        lines = list(r.iter_lines())
    assert r.status_code == 200 and '"success"' in lines[-1], lines[-3:]
    assert httpx.request("DELETE", f"{server.url}/api/delete", json={"model": name}).status_code == 200


def names(server: Server) -> list[str]:
    return [m["name"] for m in httpx.get(f"{server.url}/api/tags").json()["models"]]


@pytest.fixture(scope="module")
def models(browser: Browser, ui_server: Server) -> Iterator[UIPage]:
    ui = UIPage(browser, ui_server.url)
    ui.open("#/models")
    ui.page.locator(f"#models-table tr[data-model='{INSTRUCT}']").wait_for()
    yield ui
    assert ui.errors == []
    ui.close()


def pull(page: Page, name: str) -> Any:
    page.fill("#pull-name", name)
    page.check("#pull-insecure")
    page.click("#pull-button")
    return page.locator(f".pull-card[data-model='{name}']")


def test_pull_shows_a_bar_per_layer_reaching_100(
    models: UIPage, ui_server: Server, ui_models: Path, registry: Registry
) -> None:
    page = models.page
    name = f"{registry.host}/library/uitest:latest"
    publish(ui_server, ui_models, name, 12 * MB, seed=1)
    assert name not in names(ui_server)
    card = pull(page, name)
    card.and_(page.locator(".ok")).wait_for(timeout=120_000)
    assert card.locator(".pull-status").inner_text() == "success"
    bars = card.locator("[role=progressbar]")
    assert bars.count() == 2  # the weights and the config, each with its own bar
    assert [bars.nth(i).get_attribute("aria-valuenow") for i in range(2)] == ["100", "100"]
    assert "12 MB / 12 MB" in card.inner_text()
    row = page.locator(f"#models-table tr[data-model='{name}']")
    row.wait_for()
    assert "12 MB" in row.inner_text()
    assert name in names(ui_server)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "models.png"))


def test_a_pull_can_be_cancelled_mid_way(
    models: UIPage, ui_server: Server, ui_models: Path, registry: Registry, proxy: CountingProxy
) -> None:
    page = models.page
    publish(ui_server, ui_models, f"{registry.host}/library/uibig:latest", 40 * MB, seed=2)
    name = f"{proxy.host}/library/uibig:latest"
    proxy.hold(after=4 * MB)
    try:
        card = pull(page, name)
        assert proxy.held.wait(60)
        bar = card.locator("[role=progressbar]").first
        page.wait_for_function("bar => Number(bar.getAttribute('aria-valuenow')) > 0", arg=bar.element_handle())
        card.get_by_role("button", name="Cancel").click()
        card.and_(page.locator(".cancelled")).wait_for()
        assert card.locator(".pull-status").inner_text() == "cancelled"
        assert int(bar.get_attribute("aria-valuenow") or 0) < 100
    finally:
        proxy.release()
    assert name not in names(ui_server)


def test_details_come_from_show(models: UIPage, ui_server: Server) -> None:
    page = models.page
    row = page.locator(f"#models-table tr[data-model='{INSTRUCT}']")
    assert "Q4_K_M" in row.inner_text() and "tools" in row.inner_text()
    row.get_by_role("button", name="Details").click()
    dialog = page.locator("dialog")
    shown = httpx.post(f"{ui_server.url}/api/show", json={"model": INSTRUCT}).json()
    assert "qwen2" in dialog.locator(".facts").inner_text()
    for section in ("Template", "Modelfile", "License"):
        dialog.locator("summary", has_text=section).click()
    texts = dialog.locator(".show-text").all_inner_texts()
    assert shown["template"].strip() in [t.strip() for t in texts]
    assert shown["modelfile"].strip() in [t.strip() for t in texts]
    assert any(t.split()[:8] == shown["license"].split()[:8] for t in texts)  # "Apache License Version 2.0 …"
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")


def test_copy_then_delete_after_confirmation(models: UIPage, ui_server: Server, registry: Registry) -> None:
    page = models.page
    source = f"{registry.host}/library/uitest:latest"
    page.locator(f"#models-table tr[data-model='{source}']").get_by_role("button", name="Copy").click()
    page.fill(".dialog-input", "ui-copy")
    page.press(".dialog-input", "Enter")
    row = page.locator("#models-table tr[data-model='ui-copy:latest']")
    row.wait_for()
    assert "ui-copy:latest" in names(ui_server)
    row.get_by_role("button", name="Delete").click()
    page.locator("dialog").get_by_role("button", name="Cancel").click()
    assert "ui-copy:latest" in names(ui_server)
    for model in ("ui-copy:latest", source):
        page.locator(f"#models-table tr[data-model='{model}']").get_by_role("button", name="Delete").click()
        page.locator("dialog").get_by_role("button", name="Delete").click()
        page.locator(f"#models-table tr[data-model='{model}']").wait_for(state="detached")
        assert model not in names(ui_server)


def test_create_from_a_pasted_modelfile(models: UIPage, ui_server: Server) -> None:
    page = models.page
    page.locator("summary", has_text="Create from a Modelfile").click()
    page.fill("#create-name", "ui-bad")
    page.fill("#create-modelfile", "FROM qwen2.5-coder:0.5b\nPARAMETER temperature hot")
    page.click("#create-button")
    status = page.locator(".create-status")
    status.and_(page.locator(".failed")).wait_for()
    assert status.inner_text() == "invalid float value [hot]"
    page.fill("#create-name", "ui-french")
    page.fill("#create-modelfile", f"FROM {INSTRUCT}\nSYSTEM Answer in French.\nPARAMETER temperature 0.2")
    page.click("#create-button")
    status.and_(page.locator(".ok")).wait_for(timeout=120_000)
    assert status.inner_text() == "success"
    page.locator("#models-table tr[data-model='ui-french:latest']").wait_for()
    shown = httpx.post(f"{ui_server.url}/api/show", json={"model": "ui-french"}).json()
    assert shown["system"] == "Answer in French."
    assert "temperature                    0.2" in shown["parameters"]
    assert httpx.request("DELETE", f"{ui_server.url}/api/delete", json={"model": "ui-french"}).status_code == 200


def test_the_page_asks_for_the_api_key_and_sends_it(browser: Browser, start_ui_server: Any) -> None:
    keyed: Server = start_ui_server(OLLAMA_API_KEYS="s3cret")
    ui = UIPage(browser, keyed.url)
    page = ui.page
    try:
        page.goto(f"{keyed.url}/ui/")  # the page itself needs no key
        dialog = page.locator("dialog", has_text="API key")
        assert "needs an API key" in dialog.inner_text()
        page.fill(".dialog-input", "wrong")
        page.press(".dialog-input", "Enter")
        page.locator("dialog", has_text="refused this key").wait_for()
        page.fill(".dialog-input", "s3cret")
        page.press(".dialog-input", "Enter")
        page.wait_for_selector("body[data-ready]")
        assert page.locator("#model-select").input_value() == INSTRUCT
        assert page.evaluate("localStorage.getItem('pollama.apiKey')") == "s3cret"
        # Kept: a new load asks nothing.
        page.reload()
        page.wait_for_selector("body[data-ready]")
        assert page.locator("dialog").count() == 0
        assert ui.errors == []
    finally:
        ui.close()
        keyed.stop()


LOAD = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const ready = performance.getEntriesByName('pollama-ready')[0];
  const files = performance.getEntriesByType('resource').filter((r) => r.initiatorType !== 'fetch');
  return {
    load: nav.loadEventEnd, ready: ready.startTime, origin: location.origin,
    files: [nav, ...files].map((r) => ({ name: r.name, encoded: r.encodedBodySize, decoded: r.decodedBodySize })),
  };
}"""


def test_page_load_and_download_size(browser: Browser, ui_server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    loads, readies = [], []
    for _ in range(5):
        ui = UIPage(browser, ui_server.url)  # a fresh context: nothing cached
        try:
            ui.open()
            figures = ui.page.evaluate(LOAD)
        finally:
            ui.close()
        # Everything the page loads comes from this server (no CDN), gzipped, within the budget.
        assert all(f["name"].startswith(figures["origin"] + "/ui/") for f in figures["files"]), figures["files"]
        assert {Path(f["name"]).suffix for f in figures["files"]} >= {".js", ".css", ".svg"}
        script = next(f for f in figures["files"] if f["name"].endswith(".js"))
        assert script["encoded"] < script["decoded"] / 2
        assert sum(f["encoded"] for f in figures["files"]) < BUDGET
        loads.append(figures["load"])
        readies.append(figures["ready"])
    with capsys.disabled():
        print(
            f"\n/ui/ on loopback: load event median {statistics.median(loads):.0f} ms "
            f"(min {min(loads):.0f}), ready with models and conversations median {statistics.median(readies):.0f} ms, "
            f"{sum(f['encoded'] for f in figures['files']) / 1000:.1f} kB transferred"
        )
