"""Glob matching as the Go libraries Argo CD uses do it.

- `gobwas_match`: github.com/gobwas/glob compiled without separators (util/glob/glob.go `Match`), used
  for `directory.include` / `directory.exclude`. A pattern that does not compile matches nothing:
  Argo CD logs the compile error and returns false.
- `doublestar_match` / `doublestar_glob`: github.com/bmatcuk/doublestar, used for Helm value-file globs
  (docs/user-guide/helm.md "Glob Patterns in Value Files").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path


class _BadPattern(ValueError):
    """The pattern does not compile (unclosed `[` or `{`, trailing backslash, bad class)."""


def _gobwas_class(pattern: str, i: int) -> tuple[str, int]:
    """A `[...]` class starting after the `[` at index `i`: gobwas accepts either a set of characters
    (`[abc]`, escapes allowed) or one range (`[a-z]`), each optionally negated with a leading `!`."""
    negate = False
    if i < len(pattern) and pattern[i] == "!":
        negate, i = True, i + 1
    if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i] != "\\":
        lo, hi = pattern[i], pattern[i + 2]
        if i + 3 >= len(pattern) or pattern[i + 3] != "]":
            raise _BadPattern("expected close range character")
        body, i = f"{re.escape(lo)}-{re.escape(hi)}", i + 4
    else:
        chars: list[str] = []
        while True:
            if i >= len(pattern):
                raise _BadPattern("unexpected end of input")
            c = pattern[i]
            if c == "\\":
                if i + 1 >= len(pattern):
                    raise _BadPattern("trailing backslash")
                chars.append(pattern[i + 1])
                i += 2
                continue
            if c == "]":
                break
            chars.append(c)
            i += 1
        if not chars:
            raise _BadPattern("empty character class")
        body, i = "".join(re.escape(ch) for ch in chars), i + 1
    return (f"[^{body}]" if negate else f"[{body}]"), i


@cache
def _gobwas(pattern: str) -> re.Pattern[str] | None:
    """gobwas/glob without separators: `*` and `**` also cross `/`, `?` is any one character,
    `[abc]` / `[a-z]` / `[!...]` classes, `{a,b}` alternation, `\\` escapes. None if it does not compile."""
    return _translate(pattern, doublestar=False)


def _translate(pattern: str, *, doublestar: bool) -> re.Pattern[str] | None:
    """One translator for both dialects; they differ in `*`, `?`, `**` and classes. None if invalid."""
    star, one = ("[^/]*", "[^/]") if doublestar else (".*", ".")
    out: list[str] = []
    i, depth = 0, 0
    try:
        while i < len(pattern):
            c = pattern[i]
            if c == "\\":
                if i + 1 >= len(pattern):
                    raise _BadPattern("trailing backslash")
                out.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            if doublestar and pattern.startswith("**", i):
                at_start = i == 0 or pattern[i - 1] == "/"
                end = i + 2
                if at_start and pattern.startswith("/", end):
                    out.append("(?:[^/]*/)*")
                    i = end + 1
                elif at_start and end == len(pattern):
                    out.append(".*")
                    i = end
                else:
                    out.append(star)  # `**` inside a segment is a plain `*`
                    i = end
                continue
            if c == "*":
                while i + 1 < len(pattern) and pattern[i + 1] == "*":
                    i += 1
                out.append(star)
            elif c == "?":
                out.append(one)
            elif c == "[":
                text, i = (_doublestar_class if doublestar else _gobwas_class)(pattern, i + 1)
                out.append(text)
                continue
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
        if depth:
            raise _BadPattern("unclosed {")
        return re.compile("".join(out) + r"\Z", re.S)
    except (_BadPattern, re.error):
        return None


def gobwas_match(pattern: str, name: str) -> bool:
    """Whether `name` matches `pattern` as Argo CD's glob.Match does; a bad pattern matches nothing."""
    compiled = _gobwas(pattern)
    return compiled is not None and compiled.match(name) is not None


def _doublestar_class(pattern: str, i: int) -> tuple[str, int]:
    negate = False
    if i < len(pattern) and pattern[i] in "!^":
        negate, i = True, i + 1
    parts: list[str] = []
    first = True
    while True:
        if i >= len(pattern):
            raise _BadPattern("unclosed [")
        c = pattern[i]
        if c == "]" and not first:
            break
        first = False
        if c == "\\":
            if i + 1 >= len(pattern):
                raise _BadPattern("trailing backslash")
            c = pattern[i + 1]
            i += 1
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            parts.append(f"{re.escape(c)}-{re.escape(pattern[i + 2])}")
            i += 3
            continue
        parts.append(re.escape(c))
        i += 1
    body = "".join(parts)
    # A class never matches the separator (doublestar: "any single non-separator character").
    return (f"[^/{body}]" if negate else f"(?!/)[{body}]"), i + 1


@cache
def _doublestar(pattern: str) -> re.Pattern[str] | None:
    """bmatcuk/doublestar: `*` and `?` stay inside one path segment, `**` as a whole segment matches
    any number of segments (zero included), `[...]` classes, `{a,b}` alternation, `\\` escapes."""
    return _translate(pattern, doublestar=True)


def doublestar_valid(pattern: str) -> bool:
    return _doublestar(pattern) is not None


def doublestar_match(pattern: str, name: str) -> bool:
    """Whether the slash-separated `name` matches `pattern`; a bad pattern matches nothing."""
    compiled = _doublestar(pattern)
    return compiled is not None and compiled.match(name) is not None


def has_magic(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[{")


def _walk_files(directory: Path) -> Iterator[Path]:
    """Each directory's own files (lexically) before its subdirectories (lexically), recursively:
    the order doublestar's glob produces (docs/user-guide/helm.md "Recursive matching with `**`")."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    subdirs = []
    for name in names:
        path = directory / name
        if path.is_dir():
            subdirs.append(path)
        elif path.is_file():
            yield path
    for sub in subdirs:
        if not sub.is_symlink():
            yield from _walk_files(sub)


def doublestar_glob(base: Path, pattern: str) -> list[Path]:
    """Files under `base` whose slash-separated path relative to `base` matches `pattern`, in glob order.

    Only the directory named by the pattern's literal leading segments is walked.
    """
    segments = pattern.split("/")
    fixed: list[str] = []
    for segment in segments[:-1]:
        if has_magic(segment) or "\\" in segment:
            break
        fixed.append(segment)
    start = base.joinpath(*fixed) if fixed else base
    if not start.is_dir():
        return []
    return [p for p in _walk_files(start) if doublestar_match(pattern, p.relative_to(base).as_posix())]
