"""Helm sources (reference §C.3; Argo CD reposerver helmTemplate and util/helm/cmd.go template).

One `HelmTemplate` describes the `helm template` call Argo CD would make. It runs with the `helm`
CLI when one is installed, else in process with the Helm SDK (helm-python-sdk: Helm's own Go
engine), which gets the same inputs: values merged as `helm template` merges them, the same
release name, namespace, kube version and API versions, CRDs and test hooks handled the same way.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .. import proc
from ..errors import ManifestError, RenderFailure, ToolError
from ..globs import doublestar_glob, doublestar_valid, has_magic
from ..records import App, AppSource, Location
from ..trees import resolved
from ..yamlio import dump_yaml_for_go, load_yaml, load_yaml_stream
from .cluster_facts import cluster_facts
from .context import RenderContext
from .manifests import Produced
from .source import BuildEnv

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_SOURCE_COMMENT = re.compile(r"^# Source: (.+)$", re.M)
MAX_RELEASE_NAME = 53


@dataclass(frozen=True, slots=True)
class HelmTemplate:
    """The inputs of one `helm template` run, in Argo CD's order and precedence."""

    chart_dir: Path
    chart_label: str  # how to name the chart in messages and provenance (repo-relative or chart@version)
    release: str
    namespace: str
    kube_version: str
    api_versions: tuple[str, ...]
    value_files: tuple[Path, ...]
    inline_values: Mapping[str, Any] | None  # `values` / `valuesObject` (valuesObject wins)
    set_values: tuple[str, ...] = ()  # `--set` arguments, already escaped
    set_strings: tuple[str, ...] = ()  # `--set-string`
    set_files: tuple[str, ...] = ()  # `--set-file name=path`
    include_crds: bool = True
    skip_tests: bool = False
    skip_schema_validation: bool = False
    labels: tuple[str, ...] = field(default=())

    def argv(self, values_file: str = "<values>") -> list[str]:
        """The command line Argo CD builds (util/helm/cmd.go template)."""
        argv = ["helm", "template", str(self.chart_dir), "--name-template", self.release]
        if self.namespace:
            argv += ["--namespace", self.namespace]
        if self.kube_version:
            argv += ["--kube-version", self.kube_version]
        for s in self.set_values:
            argv += ["--set", s]
        for s in self.set_strings:
            argv += ["--set-string", s]
        for s in self.set_files:
            argv += ["--set-file", s]
        for f in self.value_files:
            argv += ["--values", str(f)]
        if self.inline_values is not None:
            argv += ["--values", values_file]
        for api in self.api_versions:
            argv += ["--api-versions", api]
        if self.include_crds:
            argv.append("--include-crds")
        if self.skip_schema_validation:
            argv.append("--skip-schema-validation")
        if self.skip_tests:
            argv.append("--skip-tests")
        return argv

    def describe(self, root: Path) -> str:
        def short(p: str) -> str:
            return p.replace(str(root) + "/", "").replace(str(root), ".")

        return " ".join(short(a) if " " not in a else repr(short(a)) for a in self.argv())


def _escape_set(value: str) -> str:
    """util/helm/cmd.go cleanSetParameters: commas are escaped (an already escaped `\\,` is left alone)
    unless the value is a `{...}` list."""
    if value.startswith("{") and value.endswith("}"):
        return value
    out: list[str] = []
    prev = ""
    for ch in value:
        out.append("\\," if ch == "," and prev != "\\" else ch)
        prev = ch
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _FileScope:
    """Where a value file may be: relative paths start at `base`, `/x` at `root`, nothing leaves `root`."""

    base: Path
    root: Path


def _inside(path: Path, root: Path) -> bool:
    target, top = resolved(path), resolved(root)
    return target == top or top in target.parents


def _value_file_scope(
    raw: str,
    chart_dir: Path,
    repo_root: Path,
    refs: Mapping[str, Path],
    declared_refs: frozenset[str],
    env: BuildEnv,
) -> tuple[_FileScope, str]:
    """The scope and the env-substituted path of one `valueFiles` / `fileParameters` entry.

    repository.go getReferencedSource: an entry starting with `$<ref>/` where `<ref>` is a `ref` source
    of the app resolves in that source's repository, and is env-substituted only after that;
    anything else is env-substituted first and resolved against the chart directory.
    """
    if raw.startswith("$"):
        ref = raw[1:].split("/", 1)[0]
        if ref in refs:
            rest = "/".join(["", *raw.split("/")[1:]])
            return _FileScope(refs[ref], refs[ref]), env.substitute(rest)
        if ref in declared_refs:
            raise RenderFailure(
                f"value file {raw}: the `ref: {ref}` source is another Git repository, which is not fetched"
            )
    return _FileScope(chart_dir, repo_root), env.substitute(raw)


def _resolve_in_scope(text: str, scope: _FileScope) -> Path:
    """pathutil.ResolveValueFilePathOrUrl: `/x` is relative to the root, anything else to the base."""
    return (scope.root / text.lstrip("/")) if text.startswith("/") else (scope.base / text)


def _expand_value_files(
    entries: Sequence[Any],
    chart_dir: Path,
    repo_root: Path,
    refs: Mapping[str, Path],
    declared_refs: frozenset[str],
    env: BuildEnv,
    ignore_missing: bool,
) -> tuple[list[Path], list[str]]:
    """`helm.valueFiles` as Argo CD resolves them (docs/user-guide/helm.md "Values Files" and "Glob
    Patterns in Value Files"): globs expand in place in doublestar order; a file is passed once, an
    explicit entry taking the position over a glob match; nothing may leave the repository."""
    raws = [str(r) for r in entries]
    resolved: list[tuple[str, list[Path], bool]] = []
    warnings: list[str] = []
    for raw in raws:
        scope, text = _value_file_scope(raw, chart_dir, repo_root, refs, declared_refs, env)
        if _URL.match(text):
            raise RenderFailure(f"value file {text} is a URL; remote value files are not fetched")
        if has_magic(text):
            resolved.append((raw, _expand_glob(text, scope), True))
            continue
        path = _resolve_in_scope(text, scope)
        if not _inside(path, scope.root):
            raise RenderFailure(f"value file {text} resolves outside the repository")
        resolved.append((raw, [path.resolve()], False))
    explicit = {paths[0] for _, paths, is_glob in resolved if not is_glob}
    files: list[Path] = []
    for raw, paths, is_glob in resolved:
        if is_glob:
            if not paths:
                if ignore_missing:
                    warnings.append(f'values file glob "{raw}" matched no files (ignored: ignoreMissingValueFiles)')
                    continue
                raise RenderFailure(f'values file glob "{raw}" matched no files')
            files.extend(p for p in paths if p not in explicit and p not in files)
            continue
        path = paths[0]
        if not path.is_file():
            if ignore_missing:
                warnings.append(f"value file {raw} does not exist (ignored: ignoreMissingValueFiles)")
                continue
            raise RenderFailure(f"value file {raw} does not exist")
        if path not in files:
            files.append(path)
    return files, warnings


def _expand_glob(text: str, scope: _FileScope) -> list[Path]:
    """The files a value-file glob matches, in doublestar order; matches outside the root are refused."""
    anchor = scope.root if text.startswith("/") else scope.base
    pattern = text.lstrip("/") if text.startswith("/") else text
    # Resolve leading `..` segments against the anchor, as Argo CD resolves the pattern's base path.
    parts = pattern.split("/")
    while parts and parts[0] in ("..", "."):
        anchor = anchor.parent if parts[0] == ".." else anchor
        parts = parts[1:]
    if not _inside(anchor, scope.root):
        raise RenderFailure(f"values file glob {text!r} resolves outside the repository")
    if not doublestar_valid("/".join(parts)):
        raise RenderFailure(f"values file glob {text!r} is not a valid pattern")
    matches = doublestar_glob(anchor, "/".join(parts))
    outside = [m for m in matches if not _inside(m, scope.root)]
    if outside:
        raise RenderFailure(f"values file glob {text!r} matches a symlink that leaves the repository")
    return [m.resolve() for m in matches]


def build_template(
    app: App,
    source: AppSource,
    chart_dir: Path,
    chart_label: str,
    env: BuildEnv,
    ctx: RenderContext,
    refs: Mapping[str, Path],
) -> tuple[HelmTemplate, list[str]]:
    """Translate `spec.source.helm` into the `helm template` inputs Argo CD would use."""
    helm = source.spec.get("helm") if isinstance(source.spec.get("helm"), Mapping) else {}
    assert isinstance(helm, Mapping)
    release = str(helm.get("releaseName") or app.name)
    if len(release) > MAX_RELEASE_NAME:
        raise RenderFailure(f"release name {release!r} exceeds Helm's maximum of {MAX_RELEASE_NAME} characters")
    # A pulled chart is its own repository root (repository.go runs helmTemplate in the extracted chart).
    repo_root = ctx.root if _inside(chart_dir, ctx.root) else chart_dir
    declared_refs = frozenset(s.ref for s in app.sources if s.ref)
    value_files, warnings = _expand_value_files(
        list(helm.get("valueFiles") or []),
        chart_dir,
        repo_root,
        refs,
        declared_refs,
        env,
        bool(helm.get("ignoreMissingValueFiles")),
    )
    inline: Mapping[str, Any] | None = None
    if isinstance(helm.get("valuesObject"), Mapping):
        inline = helm["valuesObject"]
    elif helm.get("values"):
        raw = helm["values"]
        if isinstance(raw, Mapping):
            inline = raw
        else:
            try:
                parsed = load_yaml(str(raw), file="helm.values")
            except ManifestError as exc:
                raise RenderFailure(f"helm.values is not valid YAML: {exc}") from None
            if parsed is not None and not isinstance(parsed, Mapping):
                raise RenderFailure("helm.values must be a YAML mapping")
            inline = parsed
    # repository.go keeps parameters in a map by name (the last one wins), then env-substitutes them.
    sets: dict[str, str] = {}
    set_strings: dict[str, str] = {}
    for param in helm.get("parameters") or []:
        if not isinstance(param, Mapping) or not param.get("name"):
            raise RenderFailure("helm.parameters entries need a name")
        target = set_strings if param.get("forceString") else sets
        target[str(param["name"])] = env.substitute(str(param.get("value", "")))
    set_files: dict[str, str] = {}
    for param in helm.get("fileParameters") or []:
        if not isinstance(param, Mapping) or not param.get("name") or not param.get("path"):
            raise RenderFailure("helm.fileParameters entries need name and path")
        scope, text = _value_file_scope(str(param["path"]), chart_dir, repo_root, refs, declared_refs, env)
        path = _resolve_in_scope(text, scope)
        if not _inside(path, scope.root):
            raise RenderFailure(f"helm.fileParameters path {text} resolves outside the repository")
        if not path.is_file():
            raise RenderFailure(f"helm.fileParameters path {param['path']} does not exist")
        set_files[str(param["name"])] = str(path.resolve())
    kube_version, api_versions = cluster_facts(app, ctx, helm)
    return (
        HelmTemplate(
            chart_dir=chart_dir,
            chart_label=chart_label,
            release=release,
            namespace=str(helm.get("namespace") or app.destination.namespace),
            kube_version=kube_version.lstrip("v"),
            api_versions=api_versions,
            value_files=tuple(value_files),
            inline_values=inline,
            set_values=tuple(f"{k}={_escape_set(v)}" for k, v in sets.items()),
            set_strings=tuple(f"{k}={_escape_set(v)}" for k, v in set_strings.items()),
            set_files=tuple(f"{k}={_escape_set(v)}" for k, v in set_files.items()),
            include_crds=not helm.get("skipCrds", False),
            skip_tests=bool(helm.get("skipTests", False)),
            skip_schema_validation=bool(helm.get("skipSchemaValidation", False)),
        ),
        warnings,
    )


# --- running it ---------------------------------------------------------------------------------------


@cache
def helm_backend() -> str:
    """`cli` when a `helm` binary is on PATH, else `sdk` (in-process Helm)."""
    return "cli" if shutil.which("helm") else "sdk"


@cache
def helm_version() -> str:
    if helm_backend() == "cli":
        try:
            return proc.run(["helm", "version", "--short"], timeout=30).stdout.strip()
        except ToolError:
            return "unknown"
    try:
        import helm_python

        return f"{helm_python.helm_sdk_version()} (in-process SDK)"
    except Exception:
        return "missing"


def _merge_maps(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's mergeMaps (pkg/cli/values/options.go): maps merge recursively, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge_maps(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _sdk_render(tpl: HelmTemplate, timeout: float) -> dict[str, str]:
    import helm_python

    def work() -> dict[str, str]:
        values: dict[str, Any] = {}
        for path in tpl.value_files:
            parsed = helm_python.values_from_yaml(path.read_text(encoding="utf-8"))
            values = _merge_maps(values, parsed or {})
        if tpl.inline_values is not None:
            values = _merge_maps(values, json.loads(json.dumps(tpl.inline_values, default=str)))
        # pkg/cli/values/options.go MergeValues: all --set, then all --set-string, then --set-file.
        for arg in tpl.set_values:
            values = _merge_maps(values, helm_python.parse_set_string(arg))
        for arg in tpl.set_strings:
            values = _merge_maps(values, helm_python.parse_set_string_values(arg))
        for arg in tpl.set_files:
            values = _merge_maps(values, helm_python.parse_set_file(arg))
        with tempfile.TemporaryDirectory(prefix="gitops-reviewer-chart-") as tmp:
            # The SDK's render validates values against every values.schema.json (as `helm template`
            # does); `--skip-schema-validation` is rendering a copy of the chart without them.
            chart_dir = _without_schemas(tpl.chart_dir, Path(tmp)) if tpl.skip_schema_validation else tpl.chart_dir
            return _sdk_render_chart(chart_dir, tpl, values)

    try:
        return proc.call_with_timeout(work, timeout=timeout, what="helm template")
    except ToolError as exc:
        raise RenderFailure(str(exc)) from None
    except helm_python.HelmError as exc:
        raise RenderFailure("helm template failed", stderr=proc.trim(str(exc))) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RenderFailure(f"helm template failed: cannot read its inputs: {exc}") from None


def _without_schemas(chart_dir: Path, tmp: Path) -> Path:
    """A copy of the chart (subchart archives unpacked) with every values.schema.json removed."""
    import helm_python

    copy = tmp / chart_dir.name
    shutil.copytree(chart_dir, copy, symlinks=False)
    while archives := [p for p in copy.rglob("charts/*.tgz") if p.is_file()]:
        for archive in archives:
            helm_python.expand(archive.parent, archive)
            archive.unlink()
    for schema in copy.rglob("values.schema.json"):
        schema.unlink()
    return copy


def _sdk_render_chart(chart_dir: Path, tpl: HelmTemplate, values: dict[str, Any]) -> dict[str, str]:
    """One in-process render: template name -> rendered text, CRDs under `\0crd:<file>` keys."""
    import helm_python
    from helm_python import _native

    opts = {
        "name": tpl.release,
        "namespace": tpl.namespace or "default",
        "kube_version": f"v{tpl.kube_version}" if tpl.kube_version else None,
        "api_versions": list(tpl.api_versions),
        "is_install": True,
        "revision": 1,
    }
    with helm_python.Chart.load(chart_dir) as chart:
        out = _native.call_string(
            "helm_render",
            chart._raw(),
            json.dumps(values),
            json.dumps({k: v for k, v in opts.items() if v is not None}),
        )
        rendered: dict[str, str] = json.loads(out)
        if tpl.include_crds:
            for crd in chart.crds:
                rendered[f"\0crd:{crd['filename']}"] = crd["data"]
    return rendered


def _cli_render(tpl: HelmTemplate, timeout: float) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="gitops-reviewer-helm-") as tmp:
        values_file = Path(tmp) / "values.yaml"
        if tpl.inline_values is not None:
            values_file.write_text(dump_yaml_for_go(dict(tpl.inline_values)), encoding="utf-8")
        env = proc.scrubbed_env(
            {
                "HELM_CACHE_HOME": f"{tmp}/cache",
                "HELM_CONFIG_HOME": f"{tmp}/config",
                "HELM_DATA_HOME": f"{tmp}/data",
            },
            home=tmp,
        )
        try:
            out = proc.run(tpl.argv(str(values_file)), cwd=tpl.chart_dir, timeout=timeout, env=env).stdout
        except ToolError as exc:
            raise RenderFailure(
                "helm template failed", exit_code=exc.returncode, stderr=exc.stderr or str(exc)
            ) from None
    rendered: dict[str, str] = {}
    parts = _SOURCE_COMMENT.split(out)
    for name, text in zip(parts[1::2], parts[2::2], strict=False):
        key = name.strip()
        rendered[key] = rendered.get(key, "") + "\n---\n" + text
    return rendered


def _is_test_hook(body: Mapping[str, Any]) -> bool:
    meta = body.get("metadata")
    ann = meta.get("annotations") if isinstance(meta, Mapping) else None
    hooks = str(ann.get("helm.sh/hook", "")) if isinstance(ann, Mapping) else ""
    return any(h.strip().startswith("test") for h in hooks.split(","))


def check_dependencies(chart_dir: Path, label: str) -> None:
    """Fail closed on declared-but-missing dependencies: the SDK would render without them, which looks
    like every subchart resource being deleted (corpus README)."""
    import helm_python

    try:
        deps = helm_python.dependency_list(chart_dir)
    except helm_python.HelmError as exc:
        raise RenderFailure(f"cannot read the dependencies of chart {label}: {exc}") from None
    bad = [d for d in deps if d.get("status") not in ("ok", "unpacked")]
    if bad:
        listed = ", ".join(
            f"{d.get('name')} {d.get('version')} ({d.get('status')}, {d.get('repository')})" for d in bad
        )
        raise RenderFailure(
            f"chart {label} has dependencies that are not vendored in charts/: {listed}. Argo CD would run "
            "`helm dependency build`; the gate does not fetch them offline, so it cannot render this chart"
        )


def run_template(tpl: HelmTemplate, ctx: RenderContext) -> list[Produced]:
    command = tpl.describe(ctx.root)
    check_dependencies(tpl.chart_dir, tpl.chart_label)
    try:
        if helm_backend() == "cli":
            rendered = _cli_render(tpl, ctx.config.render_timeout)
        else:
            rendered = _sdk_render(tpl, ctx.config.render_timeout)
    except RenderFailure as exc:
        raise RenderFailure(str(exc), command=command, exit_code=exc.returncode, stderr=exc.stderr) from None
    chart_name = _chart_name(tpl.chart_dir)
    crds: list[Produced] = []
    produced: list[Produced] = []
    for name in sorted(rendered):
        text = rendered[name]
        if name.endswith("NOTES.txt") or Path(name).name.startswith("_"):
            continue
        is_crd = name.startswith("\0crd:")
        rel_name = name[len("\0crd:") :] if is_crd else name
        location = Location(_provenance(rel_name, chart_name, tpl, ctx))
        try:
            docs = load_yaml_stream(text, file=rel_name)
        except ManifestError as exc:
            raise RenderFailure(f"helm produced invalid YAML in {rel_name}: {exc}", command=command) from None
        for doc in docs:
            if not isinstance(doc.data, Mapping):
                raise RenderFailure(f"helm produced a document that is not an object in {rel_name}", command=command)
            if tpl.skip_tests and _is_test_hook(doc.data):
                continue
            (crds if is_crd else produced).append(Produced(doc.data, Location(location.file, None)))
    return crds + produced


def _chart_name(chart_dir: Path) -> str:
    try:
        data = load_yaml((chart_dir / "Chart.yaml").read_text(encoding="utf-8"))
    except (OSError, ManifestError):
        return chart_dir.name
    return str(data.get("name")) if isinstance(data, Mapping) and data.get("name") else chart_dir.name


def _provenance(template: str, chart_name: str, tpl: HelmTemplate, ctx: RenderContext) -> str:
    """`web/templates/x.yaml` -> `<chart dir>/templates/x.yaml`, repo-relative when the chart is in it."""
    rel = template.split("/", 1)[1] if template.startswith(f"{chart_name}/") else template
    local = tpl.chart_dir / rel
    inside = ctx.rel(local)
    return inside if not inside.startswith("/") else f"{tpl.chart_label}: {rel}"


def render_helm(
    app: App,
    source: AppSource,
    app_dir: Path,
    env: BuildEnv,
    ctx: RenderContext,
    refs: Mapping[str, Path],
    warnings: list[str],
) -> list[Produced]:
    """A Helm chart in this repo (the app path)."""
    if not (app_dir / "Chart.yaml").is_file():
        raise RenderFailure(f"app path {source.path!r} is not a Helm chart (no Chart.yaml)")
    tpl, notes = build_template(app, source, app_dir, ctx.rel(app_dir) or ".", env, ctx, refs)
    warnings.extend(notes)
    return run_template(tpl, ctx)
