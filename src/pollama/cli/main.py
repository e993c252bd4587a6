"""The ``pollama`` command. Only ``serve`` lives here for now; client commands talk HTTP like any client."""

from __future__ import annotations

import argparse
import logging
import sys

from pollama import __version__
from pollama.config import Settings


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
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="debug" if settings.debug else "warning",
        timeout_graceful_shutdown=5,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pollama", description="Large language model runner (Ollama-compatible)")
    parser.add_argument("-v", "--version", action="store_true", help="Show version information")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", aliases=["start"], help="Start pollama")
    args = parser.parse_args(argv)
    if args.version:
        print(f"pollama version is {__version__}")
        return 0
    if args.command in ("serve", "start"):
        return _serve(Settings.from_env())
    parser.print_help()
    return 0 if args.command is None else 1


if __name__ == "__main__":
    sys.exit(main())
