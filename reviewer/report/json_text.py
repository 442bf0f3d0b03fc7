"""JSON text as the report formats write it: indented by two spaces, non-ASCII characters kept."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any


class _NotPlain(Exception):
    """A value `dumps_indented` leaves to the standard library (a non-string key, an unknown type)."""


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (math.inf, -math.inf):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    raise _NotPlain


# The exact types written by `_scalar` without a look at their subclasses.
_SCALARS = frozenset({int, float, bool, type(None)})


def dumps_indented(document: Any, indent: str = "\n") -> str:
    """`json.dumps(document, indent=2, ensure_ascii=False)`, byte for byte, several times faster.

    `indent` places the text inside a larger document: a newline and the spaces of the level `document`
    sits at, the text then being what the larger document's `dumps_indented` holds for it there. (The
    standard library's text of a value nested N levels deep is its own text with two more spaces per
    level after each newline: a JSON string never holds a raw newline.)

    With an indent the standard library encodes in Python, one generator per nesting level, and every
    piece of text climbs the whole chain of generators: writing a large report took longer than the
    review's diff. Strings are still escaped by its C encoder. Anything beyond plain JSON data (a key
    that is not a string, a type it would reject or convert) is handed to `json.dumps` itself, so the
    text, or the error, is always the standard library's."""
    try:
        return _encode(document, indent, strict=False)
    except (_NotPlain, RecursionError):
        text = json.dumps(document, indent=2, ensure_ascii=False)
        return text if indent == "\n" else text.replace("\n", indent)


def value_text(value: Any, indent: str = "\n") -> str:
    """`dumps_indented(value, indent)`, the short way for a string, a number, a bool or None (the fields
    of a record, written one by one)."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind in _SCALARS:
        return _scalar(value)
    if kind is list and not value:
        return "[]"
    return dumps_indented(value, indent)


def plain_text(document: Any, indent: str = "\n") -> str | None:
    """`dumps_indented(document, indent)` when `document` is plain JSON data: mappings with keys of type
    `str` exactly, finite numbers, nothing JSON would convert or reject. None for anything else."""
    try:
        return _encode(document, indent, strict=True)
    except (_NotPlain, RecursionError):
        return None


def _finite(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise _NotPlain
    return _scalar(value)


def _encode(document: Any, indent: str, *, strict: bool) -> str:
    out: list[str] = []
    append = out.append
    quote: Callable[[str], str] = encode_basestring
    scalar = _finite if strict else _scalar

    def walk(value: Any, indent: str) -> None:
        # `indent` starts with the newline: "\n" at the top, two spaces more per level. A report is made
        # of exact dicts, lists and strings: they are told apart by their type first, the rest as
        # `json.dumps` tells them apart (subclasses included).
        kind = type(value)
        if kind is dict or (kind is not list and kind is not tuple and isinstance(value, dict)):
            if not value:
                append("{}")
                return
            inner = indent + "  "
            opening = "{" + inner
            separator = "," + inner
            for key, item in value.items():
                if type(key) is not str and (strict or not isinstance(key, str)):
                    raise _NotPlain
                item_kind = type(item)
                if item_kind is str:
                    append(opening + quote(key) + ": " + quote(item))
                elif item_kind in _SCALARS:
                    append(opening + quote(key) + ": " + scalar(item))
                else:
                    append(opening + quote(key) + ": ")
                    walk(item, inner)
                opening = separator
            append(indent + "}")
        elif kind is list or kind is tuple or isinstance(value, list | tuple):
            if not value:
                append("[]")
                return
            inner = indent + "  "
            opening = "[" + inner
            separator = "," + inner
            for item in value:
                item_kind = type(item)
                if item_kind is str:
                    append(opening + quote(item))
                elif item_kind in _SCALARS:
                    append(opening + scalar(item))
                else:
                    append(opening)
                    walk(item, inner)
                opening = separator
            append(indent + "]")
        elif isinstance(value, str):
            append(quote(value))
        else:
            append(scalar(value))

    walk(document, indent)
    return "".join(out)
