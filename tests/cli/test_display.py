"""Streaming output: word wrap as Ollama's ``displayResponse``, thinking framed apart from the answer, the
``--verbose`` summary (``api.Metrics.Summary``)."""

from __future__ import annotations

import io

from pollama.cli.display import Printer, WordWrap, render_tool_calls, summary


def test_word_wrap_takes_back_the_word_that_crosses_the_margin() -> None:
    out = io.StringIO()
    wrap = WordWrap(True, width=20, out=out)
    for piece in ["The quick brown ", "fox jumps over"]:
        wrap.write(piece)
    # margin = width - 5 = 15: the character that would pass it takes the word before it to the next line
    assert out.getvalue() == "The quick brown\x1b[5D\x1b[K\nbrown fox jumps\x1b[5D\x1b[K\njumps over"


def test_word_wrap_off_writes_verbatim() -> None:
    out = io.StringIO()
    wrap = WordWrap(False, width=20, out=out)
    wrap.write("The quick brown fox jumps over the lazy dog")
    assert out.getvalue() == "The quick brown fox jumps over the lazy dog"


def test_thinking_is_framed_and_kept_apart() -> None:
    out = io.StringIO()
    printer = Printer(WordWrap(False, out=out), plain=True)
    printer.feed("", thinking="Let me see")
    printer.feed("", thinking=".")
    printer.feed("Four.")
    assert out.getvalue() == "Thinking...\nLet me see.\n...done thinking.\n\nFour."
    assert (printer.thinking, printer.content) == ("Let me see.", "Four.")


def test_thinking_is_dimmed_on_a_terminal_and_can_be_hidden() -> None:
    out = io.StringIO()
    Printer(WordWrap(False, out=out)).feed("", thinking="hmm")
    assert out.getvalue() == "\x1b[38;5;245m\x1b[1mThinking...\n\x1b[0m\x1b[38;5;245mhmm"
    hidden = io.StringIO()
    printer = Printer(WordWrap(False, out=hidden), hide_thinking=True)
    printer.feed("", thinking="hmm")
    printer.feed("yes")
    assert hidden.getvalue() == "yes"


def test_tool_calls_are_described() -> None:
    calls = [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
    assert render_tool_calls(calls, plain=True) == (
        """  Model called a non-existent function 'get_weather()' with arguments: {"city":"Paris"}"""
    )


def test_summary() -> None:
    final = {
        "total_duration": 5_497_335_940,
        "load_duration": 2_060_935_127,
        "prompt_eval_count": 16,
        "prompt_eval_duration": 3_278_818_262,
        "eval_count": 8,
        "eval_duration": 142_279_088,
    }
    assert summary(final) == (
        "total duration:       5.49733594s\n"
        "load duration:        2.060935127s\n"
        "prompt eval count:    16 token(s)\n"
        "prompt eval duration: 3.278818262s\n"
        "prompt eval rate:     4.88 tokens/s\n"
        "eval count:           8 token(s)\n"
        "eval duration:        142.279088ms\n"
        "eval rate:            56.23 tokens/s\n"
    )
    assert summary({"eval_count": 3}) == "eval count:           3 token(s)\n"
