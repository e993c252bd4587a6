"""CORS as Ollama answers it: the allowed origins, the preflight, and the refusal of any other origin.

Ollama runs gin-contrib/cors v1.7.2 in front of everything else, configured in ``server/routes.go``
(``GenerateRoutes``) with ``envconfig.AllowedOrigins()``. What it does, and so what this middleware does:

- no ``Origin``, or an ``Origin`` that is ``http://`` or ``https://`` plus the ``Host`` header: not a CORS
  request, nothing added;
- an origin that is not allowed: an empty 403, whatever the method, before the Host check and the routes;
- ``OPTIONS`` from an allowed origin (with or without ``Access-Control-Request-Method``): an empty 204 with the
  preflight headers, again before the Host check and the routes;
- any other method from an allowed origin: the request goes on and its response gets ``Vary: Origin`` and
  ``Access-Control-Allow-Origin``, whatever answers it (a route, a 404/405, the Host check's 403).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "User-Agent",
    "Accept",
    "X-Requested-With",
    # OpenAI compatibility headers
    "OpenAI-Beta",
    "x-stainless-arch",
    "x-stainless-async",
    "x-stainless-custom-poll-interval",
    "x-stainless-helper-method",
    "x-stainless-lang",
    "x-stainless-os",
    "x-stainless-package-version",
    "x-stainless-poll-helper",
    "x-stainless-retry-count",
    "x-stainless-runtime",
    "x-stainless-runtime-version",
    "x-stainless-timeout",
)
MAX_AGE = 12 * 60 * 60

# The schemes gin accepts for an origin without a wildcard (AllowBrowserExtensions adds the extensions').
_SCHEMES = (
    "http://",
    "https://",
    "chrome-extension://",
    "safari-extension://",
    "moz-extension://",
    "ms-browser-extension://",
)


def allowed_origins(extra: Iterable[str]) -> list[str]:
    """``envconfig.AllowedOrigins()``: ``OLLAMA_ORIGINS`` first, then Ollama's defaults."""
    origins = list(extra)
    for host in ("localhost", "127.0.0.1", "0.0.0.0"):
        origins += [f"http://{host}", f"https://{host}", f"http://{host}:*", f"https://{host}:*"]
    return [*origins, "app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"]


def _canonical(header: str) -> str:
    """Go's ``http.CanonicalHeaderKey`` for a plain token: ``openai-beta`` -> ``Openai-Beta``."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in header.split("-"))


def _normalize(values: Iterable[str]) -> list[str]:
    """gin-contrib/cors' ``normalize``: trimmed, lower-cased, first occurrence kept."""
    return list(dict.fromkeys(v.strip().lower() for v in values))


_PREFLIGHT_ALLOW = (
    (b"access-control-allow-headers", ",".join(map(_canonical, _normalize(ALLOW_HEADERS))).encode()),
    (b"access-control-allow-methods", ",".join(m.upper() for m in _normalize(ALLOW_METHODS)).encode()),
)


class OriginPolicy:
    """Which origins are allowed, decided as gin-contrib/cors decides it (``validateOrigin``).

    An origin is allowed when the list holds ``*``, when it equals an entry (entries are trimmed and lower-cased,
    the origin is not), or when it matches a wildcard entry: the text before the one ``*`` as a prefix and the text
    after it as a suffix. Raises ``ValueError`` with gin's message where Ollama panics at start-up: an entry without
    ``*`` and without an http(s) or browser-extension scheme, or one with more than one ``*``.
    """

    def __init__(self, origins: Sequence[str]) -> None:
        for origin in origins:
            if "*" not in origin and not origin.startswith(_SCHEMES):
                raise ValueError("bad origin: origins must contain '*' or include " + ",".join(_SCHEMES))
        self.allow_all = "*" in origins
        self.exact = frozenset(_normalize(origins))
        self.wildcards: list[tuple[str, str]] = []
        for origin in origins:
            if "*" in origin:
                if origin.count("*") > 1:
                    raise ValueError("only one * is allowed")
                prefix, _, suffix = origin.partition("*")
                self.wildcards.append((prefix, suffix))

    def allows(self, origin: str) -> bool:
        return (
            self.allow_all
            or origin in self.exact
            or any(origin.startswith(p) and origin.endswith(s) for p, s in self.wildcards)
        )

    def simple_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        """What the response to an allowed non-``OPTIONS`` request gets (sorted by name, as Go writes headers)."""
        if self.allow_all:
            return [(b"access-control-allow-origin", b"*")]
        return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]

    def preflight_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        """The 204 to an ``OPTIONS`` from an allowed origin (sorted by name, as Go writes headers)."""
        headers = [
            *_PREFLIGHT_ALLOW,
            (b"access-control-allow-origin", b"*" if self.allow_all else origin.encode("latin-1")),
            (b"access-control-max-age", str(MAX_AGE).encode()),
        ]
        if not self.allow_all:
            headers += [
                (b"vary", b"Origin"),
                (b"vary", b"Access-Control-Request-Method"),
                (b"vary", b"Access-Control-Request-Headers"),
            ]
        return headers


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), "")


async def _empty(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


class CORSMiddleware:
    """gin-contrib/cors in front of the app; see the module docstring for what it answers."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin, host = _header(scope, b"origin"), _header(scope, b"host")
        if not origin or origin in (f"http://{host}", f"https://{host}"):
            await self.app(scope, receive, send)
            return
        if not self.policy.allows(origin):
            # Go's server gives an empty response that nothing wrote to a Content-Length of 0.
            await _empty(send, 403, [(b"content-length", b"0")])
            return
        if scope["method"] == "OPTIONS":
            await _empty(send, 204, self.policy.preflight_headers(origin))
            return
        extra = self.policy.simple_headers(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*extra, *message.get("headers", [])]}
            await send(message)

        await self.app(scope, receive, send_with_cors)
