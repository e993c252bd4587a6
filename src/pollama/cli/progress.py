"""Progress on stderr as Ollama's ``progress`` package draws it: a bar per blob and a spinner per status line.

Each state renders one line of text exactly as Ollama lays it out (``Bar.render`` and ``Spinner.render`` are pure
given a width and a clock); ``rich.live.Live`` redraws them in place ten times a second when stderr is a
terminal. When it is not, each status line and each finished bar is written once, as plain text.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from rich.console import Console
from rich.live import Live
from rich.text import Text

from pollama.cli.format import bar_duration, go_round, human_bytes

Clock = Callable[[], float]
SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class State(Protocol):
    def render(self, width: int) -> str: ...


def _rpad(text: str, width: int) -> str:
    """Right-align in ``width`` like Ollama's ``repeat(" ", 6-len(s)) + s`` (never truncates)."""
    return " " * (width - len(text)) + text


class Bar:
    """``progress.Bar``: ``<message> 42% ▕███   ▏ 120 MB/291 MB  45 MB/s  3s``."""

    def __init__(self, message: str, total: int, completed: int = 0, clock: Clock = time.monotonic) -> None:
        self.message = message
        self.total = total
        self.initial = completed
        self.current = completed
        self._clock = clock
        self.started = clock()
        self.stopped: float | None = self.started if completed >= total else None
        self._buckets: list[tuple[float, int]] = []
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        return self.stopped is not None

    def set(self, value: int) -> None:
        with self._lock:
            value = min(value, self.total)
            self.current = value
            now = self._clock()
            if value >= self.total:
                self.stopped = now
            # One rate sample per second, the last ten kept.
            if not self._buckets or now - self._buckets[-1][0] > 1:
                self._buckets = [*self._buckets, (now, value)][-10:]

    def percent(self) -> float:
        return self.current / self.total * 100 if self.total > 0 else 0.0

    def rate(self) -> float:
        if self.stopped is not None:
            num, den = self.current - self.initial, go_round(self.stopped - self.started)
        elif len(self._buckets) == 1:
            num, den = self._buckets[0][1] - self.initial, go_round(self._buckets[0][0] - self.started)
        elif self._buckets:
            (t0, v0), (t1, v1) = self._buckets[0], self._buckets[-1]
            num, den = v1 - v0, go_round(t1 - t0)
        else:
            return 0.0
        return num / den if den else 0.0

    def render(self, width: int) -> str:
        with self._lock:
            pre = f"{self.message.strip()} " if self.message else ""
            pre += f"{self.percent():3.0f}%"
            if self.stopped is None:
                suf = _rpad(human_bytes(self.current), 6) + "/" + _rpad(human_bytes(self.total), 6)
            else:
                suf = _rpad(human_bytes(self.total), 6) + " " * 7
            rate = self.rate()
            if self.stopped is None and rate > 0:
                suf += "  " + _rpad(human_bytes(int(rate)), 6) + "/s"
                suf += "  " + _rpad(bar_duration(int((self.total - self.current) / rate)), 6)
            else:
                suf += " " * 18
            room = width - len(pre) - len(suf) - 5
            filled = int(room * self.percent() / 100)
            mid = " ▕" + "█" * max(filled, 0) + " " * max(room - filled, 0) + "▏ "
            return pre + mid + suf


class Spinner:
    """``progress.Spinner``: ``<message> ⠹`` while running, ``<message> `` once stopped."""

    def __init__(self, message: str, clock: Clock = time.monotonic) -> None:
        self.message = message
        self._clock = clock
        self.started = clock()
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True

    def render(self, width: int) -> str:
        out = f"{self.message.strip()} " if self.message else ""
        if not self.stopped:
            out += SPINNER_FRAMES[int((self._clock() - self.started) / 0.1) % len(SPINNER_FRAMES)] + " "
        return out


class Progress:
    """The lines of one operation on stderr; ``stop`` leaves them (with a newline), ``stop_and_clear`` erases."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(file=sys.stderr, highlight=False)
        self.states: list[State] = []
        self._live: Live | None = None
        self._printed: set[int] = set()
        self._stopped = False

    @property
    def interactive(self) -> bool:
        return self.console.is_terminal

    def __rich__(self) -> Text:
        width = self.console.width
        lines = [s.render(width) for s in self.states][-self.console.height :]
        return Text("\n".join(lines), no_wrap=True, overflow="crop")

    def add(self, state: State) -> None:
        if self._stopped:
            return
        self.states.append(state)
        if not self.interactive:
            self._flush_plain()
        elif self._live is None:
            self._live = Live(
                self,
                console=self.console,
                refresh_per_second=10,
                redirect_stdout=False,
                redirect_stderr=False,
                vertical_overflow="visible",
            )
            self._live.start()

    def update(self) -> None:
        """Called after a state changed: the plain output writes what has finished."""
        if not self.interactive:
            self._flush_plain()

    def _flush_plain(self, final: bool = False) -> None:
        for i, state in enumerate(self.states):
            if i in self._printed:
                continue
            finished = isinstance(state, Spinner) or (isinstance(state, Bar) and state.done)
            if not (finished or final):
                continue
            self._printed.add(i)
            if isinstance(state, Spinner) and not state.message:
                continue
            text = state.message.strip() if isinstance(state, Spinner) else state.render(80).rstrip()
            self.console.file.write(text + "\n")
            self.console.file.flush()

    def _stop_spinners(self) -> None:
        for state in self.states:
            if isinstance(state, Spinner):
                state.stop()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stop_spinners()
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
        elif not self.interactive:
            self._flush_plain(final=True)

    def stop_and_clear(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._stop_spinners()
        if self._live is not None:
            self._live.transient = True
            self._live.stop()


class TransferDisplay:
    """Ollama's handler of pull/push/create progress lines: one bar per digest, a spinner per new status."""

    def __init__(self, progress: Progress, bar_label: Callable[[dict[str, Any]], str], skip_empty: bool) -> None:
        self.progress = progress
        self._label = bar_label
        self._skip_empty = skip_empty
        self._bars: dict[str, Bar] = {}
        self._status = ""
        self.spinner: Spinner | None = None

    def follow(self, spinner: Spinner) -> None:
        """Continue after a status spinner the caller drew itself."""
        self.spinner, self._status = spinner, spinner.message

    def status(self, message: str) -> None:
        if self.spinner is not None:
            self.spinner.stop()
        self._status = message
        self.spinner = Spinner(message)
        self.progress.add(self.spinner)

    def __call__(self, resp: dict[str, Any]) -> None:
        digest = str(resp.get("digest") or "")
        completed = int(resp.get("completed") or 0)
        if digest:
            if self._skip_empty and completed == 0:
                return  # the announcement before a layer starts: Ollama draws no 0% bar
            if self.spinner is not None:
                self.spinner.stop()
            bar = self._bars.get(digest)
            if bar is None:
                bar = Bar(self._label(resp), int(resp.get("total") or 0), completed)
                self._bars[digest] = bar
                self.progress.add(bar)
            bar.set(completed)
            self.progress.update()
        elif (status := str(resp.get("status") or "")) != self._status:
            self.status(status)
