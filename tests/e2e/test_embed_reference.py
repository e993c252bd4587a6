"""Correctness of the built-in ``all-minilm``: for 50 varied sentences (short, long, non-English, code, odd
punctuation), pollama's vectors agree with sentence-transformers running the same safetensors with torch on the
CPU, cosine ≥ 0.999 each. The reference reads at most 512 tokens (the model's context, pollama's limit) instead
of sentence-transformers' default 256, so long inputs compare the same tokens.

sentence-transformers and torch are dev dependencies only (``scripts/test`` installs the CPU torch pin).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import ollama
import pytest
from e2e_helpers import Server

from pollama.store.builtin_minilm import package_model_dir

LONG = (
    "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined "
    "movable metal type, oil-based inks and a wooden press adapted from wine making. Within decades, presses "
    "spread across Europe, books became cheaper, literacy rose, and ideas travelled faster than ever before. "
)

SENTENCES = [
    "Hello!",
    "ok",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "How do I reset my password?",
    "What is the capital of Australia?",
    "The quarterly report shows a 12.5% increase in revenue compared with last year.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The mitochondria is the powerhouse of the cell.",
    "I can't believe it's already December — where did the year go?!",
    "e-mail me at someone@example.com or call +1 (555) 010-9999",
    "SELECT name, price FROM products WHERE price > 100 ORDER BY price DESC;",
    "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
    "git commit -m 'fix: handle empty input in the tokenizer'",
    '{"name": "pollama", "version": "0.1.0", "license": "MIT"}',
    "https://example.org/docs/api/embed?model=all-minilm&truncate=true",
    "Le chat dort paisiblement sur le canapé du salon.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "El niño juega al fútbol en el parque todos los domingos.",
    "La pizza napoletana è patrimonio dell'UNESCO.",
    "O rato roeu a roupa do rei de Roma.",
    "Я люблю читать книги по вечерам.",
    "東京は日本の首都です。",
    "我喜欢在周末去公园散步。",
    "서울은 대한민국의 수도입니다.",
    "مرحبا بكم في عالم الذكاء الاصطناعي",
    "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "नमस्ते, आप कैसे हैं?",
    "Emojis 🎉🚀 are tokens too 😀",
    "UPPERCASE TEXT IS LOWERCASED BY THIS TOKENIZER",
    "naïve café résumé coöperate",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\nin\tone text",
    "!!! ??? ... ;;; ---",
    "1234567890 3.14159 2.71828 6.02214076e23",
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "The the the the the the the the the the",
    "Retrieval-augmented generation combines a search index with a language model.",
    "Vector databases store embeddings for nearest-neighbour search.",
    LONG,
    LONG * 3,  # about 190 words: past sentence-transformers' default 256-token cut, within 512
    LONG * 6,  # past 512 tokens: both sides truncate to the model's context
]


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Server]) -> Iterator[Server]:
    """A server of this module's own (same store): the models it loads and creates stay out of the shared
    server's ``/api/ps``, which other modules check."""
    own = start_server()
    yield own
    own.stop()


def test_fifty_sentences_agree_with_sentence_transformers(server: Server) -> None:
    assert len(SENTENCES) == 50
    folder = package_model_dir()
    assert folder is not None
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(folder), device="cpu")
    reference.max_seq_length = 512
    expected = reference.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True, batch_size=16)

    got = np.asarray(ollama.Client(host=server.url).embed("all-minilm", SENTENCES).embeddings, dtype=np.float64)
    assert got.shape == expected.shape == (50, 384)
    cosines = np.sum(got * expected, axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)
    print(f"all-minilm vs sentence-transformers: min cosine {cosines.min():.6f}, mean {cosines.mean():.6f}")
    worst = {SENTENCES[i][:40]: round(float(cosines[i]), 6) for i in np.argsort(cosines)[:3]}
    assert (cosines >= 0.999).all(), worst

    # one at a time gives the same vectors as the batch, up to the float noise of a different batch shape
    single = np.asarray([ollama.Client(host=server.url).embed("all-minilm", s).embeddings[0] for s in SENTENCES[:10]])
    assert (np.sum(single * got[:10], axis=1) > 0.99999).all()
