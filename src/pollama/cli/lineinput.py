"""The chat prompt's line editor, as Ollama's ``readline`` package behaves: ``>>> `` with a grey placeholder,
``... `` inside a multi-line message, a pasted block kept as one message, Ctrl+G to compose in an editor, and
history in ``~/.ollama/history`` (the last 100 lines, the same file Ollama keeps).

Editing, paste detection and redraws are prompt_toolkit's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import History
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.styles import Style

PLACEHOLDER = "Send a message (/? for help)"
ALT_PLACEHOLDER = "Press Enter to send"
HISTORY_LIMIT = 100
# Ollama's ColorGrey (256-colour 245).
_GREY = "#8a8a8a"


class Interrupted(KeyboardInterrupt):
    """Ctrl+C at the prompt; ``text`` is what had been typed."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class OllamaHistory(History):
    """One entry per line, oldest first; saved after each entry (through a temporary file) unless disabled."""

    def __init__(self, path: Path, save: bool) -> None:
        super().__init__()
        self.path = path
        self.save = save
        self.entries: list[str] = []
        with contextlib.suppress(OSError):
            lines = path.read_text(errors="replace").splitlines()
            self.entries = [line.strip() for line in lines if line.strip()][-HISTORY_LIMIT:]

    def load_history_strings(self) -> Iterable[str]:
        return list(reversed(self.entries))

    def store_string(self, string: str) -> None:
        entry = " ".join(string.split("\n")).strip()
        if not entry:
            return
        self.entries = [*self.entries, entry][-HISTORY_LIMIT:]
        if not self.save:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text("".join(line + "\n" for line in self.entries))
            tmp.chmod(0o600)
            tmp.replace(self.path)


def _bindings() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("c-c")
    def _interrupt(event: KeyPressEvent) -> None:
        event.app.exit(exception=Interrupted(event.app.current_buffer.text))

    @keys.add("c-g")
    def _editor(event: KeyPressEvent) -> None:
        # prompt_toolkit reads $VISUAL then $EDITOR; Ollama's OLLAMA_EDITOR comes first.
        if editor := os.environ.get("OLLAMA_EDITOR", "").strip():
            os.environ["VISUAL"] = editor
        event.app.current_buffer.open_in_editor(validate_and_handle=False)

    return keys


class LineReader:
    def __init__(self, save_history: bool) -> None:
        self.history = OllamaHistory(Path.home() / ".ollama" / "history", save_history)
        self._session: PromptSession[str] = PromptSession(
            history=self.history,
            key_bindings=_bindings(),
            style=Style.from_dict({"placeholder": _GREY}),
        )

    def read(self, alt: bool) -> str:
        """One line; raises EOFError on Ctrl+D and ``Interrupted`` on Ctrl+C."""
        hint = FormattedText([("class:placeholder", ALT_PLACEHOLDER if alt else PLACEHOLDER)])

        def placeholder() -> FormattedText:
            # Not in the line's last drawing, which stays in the scrollback (after Ctrl+C, say).
            return FormattedText([]) if get_app().is_done else hint

        return self._session.prompt("... " if alt else ">>> ", placeholder=placeholder)
