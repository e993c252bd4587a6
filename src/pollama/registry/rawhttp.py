"""A bare HTTP/1.1 GET whose body goes straight into a file at an offset, for the bytes of a blob part.

httpx costs Python work per read and copies every chunk into a new ``bytes``; for a blob that is the whole
budget on a fast link. This sends one ``GET`` on its own connection (TLS through the registry client's SSL
context for ``https``), parses the status line and headers, and moves the body with ``splice(2)`` (plain
sockets on Linux: socket → pipe → file, no copy through Python) or ``recv_into`` a preallocated buffer and
``pwrite``. It runs in a thread (both release the GIL). Everything else (manifests, HEAD, redirects, token
auth, proxies) stays with httpx; a response this doesn't handle (chunked, compressed) is
:class:`Unsupported` and the caller falls back to httpx.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
BUFFER = 1 << 20
_PIPE_SIZE = 1 << 20
_HAVE_SPLICE = sys.platform == "linux" and hasattr(os, "splice")


class HTTPError(Exception):
    """The connection failed, stalled or ended early; the caller may retry."""


class Timeout(HTTPError):
    pass


class Unsupported(Exception):
    """A response this module doesn't decode (e.g. chunked); use the general client."""


class Aborted(Exception):
    pass


@dataclass
class Head:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class RangeGet:
    """One ``GET url`` with ``headers`` (``Host`` and ``Connection: close`` are added)."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        *,
        timeout: float,
        ssl_context: ssl.SSLContext | None,
        use_splice: bool = True,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unsupported(f"unsupported URL {url}")
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.netloc = parts.netloc.rpartition("@")[2]
        self.headers = headers
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.use_splice = use_splice and _HAVE_SPLICE and not self.tls
        self.sock: socket.socket | None = None
        self.leftover = b""
        self._aborted = threading.Event()
        self._lock = threading.Lock()

    # ---- control from other threads --------------------------------------------------------------------

    def abort(self) -> None:
        """Stop the transfer from another thread: the blocked call returns and :class:`Aborted` is raised."""
        self._aborted.set()
        with self._lock:
            if self.sock is not None:
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            if self.sock is not None:
                with contextlib.suppress(OSError):
                    self.sock.close()
                self.sock = None

    def _check(self) -> None:
        if self._aborted.is_set():
            raise Aborted()

    def wait(self, gate: threading.Event) -> None:
        """Block until ``gate`` is set (the response stays unread meanwhile) or the transfer is aborted."""
        while not gate.wait(0.05):
            self._check()
        self._check()

    # ---- request and head ------------------------------------------------------------------------------

    def open(self) -> Head:
        try:
            return self._open()
        except TimeoutError as e:
            self._check()
            raise Timeout(f"GET {self.host}: timed out") from e
        except (OSError, ssl.SSLError) as e:
            self._check()
            raise HTTPError(f"GET {self.host}: {e}") from e

    def _open(self) -> Head:
        self._check()
        raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
        with self._lock:
            self.sock = raw
        if self._aborted.is_set():
            raise Aborted()
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            assert self.ssl_context is not None
            sock: socket.socket = self.ssl_context.wrap_socket(raw, server_hostname=self.host)
            with self._lock:
                self.sock = sock
        else:
            sock = raw
        lines = [f"GET {self.target} HTTP/1.1", f"Host: {self.netloc}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items() if k.lower() not in ("host", "connection")]
        lines += ["Accept-Encoding: identity", "Connection: close", "", ""]
        sock.sendall("\r\n".join(lines).encode("latin-1"))
        while True:
            head = self._read_head(sock)
            if not 100 <= head.status < 200:
                return head

    def _read_head(self, sock: socket.socket) -> Head:
        data = self.leftover
        while (end := data.find(b"\r\n\r\n")) < 0:
            if len(data) > MAX_HEAD:
                raise HTTPError("response header too large")
            chunk = sock.recv(65536)
            self._check()
            if not chunk:
                raise HTTPError("connection closed before the response header")
            data += chunk
        self.leftover = data[end + 4 :]
        status_line, *header_lines = data[:end].decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1."):
            raise HTTPError(f"bad status line {status_line!r}")
        try:
            status = int(rest[:3])
        except ValueError:
            raise HTTPError(f"bad status line {status_line!r}") from None
        headers: dict[str, str] = {}
        for line in header_lines:
            k, sep, v = line.partition(":")
            if not sep:
                continue
            k = k.strip().lower()
            headers[k] = f"{headers[k]}, {v.strip()}" if k in headers else v.strip()
        return Head(status, headers)

    def body_length(self, head: Head) -> int:
        """The body's size; raises :class:`Unsupported` for framing this module doesn't decode."""
        te = head.headers.get("transfer-encoding", "").lower()
        ce = head.headers.get("content-encoding", "identity").lower()
        if (te and te != "identity") or ce not in ("", "identity"):
            raise Unsupported(f"transfer-encoding {te!r}, content-encoding {ce!r}")
        try:
            return int(head.headers["content-length"])
        except (KeyError, ValueError):
            raise Unsupported("no content-length") from None

    def read_some(self, limit: int) -> bytes:
        """Up to ``limit`` bytes of the body (for error messages)."""
        assert self.sock is not None
        data = self.leftover
        with contextlib.suppress(OSError):
            while len(data) < limit and (chunk := self.sock.recv(limit - len(data))):
                data += chunk
        return data[:limit]

    # ---- the body --------------------------------------------------------------------------------------

    def copy_body(self, fd: int, pos: int, length: int, written: Callable[[int], None]) -> None:
        """Write the next ``length`` body bytes to ``fd`` from ``pos``; ``written(n)`` after each ``n`` on disk.

        Network failures raise :class:`HTTPError` (:class:`Timeout` for a stall), disk failures ``OSError``;
        either way the bytes already received are on disk and reported first.
        """
        if self.leftover:
            data = self.leftover[:length]
            self.leftover = self.leftover[len(data) :]
            _pwrite_all(fd, data, pos)
            pos += len(data)
            length -= len(data)
            written(len(data))
        if length > 0:
            if self.use_splice:
                self._splice_body(fd, pos, length, written)
            else:
                self._recv_body(fd, pos, length, written)

    def _net_error(self, e: OSError) -> HTTPError:
        self._check()
        if isinstance(e, TimeoutError):
            return Timeout("read timed out")
        return HTTPError(str(e) or type(e).__name__)

    def _recv_body(self, fd: int, pos: int, length: int, written: Callable[[int], None]) -> None:
        sock = self.sock
        assert sock is not None
        buf = bytearray(min(BUFFER, length))
        view = memoryview(buf)
        while length > 0:
            want = min(len(buf), length)
            filled = 0
            try:
                while filled < want:
                    try:
                        n = sock.recv_into(view[filled:want])
                    except OSError as e:
                        raise self._net_error(e) from e
                    if n == 0:
                        self._check()
                        raise HTTPError("connection closed before the end of the body")
                    filled += n
            finally:
                if filled and not self._aborted.is_set():
                    _pwrite_all(fd, view[:filled], pos)
                    pos += filled
                    length -= filled
                    written(filled)
            self._check()

    def _splice_body(self, fd: int, pos: int, length: int, written: Callable[[int], None]) -> None:
        """socket → pipe → file. The pipe is filled to capacity (or the end of the body) before it is drained,
        so a checkpoint covers up to a pipe's worth of data rather than each few kilobytes the socket had."""
        import fcntl

        sock = self.sock
        assert sock is not None
        sfd = sock.fileno()
        r, w = os.pipe()
        try:
            with contextlib.suppress(OSError):
                fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
            capacity = fcntl.fcntl(w, fcntl.F_GETPIPE_SZ)
            poller = select.poll()
            poller.register(sfd, select.POLLIN)
            timeout_ms = int(self.timeout * 1000)
            flags = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
            in_pipe = 0
            try:
                while length > in_pipe:
                    want = min(capacity - in_pipe, length - in_pipe)
                    if want > 0:
                        try:
                            n = os.splice(sfd, w, want, flags=flags)
                        except BlockingIOError:
                            if not poller.poll(timeout_ms):
                                raise self._net_error(TimeoutError()) from None
                            self._check()
                            continue
                        except OSError as e:
                            raise self._net_error(e) from e
                        if n == 0:
                            self._check()
                            raise HTTPError("connection closed before the end of the body")
                        in_pipe += n
                    if in_pipe in (capacity, length):
                        self._check()
                        self._drain(r, fd, pos, in_pipe)
                        pos += in_pipe
                        length -= in_pipe
                        written(in_pipe)
                        in_pipe = 0
            finally:
                if in_pipe and not self._aborted.is_set():  # what arrived before a failure is kept
                    self._drain(r, fd, pos, in_pipe)
                    written(in_pipe)
        finally:
            os.close(r)
            os.close(w)

    @staticmethod
    def _drain(r: int, fd: int, pos: int, n: int) -> None:
        moved = 0
        while moved < n:
            moved += os.splice(r, fd, n - moved, offset_dst=pos + moved)


def _pwrite_all(fd: int, data: bytes | memoryview, pos: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, pos)
        view = view[n:]
        pos += n
