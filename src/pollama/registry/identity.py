"""The user's registry identity: the ed25519 key at ``~/.ollama/id_ed25519`` and request signing with it.

The key files are exactly what Ollama writes (``cmd.initializeKeypair``): an unencrypted OpenSSH private key
and an ``authorized_keys``-style public key line, so an existing Ollama key (and the ollama.com account it is
registered with) keeps working. Signing matches ``auth.Sign``: ``<base64 ssh pubkey blob>:<base64 signature>``.
The location follows ``HOME`` (read on every call) so tests can point it at a temp dir.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

log = logging.getLogger("pollama.registry")

KEY_NAME = "id_ed25519"


class IdentityError(Exception):
    """The private key is missing or not an ed25519 OpenSSH key."""


def key_dir() -> Path:
    # Path.home() reads $HOME first, like Go's os.UserHomeDir.
    return Path.home() / ".ollama"


def private_key_path() -> Path:
    return key_dir() / KEY_NAME


def public_key_path() -> Path:
    return key_dir() / f"{KEY_NAME}.pub"


def ensure_key() -> Path:
    """Create the key pair if the private key is missing (what ``ollama serve`` does first); return its path.

    Prints Ollama's two messages on stdout, so a user sees the new public key to register.
    """
    priv = private_key_path()
    if priv.exists():
        return priv
    print(f"Couldn't find '{priv}'. Generating new private key.", flush=True)
    key = Ed25519PrivateKey.generate()
    priv.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    _write(priv, pem, 0o600)
    pub = authorized_key(key) + "\n"
    _write(public_key_path(), pub.encode(), 0o644)
    print(f"Your new public key is: \n\n{pub}\n", flush=True)
    return priv


def load_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The private key at ``path`` (default ``~/.ollama/id_ed25519``)."""
    path = path or private_key_path()
    try:
        data = path.read_bytes()
    except OSError as e:
        log.info("Failed to load private key: %s", e)
        raise IdentityError(f"open {path}: {e.strerror or e}") from e
    try:
        key = serialization.load_ssh_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise IdentityError(f"ssh: {e}") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise IdentityError("ssh: unsupported key type (want ed25519)")
    return key


def authorized_key(key: Ed25519PrivateKey) -> str:
    """``ssh-ed25519 <base64>`` (``ssh.MarshalAuthorizedKey`` without its newline)."""
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def sign(data: bytes, key: Ed25519PrivateKey | None = None) -> str:
    """``auth.Sign``: ``<base64 public key blob>:<base64 raw ed25519 signature>`` over ``data``."""
    key = key or load_key()
    pub_b64 = authorized_key(key).split(" ")[1]
    return f"{pub_b64}:{base64.b64encode(key.sign(data)).decode()}"


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    with contextlib.suppress(OSError):
        os.chmod(path, mode)
