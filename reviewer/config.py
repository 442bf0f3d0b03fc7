"""`.gitops-reviewer.yaml`: what the gate needs to know that the repo's manifests do not say.

Unknown keys are errors (a typo must not silently turn a protection off).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, ManifestError
from .llm.settings import LlmConfig, parse_llm_config
from .yamlio import load_yaml

CONFIG_FILE = ".gitops-reviewer.yaml"
DEFAULT_KUBE_VERSION = "1.33.0"


@dataclass(frozen=True, slots=True)
class Cluster:
    """A destination cluster, for the ApplicationSet `clusters` generator and for cluster facts."""

    name: str
    server: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    project: str = ""
    kube_version: str = ""
    api_versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    """The parsed `.gitops-reviewer.yaml` (every field at its default when the repo has none)."""

    repos: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()  # globs of repo paths whose Applications are not live (docs, examples)
    clusters: tuple[Cluster, ...] = ()
    apps: tuple[Mapping[str, Any], ...] = ()
    cluster_scoped: tuple[str, ...] = ()
    namespaced: tuple[str, ...] = ()
    kube_version: str = DEFAULT_KUBE_VERSION
    api_versions: tuple[str, ...] = ()
    render_timeout: float = 120.0
    kustomize_build_options: tuple[str, ...] = ()
    allow_kustomize_plugins: bool = False
    allow_remote_bases: bool = False
    chart_cache: str = ""
    diff_ignore: tuple[Mapping[str, Any], ...] = ()  # `diff.ignore`: ignoreDifferences applied to every app
    rules_disabled: tuple[str, ...] = ()  # `rules.disable`: rule ids that do not run
    rule_severities: Mapping[str, str] = field(default_factory=dict)  # `rules.severity`: id -> severity
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # `rules.options`: id -> options
    policy_files: tuple[str, ...] = ()  # `policies`: user policy files (CEL), repo-relative
    waivers: tuple[Any, ...] = ()  # `waivers`: reviewer.policies.waivers.Waiver records
    llm: LlmConfig = field(default_factory=LlmConfig)  # `llm`: the advisory LLM review (off by default)
    source: str = ""  # where it was read from, for messages


_TOP = {"repos", "clusters", "apps", "scopes", "render", "ignore", "diff", "rules", "policies", "waivers", "llm"}
_SEVERITIES = ("info", "warning", "error", "critical")
_RENDER = {
    "timeout",
    "kubeVersion",
    "apiVersions",
    "kustomizeBuildOptions",
    "allowKustomizePlugins",
    "allowRemoteBases",
    "chartCache",
}
_DIFF = {"ignore"}
_DIFF_IGNORE = {"group", "kind", "name", "namespace", "jsonPointers", "jqPathExpressions"}
_CLUSTER = {"name", "server", "labels", "annotations", "project", "kubeVersion", "apiVersions"}
_APP = {
    "name",
    "path",
    "repoURL",
    "targetRevision",
    "chart",
    "namespace",
    "server",
    "destinationName",
    "project",
    "helm",
    "kustomize",
    "directory",
    "plugin",
    "syncPolicy",
    "ignoreDifferences",
    "finalizers",
    "sources",
    "controlPlane",
}


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping, not {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(str(v) for v in value)


def _bool(value: Any, where: str) -> bool:
    """Strictly true or false: a quoted "false" must not switch a protection off."""
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def _diff_ignore(value: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    """`diff.ignore`: entries shaped like an Application's `ignoreDifferences` (group and kind are globs,
    as in Argo CD; an omitted group is the core group). `kind` is required: Argo CD matches an omitted
    kind against nothing, which in a config file can only be a mistake."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list")
    rules = []
    for i, raw in enumerate(value):
        entry = _mapping(raw, f"{where}[{i}]")
        _check_keys(entry, _DIFF_IGNORE, f"{where}[{i}]")
        if not entry.get("kind"):
            raise ConfigError(f"{where}[{i}] needs `kind` (`*` for every kind)")
        for text in ("group", "kind", "name", "namespace"):
            if entry.get(text) is not None and not isinstance(entry.get(text), str):
                raise ConfigError(f"{where}[{i}].{text} must be a string")
        fields = {k: str(entry.get(k) or "") for k in ("group", "kind", "name", "namespace")}
        pointers = _strings(entry.get("jsonPointers"), f"{where}[{i}].jsonPointers")
        jq_paths = _strings(entry.get("jqPathExpressions"), f"{where}[{i}].jqPathExpressions")
        if not pointers and not jq_paths:
            raise ConfigError(f"{where}[{i}] needs `jsonPointers` or `jqPathExpressions`")
        rules.append({**fields, "jsonPointers": list(pointers), "jqPathExpressions": list(jq_paths)})
    return tuple(rules)


def parse_config(data: Any, source: str = CONFIG_FILE) -> Config:
    top = _mapping(data, source)
    _check_keys(top, _TOP, source)
    render = _mapping(top.get("render"), f"{source}: render")
    _check_keys(render, _RENDER, f"{source}: render")
    scopes = _mapping(top.get("scopes"), f"{source}: scopes")
    _check_keys(scopes, {"clusterScoped", "namespaced"}, f"{source}: scopes")
    diff = _mapping(top.get("diff"), f"{source}: diff")
    _check_keys(diff, _DIFF, f"{source}: diff")
    clusters = []
    for i, raw in enumerate(top.get("clusters") or []):
        c = _mapping(raw, f"{source}: clusters[{i}]")
        _check_keys(c, _CLUSTER, f"{source}: clusters[{i}]")
        if not c.get("name") or not c.get("server"):
            raise ConfigError(f"{source}: clusters[{i}] needs both `name` and `server`")
        clusters.append(
            Cluster(
                name=str(c["name"]),
                server=str(c["server"]),
                labels={str(k): str(v) for k, v in _mapping(c.get("labels"), "labels").items()},
                annotations={str(k): str(v) for k, v in _mapping(c.get("annotations"), "annotations").items()},
                project=str(c.get("project") or ""),
                kube_version=str(c.get("kubeVersion") or ""),
                api_versions=_strings(c.get("apiVersions"), f"{source}: clusters[{i}].apiVersions"),
            )
        )
    apps = []
    for i, raw in enumerate(top.get("apps") or []):
        a = _mapping(raw, f"{source}: apps[{i}]")
        _check_keys(a, _APP, f"{source}: apps[{i}]")
        if not a.get("name") or not (a.get("path") is not None or a.get("chart") or a.get("sources")):
            raise ConfigError(f"{source}: apps[{i}] needs `name` and `path` (or `chart`, or `sources`)")
        apps.append(a)
    rules = _mapping(top.get("rules"), f"{source}: rules")
    _check_keys(rules, {"disable", "severity", "options"}, f"{source}: rules")
    severities = {str(k): str(v) for k, v in _mapping(rules.get("severity"), f"{source}: rules.severity").items()}
    bad = sorted(f"{k}: {v}" for k, v in severities.items() if v not in _SEVERITIES)
    if bad:
        raise ConfigError(f"{source}: rules.severity: {', '.join(bad)} (severities: {', '.join(_SEVERITIES)})")
    options = _mapping(rules.get("options"), f"{source}: rules.options")
    try:
        timeout = float(render.get("timeout", 120))
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: render.timeout must be a number of seconds") from None
    return Config(
        repos=_strings(top.get("repos"), f"{source}: repos"),
        ignore=_strings(top.get("ignore"), f"{source}: ignore"),
        clusters=tuple(clusters),
        apps=tuple(apps),
        cluster_scoped=_strings(scopes.get("clusterScoped"), f"{source}: scopes.clusterScoped"),
        namespaced=_strings(scopes.get("namespaced"), f"{source}: scopes.namespaced"),
        kube_version=str(render.get("kubeVersion") or DEFAULT_KUBE_VERSION).lstrip("v"),
        api_versions=_strings(render.get("apiVersions"), f"{source}: render.apiVersions"),
        render_timeout=timeout,
        kustomize_build_options=_strings(
            render.get("kustomizeBuildOptions"), f"{source}: render.kustomizeBuildOptions"
        ),
        allow_kustomize_plugins=_bool(
            render.get("allowKustomizePlugins", False), f"{source}: render.allowKustomizePlugins"
        ),
        allow_remote_bases=_bool(render.get("allowRemoteBases", False), f"{source}: render.allowRemoteBases"),
        chart_cache=str(render.get("chartCache") or ""),
        diff_ignore=_diff_ignore(diff.get("ignore"), f"{source}: diff.ignore"),
        rules_disabled=_strings(rules.get("disable"), f"{source}: rules.disable"),
        rule_severities=severities,
        rule_options={str(k): _mapping(v, f"{source}: rules.options.{k}") for k, v in options.items()},
        policy_files=_strings(top.get("policies"), f"{source}: policies"),
        waivers=_waivers(top.get("waivers"), f"{source}: waivers"),
        llm=parse_llm_config(top.get("llm"), f"{source}: llm"),
        source=source,
    )


def _waivers(value: Any, where: str) -> tuple[Any, ...]:
    """Waivers are parsed by the policy package, which itself needs this module: imported late."""
    from .policies.waivers import parse_waivers

    return parse_waivers(value, where)


def config_from_text(text: str, source: str = CONFIG_FILE) -> Config:
    """A config from the text of a config file (read from git rather than a checkout)."""
    if "\ufffd" in text:
        raise ConfigError(f"cannot read {source}: it is not UTF-8 text")
    try:
        data = load_yaml(text, file=source)
    except ManifestError as exc:
        raise ConfigError(f"cannot read {source}: {exc}") from None
    return parse_config(data, source)


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read a config file; a missing optional file is the default config."""
    if not path.is_file():
        if required:
            raise ConfigError(f"config file {path} does not exist")
        return Config(source="(defaults)")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), file=str(path))
    except ManifestError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return parse_config(data, str(path))
