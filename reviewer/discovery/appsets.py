"""Expand an Argo CD ApplicationSet offline into the Applications its controller would generate.

This reproduces the ApplicationSet controller of Argo CD (ACD = github.com/argoproj/argo-cd):

- generators (`applicationset/generators/`): `list`, `clusters` (against the clusters of the
  configuration, plus the local `in-cluster`), `git` directories and files (read from the tree under
  review when the generator points at this repository), `matrix` and `merge`, per-generator
  `template` overrides and post-`selector`s (`generator_spec_processor.go`);
- templates (`applicationset/utils/utils.go`, `Render`): every string of the template, map keys
  included, is rendered on its own (a reflection walk over the Application, for fasttemplate as
  well: current Argo CD no longer renders the marshalled JSON text at once), with fasttemplate by
  default or Go text/template + sprig with `goTemplate: true` (see `gotemplate.py`);
  `templatePatch` is rendered the same way and applied as a strategic merge patch
  (`applicationset/controllers/template/patch.go`), after which `spec.project` is restored;
- the generated Application gets the AppSet's namespace and, unless the template declares
  finalizers or `syncPolicy.preserveResourcesOnDeletion` is set, the resources finalizer
  (`utils.go`, `RenderTemplateParams`); duplicate names are refused, the first one kept
  (`applicationset_controller.go`, `validateGeneratedApplications`);
- the spec is normalized as the controller does before writing it (an empty project becomes
  `default`, empty `syncPolicy`/`helm`/`kustomize`/`directory` are dropped: `util/argo`
  `NormalizeApplicationSpec`), and an Application whose name the API server would refuse is
  reported and left out.

Generators that need a live system (`scmProvider`, `pullRequest`, `clusterDecisionResource`,
`plugin`), a git generator on another repository, and unknown generators are never skipped
silently: each is reported as `Unrendered`, and a `matrix`/`merge` containing one is unrendered as
a whole. Bad input never raises: every problem is a sentence in `errors`.

Known approximations: the cluster generator and the merge generator iterate Go maps in Argo CD
(random order); here their output keeps the configuration's and the first generator's order. The
git file generator uses Argo CD's default ("old") globbing, `git ls-files` pathspecs where `*`
also matches `/`; `--enable-new-git-file-globbing` is not modelled. A controller with
`cluster.inClusterEnabled: false` is not modelled either.
"""

from __future__ import annotations

import copy
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..config import Cluster
from ..errors import ManifestError
from ..records import Location, Unrendered
from ..yamlio import load_json, load_yaml_stream
from .gotemplate import GoTemplateError, TemplateJob, render_go_templates

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
POLICIES = ("sync", "create-only", "create-update", "create-delete")
DEFAULT_POLICY = "sync"
IN_CLUSTER_NAME = "in-cluster"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"

# Generators that read a live system at reconcile time, and why they cannot be expanded here.
LIVE_GENERATORS = {
    "scmProvider": "it lists repositories from an SCM provider's API at reconcile time",
    "pullRequest": "it lists open pull requests from an SCM provider's API at reconcile time",
    "clusterDecisionResource": "it reads a decision resource from the live cluster at reconcile time",
    "plugin": "it asks an external generator plugin service at reconcile time",
}
OFFLINE_GENERATORS = ("list", "clusters", "git", "matrix", "merge")
GO_TEMPLATE_OPTIONS = ("missingkey=default", "missingkey=invalid", "missingkey=zero", "missingkey=error")

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


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


# --- failures -------------------------------------------------------------------------------------


class _GeneratorFailure(Exception):
    """A generator could not produce parameters (ACD: GenerateParams returned an error)."""


class _NotOffline(Exception):
    """A generator needs something this review does not have (a live API, another repository)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Failed:
    """A string that could not be rendered."""

    message: str


@dataclass(slots=True)
class _Transformed:
    """ACD `generators.TransformResult`: the parameter sets of one generator and its merged template."""

    params: list[dict[str, Any]]
    template: dict[str, Any]


@dataclass(slots=True)
class _Pending:
    """One Application to build: the template, one parameter set, and where they came from."""

    generator: int
    template: dict[str, Any]
    params: dict[str, Any]
    strings: list[str] = field(default_factory=list)


# --- the expander ---------------------------------------------------------------------------------


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
        self.apply_nested_selectors = False
        self._dirs: list[str] | None = None
        self._files: list[str] | None = None

    # --- top level -------------------------------------------------------------------------------

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
        self.apply_nested_selectors = spec.get("applyNestedSelectors") is True
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

        pending: list[_Pending] = []
        for number, entry in enumerate(generators, start=1):
            kind = _generator_kind(entry)
            if kind == "(empty)":
                # ACD CheckInvalidGenerators: an entry naming no known generator type.
                self.errors.append(f"ApplicationSet {self.label}: generator {number} names no generator type")
                continue
            try:
                results = self.transform(entry, dict(template), None, level=0)
            except _NotOffline as exc:
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
            except _GeneratorFailure as exc:
                self.errors.append(f"ApplicationSet {self.label}: generator {number} ({kind}): {exc}")
                continue
            for result in results:
                pending.extend(_Pending(number, result.template, params) for params in result.params)
        return self.build_applications(pending, patch)

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

    # --- ACD generators.Transform -----------------------------------------------------------------

    def transform(
        self,
        entry: Any,
        base_template: Mapping[str, Any],
        interpolate: Mapping[str, Any] | None,
        *,
        level: int,
    ) -> list[_Transformed]:
        """Parameter sets and merged template of each generator set in one `generators` entry."""
        if not isinstance(entry, Mapping):
            raise _GeneratorFailure("a generator must be a mapping")
        if interpolate:
            # ACD InterpolateGenerator: the matrix's second generator is rendered with the first's params.
            entry = self.render_tree_many(entry, [interpolate], what="the generator")[0]
        selector = _Selector.parse(entry.get("selector")) if entry.get("selector") is not None else None
        kinds = [key for key in entry if key != "selector"]
        for kind in kinds:
            if kind not in OFFLINE_GENERATORS:
                reason = LIVE_GENERATORS.get(kind)
                raise _NotOffline(
                    kind,
                    f"the {kind} generator cannot be expanded offline: {reason}"
                    if reason
                    else f"{kind!r} is not a generator the ApplicationSet controller knows; it generates nothing",
                )
        results = []
        for kind in kinds:
            spec = entry[kind]
            if not isinstance(spec, Mapping):
                raise _GeneratorFailure(f"the {kind} generator must be a mapping")
            own_template = spec.get("template")
            own = copy.deepcopy(dict(own_template)) if isinstance(own_template, Mapping) else {}
            merged = _fill_empty(own, base_template)
            params = self.generate(kind, spec, level)
            if selector is not None:
                params = [p for p in params if selector.matches(_string_values(p))]
            results.append(_Transformed(params, merged))
        return results

    def generate(self, kind: str, spec: Mapping[str, Any], level: int) -> list[dict[str, Any]]:
        if kind == "list":
            return self.list_params(spec)
        if kind == "clusters":
            return self.cluster_params(spec)
        if kind == "git":
            return self.git_params(spec)
        if kind == "matrix":
            return self.matrix_params(spec, level)
        return self.merge_params(spec, level)

    def child_params(self, child: Any, interpolate: Mapping[str, Any] | None, level: int) -> list[dict[str, Any]]:
        """ACD Matrix/MergeGenerator.getParams: the parameter sets of one child generator."""
        if isinstance(child, Mapping) and level >= 2 and any(k in child for k in ("matrix", "merge")):
            raise _GeneratorFailure("matrix and merge generators can be nested only one level deep")
        results = self.transform(child, {}, interpolate, level=level)
        if not results:
            raise _GeneratorFailure("child generator generated no parameters")
        if len(results) > 1:
            raise _GeneratorFailure("found more than one generator in matrix.Generators")
        return results[0].params

    def nested_children(self, spec: Mapping[str, Any], level: int, what: str) -> list[Any]:
        children = spec.get("generators")
        if not isinstance(children, list):
            raise _GeneratorFailure(f"{what}.generators must be a list")
        if level >= 1 and not self.apply_nested_selectors:
            # ACD dropDisabledNestedSelectors: selectors of a nested matrix/merge's children are
            # ignored unless spec.applyNestedSelectors is set.
            children = [
                {k: v for k, v in c.items() if k != "selector"} if isinstance(c, Mapping) else c for c in children
            ]
        return children

    # --- list (ACD applicationset/generators/list.go) ---------------------------------------------

    def list_params(self, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
        elements = spec.get("elements") or []
        if not isinstance(elements, list):
            raise _GeneratorFailure("list.elements must be a list")
        result: list[dict[str, Any]] = []
        for number, element in enumerate(elements, start=1):
            if not isinstance(element, Mapping):
                raise _GeneratorFailure(f"error unmarshalling list element {number}: it is not an object")
            if self.go_template:
                result.append(copy.deepcopy(dict(element)))
                continue
            params: dict[str, Any] = {}
            for key, value in element.items():
                if key == "values":
                    if not isinstance(value, Mapping):
                        raise _GeneratorFailure(f"list element {number}: error parsing values map")
                    for sub, sub_value in value.items():
                        if not isinstance(sub_value, str):
                            raise _GeneratorFailure(
                                f"list element {number}: values.{sub} is not a string "
                                "(without goTemplate every list value must be a string)"
                            )
                        params[f"values.{sub}"] = sub_value
                elif not isinstance(value, str):
                    raise _GeneratorFailure(
                        f"list element {number}: {key} is not a string "
                        "(without goTemplate every list value must be a string)"
                    )
                else:
                    params[str(key)] = value
            result.append(params)
        elements_yaml = spec.get("elementsYaml")
        if elements_yaml:
            if not isinstance(elements_yaml, str):
                raise _GeneratorFailure("list.elementsYaml must be a string")
            try:
                docs = load_yaml_stream(elements_yaml, file="elementsYaml")
            except ManifestError as exc:
                raise _GeneratorFailure(f"error unmarshalling elementsYaml: {exc}") from None
            items = docs[0].data if docs else []
            if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
                raise _GeneratorFailure("error unmarshalling elementsYaml: it is not a list of objects")
            result.extend(copy.deepcopy(dict(i)) for i in items)
        return result

    # --- clusters (ACD applicationset/generators/cluster.go) --------------------------------------

    def cluster_params(self, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
        raw_selector = spec.get("selector") or {}
        if not isinstance(raw_selector, Mapping):
            raise _GeneratorFailure("clusters.selector must be a mapping")
        selector = _Selector.parse(raw_selector)
        # No local cluster when a selector is given: it has no secret, hence no labels to match.
        ignore_local = bool(raw_selector.get("matchLabels")) or bool(raw_selector.get("matchExpressions"))
        secrets: dict[str, Cluster] = {}
        for cluster in self.clusters:
            if selector.matches(_cluster_labels(cluster)):
                secrets[cluster.name] = cluster  # keyed by name, as getSecretsByClusterName does
        params_list: list[dict[str, Any]] = []
        if not ignore_local and not any(c.server == IN_CLUSTER_SERVER for c in secrets.values()):
            params_list.append(
                {
                    "name": IN_CLUSTER_NAME,
                    "nameNormalized": IN_CLUSTER_NAME,
                    "server": IN_CLUSTER_SERVER,
                    "project": "",
                }
            )
        for cluster in secrets.values():
            params: dict[str, Any] = {
                "name": cluster.name,
                "nameNormalized": sanitize_name(cluster.name),
                "server": cluster.server,
                "project": cluster.project,
            }
            labels = _cluster_labels(cluster)
            annotations = dict(cluster.annotations)
            if self.go_template:
                meta: dict[str, Any] = {}
                if annotations:
                    meta["annotations"] = annotations
                if labels:
                    meta["labels"] = labels
                params["metadata"] = meta
            else:
                params.update({f"metadata.annotations.{k}": v for k, v in annotations.items()})
                params.update({f"metadata.labels.{k}": v for k, v in labels.items()})
            params_list.append(params)
        self.append_values(spec.get("values"), params_list, "clusters")
        if spec.get("flatList") is True:
            return [{"clusters": params_list}]
        return params_list

    # --- git (ACD applicationset/generators/git.go) -----------------------------------------------

    def git_params(self, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
        repo_url = spec.get("repoURL")
        if not isinstance(repo_url, str) or not repo_url:
            raise _GeneratorFailure("git.repoURL is required")
        if not self.is_this_repo(repo_url):
            raise _NotOffline("git", f"git generator on external repository {repo_url}")
        prefix = spec.get("pathParamPrefix") or ""
        if not isinstance(prefix, str):
            raise _GeneratorFailure("git.pathParamPrefix must be a string")
        directories = spec.get("directories") or []
        files = spec.get("files") or []
        if not isinstance(directories, list) or not isinstance(files, list):
            raise _GeneratorFailure("git.directories and git.files must be lists")
        if directories:
            params = self.git_directory_params(directories, prefix)
        elif files:
            params = self.git_file_params(files, prefix)
        else:
            raise _GeneratorFailure("generator is empty: git needs directories or files")
        self.append_values(spec.get("values"), params, "git")
        return params

    def git_directory_params(self, items: list[Any], prefix: str) -> list[dict[str, Any]]:
        patterns = _path_items(items, "directories")
        result = []
        for app_path in self.directories():
            include = exclude = False
            for pattern, excluded in patterns:
                matched = go_path_match(pattern, app_path)
                if matched is None:
                    continue  # a malformed pattern is logged and skipped by filterApps
                if matched and excluded:
                    exclude = True
                elif matched:
                    include = True
            if include and not exclude:  # exclude rules win, whatever their order
                result.append(self.path_params(app_path, None, prefix))
        return result

    def git_file_params(self, items: list[Any], prefix: str) -> list[dict[str, Any]]:
        patterns = _path_items(items, "files")
        all_files = self.files()
        selected: set[str] = set()
        for pattern, excluded in patterns:
            if not excluded:
                selected.update(f for f in all_files if git_pathspec_match(pattern, f))
        for pattern, excluded in patterns:
            if excluded:
                selected.difference_update(f for f in all_files if git_pathspec_match(pattern, f))
        result: list[dict[str, Any]] = []
        for rel in sorted(selected):
            for obj in self.read_param_file(rel):
                if self.go_template:
                    params = copy.deepcopy(obj)
                else:
                    params = {k: go_format(v) for k, v in _flatten(obj, "").items()}
                params.update(self.path_params(posixpath.dirname(rel) or ".", posixpath.basename(rel), prefix))
                result.append(params)
        return result

    def read_param_file(self, rel: str) -> list[dict[str, Any]]:
        try:
            text = (self.tree_root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _GeneratorFailure(f"unable to read file '{rel}': {exc}") from None
        try:
            data: Any
            stripped = text.lstrip()
            if stripped.startswith(("{", "[")):
                try:
                    data = load_json(text, file=rel)
                except ManifestError:
                    docs = load_yaml_stream(text, file=rel)
                    data = docs[0].data if docs else None
            else:
                docs = load_yaml_stream(text, file=rel)
                data = docs[0].data if docs else None
        except ManifestError as exc:
            raise _GeneratorFailure(f"unable to process file '{rel}': {exc}") from None
        if data is None:
            return [{}]  # an empty file yields one parameter set with the path parameters only
        if isinstance(data, list) and all(isinstance(item, Mapping) for item in data):
            return [dict(item) for item in data] or [{}]
        if isinstance(data, Mapping):
            return [dict(data)]
        raise _GeneratorFailure(
            f"unable to process file '{rel}': unable to parse file: not an object or a list of objects"
        )

    def path_params(self, directory: str, filename: str | None, prefix: str) -> dict[str, Any]:
        basename = posixpath.basename(directory) or directory
        if self.go_template:
            path: dict[str, Any] = {
                "path": directory,
                "basename": basename,
                "basenameNormalized": sanitize_name(basename),
            }
            if filename is not None:
                path["filename"] = filename
                path["filenameNormalized"] = sanitize_name(filename)
            path["segments"] = directory.split("/")
            return {prefix: {"path": path}} if prefix else {"path": path}
        name = f"{prefix}.path" if prefix else "path"
        flat = {
            name: directory,
            f"{name}.basename": basename,
            f"{name}.basenameNormalized": sanitize_name(basename),
        }
        if filename is not None:
            flat[f"{name}.filename"] = filename
            flat[f"{name}.filenameNormalized"] = sanitize_name(filename)
        for index, segment in enumerate(directory.split("/")):
            if segment:
                flat[f"{name}[{index}]"] = segment
        return flat

    def directories(self) -> list[str]:
        """Every directory of the tree, pre-order and sorted, without hidden ones.

        ACD `reposerver/repository/repository.go` GetGitDirectories: a directory whose name starts
        with "." is skipped with everything under it; symbolic links are not directories.
        """
        if self._dirs is None:
            self._dirs = []
            for top, dirnames, _ in os.walk(self.tree_root):
                keep = sorted(d for d in dirnames if not d.startswith(".") and not os.path.islink(os.path.join(top, d)))
                dirnames[:] = keep
                rel_top = os.path.relpath(top, self.tree_root)
                for name in keep:
                    self._dirs.append(name if rel_top == "." else f"{rel_top}/{name}".replace(os.sep, "/"))
            self._dirs.sort(key=lambda p: p.split("/"))
        return self._dirs

    def files(self) -> list[str]:
        """Every file of the tree (what `git ls-files` lists), as paths relative to its root."""
        if self._files is None:
            self._files = []
            root = self.tree_root.resolve()
            for top, dirnames, filenames in os.walk(self.tree_root):
                dirnames[:] = sorted(d for d in dirnames if d != ".git")
                rel_top = os.path.relpath(top, self.tree_root)
                for name in sorted(filenames):
                    full = os.path.join(top, name)
                    if os.path.islink(full) and not Path(full).resolve().is_relative_to(root):
                        continue  # a link out of the repository is never read
                    self._files.append(name if rel_top == "." else f"{rel_top}/{name}".replace(os.sep, "/"))
        return self._files

    # --- values (ACD applicationset/generators/value_interpolation.go) ----------------------------

    def append_values(self, values: Any, params_list: list[dict[str, Any]], kind: str) -> None:
        if not values:
            return
        if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
            raise _GeneratorFailure(f"{kind}.values must map names to strings")
        keys = [str(k) for k in values]
        jobs = [(str(values[k]), params) for params in params_list for k in keys]
        rendered = self.render_strings(jobs)
        for index, params in enumerate(params_list):
            out: dict[str, str] = {}
            for offset, key in enumerate(keys):
                text = rendered[index * len(keys) + offset]
                if isinstance(text, _Failed):
                    raise _GeneratorFailure(f"failed to append templated values: {text.message}")
                out[key] = text
            if self.go_template:
                params["values"] = out
            else:
                params.update({f"values.{k}": v for k, v in out.items()})

    # --- matrix (ACD applicationset/generators/matrix.go) -----------------------------------------

    def matrix_params(self, spec: Mapping[str, Any], level: int) -> list[dict[str, Any]]:
        children = self.nested_children(spec, level, "matrix")
        if len(children) < 2:
            raise _GeneratorFailure("found less than two generators, Matrix support only two")
        if len(children) > 2:
            raise _GeneratorFailure("found more than two generators, Matrix support only two")
        first = self.child_params(children[0], None, level + 1)
        if not first:
            return []
        second_spec = children[1]
        if isinstance(second_spec, Mapping) and _has_template(second_spec):
            # ACD InterpolateGenerator: the second generator is rendered with each parameter set of
            # the first (not for an empty one); all of them in one render.
            with_params = [a for a in first if a]
            rendered = iter(self.render_tree_many(second_spec, with_params, what="the second matrix generator"))
            specs = [next(rendered) if a else second_spec for a in first]
            seconds = [self.child_params(spec_for_a, None, level + 1) for spec_for_a in specs]
        else:
            shared = self.child_params(second_spec, None, level + 1)
            seconds = [shared] * len(first)
        result: list[dict[str, Any]] = []
        for a, second in zip(first, seconds, strict=True):
            for b in second:
                if self.go_template:
                    combined: dict[str, Any] = {}
                    _merge_override(combined, copy.deepcopy(b))
                    _merge_override(combined, copy.deepcopy(a))  # the first generator wins
                    result.append(combined)
                else:
                    result.append(_combine_string_maps(a, b))
        return result

    # --- merge (ACD applicationset/generators/merge.go) -------------------------------------------

    def merge_params(self, spec: Mapping[str, Any], level: int) -> list[dict[str, Any]]:
        children = self.nested_children(spec, level, "merge")
        if len(children) < 2:
            raise _GeneratorFailure("found less than two generators, Merge requires two or more")
        merge_keys = spec.get("mergeKeys")
        if not isinstance(merge_keys, list) or not merge_keys:
            raise _GeneratorFailure("no merge keys were specified, Merge requires at least one")
        keys = sorted({str(k) for k in merge_keys})
        sets = [self.child_params(child, None, level + 1) for child in children]
        base = _by_merge_key(keys, sets[0])
        for other in sets[1:]:
            overrides = _by_merge_key(keys, other)
            for key, base_params in list(base.items()):
                override = overrides.get(key)
                if override is None:
                    continue
                if self.go_template:
                    _merge_override(base_params, copy.deepcopy(override))
                else:
                    merged = {k: go_format(v) for k, v in base_params.items()}
                    merged.update({k: go_format(v) for k, v in override.items()})
                    base[key] = merged
        return list(base.values())

    # --- rendering --------------------------------------------------------------------------------

    def render_strings(self, jobs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str | _Failed]:
        """Render each (text, params) with the AppSet's template engine."""
        if self.go_template:
            rendered = render_go_templates(
                [TemplateJob(text, params) for text, params in jobs], missingkey_error=self.missingkey_error
            )
            return [_Failed(str(r)) if isinstance(r, GoTemplateError) else r for r in rendered]
        out: list[str | _Failed] = []
        for text, params in jobs:
            try:
                out.append(fasttemplate(text, params))
            except ValueError as exc:
                out.append(_Failed(str(exc)))
        return out

    def render_tree_many(
        self, tree: Mapping[str, Any], params_list: Sequence[Mapping[str, Any]], *, what: str
    ) -> list[dict[str, Any]]:
        """`tree` with every string (map keys included) rendered, once per parameter set."""
        strings: list[str] = []
        _collect_strings(tree, strings)
        rendered = self.render_strings([(s, params) for params in params_list for s in strings])
        out: list[dict[str, Any]] = []
        for index in range(len(params_list)):
            chunk = rendered[index * len(strings) : (index + 1) * len(strings)]
            for text in chunk:
                if isinstance(text, _Failed):
                    raise _GeneratorFailure(f"failed to replace parameters in {what}: {text.message}")
            rebuilt = _rebuild(tree, iter([str(t) for t in chunk]))
            assert isinstance(rebuilt, dict)
            out.append(rebuilt)
        return out

    # --- building Applications (ACD controllers/template/template.go GenerateApplications) ---------

    def build_applications(self, pending: list[_Pending], patch: str | None) -> list[dict[str, Any]]:
        jobs: list[tuple[str, Mapping[str, Any]]] = []
        spans: list[tuple[int, int, int | None]] = []  # (first job, job count, patch job)
        for item in pending:
            start = len(jobs)
            if item.params:
                _collect_strings(_template_application(item.template), item.strings)
                jobs.extend((s, item.params) for s in item.strings)
            patch_job = None
            if patch is not None:
                patch_job = len(jobs)
                jobs.append((patch, item.params))
            spans.append((start, len(item.strings), patch_job))
        rendered = self.render_strings(jobs) if jobs else []

        applications: list[dict[str, Any]] = []
        for item, (start, count, patch_job) in zip(pending, spans, strict=True):
            app = self.build_one(
                item, rendered[start : start + count], rendered[patch_job] if patch_job is not None else None
            )
            if app is not None:
                applications.append(app)
        return self.drop_refused(applications)

    def build_one(
        self, item: _Pending, strings: Sequence[str | _Failed], patch: str | _Failed | None
    ) -> dict[str, Any] | None:
        template_app = _template_application(item.template)
        if not item.params:
            # RenderTemplateParams returns the template untouched (no finalizer) for empty params.
            app = template_app
        else:
            failed = next((s for s in strings if isinstance(s, _Failed)), None)
            if failed is not None:
                self.errors.append(
                    f"ApplicationSet {self.label}: generator {item.generator}: cannot render the template "
                    f"with parameters {_summary(item.params)}: {failed.message}"
                )
                return None
            rebuilt = _rebuild(template_app, iter([str(s) for s in strings]))
            assert isinstance(rebuilt, dict)
            app = rebuilt
            meta = app.setdefault("metadata", {})
            if not self.preserve and not meta.get("finalizers"):
                meta["finalizers"] = [RESOURCES_FINALIZER]
        if patch is not None:
            patched = self.apply_patch(app, patch, item)
            if patched is None:
                return None
            app = patched
        return self.finish(app)

    def apply_patch(self, app: dict[str, Any], patch: str | _Failed, item: _Pending) -> dict[str, Any] | None:
        """ACD applyTemplatePatch: a strategic merge patch on the Application; `spec.project` is kept."""
        where = (
            f"ApplicationSet {self.label}: generator {item.generator}: "
            f"templatePatch for parameters {_summary(item.params)}"
        )
        if isinstance(patch, _Failed):
            self.errors.append(f"{where}: error replacing values in templatePatch: {patch.message}")
            return None
        try:
            if patch.strip().startswith("{"):
                data = load_json(patch, file="templatePatch")
            else:
                docs = load_yaml_stream(patch, file="templatePatch")
                data = docs[0].data if docs else None
        except ManifestError as exc:
            self.errors.append(f"{where}: the rendered patch is not valid YAML or JSON: {exc}")
            return None
        if data is None:
            return app
        if not isinstance(data, Mapping):
            self.errors.append(f"{where}: the rendered patch is not a mapping")
            return None
        project = (app.get("spec") or {}).get("project") if isinstance(app.get("spec"), Mapping) else None
        patched = _strategic_merge(app, data, "")
        if (
            patched is None
            or not isinstance(patched.get("metadata", {}), Mapping)
            or not isinstance(patched.get("spec", {}), Mapping)
        ):
            self.errors.append(f"{where}: the patched Application has no metadata or spec mapping")
            return None
        spec = patched.setdefault("spec", {})
        if project is None:
            spec.pop("project", None)
        else:
            spec["project"] = project  # the patch may not change the project (ACD patch.go)
        return patched

    def finish(self, app: dict[str, Any]) -> dict[str, Any]:
        meta = app.get("metadata") if isinstance(app.get("metadata"), dict) else {}
        assert isinstance(meta, dict)
        out_meta: dict[str, Any] = {"name": meta.get("name", "")}
        if self.namespace:
            # GenerateApplications: an Application lives in its ApplicationSet's namespace.
            out_meta["namespace"] = self.namespace
        for key in ("labels", "annotations", "finalizers"):
            if meta.get(key):
                out_meta[key] = meta[key]
        spec = app.get("spec") if isinstance(app.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": out_meta,
            "spec": _normalize_spec(spec),
        }

    def drop_refused(self, applications: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Applications Argo CD or the API server would refuse: invalid names, duplicates."""
        kept: list[dict[str, Any]] = []
        seen: set[str] = set()
        for app in applications:
            name = app["metadata"]["name"]
            if not isinstance(name, str) or not name or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
                self.errors.append(
                    f"ApplicationSet {self.label} generated an Application named {name!r}, which is not "
                    "a valid Kubernetes object name; the API server refuses it"
                )
                continue
            if name in seen:
                # validateGeneratedApplications: the first keeps the name, the others are refused.
                self.errors.append(f"ApplicationSet {self.label} contains applications with duplicate name: {name}")
                continue
            seen.add(name)
            kept.append(app)
        return kept


# --- helpers: generator specs ----------------------------------------------------------------------


def _generator_kind(entry: Any) -> str:
    if not isinstance(entry, Mapping):
        return "(not a mapping)"
    kinds = [str(k) for k in entry if k != "selector"]
    return "+".join(kinds) if kinds else "(empty)"


def _path_items(items: list[Any], what: str) -> list[tuple[str, bool]]:
    patterns = []
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("path"), str):
            raise _GeneratorFailure(f"git.{what} entries need a path")
        patterns.append((str(item["path"]), item.get("exclude") is True))
    return patterns


def _cluster_labels(cluster: Cluster) -> dict[str, str]:
    # A cluster secret always carries the secret-type label the generator selects on.
    return {**dict(cluster.labels), SECRET_TYPE_LABEL: cluster.labels.get(SECRET_TYPE_LABEL, "cluster")}


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, Mapping):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


def _string_values(params: Mapping[str, Any]) -> dict[str, str]:
    """ACD keepOnlyStringValues: the post-selector sees top-level string parameters only."""
    return {k: v for k, v in params.items() if isinstance(v, str)}


def _by_merge_key(keys: list[str], param_sets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for params in param_sets:
        key = json.dumps({k: _json_number(params.get(k)) for k in keys}, sort_keys=True, separators=(",", ":"))
        if key in out:
            raise _GeneratorFailure(
                "the parameters from a generator were not unique by the given mergeKeys, Merge requires all "
                f"param sets to be unique. Duplicate key was {key}"
            )
        out[key] = params
    return out


def _json_number(value: Any) -> Any:
    # Go holds every JSON number as float64: 2 and 2.0 are the same merge key.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _combine_string_maps(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """ACD utils.CombineStringMaps: a key in both with different values is an error."""
    out = {k: go_format(v) for k, v in a.items()}
    for key, value in b.items():
        text = go_format(value)
        if key in out and out[key] != text:
            raise _GeneratorFailure(f"found duplicate key {key} with different value, a: {out[key]} ,b: {text}")
        out[key] = text
    return out


def _merge_override(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    """mergo.Merge(&dst, src, mergo.WithOverride) on parameter maps.

    Nested maps merge, everything else is replaced by the source.
    """
    for key, value in src.items():
        current = dst.get(key)
        if isinstance(value, Mapping):
            if isinstance(current, dict) and current:
                _merge_override(current, value)
                continue
            if current not in (None, "", 0, False) and not isinstance(current, (dict, list)):
                continue  # mergo keeps a non-empty non-map destination when the source is a map
            dst[key] = dict(value)
        else:
            dst[key] = value


def _fill_empty(dest: dict[str, Any], src: Mapping[str, Any]) -> dict[str, Any]:
    """mergo.Merge(dest, src) without override.

    The generator's template wins; its empty or missing fields come from spec.template.
    """
    for key, value in src.items():
        current = dest.get(key)
        if _is_empty(current):
            dest[key] = copy.deepcopy(value)
        elif isinstance(current, dict) and isinstance(value, Mapping):
            _fill_empty(current, value)
    return dest


def _is_empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == 0 or value == [] or value == {}


# --- helpers: templates ---------------------------------------------------------------------------


def _template_application(template: Mapping[str, Any]) -> dict[str, Any]:
    """ACD GetTempApplication: the template's name, namespace, labels, annotations, finalizers and spec."""
    meta = template.get("metadata") if isinstance(template.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    out_meta = {
        k: copy.deepcopy(meta[k]) for k in ("name", "namespace", "labels", "annotations", "finalizers") if k in meta
    }
    spec = template.get("spec")
    return {"metadata": out_meta, "spec": copy.deepcopy(dict(spec)) if isinstance(spec, Mapping) else {}}


def _collect_strings(value: Any, out: list[str]) -> None:
    """Every string of a tree, map keys included, in the order `_rebuild` consumes them."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                out.append(key)
            _collect_strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _collect_strings(item, out)


def _rebuild(value: Any, strings: Iterator[str]) -> Any:
    if isinstance(value, str):
        return next(strings)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = next(strings) if isinstance(key, str) else key
            out[new_key] = _rebuild(item, strings)
        return out
    if isinstance(value, list):
        return [_rebuild(item, strings) for item in value]
    return value


_IS_TEMPLATED = re.compile(r".*\{\{.*\}\}.*")


def fasttemplate(text: str, params: Mapping[str, Any]) -> str:
    """Argo CD's default templating (ACD `utils.go` Replace with github.com/valyala/fasttemplate).

    `{{name}}` or `{{ name }}` is replaced by the string parameter `name`; a tag naming no string
    parameter is left as it is. A `{{` without a closing `}}` is an error.
    """
    if not _IS_TEMPLATED.search(text):
        return text
    out: list[str] = []
    rest = text
    while True:
        start = rest.find("{{")
        if start < 0:
            out.append(rest)
            return "".join(out)
        out.append(rest[:start])
        rest = rest[start + 2 :]
        end = rest.find("}}")
        if end < 0:
            raise ValueError(f'invalid template {text!r}: cannot find end tag "}}}}"')
        tag, rest = rest[:end], rest[end + 2 :]
        replacement = params.get(tag.strip())
        out.append(replacement if tag.strip() and isinstance(replacement, str) else "{{" + tag + "}}")


def _strategic_merge(original: Mapping[str, Any], patch: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    """A strategic merge patch on an Application (k8s `strategicpatch.StrategicMergePatch`).

    Maps merge recursively, `null` deletes, lists are replaced, except `metadata.finalizers`, whose
    ObjectMeta field is tagged `patchStrategy:"merge"` (a union). `$patch: replace|delete` apply.
    """
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not str(k).startswith("$")}
    out = copy.deepcopy(dict(original))
    for key, value in patch.items():
        if str(key).startswith("$"):
            continue
        child = f"{path}.{key}" if path else str(key)
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping):
            current = out.get(key)
            merged = _strategic_merge(current if isinstance(current, Mapping) else {}, value, child)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif child == "metadata.finalizers" and isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + [v for v in value if v not in out[key]]
        else:
            out[key] = copy.deepcopy(value)
    return out


def _normalize_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """ACD util/argo NormalizeApplicationSpec, applied before the Application is written."""
    spec = dict(spec)
    if not spec.get("project"):
        spec["project"] = "default"
    if "syncPolicy" in spec and _is_zero(spec["syncPolicy"]):
        del spec["syncPolicy"]
    sources = [spec["source"]] if isinstance(spec.get("source"), dict) else []
    if isinstance(spec.get("sources"), list):
        sources += [s for s in spec["sources"] if isinstance(s, dict)]
    for source in sources:
        for kind in ("helm", "kustomize", "directory", "plugin"):
            if kind in source and _is_zero(source[kind]):
                del source[kind]
    return spec


def _is_zero(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(_is_zero(v) for v in value.values())
    if isinstance(value, list):
        return not value
    return _is_empty(value)


def _summary(params: Mapping[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


# --- helpers: values as Go prints them --------------------------------------------------------------


def sanitize_name(name: str) -> str:
    """ACD `utils.SanitizeName` (the `normalize` function and the *Normalized parameters)."""
    name = re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253]
    return name.strip("-.")


def go_format(value: Any) -> str:
    """`fmt.Sprintf("%v", v)` of a value decoded from JSON/YAML by Go (numbers are float64)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{go_format(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    return str(value)


def _go_float(number: float) -> str:
    """Go's %v of a float64 (strconv 'g', shortest): exponent form below 1e-4 and from 1e+06.

    This is why Argo CD and Helm print a JSON/YAML number 1234567 as `1.234567e+06`.
    """
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "+Inf" if number > 0 else "-Inf"
    if number == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(number)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    exponent += len("".join(map(str, digit_tuple))) - len(digits)
    point = len(digits) + exponent  # position of the decimal point in `digits`
    exp10 = point - 1
    minus = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{'+' if exp10 >= 0 else '-'}{abs(exp10):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{minus}{digits}{'0' * (point - len(digits))}"
    return f"{minus}{digits[:point]}.{digits[point:]}"


def _flatten(value: Any, prefix: str) -> dict[str, Any]:
    """github.com/jeremywohl/flatten with DotStyle: nested keys joined by dots, list indexes too."""
    out: dict[str, Any] = {}
    items: Iterator[tuple[str, Any]]
    if isinstance(value, Mapping):
        items = ((str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return out
    for key, item in items:
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(item, (Mapping, list)):
            out.update(_flatten(item, name))
        else:
            out[name] = item
    return out


# --- helpers: path matching -------------------------------------------------------------------------


def go_path_match(pattern: str, name: str) -> bool | None:
    """Go `path.Match`: `*` and `?` do not match `/`; None for a malformed pattern."""
    regex = _glob_regex(pattern, star="[^/]*", question="[^/]", negations="^")
    if regex is None:
        return None
    return regex.fullmatch(name) is not None


def git_pathspec_match(pattern: str, name: str) -> bool:
    """A `git ls-files -- <pattern>` pathspec (wildmatch without WM_PATHNAME: `*` matches `/`).

    A pattern without wildcards also matches every file under the directory it names.
    """
    if not any(c in pattern for c in "*?["):
        literal = pattern.rstrip("/")
        return name == literal or name.startswith(literal + "/")
    regex = _glob_regex(pattern, star=".*", question=".", negations="!^")
    return regex is not None and regex.fullmatch(name) is not None


def _glob_regex(pattern: str, *, star: str, question: str, negations: str) -> re.Pattern[str] | None:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(question)
        elif ch == "\\":
            if i + 1 >= len(pattern):
                return None
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            j = i + 1
            negated = j < len(pattern) and pattern[j] in negations
            if negated:
                j += 1
            members: list[str] = []
            while j < len(pattern) and (pattern[j] != "]" or not members):
                if pattern[j] == "\\" and j + 1 < len(pattern):
                    j += 1
                members.append(re.escape(pattern[j]) if pattern[j] != "-" else "-")
                j += 1
            if j >= len(pattern) or not members:
                return None
            out.append("[" + ("^" if negated else "") + "".join(members) + "]")
            i = j
        else:
            out.append(re.escape(ch))
        i += 1
    try:
        return re.compile("".join(out), re.S)
    except re.error:
        return None


# --- label selectors (ACD applicationset/utils/selector.go) -------------------------------------------


@dataclass(frozen=True, slots=True)
class _Selector:
    match_labels: tuple[tuple[str, str], ...]
    expressions: tuple[tuple[str, str, tuple[str, ...]], ...]

    @classmethod
    def parse(cls, raw: Any) -> _Selector:
        if not isinstance(raw, Mapping):
            raise _GeneratorFailure("a selector must be a mapping")
        labels = raw.get("matchLabels") or {}
        expressions = raw.get("matchExpressions") or []
        if not isinstance(labels, Mapping) or not isinstance(expressions, list):
            raise _GeneratorFailure("selector.matchLabels must be a mapping and matchExpressions a list")
        parsed = []
        for expr in expressions:
            if not isinstance(expr, Mapping):
                raise _GeneratorFailure("selector.matchExpressions entries must be mappings")
            operator = expr.get("operator")
            values = tuple(str(v) for v in (expr.get("values") or []))
            if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
                raise _GeneratorFailure(f"error parsing label selector: {operator!r} is not a valid selector operator")
            if operator in ("In", "NotIn") and not values:
                raise _GeneratorFailure(
                    "error parsing label selector: for 'in', 'notin' operators, values set can't be empty"
                )
            parsed.append((str(expr.get("key")), str(operator), values))
        return cls(tuple((str(k), go_format(v)) for k, v in labels.items()), tuple(parsed))

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        for key, operator, values in self.expressions:
            present = key in labels
            if operator == "In" and not (present and labels[key] in values):
                return False
            if operator == "NotIn" and present and labels[key] in values:
                return False
            if operator == "Exists" and not present:
                return False
            if operator == "DoesNotExist" and present:
                return False
        return True
