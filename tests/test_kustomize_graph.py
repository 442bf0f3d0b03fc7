"""The kustomization graph read without kustomize: entries are joined as pathlib joins them."""

from __future__ import annotations

import os
from pathlib import Path

from reviewer.rendering.kustomize_graph import _join, walk_kustomization


def test_entries_join_as_pathlib_joins_them(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "file.yaml").write_text("a: 1\n")
    directory = str(tmp_path / "overlay")
    os.mkdir(directory)
    for entry in [
        "file.yaml",
        "../file.yaml",
        "../file.yaml/",
        "../file.yaml/.",
        "../base/",
        "../base/.",
        ".",
        "..//base",
        "./../base",
        "",
        "/abs/x",
        "../missing/",
        "../base/../file.yaml",
    ]:
        joined = _join(directory, entry)
        expected = os.fspath(Path(directory) / entry)
        assert os.path.normpath(joined) == os.path.normpath(expected), entry
        # What a stat of each says (a trailing slash after a file name would make a stat fail).
        assert os.path.exists(joined) == os.path.exists(expected), entry


def test_a_file_named_with_a_trailing_slash_is_still_the_file(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/cm.yaml").write_text("kind: ConfigMap\n")
    (tmp_path / "app/kustomization.yaml").write_text("resources:\n  - cm.yaml/\n  - ./cm.yaml/.\n")
    graph = walk_kustomization(tmp_path / "app")
    assert graph.files == {(tmp_path / "app/cm.yaml").resolve()}
    assert not graph.dangling
