"""Reading YAML and JSON manifests: the C loader, size limits, line numbers, and Go-YAML leniency.

Argo CD, kustomize and Helm parse YAML with Go libraries (sigs.k8s.io/yaml over go-yaml). PyYAML is
stricter in two ways real repos hit (corpus README): a bare `=` scalar, and a duplicated anchor.
This loader accepts both, as Go does; timestamps stay strings, as they do after Go's YAML-to-JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import ManifestError

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
MAX_NODES = 2_000_000  # bounds alias expansion ("billion laughs")

try:
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader


class GoLikeLoader(_Base):  # type: ignore[misc]
    """Safe loader with Go-compatible resolution: `=` is a string, timestamps stay strings."""


GoLikeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
GoLikeLoader.add_constructor("tag:yaml.org,2002:value", yaml.SafeLoader.construct_yaml_str)
GoLikeLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def _local_tag(loader: Any, suffix: str, node: yaml.Node) -> Any:
    """An application-specific tag (`!foo`): go-yaml v2 ignores tags it does not know and decodes the
    node as if untagged (its `resolve` returns the plain value), so `matchType: !=` is an empty string."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


GoLikeLoader.add_multi_constructor("!", _local_tag)

# The plain scalars' tags, by value: resolving runs every implicit resolver's regular expression on each
# plain scalar of every file (PyYAML's Resolver.resolve), and a repository repeats the same few thousand
# values (`apiVersion`, `kind`, names, `true`). Bounded, and short values only: those are the ones that
# repeat, and the process holds no long text (a certificate, a script) for longer than a parse.
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_MAX = 100_000
_PLAIN_TAG_VALUE_MAX = 64


def _resolve(self: Any, kind: Any, value: Any, implicit: Any) -> Any:
    """`Resolver.resolve`, remembered for plain scalars. The answer depends only on the value (this
    loader has no path resolvers), and a quoted scalar is a string whatever it holds."""
    if kind is yaml.ScalarNode and implicit[0] and not self.yaml_path_resolvers:
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = _base_resolve(self, kind, value, implicit)
            if len(value) <= _PLAIN_TAG_VALUE_MAX and len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
                _PLAIN_TAGS[value] = tag
        return tag
    return _base_resolve(self, kind, value, implicit)


_base_resolve = GoLikeLoader.resolve
GoLikeLoader.resolve = _resolve

_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
# Scalar tags whose constructor is a plain function of the node (no generator, no state).
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "value", "timestamp"))


class _NotPlain(Exception):
    """The node tree uses something only PyYAML's own constructor handles (merge keys, other tags)."""


def _construct_plain(loader: Any, node: yaml.Node) -> Any:
    """What `loader.construct_document(node)` returns, for a document without anchors: plain mappings,
    sequences and scalars, built directly rather than through PyYAML's generator machinery (which
    exists for aliases and recursive structures, impossible without anchors). Scalars other than strings
    go through the loader's own constructors, so every value is the one PyYAML makes; anything else
    (and any error, such as an unhashable key) raises, and the caller uses PyYAML's constructor."""
    kind = type(node)
    tag = node.tag
    if kind is yaml.ScalarNode:
        if tag == _STR_TAG:
            return node.value
        if tag in _SCALAR_TAGS:
            return loader.yaml_constructors[tag](loader, node)
        raise _NotPlain
    if kind is yaml.MappingNode and tag == _MAP_TAG:
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _NotPlain
            key = _construct_plain(loader, key_node)
            mapping[key] = _construct_plain(loader, value_node)  # TypeError for an unhashable key
        return mapping
    if kind is yaml.SequenceNode and tag == _SEQ_TAG:
        return [_construct_plain(loader, item) for item in node.value]
    raise _NotPlain


def _construct(loader: Any, node: yaml.Node, has_anchors: bool) -> Any:
    if not has_anchors:
        try:
            return _construct_plain(loader, node)
        except Exception:  # any failure: PyYAML's constructor decides (and words the error)
            pass
    return loader.construct_document(node)


@dataclass(frozen=True, slots=True)
class Document:
    """One document of a YAML stream, with the 1-based line it starts on."""

    data: Any
    line: int


# An anchor or alias is a token: it starts a node (after a space, `[`, `{` or `,`, or at the line start)
# and ends at a space or a flow indicator, so `?p=1&q=2` inside a URL is left alone. Compiled by `re` on
# first use: only a file that re-uses an anchor needs them.
_ANCHOR = r"(?m)(?:(?<=^)|(?<=[\s\[{,]))&([^\s\[\]{},]+)(?=[\s\]},]|$)"
_ALIAS = r"(?m)(?:(?<=^)|(?<=[\s\[{,]))\*([^\s\[\]{},]+)(?=[\s\]},]|$)"


def _dedupe_anchors(text: str) -> str:
    """Rename re-used anchors so PyYAML accepts them; Go's YAML lets a later anchor shadow an earlier one.

    Each alias after a redefinition refers to the latest definition, as in Go.
    """
    if text.count("&") < 2:
        return text
    seen: dict[str, int] = {}
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        if "&" in line or "*" in line:
            line = re.sub(
                _ALIAS,
                lambda m: f"*{m.group(1)}__{seen[m.group(1)]}" if seen.get(m.group(1), 0) > 1 else m.group(0),
                line,
            )

            def define(m: re.Match[str]) -> str:
                name = m.group(1)
                seen[name] = seen.get(name, 0) + 1
                return f"&{name}__{seen[name]}" if seen[name] > 1 else m.group(0)

            line = re.sub(_ANCHOR, define, line)
        out.append(line)
    return "".join(out)


def _count_nodes(value: Any, budget: list[int]) -> None:
    """Count nodes as consumers will see them, aliases expanded; stop once over budget."""
    stack = [value]
    while stack:
        item = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise ManifestError("document expands to too many nodes (YAML alias bomb?)")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_size(text: str, file: str | None) -> None:
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ManifestError(f"file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB", file=file)


def load_yaml_stream(text: str, *, file: str | None = None) -> list[Document]:
    """Every non-empty document of a YAML stream. Raises ManifestError with file and line on bad input."""
    _check_size(text, file)
    return list(_iter_docs(text, file))


def _iter_docs(text: str, file: str | None) -> Iterator[Document]:
    has_anchors = "&" in text  # without anchors there are no aliases to expand
    for attempt in (text, None):
        source = attempt if attempt is not None else _dedupe_anchors(text)
        loader = GoLikeLoader(source)
        docs: list[Document] = []
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                line = node.start_mark.line + 1
                data = _construct(loader, node, has_anchors)
                if data is None:
                    continue
                if has_anchors:
                    _count_nodes(data, [MAX_NODES])
                docs.append(Document(data, line))
        except yaml.composer.ComposerError as exc:
            if attempt is not None and "found duplicate anchor" in str(exc):
                continue
            raise _manifest_error(exc, file) from None
        except yaml.YAMLError as exc:
            raise _manifest_error(exc, file) from None
        except RecursionError:
            raise ManifestError("document is nested too deeply", file=file) from None
        finally:
            loader.dispose()
        yield from docs
        return


def _manifest_error(exc: yaml.YAMLError, file: str | None) -> ManifestError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ManifestError(f"invalid YAML: {problem}", file=file, line=line)


def load_json(text: str, *, file: str | None = None) -> Any:
    _check_size(text, file)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"invalid JSON: {exc.msg}", file=file, line=exc.lineno) from None


def load_yaml(text: str, *, file: str | None = None) -> Any:
    """A single-document YAML file (values files, config). An empty file is None."""
    docs = load_yaml_stream(text, file=file)
    if len(docs) > 1:
        raise ManifestError("expected one YAML document, found several", file=file, line=docs[1].line)
    return docs[0].data if docs else None


def dump_yaml(data: Any) -> str:
    """YAML for people to read (render output)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def dump_yaml_for_go(data: Any) -> str:
    """YAML that a Go tool (kustomize, Helm) reads back with the same types: every string is quoted.

    PyYAML writes `1234e56` or `0x1F` unquoted because YAML 1.1 reads them as strings, but Go's YAML
    reads them as numbers, so a substituted value such as a short commit SHA would change type."""
    return yaml.dump(data, Dumper=_QuotingDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


try:
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


class _QuotingDumper(_Dumper):  # type: ignore[misc]
    pass


def _quoted_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


_QuotingDumper.add_representer(str, _quoted_str)
