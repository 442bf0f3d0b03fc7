"""Glob matching as the Go libraries Argo CD uses do it.

Four dialects, compiled to Python regular expressions by one translator (`_translate`); they differ
in what `*` and `?` cross, whether `**` and `{a,b}` mean anything, and how `[...]` is read:

- `gobwas_match`: github.com/gobwas/glob compiled without separators (util/glob/glob.go `Match`), used
  for `directory.include` / `directory.exclude`. A pattern that does not compile matches nothing:
  Argo CD logs the compile error and returns false.
- `doublestar_match` / `doublestar_glob`: github.com/bmatcuk/doublestar, used for Helm value-file globs
  (docs/user-guide/helm.md "Glob Patterns in Value Files").
- `go_path_match`: Go `path.Match`, used by the ApplicationSet git directory generator
  (applicationset/generators/git.go `filterApps`).
- `git_pathspec_match`: a `git ls-files` pathspec, used by the ApplicationSet git file generator with
  Argo CD's default ("old") globbing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path


class _BadPattern(ValueError):
    """The pattern does not compile (unclosed `[` or `{`, trailing backslash, bad class)."""


@dataclass(frozen=True, slots=True)
class _Dialect:
    """What a dialect makes of the characters that are not literal text."""

    star: str  # the regex for `*` (a run of `*` is one)
    one: str  # the regex for `?`
    char_class: Callable[[str, int], tuple[str, int]]  # `[...]` from after its `[`: (regex, next index)
    doublestar: bool = False  # `**` as a whole path segment matches any number of segments
    braces: bool = False  # `{a,b}` is alternation, not literal text


def _translate(pattern: str, dialect: _Dialect) -> re.Pattern[str] | None:
    """One translator for every dialect. None if the pattern does not compile."""
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
            if dialect.doublestar and pattern.startswith("**", i):
                at_start = i == 0 or pattern[i - 1] == "/"
                end = i + 2
                if at_start and pattern.startswith("/", end):
                    out.append("(?:[^/]*/)*")
                    i = end + 1
                elif at_start and end == len(pattern):
                    out.append(".*")
                    i = end
                else:
                    out.append(dialect.star)  # `**` inside a segment is a plain `*`
                    i = end
                continue
            if c == "*":
                while i + 1 < len(pattern) and pattern[i + 1] == "*":
                    i += 1
                out.append(dialect.star)
            elif c == "?":
                out.append(dialect.one)
            elif c == "[":
                text, i = dialect.char_class(pattern, i + 1)
                out.append(text)
                continue
            elif c == "{" and dialect.braces:
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


# --- gobwas/glob -----------------------------------------------------------------------------------


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


# gobwas/glob without separators: `*` and `**` also cross `/`, `?` is any one character,
# `[abc]` / `[a-z]` / `[!...]` classes, `{a,b}` alternation, `\` escapes.
_GOBWAS = _Dialect(star=".*", one=".", char_class=_gobwas_class, braces=True)


@cache
def _gobwas(pattern: str) -> re.Pattern[str] | None:
    return _translate(pattern, _GOBWAS)


def gobwas_match(pattern: str, name: str) -> bool:
    """Whether `name` matches `pattern` as Argo CD's glob.Match does; a bad pattern matches nothing."""
    compiled = _gobwas(pattern)
    return compiled is not None and compiled.match(name) is not None


# --- bmatcuk/doublestar ----------------------------------------------------------------------------


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


# bmatcuk/doublestar: `*` and `?` stay inside one path segment, `**` as a whole segment matches
# any number of segments (zero included), `[...]` classes, `{a,b}` alternation, `\` escapes.
_DOUBLESTAR = _Dialect(star="[^/]*", one="[^/]", char_class=_doublestar_class, doublestar=True, braces=True)


@cache
def _doublestar(pattern: str) -> re.Pattern[str] | None:
    return _translate(pattern, _DOUBLESTAR)


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


# --- Go path.Match and git pathspecs (ApplicationSet git generators) -------------------------------


def _bracket_class(pattern: str, i: int, negations: str) -> tuple[str, int]:
    """A `[...]` class starting after the `[` at index `i`, negated by a leading character of
    `negations`: a `]` right after the opening (or the negation) is a member, `\\` escapes the next
    member, `-` between two members makes a range. A class may match `/`."""
    negated = i < len(pattern) and pattern[i] in negations
    if negated:
        i += 1
    members: list[str] = []
    while i < len(pattern) and (pattern[i] != "]" or not members):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            i += 1
        members.append(re.escape(pattern[i]) if pattern[i] != "-" else "-")
        i += 1
    if i >= len(pattern) or not members:
        raise _BadPattern("unclosed [")
    return "[" + ("^" if negated else "") + "".join(members) + "]", i + 1


def _go_path_class(pattern: str, i: int) -> tuple[str, int]:
    return _bracket_class(pattern, i, "^")  # path.Match negates with `^` only


def _wildmatch_class(pattern: str, i: int) -> tuple[str, int]:
    return _bracket_class(pattern, i, "!^")  # wildmatch takes `!` and `^`


# Go path.Match: `*` and `?` do not cross `/`; `{` is literal text.
_GO_PATH = _Dialect(star="[^/]*", one="[^/]", char_class=_go_path_class)
# git wildmatch without WM_PATHNAME, as `git ls-files -- <pathspec>` applies it: `*` and `?` cross `/`.
_GIT_PATHSPEC = _Dialect(star=".*", one=".", char_class=_wildmatch_class)


@cache
def _go_path(pattern: str) -> re.Pattern[str] | None:
    return _translate(pattern, _GO_PATH)


@cache
def _git_pathspec(pattern: str) -> re.Pattern[str] | None:
    return _translate(pattern, _GIT_PATHSPEC)


def go_path_match(pattern: str, name: str) -> bool | None:
    """Go `path.Match`: `*` and `?` do not match `/`; None for a malformed pattern."""
    compiled = _go_path(pattern)
    if compiled is None:
        return None
    return compiled.match(name) is not None


def git_pathspec_match(pattern: str, name: str) -> bool:
    """A `git ls-files -- <pattern>` pathspec (wildmatch without WM_PATHNAME: `*` matches `/`).

    A pattern without wildcards also matches every file under the directory it names.
    """
    if not any(c in pattern for c in "*?["):
        literal = pattern.rstrip("/")
        return name == literal or name.startswith(literal + "/")
    compiled = _git_pathspec(pattern)
    return compiled is not None and compiled.match(name) is not None
