"""TextStream: UTF-8 reassembly and stop-string hold-back, without a model."""

from __future__ import annotations

from pollama.runner.textout import TextStream


def feed(stream: TextStream, pieces: list[bytes]) -> tuple[str, bool]:
    out = ""
    for piece in pieces:
        text, stopped = stream.push(piece)
        out += text
        if stopped:
            return out, True
    return out + stream.flush(), False


def test_multibyte_character_split_across_tokens_is_held_until_complete() -> None:
    data = "héllo 😀 世界".encode()
    stream = TextStream([])
    texts = [stream.push(data[i : i + 1])[0] for i in range(len(data))]
    assert "".join(texts) == "héllo 😀 世界"
    assert all("\ufffd" not in t for t in texts)


def test_stop_string_spanning_pieces_is_never_emitted() -> None:
    stream = TextStream(["STOP"])
    out, stopped = feed(stream, [b"abc S", b"TO", b"P tail"])
    assert (out, stopped) == ("abc ", True)


def test_partial_stop_prefix_is_released_when_it_does_not_match() -> None:
    stream = TextStream(["STOP"])
    assert stream.push(b"abc ST") == ("abc ", False)
    assert stream.push(b"ART") == ("START", False)


def test_held_text_is_flushed_at_the_end() -> None:
    stream = TextStream(["</end>"])
    out, stopped = feed(stream, [b"x </e"])
    assert (out, stopped) == ("x </e", False)


def test_earliest_of_several_stop_strings_wins() -> None:
    stream = TextStream(["world", "lo w"])
    out, stopped = feed(stream, [b"hello world"])
    assert (out, stopped) == ("hel", True)


def test_the_matched_stop_string_is_remembered() -> None:
    s = TextStream(["xyz", "b"])
    assert s.push(b"aaxy") == ("aa", False) and s.matched == ""
    assert s.push(b"zb") == ("", True)
    assert s.matched == "xyz"  # the earliest match in the text, not the first in the list
