"""The ed25519 identity: key files as Ollama writes them, and ``auth.Sign``'s output format."""

from __future__ import annotations

import base64
import stat
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pollama.registry import identity
from pollama.registry.auth import EMPTY_BODY_DIGEST

SEED = bytes(range(32))
PAYLOAD = (
    "GET,https://ollama.com/token?nonce=abc&scope=repository%3Alibrary%2Fm%3Apull&service=ollama.com&ts=1700000000,"
    + EMPTY_BODY_DIGEST
).encode()
# ed25519 is deterministic: this is what Ollama's auth.Sign returns for the same key and bytes.
EXPECTED = (
    "AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4:"
    "KsTdb0OpS9J1TFsuLp9B1XFE0PZgm9wJjgqkIKBpuYKOggJoEoYCEKm6fermZtHglMqYm4sgsn3i/emvLVqTCg=="
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_empty_body_digest_is_base64_of_hex_sha256_of_nothing() -> None:
    assert base64.b64decode(EMPTY_BODY_DIGEST) == b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_ensure_key_creates_openssh_key_pair_under_home(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = identity.ensure_key()
    assert path == home / ".ollama" / "id_ed25519"
    out = capsys.readouterr().out
    assert f"Couldn't find '{path}'. Generating new private key." in out
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = serialization.load_ssh_private_key(data, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    pub = (home / ".ollama" / "id_ed25519.pub").read_text()
    assert pub == identity.authorized_key(key) + "\n"
    assert pub.startswith("ssh-ed25519 AAAA") and pub.count(" ") == 1
    assert pub.split()[1] in out  # the new public key is shown to the user


def test_ensure_key_keeps_an_existing_key(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = identity.ensure_key().read_bytes()
    capsys.readouterr()
    identity.ensure_key()
    assert identity.private_key_path().read_bytes() == first
    assert capsys.readouterr().out == ""


def test_sign_matches_ollama_format_and_vector(home: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    path = home / ".ollama" / "id_ed25519"
    path.parent.mkdir()
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    signature = identity.sign(PAYLOAD)  # reads the key from $HOME like Ollama
    assert signature == EXPECTED
    pub_b64, sig_b64 = signature.split(":")
    blob = base64.b64decode(pub_b64)
    # SSH wire format: string "ssh-ed25519", string <32-byte key>.
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert blob == struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + raw
    Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(sig_b64), PAYLOAD)


def test_sign_without_key_is_an_identity_error(home: Path) -> None:
    with pytest.raises(identity.IdentityError, match="id_ed25519"):
        identity.sign(b"x")
