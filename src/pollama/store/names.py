"""Ollama model names: parsing, validation, display and manifest paths (``types/model/name.go``).

A name is ``[scheme://][host/][namespace/]model[:tag]``. Parsing never fails: a separator with an empty side
yields the ``!MISSING!`` marker and anything malformed simply makes :meth:`Name.is_valid` false, exactly as
in Ollama, so callers decide which error message to produce.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePath

MISSING_PART = "!MISSING!"
DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
DEFAULT_SCHEME = "https"

_HOST, _NAMESPACE, _MODEL, _TAG = range(4)
_MAX_LEN = {_HOST: 350, _NAMESPACE: 80, _MODEL: 80, _TAG: 80}


class InvalidNameError(ValueError):
    """A model name that is not valid once merged with the defaults."""

    def __init__(self, name: str) -> None:
        super().__init__(f'name "{name}" is invalid')
        self.name = name


@dataclass(frozen=True)
class Name:
    """A structured model name; not guaranteed valid (see :meth:`is_valid`)."""

    host: str = ""
    namespace: str = ""
    model: str = ""
    tag: str = ""
    scheme: str = ""

    @classmethod
    def parse_bare(cls, s: str) -> Name:
        """``ParseNameBare``: split ``s`` into parts without filling in defaults."""
        host = namespace = tag = scheme = ""
        # "/" is illegal in a tag, so a ":" after the last "/" is the tag separator (not a host port).
        if s.rfind(":") > s.rfind("/"):
            s, tag, _ = _cut_promised(s, ":")
        s, model, promised = _cut_promised(s, "/")
        if not promised:
            return cls(model=s, tag=tag)
        s, namespace, promised = _cut_promised(s, "/")
        if not promised:
            return cls(namespace=s, model=model, tag=tag)
        if "://" in s:
            scheme, host = s.split("://", 1)
        else:
            host = s
        return cls(host=host, namespace=namespace, model=model, tag=tag, scheme=scheme)

    @classmethod
    def parse(cls, s: str) -> Name:
        """``ParseName``: parse and fill missing host, namespace, tag and scheme with Ollama's defaults."""
        return cls.parse_bare(s).merge(DEFAULT_NAME)

    @classmethod
    def from_manifest_path(cls, rel: str | PurePath) -> Name | None:
        """``ParseNameFromFilepath``: ``host/namespace/model/tag`` relative to ``manifests/``, or None."""
        parts = PurePath(rel).parts
        if len(parts) != 4:
            return None
        n = cls(host=parts[0], namespace=parts[1], model=parts[2], tag=parts[3])
        return n if n.is_valid() else None

    def merge(self, defaults: Name) -> Name:
        """Fill each empty host/namespace/tag/scheme part from ``defaults`` (the model is never defaulted)."""
        return replace(
            self,
            host=self.host or defaults.host,
            namespace=self.namespace or defaults.namespace,
            tag=self.tag or defaults.tag,
            scheme=self.scheme or defaults.scheme,
        )

    def is_valid(self) -> bool:
        """All four parts present and well formed (Ollama's ``IsValid``/``IsFullyQualified``)."""
        return all(
            _is_valid_part(kind, part)
            for kind, part in ((_HOST, self.host), (_NAMESPACE, self.namespace), (_MODEL, self.model), (_TAG, self.tag))
        )

    def __str__(self) -> str:
        """``host/namespace/model:tag`` with absent parts (and their separators) left out."""
        out = ""
        if self.host:
            out += self.host + "/"
        if self.namespace:
            out += self.namespace + "/"
        out += self.model
        if self.tag:
            out += ":" + self.tag
        return out

    def display_shortest(self) -> str:
        """The short form Ollama shows: default host and ``library`` namespace dropped, tag always kept."""
        prefix = ""
        if self.host.lower() != DEFAULT_HOST:
            prefix = f"{self.host}/{self.namespace}/"
        elif self.namespace.lower() != DEFAULT_NAMESPACE:
            prefix = f"{self.namespace}/"
        return f"{prefix}{self.model}:{self.tag}"

    def display_namespace_model(self) -> str:
        return f"{self.namespace}/{self.model}"

    def base_url(self) -> str:
        """Registry base URL, ``scheme://host``."""
        return f"{self.scheme or DEFAULT_SCHEME}://{self.host}"

    def manifest_relpath(self) -> PurePath:
        """``host/namespace/model/tag`` under ``manifests/``; only for valid names (parts can't escape the dir)."""
        if not self.is_valid():
            raise InvalidNameError(str(self))
        return PurePath(self.host, self.namespace, self.model, self.tag)

    def equal_fold(self, other: Name) -> bool:
        """Case-insensitive equality of the four parts (scheme ignored)."""
        return self._folded() == other._folded()

    def _folded(self) -> tuple[str, str, str, str]:
        return (self.host.lower(), self.namespace.lower(), self.model.lower(), self.tag.lower())


DEFAULT_NAME = Name(host=DEFAULT_HOST, namespace=DEFAULT_NAMESPACE, tag=DEFAULT_TAG, scheme=DEFAULT_SCHEME)


def parse_name(s: str) -> Name:
    """Shorthand for :meth:`Name.parse`."""
    return Name.parse(s)


def is_valid_namespace(s: str) -> bool:
    return _is_valid_part(_NAMESPACE, s)


def _cut_promised(s: str, sep: str) -> tuple[str, str, bool]:
    # Split at the last ``sep``; an empty side becomes MISSING_PART so the name fails validation later.
    i = s.rfind(sep)
    if i < 0:
        return s, "", False
    return s[:i] or MISSING_PART, s[i + len(sep) :] or MISSING_PART, True


def _is_alnum_underscore(c: str) -> bool:
    return c == "_" or ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9")


def _is_valid_part(kind: int, s: str) -> bool:
    # Go measures length in bytes; any non-ASCII character is invalid anyway, so bytes == chars here.
    if not 1 <= len(s.encode()) <= _MAX_LEN[kind]:
        return False
    if not _is_alnum_underscore(s[0]):
        return False
    for c in s[1:]:
        if c in "_-":
            continue
        if c == ".":
            if kind == _NAMESPACE:
                return False
            continue
        if c == ":":
            if kind != _HOST:
                return False
            continue
        if not _is_alnum_underscore(c):
            return False
    return True
