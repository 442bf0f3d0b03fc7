"""The `git` generator (ACD `applicationset/generators/git.go`), on the tree under review.

Only a generator on this repository can be expanded (its `revision` is ignored: the tree is the one
under review); one on another repository is `NotOffline`. `directories` yields one parameter set
per matching directory (Go `path.Match`, exclusions win); `files` one per object of each matching
JSON/YAML file, selected with Argo CD's default ("old") globbing, `git ls-files` pathspecs where
`*` also matches `/` (`--enable-new-git-file-globbing` is not modelled).
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Mapping
from typing import Any

from ...errors import ManifestError
from ...globs import git_pathspec_match, go_path_match
from ...yamlio import load_json, load_yaml_stream
from .failures import GeneratorFailure, NotOffline
from .generation import Generation
from .parameters import flatten, go_format, sanitize_name


def generate(spec: Mapping[str, Any], generation: Generation, level: int) -> list[dict[str, Any]]:
    repo_url = spec.get("repoURL")
    if not isinstance(repo_url, str) or not repo_url:
        raise GeneratorFailure("git.repoURL is required")
    if not generation.is_this_repo(repo_url):
        raise NotOffline("git", f"git generator on external repository {repo_url}")
    prefix = spec.get("pathParamPrefix") or ""
    if not isinstance(prefix, str):
        raise GeneratorFailure("git.pathParamPrefix must be a string")
    directories = spec.get("directories") or []
    files = spec.get("files") or []
    if not isinstance(directories, list) or not isinstance(files, list):
        raise GeneratorFailure("git.directories and git.files must be lists")
    if directories:
        params = _directory_params(generation, directories, prefix)
    elif files:
        params = _file_params(generation, files, prefix)
    else:
        raise GeneratorFailure("generator is empty: git needs directories or files")
    generation.append_values(spec.get("values"), params, "git")
    return params


def _directory_params(generation: Generation, items: list[Any], prefix: str) -> list[dict[str, Any]]:
    patterns = _path_items(items, "directories")
    result = []
    for app_path in generation.tree.directories():
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
            result.append(_path_params(generation.go_template, app_path, None, prefix))
    return result


def _file_params(generation: Generation, items: list[Any], prefix: str) -> list[dict[str, Any]]:
    patterns = _path_items(items, "files")
    all_files = generation.tree.files()
    selected: set[str] = set()
    for pattern, excluded in patterns:
        if not excluded:
            selected.update(f for f in all_files if git_pathspec_match(pattern, f))
    for pattern, excluded in patterns:
        if excluded:
            selected.difference_update(f for f in all_files if git_pathspec_match(pattern, f))
    result: list[dict[str, Any]] = []
    for rel in sorted(selected):
        for obj in _read_param_file(generation, rel):
            if generation.go_template:
                params = copy.deepcopy(obj)
            else:
                params = {k: go_format(v) for k, v in flatten(obj, "").items()}
            params.update(
                _path_params(generation.go_template, posixpath.dirname(rel) or ".", posixpath.basename(rel), prefix)
            )
            result.append(params)
    return result


def _read_param_file(generation: Generation, rel: str) -> list[dict[str, Any]]:
    try:
        text = (generation.tree.tree_root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GeneratorFailure(f"unable to read file '{rel}': {exc}") from None
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
        raise GeneratorFailure(f"unable to process file '{rel}': {exc}") from None
    if data is None:
        return [{}]  # an empty file yields one parameter set with the path parameters only
    if isinstance(data, list) and all(isinstance(item, Mapping) for item in data):
        return [dict(item) for item in data] or [{}]
    if isinstance(data, Mapping):
        return [dict(data)]
    raise GeneratorFailure(f"unable to process file '{rel}': unable to parse file: not an object or a list of objects")


def _path_params(go_template: bool, directory: str, filename: str | None, prefix: str) -> dict[str, Any]:
    """The `path` parameters of a directory or file: a map with goTemplate, dotted keys without."""
    basename = posixpath.basename(directory) or directory
    if go_template:
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


def _path_items(items: list[Any], what: str) -> list[tuple[str, bool]]:
    patterns = []
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("path"), str):
            raise GeneratorFailure(f"git.{what} entries need a path")
        patterns.append((str(item["path"]), item.get("exclude") is True))
    return patterns
