"""The llama.cpp grammar engine over a real vocabulary, loaded once per session (about a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llamacpp_grammar import GrammarEngine, vocab_only_gguf


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrammarEngine]:
    eng = GrammarEngine(vocab_only_gguf(tmp_path_factory.mktemp("vocab")))
    yield eng
    eng.close()
