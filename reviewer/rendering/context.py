"""Everything a render needs besides the app: the tree, the config, the tools, shared caches."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..discovery.repos import RepoIdentity
from ..trees import Checkout, resolved
from ..yamlio import Document
from .dirlocks import DirectoryLocks
from .kustomize_graph import KustomizeGraphs
from .scopes import ScopeTable


@dataclass
class RenderContext:
    """What every render of one revision shares: the checkout, the config, the repo's identity."""

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
    # Kustomize edits are written into the tree, as Argo CD does (shared by copies of this context).
    locks: DirectoryLocks = field(default_factory=DirectoryLocks)
    graphs: KustomizeGraphs = field(init=False)

    def __post_init__(self) -> None:
        self.graphs = KustomizeGraphs(self.locks.reading)

    @property
    def root(self) -> Path:
        """The config repo root in the private tree; reading it checks the revision out if need be."""
        return self.checkout.root

    def rel(self, path: Path) -> str:
        """A path relative to the repo root, for provenance and messages."""
        try:
            rel = resolved(path).relative_to(resolved(self.root)).as_posix()
        except ValueError:
            return str(path)
        return "" if rel == "." else rel
