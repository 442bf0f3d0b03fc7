"""Which `repoURL`s mean "this config repo", and what kind of source the others are."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

_SCP = re.compile(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$")


@functools.lru_cache(maxsize=4096)  # a large repo names the same few URLs in thousands of Applications
def normalise_repo_url(url: str) -> str:
    """A comparable form of a Git URL: host/path, lower case, no scheme, user, `.git` or trailing slash.

    `https://github.com/Org/Repo.git`, `git@github.com:org/repo` and `ssh://git@github.com/org/repo/`
    all become `github.com/org/repo` (as Argo CD's `git.NormalizeGitURL` treats them as one repo).
    """
    text = url.strip()
    scp = _SCP.match(text)
    if scp and "://" not in text:
        host, path = scp.group(1), scp.group(2)
    else:
        text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text, flags=re.I)
        text = text.split("@", 1)[1] if "@" in text.split("/", 1)[0] else text
        host, _, path = text.partition("/")
        host = re.sub(r":\d+$", "", host) if not host.endswith("]") else host
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    return f"{host}/{path}".lower().rstrip("/")


@dataclass(frozen=True, slots=True)
class RepoIdentity:
    """The set of URLs that name the config repo under review."""

    urls: frozenset[str]

    @classmethod
    def of(cls, urls: Iterable[str]) -> RepoIdentity:
        return cls(frozenset(normalise_repo_url(u) for u in urls if u and u.strip()))

    def is_this_repo(self, url: str) -> bool:
        return bool(url) and normalise_repo_url(url) in self.urls


def is_placeholder(repo_url: str) -> bool:
    """An empty repoURL, or one still holding a parameter (`${GIT_REPO}`, `{{repo}}`) that a bootstrap
    script, a parent's patch or a generator was meant to fill."""
    return not repo_url.strip() or "${" in repo_url or "{{" in repo_url


def source_origin(repo_url: str, chart: str | None, identity: RepoIdentity) -> str:
    """`repo` (renderable from the tree), `chart` (Helm repository or OCI registry), `external` (another
    Git repository) or `unresolved` (no usable repoURL: empty or an unfilled placeholder)."""
    if identity.is_this_repo(repo_url):
        return "repo"
    if is_placeholder(repo_url):
        return "unresolved"
    if chart:
        return "chart"
    if repo_url.startswith("oci://"):
        return "chart"
    return "external"
