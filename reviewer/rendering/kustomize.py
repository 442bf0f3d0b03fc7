"""Kustomize sources (reference §C.2; Argo CD util/kustomize/kustomize.go Build).

Argo CD applies `spec.source.kustomize` by running `kustomize edit` on the checked-out kustomization
file, then `kustomize build <path>`. The gate makes the same edits to the same file in its private
tree (restoring it afterwards) and builds with the `kustomize` binary, or `kubectl kustomize` when
that is all there is. `kubectl kustomize` has no `edit`, so the edits are written here, each one
mirroring the kustomize command Argo CD would run. The build also asks kustomize for origin
annotations, which name the file each resource came from; they are removed from the output.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .. import proc
from ..errors import ManifestError, RenderFailure, ToolError
from ..records import App, AppSource, Location
from ..trees import resolved
from ..yamlio import dump_yaml_for_go, load_yaml, load_yaml_stream
from .cluster_facts import cluster_facts
from .context import RenderContext
from .kustomize_graph import KustomizeGraphs, find_kustomization, walk_kustomization
from .manifests import Produced
from .source import BuildEnv

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
_SAFE_BUILD_OPTIONS = {"--enable-helm", "--reorder", "--enable-managedby-label"}
# Options that run code or read outside the repo (`--helm-command` picks the binary to execute,
# `--load-restrictor LoadRestrictionsNone` lifts the repo boundary): only with render.allowKustomizePlugins.
_PLUGIN_OPTIONS = {
    "--enable-alpha-plugins",
    "--enable-exec",
    "--enable-star",
    "--mount",
    "--env",
    "-e",
    "--helm-command",
    "--load-restrictor",
    "--load_restrictor",
    "--network",
}
# Go's HTTP client honours these; a closed loopback port makes remote fetches fail at once.
_NO_NETWORK = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "GIT_ALLOW_PROTOCOL": "file",
}


@cache
def kustomize_command() -> tuple[str, ...]:
    """`kustomize build` if the binary exists, else `kubectl kustomize` (same engine, bundled)."""
    if shutil.which("kustomize"):
        return ("kustomize", "build")
    if shutil.which("kubectl"):
        return ("kubectl", "kustomize")
    raise RenderFailure("neither `kustomize` nor `kubectl` is installed: kustomize apps cannot be rendered")


@cache
def kustomize_version() -> str:
    try:
        cmd = kustomize_command()
    except RenderFailure:
        return "missing"
    argv = ["kustomize", "version"] if cmd[0] == "kustomize" else ["kubectl", "version", "--client"]
    try:
        out = proc.run(argv, timeout=30).stdout
    except ToolError:
        return "unknown"
    match = re.search(r"Kustomize Version:\s*(\S+)", out) or re.search(r"(v?\d+\.\d+\.\d+)", out)
    return match.group(1) if match else out.strip()


def split_image_name(image: str) -> tuple[str, str, str]:
    """kustomize api/pkg/util SplitImageName: (name, tag, digest). A `:` before the first `/` is a
    registry port, not a tag."""
    slash = image.find("/")
    offset = slash if slash > 0 else 0
    search = image[offset:]
    at, colon = search.find("@"), search.find(":")
    if at < 0 and colon < 0:
        return image, "", ""
    if at >= 0 and (colon < 0 or at < colon):
        return image[: offset + at], "", image[offset + at + 1 :]
    if at >= 0:
        return image[: offset + colon], image[offset + colon + 1 : offset + at], image[offset + at + 1 :]
    return image[: offset + colon], image[offset + colon + 1 :], ""


_PRESERVE = "*"


def parse_image_arg(arg: str) -> dict[str, str]:
    """One `kustomize edit set image` argument: `[name=]newName[:tag][@digest]`, or `name:tag` /
    `name@digest` (kustomize/commands/edit/set/setimage.go `parse`)."""
    key, sep, value = arg.partition("=")
    if not sep:
        key, value = "", arg
    name, tag, digest = split_image_name(value)
    if name == arg:
        raise RenderFailure(
            f"kustomize edit set image: invalid format of image {arg!r} (use name=newName:tag, name:tag or name@digest)"
        )
    entry = {"name": key or name, "newName": name if key else "", "newTag": tag, "digest": digest}
    return entry


def set_images(current: list[dict[str, Any]], args: list[str]) -> list[dict[str, Any]]:
    """`kustomize edit set image`: an argument replaces the entry of the same name (a `*` keeps that
    field from the existing entry); entries not named are kept; the result is sorted by name."""
    by_name: dict[str, dict[str, str]] = {}
    for arg in args:
        entry = parse_image_arg(arg)
        by_name[entry["name"]] = entry
    for existing in current:
        name = str(existing.get("name", ""))
        if name in by_name:
            entry = by_name[name]
            for field in ("newName", "newTag", "digest"):
                if entry[field] == _PRESERVE:
                    entry[field] = str(existing.get(field) or "")
            continue
        by_name[name] = dict(existing)
    result = []
    for name in sorted(by_name):
        entry = by_name[name]
        for field in ("newName", "newTag", "digest"):
            if entry.get(field) == _PRESERVE:
                entry[field] = ""
        result.append({k: v for k, v in entry.items() if v not in ("", None) or k == "name"})
    return result


def _str_map(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RenderFailure(f"kustomize.{what} must be a mapping")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def apply_edits(kustomization: dict[str, Any], options: Mapping[str, Any], env: BuildEnv, app_dir: Path) -> list[str]:
    """Apply Argo CD's `kustomize edit` sequence to a parsed kustomization; returns the commands mirrored."""
    done: list[str] = []
    if options.get("namePrefix"):
        kustomization["namePrefix"] = str(options["namePrefix"])
        done.append(f"edit set nameprefix -- {options['namePrefix']}")
    if options.get("nameSuffix"):
        kustomization["nameSuffix"] = str(options["nameSuffix"])
        done.append(f"edit set namesuffix -- {options['nameSuffix']}")
    images = options.get("images") or []
    if images:
        args = [env.substitute(str(i)) for i in images]
        current = [dict(i) for i in kustomization.get("images") or [] if isinstance(i, Mapping)]
        kustomization["images"] = set_images(current, args)
        done.append("edit set image " + " ".join(args))
    replicas = options.get("replicas") or []
    if replicas:
        current_r = [dict(r) for r in kustomization.get("replicas") or [] if isinstance(r, Mapping)]
        for raw in replicas:
            if not isinstance(raw, Mapping) or "name" not in raw:
                raise RenderFailure("kustomize.replicas entries need name and count")
            try:
                count = int(str(raw.get("count")))
            except ValueError:
                raise RenderFailure(f"kustomize.replicas count {raw.get('count')!r} is not an integer") from None
            entry_r = {"name": str(raw["name"]), "count": count}
            current_r = [r for r in current_r if r.get("name") != entry_r["name"]] + [entry_r]
        kustomization["replicas"] = current_r
        done.append("edit set replicas")
    labels = {k: env.substitute(v) for k, v in _str_map(options.get("commonLabels"), "commonLabels").items()}
    if labels:
        force = bool(options.get("forceCommonLabels"))
        if options.get("labelIncludeTemplates") and not options.get("labelWithoutSelector"):
            raise RenderFailure(
                "kustomize edit add label: --without-selector flag must be specified for --include-templates to work"
            )
        if options.get("labelWithoutSelector"):
            entry_l: dict[str, Any] = {"pairs": labels, "includeSelectors": False}
            if options.get("labelIncludeTemplates"):
                entry_l["includeTemplates"] = True
            kustomization["labels"] = [*(kustomization.get("labels") or []), entry_l]
        else:
            existing_l = dict(kustomization.get("commonLabels") or {})
            clash = sorted(set(existing_l) & set(labels))
            if clash and not force:
                raise RenderFailure(f"kustomize edit add label: label {clash[0]} already in kustomization file")
            kustomization["commonLabels"] = {**existing_l, **labels}
        done.append("edit add label")
    annotations = _str_map(options.get("commonAnnotations"), "commonAnnotations")
    if options.get("commonAnnotationsEnvsubst"):
        annotations = {k: env.substitute(v) for k, v in annotations.items()}
    if annotations:
        existing_a = dict(kustomization.get("commonAnnotations") or {})
        clash = sorted(set(existing_a) & set(annotations))
        if clash and not options.get("forceCommonAnnotations"):
            raise RenderFailure(f"kustomize edit add annotation: annotation {clash[0]} already in kustomization file")
        kustomization["commonAnnotations"] = {**existing_a, **annotations}
        done.append("edit add annotation")
    if options.get("namespace"):
        kustomization["namespace"] = str(options["namespace"])
        done.append(f"edit set namespace -- {options['namespace']}")
    patches = options.get("patches") or []
    if patches:
        kustomization["patches"] = [*(kustomization.get("patches") or []), *patches]
        done.append("patches appended")
    components = options.get("components") or []
    if components:
        current_c = list(kustomization.get("components") or [])
        for comp in components:
            comp = str(comp)
            if not (app_dir / comp).exists() and "://" not in comp:
                if options.get("ignoreMissingComponents"):
                    continue
                raise RenderFailure(f"kustomize edit add component: {comp} does not exist")
            if comp not in current_c:
                current_c.append(comp)
        kustomization["components"] = current_c
        done.append("edit add component")
    return done


def _build_options(app: App, ctx: RenderContext, options: Mapping[str, Any]) -> list[str]:
    extra = list(ctx.config.kustomize_build_options)
    flags = {o.split("=", 1)[0] for o in extra if o.startswith("-")}
    refused = sorted(flags & _PLUGIN_OPTIONS)
    if refused and not ctx.config.allow_kustomize_plugins:
        raise RenderFailure(
            f"kustomize build option(s) {', '.join(refused)} run plugins; allow them with "
            "render.allowKustomizePlugins in the base revision's .gitops-reviewer.yaml"
        )
    unknown = sorted(flags - _SAFE_BUILD_OPTIONS - _PLUGIN_OPTIONS)
    if unknown:
        raise RenderFailure(f"unsupported kustomize build option(s): {', '.join(unknown)}")
    if "--enable-helm" in flags:
        # parseKustomizeBuildOptions: Argo CD passes the cluster facts to Helm inside kustomize.
        kube, api_versions = cluster_facts(app, ctx, options)
        extra += ["--helm-kube-version", kube]
        for api in api_versions:
            extra += ["--helm-api-versions", api]
    return extra


def _origin(body: dict[str, Any], app_dir: Path, ctx: RenderContext, strip: bool) -> Location | None:
    meta = body.get("metadata")
    ann = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(ann, dict) or ORIGIN_ANNOTATION not in ann:
        return None
    raw = ann[ORIGIN_ANNOTATION]
    if strip:
        ann = dict(ann)
        del ann[ORIGIN_ANNOTATION]
        meta = dict(meta) if isinstance(meta, dict) else {}
        if ann:
            meta["annotations"] = ann
        else:
            meta.pop("annotations", None)
        body["metadata"] = meta
    try:
        origin = load_yaml(str(raw))
    except ManifestError:
        return None
    if not isinstance(origin, Mapping):
        return None
    if origin.get("path") and not origin.get("repo"):
        return Location(ctx.rel(app_dir / str(origin["path"])))
    if origin.get("configuredIn"):
        return Location(ctx.rel(app_dir / str(origin["configuredIn"])))
    return None


_KLOG_PREFIX = re.compile(r"^[EWI]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [\w.]+:\d+\] ", re.M)


def _redact(text: str, ctx: RenderContext) -> str:
    """Tool messages name files by their path in the private tree; show them relative to the repo.
    Deprecation warnings and log prefixes are dropped so the error itself is what the reader sees."""
    for root in {str(ctx.root.resolve()), str(ctx.root)}:
        text = text.replace(root + "/", "").replace(root, ".")
    lines = [line for line in text.splitlines() if not line.startswith("# Warning: ")]
    return _KLOG_PREFIX.sub("", "\n".join(lines)).strip()


def remote_references(app_dir: Path, root: Path, graphs: KustomizeGraphs | None = None) -> list[tuple[str, str]]:
    """(kustomization file, reference) for every remote resource/base/component/chart reachable from app_dir."""
    found = []
    for kfile, entry in walk_kustomization(app_dir, graphs).remote:
        try:
            rel = kfile.relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = str(kfile)
        found.append((rel, entry))
    return found


def render_kustomize(
    app: App,
    source: AppSource,
    app_dir: Path,
    env: BuildEnv,
    ctx: RenderContext,
    refs: Mapping[str, Path],
    warnings: list[str],
) -> list[Produced]:
    options = source.spec.get("kustomize") if isinstance(source.spec.get("kustomize"), Mapping) else {}
    assert isinstance(options, Mapping)
    if not app_dir.is_dir():
        raise RenderFailure(f"app path {source.path!r} does not exist")
    kfile = find_kustomization(app_dir)
    build_options = _build_options(app, ctx, options)
    argv = [*kustomize_command(), str(app_dir), *build_options]
    command = proc.describe([*kustomize_command(), ctx.rel(app_dir) or ".", *build_options])
    run_env = proc.scrubbed_env(None if ctx.config.allow_remote_bases else _NO_NETWORK)
    # Every directory the build reads, known before any edit is written (the graph is read as committed).
    reads = set(walk_kustomization(app_dir, ctx.graphs).directories)
    for comp in options.get("components") or []:  # added by the edits below
        if (app_dir / str(comp)).is_dir():
            reads |= walk_kustomization(resolved(app_dir / str(comp)), ctx.graphs).directories
    if not ctx.config.allow_remote_bases:
        remote = remote_references(app_dir, ctx.root, ctx.graphs)
        if remote:
            where, what = remote[0]
            more = f" (and {len(remote) - 1} more)" if len(remote) > 1 else ""
            raise RenderFailure(
                f"{where} references the remote base {what}{more}; remote bases are not fetched, so this app "
                "cannot be rendered (allow them with render.allowRemoteBases in the base revision's config)",
                command=command,
            )
    # The edits are written into this app's own kustomization, so no other render may read it meanwhile;
    # the directories it only reads are held against other renders' edits (in Argo CD another app's
    # options never leak into this one's build: see rendering.dirlocks).
    with ctx.locks.hold(write=[resolved(app_dir)], read=reads):
        original = kfile.read_bytes() if kfile else None
        strip_origin = False
        try:
            if kfile is not None and original is not None:
                try:
                    data = load_yaml(original.decode("utf-8"), file=ctx.rel(kfile))
                except (ManifestError, UnicodeDecodeError) as exc:
                    raise RenderFailure(f"cannot read {ctx.rel(kfile)}: {exc}") from None
                if data is None:
                    data = {}  # an empty kustomization: `kustomize edit` still applies to it
                if isinstance(data, dict):
                    apply_edits(data, options, env, app_dir)
                    meta = list(data.get("buildMetadata") or [])
                    if "originAnnotations" not in meta:
                        strip_origin = True
                        data["buildMetadata"] = [*meta, "originAnnotations"]
                    kfile.write_text(dump_yaml_for_go(data), encoding="utf-8")
            elif options:
                raise RenderFailure(f"no kustomization file in {source.path!r} to apply kustomize options to")
            try:
                done = proc.run(argv, cwd=ctx.root, timeout=ctx.config.render_timeout, env=run_env)
            except ToolError as exc:
                stderr = _redact(exc.stderr, ctx)
                if exc.returncode is None:  # timed out, or could not be started
                    raise RenderFailure(f"kustomize build failed: {exc}", command=command, stderr=stderr) from None
                raise RenderFailure(
                    "kustomize build failed",
                    command=command,
                    exit_code=exc.returncode,
                    stderr=stderr or str(exc),
                ) from None
        finally:
            if kfile is not None and original is not None:
                kfile.write_bytes(original)
    try:
        docs = load_yaml_stream(done.stdout, file=f"kustomize build {ctx.rel(app_dir)}")
    except ManifestError as exc:
        raise RenderFailure(f"kustomize output is not valid YAML: {exc}", command=command) from None
    fallback = Location(ctx.rel(kfile) if kfile else ctx.rel(app_dir))
    produced = []
    for doc in docs:
        if not isinstance(doc.data, dict):
            raise RenderFailure("kustomize produced a document that is not an object", command=command)
        location = _origin(doc.data, app_dir, ctx, strip_origin) or fallback
        produced.append(Produced(doc.data, location))
    return produced
