"""The on-disk model store: manifests under ``manifests/``, name resolution, listing, writing and deleting.

Layout is Ollama's (``manifest/paths.go``): ``<root>/manifests/<host>/<namespace>/<model>/<tag>`` and
``<root>/blobs/sha256-<hex>``. A directory written by Ollama works here unchanged and vice versa. Nothing is
cached between calls: other processes (Ollama itself, a second server, ``cp``) may change the store at any time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pollama.store.blobs import Blobs, is_valid_digest
from pollama.store.manifest import (
    MEDIA_TYPE_ADAPTER,
    MEDIA_TYPE_DRAFT,
    MEDIA_TYPE_LICENSE,
    MEDIA_TYPE_MESSAGES,
    MEDIA_TYPE_MODEL,
    MEDIA_TYPE_PARAMS,
    MEDIA_TYPE_PROJECTOR,
    MEDIA_TYPE_PROMPT,
    MEDIA_TYPE_SYSTEM,
    MEDIA_TYPE_TEMPLATE,
    Manifest,
    ManifestError,
)
from pollama.store.model import Model, ModelConfig
from pollama.store.names import InvalidNameError, Name

log = logging.getLogger("pollama.store")

# Blobs younger than this may belong to a pull or create whose manifest is not written yet (layerPruneGracePeriod).
PRUNE_GRACE_SECONDS = 3600.0


class Store:
    """A model store rooted at ``root`` (``OLLAMA_MODELS``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.manifests_dir = self.root / "manifests"
        self.blobs = Blobs(self.root / "blobs")

    # ---- names and manifests -------------------------------------------------------------------------

    def manifest_path(self, name: Name) -> Path:
        return self.manifests_dir / name.manifest_relpath()

    def manifests(self, *, continue_on_error: bool = True) -> dict[Name, Manifest]:
        """Every manifest, like Ollama's ``Manifests``: exactly 4 levels deep, invalid names skipped.

        With ``continue_on_error=False`` an unreadable or corrupt manifest raises ManifestError.
        """
        found: dict[Name, Manifest] = {}
        if not self.manifests_dir.is_dir():
            return found
        for path in sorted(self.manifests_dir.glob("*/*/*/*")):
            if path.is_dir():
                continue
            name = Name.from_manifest_path(path.relative_to(self.manifests_dir))
            try:
                if name is None:
                    raise ManifestError(f"{path}: bad manifest name")
                found[name] = Manifest.from_bytes(path.read_bytes())
            except (OSError, ManifestError) as e:
                if not continue_on_error:
                    raise ManifestError(f"{path}: {e}") from e
                log.warning("bad manifest %s: %s", path, e)
        return found

    def existing_name(self, name: Name) -> Name:
        """Canonicalise ``name``'s case against names in the store (Ollama's ``getExistingName``).

        A manifest matching all four parts case-insensitively wins; otherwise each part independently takes
        the spelling of any manifest with an equal-folded part, as Ollama does.
        """
        existing = self._manifest_names()
        for e in existing:
            if e.equal_fold(name):
                return Name(e.host, e.namespace, e.model, e.tag, name.scheme)
        host, namespace, model, tag = name.host, name.namespace, name.model, name.tag
        for e in existing:
            host = e.host if e.host.lower() == name.host.lower() else host
            namespace = e.namespace if e.namespace.lower() == name.namespace.lower() else namespace
            model = e.model if e.model.lower() == name.model.lower() else model
            tag = e.tag if e.tag.lower() == name.tag.lower() else tag
        return Name(host, namespace, model, tag, name.scheme)

    def parse(self, name: str) -> Name:
        """Parse a user-supplied name with defaults; InvalidNameError when invalid."""
        n = Name.parse(name)
        if not n.is_valid():
            raise InvalidNameError(name)
        return n

    def resolve(self, name: str | Name) -> Model | None:
        """The model a request names (defaults filled, case-insensitive), or None if it is not in the store."""
        n = self.parse(name) if isinstance(name, str) else name
        if not n.is_valid():
            raise InvalidNameError(str(n))
        return self.load(self.existing_name(n))

    def load(self, name: Name) -> Model | None:
        """The model stored under exactly ``name``, or None when no such manifest exists."""
        path = self.manifest_path(name)
        try:
            raw = path.read_bytes()
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        return self._build_model(name, Manifest.from_bytes(raw), st.st_mtime)

    def list_models(self) -> list[Model]:
        """All loadable models, most recently modified first (``/api/tags``); broken ones are logged and skipped."""
        models: list[Model] = []
        for name in self._manifest_names():
            try:
                m = self.load(name)
            except (OSError, ValueError) as e:
                log.warning("failed to load model %s: %s", name, e)
                continue
            if m is not None:
                models.append(m)
        models.sort(key=lambda m: m.modified_at, reverse=True)
        return models

    def write_manifest(self, name: Name | str, manifest: Manifest) -> Path:
        """Write ``manifest`` for ``name`` atomically (temp file + rename); returns its path."""
        n = self.parse(name) if isinstance(name, str) else name
        path = self.manifest_path(n)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, manifest.to_bytes(), tmp_dir=self.manifests_dir)
        return path

    def copy(self, src: Name, dst: Name) -> None:
        """``CopyModel``: only the manifest bytes are copied; blobs are shared."""
        data = self.manifest_path(src).read_bytes()
        dest = self.manifest_path(dst)
        dest.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(dest, data, tmp_dir=self.manifests_dir)

    def delete(self, name: Name) -> bool:
        """Remove ``name``'s manifest, empty manifest dirs, and its blobs no other manifest uses.

        Returns False if there was no such manifest. Not affected by OLLAMA_NOPRUNE, as in Ollama.
        """
        path = self.manifest_path(name)
        try:
            manifest = Manifest.from_bytes(path.read_bytes())
        except FileNotFoundError:
            return False
        path.unlink()
        _prune_empty_dirs(self.manifests_dir, keep_root=True)
        in_use: set[str] = set()
        for other in self.manifests(continue_on_error=True).values():
            in_use |= other.digests()
        for digest in manifest.digests() - in_use:
            with contextlib.suppress(ValueError):
                self.blobs.remove(digest)
        return True

    # ---- startup maintenance -------------------------------------------------------------------------

    def fix_blobs(self) -> None:
        self.blobs.fix_names()

    def prune(self, *, now: float | None = None) -> list[str]:
        """Startup prune (Ollama's ``PruneLayers`` + ``PruneDirectory``); returns the removed blob file names.

        Skipped entirely if any manifest is corrupt (so a bad manifest never costs its blobs). Otherwise removes
        blob files older than the grace period that no manifest references, stale files whose names are not
        digests (partial downloads, crashed temp files), and empty directories under ``manifests/``.
        """
        try:
            manifests = self.manifests(continue_on_error=False)
        except ManifestError as e:
            log.warning("corrupt manifests detected, skipping prune operation. Re-pull or delete to clear: %s", e)
            return []
        in_use: set[str] = set()
        for m in manifests.values():
            in_use |= {d.replace(":", "-") for d in m.digests()}
        cutoff = (time.time() if now is None else now) - PRUNE_GRACE_SECONDS
        removed: list[str] = []
        if self.blobs.dir.is_dir():
            for entry in os.scandir(self.blobs.dir):
                if not entry.is_file(follow_symlinks=False):
                    continue
                try:
                    if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                        continue
                except FileNotFoundError:
                    continue
                if is_valid_digest(entry.name.replace("-", ":")) and entry.name in in_use:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(entry.name)
        if self.manifests_dir.is_dir():
            _prune_empty_dirs(self.manifests_dir, keep_root=False)
        log.info("total unused blobs removed: %d", len(removed))
        return removed

    def startup(self, *, noprune: bool) -> None:
        """What ``ollama serve`` does to the store before listening: fix blob names, then prune unless disabled."""
        self.fix_blobs()
        if not noprune:
            self.prune()

    # ---- internals -----------------------------------------------------------------------------------

    def _manifest_names(self) -> list[Name]:
        if not self.manifests_dir.is_dir():
            return []
        names = []
        for path in sorted(self.manifests_dir.glob("*/*/*/*")):
            n = Name.from_manifest_path(path.relative_to(self.manifests_dir))
            if n is not None and path.is_file():
                names.append(n)
        return names

    def _build_model(self, name: Name, manifest: Manifest, mtime: float) -> Model:
        config = ModelConfig()
        if manifest.config.digest:
            config = ModelConfig.from_json(json.loads(self.blobs.path(manifest.config.digest).read_bytes()))
        fields: dict[str, Any] = {}
        adapters: list[Path] = []
        projectors: list[Path] = []
        licenses: list[str] = []
        for layer in manifest.layers:
            path = self.blobs.path(layer.digest)
            mt = layer.media_type
            if mt == MEDIA_TYPE_MODEL:
                fields["model_path"] = path
                fields["parent_model"] = layer.from_
            elif mt == MEDIA_TYPE_DRAFT:
                fields["draft_path"] = path
            elif mt == MEDIA_TYPE_ADAPTER:
                adapters.append(path)
            elif mt == MEDIA_TYPE_PROJECTOR:
                projectors.append(path)
            elif mt in (MEDIA_TYPE_TEMPLATE, MEDIA_TYPE_PROMPT):
                fields["template"] = _read_text(path)
            elif mt == MEDIA_TYPE_SYSTEM:
                fields["system"] = _read_text(path)
            elif mt == MEDIA_TYPE_PARAMS:
                params = json.loads(path.read_bytes())
                fields["params"] = params if isinstance(params, dict) else {}
            elif mt == MEDIA_TYPE_MESSAGES:
                msgs = json.loads(path.read_bytes())
                fields["messages"] = [
                    {"role": m.get("role", ""), "content": m.get("content", "")}
                    for m in (msgs if isinstance(msgs, list) else [])
                    if isinstance(m, dict)
                ]
            elif mt == MEDIA_TYPE_LICENSE:
                licenses.append(_read_text(path))
        return Model(
            name=name,
            manifest=manifest,
            modified_at=datetime.fromtimestamp(mtime, tz=UTC),
            config=config,
            adapter_paths=tuple(adapters),
            projector_paths=tuple(projectors),
            license=licenses,
            **fields,
        )


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _atomic_write(path: Path, data: bytes, *, tmp_dir: Path) -> None:
    # The temp file lives directly in manifests/ (same filesystem, so the rename is atomic) where the
    # 4-level manifest glob never sees it: a crash can't leave something that looks like a corrupt manifest.
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _prune_empty_dirs(path: Path, *, keep_root: bool) -> None:
    """``PruneDirectory``: remove empty directories bottom-up (symlinks are left alone)."""
    if path.is_symlink() or not path.is_dir():
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            _prune_empty_dirs(child, keep_root=False)
    if not keep_root:
        with contextlib.suppress(OSError):
            path.rmdir()  # fails (harmlessly) when not empty
