"""Progress lines laid out as Ollama's ``progress.Bar`` and ``progress.Spinner`` draw them, with a fake clock;
the plain output used when stderr is not a terminal; and the pull/push handler's bar-per-digest rules."""

from __future__ import annotations

import io

from rich.console import Console

from pollama.cli.progress import Bar, Progress, Spinner, TransferDisplay


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bar_while_running_shows_bytes_rate_and_time_left() -> None:
    clock = Clock()
    bar = Bar("pulling 27f77bd276dc:", 291_000_000, 0, clock)
    clock.now += 2
    bar.set(90_000_000)  # first sample: 90 MB in 2 s
    line = bar.render(100)
    assert line.startswith("pulling 27f77bd276dc:  31% ▕")
    assert line.endswith("▏  90 MB/291 MB   45 MB/s      4s")
    # Ollama leaves the last column free: the line is one narrower than the terminal
    assert len(line) == 99
    assert line.count("█") == int((100 - len("pulling 27f77bd276dc:  31%") - 31 - 5) * 90 / 291)


def test_finished_bar_shows_only_the_total() -> None:
    clock = Clock()
    bar = Bar("pulling abc:", 2_000_000_000, 0, clock)
    clock.now += 40
    bar.set(2_000_000_000)
    assert bar.render(80) == "pulling abc: 100% ▕" + "█" * 27 + "▏   2 GB" + " " * 25


def test_spinner_frames_and_stop() -> None:
    clock = Clock()
    spinner = Spinner("pulling manifest", clock)
    assert spinner.render(80) == "pulling manifest ⠋ "
    clock.now += 0.25
    assert spinner.render(80) == "pulling manifest ⠹ "
    spinner.stop()
    assert spinner.render(80) == "pulling manifest "


def plain_progress() -> tuple[Progress, io.StringIO]:
    out = io.StringIO()
    return Progress(Console(file=out, force_terminal=False, width=80)), out


def test_plain_output_writes_each_status_once_and_bars_when_done() -> None:
    progress, out = plain_progress()
    display = TransferDisplay(progress, lambda r: f"pulling {r['digest'][7:19]}:", skip_empty=True)
    digest = "sha256:" + "ab" * 32
    for resp in [
        {"status": "pulling manifest"},
        {"status": "pulling abab", "digest": digest, "total": 1000},  # 0 bytes: no bar yet
        {"status": "pulling abab", "digest": digest, "total": 1000, "completed": 500},
        {"status": "pulling abab", "digest": digest, "total": 1000, "completed": 1000},
        {"status": "verifying sha256 digest"},
        {"status": "success"},
    ]:
        display(resp)
    progress.stop()
    lines = out.getvalue().splitlines()
    assert lines[0] == "pulling manifest"
    assert lines[1].startswith("pulling abababababab: 100% ▕") and lines[1].endswith("▏   1 KB")
    assert lines[2:] == ["verifying sha256 digest", "success"]


def test_push_bars_are_drawn_from_zero() -> None:
    progress, out = plain_progress()
    display = TransferDisplay(progress, lambda r: str(r.get("status")), skip_empty=False)
    display({"status": "pushing ab", "digest": "sha256:" + "ab" * 32, "total": 10, "completed": 0})
    assert len(progress.states) == 1
    progress.stop()
    assert out.getvalue().startswith("pushing ab   0% ▕")


def test_terminal_output_redraws_and_clears() -> None:
    out = io.StringIO()
    progress = Progress(Console(file=out, force_terminal=True, width=60))
    progress.add(Spinner("gathering model components"))
    progress.stop_and_clear()
    assert "gathering model components" in out.getvalue()
    assert out.getvalue().endswith("\x1b[?25h\r\x1b[2K") or "\x1b[2K" in out.getvalue()
