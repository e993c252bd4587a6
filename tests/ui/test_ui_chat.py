"""The chat page in headless Chromium against a live ``pollama serve`` on the real instruct model: a streamed
answer with its figures, highlighted code with a copy button, stop mid-way, regenerate, edit, another model,
tool calls, conversations kept in IndexedDB (rename, delete, export), sanitised Markdown, the phone layout, and
the running models page with unload."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_helpers import Server
from playwright.sync_api import Browser, Locator, Page
from ui_helpers import INSTRUCT, SCREENSHOTS, UIPage

pytestmark = pytest.mark.e2e

BASE = "gemma3:270m"
WEATHER = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


class Chat(UIPage):
    """The chat page, with the bodies it sent to /api/chat."""

    def __init__(self, browser: Browser, server: Server) -> None:
        super().__init__(browser, server.url, permissions=["clipboard-read", "clipboard-write"])
        self.sent: list[dict[str, Any]] = []
        self.page.on("request", self._record)

    def _record(self, request: Any) -> None:
        if request.url.endswith("/api/chat"):
            self.sent.append(json.loads(request.post_data))

    def option(self, key: str, value: str) -> None:
        page = self.page
        if page.locator("#settings").is_hidden():
            page.click("#settings-toggle")
        page.fill(f"#opt-{key}", value)
        page.press(f"#opt-{key}", "Tab")  # options are saved on change

    def send(self, text: str) -> None:
        self.page.fill("#prompt", text)
        self.page.press("#prompt", "Enter")

    def answer(self) -> Locator:
        return self.page.locator(".msg-assistant").last

    def wait_done(self, requests_before: int) -> Locator:
        """The answer to the request sent after ``requests_before`` others, once it is complete."""
        while len(self.sent) <= requests_before:
            self.page.wait_for_timeout(50)
        self.page.wait_for_function(DONE, timeout=300_000)
        return self.answer()


@pytest.fixture(scope="module")
def chat(browser: Browser, ui_server: Server) -> Iterator[Chat]:
    c = Chat(browser, ui_server)
    c.open()
    yield c
    assert c.errors == []
    c.close()


DONE = """() => {
  const last = [...document.querySelectorAll('.msg-assistant')].pop();
  return document.querySelector('#send').textContent === 'Send' && last && last.querySelector('.msg-stats');
}"""
STREAMING = """() => {
  const body = [...document.querySelectorAll('.msg-assistant .msg-body')].pop();
  return body && body.textContent.trim().length > 0 && document.querySelector('#send').textContent === 'Stop';
}"""


def test_a_message_streams_an_answer_with_its_figures(chat: Chat) -> None:
    page = chat.page
    assert page.locator("#model-select").input_value() == INSTRUCT
    chat.option("num_predict", "64")
    chat.option("seed", "7")
    n = len(chat.sent)
    chat.send("Write a Python function that reverses a string. Answer with one code block only.")
    # Streamed: text is on the page while the reply is still coming (Stop is up).
    page.wait_for_function(STREAMING, timeout=300_000)
    answer = chat.wait_done(n)
    body = chat.sent[-1]
    assert body["model"] == INSTRUCT and body["stream"] is True
    assert body["options"] == {"num_predict": 64, "seed": 7}
    assert body["messages"] == [
        {"role": "user", "content": "Write a Python function that reverses a string. Answer with one code block only."}
    ]
    assert answer.locator(".msg-role").inner_text() == INSTRUCT
    figures = answer.locator(".msg-stats").inner_text()
    match = re.match(r"(\d+) tokens · [\d.]+ tok/s · first token [\d.]+ m?s · prompt (\d+) tokens", figures)
    assert match, figures
    assert 0 < int(match[1]) <= 64 and int(match[2]) > 10
    page.click("#settings-toggle")  # the screenshot shows the conversation
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chat.png"))
    # Highlighted code with a copy button that copies the code.
    block = answer.locator(".code-block").first
    assert block.locator(".code-lang").inner_text() == "python"
    assert block.locator("code .hljs-keyword").count() > 0
    code = block.locator("code").inner_text()
    assert "def " in code
    block.locator(".code-head button").click()
    assert page.evaluate("navigator.clipboard.readText()") == code
    # The conversation is named after its first message.
    assert page.locator(".conv.active .conv-title").inner_text().startswith("Write a Python function")


def test_stop_ends_a_reply_mid_way(chat: Chat) -> None:
    page = chat.page
    chat.option("num_predict", "400")
    chat.send("Count from 1 to 300, one number per line.")
    page.wait_for_function(STREAMING, timeout=300_000)
    page.click("#send")  # now "Stop"
    answer = chat.answer()
    answer.locator(".msg-note").wait_for()
    assert answer.locator(".msg-note").inner_text() == "Stopped"
    assert page.locator("#send").inner_text() == "Send"
    text = answer.locator(".msg-body").inner_text()
    page.wait_for_timeout(1500)
    assert answer.locator(".msg-body").inner_text() == text and text.strip()
    assert answer.locator(".msg-stats").count() == 0  # the final chunk with the figures never came


def test_regenerate_replaces_the_last_answer(chat: Chat) -> None:
    page = chat.page
    chat.option("num_predict", "16")
    before = page.locator(".msg").count()
    n = len(chat.sent)
    page.locator(".msg-assistant").last.get_by_role("button", name="Regenerate").click()
    answer = chat.wait_done(n)
    assert page.locator(".msg").count() == before
    assert answer.locator(".msg-note").count() == 0
    assert [m["role"] for m in chat.sent[-1]["messages"]] == ["user", "assistant", "user"]


def test_editing_a_message_resends_from_there(chat: Chat) -> None:
    page = chat.page
    page.locator(".msg-user").first.get_by_role("button", name="Edit").click()
    page.fill(".edit-box", "Say hello in French.")
    n = len(chat.sent)
    page.get_by_role("button", name="Save & send").click()
    chat.wait_done(n)
    assert page.locator(".msg").count() == 2
    assert chat.sent[-1]["messages"] == [{"role": "user", "content": "Say hello in French."}]
    assert page.locator(".msg-user .msg-body").inner_text() == "Say hello in French."


def test_switching_model(chat: Chat) -> None:
    page = chat.page
    page.click("#new-chat")
    page.select_option("#model-select", BASE)
    chat.option("num_predict", "8")
    n = len(chat.sent)
    chat.send("The capital of France is")
    answer = chat.wait_done(n)
    assert chat.sent[-1]["model"] == BASE
    assert answer.locator(".msg-role").inner_text() == BASE


def test_system_prompt_and_json_output(chat: Chat) -> None:
    page = chat.page
    page.click("#new-chat")
    page.select_option("#model-select", INSTRUCT)
    chat.option("num_predict", "40")
    chat.option("temperature", "0")
    page.fill("#system-prompt", "You describe people as JSON objects.")
    page.press("#system-prompt", "Tab")
    page.check("#opt-json")
    n = len(chat.sent)
    chat.send("A person named Ada, aged 36.")
    answer = chat.wait_done(n)
    body = chat.sent[-1]
    assert body["format"] == "json" and body["options"] == {"num_predict": 40, "temperature": 0}
    assert body["messages"][0] == {"role": "system", "content": "You describe people as JSON objects."}
    assert answer.locator(".msg-body").inner_text().lstrip().startswith("{")  # the grammar holds it to JSON
    page.click("#settings-toggle")


def test_tool_calls_are_shown(chat: Chat) -> None:
    page = chat.page
    page.click("#new-chat")
    page.select_option("#model-select", INSTRUCT)
    chat.option("num_predict", "64")
    chat.option("temperature", "0")
    chat.option("tools", json.dumps(WEATHER))
    n = len(chat.sent)
    chat.send("What is the weather in Paris right now?")
    answer = chat.wait_done(n)
    assert chat.sent[-1]["tools"] == WEATHER
    call = answer.locator(".tool-call")
    assert call.count() == 1, answer.inner_text()
    assert call.locator(".tool-name").inner_text() == "get_weather"
    assert json.loads(call.locator("pre").inner_text()) == {"city": "Paris"}


def test_conversations_are_kept_renamed_exported_and_deleted(chat: Chat) -> None:
    page = chat.page
    page.reload()
    page.wait_for_selector("body[data-ready]")
    titles = page.locator(".conv-title").all_inner_texts()
    first = "Write a Python function that reverses a string."
    assert len(titles) == 4 and first in titles
    # Rename, from the keyboard.
    page.get_by_role("button", name=f"Rename {first}").click()
    page.fill(".dialog-input", "French greeting")
    page.press(".dialog-input", "Enter")
    page.locator(".conv-title", has_text="French greeting").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Export", exact=True).click()
    exported = json.loads(Path(info.value.path()).read_text())
    assert exported["title"] == "French greeting"
    assert exported["messages"][0] == {"role": "user", "content": "Say hello in French."}
    assert exported["messages"][1]["role"] == "assistant" and exported["messages"][1]["stats"]["eval_count"] > 0
    # Delete asks first; Cancel keeps it.
    page.get_by_role("button", name="Delete French greeting").click()
    page.get_by_role("button", name="Cancel").click()
    assert page.locator(".conv-title", has_text="French greeting").count() == 1
    page.get_by_role("button", name="Delete French greeting").click()
    page.locator("dialog").get_by_role("button", name="Delete").click()
    page.locator(".conv-title", has_text="French greeting").wait_for(state="detached")
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert "French greeting" not in page.locator(".conv-title").all_inner_texts()
    assert len(page.locator(".conv-title").all_inner_texts()) == 3


HOSTILE = """Some **bold** text.

<img src="x" onerror="window.pwned = 1">
<script>window.pwned = 2</script>

[click](javascript:window.pwned=3)

```python
print("hi")
```
"""

INJECT = """async (conv) => {
  const db = await new Promise((ok, fail) => {
    const req = indexedDB.open('pollama', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('conversations', { keyPath: 'id' });
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  });
  await new Promise((ok, fail) => {
    const tx = db.transaction('conversations', 'readwrite');
    tx.objectStore('conversations').put(conv);
    tx.oncomplete = ok;
    tx.onerror = () => fail(tx.error);
  });
  db.close();
}"""


def test_model_output_is_sanitised_and_thinking_collapses(chat: Chat) -> None:
    page = chat.page
    conv = {
        "id": "hostile",
        "title": "Hostile output",
        "model": INSTRUCT,
        "system": "",
        "options": {},
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "model": INSTRUCT, "content": HOSTILE, "thinking": "Let me think about it."},
        ],
        "created": 1,
        "updated": 4102444800000,  # newest, so it opens first
    }
    page.evaluate(INJECT, conv)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    body = chat.answer().locator(".msg-body")
    assert body.locator("strong").inner_text() == "bold"
    assert body.locator("script, [onerror], a[href^='javascript']").count() == 0
    page.locator(".msg-body a", has_text="click").click()
    assert page.evaluate("window.pwned") is None
    assert body.locator(".code-block .hljs-built_in").inner_text() == "print"
    # The browser enforces the page's CSP: a script element added at run time does not run.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 4'; "
        "document.body.append(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.pwned") is None
    thinking = chat.answer().locator("details.thinking")
    assert not thinking.evaluate("d => d.open")
    thinking.locator("summary").click()
    assert thinking.evaluate("d => d.open")
    assert thinking.locator(".thinking-body").inner_text() == "Let me think about it."


def test_phone_layout(browser: Browser, ui_server: Server) -> None:
    phone = UIPage(browser, ui_server.url)
    phone.page.set_viewport_size({"width": 390, "height": 800})
    page = phone.open()
    try:
        sidebar = page.locator("#chat-sidebar")
        assert not sidebar.evaluate("el => el.getBoundingClientRect().right > 0")
        page.get_by_role("button", name="Conversations").click()
        page.wait_for_function("() => document.querySelector('#chat-sidebar').getBoundingClientRect().left >= 0")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
        assert phone.errors == []
    finally:
        phone.close()


def test_running_models_and_unload(chat: Chat, ui_server: Server) -> None:
    page: Page = chat.page
    page.goto(f"{ui_server.url}/ui/#/running")
    row = page.locator(f"#running-table tr[data-model='{INSTRUCT}']")
    row.wait_for()
    assert "2048" in row.inner_text() and "CPU" in row.inner_text()
    version = httpx.get(f"{ui_server.url}/api/version").json()["version"]
    assert page.locator("#server-version").inner_text() == version
    row.get_by_role("button", name="Unload").click()
    row.wait_for(state="detached")
    names = [m["name"] for m in httpx.get(f"{ui_server.url}/api/ps").json()["models"]]
    assert INSTRUCT not in names
    # The other model the chat loaded goes too, and the page says nothing is loaded (and frees the memory).
    page.locator(f"#running-table tr[data-model='{BASE}']").get_by_role("button", name="Unload").click()
    page.locator("#running-table td.empty").wait_for()
    assert httpx.get(f"{ui_server.url}/api/ps").json()["models"] == []
