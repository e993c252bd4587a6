"""Turning a request's token pieces into streamable text: UTF-8 safe (a multi-byte character split across
tokens is held until complete) and stop-string aware (text that might begin a stop string is held back; a stop
string is never emitted)."""

from __future__ import annotations

import codecs


class TextStream:
    def __init__(self, stop: list[str]) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._stop = [s for s in stop if s]
        self._held = ""
        self.matched = ""
        """The stop string that ended the stream, once one has."""

    def push(self, piece: bytes) -> tuple[str, bool]:
        """Feed one token's bytes. Returns the text that may be emitted now and whether a stop string matched
        (in which case the returned text is everything before it and the stream is finished)."""
        text = self._decoder.decode(piece)
        if not self._stop:
            return text, False
        held = self._held + text
        if not held:
            return "", False
        cut = -1
        for s in self._stop:
            i = held.find(s)
            if i >= 0 and (cut < 0 or i < cut):
                cut = i
        if cut >= 0:
            self._held = ""
            self.matched = min((s for s in self._stop if held.find(s) == cut), key=len)
            return held[:cut], True
        keep = 0
        for s in self._stop:
            for k in range(min(len(s) - 1, len(held)), keep, -1):
                if held.endswith(s[:k]):
                    keep = k
                    break
        if keep:
            self._held = held[-keep:]
            return held[:-keep], False
        self._held = ""
        return held, False

    def flush(self) -> str:
        """The text still held at the end of generation (a partial stop string is just text then)."""
        text = self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        return text
