"""Expanding one ApplicationSet: read its spec, run each generator entry, build the Applications.

Bad input never raises: every problem is a sentence in `errors`, and a generator that cannot run
offline is `Unrendered` (a `matrix`/`merge` containing one is unrendered as a whole).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...config import Cluster
from ...records import Location, Unrendered
from . import cluster_generator, git_generator, list_generator, matrix_generator, merge_generator
from .failures import GeneratorFailure, NotOffline
from .generated_applications import ApplicationBuilder, Pending
from .generation import Generation, Generator
from .templates import TemplateEngine
from .tree_listing import TreeListing

POLICIES = ("sync", "create-only", "create-update", "create-delete")
DEFAULT_POLICY = "sync"
GO_TEMPLATE_OPTIONS = ("missingkey=default", "missingkey=invalid", "missingkey=zero", "missingkey=error")

# The generators that can be expanded offline, by their key in a `generators` entry.
GENERATORS: dict[str, Generator] = {
    "list": list_generator.generate,
    "clusters": cluster_generator.generate,
    "git": git_generator.generate,
    "matrix": matrix_generator.generate,
    "merge": merge_generator.generate,
}


@dataclass(frozen=True, slots=True)
class AppSetExpansion:
    """What an ApplicationSet generates, what could not be generated offline, and what went wrong."""

    applications: tuple[Mapping[str, Any], ...]
    unrendered: tuple[Unrendered, ...]
    errors: tuple[str, ...]
    policy: str
    preserve_resources_on_deletion: bool


def expand_appset(
    appset: Mapping[str, Any],
    *,
    tree_root: Path,
    is_this_repo: Callable[[str], bool],
    clusters: Sequence[Cluster],
    file: str | None = None,
) -> AppSetExpansion:
    """Generate the Application manifests of `appset` as the ApplicationSet controller would.

    `tree_root` holds the config repo at the revision under review; git generators on a repository
    for which `is_this_repo(url)` is true read it (their `revision` is ignored). `clusters` are the
    registered clusters the `clusters` generator sees. `file` is where the AppSet was written, for
    `Unrendered` locations. Never raises for bad input: problems are sentences in `errors`.
    """
    expander = _Expander(appset, tree_root, is_this_repo, tuple(clusters), file)
    try:
        applications = expander.run()
    except Exception as exc:  # a crash must name the AppSet and not stop discovery of the others
        expander.errors.append(f"ApplicationSet {expander.label} could not be expanded: {type(exc).__name__}: {exc}")
        applications = []
    return AppSetExpansion(
        applications=tuple(applications),
        unrendered=tuple(expander.unrendered),
        errors=tuple(expander.errors),
        policy=expander.policy,
        preserve_resources_on_deletion=expander.preserve,
    )


class _Expander:
    def __init__(
        self,
        appset: Mapping[str, Any],
        tree_root: Path,
        is_this_repo: Callable[[str], bool],
        clusters: tuple[Cluster, ...],
        file: str | None,
    ) -> None:
        self.appset = appset if isinstance(appset, Mapping) else {}
        meta = self.appset.get("metadata")
        meta = meta if isinstance(meta, Mapping) else {}
        self.name = str(meta.get("name") or "")
        self.namespace = str(meta.get("namespace") or "")
        self.label = f"{self.namespace}/{self.name}" if self.namespace else (self.name or "(unnamed)")
        self.tree_root = tree_root
        self.is_this_repo = is_this_repo
        self.clusters = clusters
        self.location = Location(file) if file else None
        self.errors: list[str] = []
        self.unrendered: list[Unrendered] = []
        self.policy = DEFAULT_POLICY
        self.preserve = False
        self.go_template = False
        self.missingkey_error = False

    def run(self) -> list[dict[str, Any]]:
        if not isinstance(self.appset, Mapping) or not self.appset:
            self.errors.append("ApplicationSet document is empty or not a mapping; nothing was generated")
            return []
        if not self.name:
            self.errors.append(f"ApplicationSet {self.label} has no metadata.name; nothing was generated")
            return []
        spec = self.appset.get("spec")
        if not isinstance(spec, Mapping):
            self.errors.append(f"ApplicationSet {self.label} has no spec mapping; nothing was generated")
            return []
        self._read_sync_policy(spec.get("syncPolicy"))
        self.go_template = spec.get("goTemplate") is True
        self._read_template_options(spec.get("goTemplateOptions"))
        engine = TemplateEngine(go_template=self.go_template, missingkey_error=self.missingkey_error)
        generation = Generation(
            generators=GENERATORS,
            engine=engine,
            clusters=self.clusters,
            is_this_repo=self.is_this_repo,
            tree=TreeListing(self.tree_root),
            apply_nested_selectors=spec.get("applyNestedSelectors") is True,
        )
        template = spec.get("template")
        if not isinstance(template, Mapping):
            self.errors.append(f"ApplicationSet {self.label} has no spec.template mapping; nothing was generated")
            return []
        patch = spec.get("templatePatch")
        if patch is not None and not isinstance(patch, str):
            self.errors.append(f"ApplicationSet {self.label}: spec.templatePatch must be a string; it is ignored")
            patch = None
        generators = spec.get("generators")
        if generators is None:
            return []
        if not isinstance(generators, list):
            self.errors.append(f"ApplicationSet {self.label}: spec.generators must be a list; nothing was generated")
            return []

        pending: list[Pending] = []
        for number, entry in enumerate(generators, start=1):
            kind = _generator_kind(entry)
            if kind == "(empty)":
                # ACD CheckInvalidGenerators: an entry naming no known generator type.
                self.errors.append(f"ApplicationSet {self.label}: generator {number} names no generator type")
                continue
            try:
                results = generation.transform(entry, dict(template), None, level=0)
            except NotOffline as exc:
                reason = exc.reason
                if exc.kind != kind:
                    reason = f"{reason}; the {kind} generator that contains it is not expanded at all"
                self.unrendered.append(
                    Unrendered(
                        what=f"ApplicationSet {self.label} generator {kind}",
                        reason=reason,
                        location=self.location,
                    )
                )
                continue
            except GeneratorFailure as exc:
                self.errors.append(f"ApplicationSet {self.label}: generator {number} ({kind}): {exc}")
                continue
            for result in results:
                pending.extend(Pending(number, result.template, params) for params in result.params)
        builder = ApplicationBuilder(
            label=self.label, namespace=self.namespace, preserve=self.preserve, engine=engine, errors=self.errors
        )
        return builder.build_applications(pending, patch)

    def _read_sync_policy(self, sync_policy: Any) -> None:
        if sync_policy is None:
            return
        if not isinstance(sync_policy, Mapping):
            self.errors.append(f"ApplicationSet {self.label}: spec.syncPolicy must be a mapping; it is ignored")
            return
        policy = sync_policy.get("applicationsSync")
        if policy is not None:
            if policy in POLICIES:
                self.policy = str(policy)
            else:
                self.errors.append(
                    f"ApplicationSet {self.label}: spec.syncPolicy.applicationsSync {policy!r} is not one of "
                    f"{', '.join(POLICIES)}; the API server refuses it"
                )
        self.preserve = sync_policy.get("preserveResourcesOnDeletion") is True

    def _read_template_options(self, options: Any) -> None:
        if options is None:
            return
        if not isinstance(options, list):
            self.errors.append(f"ApplicationSet {self.label}: spec.goTemplateOptions must be a list; it is ignored")
            return
        for option in options:
            if option not in GO_TEMPLATE_OPTIONS:
                # text/template's Option panics on an unknown option.
                self.errors.append(
                    f"ApplicationSet {self.label}: goTemplateOptions {option!r} is not a Go template option"
                )
            elif option == "missingkey=error":
                self.missingkey_error = True
            else:
                self.missingkey_error = False


def _generator_kind(entry: Any) -> str:
    """How an entry is named in messages: its generator keys joined by `+`."""
    if not isinstance(entry, Mapping):
        return "(not a mapping)"
    kinds = [str(k) for k in entry if k != "selector"]
    return "+".join(kinds) if kinds else "(empty)"
