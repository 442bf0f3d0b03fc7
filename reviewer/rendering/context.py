"""Everything a render needs besides the app: the tree, the config, the tools, shared caches."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..discovery.repos import RepoIdentity
from ..trees import Checkout, resolved
from ..yamlio import Document
from .kustomize_graph import KustomizeGraphs
from .scopes import ScopeTable


@dataclass
class RenderContext:
    checkout: Checkout  # the config repo at the revision being rendered (checked out when first read)
    revision: str  # its commit SHA
    config: Config
    identity: RepoIdentity
    scopes: ScopeTable
    repo_url: str = ""  # a URL that names this repo, for apps declared in the config
    cache_dir: Path | None = None  # where pulled charts are kept between runs
    offline: bool = False  # refuse every network fetch (chart repositories, dependencies)
    crd_api_versions: tuple[str, ...] = ()  # group/version and group/version/Kind of CRDs in the repo
    escaping_symlinks: tuple[str, ...] = ()  # removed from the tree; an app containing one cannot render
    parsed_yaml: dict[str, list[Document]] = field(default_factory=dict)  # YAML text -> documents (scan)
    # This context's part of every render cache key (rendering.cache), serialised once; not copied by
    # dataclasses.replace, since a copy may change what it describes.
    cache_context: str | None = field(default=None, init=False)
    _locks: dict[str, threading.RLock] = field(default_factory=lambda: defaultdict(threading.RLock))
    _guard: threading.Lock = field(default_factory=threading.Lock)
    graphs: KustomizeGraphs = field(init=False)

    def __post_init__(self) -> None:
        self.graphs = KustomizeGraphs(self.path_lock)

    @property
    def root(self) -> Path:
        """The config repo root in the private tree; reading it checks the revision out if need be."""
        return self.checkout.root

    def path_lock(self, path: Path) -> threading.RLock:
        """A lock per app directory: kustomize edits are written into the tree, as Argo CD does.
        Re-entrant, so a render holding it can still read its own graph."""
        with self._guard:
            return self._locks[str(path)]

    def rel(self, path: Path) -> str:
        """A path relative to the repo root, for provenance and messages."""
        try:
            rel = resolved(path).relative_to(resolved(self.root)).as_posix()
        except ValueError:
            return str(path)
        return "" if rel == "." else rel
