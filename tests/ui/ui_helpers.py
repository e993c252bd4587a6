"""What the page's browser tests share: Debian's chromium, the model names, where screenshots go, and a page in a
browser context of its own."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

CHROMIUM = "chromium"
INSTRUCT = "qwen2.5-coder:0.5b"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"


def chromium() -> str:
    path = shutil.which(CHROMIUM)
    if path is None:
        pytest.fail(
            f"{CHROMIUM} is not on PATH: the page's tests need Debian's chromium package "
            "(scripts/test installs it, or: apt-get install chromium)",
            pytrace=False,
        )
    return path


class UIPage:
    """A page of its own browser context (its own storage), with the errors the page raised."""

    def __init__(self, browser: Browser, url: str, **context: Any) -> None:
        self.url = url
        self.context = browser.new_context(viewport={"width": 1280, "height": 800}, **context)
        self.context.set_default_timeout(60_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))

    def open(self, hash: str = "") -> Page:
        """Load the page and wait until it has listed the models and opened a conversation."""
        self.page.goto(f"{self.url}/ui/{hash}")
        self.page.wait_for_selector("body[data-ready]")
        return self.page

    def close(self) -> None:
        self.context.close()
