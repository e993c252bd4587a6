"""The page's files as the server serves them, in process: where they are, their types, caching, the CSP, the gzip
size budget, API keys (the page loads without one, its API calls need one), and the Modelfile helper."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pollama.config import Settings
from pollama.errors import BadRequest
from pollama.server.app import create_app
from pollama.server.routes_ui import CSP
from pollama.ui import STATIC
from pollama.ui.modelfile import create_body

BUDGET = 500_000


def client(tmp: Path, **env: str) -> TestClient:
    settings = Settings.from_env({"OLLAMA_HOST": "127.0.0.1:11434", "OLLAMA_MODELS": str(tmp), **env})
    # No lifespan: the page's routes need no model store or scheduler.
    return TestClient(create_app(settings), base_url="http://127.0.0.1:11434")


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    yield client(tmp_path)


def linked(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#]+)"', html)


def test_ui_redirects_to_the_folder_and_root_is_unchanged(http: TestClient) -> None:
    r = http.get("/ui", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/ui/"
    root = http.get("/")
    assert root.status_code == 200 and root.text == "Ollama is running"
    assert http.head("/").status_code == 200


def test_index_has_a_strict_csp_and_no_inline_script_or_style(http: TestClient) -> None:
    r = http.get("/ui/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    csp = r.headers["content-security-policy"]
    assert csp == CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and "unsafe" not in csp
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-cache"
    html = r.text
    # Every script is a file; no inline handlers, no <style> blocks, nothing from another host.
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert not re.search(r"<script[^>]*>[^<]", html)
    assert not re.search(r"\son[a-z]+=", html) and "<style" not in html
    assert not [url for url in linked(html) if "//" in url]


def test_every_linked_asset_is_served_with_its_type_and_cached_for_good(http: TestClient) -> None:
    html = http.get("/ui/").text
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
    assets = set(linked(html))
    assert {Path(a).suffix for a in assets} == set(types)
    for name in assets:
        r = http.get(f"/ui/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"] == types[Path(name).suffix]
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.content == (STATIC / name).read_bytes()
        assert http.get(f"/ui/{name}", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    assert http.head("/ui/").status_code == 200


def test_assets_are_gzipped_and_under_the_budget(http: TestClient) -> None:
    names = [p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file()]
    assert "index.html" in names
    sent = 0
    for name in names:
        r = http.get(f"/ui/{name}", headers={"Accept-Encoding": "gzip"})
        assert r.content == (STATIC / name).read_bytes()  # decoded by the client
        sent += r.num_bytes_downloaded  # as it came over the wire
    script = next(n for n in names if n.endswith(".js"))
    r = http.get(f"/ui/{script}", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    assert r.num_bytes_downloaded < len(r.content) / 2
    assert sent < BUDGET, f"{sent} bytes gzipped"


def test_unknown_and_escaping_paths_are_404(http: TestClient) -> None:
    for path in ("/ui/nope.js", "/ui/%2e%2e/%2e%2e/pyproject.toml", "/ui/..%2f__init__.py", "/ui/static/index.html"):
        assert http.get(path).status_code == 404, path
    assert http.post("/ui/").status_code == 405


def test_with_api_keys_the_page_loads_but_its_api_calls_need_the_key(tmp_path: Path) -> None:
    http = client(tmp_path, OLLAMA_API_KEYS="s3cret")
    html = http.get("/ui/")
    assert html.status_code == 200
    for name in linked(html.text):
        assert http.get(f"/ui/{name}").status_code == 200
    assert http.get("/ui", follow_redirects=False).status_code == 301
    assert http.get("/api/version").status_code == 401
    body = {"model": "m", "modelfile": "FROM qwen2.5-coder:0.5b"}
    assert http.post("/ui/modelfile", json=body).status_code == 401
    ok = http.post("/ui/modelfile", json=body, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.json() == {"model": "m", "from": "qwen2.5-coder:0.5b"}


def test_modelfile_becomes_a_create_body(http: TestClient) -> None:
    text = "FROM qwen2.5-coder:0.5b\nSYSTEM Answer in French.\nPARAMETER temperature 0.2\nPARAMETER stop <a>\n"
    r = http.post("/ui/modelfile", json={"model": "fr", "modelfile": text + "PARAMETER stop <b>\nLICENSE MIT"})
    assert r.status_code == 200
    assert r.json() == {
        "model": "fr",
        "from": "qwen2.5-coder:0.5b",
        "system": "Answer in French.",
        "parameters": {"temperature": 0.2, "stop": ["<a>", "<b>"]},
        "license": ["MIT"],
    }


@pytest.mark.parametrize(
    ("model", "text", "error"),
    [
        ("m", "SYSTEM hi", "no FROM line"),
        ("m", "FROM a\nBOGUS b", '(line 2): command must be one of "from", "license", "template", "system", '),
        ("m", "FROM a\nPARAMETER temperature hot", "invalid float value [hot]"),
        ("m", "FROM a\nADAPTER ./lora.gguf", "ADAPTER names a file on the server"),
        ("m", "FROM ./model.gguf\nDRAFT ./d.gguf", "DRAFT names a file on the server"),
        ("", "FROM a", "model is required"),
    ],
)
def test_bad_modelfiles_are_400_with_the_parsers_message(http: TestClient, model: str, text: str, error: str) -> None:
    r = http.post("/ui/modelfile", json={"model": model, "modelfile": text})
    assert r.status_code == 400
    assert r.json()["error"].startswith(error)
    with pytest.raises(BadRequest):
        create_body(text, model)


def test_a_from_path_is_a_name_never_a_file_read(tmp_path: Path) -> None:
    # The CLI would hash and upload a local file; the page's server must not look at its own disk.
    (tmp_path / "weights.gguf").write_bytes(b"GGUF")
    assert create_body(f"FROM {tmp_path / 'weights.gguf'}", "m") == {
        "model": "m",
        "from": str(tmp_path / "weights.gguf"),
    }


def test_bad_json_gets_gos_wording(http: TestClient) -> None:
    r = http.post("/ui/modelfile", content=b'{"model": 1}')
    assert r.status_code == 400
    assert "cannot unmarshal number" in r.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:11434", "localhost:11434", "[::1]:11434"])
def test_the_pages_own_calls_pass_cors_and_the_host_check(http: TestClient, host: str) -> None:
    # The page's fetches are same-origin: Chromium sends an Origin equal to the Host on POST.
    headers = {"Host": host, "Origin": f"http://{host}"}
    assert http.get("/ui/", headers={"Host": host}).status_code == 200
    r = http.post("/ui/modelfile", json={"model": "m", "modelfile": "FROM a"}, headers=headers)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_another_sites_page_cannot_call_it(http: TestClient) -> None:
    body = {"model": "m", "modelfile": "FROM a"}
    assert http.post("/ui/modelfile", json=body, headers={"Origin": "http://evil.example"}).status_code == 403
    assert http.get("/ui/", headers={"Host": "evil.example"}).status_code == 403  # DNS rebinding
