"""Text formatting exactly as Ollama's CLI prints it: sizes and counts (``format/``), relative times, Go
``time.Duration`` strings, and the borderless tables ``tablewriter`` v0.0.5 draws for ``list``, ``ps`` and ``show``.

Everything here is a pure function of its arguments (times take an explicit ``now``), so the golden tests can
use Ollama's own test cases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.cells import cell_len

KB = 1000
MB = KB * 1000
GB = MB * 1000
TB = GB * 1000


def human_bytes(b: int) -> str:
    """``format.HumanBytes``: decimal units, one decimal below 10 unless the value is whole."""
    for limit, name in ((TB, "TB"), (GB, "GB"), (MB, "MB"), (KB, "KB")):
        if b >= limit:
            value, unit = b / limit, name
            break
    else:
        return f"{b} B"
    if value >= 10 or value == math.trunc(value):
        return f"{int(value)} {unit}"
    return f"{value:.1f} {unit}"


def human_bytes2(b: int) -> str:
    """``format.HumanBytes2``: binary units with one decimal."""
    for limit, unit in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if b >= limit:
            return f"{b / limit:.1f} {unit}"
    return f"{b} B"


def human_number(n: int) -> str:
    """``format.HumanNumber``: ``1K``, ``125M``, ``500.50M``, ``2.8B``."""
    if n >= 1_000_000_000:
        value = n / 1_000_000_000
        return f"{value:.0f}B" if value == math.floor(value) else f"{value:.1f}B"
    if n >= 1_000_000:
        value = n / 1_000_000
        return f"{value:.0f}M" if value == math.floor(value) else f"{value:.2f}M"
    if n >= 1000:
        return f"{n / 1000:.0f}K"
    return str(n)


def _human_duration(seconds_f: float) -> str:
    seconds = int(seconds_f)
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = int(seconds_f / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = go_round(seconds_f / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds_f / 3600) // 24 // 365} years"


def _tdiv(a: int, b: int) -> int:
    """Go's integer division, which truncates toward zero."""
    q = abs(a) // b
    return q if a >= 0 else -q


def go_round(x: float) -> int:
    """Go's ``math.Round``: half away from zero (Python's round is half to even)."""
    return int(math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1))


def human_time(t: datetime | None, zero: str, now: datetime | None = None) -> str:
    """``format.HumanTime``: ``2 weeks ago``, ``4 minutes from now``, ``Forever`` (more than 20 years ahead)."""
    if t is None:
        return zero
    now = now or datetime.now(UTC)
    delta = (now - t).total_seconds()
    if _tdiv(_tdiv(int(delta / 3600), 24), 365) < -20:
        return "Forever"
    if delta < 0:
        return _human_duration(-delta) + " from now"
    return _human_duration(delta) + " ago"


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 timestamp from the API; Go's zero time (and anything unparseable) becomes None."""
    if not text or text.startswith("0001-01-01"):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


_UNITS = ((1_000_000, "ms"), (1_000, "µs"))


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String`` for a count of nanoseconds: ``1.5s``, ``2m0.1s``, ``12.03ms``, ``0s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000_000_000:
        if u < 1000:
            return f"{sign}{u}ns"
        for scale, unit in _UNITS:
            if u >= scale:
                return f"{sign}{_fraction(u, scale)}{unit}"
    out = _fraction(u % 60_000_000_000, 1_000_000_000) + "s"
    minutes = u // 60_000_000_000
    if minutes:
        out = f"{minutes % 60}m{out}"
        if minutes >= 60:
            out = f"{minutes // 60}h{out}"
    return sign + out


def _fraction(value: int, scale: int) -> str:
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def bar_duration(seconds: float) -> str:
    """``progress.formatDuration``: time left on a bar, at most two units."""
    if seconds >= 100 * 3600:
        return "99h+"
    if seconds >= 3600:
        return f"{int(seconds // 3600)}h{int(seconds // 60) % 60}m"
    return go_duration(go_round(seconds) * 1_000_000_000)


def _wrap_words(words: list[str], limit: int, penalty: int = 100_000) -> list[list[str]]:
    """tablewriter's ``WrapWords``: minimum-raggedness line breaking."""
    n = len(words)
    widths = [cell_len(w) for w in words]
    length = [[0] * n for _ in range(n)]
    for i in range(n):
        length[i][i] = widths[i]
        for j in range(i + 1, n):
            length[i][j] = length[i][j - 1] + 1 + widths[j]
    breaks = [0] * n
    cost = [2**31 - 1] * n
    for i in range(n - 1, -1, -1):
        if length[i][n - 1] <= limit:
            cost[i], breaks[i] = 0, n
            continue
        for j in range(i + 1, n):
            d = limit - length[i][j - 1]
            c = d * d + cost[j] + (penalty if length[i][j - 1] > limit else 0)
            if c < cost[i]:
                cost[i], breaks[i] = c, j
    lines: list[list[str]] = []
    i = 0
    while i < n:
        lines.append(words[i : breaks[i]])
        i = breaks[i]
    return lines


def _cell_lines(cell: str, max_width: int) -> list[str]:
    """tablewriter's ``parseDimension`` with auto-wrap: a cell's lines, wrapped at ``max_width`` on spaces."""
    raw = cell.split("\n")
    limit = min(max(cell_len(line) for line in raw), max_width)
    out: list[str] = []
    for i, para in enumerate(raw):
        words = para.split(" ")
        para_limit = max([limit, *(cell_len(w) for w in words)])
        if i > 0:
            out.append(" ")
        out += [" ".join(line) for line in _wrap_words(words, para_limit)]
    return out


def table(rows: Sequence[Sequence[str]], header: Sequence[str] = (), col_width: int = 30) -> str:
    """A borderless, left-aligned table with 4-space padding, as Ollama configures ``tablewriter``.

    Every row cell is followed by the padding; the header's last cell by one space only (tablewriter's quirk).
    """
    columns = max([len(header), *(len(r) for r in rows)], default=0)
    cells = [[_cell_lines(r[i] if i < len(r) else "", col_width) for i in range(columns)] for r in rows]
    widths = [max([cell_len(h) for h in header[i : i + 1]] + [0]) for i in range(columns)]
    for row in cells:
        for i, lines in enumerate(row):
            widths[i] = max([widths[i], *(cell_len(line) for line in lines)])
    out: list[str] = []
    if header:
        parts = [_pad(header[i] if i < len(header) else "", widths[i]) for i in range(columns)]
        out.append("".join(p + ("    " if i < columns - 1 else " ") for i, p in enumerate(parts)))
    for row in cells:
        for k in range(max(len(lines) for lines in row)):
            out.append(
                "".join(_pad(lines[k] if k < len(lines) else "", widths[i]) + "    " for i, lines in enumerate(row))
            )
    return "".join(line + "\n" for line in out)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - cell_len(text))
