"""The ``pollama`` command: ``serve`` starts the server; every other command is an HTTP client of a running server
(``OLLAMA_HOST``), with Ollama's commands, flags, output and error lines.

Errors are one line on stderr, ``Error: <message>``, and exit status 1, as Ollama's CLI prints them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType

from pollama import __version__
from pollama.cli import models, transfer
from pollama.cli.args import Command, Flag, Parsed, UsageError, command_help, parse, root_help
from pollama.cli.client import Client, CLIError
from pollama.config import Settings

PROG = "pollama"
SHORT = "Large language model runner"
INSECURE = Flag("insecure", "Use an insecure registry")
RUN_ENV = (
    ("OLLAMA_EDITOR", "Path to editor for interactive prompt editing (Ctrl+G)"),
    ("OLLAMA_HOST", "IP Address for the ollama server (default 127.0.0.1:11434)"),
    ("OLLAMA_NOHISTORY", "Do not preserve readline history"),
)
SERVE_ENV = (
    ("OLLAMA_DEBUG", "Show additional debug information (e.g. OLLAMA_DEBUG=1)"),
    ("OLLAMA_HOST", "IP Address for the ollama server (default 127.0.0.1:11434)"),
    ("OLLAMA_CONTEXT_LENGTH", "Context length to use unless otherwise specified (default: 4096)"),
    ("OLLAMA_KEEP_ALIVE", 'The duration that models stay loaded in memory (default "5m")'),
    ("OLLAMA_MAX_LOADED_MODELS", "Maximum number of loaded models per GPU"),
    ("OLLAMA_MAX_QUEUE", "Maximum number of queued requests"),
    ("OLLAMA_MODELS", "The path to the models directory"),
    ("OLLAMA_NUM_PARALLEL", "Maximum number of parallel requests"),
    ("OLLAMA_NOPRUNE", "Do not prune model blobs on startup"),
    ("OLLAMA_ORIGINS", "A comma separated list of allowed origins"),
)

COMMANDS = [
    Command("serve", "serve", "Start pollama", 0, 0, aliases=("start",), env=SERVE_ENV),
    Command(
        "create",
        "create MODEL",
        "Create a model",
        1,
        1,
        (
            Flag("file", 'Name of the Modelfile (default "Modelfile")', "string", "f", ""),
            Flag("quantize", "Quantize model to this level (e.g. q4_K_M)", "string", "q", ""),
            Flag("draft-quantize", "Quantize draft model to this level", "string", default=""),
        ),
    ),
    Command(
        "show",
        "show MODEL",
        "Show information for a model",
        1,
        1,
        (
            Flag("license", "Show license of a model"),
            Flag("modelfile", "Show Modelfile of a model"),
            Flag("parameters", "Show parameters of a model"),
            Flag("template", "Show template of a model"),
            Flag("system", "Show system message of a model"),
            Flag("verbose", "Show detailed model information", short="v"),
        ),
    ),
    Command(
        "run",
        "run MODEL [PROMPT]",
        "Run a model",
        1,
        None,
        (
            Flag("keepalive", "Duration to keep a model loaded (e.g. 5m)", "string", default=""),
            Flag("verbose", "Show timings for response"),
            INSECURE,
            Flag("nowordwrap", "Don't wrap words to the next line automatically"),
            Flag("format", "Response format (e.g. json)", "string", default=""),
            Flag(
                "think",
                "Enable thinking mode: true/false or high/medium/low for supported models",
                "string",
                default="",
                no_opt="true",
            ),
            Flag("hidethinking", "Hide thinking output (if provided)"),
            Flag(
                "truncate",
                "For embedding models: truncate inputs exceeding context length (default: true). "
                "Set --truncate=false to error instead",
            ),
            Flag(
                "dimensions", "Truncate output embeddings to specified dimension (embedding models only)", "int", "", 0
            ),
        ),
        env=RUN_ENV,
    ),
    Command("stop", "stop MODEL", "Stop a running model", 1, 1),
    Command("pull", "pull MODEL", "Pull a model from a registry", 1, 1, (INSECURE,)),
    Command("push", "push MODEL", "Push a model to a registry", 1, 1, (INSECURE,)),
    Command("list", "list", "List models", aliases=("ls",)),
    Command("ps", "ps", "List running models"),
    Command("cp", "cp SOURCE DESTINATION", "Copy a model", 2, 2),
    Command("rm", "rm MODEL [MODEL...]", "Remove a model", 1, None),
]
ROOT_FLAGS = [
    Flag("version", "Show version information", short="v"),
    Flag("verbose", "Show timings for response"),
    Flag("nowordwrap", "Don't wrap words to the next line automatically"),
]


def _after_shutdown(sig: int, frame: FrameType | None) -> None:
    """The signal handler uvicorn hands a caught SIGTERM/SIGINT back to once its graceful shutdown is done."""


def _at_shutdown(exc: BaseException | None) -> bool:
    """Whether uvicorn's shutdown cancellation is ``exc`` or what it was raised while handling (a task group
    or a pull's shared download re-raises a cancellation of its own)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, asyncio.CancelledError) and "graceful shutdown" in str(exc):
            return True
        exc, seen = exc.__context__, seen + 1
    return False


class _ShutdownCancelFilter(logging.Filter):
    """Turns uvicorn's traceback for a request cut at the end of the graceful shutdown into one warning line.

    A stream still running when ``timeout_graceful_shutdown`` runs out is cancelled on purpose; that is the
    shutdown working, not an application error.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, asyncio.CancelledError) and _at_shutdown(exc):
            record.msg, record.args = "request cancelled at shutdown", None
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _serve(settings: Settings) -> int:
    import uvicorn

    from pollama.registry.identity import ensure_key
    from pollama.server.app import create_app

    ensure_key()
    level = logging.DEBUG if settings.debug else logging.INFO
    logging.basicConfig(level=level, format="time=%(asctime)s level=%(levelname)s msg=%(message)s")
    logging.getLogger("pollama").info(
        "Listening on %s:%d (version %s), models in %s", settings.host, settings.port, __version__, settings.models
    )
    # uvicorn shuts down gracefully on SIGTERM/SIGINT (in-flight requests get `timeout_graceful_shutdown`, then
    # the lifespan stops every runner) and then re-raises the signal under the handlers it found, which would
    # kill the process with it (-15) or raise KeyboardInterrupt. Ollama exits 0 after such a shutdown, and so
    # does pollama: the handlers uvicorn restores and re-raises into do nothing.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _after_shutdown)
    logging.getLogger("uvicorn.error").addFilter(_ShutdownCancelFilter())
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="debug" if settings.debug else "warning",
        timeout_graceful_shutdown=5,
    )
    return 0


def version() -> None:
    """``-v``: the server's version, and a warning when it is unreachable or differs from this client's."""
    client = Client()
    server = ""
    try:
        server = client.version()
    except CLIError:
        print("Warning: could not connect to a running pollama instance")
    if server:
        print(f"pollama version is {server}")
    if server != __version__:
        print(f"Warning: client version is {__version__}")


def _run(client: Client, p: Parsed) -> None:
    from pollama.cli import run

    run.run_command(client, p.args, p.values, p.changed)


def _show(client: Client, p: Parsed) -> None:
    chosen = [name for name in models.SHOW_FLAGS if p[name]]
    if len(chosen) > 1:
        raise CLIError(
            "only one of '--license', '--modelfile', '--parameters', '--system', or '--template' can be specified"
        )
    sys.stdout.write(models.show(client, p.args[0], chosen[0] if chosen else None, p["verbose"]))


HANDLERS: dict[str, Callable[[Client, Parsed], object]] = {
    "create": lambda c, p: transfer.create(c, p.args[0], p["file"] or None, p["quantize"], p["draft-quantize"]),
    "show": _show,
    "run": _run,
    "stop": lambda c, p: models.stop(c, p.args[0]),
    "pull": lambda c, p: transfer.pull(c, p.args[0], p["insecure"]),
    "push": lambda c, p: transfer.push(c, p.args[0], p["insecure"]),
    "list": lambda c, p: sys.stdout.write(models.list_models(c, p.args[0] if p.args else None)),
    "ps": lambda c, p: sys.stdout.write(models.list_running(c, p.args[0] if p.args else None)),
    "cp": lambda c, p: sys.stdout.write(models.copy(c, p.args[0], p.args[1])),
    "rm": lambda c, p: models.remove(c, p.args),
}


def _find(name: str) -> Command | None:
    return next((c for c in COMMANDS if name == c.name or name in c.aliases), None)


def dispatch(argv: list[str]) -> int:
    name = next((w for w in argv if not w.startswith("-")), None)
    if name is None:
        root = parse(Command(PROG, PROG, SHORT, 0, 0, tuple(ROOT_FLAGS)), argv)
        if root["version"]:
            version()
        else:
            sys.stdout.write(root_help(PROG, SHORT, COMMANDS, ROOT_FLAGS))
        return 0
    command = _find(name)
    if command is None:
        raise UsageError(f'unknown command "{name}" for "{PROG}"')
    rest = list(argv)
    rest.remove(name)
    parsed = parse(command, rest)
    if parsed.help:
        sys.stdout.write(command_help(PROG, command))
        return 0
    if command.name == "serve":
        try:
            settings = Settings.from_env()
            # A broken remote models file stops serve here with its message, not a traceback from start-up.
            from pollama.engines.remote_models import RemoteModels

            RemoteModels.from_setting(settings.remotes)
        except ValueError as err:  # e.g. an unreadable OLLAMA_API_KEYS_FILE: refuse to start open
            raise CLIError(str(err)) from None
        return _serve(settings)
    client = Client()
    try:
        client.heartbeat()
        HANDLERS[command.name](client, parsed)
    finally:
        client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return dispatch(argv)
    except (CLIError, UsageError) as err:
        sys.stdout.flush()
        print(f"Error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped to head): exit quietly, as a Go program killed by SIGPIPE does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
