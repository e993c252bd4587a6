"""Small transfer helpers for downloads: running a blocking transfer in its own thread, deciding whether a URL
may get a raw connection of its own, and returning a response's connection to the pool."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

_T = TypeVar("_T")


async def finish(resp: httpx.Response) -> None:
    """Close a response; a short body is read first so the connection goes back to the pool for the next
    request (closing it unread costs a new connection)."""
    try:
        if int(resp.headers.get("content-length", "-1")) in range(0, 65537):
            await resp.aread()
    except (ValueError, httpx.HTTPError):
        pass
    finally:
        await resp.aclose()


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def direct_ok(url: str) -> bool:
    """Whether a part may be fetched on a connection of its own: http(s) and no proxy configured for it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    proxies = urllib.request.getproxies_environment()
    if parts.scheme not in proxies and "all" not in proxies:
        return True
    return bool(urllib.request.proxy_bypass(parts.netloc))


async def in_thread(fn: Callable[[], _T], abort: Callable[[], None], name: str) -> _T:
    """``fn()`` in a thread of its own (not the shared executor: a big model has 16 parts); cancelling the
    awaiting task calls ``abort()``, which must make ``fn`` return soon."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()

    def deliver(set_outcome: Callable[[Any], None], value: Any) -> None:
        if not fut.done():
            set_outcome(value)

    def target() -> None:
        try:
            result = fn()
        except BaseException as e:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
                loop.call_soon_threadsafe(deliver, fut.set_exception, e)
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(deliver, fut.set_result, result)

    threading.Thread(target=target, name=name, daemon=True).start()
    try:
        return await fut
    except asyncio.CancelledError:
        abort()
        raise
