"""Ollama's built-in named templates (template/*.gotmpl, *.json, index.json), vendored as package data.

`named_template(name)` gives a template's exact text and its default `stop` parameters (the only parameter
Ollama keeps from the .json); `match_chat_template(jinja)` is Ollama's `template.Named`: the built-in whose
index entry is closest (Levenshtein distance < 100) to a GGUF's `tokenizer.chat_template`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class NamedTemplate:
    name: str
    text: str
    stop: list[str] = field(default_factory=list)


def _read(filename: str) -> str | None:
    path = resources.files("pollama.prompt").joinpath("templates", filename)
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


@cache
def _index() -> list[tuple[str, str]]:
    raw = _read("index.json")
    return [(e["name"], e["template"]) for e in json.loads(raw or "[]")]


@cache
def named_template(name: str) -> NamedTemplate:
    """The built-in template `name` (e.g. "gemma3-instruct", "chatml"); KeyError if there is none."""
    text = _read(name + ".gotmpl")
    if text is None:
        raise KeyError(name)
    params = _read(name + ".json")
    stop: list[str] = []
    if params is not None:
        stop = list(json.loads(params).get("stop") or [])
    # Ollama normalises CRLF line endings when loading these files.
    return NamedTemplate(name, text.replace("\r\n", "\n"), stop)


def template_names() -> list[str]:
    """Names of every vendored built-in template."""
    folder = resources.files("pollama.prompt").joinpath("templates")
    return sorted(p.name.removesuffix(".gotmpl") for p in folder.iterdir() if p.name.endswith(".gotmpl"))


def _levenshtein_below(a: str, b: str, limit: int) -> int:
    """Edit distance of a and b if it is below `limit`, else `limit` (banded DP keeps this fast)."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    if len(a) > len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        lo = max(1, i - limit)
        hi = min(len(b), i + limit)
        cur = [limit] * (len(b) + 1)
        cur[0] = i
        best = cur[0] if lo == 1 else limit
        for j in range(lo, hi + 1):
            cost = 0 if ca == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            cur[j] = v
            best = min(best, v)
        if best >= limit:
            return limit
        prev = cur
    return min(prev[len(b)], limit)


def match_chat_template(chat_template: str) -> NamedTemplate | None:
    """Ollama's template.Named: closest built-in by edit distance, if that distance is below 100."""
    best: tuple[int, str] | None = None
    for name, tmpl in _index():
        limit = 100 if best is None else best[0]
        d = _levenshtein_below(chat_template, tmpl, limit)
        if d < limit:
            best = (d, name)
    return None if best is None else named_template(best[1])
