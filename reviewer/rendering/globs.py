"""Glob matching as the Go libraries Argo CD uses do it."""

from __future__ import annotations

import re
from functools import cache


@cache
def _gobwas(pattern: str) -> re.Pattern[str]:
    """gobwas/glob compiled without separators (util/glob/glob.go): `*` and `**` also cross `/`,
    `?` is any one character, `[...]`/`[!...]` classes, `{a,b}` alternation, `\\` escapes."""
    out: list[str] = []
    i, depth = 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            while i + 1 < len(pattern) and pattern[i + 1] == "*":
                i += 1
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.S)


def gobwas_match(pattern: str, name: str) -> bool:
    return _gobwas(pattern).match(name) is not None


@cache
def _doublestar(pattern: str) -> re.Pattern[str]:
    """bmatcuk/doublestar (Helm value-file globs, ApplicationSet git files): `*` stays inside one path
    segment, `**` matches any number of segments, `{a,b}` alternation."""
    out: list[str] = []
    i, depth = 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith(("!", "^")):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.S)


def doublestar_match(pattern: str, name: str) -> bool:
    return _doublestar(pattern).match(name) is not None


def has_magic(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[{")
