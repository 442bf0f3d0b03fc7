"""When the head revision's discovery is the base revision's: a change that touches no file discovery
reads cannot change which apps exist, where they are defined, or what their parents render.

Discovery reads the Argo CD documents and CRDs of the whole tree, the kustomization graphs and charts
of every app (to find app-of-apps parents), the inputs of the parents it renders, and, for
ApplicationSet git generators, the tree's listing. So the head's discovery is the base's when:

- the base has no ApplicationSet (a git generator sees added directories, whatever they hold);
- no changed file, at base or at head, mentions `argoproj.io`, `CustomResourceDefinition` or
  `kind: Application`, and none is a kustomization, a `*Chart.yaml` or a symlink;
- no changed file is an input of an app-of-apps parent, and no parent's render depends on the revision
  (`$ARGOCD_APP_REVISION` in its options, or a parameter override file in its source).

The head's selection index is then the base's too: inputs come from the app definitions, the
kustomization files (unchanged) and paths; an app whose kustomization names a missing file is always
rendered (selection), so a file appearing at head cannot go unnoticed.

Anything else (or more than `MAX_PATHS` changed files) means a full discovery of the head.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import proc
from ..errors import ToolError
from ..records import Discovery
from ..rendering.kustomize_graph import KUSTOMIZATION_NAMES
from ..selection import InputIndex, Inputs
from ..trees import GIT_TIMEOUT, SYMLINK_MODE, TreeContent

MAX_PATHS = 500
# What discovery looks for in a file (scan.py, graph.py), as one extended regular expression for git grep.
_DISCOVERY_PATTERNS = (
    r"argoproj\.io",
    "CustomResourceDefinition",
    r"kind[\"']?[[:space:]]*:[[:space:]]*[\"']?Application",
)


def _mentions_discovery(top: Path, shas: Sequence[str], subdir: str, paths: Sequence[str]) -> list[str]:
    """The paths among `paths` whose content at one of `shas` matches a discovery pattern, those of the
    first commit first (one git grep over every commit: no checkout)."""
    prefix = f"{subdir}/" if subdir else ""
    argv = ["git", "grep", "-l", "-E", *(a for p in _DISCOVERY_PATTERNS for a in ("-e", p)), *shas, "--"]
    argv += [f":(literal){prefix}{p}" for p in paths]
    done = proc.run(argv, cwd=top, timeout=GIT_TIMEOUT, env=proc.scrubbed_env(), allowed=(0, 1))
    hits: dict[str, list[str]] = {sha: [] for sha in shas}
    unexpected = []  # a line not of the form `<sha>:<path>` still means a match: never dropped
    for line in done.stdout.splitlines():
        sha, colon, path = line.partition(":")  # a SHA holds no colon
        if colon and sha in hits:
            hits[sha].append(path)
        elif line:
            unexpected.append(line)
    return [*unexpected, *(path for sha in shas for path in hits[sha])]


def head_discovery_needed(
    *,
    top: Path,
    subdir: str,
    base_sha: str,
    head_sha: str,
    changed: Sequence[str],
    base_content: TreeContent,
    head_content: TreeContent,
    base_index: InputIndex,
    parents: dict[str, str],
    has_appsets: bool,
) -> str | None:
    """None when the head's discovery is the base's, else why the head must be discovered afresh.

    `parents`: the apps discovery rendered (app id -> its Application manifest as JSON)."""
    if has_appsets:
        return "the base revision has ApplicationSets"
    if len(changed) > MAX_PATHS:
        return f"more than {MAX_PATHS} files changed"
    for path in changed:
        name = posixpath.basename(path)
        if name in KUSTOMIZATION_NAMES or name.endswith("Chart.yaml"):
            return f"{path} is a kustomization or a chart"
        for content in (base_content, head_content):
            found = content.file(path)
            if found is not None and found[0] == SYMLINK_MODE:
                return f"{path} is a symlink"
    readers = base_index.readers(changed)
    for app_id in parents:
        if app_id in readers:
            return f"{readers[app_id][0]} is read by the app-of-apps parent {app_id}"
    why = revision_dependence(parents, base_index.inputs, base_content)
    if why:
        return why
    try:
        hits = _mentions_discovery(top, [base_sha, head_sha], subdir, changed)
        if hits:
            return f"{hits[0]} holds Argo CD documents or CRDs"
    except ToolError as exc:
        return f"cannot read the changed files: {exc}"
    return None


def revision_dependence(parents: Mapping[str, str], inputs: Mapping[str, Inputs], content: TreeContent) -> str | None:
    """Why the renders of the app-of-apps parents (and so the child apps they yield) may depend on the
    commit, not only on the tree: `$ARGOCD_APP_REVISION` in a parent's options, or a parameter override
    file in its source (its values may use the variable); a parent whose inputs are not all known may
    hold one. None when they depend on the tree alone.

    `parents`: app id -> Application manifest as JSON (`parent_manifests`); `inputs`: the revision's
    selection inputs; `content`: its files."""
    for app_id, manifest in parents.items():
        found = inputs.get(app_id)
        if "ARGOCD_APP_REVISION" in manifest:
            return f"the parent {app_id} uses the revision in its options"
        if found is None or not found.certain:
            return f"the inputs of the parent {app_id} are not all known"
        directories = [p for d in found.directories for p, _, _ in content.under(d)]
        if any(posixpath.basename(p).startswith(".argocd-source") for p in [*directories, *found.files]):
            return f"the parent {app_id} has a parameter override file"
    return None


def parent_manifests(discovery: Discovery) -> dict[str, str]:
    """app id -> Application manifest as JSON, for the apps discovery rendered."""
    return {a.id: json.dumps(a.manifest, default=str) for a in discovery.apps if a.id in discovery.renders}
