"""Glob semantics of the Go libraries Argo CD uses.

- gobwas/glob without separators (util/glob/glob.go), for `directory.include` / `directory.exclude`:
  `*` also crosses `/`, `{a,b}` alternation, `[...]` classes; a pattern that does not compile makes
  `glob.Match` log and return false.
- bmatcuk/doublestar, for Helm value-file globs (docs/user-guide/helm.md "Glob Patterns in Value
  Files"): `*` and `?` stay within one directory level, `**` matches any number of levels (zero
  included), matches come back lexically, each directory's files before its subdirectories.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.globs import doublestar_glob, doublestar_match, gobwas_match


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        # No separators: `*` crosses directory boundaries.
        ("*.yaml", "a.yaml", True),
        ("*.yaml", "sub/dir/a.yaml", True),
        ("sub/*", "sub/deeper/a.yaml", True),
        # The match is anchored at both ends.
        ("*.yaml", "a.yaml.bak", False),
        ("a.yaml", "x/a.yaml", False),
        # `{a,b}` alternation, the example of docs/user-guide/directory.md.
        ("{config.json,env-usw2/*}", "config.json", True),
        ("{config.json,env-usw2/*}", "env-usw2/apps.yaml", True),
        ("{config.json,env-usw2/*}", "env-use1/apps.yaml", False),
        ("*.{yaml,yml}", "a.yml", True),
        ("*.{yaml,yml}", "a.json", False),
        # `?` is exactly one character, `/` included.
        ("?.yaml", "a.yaml", True),
        ("?.yaml", "ab.yaml", False),
        ("a?b", "a/b", True),
        # Character classes: a set, a range, negated with `!`.
        ("[ab].yaml", "b.yaml", True),
        ("[ab].yaml", "c.yaml", False),
        ("[a-c].yaml", "b.yaml", True),
        ("[!ab].yaml", "c.yaml", True),
        ("[!ab].yaml", "a.yaml", False),
        # A backslash escapes a meta character.
        ("\\*.yaml", "*.yaml", True),
        ("\\*.yaml", "a.yaml", False),
        # `,` and `}` outside a group are literal text.
        ("a,b.yaml", "a,b.yaml", True),
    ],
)
def test_gobwas_semantics(pattern: str, name: str, expected: bool) -> None:
    assert gobwas_match(pattern, name) is expected


@pytest.mark.parametrize("pattern", ["{a,b", "[abc", "*.yaml\\", "[a-"])
def test_gobwas_pattern_that_does_not_compile_matches_nothing(pattern: str) -> None:
    # util/glob/glob.go Match: a compile error is logged and the result is false.
    assert gobwas_match(pattern, "a") is False
    assert gobwas_match(pattern, pattern) is False


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*.yaml", "a.yaml", True),
        ("*.yaml", "envs/a.yaml", False),  # `*` stays within one level
        ("envs/?.yaml", "envs/a.yaml", True),
        ("env?a.yaml", "env/a.yaml", False),  # `?` is a non-separator character
        ("envs/**/*.yaml", "envs/a.yaml", True),  # `**` matches zero levels too
        ("envs/**/*.yaml", "envs/x/y/z.yaml", True),
        ("**/*.yaml", "deep/er/a.yaml", True),
        ("envs/**", "envs/x/y.yaml", True),
        ("envs/[a-c].yaml", "envs/b.yaml", True),
        ("envs/[abc].yaml", "envs/d.yaml", False),
        ("envs/{prod,stage}.yaml", "envs/stage.yaml", True),
        ("envs/{prod,stage}.yaml", "envs/dev.yaml", False),
    ],
)
def test_doublestar_semantics(pattern: str, name: str, expected: bool) -> None:
    assert doublestar_match(pattern, name) is expected


def test_doublestar_glob_lists_each_directory_files_before_its_subdirectories(tmp_path: Path) -> None:
    # docs/user-guide/helm.md "Recursive matching with `**`": envs/a.yaml, envs/z.yaml, then
    # envs/nested/c.yaml, although 'n' < 'z'.
    for rel in ("envs/z.yaml", "envs/a.yaml", "envs/nested/c.yaml", "envs/nested/deeper/b.yaml", "envs/x.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("k: v\n")
    found = [p.relative_to(tmp_path).as_posix() for p in doublestar_glob(tmp_path, "envs/**/*.yaml")]
    assert found == ["envs/a.yaml", "envs/z.yaml", "envs/nested/c.yaml", "envs/nested/deeper/b.yaml"]
    assert [p.name for p in doublestar_glob(tmp_path, "envs/*.yaml")] == ["a.yaml", "z.yaml"]
    assert doublestar_glob(tmp_path, "missing/*.yaml") == []
