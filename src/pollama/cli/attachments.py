"""Images and audio named in a prompt, for models that see or hear (Ollama's ``extractFileData``): paths such as
``./cat.png`` or ``/tmp/a\\ b.wav`` are read, checked by their first bytes, removed from the text and sent as
base64 ``images``.
"""

from __future__ import annotations

import base64
import os
import re
import sys

from pollama.cli.client import CLIError

_PATH_RE = re.compile(r"(?:[a-zA-Z]:)?(?:\./|/|\\)[\S\\ ]+?\.(?i:jpg|jpeg|png|webp|wav)\b")
_UNESCAPE = re.compile(r"\\([ ()\[\]{}$&;'\\*?~])")
MAX_SIZE = 100 * 1024 * 1024


def file_names(text: str) -> list[str]:
    return _PATH_RE.findall(text)


def _content_type(head: bytes) -> str:
    """The kinds ``http.DetectContentType`` names that Ollama accepts."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wave"
    return "application/octet-stream"


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        head = f.read(512)
        kind = _content_type(head)
        if kind == "application/octet-stream":
            raise CLIError(f"invalid file type: {kind}")
        if os.fstat(f.fileno()).st_size > MAX_SIZE:
            raise CLIError("file size exceeds maximum limit (100MB)")
        return head + f.read()


def extract(text: str) -> tuple[str, list[str]]:
    """The prompt without the file paths it names, and each existing file as base64."""
    images: list[str] = []
    for raw in file_names(text):
        path = _UNESCAPE.sub(r"\1", raw)
        try:
            data = _read(path)
        except FileNotFoundError:
            continue
        except CLIError as err:
            sys.stderr.write(f'Couldn\'t process file: "{err}"\n')
            raise
        kind = "audio" if path.lower().endswith(".wav") else "image"
        sys.stderr.write(f"Added {kind} '{path}'\n")
        for form in (f"'{path}'", f"'{raw}'", raw):
            text = text.replace(form, "")
        images.append(base64.b64encode(data).decode())
    return text.strip(), images
