"""DNS-rebinding protection: on a loopback listener, only requests addressed to a local host name get through.

Ollama's ``allowedHostsMiddleware``: the ``Host`` header must be an IP that is loopback, private or
unspecified, or ``localhost``, this machine's host name, or a name under ``.localhost``, ``.local`` or
``.internal``; anything else gets an empty 403.
"""

from __future__ import annotations

import ipaddress
import socket

from starlette.types import ASGIApp, Receive, Scope, Send

_SUFFIXES = (".localhost", ".local", ".internal")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_allowed(host_header: str, hostname: str) -> bool:
    host = host_header
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if not host:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        low = host.lower()
        return low in ("localhost", hostname.lower()) or low.endswith(_SUFFIXES)
    return ip.is_loopback or ip.is_private or ip.is_unspecified or ip.is_link_local


class AllowedHostsMiddleware:
    def __init__(self, app: ASGIApp, listen_host: str) -> None:
        self.app = app
        self.enabled = _is_loopback(listen_host)
        self.hostname = socket.gethostname()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.enabled and scope["type"] == "http":
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if not host_allowed(host, self.hostname):
                await send({"type": "http.response.start", "status": 403, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)
