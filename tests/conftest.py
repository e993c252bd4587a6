"""Markers by directory: every test under tests/e2e starts a real ``pollama serve`` (``e2e``) and every test
under tests/runner a real llama.cpp runner (``engine``), so a new module cannot forget its marker."""

from __future__ import annotations

from pathlib import Path

import pytest

_MARKERS = {Path(__file__).parent / "e2e": "e2e", Path(__file__).parent / "runner": "engine"}


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for folder, marker in _MARKERS.items():
            if folder in item.path.parents:
                item.add_marker(marker)
