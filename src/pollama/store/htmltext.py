"""Plain text from the Gemma terms HTML page shipped in the built-in model's package (for its license layer).

The page is a saved ai.google.dev document; the terms are the page title plus the ``devsite-article-body``
element. Block elements become paragraphs; list items get a ``- `` marker; inline whitespace collapses.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "br", "tr", "section", "ul", "ol", "table"}
_SKIP = {"script", "style", "devsite-actions", "devsite-llm-tools", "template", "noscript"}
_WS = re.compile(r"\s+")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._buf: list[str] = []
        self._body_depth = 0  # >0 while inside the article body (counts nested divs)
        self._in_title = False
        self._skip = 0

    def _flush(self) -> None:
        text = _WS.sub(" ", "".join(self._buf)).strip()
        if text:
            self.paragraphs.append(text)
        self._buf = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag in _SKIP:
            self._skip += 1
            return
        if tag == "h1" and "devsite-page-title" in classes:
            self._in_title = True
        if tag == "div":
            if self._body_depth:
                self._body_depth += 1
            elif "devsite-article-body" in classes:
                self._body_depth = 1
        if self._capturing() and tag in _BLOCKS:
            self._flush()
            if tag == "li":
                self._buf.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._capturing() and tag in _BLOCKS:
            self._flush()
        if tag == "h1" and self._in_title:
            self._in_title = False
        if tag == "div" and self._body_depth:
            self._body_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._capturing() and not self._skip:
            self._buf.append(data)

    def _capturing(self) -> bool:
        return self._in_title or self._body_depth > 0


def article_text(page: str) -> str:
    """The title and article body of a devsite page as paragraphs separated by blank lines ("" if none)."""
    parser = _Extractor()
    parser.feed(page)
    parser.close()
    parser._flush()
    return "\n\n".join(html.unescape(p) for p in parser.paragraphs)
