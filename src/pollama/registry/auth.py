"""Bearer-token authentication against a registry (``server/auth.go``, ``parseRegistryChallenge``).

On a 401 the registry names a token endpoint in ``WWW-Authenticate``. Ollama fetches a token there with a
request signed by the user's ed25519 key; the bytes signed and the URL shape (Go's sorted, ``QueryEscape``-d
query with ``ts`` and ``nonce``) must match Ollama's exactly, because ollama.com verifies the signature over
the URL it receives.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote_plus, urlsplit, urlunsplit

import httpx

from pollama.registry import identity

# base64(hex(sha256(""))): the token request has no body, and Ollama signs the digest of that empty body.
EMPTY_BODY_DIGEST = base64.b64encode(hashlib.sha256(b"").hexdigest().encode()).decode()


class TokenError(Exception):
    """The token endpoint refused us or answered something unusable."""


@dataclass(frozen=True)
class Challenge:
    realm: str
    service: str
    scope: str


def _get_value(header: str, key: str) -> str:
    # Ollama's getValue, quirks included: the first "key=" anywhere, value runs from after the opening quote
    # to a quote followed by a comma (or the end), so quotes inside a value survive.
    start = header.find(key + "=")
    if start < 0:
        return ""
    start += len(key) + 2
    end = start
    while end < len(header):
        if header[end] == '"':
            if end + 1 < len(header) and header[end + 1] != ",":
                end += 1
                continue
            break
        end += 1
    return header[start:end]


def parse_challenge(header: str) -> Challenge:
    """``parseRegistryChallenge`` of a ``WWW-Authenticate: Bearer realm="…",service="…",scope="…"`` value."""
    header = header.removeprefix("Bearer ")
    return Challenge(_get_value(header, "realm"), _get_value(header, "service"), _get_value(header, "scope"))


def go_query_encode(pairs: list[tuple[str, str]]) -> str:
    """Go's ``url.Values.Encode``: keys sorted (stable within a key), ``QueryEscape``-d, ``&``-joined."""
    order = sorted(range(len(pairs)), key=lambda i: (pairs[i][0], i))
    return "&".join(f"{quote_plus(pairs[i][0], safe='')}={quote_plus(pairs[i][1], safe='')}" for i in order)


def new_nonce(length: int = 16) -> str:
    """``auth.NewNonce``: random bytes, unpadded base64url."""
    return base64.urlsafe_b64encode(os.urandom(length)).rstrip(b"=").decode()


def token_url(challenge: Challenge, *, now: int | None = None, nonce: str | None = None) -> str:
    """``registryChallenge.URL``: the realm with service, each scope, ts and nonce added to its query."""
    parts = urlsplit(challenge.realm)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    pairs.append(("service", challenge.service))
    pairs.extend(("scope", s) for s in challenge.scope.split(" "))
    pairs.append(("ts", str(int(time.time()) if now is None else now)))
    pairs.append(("nonce", new_nonce() if nonce is None else nonce))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, go_query_encode(pairs), parts.fragment))


def signing_payload(url: str) -> bytes:
    """The bytes Ollama signs for a token request: ``GET,<url>,<base64(hex(sha256("")))>``."""
    return f"GET,{url},{EMPTY_BODY_DIGEST}".encode()


async def fetch_token(
    http: httpx.AsyncClient,
    challenge: Challenge,
    original_host: str,
    headers: dict[str, str],
    signer: Callable[[bytes], str] = identity.sign,
) -> str:
    """``getAuthorizationToken``: a signed GET to the realm; returns the token."""
    url = token_url(challenge)
    host = urlsplit(url).netloc
    # Never send a signed request (or later the token) to a host other than the registry's.
    if host != original_host:
        raise TokenError(f'realm host "{host}" does not match original host "{original_host}"')
    try:
        authorization = signer(signing_payload(url))
    except identity.IdentityError as e:
        raise TokenError(str(e)) from e
    resp = await http.get(url, headers={**headers, "Authorization": authorization})
    body = resp.content
    if resp.status_code >= 400:
        raise TokenError(f"{resp.status_code}: {body.decode(errors='replace')}" if body else str(resp.status_code))
    try:
        token = json.loads(body).get("token", "")
    except (ValueError, AttributeError) as e:
        raise TokenError(f"invalid token response: {e}") from e
    return token if isinstance(token, str) else ""
