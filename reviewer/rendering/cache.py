"""The render cache: an app's render, keyed by a digest of everything the render reads.

DESIGN.md, "Performance design": a re-run after a push that did not touch an app costs a hash. The
key covers every input of a render:

- the content (git blob id) of every file the app reads: for kustomize every file under each
  directory of its kustomization graph plus the files it names, for Helm the chart directory and the
  value files, for a directory app every file under its path (the `Inputs` of selection);
- the app as parsed (name, namespace, project, destination, sources with their tool options, sync
  options) and the whole Application manifest;
- the revision, only when the app's options use `$ARGOCD_APP_REVISION` (or a parameter override file
  could);
- the config that shapes a render (kube version, API versions, clusters, scopes, kustomize build
  options) and the CRDs found in the repo (they decide namespaces and Helm's API versions);
- the tools: the kustomize, kubectl and helm binaries (their content), the in-process engines'
  installed distributions, and the source of the package's rendering, discovery and selection code.

What is never cached, and why:

- a render with errors: a failure may be transient (a timeout, a chart repository that did not
  answer), and a cached failure must never come back as a success, nor a success as an empty render;
- a render that produced a core `Secret`: the cache holds plain files, and secret values never leave
  the process (DESIGN.md, security invariant 2), so such apps are rendered every time;
- an app whose inputs are not all known (unresolvable paths, symlinks among its inputs, Jsonnet, whose
  imports may reach any file, charts from a repository without an exact version), and every app when
  the config lets kustomize run plugins or fetch remote bases (their output depends on more than the
  repository).

Entries are zlib-compressed JSON (data, never code: a tampered cache cannot run anything; a render's
values each on a line of their own, so that a value read again is not parsed again), written
atomically into a 0700 directory as 0600 files, so concurrent runs sharing a cache never see half an
entry. A hit refreshes the entry's modification time (unless it did in the last minutes); when a run
has written entries and the cache exceeds its size bound, the least recently used entries are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
import weakref
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from stat import S_ISREG
from typing import Any, TypeVar

from jiter import from_json as _from_json

from .. import __version__
from ..cachedir import atomic_write
from ..discovery.scan import JSONNET_EXTENSIONS
from ..records import App, Location, RenderResult, Resource, ResourceKey
from ..trees import SYMLINK_MODE, TreeContent
from .context import RenderContext

T = TypeVar("T")
SCHEMA = 5  # 3: resources as a table of columns; 4: a line per column and per body; 5: two lines of columns
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
# An entry bigger than this once decompressed is damaged (or hostile): a miss, and a bounded one (a render
# of tens of thousands of resources stays well below it).
MAX_ENTRY_BYTES = 128 * 1024 * 1024
# A hit refreshes its entry's modification time (the eviction order) unless it was refreshed this recently:
# a warm review reads thousands of entries, and eviction needs no finer order than this.
_REFRESH_AFTER = 600.0
_REVISION_VARIABLES = "ARGOCD_APP_REVISION"
_OVERRIDE_FILES = ".argocd-source"


class Uncacheable(Exception):
    """This render cannot be keyed (or stored) safely; the message says why."""


# The code whose output the cache keeps: renders (rendering/), and the revision snapshots made of
# discovery's apps and selection's inputs (discovery/, selection.py), with the modules they parse with.
_CODE_FILES = ("records.py", "yamlio.py", "globs.py", "trees.py", "selection.py", "config.py", "revision.py")
_CODE_PACKAGES = ("rendering", "discovery")


def _modules(directory: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        if entry.is_dir() and entry.name != "__pycache__":
            yield from _modules(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".py"):
            yield f"{prefix}{entry.name}", entry


@cache
def code_fingerprint() -> str:
    """A digest of the modules that turn files into a render or a snapshot: changed code invalidates the
    cache even when the package version does not change."""
    digest = hashlib.sha256(__version__.encode())
    package = resources.files("reviewer")
    for name in _CODE_FILES:
        digest.update(name.encode() + b"\0" + package.joinpath(name).read_bytes())
    for sub in _CODE_PACKAGES:
        for name, entry in _modules(package.joinpath(sub), f"{sub}/"):
            digest.update(name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()


# Where binaries' digests are remembered between runs: the render cache this process opened last.
_BINARY_MEMO: list[RenderCache] = []


def _binary(name: str) -> list[Any]:
    path = shutil.which(name)
    if path is None:
        return [name, None]
    return [name, _binary_digest(os.path.realpath(path))]


def _binary_digest(real: str) -> str:
    """The SHA-256 of a binary's content. CI jobs install the same kustomize or Helm afresh every time
    (a new modification time, the same bytes): the content, not the file's times, decides whether the
    cache answers. Hashing kubectl takes about 0.1 s, so the digest is remembered in the render cache by
    path, size, inode and change time (which any rewrite of the file moves and no tool can set back)."""
    stat = os.stat(real)
    ident = f"tool-binary\0{real}\0{stat.st_size}\0{stat.st_ino}\0{stat.st_mtime_ns}\0{stat.st_ctime_ns}"
    key = hashlib.sha256(ident.encode()).hexdigest()
    memo = _BINARY_MEMO[0] if _BINARY_MEMO else None
    known = memo.remembered(key) if memo is not None else None
    if known is not None:
        return known
    with open(real, "rb") as binary:
        digest = hashlib.file_digest(binary, "sha256").hexdigest()
    if memo is not None:
        memo.remember(key, digest)
    return digest


def _project(name: str) -> str:
    """A distribution's name as its metadata directory spells it (PEP 503 normalised, then `_`)."""
    return re.sub(r"[-_.]+", "_", name).lower()


@cache
def _installed() -> dict[str, str]:
    """project -> the metadata directory (`*.dist-info`, or a legacy `*.egg-info`) of the distribution
    that imports would find first, by walking `sys.path` as `importlib.metadata` does, without its
    import (email, zipfile, csv: more than a warm review's cache lookups)."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for dirname in names:
            if dirname.endswith((".dist-info", ".egg-info")):
                found.setdefault(_project(dirname.rpartition(".")[0].partition("-")[0]), os.path.join(entry, dirname))
    return found


def _distribution(name: str) -> list[Any]:
    """An installed distribution identified without importing it: its metadata directory (name and
    version) and the digest of its file list."""
    where = _installed().get(_project(name))
    if where is None:
        return [name, None]
    for listing in ("RECORD", "PKG-INFO", "SOURCES.txt"):
        try:
            with open(os.path.join(where, listing), "rb") as file:
                # The same wheel installed again writes the same list (with each file's hash): equal
                # across CI jobs that reinstall it, different for another build.
                return [name, os.path.basename(where), listing, hashlib.sha256(file.read()).hexdigest()]
        except OSError:
            continue
    return [name, os.path.basename(where)]


_TOOL_FINGERPRINT_LOCK = threading.Lock()


def tool_fingerprint() -> str:
    """The tools a render may run, identified without running them (a `kubectl version` costs more than
    a cache hit): the binaries by content, the in-process engines by their installed distribution.
    Worked out once: a review's threads ask together at its start, and hashing kubectl takes 0.1 s."""
    with _TOOL_FINGERPRINT_LOCK:
        return _tool_fingerprint()


@cache
def _tool_fingerprint() -> str:
    tools = [
        _binary("kustomize"),
        _binary("kubectl"),
        _binary("helm"),
        _distribution("helm-python-sdk"),
        _distribution("gojsonnet"),
        _distribution("PyYAML"),
        ["code", code_fingerprint()],
    ]
    return hashlib.sha256(json.dumps(tools).encode()).hexdigest()


def _context_part(ctx: RenderContext) -> dict[str, Any]:
    config = ctx.config
    scopes = ctx.scopes
    return {
        "kube": config.kube_version,
        "apiVersions": list(config.api_versions),
        "clusters": [repr(c) for c in config.clusters],
        "kustomizeBuildOptions": list(config.kustomize_build_options),
        "scopes": [
            sorted(map(list, scopes.cluster_kinds)),
            sorted(scopes.cluster_groups),
            sorted(map(list, scopes.namespaced_kinds)),
            sorted(map(list, scopes.excluded_kinds)),
            sorted(scopes.excluded_groups),
        ],
        "crdApiVersions": list(ctx.crd_api_versions),
        "repoUrl": ctx.repo_url,
        "escapingSymlinks": list(ctx.escaping_symlinks),
        "offline": ctx.offline,
    }


def _app_part(app: App) -> dict[str, Any]:
    return {
        "id": app.id,
        "name": app.name,
        "namespace": app.namespace,
        "project": app.project,
        "destination": [app.destination.server, app.destination.name, app.destination.namespace],
        "syncOptions": list(app.sync_policy.sync_options),
        "sources": [[s.repo_url, s.path, s.target_revision, s.chart, s.ref, s.origin, s.spec] for s in app.sources],
        "manifest": app.manifest,
    }


# id(app) -> (the app, its part of the key). A review keys most apps twice, at base and at head, and the
# two are one App object whenever discovery found the same apps at both (discovery.incremental); the app
# is held so that its id cannot be reused while it is remembered. Bounded: emptied when full.
_APP_TEXTS: dict[int, tuple[App, str]] = {}
_APP_TEXTS_BOUND = 20_000


def _app_text(app: App) -> str:
    known = _APP_TEXTS.get(id(app))
    if known is not None and known[0] is app:
        return known[1]
    text = json.dumps(_app_part(app), sort_keys=True, default=str)
    if len(_APP_TEXTS) >= _APP_TEXTS_BOUND:
        _APP_TEXTS.clear()
    _APP_TEXTS[id(app)] = (app, text)
    return text


# What an input can hold that makes a render uncacheable, as bits: a symlink, a Jsonnet file (its imports
# may reach any file), and a parameter override file (its values may use the revision).
_SYMLINK, _JSONNET, _OVERRIDE = 1, 2, 4


def _input_flags(path: str, mode: str) -> int:
    return (
        (_SYMLINK if mode == SYMLINK_MODE else 0)
        | (_JSONNET if path.endswith(JSONNET_EXTENSIONS) else 0)
        | (_OVERRIDE if _OVERRIDE_FILES in path else 0)
    )


@dataclass(frozen=True, slots=True)
class _Directory:
    """What the files under one directory add to a render key, worked out once per revision: many
    apps read the same bases and charts."""

    line: str  # its part of a key: its name and the digest of every (path, mode, blob id) under it
    flags: int  # _SYMLINK, _JSONNET, _OVERRIDE: what is under it


@dataclass(frozen=True, slots=True)
class _Parts:
    """A revision's parts of render keys, each worked out on first use: by directory, and by named file
    (its line and flags; every app of a kustomize repo names the same few base files)."""

    directories: dict[str, _Directory]
    files: dict[str, tuple[str, int]]


# TreeContent id -> (a weak reference to it, its parts). Looked up by id, a plain dict read, for every app a
# review renders; the weak reference's callback drops the entry with the content.
_DIRECTORIES: dict[int, tuple[weakref.ref[TreeContent], _Parts]] = {}


def _parts(content: TreeContent) -> _Parts:
    ident = id(content)
    known = _DIRECTORIES.get(ident)
    if known is not None and known[0]() is content:
        return known[1]
    parts = _Parts({}, {})

    def forget(_: weakref.ref[TreeContent]) -> None:
        _DIRECTORIES.pop(ident, None)

    _DIRECTORIES[ident] = (weakref.ref(content, forget), parts)
    return parts


def _directory(content: TreeContent, known: dict[str, _Directory], directory: str) -> _Directory:
    # Two render threads may both work it out: the same value either way.
    digest = hashlib.sha256()
    flags = 0
    for path, mode, blob in content.under(directory):  # by path; NUL cannot occur in a path
        digest.update(f"{path}\0{mode}\0{blob}\n".encode())
        flags |= _input_flags(path, mode)
    found = known[directory] = _Directory(f"d\0{directory}\0{digest.hexdigest()}\n", flags)
    return found


def _file(content: TreeContent, known: dict[str, tuple[str, int]], path: str) -> tuple[str, int]:
    found = content.file(path)
    mode, blob = found if found is not None else ("", "")  # absent: part of the key too
    line = known[path] = (f"f\0{path}\0{mode}\0{blob}\n", _input_flags(path, mode))
    return line


def render_key(
    app: App, ctx: RenderContext, directories: frozenset[str], files: frozenset[str], content: TreeContent
) -> str:
    """The cache key of `app`'s render at the revision of `ctx` (its inputs as selection computes them).
    Raises Uncacheable when the render depends on something the key cannot cover.

    Each directory contributes its name and a digest of everything under it, each file its path, mode
    and blob id (empty for a missing file: its absence is part of the key too); both are worked out once
    per revision."""
    config = ctx.config
    if config.allow_kustomize_plugins or config.allow_remote_bases:
        raise Uncacheable("plugins or remote bases are allowed: a render may read outside the repository")
    for source in app.sources:
        if source.origin == "chart" and not _exact_version(source.target_revision):
            raise Uncacheable(f"chart {source.chart} has no exact version")
    known = _parts(content)
    by_directory, by_file = known.directories, known.files
    text = [by_directory.get(d) or _directory(content, by_directory, d) for d in sorted(directories)]
    named = [by_file.get(f) or _file(content, by_file, f) for f in sorted(files)]
    flags = 0
    for part in text:
        flags |= part.flags
    for _, bits in named:
        flags |= bits
    if flags & _SYMLINK:
        raise Uncacheable("a symlink is among its inputs")
    if flags & _JSONNET:
        raise Uncacheable("Jsonnet imports may read files outside the app's inputs")
    app_text = _app_text(app)
    uses_revision = flags & _OVERRIDE or _REVISION_VARIABLES in app_text
    digest = _prefix(tool_fingerprint(), context_text(ctx)).copy()
    # One update of the app's part: the same bytes as an update per directory and file, in that order.
    digest.update(
        "".join(
            [
                f"{ctx.revision if uses_revision else ''}\0{app_text}\0",
                *[part.line for part in text],
                *[line for line, _ in named],
            ]
        ).encode()
    )
    return digest.hexdigest()


def context_text(ctx: RenderContext) -> str:
    """The revision's part of every render key (settings, scopes, CRDs, repository identity): the same for
    every app of the revision, so serialised once."""
    if ctx.cache_context is None:
        ctx.cache_context = json.dumps(_context_part(ctx), sort_keys=True, default=str)
    return ctx.cache_context


# A revision's render keys, remembered between reviews. Working out a key takes a walk of the app's
# inputs and a few digests (about 0.1 ms), and a review works out every affected app's, at base and at
# head, though the base of most reviews is a branch's same commit again. The keys of a revision are a
# function of its commit (its files, and the revision some keys hold), of its apps and their inputs
# (what its discovery snapshot holds: identified by the digest of the snapshot's bytes as the render
# cache holds them, so a discovery that was not stored, or came out otherwise, has keys of its own), of
# the context part above and the config, and of the tools and this code. Under a digest of all of them,
# a review reads the keys worked out before (`RevisionView`). Like a hint, the entry is not counted in
# the statistics; a damaged one is ignored, and the keys are worked out again.
def keys_id(discovered_as: str, revision: str, subdir: str, ctx: RenderContext) -> str:
    """Where the render keys of the apps of a discovery (the digest of its snapshot) at a commit are kept."""
    payload = [
        "render-keys",
        SCHEMA,
        tool_fingerprint(),
        discovered_as,
        revision,
        subdir,
        context_text(ctx),
        repr(ctx.config),
    ]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


_KEY = re.compile(r"[0-9a-f]{64}")


def _hex_digest(blob: bytes) -> str:
    text = blob.decode("ascii")
    if _KEY.fullmatch(text) is None:
        raise ValueError("not a hex digest")
    return text


def pack_keys(keys: Mapping[str, str]) -> bytes:
    """An entry of render keys by app id (`keys_id`)."""
    return zlib.compress(json.dumps(dict(keys), separators=(",", ":")).encode(), 1)


def unpack_keys(blob: bytes) -> dict[str, str]:
    """The keys `pack_keys` wrote, each checked; ValueError when the entry is not that."""
    keys = json.loads(_inflate(blob))
    if type(keys) is not dict:
        raise ValueError("not a table of render keys")
    matches = _KEY.fullmatch
    for app, key in keys.items():
        if type(key) is not str or matches(key) is None:
            raise ValueError(f"not a render key for {app}")
    return keys


# (tool fingerprint, a revision's context part) -> the digest of every key's common start, which holds
# the context's few kilobytes: hashed once per revision, copied per app. Bounded: emptied when full.
_PREFIXES: dict[tuple[str, str], hashlib._Hash] = {}
_PREFIXES_BOUND = 64


def _prefix(tools: str, context: str) -> hashlib._Hash:
    found = _PREFIXES.get((tools, context))
    if found is None:  # two render threads may both work it out: the same value either way
        found = hashlib.sha256(f"render\0{SCHEMA}\0{tools}\0{context}\0".encode())
        if len(_PREFIXES) >= _PREFIXES_BOUND:
            _PREFIXES.clear()
        _PREFIXES[(tools, context)] = found
    return found


def _exact_version(version: str) -> bool:
    from .charts import is_exact_version

    return is_exact_version(version)


# --- the entries ----------------------------------------------------------------------------------------


def _plain(value: Any) -> bool:
    """Whether `value` survives a JSON round trip unchanged (str keys, JSON scalars, lists, dicts)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, str | int | float)


# A render's resources (or hooks) are stored as a table, a column per field, not as a row per resource:
# the columns are checked with one pass of C code each (`_Tables`) and the records are made field by
# field over all rows at once (`_records`), where rows cost a Python function call, a dozen checks and two
# dataclass constructors per resource. Fields that are nearly always their default (hook phases, sync
# options, an owner other than the render's app) list only the rows where they are not.
_KEY_COLUMNS = ("group", "kind", "namespace", "name")
_TABLE_KEYS = frozenset(
    {*_KEY_COLUMNS, "apiVersion", "body", "file", "line", "syncWave", "hookPhases", "syncOptions", "app"}
)

_EMPTY_TABLE: dict[str, list[Any]] = {key: [] for key in _TABLE_KEYS}


def _table_out(resources: tuple[Resource, ...], app: str) -> dict[str, Any]:
    hooks: list[list[Any]] = []
    options: list[list[Any]] = []
    owners: list[list[Any]] = []
    for row, r in enumerate(resources):
        if not _plain(r.body):
            raise Uncacheable(f"{r.key} has values JSON cannot carry unchanged")
        if r.hook_phases:
            hooks.append([row, list(r.hook_phases)])
        if r.sync_options:
            options.append([row, list(r.sync_options)])
        if r.app != app:  # almost always the render's own app: not repeated
            owners.append([row, r.app])
    return {
        "group": [r.key.group for r in resources],
        "kind": [r.key.kind for r in resources],
        "namespace": [r.key.namespace for r in resources],
        "name": [r.key.name for r in resources],
        "apiVersion": [r.api_version for r in resources],
        "body": [r.body for r in resources],
        "file": [None if r.location is None else r.location.file for r in resources],
        "line": [None if r.location is None else r.location.line for r in resources],
        "syncWave": [r.sync_wave for r in resources],
        "hookPhases": hooks,
        "syncOptions": options,
        "app": owners,
    }


_NONE: tuple[str, ...] = ()


_STR, _LIST = frozenset({str}), frozenset({list})


def _strings(value: Any) -> tuple[str, ...]:
    if type(value) is not list or not set(map(type, value)) <= _STR:
        raise ValueError("not a list of strings")
    return tuple(value)


class _Tables:
    """Tables of resources read together (each with its render's app), checked as one: a column is the
    columns of every table end to end, so that each check and each field of the records costs one pass of
    C code over all the resources of a review rather than one per table."""

    def __init__(self, tables: Sequence[tuple[Any, str]]) -> None:
        self.tables: list[tuple[dict[str, Any], int, int]] = []  # a non-empty table, its first row, its rows
        self.apps: list[str] = []  # the render's app, row by row: the owners' defaults (`resources` fills them in)
        self.sizes: list[int] = []  # rows, table by table
        total = 0
        for table, app in tables:
            if type(table) is not dict or table.keys() != _TABLE_KEYS:
                raise ValueError("not a resource table")
            group = table["group"]
            if type(group) is not list:
                raise ValueError("not a column: group")
            rows = len(group)
            if not rows:  # most renders' hooks; a table without rows but anything else is no table
                if table != _EMPTY_TABLE:
                    raise ValueError("not an empty table")
                self.sizes.append(0)
                continue
            self.tables.append((table, total, rows))
            self.apps += repeat(app, rows)
            self.sizes.append(rows)
            total += rows
        self.rows = total
        self._dicts = [table for table, _, _ in self.tables]
        self._rows = [rows for _, _, rows in self.tables]

    def column(self, name: str) -> list[Any]:
        """The column `name` of every table, end to end, each a list of its table's rows."""
        columns = list(map(itemgetter(name), self._dicts))
        if not set(map(type, columns)) <= _LIST or list(map(len, columns)) != self._rows:
            raise ValueError(f"not a column: {name}")
        return list(chain.from_iterable(columns))

    def typed(self, name: str, kind: type) -> list[Any]:
        """The column `name`, each value exactly of type `kind` (not a subclass: `True` is no sync wave)."""
        out = self.column(name)
        if not set(map(type, out)) <= {kind}:
            raise ValueError(f"not a column of {kind.__name__}: {name}")
        return out

    def sparse(self, name: str, column: list[T], value: Callable[[Any], T]) -> list[T]:
        """`column` (the defaults) with the values of the column `name`, which lists [row, value] pairs for
        the rows whose value is not the default, rows ascending within each table."""
        for table, first, rows in self.tables:
            pairs = table[name]
            if type(pairs) is not list:
                raise ValueError(f"not a column: {name}")
            last = -1
            for pair in pairs:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not int or not last < pair[0] < rows:
                    raise ValueError(f"not a row of {name}")
                last = pair[0]
                column[first + last] = value(pair[1])
        return column

    def locations(self) -> list[Location | None]:
        """The column of locations, from a column of files (null: no location) and one of lines."""
        files, lines = self.column("file"), self.column("line")
        if not set(map(type, files)) <= _FILE_TYPES or not set(map(type, lines)) <= _LINE_TYPES:
            raise ValueError("not a column of locations")
        if None not in files:  # every resource has a location (the usual case)
            located: list[Location | None] = list(_records(Location, (files, lines)))
            return located
        if any(file is None and line is not None for file, line in zip(files, lines, strict=True)):
            raise ValueError("a line without a file")
        return [None if file is None else Location(file, line) for file, line in zip(files, lines, strict=True)]

    def resources(self) -> list[tuple[Resource, ...]]:
        """The resources of each table, in the order given (once: the owners are filled in in place)."""
        keys = _records(ResourceKey, tuple(self.typed(name, str) for name in _KEY_COLUMNS))
        columns = (
            keys,
            self.typed("apiVersion", str),
            self.typed("body", dict),
            self.sparse("app", self.apps, _owner),
            self.locations(),
            self.typed("syncWave", int),
            self.sparse("hookPhases", [_NONE] * self.rows, _strings),
            self.sparse("syncOptions", [_NONE] * self.rows, _strings),
        )
        made = _records(Resource, columns)
        out: list[tuple[Resource, ...]] = []
        first = 0
        for rows in self.sizes:
            out.append(tuple(made[first : first + rows]))
            first += rows
        return out


def _owner(value: Any) -> str:
    if type(value) is not str:
        raise ValueError("not an app id")
    return value


_FILE_TYPES = frozenset({str, type(None)})
_LINE_TYPES = frozenset({int, type(None)})


# The slotted dataclass -> the setters of its fields, in field order.
_SETTERS: dict[type, tuple[Callable[[Any, Any], None], ...]] = {}


def _records(cls: type[T], columns: tuple[list[Any], ...]) -> list[T]:
    """Instances of the frozen, slotted dataclass `cls`, one per row of `columns` (one column per field, in
    field order, every value already checked): what `map(cls, *columns)` makes, field for field, with
    each field set over every row by C code (its slot's setter, the very one the dataclass's `__init__`
    reaches through `object.__setattr__`) instead of a Python `__init__` call per row. Only for records
    whose `__init__` does nothing else (no `__post_init__`, no default factories)."""
    setters = _SETTERS.get(cls)
    if setters is None:
        setters = tuple(getattr(cls, f.name).__set__ for f in fields(cls))  # type: ignore[arg-type]
        _SETTERS[cls] = setters
    if len(columns) != len(setters):
        raise TypeError(f"{cls.__name__} has {len(setters)} fields, not {len(columns)}")
    rows = len(columns[0]) if columns else 0
    made: list[T] = list(map(object.__new__, repeat(cls, rows)))
    for setter, column in zip(setters, columns, strict=True):
        if len(column) != rows:
            raise ValueError("columns of different lengths")
        deque(map(setter, made, column), maxlen=0)
    return made


def is_plain(value: Any) -> bool:
    """Whether `value` survives a JSON round trip unchanged (str keys, JSON scalars, lists, dicts)."""
    return _plain(value)


def pack(data: Any) -> bytes:
    """Cache entry bytes: compact JSON, compressed (fast, not small: entries are read far more often)."""
    return zlib.compress(json.dumps(data, separators=(",", ":"), allow_nan=False).encode(), 1)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} in an entry (never written: pack refuses it)")


# One decoder for every entry: `json.loads` with an option builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _inflate(blob: bytes) -> str:
    """An entry's text; ValueError when it is truncated, followed by other bytes, or too big to be one."""
    return _inflated(blob).decode()


def _inflated(blob: bytes) -> bytes:
    """An entry's bytes (UTF-8 text); ValueError as `_inflate`."""
    inflate = zlib.decompressobj()
    text = inflate.decompress(blob, MAX_ENTRY_BYTES)
    if inflate.unconsumed_tail or not inflate.eof:
        raise ValueError("a truncated or oversized entry")
    if inflate.unused_data:
        raise ValueError("bytes after the entry")
    return text


def _entry_data(text: str, schema: int) -> dict[str, Any]:
    data = _json_line(text)  # entries are written without white space around their values
    if type(data) is not dict or data.get("schema") != schema:
        raise ValueError("not a cache entry of this version")
    return data


def unpack(blob: bytes, schema: int) -> dict[str, Any]:
    """The entry's data; ValueError when it is not an entry of this schema (or too big to be one)."""
    return _entry_data(_inflate(blob), schema)


def result_data(result: RenderResult) -> dict[str, Any]:
    """A successful render without Secrets as plain data; raises Uncacheable otherwise."""
    if result.errors:
        raise Uncacheable("the render failed")
    if any(r.key.group == "" and r.key.kind == "Secret" for r in (*result.resources, *result.hooks)):
        raise Uncacheable("the render holds a Secret")
    return {
        "schema": SCHEMA,
        "app": result.app,
        "resources": _table_out(result.resources, result.app),
        "hooks": _table_out(result.hooks, result.app),
        "warnings": list(result.warnings),
        "sourceTypes": list(result.source_types),
    }


# A render entry is a line of JSON per value: first the render's own fields, with each table's row count
# in the table's place; then, table by table (resources, hooks), unless it has no rows, two lines of
# columns (`_SHARED_COLUMNS` then `_OWN_COLUMNS`, each a list of columns) and a line per row's body. JSON
# writes a newline inside a string as `\n`, so a line is one value. A review reads most apps' entries at
# base and then at head, and what the two hold is mostly the same, as are the shared columns of apps
# built alike (kinds, groups, API versions, and the sync waves, hook phases, sync options and owners that
# are nearly always their defaults): a line read before (`LineMemo`) is the value read then, parsed once.
# The two sides' identical bodies are then one object, which the diff sees at once (`deltas.Identical`).
# Every value is still checked where it is used (`_Tables`).
_TABLES = ("resources", "hooks")
_SHARED_COLUMNS = ("group", "kind", "apiVersion", "syncWave", "hookPhases", "syncOptions", "app")
_OWN_COLUMNS = ("namespace", "name", "file", "line")  # the app's own: one line, read once for both sides


def _line(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def pack_render(data: Mapping[str, Any]) -> bytes:
    """A render entry of `data` (as `result_data` makes it). A table of another shape (or without rows, but
    not empty) is written as it is, in the first line, which decoding rejects."""
    header = dict(data)
    lines: list[str] = []
    for name in _TABLES:
        table = header.get(name)
        if type(table) is dict and table.keys() == _TABLE_KEYS and type(table["body"]) is list:
            rows = len(table["body"])
            if rows:
                lines.append(_line([table[column] for column in _SHARED_COLUMNS]))
                lines.append(_line([table[column] for column in _OWN_COLUMNS]))
                lines += [_line(body) for body in table["body"]]
            elif table != _EMPTY_TABLE:
                continue
            header[name] = rows
    return zlib.compress("\n".join([_line(header), *lines]).encode(), 1)


class LineMemo:
    """The values of the entry lines read lately, by their bytes: a line read again is the same value, not
    parsed again. Values are never modified once made (the diff and the rules read them, and copy what
    they change). Bounded by the text it holds: emptied when full."""

    BOUND = 32 * 1024 * 1024  # bytes of text

    __slots__ = ("_size", "_values")

    def __init__(self) -> None:
        self._values: dict[bytes, Any] = {}
        self._size = 0

    def values(self, lines: list[bytes]) -> list[Any]:
        """The JSON value of each line (UTF-8); ValueError if one is not JSON."""
        known = self._values
        out = list(map(known.get, lines))  # None: not known (or a `null`, parsed again: no value is kept)
        if None not in out:  # an entry like one read before: nothing to parse
            return out
        parse = _line_reader()
        for i, value in enumerate(out):
            if value is None:
                line = lines[i]
                out[i] = value = parse(line)
                if value is not None:
                    if self._size + len(line) > self.BOUND:
                        known.clear()
                        self._size = 0
                    known[line] = value
                    self._size += len(line)
        return out


# What the decoder's own `decode` calls, after a look for white space around the value.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _json_line(line: str) -> Any:
    """The one JSON value that is all of `line`: what `json.loads` makes of it, without its look for
    white space around the value (an entry has none)."""
    try:
        value, end = _SCAN(line, 0)
    except StopIteration:
        raise ValueError("not a JSON value") from None
    if end != len(line):
        raise ValueError("more than one JSON value")
    return value


def _slow_bytes_line(line: bytes) -> Any:
    return _json_line(line.decode())


def _line_reader() -> Callable[[bytes], Any]:
    """`_bytes_line`, unless Python's limit of an integer's digits is not its default: then jiter could
    read an integer the standard library refuses."""
    return _bytes_line if sys.get_int_max_str_digits() == _INT_DIGITS else _slow_bytes_line


# JSON's white space: what jiter reads around a value and `_json_line` refuses there.
_SPACE = frozenset(b" \t\r\n")
# The limit of an integer's digits under which jiter refuses what `json` refuses (Python's default).
_INT_DIGITS = 4300


def _bytes_line(line: bytes) -> Any:
    """`_json_line(line.decode())`, read by jiter (a JSON parser in Rust, with one store of the strings it
    made for every line: the keys and names that bodies repeat are made once, where the standard
    library's scanner makes them afresh for each line). jiter refuses a few values the standard library
    reads (a lone surrogate, nesting past 200 levels, a float of more than 4,300 digits) and reads white
    space around a value, which an entry never holds: such a line, and any line jiter refuses, is left to
    `_json_line`, whose answer stands. A test compares both on tricky lines."""
    if line and line[0] not in _SPACE and line[-1] not in _SPACE:
        try:
            return _from_json(line, allow_inf_nan=False, cache_mode="all")
        except Exception:  # the standard library's reading decides (below)
            pass
    return _json_line(line.decode())


def unpack_render(blob: bytes, memo: LineMemo | None = None) -> dict[str, Any]:
    """The data of a render entry (`pack_render`), its tables whole again; ValueError when it is not one
    of this schema."""
    header, _, tail = _inflated(blob).partition(b"\n")
    data = _line_reader()(header)
    if type(data) is not dict or data.get("schema") != SCHEMA:
        raise ValueError("not a cache entry of this version")
    lines = tail.split(b"\n") if tail else []
    values = (LineMemo() if memo is None else memo).values(lines)  # every line of the entry in one look
    start = 0
    for name in _TABLES:
        rows = data[name]
        if type(rows) is not int or rows < 0:
            raise ValueError("not a resource table")
        if not rows:
            data[name] = {key: [] for key in _TABLE_KEYS}
            continue
        end = start + 2 + rows
        if end > len(values):
            raise ValueError("fewer lines than the entry's tables")
        shared, own = values[start], values[start + 1]
        if type(shared) is not list or type(own) is not list:
            raise ValueError("not a table's columns")
        table = dict(zip(_SHARED_COLUMNS, shared, strict=True))  # ValueError: another number of columns
        table.update(zip(_OWN_COLUMNS, own, strict=True))
        table["body"] = values[start + 2 : end]
        data[name] = table
        start = end
    if start != len(values):
        raise ValueError("more lines than the entry's tables")
    return data


def encode(result: RenderResult) -> bytes:
    """An entry for a successful render without Secrets; raises Uncacheable otherwise."""
    return pack_render(result_data(result))


def decode(blob: bytes, memo: LineMemo | None = None) -> RenderResult:
    """The render an entry holds; ValueError (or TypeError) when it is damaged or from another version."""
    return result_from_data(unpack_render(blob, memo))


def result_from_data(data: Mapping[str, Any]) -> RenderResult:
    return results_from_data([data])[0]


def results_from_data(datas: Sequence[Mapping[str, Any]]) -> list[RenderResult]:
    """The renders of entries' data (`result_data`), every value checked: an entry comes from a directory
    that a CI cache may have restored, so a wrong type is a damaged entry (a miss), never a wrong
    record. ValueError (or another error of `RenderCache.read`) when any is damaged. Their records are
    made together (`_Tables`)."""
    apps: list[str] = []
    tables: list[tuple[Any, str]] = []
    for data in datas:
        app = data["app"]
        if type(app) is not str:
            raise ValueError("not a render")
        apps.append(app)
        tables += ((data["resources"], app), (data["hooks"], app))
    made = _Tables(tables).resources()
    warnings = [_strings(data["warnings"]) for data in datas]
    source_types = [_strings(data["sourceTypes"]) for data in datas]
    return _records(RenderResult, (apps, made[0::2], made[1::2], warnings, [()] * len(apps), source_types))


# What reading a damaged (or hostile) entry may raise, whatever its shape: a miss, never a crash.
_DAMAGE = (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError, zlib.error)


# Never follows a link nor waits for a writer: a cache restored from elsewhere may hold a link, a pipe or a
# device where an entry should be.
_OPEN_ENTRY = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


def _entry_bytes(path: str) -> bytes | None:
    """The bytes of the cache file at `path`, which is marked used (least recently used goes first)
    unless it was in the last `_REFRESH_AFTER` seconds; None when it is no entry: not a regular file, or
    bigger than any entry. OSError when it cannot be read (missing, a link)."""
    fd = os.open(path, _OPEN_ENTRY)  # a warm review reads thousands: no file object
    try:
        status = os.fstat(fd)
        if not S_ISREG(status.st_mode) or status.st_size > MAX_ENTRY_BYTES:
            return None
        blob = os.read(fd, status.st_size + 1)  # one read for the whole file, and one more to see its end
        while True:
            more = os.read(fd, max(status.st_size, 4096))
            if not more:
                break
            blob += more
            if len(blob) > MAX_ENTRY_BYTES:  # grown since: no entry is that big
                return None
        if time.time() - status.st_mtime > _REFRESH_AFTER:
            with contextlib.suppress(OSError):
                os.utime(fd)
        return blob
    finally:
        os.close(fd)


@dataclass
class CacheStats:
    """What a review's renders found in the cache, and what it stored there (hints are not counted)."""

    hits: int = 0
    misses: int = 0
    stored: int = 0
    uncacheable: int = 0
    unwritable: int = 0


class RenderCache:
    """Render results on disk under `<cache dir>/renders/`, bounded to `max_bytes`."""

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory / "renders"
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._root = os.fspath(self.directory)
        self._lines = LineMemo()
        _BINARY_MEMO[:] = [self]

    def _file(self, key: str) -> str:
        return f"{self._root}{os.sep}{key[:2]}{os.sep}{key}.json.z"  # as os.path.join: a warm review reads thousands

    def _path(self, key: str) -> Path:
        return Path(self._file(key))

    def read(self, key: str, decoder: Callable[[bytes], T]) -> T | None:
        """The entry `key` decoded, or None (missing, from another version, or damaged: it is removed)."""
        try:
            blob = _entry_bytes(self._file(key))
        except OSError:
            self.stats.misses += 1
            return None
        try:
            if blob is None:
                raise ValueError("not a cache entry")
            value = decoder(blob)
        except _DAMAGE:
            self._damaged(key)
            return None
        self.stats.hits += 1
        return value

    def _damaged(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._file(key))
        self.stats.misses += 1

    def write(self, key: str, encoder: Callable[[], bytes]) -> bool:
        """Store `encoder()` under `key`, unless it raises Uncacheable."""
        try:
            blob = encoder()
        except (Uncacheable, ValueError):  # ValueError: a float JSON cannot write (NaN, infinity)
            self.stats.uncacheable += 1
            return False
        if not self._store(key, blob):
            self.stats.unwritable += 1  # a full or read-only cache slows the next run, nothing else
            return False
        self.stats.stored += 1
        return True

    def _store(self, key: str, blob: bytes) -> bool:
        path = self._path(key)
        try:
            self.directory.parent.parent.mkdir(parents=True, exist_ok=True)  # e.g. ~/.cache
            for directory in (self.directory.parent, self.directory, path.parent):
                directory.mkdir(mode=0o700, exist_ok=True)
            atomic_write(path, blob)  # mkstemp: the file is 0600
        except OSError:
            return False
        return True

    def get(self, key: str) -> RenderResult | None:
        data = self.entry(key)
        return None if data is None else self.renders([(key, data)])[0]

    def entry(self, key: str) -> dict[str, Any] | None:
        """The data of the render entry `key` (a hit), or None (a miss); `renders` makes its render."""
        return self.read(key, self._unpack)

    def _unpack(self, blob: bytes) -> dict[str, Any]:
        return unpack_render(blob, self._lines)

    def renders(self, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RenderResult | None]:
        """The render of each (key, data from `entry`), their records made together: None for a damaged
        one, which is then a miss and removed."""
        try:
            return [*results_from_data([data for _, data in entries])]
        except _DAMAGE:  # which one: each alone
            pass
        out: list[RenderResult | None] = []
        for key, data in entries:
            try:
                out.append(result_from_data(data))
            except _DAMAGE:
                self.stats.hits -= 1
                self._damaged(key)
                out.append(None)
        return out

    def tool_versions(self, compute: Callable[[], tuple[tuple[str, str], ...]]) -> tuple[tuple[str, str], ...]:
        """The tools' versions for the report, asked of the tools once per tool fingerprint (running
        `kubectl version` and loading the Helm engine costs more than a warm review)."""
        key = hashlib.sha256(f"tool-versions\0{tool_fingerprint()}".encode()).hexdigest()
        known = self.read(key, lambda blob: tuple((str(a), str(b)) for a, b in unpack(blob, SCHEMA)["versions"]))
        if known is not None:
            return known
        versions = compute()
        self.write(key, lambda: pack({"schema": SCHEMA, "versions": [list(v) for v in versions]}))
        return versions

    def hint(self, key: str, decoder: Callable[[bytes], T]) -> T | None:
        """An entry stored by `keep`, decoded, or None (missing or damaged: worked out again). Not counted
        in the render statistics, and marked used, as a hit is: a hint read on every run must not be the
        first entry evicted."""
        try:
            blob = _entry_bytes(self._file(key))
        except OSError:
            return None
        try:
            return None if blob is None else decoder(blob)
        except _DAMAGE:
            return None

    def keep(self, key: str, blob: bytes) -> None:
        """Store a hint (`hint` reads it), not counted in the statistics."""
        self._store(key, blob)  # if it cannot be stored, it is worked out again next time

    def remembered(self, key: str) -> str | None:
        """A hex digest stored by `remember`."""
        return self.hint(key, _hex_digest)

    def remember(self, key: str, digest: str) -> None:
        self.keep(key, digest.encode("ascii"))

    def put(self, key: str, result: RenderResult) -> bool:
        return self.write(key, lambda: encode(result))

    def evict(self) -> int:
        """Remove the least recently used entries while the cache is over its bound; returns how many.
        Only worth its directory scan after a run that stored entries."""
        if not self.stats.stored or not self.directory.is_dir():
            return 0
        entries: list[tuple[float, int, str]] = []
        total = 0
        for shard in os.scandir(self.directory):
            if not shard.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(shard.path):
                try:
                    stat = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                entries.append((stat.st_mtime, stat.st_size, entry.path))
                total += stat.st_size
        if total <= self.max_bytes:
            return 0
        removed = 0
        target = self.max_bytes * 0.9  # leave room, so the next run does not evict at once
        for _, size, path in sorted(entries):
            if total <= target:
                break
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= size
            removed += 1
        return removed
