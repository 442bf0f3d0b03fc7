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


def dumps_indented(document: Any) -> str:
    """`json.dumps(document, indent=2, ensure_ascii=False)`, byte for byte, several times faster.

    With an indent the standard library encodes in Python, one generator per nesting level, and every
    piece of text climbs the whole chain of generators: writing a large report took longer than the
    review's diff. Strings are still escaped by its C encoder. Anything beyond plain JSON data (a key
    that is not a string, a type it would reject or convert) is handed to `json.dumps` itself, so the
    text, or the error, is always the standard library's."""
    out: list[str] = []
    append = out.append
    quote: Callable[[str], str] = encode_basestring

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
                if type(key) is not str and not isinstance(key, str):
                    raise _NotPlain
                item_kind = type(item)
                if item_kind is str:
                    append(opening + quote(key) + ": " + quote(item))
                elif item_kind in _SCALARS:
                    append(opening + quote(key) + ": " + _scalar(item))
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
                    append(opening + _scalar(item))
                else:
                    append(opening)
                    walk(item, inner)
                opening = separator
            append(indent + "]")
        elif isinstance(value, str):
            append(quote(value))
        else:
            append(_scalar(value))

    try:
        walk(document, "\n")
    except (_NotPlain, RecursionError):
        return json.dumps(document, indent=2, ensure_ascii=False)
    return "".join(out)
