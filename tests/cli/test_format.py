"""Sizes, counts, relative times and durations, with the cases of Ollama's own ``format/*_test.go`` and
``progress`` output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pollama.cli.format import bar_duration, go_duration, human_bytes, human_bytes2, human_number, human_time

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (999, "999 B"),
        (1000, "1 KB"),
        (1500, "1.5 KB"),
        (999999, "999 KB"),
        (1000000, "1 MB"),
        (1500000, "1.5 MB"),
        (999999999, "999 MB"),
        (1000000000, "1 GB"),
        (1500000000, "1.5 GB"),
        (999999999999, "999 GB"),
        (1000000000000, "1 TB"),
        (1500000000000, "1.5 TB"),
        (1999999999999, "2.0 TB"),
        (1234, "1.2 KB"),
        (1234567, "1.2 MB"),
        (1234567890, "1.2 GB"),
        (253122535, "253 MB"),
    ],
)
def test_human_bytes(value: int, expected: str) -> None:
    assert human_bytes(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1048575, "1024.0 KiB"),
        (1048576, "1.0 MiB"),
        (1572864, "1.5 MiB"),
        (1073741823, "1024.0 MiB"),
        (1073741824, "1.0 GiB"),
        (1610612736, "1.5 GiB"),
        (2147483648, "2.0 GiB"),
    ],
)
def test_human_bytes2(value: int, expected: str) -> None:
    assert human_bytes2(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1K"),
        (1001, "1K"),
        (1000000, "1M"),
        (125000000, "125M"),
        (500500000, "500.50M"),
        (500550000, "500.55M"),
        (1000000000, "1B"),
        (2800000000, "2.8B"),
        (2850000000, "2.9B"),
        (1000000000000, "1000B"),
    ],
)
def test_human_number(value: int, expected: str) -> None:
    assert human_number(value) == expected


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(hours=48), "2 days from now"),
        (timedelta(hours=-48), "2 days ago"),
        (timedelta(milliseconds=800), "Less than a second from now"),
        (timedelta(days=365 * 200), "Forever"),
        (timedelta(seconds=-1), "1 second ago"),
        (timedelta(seconds=-59), "59 seconds ago"),
        (timedelta(seconds=-90), "About a minute ago"),
        (timedelta(minutes=4, seconds=59), "4 minutes from now"),
        (timedelta(minutes=-89), "About an hour ago"),
        (timedelta(hours=-24), "24 hours ago"),
        (timedelta(days=-15), "2 weeks ago"),
        (timedelta(days=-90), "3 months ago"),
        (timedelta(days=-800), "2 years ago"),
    ],
)
def test_human_time(offset: timedelta, expected: str) -> None:
    assert human_time(NOW + offset, "", NOW) == expected


def test_human_time_zero_value() -> None:
    assert human_time(None, "never", NOW) == "never"


@pytest.mark.parametrize(
    ("ns", "expected"),
    [
        (0, "0s"),
        (42, "42ns"),
        (1_500, "1.5µs"),
        (142_279_088, "142.279088ms"),
        (5_497_335_940, "5.49733594s"),
        (60_000_000_000, "1m0s"),
        (3_723_500_000_000, "1h2m3.5s"),
        (-2_000_000_000, "-2s"),
    ],
)
def test_go_duration(ns: int, expected: str) -> None:
    assert go_duration(ns) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0s"), (45, "45s"), (62, "1m2s"), (3600 + 125, "1h2m"), (100 * 3600, "99h+")],
)
def test_bar_duration(seconds: float, expected: str) -> None:
    assert bar_duration(seconds) == expected
