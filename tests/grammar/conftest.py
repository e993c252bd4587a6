"""The llama.cpp grammar engine over a real vocabulary, loaded once per session (about a second) and only by
the tests that ask for it (the ``*_llamacpp.py`` modules)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from llamacpp_grammar import GrammarEngine


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrammarEngine]:
    from llamacpp_grammar import GrammarEngine, vocab_only_gguf

    eng = GrammarEngine(vocab_only_gguf(tmp_path_factory.mktemp("vocab")))
    yield eng
    eng.close()
