"""Prompt building: Ollama's server/prompt_test.go TestChatPrompt cases, and the generate path."""

from __future__ import annotations

import asyncio

import pytest

from pollama.api.types import Think
from pollama.prompt import (
    Message,
    Template,
    TemplateError,
    chat_prompt,
    chat_prompt_with_images,
    generate_prompt,
    named_template,
)

LEGACY = Template.parse(
    "\n{{- if .System }}{{ .System }} {{ end }}\n{{- if .Prompt }}{{ .Prompt }} {{ end }}\n"
    "{{- if .Response }}{{ .Response }} {{ end }}"
)


async def count_fields(s: str) -> int:
    """Ollama's mockRunner.Tokenize: one token per whitespace-separated field."""
    return len(s.split())


H1 = "You're a test, Harry!"
H2 = "I-I'm a what?"
H3 = "A test. And a thumping good one at that, I'd wager."

CASES = [
    ("messages", 64, [Message("user", H1), Message("assistant", H2), Message("user", H3)],
     f"{H1} {H2} {H3} ", []),
    ("truncate messages", 1, [Message("user", H1), Message("assistant", H2), Message("user", H3)], f"{H3} ", []),
    ("truncate messages with image", 64,
     [Message("user", H1), Message("assistant", H2), Message("user", H3, images=[b"something"])],
     f"[img-0]{H3} ", [b"something"]),
    ("truncate messages with images", 64,
     [Message("user", H1, images=[b"something"]), Message("assistant", H2),
      Message("user", H3, images=[b"somethingelse"])],
     f"[img-0]{H3} ", [b"somethingelse"]),
    ("messages with images", 2048,
     [Message("user", H1, images=[b"something"]), Message("assistant", H2),
      Message("user", H3, images=[b"somethingelse"])],
     f"[img-0]{H1} {H2} [img-1]{H3} ", [b"something", b"somethingelse"]),
    ("message with image tag", 2048,
     [Message("user", H1 + " [img]", images=[b"something"]), Message("assistant", H2),
      Message("user", H3, images=[b"somethingelse"])],
     f"{H1} [img-0] {H2} [img-1]{H3} ", [b"something", b"somethingelse"]),
    ("messages with interleaved images", 2048,
     [Message("user", H1), Message("user", images=[b"something"]), Message("user", images=[b"somethingelse"]),
      Message("assistant", H2), Message("user", H3)],
     f"{H1}\n\n[img-0]\n\n[img-1] {H2} {H3} ", [b"something", b"somethingelse"]),
    ("truncate message with interleaved images", 1024,
     [Message("user", H1), Message("user", images=[b"something"]), Message("user", images=[b"somethingelse"]),
      Message("assistant", H2), Message("user", H3)],
     f"[img-0] {H2} {H3} ", [b"somethingelse"]),
    ("message with system prompt", 2048,
     [Message("system", "You are the Test Who Lived."), Message("user", H1), Message("assistant", H2),
      Message("user", H3)],
     f"You are the Test Who Lived. {H1} {H2} {H3} ", []),
    ("out of order system", 2048,
     [Message("user", H1), Message("assistant", H2), Message("system", "You are the Test Who Lived."),
      Message("user", H3)],
     f"{H1} {H2} You are the Test Who Lived. {H3} ", []),
    ("multiple images same prompt", 2048,
     [Message("user", "Compare these two pictures of hotdogs", images=[b"one hotdog", b"two hotdogs"])],
     "[img-0][img-1]Compare these two pictures of hotdogs ", [b"one hotdog", b"two hotdogs"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "limit", "msgs", "prompt", "images"), CASES, ids=[c[0] for c in CASES])
def test_chat_prompt_cases(name: str, limit: int, msgs: list[Message], prompt: str, images: list[bytes]) -> None:
    before = [m.content for m in msgs]
    got, got_images = asyncio.run(
        chat_prompt_with_images(
            LEGACY,
            msgs,
            None,
            num_ctx=limit,
            truncate=True,
            count_tokens=count_fields,
            think=Think(False),
            image_tokens=768,
        )
    )
    assert got == prompt
    assert got_images == images
    assert [m.content for m in msgs] == before  # callers' messages are not mutated


def test_no_truncate_with_limit_exceeded() -> None:
    msgs = [Message("user", H1), Message("assistant", H2), Message("user", H3)]
    got = asyncio.run(chat_prompt(LEGACY, msgs, None, num_ctx=10, truncate=False, count_tokens=count_fields))
    assert got == f"{H1} {H2} {H3} "


def test_truncation_keeps_dropped_system_messages() -> None:
    tmpl = Template.parse(named_template("chatml").text)
    msgs = [Message("system", "S"), Message("user", "one two three four"), Message("assistant", "five six"),
            Message("user", "last")]  # fmt: skip
    # 13 fields in full, 8 without the first user turn (system re-added), 5 with only the last message.
    got = asyncio.run(chat_prompt(tmpl, msgs, None, num_ctx=7, truncate=True, count_tokens=count_fields))
    assert got == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nlast<|im_end|>\n<|im_start|>assistant\n"


def test_tokenize_calls_are_bounded() -> None:
    calls = 0

    async def counting(s: str) -> int:
        nonlocal calls
        calls += 1
        return len(s.split())

    msgs = [Message("user", "message 1"), Message("assistant", "response 1"), Message("user", "message 2")]
    asyncio.run(chat_prompt(LEGACY, msgs, None, num_ctx=2048, truncate=True, count_tokens=counting))
    assert calls == 1


def test_gemma3_generate_prompt() -> None:
    tmpl = Template.parse(named_template("gemma3-instruct").text)
    prompt, images = asyncio.run(
        generate_prompt(tmpl, "Why is the sky blue?", system="Be brief.", num_ctx=4096, truncate=True,
                        count_tokens=count_fields)
    )  # fmt: skip
    # The system text is folded into the user turn at index 1; the template file's final newline is output too.
    assert prompt == "<start_of_turn>user\nBe brief.\n\nWhy is the sky blue?<end_of_turn>\n<start_of_turn>model\n\n"
    assert images == []


def test_generate_uses_model_system_and_messages_unless_context() -> None:
    tmpl = Template.parse(named_template("chatml").text)
    kwargs = {"num_ctx": 4096, "truncate": True, "count_tokens": count_fields, "model_system": "MS",
              "model_messages": [Message("user", "u0"), Message("assistant", "a0")]}  # fmt: skip
    prompt, _ = asyncio.run(generate_prompt(tmpl, "p", **kwargs))  # type: ignore[arg-type]
    assert prompt == (
        "<|im_start|>system\nMS<|im_end|>\n<|im_start|>user\nu0<|im_end|>\n<|im_start|>assistant\na0<|im_end|>\n"
        "<|im_start|>user\np<|im_end|>\n<|im_start|>assistant\n"
    )
    prompt, _ = asyncio.run(generate_prompt(tmpl, "p", has_context=True, **kwargs))  # type: ignore[arg-type]
    assert prompt == "<|im_start|>system\nMS<|im_end|>\n<|im_start|>user\np<|im_end|>\n<|im_start|>assistant\n"


def test_generate_suffix_and_request_template() -> None:
    tmpl = Template.parse(
        "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{- else }}{{ .Prompt }}{{- end }}"
    )
    prompt, _ = asyncio.run(
        generate_prompt(tmpl, "def f(", suffix="return 1", num_ctx=10, truncate=True, count_tokens=count_fields)
    )
    assert prompt == "<PRE> def f( <SUF>return 1 <MID>"
    prompt, images = asyncio.run(
        generate_prompt(tmpl, "hi", request_template="[{{ .System }}|{{ .Prompt }}]", system="s", images=[b"x"],
                        num_ctx=10, truncate=True, count_tokens=count_fields)
    )  # fmt: skip
    assert prompt == "[s|hi]"  # direct execution: no [img-N] markers
    assert images == [b"x"]
    with pytest.raises(TemplateError, match=r'template: :1: unexpected "}" in operand'):
        asyncio.run(generate_prompt(tmpl, "hi", request_template="{{ .Prompt }", num_ctx=10, truncate=True,
                                    count_tokens=count_fields))  # fmt: skip
