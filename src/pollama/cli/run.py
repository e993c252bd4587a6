"""``pollama run``: pull a missing model, then a one-shot answer (prompt arguments, piped stdin, or stdout not a
terminal) through ``/api/generate``, an embedding vector for an embedding model, or the interactive chat.

Ctrl+C while a reply streams closes the HTTP response; the server sees the client go and stops generating.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from pollama.cli import attachments
from pollama.cli.client import APIError, Client, CLIError
from pollama.cli.display import Printer, WordWrap, summary, terminal_width
from pollama.cli.format import go_duration
from pollama.cli.progress import Progress, Spinner
from pollama.cli.transfer import pull
from pollama.config import DurationError, parse_go_duration
from pollama.gojson import Float32, marshal

THINK_LEVELS = ("high", "medium", "low", "max")


@dataclass
class RunOptions:
    """A run session's state (Ollama's ``runOptions``); the REPL's ``/set`` commands change it."""

    model: str
    prompt: str = ""
    parent_model: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    loaded_messages: list[dict[str, Any]] = field(default_factory=list)
    word_wrap: bool = True
    format: str = ""
    system: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    keep_alive: str | None = None
    think: bool | str | None = None
    hide_thinking: bool = False
    verbose: bool = False
    insecure: bool = False
    multimodal: bool = False


def parse_think(value: str) -> bool | str:
    """``--think[=true|false|high|medium|low|max]``."""
    if value in ("", "true"):
        return True
    if value == "false":
        return False
    if value in THINK_LEVELS:
        return value
    raise CLIError(f'invalid value for --think: "{value}" (must be true, false, high, medium, low, or max)')


def parse_keep_alive(value: str) -> str:
    """A Go duration, sent as Go's ``Duration.String`` like Ollama's client sends it."""
    try:
        seconds = parse_go_duration(value)
    except DurationError as err:
        raise CLIError(str(err)) from None
    return "-1" if seconds < 0 else go_duration(round(seconds * 1e9))


def request_format(value: str) -> Any:
    """``--format json`` or a JSON schema, as the request's ``format``."""
    if not value:
        return None
    if value == "json":
        return "json"
    try:
        return json.loads(value)
    except ValueError as err:
        raise CLIError(f"json: error calling MarshalJSON for type json.RawMessage: {err}") from None


def show_or_pull(client: Client, model: str, insecure: bool) -> dict[str, Any]:
    """``showOrPullModel``: a model the server does not have is pulled first."""
    try:
        return client.show(model)
    except APIError as err:
        if err.status != 404:
            raise
    pull(client, model, insecure)
    return client.show(model)


def _base_request(opts: RunOptions) -> dict[str, Any]:
    req: dict[str, Any] = {"model": opts.model}
    if (fmt := request_format(opts.format)) is not None:
        req["format"] = fmt
    if opts.options:
        req["options"] = opts.options
    if opts.keep_alive is not None:
        req["keep_alive"] = opts.keep_alive
    if opts.think is not None:
        req["think"] = opts.think
    return req


def _stream_reply(client: Client, path: str, req: dict[str, Any], printer: Printer) -> dict[str, Any] | None:
    """Stream one reply into ``printer``; the last response, or None when Ctrl+C cancelled it."""
    progress = Progress()
    last: dict[str, Any] = {}
    stream = client.stream(path, req)
    try:
        progress.add(Spinner(""))
        for resp in stream:
            msg = resp.get("message") or {}
            content = str(msg.get("content") or resp.get("response") or "")
            if content or not printer.hide_thinking:
                progress.stop_and_clear()
            thinking = str(msg.get("thinking") or resp.get("thinking") or "")
            printer.feed(content, thinking, msg.get("tool_calls") or resp.get("tool_calls"))
            last = resp
    except KeyboardInterrupt:
        stream.close()  # drops the connection: the server cancels the generation
        progress.stop_and_clear()
        printer.wrap.out.write("\n")
        return None
    finally:
        progress.stop_and_clear()
    return last


def generate(client: Client, opts: RunOptions) -> None:
    """The one-shot answer: ``/api/generate`` streamed to stdout, then two newlines."""
    req = _base_request(opts)
    req["prompt"] = opts.prompt
    if opts.multimodal:
        req["prompt"], images = attachments.extract(opts.prompt)
        if images:
            req["images"] = images
    if opts.system:
        req["system"] = opts.system
    plain = not sys.stdout.isatty()
    printer = Printer(WordWrap(opts.word_wrap and not plain, terminal_width()), opts.hide_thinking, plain)
    last = _stream_reply(client, "/api/generate", req, printer)
    if last is None:
        return
    if opts.prompt:
        print("\n")
    if last.get("done") and opts.verbose:
        sys.stderr.write(summary(last))


def chat(client: Client, opts: RunOptions) -> dict[str, Any] | None:
    """One interactive turn through ``/api/chat``; the assistant's message, or None when cancelled."""
    req = _base_request(opts)
    req["messages"] = opts.messages
    printer = Printer(WordWrap(opts.word_wrap, terminal_width()), opts.hide_thinking)
    last = _stream_reply(client, "/api/chat", req, printer)
    if last is None:
        return None
    if opts.messages:
        print("\n")
    if opts.verbose:
        sys.stderr.write(summary(last))
    role = str((last.get("message") or {}).get("role") or "assistant")
    message: dict[str, Any] = {"role": role, "content": printer.content}
    if printer.thinking:
        message["thinking"] = printer.thinking
    return message


def load(client: Client, opts: RunOptions) -> None:
    """``loadOrUnloadModel``: load the model (and check ``think``) before the first prompt."""
    progress = Progress()
    progress.add(Spinner(""))
    try:
        req: dict[str, Any] = {"model": opts.model}
        if opts.keep_alive is not None:
            req["keep_alive"] = opts.keep_alive
        if opts.think is not None:
            req["think"] = opts.think
        for _ in client.stream("/api/generate", req):
            pass
    finally:
        progress.stop_and_clear()


def embed(client: Client, opts: RunOptions, truncate: bool | None, dimensions: int) -> None:
    """``generateEmbedding``: the first vector of ``/api/embed`` as one JSON line."""
    req: dict[str, Any] = {"model": opts.model, "input": opts.prompt}
    if opts.keep_alive is not None:
        req["keep_alive"] = opts.keep_alive
    if truncate is not None:
        req["truncate"] = truncate
    if dimensions > 0:
        req["dimensions"] = dimensions
    resp = client.request("POST", "/api/embed", req) or {}
    vectors = resp.get("embeddings") or []
    if not vectors:
        raise CLIError("no embeddings returned")
    print(marshal([Float32(x) for x in vectors[0]]))


def apply_show(opts: RunOptions, info: dict[str, Any], think_explicit: bool) -> None:
    """What ``run`` and ``/load`` take from ``/api/show``: the parent, the saved messages, default thinking."""
    opts.parent_model = str((info.get("details") or {}).get("parent_model") or "")
    opts.loaded_messages = list(info.get("messages") or [])
    capabilities = info.get("capabilities") or []
    opts.multimodal = "vision" in capabilities or "audio" in capabilities or bool(info.get("projector_info"))
    if not think_explicit:
        opts.think = True if "thinking" in (info.get("capabilities") or []) else None


def run_command(client: Client, args: list[str], flags: dict[str, Any], changed: set[str]) -> None:
    """``RunHandler``: options from the flags, stdin and ``/api/show``, then one of the three modes."""
    opts = RunOptions(model=args[0], format=flags["format"], hide_thinking=flags["hidethinking"])
    opts.verbose = flags["verbose"]
    opts.insecure = flags["insecure"]
    think_explicit = "think" in changed
    if think_explicit:
        opts.think = parse_think(flags["think"])
    if flags["keepalive"]:
        opts.keep_alive = parse_keep_alive(flags["keepalive"])
    prompts = args[1:]
    interactive = True
    if not sys.stdin.isatty():
        piped = sys.stdin.read()
        if piped:
            prompts = [piped, *prompts]
        interactive = False
    opts.prompt = " ".join(prompts)
    if prompts or not sys.stdout.isatty():
        interactive = False
    opts.word_wrap = not flags["nowordwrap"]

    info = show_or_pull(client, opts.model, opts.insecure)
    apply_show(opts, info, think_explicit)
    capabilities = info.get("capabilities") or []
    if "embedding" in capabilities:
        if not opts.prompt:
            raise CLIError(f'embedding models require input text. Usage: pollama run {opts.model} "your text here"')
        embed(client, opts, flags["truncate"] if "truncate" in changed else None, flags["dimensions"])
        return
    if "image" in capabilities:
        raise CLIError("image generation models are not currently supported")
    if interactive:
        from pollama.cli.repl import interactive as repl

        repl(client, opts, info, think_explicit)
        return
    generate(client, opts)
