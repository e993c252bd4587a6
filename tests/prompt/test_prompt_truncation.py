"""History truncation: the binary search over the start index gives Ollama's linear-scan answer in O(log n)."""

from __future__ import annotations

import asyncio
import math
import random

from pollama.api.types import Think
from pollama.prompt import Message, Template, chat_prompt, named_template
from pollama.prompt.build import render, tag_images

LEGACY = Template.parse(
    "\n{{- if .System }}{{ .System }} {{ end }}\n{{- if .Prompt }}{{ .Prompt }} {{ end }}\n"
    "{{- if .Response }}{{ .Response }} {{ end }}"
)
CHATML = Template.parse(named_template("chatml").text)


async def count_fields(s: str) -> int:
    return len(s.split())


async def linear_start(tmpl: Template, msgs: list[Message], num_ctx: int, image_tokens: int = 0) -> int:
    """Ollama's chatPrompt loop, verbatim in shape: the reference answer."""
    last = len(msgs) - 1
    for i in range(last + 1):
        system = [m for m in msgs[:i] if m.role == "system"]
        n = await count_fields(_render(tmpl, system + msgs[i:]))
        n += image_tokens * sum(len(m.images) for m in msgs[i:])
        if n <= num_ctx or i == last:
            return i
    return 0


def _render(tmpl: Template, msgs: list[Message]) -> str:
    return render(tmpl, msgs, None, Think())


def _expected_prompt(tmpl: Template, msgs: list[Message], start: int) -> str:
    system = [m for m in msgs[:start] if m.role == "system"]
    tagged, _ = tag_images(msgs, start)
    return _render(tmpl, system + tagged[start:])


def _conversation(rng: random.Random, n: int) -> list[Message]:
    roles = ["system", "user", "assistant", "user", "assistant"]
    msgs = []
    for k in range(n):
        words = " ".join(f"w{k}_{j}" for j in range(rng.randint(0, 12)))
        images = [b"img"] * rng.choice([0, 0, 0, 1, 2])
        msgs.append(Message(rng.choice(roles), words, images=images))
    return msgs


def test_same_start_as_linear_scan_on_varied_conversations() -> None:
    rng = random.Random(10)
    checked = 0
    for _ in range(300):
        msgs = _conversation(rng, rng.randint(1, 40))
        tmpl = rng.choice([LEGACY, CHATML])
        num_ctx = rng.randint(1, 400)
        image_tokens = rng.choice([0, 0, 7])
        start = asyncio.run(linear_start(tmpl, msgs, num_ctx, image_tokens))
        got = asyncio.run(
            chat_prompt(tmpl, msgs, None, num_ctx=num_ctx, truncate=True, count_tokens=count_fields,
                        image_tokens=image_tokens)
        )  # fmt: skip
        assert got == _expected_prompt(tmpl, msgs, start)
        checked += start not in (0, len(msgs) - 1)
    assert checked > 30  # the interesting case (a start strictly inside the conversation) was exercised


def test_ten_thousand_messages_cost_logarithmic_tokenizer_calls() -> None:
    calls = 0

    async def counting(s: str) -> int:
        nonlocal calls
        calls += 1
        return len(s.split())

    msgs = [Message("system", "be brief")] + [
        Message("user" if k % 2 else "assistant", f"turn {k} has five words") for k in range(10_000)
    ]
    # Each message renders to 5 fields; 1,000 fields keep the last 199 messages (plus the re-added system).
    got = asyncio.run(chat_prompt(LEGACY, msgs, None, num_ctx=1000, truncate=True, count_tokens=counting))
    assert got.startswith("be brief turn 9801 ")
    assert got.endswith("turn 9999 has five words ")
    assert calls <= math.ceil(math.log2(len(msgs))) + 2  # the linear scan would make 9,802 calls


def test_non_monotone_counts_fall_back_to_the_linear_answer() -> None:
    # A tokenizer whose count rises when a message is dropped (index 2 → 3): binary search alone would
    # settle on start 4; the scan's answer is 1.
    by_start = {0: 100, 1: 5, 2: 50, 3: 60, 4: 5}

    async def odd(s: str) -> int:
        first = min(int(w[1:]) for w in s.split() if w.startswith("m"))
        return by_start.get(first, 5)

    msgs = [Message("user" if k % 2 == 0 else "assistant", f"m{k}") for k in range(9)]
    got = asyncio.run(chat_prompt(LEGACY, msgs, None, num_ctx=10, truncate=True, count_tokens=odd))
    assert got.split()[0] == "m1"


def test_ten_thousand_messages_render_only_about_what_is_kept() -> None:
    counted: list[int] = []

    async def counting(s: str) -> int:
        counted.append(len(s))
        return len(s.split())

    msgs = [Message("system", "be brief")] + [
        Message("user" if k % 2 else "assistant", f"turn {k} has five words " * 3) for k in range(10_000)
    ]
    got = asyncio.run(chat_prompt(LEGACY, msgs, None, num_ctx=1500, truncate=True, count_tokens=counting))
    # Each message is 15 fields: 99 of them and the system message fit, a hundredth would not.
    assert got.startswith("be brief turn 9901 ")
    assert got.endswith("turn 9999 has five words  ")
    # Galloping back from the end renders some times what is kept; bisecting from the whole conversation
    # rendered half of it, then a quarter, ... (about 1.2 million characters here).
    assert sum(counted) < 20 * len(got)


def test_a_conversation_that_fits_is_counted_once() -> None:
    calls = 0

    async def counting(s: str) -> int:
        nonlocal calls
        calls += 1
        return len(s.split())

    msgs = [Message("user" if k % 2 == 0 else "assistant", f"m{k} and more") for k in range(9)]
    got = asyncio.run(chat_prompt(LEGACY, msgs, None, num_ctx=100, truncate=True, count_tokens=counting))
    assert got.split()[0] == "m0"
    assert calls == 1
