"""Ollama's thinking parser cases (thinking/parser_test.go), step by step with the state after each step, plus
what pollama adds: text held back at the end of generation is given back by ``flush``."""

from __future__ import annotations

import pytest

from pollama.output.thinking import GO_SPACE, ThinkingParser, ThinkingState

S = ThinkingState


@pytest.mark.parametrize(
    ("text", "thinking", "content"),
    [
        ("<think> internal </think> world", "internal ", "world"),
        ("<think>a</think><think>b</think>c", "a", "<think>b</think>c"),
        ("no think", "", "no think"),
    ],
)
def test_whole_text(text: str, thinking: str, content: str) -> None:
    assert ThinkingParser("<think>", "</think>").add(text) == (thinking, content)


STREAMS: dict[str, list[tuple[str, str, str, ThinkingState]]] = {
    "content without a thinking tag": [
        ("  abc", "", "  abc", S.THINKING_DONE),
        ("def", "", "def", S.THINKING_DONE),  # the first step must not come out twice
    ],
    "content before a thinking tag nerfs the thinking tag": [
        ("  abc <think>def</think> ghi", "", "  abc <think>def</think> ghi", S.THINKING_DONE),
    ],
    "building up a thinking tag partially": [
        ("  <th", "", "", S.LOOKING_FOR_OPENING),
        ("in", "", "", S.LOOKING_FOR_OPENING),
        ("k>a", "a", "", S.THINKING),
    ],
    "partial closing tag": [
        ("<think>abc</th", "abc", "", S.THINKING),
        ("ink>def", "", "def", S.THINKING_DONE),
    ],
    "partial closing tag fakeout": [
        ("<think>abc</th", "abc", "", S.THINKING),
        ("ing>def", "</thing>def", "", S.THINKING),
        ("ghi</thi", "ghi", "", S.THINKING),
        ("nk>jkl", "", "jkl", S.THINKING_DONE),
    ],
    "whitespace after thinking tag": [
        ("  <think>abc</think>\n\ndef", "abc", "def", S.THINKING_DONE),
    ],
    "whitespace after thinking tag (incremental)": [
        ("  <think>abc</think>", "abc", "", S.THINKING_DONE_EATING_WHITESPACE),
        ("\n\ndef", "", "def", S.THINKING_DONE),
    ],
    "whitespace after thinking tag with content and more whitespace": [
        ("  <think>abc</think>\n\ndef ", "abc", "def ", S.THINKING_DONE),
        (" ghi", "", " ghi", S.THINKING_DONE),
    ],
    "token by token": [
        ("<think>", "", "", S.THINKING_STARTED_EATING_WHITESPACE),
        ("\n", "", "", S.THINKING_STARTED_EATING_WHITESPACE),
        ("</think>", "", "", S.THINKING_DONE_EATING_WHITESPACE),
        ("\n\n", "", "", S.THINKING_DONE_EATING_WHITESPACE),
        ("Hi", "", "Hi", S.THINKING_DONE),
        (" there", "", " there", S.THINKING_DONE),
    ],
    "leading thinking whitespace": [
        ("  <think>   \t ", "", "", S.THINKING_STARTED_EATING_WHITESPACE),
        ("  these are some ", "these are some ", "", S.THINKING),
        ("thoughts </think>  ", "thoughts ", "", S.THINKING_DONE_EATING_WHITESPACE),
        ("  more content", "", "more content", S.THINKING_DONE),
    ],
}


@pytest.mark.parametrize("steps", STREAMS.values(), ids=STREAMS.keys())
def test_streaming_steps(steps: list[tuple[str, str, str, ThinkingState]]) -> None:
    parser = ThinkingParser("<think>", "</think>")
    for text, thinking, content, state in steps:
        assert parser.add(text) == (thinking, content)
        assert parser.state is state


def test_deepseek_r1_answer() -> None:
    """DeepSeek-R1 as it streams through Ollama: `<think>\\n…\\n</think>\\n\\nanswer`, a few tokens at a time."""
    tokens = [
        "<think>",
        "\n",
        "Okay",
        ",",
        " the",
        " user",
        " asks",
        " 2+2",
        ".",
        "\n",
        "</think>",
        "\n\n",
        "2",
        "+2",
        " is",
        " **4**",
        ".",
    ]
    parser = ThinkingParser("<think>", "</think>")
    got = [parser.feed(t) for t in tokens] + [parser.flush()]
    assert "".join(p.thinking for p in got) == "Okay, the user asks 2+2.\n"
    assert "".join(p.content for p in got) == "2+2 is **4**."


def test_prefed_opening_tag() -> None:
    """A prompt that ends with `<think>` (the model continues inside the block): Ollama pre-feeds the tag."""
    parser = ThinkingParser("<think>", "</think>")
    assert parser.add("<think>") == ("", "")
    assert parser.state is S.THINKING_STARTED_EATING_WHITESPACE
    assert parser.add("\nWe need") == ("We need", "")
    assert parser.add(" 4.</think>\n\n4") == (" 4.", "4")


def test_non_ascii_tags_and_text() -> None:
    parser = ThinkingParser("◁think▷", "◁/think▷")
    out = [parser.add(c) for c in "◁think▷思考中…◁/think▷\n答え"]
    assert "".join(t for t, _ in out) == "思考中…"
    assert "".join(c for _, c in out) == "答え"


def test_go_whitespace_not_python_whitespace() -> None:
    """Go's unicode.IsSpace does not count U+001C..U+001F; Python's str.isspace does."""
    assert "\x1c" not in GO_SPACE and "\u3000" in GO_SPACE
    assert ThinkingParser("<think>", "</think>").add("\x1c<think>x</think>") == ("", "\x1c<think>x</think>")
    assert ThinkingParser("<think>", "</think>").add("\u3000<think>x</think>") == ("x", "")


@pytest.mark.parametrize(
    ("chunks", "flushed"),
    [
        (["  <thi"], ("", "  <thi")),  # a partial opening tag that never completed is the model's text
        (["\n "], ("", "")),  # an answer of only whitespace is empty, as in Ollama
        (["<think>abc</thi"], ("</thi", "")),  # a closing tag cut off by the end of generation is thinking
        (["<think>abc</think>"], ("", "")),
        (["<think>", "\n"], ("", "")),
    ],
)
def test_flush_gives_back_what_was_held(chunks: list[str], flushed: tuple[str, str]) -> None:
    parser = ThinkingParser("<think>", "</think>")
    for c in chunks:
        parser.add(c)
    held = parser.flush()
    assert (held.thinking, held.content) == flushed
    assert not parser.flush()


def test_empty_tags_are_refused() -> None:
    with pytest.raises(ValueError):
        ThinkingParser("", "</think>")
