"""DNS-rebinding protection: on a loopback listener, only requests addressed to a local host get through.

Ollama's ``allowedHostsMiddleware`` (``server/routes.go``), which runs after CORS. The host is what Go's
``net.SplitHostPort`` makes of the ``Host`` header, or the whole header when that fails (so ``[::1]`` without a
port is not an IP). It gets through when it is an IP that is loopback, private (RFC 1918, fc00::/7),
unspecified, or an address of one of this machine's interfaces; or when it is ``""``, ``localhost``, this
machine's host name or a name under ``.localhost``, ``.local`` or ``.internal``, and then an ``OPTIONS`` is
answered an empty 204 here. Anything else gets an empty 403. On any other listener everything gets through.
"""

from __future__ import annotations

import ctypes
import functools
import ipaddress
import socket
import sys
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from starlette.types import ASGIApp, Receive, Scope, Send

IPAddress = IPv4Address | IPv6Address

_SUFFIXES = (".localhost", ".local", ".internal")
# Go's netip IsPrivate: RFC 1918 and RFC 4193 only, unlike Python's is_private (which also takes link-local,
# documentation and reserved ranges, and on 3.11 every IPv4-mapped address).
_PRIVATE = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
    IPv6Network("fc00::/7"),
)


def _listener_is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_host(host_header: str) -> str:
    """The host of ``net.SplitHostPort(host_header)``, or the whole header where Go reports an error."""
    i = host_header.rfind(":")
    if i < 0:
        return host_header
    j = k = 0
    if host_header.startswith("["):
        end = host_header.find("]")
        if end + 1 != i:  # no "]", nothing after it, or not followed by the last ":"
            return host_header
        host, j, k = host_header[1:end], 1, end + 1
    else:
        host = host_header[:i]
        if ":" in host:
            return host_header
    if "[" in host_header[j:] or "]" in host_header[k:]:
        return host_header
    return host


def _unmap(ip: IPAddress) -> IPAddress:
    # Go's IsLoopback and IsPrivate look through an IPv4-mapped IPv6 address; IsUnspecified does not.
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _ip_allowed(ip: IPAddress) -> bool:
    plain = _unmap(ip)
    loopback = int(plain) >> 24 == 127 if isinstance(plain, IPv4Address) else int(plain) == 1
    private = any(plain in net for net in _PRIVATE)
    unspecified = ip in (IPv4Address(0), IPv6Address(0))
    # isLocalIP compares Go's strings, so a zoned or IPv4-mapped spelling never matches; equality here agrees.
    return loopback or private or unspecified or ip in interface_addresses()


def _name_allowed(host: str, hostname: str) -> bool:
    host = host.lower()
    return host in ("", "localhost", hostname.lower()) or host.endswith(_SUFFIXES)


def host_allowed(host_header: str, hostname: str) -> bool:
    """Whether a request with this ``Host`` passes the check on a loopback listener."""
    host = split_host(host_header)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return _name_allowed(host, hostname)
    return _ip_allowed(ip) or _name_allowed(host, hostname)


class _IfAddrs(ctypes.Structure):
    pass


_IfAddrs._fields_ = [
    ("ifa_next", ctypes.POINTER(_IfAddrs)),
    ("ifa_name", ctypes.c_char_p),
    ("ifa_flags", ctypes.c_uint),
    ("ifa_addr", ctypes.c_void_p),
    ("ifa_netmask", ctypes.c_void_p),
    ("ifa_ifu", ctypes.c_void_p),
    ("ifa_data", ctypes.c_void_p),
]


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if sys.platform == "win32":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.getifaddrs.argtypes = [ctypes.POINTER(ctypes.POINTER(_IfAddrs))]
        libc.getifaddrs.restype = ctypes.c_int
        libc.freeifaddrs.argtypes = [ctypes.POINTER(_IfAddrs)]
        libc.freeifaddrs.restype = None
    except (OSError, AttributeError):
        return None
    return libc


def interface_addresses() -> set[IPAddress]:
    """The IPv4 and IPv6 addresses of this machine's interfaces (``getifaddrs``), as Go's ``net.Interfaces`` lists
    them; empty where ``getifaddrs`` is missing (Windows).

    Read on every call, as Ollama does, because addresses come and go while the server runs.
    """
    libc = _libc()
    head = ctypes.POINTER(_IfAddrs)()
    if libc is None or libc.getifaddrs(ctypes.byref(head)) != 0:
        return set()
    # BSD sockaddrs start with a length byte and a one-byte family; Linux's with a native two-byte family.
    bsd = sys.platform == "darwin" or "bsd" in sys.platform
    found: set[IPAddress] = set()
    try:
        node = head
        while node:
            sa = node.contents.ifa_addr
            if sa:
                raw = ctypes.string_at(sa, 2)
                family = raw[1] if bsd else int.from_bytes(raw, sys.byteorder)
                if family == socket.AF_INET:
                    found.add(IPv4Address(ctypes.string_at(sa + 4, 4)))
                elif family == socket.AF_INET6:
                    found.add(IPv6Address(ctypes.string_at(sa + 8, 16)))
            node = node.contents.ifa_next
    finally:
        libc.freeifaddrs(head)
    return found


async def _empty(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


class AllowedHostsMiddleware:
    def __init__(self, app: ASGIApp, listen_host: str) -> None:
        self.app = app
        self.enabled = _listener_is_loopback(listen_host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = split_host(next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), ""))
        try:
            ip_ok = _ip_allowed(ipaddress.ip_address(host))
        except ValueError:
            ip_ok = False
        if ip_ok:
            await self.app(scope, receive, send)
        elif not _name_allowed(host, socket.gethostname()):
            # Go's server gives an empty response that nothing wrote to a Content-Length of 0.
            await _empty(send, 403, [(b"content-length", b"0")])
        elif scope["method"] == "OPTIONS":
            await _empty(send, 204, [])
        else:
            await self.app(scope, receive, send)
