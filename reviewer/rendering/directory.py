"""Directory sources: plain YAML/JSON files and Jsonnet (reference §C.1; repository.go findManifests)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .. import proc
from ..errors import ManifestError, RenderFailure, ToolError
from ..globs import gobwas_match
from ..records import App, AppSource, Location
from ..trees import resolved
from ..yamlio import Document, GoLikeLoader, load_json, load_yaml_stream
from .context import RenderContext
from .manifests import Produced
from .source import BuildEnv, resolve_path

MANIFEST_FILE = re.compile(r"^.*\.(yaml|yml|json|jsonnet)$")
SKIP_MARKER = "+argocd:skip-file-rendering"


def _walk(app_dir: Path, recurse: bool) -> list[Path]:
    """filepath.Walk order: lexical, files and directories interleaved by name."""
    found: list[Path] = []

    def visit(directory: Path) -> None:
        for name in sorted(os.listdir(directory)):
            path = directory / name
            if path.is_dir() and not path.is_symlink():
                if recurse:
                    visit(path)
                continue
            found.append(path)

    visit(app_dir)
    return found


def _looks_like_manifest(text: str) -> bool:
    return "apiVersion:" in text and "kind:" in text and "metadata:" in text


def _is_object(data: Any) -> bool:
    """What k8s' YAMLOrJSONDecoder accepts as an Unstructured: a mapping with a kind (apiVersion is not
    checked there; a missing one is reported later, for the object)."""
    return isinstance(data, Mapping) and isinstance(data.get("kind"), str) and bool(data.get("kind"))


def _objects_before_error(text: str) -> bool:
    """Whether the stream yields a Kubernetes object before the document that fails to parse."""
    loader = GoLikeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            return _is_object(loader.construct_document(node))
    except yaml.YAMLError:
        return False
    finally:
        loader.dispose()
    return False


def _yaml_objects(text: str, rel: str, parsed: Mapping[str, list[Document]]) -> list[Produced]:
    """getObjsFromYAMLOrJSON: a file with any bad document fails if it produced objects before the
    error or looks like a manifest; otherwise it is an unrelated YAML file and is ignored. `parsed`:
    texts the revision's scan has parsed already (the documents are never changed, only read)."""
    produced: list[Produced] = []
    try:
        docs = parsed.get(text)
        if docs is None:
            docs = load_yaml_stream(text, file=rel)
    except ManifestError as exc:
        if _looks_like_manifest(text) or _objects_before_error(text):
            raise RenderFailure(f"failed to unmarshal {rel}: {exc}") from None
        return []
    for doc in docs:
        data = doc.data
        if not _is_object(data):
            if produced or _looks_like_manifest(text):
                raise RenderFailure(
                    f"failed to unmarshal {rel}:{doc.line}: document is not a Kubernetes object "
                    "(Object 'Kind' is missing)"
                )
            return []
        produced.append(Produced(data, Location(rel, doc.line)))
    return produced


def _jsonnet(
    path: Path, rel: str, app_dir: Path, spec: Mapping[str, Any], env: BuildEnv, ctx: RenderContext
) -> list[Produced]:
    try:
        import _gojsonnet  # the Go implementation Argo CD itself uses (google/go-jsonnet)
    except ImportError:  # pragma: no cover - dependency of the package
        raise RenderFailure("Jsonnet support needs the gojsonnet package") from None
    options = spec.get("jsonnet") if isinstance(spec.get("jsonnet"), Mapping) else {}
    assert isinstance(options, Mapping)
    jpaths = [str(app_dir)] + [str(resolve_path(ctx.root, str(lib))) for lib in options.get("libs") or []]
    kwargs: dict[str, Any] = {
        "jpathdir": jpaths,
        "ext_vars": {},
        "ext_codes": {},
        "tla_vars": {},
        "tla_codes": {},
    }
    for field, plain, code in (("extVars", "ext_vars", "ext_codes"), ("tlas", "tla_vars", "tla_codes")):
        for var in options.get(field) or []:
            if not isinstance(var, Mapping) or "name" not in var:
                raise RenderFailure(f"jsonnet {field} entries need a name")
            value = env.substitute(str(var.get("value", "")))
            kwargs[code if var.get("code") else plain][str(var["name"])] = value
    try:
        out = proc.call_with_timeout(
            lambda: str(_gojsonnet.evaluate_file(str(path), **kwargs)),
            timeout=ctx.config.render_timeout,
            what=f"jsonnet {rel}",
        )
    except ToolError as exc:
        raise RenderFailure(str(exc)) from None
    except RuntimeError as exc:
        # The message names files by their path in the private tree; show them relative to the repo.
        message = str(exc).strip().replace(f"{ctx.root.resolve()}/", "").replace(f"{ctx.root}/", "")
        raise RenderFailure(f"failed to evaluate jsonnet {rel}: {message}") from None
    data = json.loads(out)
    items = data if isinstance(data, list) else [data]
    result = []
    for item in items:
        if not isinstance(item, Mapping):
            raise RenderFailure(f"jsonnet {rel} produced something other than objects")
        result.append(Produced(item, Location(rel)))
    return result


def render_directory(
    app: App,
    source: AppSource,
    app_dir: Path,
    env: BuildEnv,
    ctx: RenderContext,
    refs: Mapping[str, Path],
    warnings: list[str],
) -> list[Produced]:
    """Every manifest file of the app path (recursively when asked), filtered by include/exclude."""
    spec = source.spec.get("directory") if isinstance(source.spec.get("directory"), Mapping) else {}
    assert isinstance(spec, Mapping)
    if not app_dir.is_dir():
        raise RenderFailure(f"app path {source.path!r} does not exist")
    recurse = bool(spec.get("recurse", False))
    any_extension = spec.get("disableExtensionFilter") is True
    include, exclude = str(spec.get("include") or ""), str(spec.get("exclude") or "")
    root = resolved(ctx.root)
    produced: list[Produced] = []
    for path in _walk(app_dir, recurse):
        # `disableExtensionFilter: true` reads every file, whatever its name (docs/user-guide/directory.md).
        if not any_extension and not MANIFEST_FILE.match(path.name):
            continue
        rel_to_app = path.relative_to(app_dir).as_posix()
        real = resolved(path)
        if path.is_symlink():
            if not real.exists():
                continue  # Argo CD logs "destination of symlink is missing" and skips it
            if real != root and root not in real.parents:
                raise RenderFailure(f"illegal filepath in symlink at {rel_to_app!r}: it leaves the repository")
        if not real.is_file():
            continue
        if exclude and gobwas_match(exclude, rel_to_app):
            continue
        if include and not gobwas_match(include, rel_to_app):
            continue
        rel = ctx.rel(path)
        try:
            raw = real.read_bytes()
        except OSError as exc:
            raise RenderFailure(f"cannot read {rel}: {exc}") from None
        # getPotentiallyValidManifestFile: the marker skips any matching file, Jsonnet included.
        if SKIP_MARKER.encode() in raw:
            continue
        if path.name.endswith(".jsonnet"):
            produced.extend(_jsonnet(real, rel, app_dir, spec, env, ctx))
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RenderFailure(f"cannot read {rel}: {exc}") from None
        if path.name.endswith(".json"):
            try:
                data = load_json(text, file=rel)
            except ManifestError as exc:
                raise RenderFailure(f"failed to unmarshal {rel}: {exc}") from None
            if not isinstance(data, Mapping):
                raise RenderFailure(f"failed to unmarshal {rel}: only single objects are allowed in JSON files")
            produced.append(Produced(data, Location(rel, 1)))
            continue
        produced.extend(_yaml_objects(text, rel, ctx.parsed_yaml))
    return produced
