"""The scan for Argo CD documents: what it reads of each file, and which files it parses."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.discovery import scan as scan_module
from reviewer.discovery.scan import scan_tree

APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
spec:
  source: {{repoURL: https://example.invalid/r.git, path: apps}}
  destination: {{server: https://kubernetes.default.svc, namespace: x}}
"""


def test_documents_are_found_whatever_the_file_size_and_encoding_mark(tmp_path: Path) -> None:
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + APP.format(name="bom").encode())
    padding = "# " + "x" * 100 + "\n"
    (tmp_path / "big.yaml").write_text(padding * 2000 + APP.format(name="big"))  # past the first read
    (tmp_path / "latin1.yaml").write_bytes(APP.format(name="caf\xe9").encode("latin-1"))  # not UTF-8: skipped
    (tmp_path / "plain.yaml").write_text("kind: ConfigMap\n")
    found = scan_tree(tmp_path)
    assert sorted(d.body["metadata"]["name"] for d in found.docs) == ["big", "bom"]
    assert found.argo_files == {"bom.yaml", "big.yaml"}


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "small.yaml").write_text(APP.format(name="small"))
    (tmp_path / "large.yaml").write_text(APP.format(name="large") + "#" * 400 + "\n")
    monkeypatch.setattr(scan_module, "MAX_DOCUMENT_BYTES", len(APP.format(name="small")) + 10)
    assert [d.body["metadata"]["name"] for d in scan_tree(tmp_path).docs] == ["small"]
