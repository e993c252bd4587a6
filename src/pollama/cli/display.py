"""Streaming a model's words to the terminal as Ollama's ``run`` does: word wrap at the terminal width, thinking
dimmed and apart from the answer, tool calls described, and the ``--verbose`` timing summary.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.cells import cell_len

from pollama.cli.format import go_duration

GREY = "\x1b[38;5;245m"
BOLD = "\x1b[1m"
RESET = "\x1b[0m"


def terminal_width(stream: TextIO = sys.stdout) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80


@dataclass
class WordWrap:
    """``displayResponse``: characters go out as they arrive; a word that would cross the right margin
    (terminal width - 5) is taken back and written again on the next line."""

    enabled: bool
    width: int = 80
    out: TextIO = field(default_factory=lambda: sys.stdout)
    line_length: int = 0
    word: str = ""

    def reset(self) -> None:
        self.line_length = 0
        self.word = ""

    def write(self, content: str) -> None:
        w = self.out.write
        if not (self.enabled and self.width >= 10):
            w(self.word + content)
            self.word = ""
            self.out.flush()
            return
        for ch in content:
            if self.line_length + 1 > self.width - 5:
                if cell_len(self.word) > self.width - 10:
                    w(self.word + ch)
                    self.word = ""
                    self.line_length = 0
                    continue
                back = cell_len(self.word)
                if back > 0:
                    w(f"\x1b[{back}D")
                w("\x1b[K\n")
                w(self.word + ch)
                self.line_length = cell_len(self.word) + cell_len(ch)
                continue
            w(ch)
            self.line_length += cell_len(ch)
            if cell_len(ch) >= 2 or ch in " \t":
                self.word = ""
            elif ch in "\r\n":
                self.line_length = 0
                self.word = ""
            else:
                self.word += ch
        self.out.flush()


class Printer:
    """One reply on stdout: thinking (unless hidden) framed by ``Thinking...`` / ``...done thinking.``, then
    the answer. ``plain`` drops the colours when stdout is not a terminal."""

    def __init__(self, wrap: WordWrap, hide_thinking: bool = False, plain: bool = False) -> None:
        self.wrap = wrap
        self.hide_thinking = hide_thinking
        self.plain = plain
        self.thinking = ""
        self.content = ""
        self._open = False

    def _say(self, text: str) -> None:
        self.wrap.out.write(text)
        self.wrap.out.flush()

    def feed(self, content: str, thinking: str = "", tool_calls: list[Any] | None = None) -> None:
        if thinking and not self.hide_thinking:
            if not self._open:
                opening = "Thinking...\n"
                self._say(opening if self.plain else GREY + BOLD + opening + RESET + GREY)
                self._open = True
            self.thinking += thinking
            self.wrap.write(thinking)
        if self._open and (content or tool_calls):
            if not self.thinking.endswith("\n"):
                self._say("\n")
            closing = "...done thinking.\n\n"
            self._say(closing if self.plain else GREY + BOLD + closing + RESET)
            self._open = False
            self.wrap.reset()
        self.content += content
        self.wrap.write(content)
        if tool_calls:
            self._say(render_tool_calls(tool_calls, self.plain))


def render_tool_calls(calls: list[Any], plain: bool) -> str:
    """Tool calls the CLI never offered: Ollama names them as calls to a non-existent function."""
    explain, values = ("", "") if plain else (GREY + BOLD, RESET)
    out = explain
    for i, call in enumerate(calls):
        fn = (call or {}).get("function") or {}
        args = json.dumps(fn.get("arguments") or {}, separators=(",", ":"), ensure_ascii=False)
        if i > 0:
            out += "\n"
        out += (
            f"  Model called a non-existent function '{values}{fn.get('name', '')}{explain}()' "
            f"with arguments: {values}{args}{explain}"
        )
    return out + ("" if plain else RESET)


def summary(final: dict[str, Any]) -> str:
    """``api.Metrics.Summary``: the ``--verbose`` timings of a finished reply."""
    lines = []
    total, load = int(final.get("total_duration") or 0), int(final.get("load_duration") or 0)
    p_count, p_dur = int(final.get("prompt_eval_count") or 0), int(final.get("prompt_eval_duration") or 0)
    e_count, e_dur = int(final.get("eval_count") or 0), int(final.get("eval_duration") or 0)
    if total > 0:
        lines.append(f"total duration:       {go_duration(total)}")
    if load > 0:
        lines.append(f"load duration:        {go_duration(load)}")
    if p_count > 0:
        lines.append(f"prompt eval count:    {p_count} token(s)")
    if p_dur > 0:
        lines.append(f"prompt eval duration: {go_duration(p_dur)}")
        lines.append(f"prompt eval rate:     {p_count / (p_dur / 1e9):.2f} tokens/s")
    if e_count > 0:
        lines.append(f"eval count:           {e_count} token(s)")
    if e_dur > 0:
        lines.append(f"eval duration:        {go_duration(e_dur)}")
        lines.append(f"eval rate:            {e_count / (e_dur / 1e9):.2f} tokens/s")
    return "".join(line + "\n" for line in lines)
